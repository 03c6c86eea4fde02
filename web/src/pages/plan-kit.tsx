import { createContext, useContext, type ReactNode } from 'react';
import { api, type ApiError } from '../api.ts';
import { Form, SubmitButton, useSubmit } from '../forms.tsx';
import type { Plan } from '../types.ts';

/** What every plan form needs: the plan as last read, and a way to send it a command. */
export interface PlanContextValue {
  plan: Plan;
  /** The plan as the command answered it (identity kept from the page's read), with a message. */
  applied(next: Plan, message: string): void;
  reload(): void;
  readOnly: boolean;
}

export const PlanContext = createContext<PlanContextValue | undefined>(undefined);

export function usePlan(): PlanContextValue {
  const value = useContext(PlanContext);
  if (!value) throw new Error('usePlan outside a plan page');
  return value;
}

/**
 * A coordinator command on this plan: POST /plans/{id}/{command} with the version the page shows
 * (so a plan changed meanwhile is refused, not overwritten) and an Idempotency-Key.
 */
export function usePlanCommand(command: string) {
  const { plan, applied } = usePlan();
  const submit = useSubmit();
  const send = (body: Record<string, unknown>, message: string) =>
    submit.run(async (key) => {
      const next = await api<Plan>('POST', `/plans/${plan.planId}/${command}`, { body: { ...body, expectedVersion: plan.version }, idempotencyKey: key });
      applied(next, message);
      return next;
    });
  return { ...submit, send };
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
  const { reload } = usePlan();
  return (
    <Form onSubmit={onSubmit} error={error} label={label} {...(mapPath ? { mapPath } : {})} {...(idPrefix ? { idPrefix } : {})}>
      {error?.status === 409 && (
        <p>
          <button type="button" className="button secondary" onClick={reload}>
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
