import { createContext, useContext, type ReactNode } from 'react';
import { useState } from 'react';
import type { CommandName } from '../../../lib/domain/lifecycle.ts';
import { api, ApiError } from '../api.ts';
import { changesSince, conflictWords, type PlanChanges } from '../conflict-words.ts';
import { Form, SubmitButton, useSubmit } from '../forms.tsx';
import type { HistoryItem, Plan } from '../types.ts';
import { useApp } from '../ui.tsx';

/** What every plan form needs: the plan as last read, and a way to send it a command. */
export interface PlanContextValue {
  plan: Plan;
  /** The plan as the command answered it (identity kept from the page's read), with a message. */
  applied(next: Plan, message: string): void;
  reload(): void;
  /** Read the plan again after a conflict of `command`, telling her what she now sees (the page's notice). */
  reread(changes: PlanChanges, command: CommandName): void;
  readOnly: boolean;
}

export const PlanContext = createContext<PlanContextValue | undefined>(undefined);

export function usePlan(): PlanContextValue {
  const value = useContext(PlanContext);
  if (!value) throw new Error('usePlan outside a plan page');
  return value;
}

/** A 409 for a plan that changed since the page read it, with what changed (from its history). */
export class PlanConflict extends ApiError {
  readonly changes: PlanChanges;
  /** The command refused: once the plan is read again, whether it can still be sent in its stage. */
  readonly command: CommandName;
  constructor(refusal: ApiError, changes: PlanChanges, command: CommandName) {
    // Her words replace the versions' numbers; the expectedVersion entry names no field she can see.
    super(refusal.status, refusal.title, conflictWords(changes), refusal.errors.filter((e) => e.path !== 'expectedVersion'));
    this.changes = changes;
    this.command = command;
  }
}

/**
 * A refusal because the plan moved on (the API names expectedVersion, or the history has events the
 * page had not read), told as what changed; any other refusal as it came.
 */
async function explainConflict(refusal: ApiError, plan: Plan, command: CommandName, providerName: (id: string) => string): Promise<ApiError> {
  if (refusal.status !== 409 || plan.sequence === undefined) return refusal;
  let items: HistoryItem[];
  try {
    items = (await api<{ items: HistoryItem[] }>('GET', `/plans/${encodeURIComponent(plan.planId)}/history`)).items;
  } catch {
    return refusal;
  }
  const changes = changesSince(items, plan.sequence, providerName);
  const stale = refusal.errors.some((e) => e.path === 'expectedVersion');
  return stale || changes.items.length > 0 ? new PlanConflict(refusal, changes, command) : refusal;
}

/**
 * A coordinator command on this plan: POST /plans/{id}/{command} with the version the page shows
 * (so a plan changed meanwhile is refused, not overwritten) and an Idempotency-Key. Its error holds
 * only while the page shows the plan it was sent with: once the plan is read again it is gone.
 */
export function usePlanCommand(command: CommandName) {
  const { plan, applied } = usePlan();
  const { providerName } = useApp();
  const submit = useSubmit();
  const [sentWith, setSentWith] = useState<number>();
  const send = (body: Record<string, unknown>, message: string) => {
    setSentWith(plan.version);
    return submit.run(async (key) => {
      try {
        const next = await api<Plan>('POST', `/plans/${plan.planId}/${command}`, { body: { ...body, expectedVersion: plan.version }, idempotencyKey: key });
        applied(next, message);
        return next;
      } catch (error) {
        throw error instanceof ApiError ? await explainConflict(error, plan, command, providerName) : error;
      }
    });
  };
  return { ...submit, error: sentWith === plan.version ? submit.error : undefined, send };
}

/** A plan form: its errors next to its fields, and after a conflict (409) a way to read the plan again. */
export function CommandForm({
  onSubmit,
  error,
  busy,
  submitLabel,
  children,
  mapPath,
  label,
  tone,
  idPrefix,
}: {
  onSubmit: () => void;
  error: ApiError | undefined;
  busy: boolean;
  submitLabel: string;
  children: ReactNode;
  mapPath?: (path: string) => string;
  label: string;
  tone?: 'primary' | 'secondary' | 'danger';
  /** Makes its field ids unique where another form on the page has fields of the same names. */
  idPrefix?: string;
}) {
  const { reload, reread } = usePlan();
  return (
    <Form onSubmit={onSubmit} error={error} label={label} {...(mapPath ? { mapPath } : {})} {...(idPrefix ? { idPrefix } : {})}>
      {error?.status === 409 && (
        <p>
          <button type="button" className="button secondary" onClick={() => (error instanceof PlanConflict ? reread(error.changes, error.command) : reload())}>
            Read the plan again
          </button>
        </p>
      )}
      {children}
      <SubmitButton busy={busy} {...(tone ? { tone } : {})}>
        {submitLabel}
      </SubmitButton>
    </Form>
  );
}
