import { londonDate } from './calendar.ts';
import { invalid } from './errors.ts';
import type { Plan, PlanEvent } from './schemas.ts';

/**
 * What a free-text value reads as once her identity is erased (on request, or when the retention period
 * of a closed plan ends). Anything typed in words may hold her name, her children's names or where she
 * lives, so every such value goes; the codes, dates, needs, scores and outcomes the figures and the
 * plan's history are made of stay as they were.
 */
export const REDACTED = '[removed at erasure]';

/**
 * The fields of a plan that hold what a person typed (lib/domain/schemas.ts), by their name wherever
 * they occur in a plan, its views (GET /plans/{id}, GET /allocations/{id}) or an answer stored for an
 * Idempotency-Key:
 *   note              referral.note, allocations[].note (accept, decline, end), exit.note, withdrawal.note,
 *                     followUps[].corrections[].note, consent.note and consent.previous[].note (change-consent's)
 *   consentWithdrawalNote  withdraw-consent's note
 *   reconfirmedNote   consent.reconfirmedNote and consent.previous[].reconfirmedNote (a re-confirming change-consent's note)
 *   participantWords  reviews[].participantWords
 *   manualReason      allocations[].manualReason (offer-manually's reason)
 *   goals             needs[].goals: each goal becomes the marker, so how many she had stays
 * and, by where they are:
 *   manualActivation.reason     activate's reason
 *   why "Offered by hand: …"    an offer made by hand quotes its reason
 *   explanation "Activated without a provider for <need>: …"   a gap recorded by activate quoted its reason
 *                     (plans activated before activate gave gaps allocation's own reasons: they are still stored)
 * Every other string of a plan is a code, a date or an id, or text the engine wrote (`why` of a proposal,
 * a gap's explanation) from codes alone.
 */
const WHOLLY_FREE_TEXT = new Set(['note', 'participantWords', 'manualReason', 'consentWithdrawalNote', 'reconfirmedNote']);
const QUOTING = [
  { field: 'why', prefix: /^Offered by hand: /u },
  { field: 'explanation', prefix: /^Activated without a provider for [a-z-]+: /u },
] as const;

type Json = unknown;

function redactValue(key: string, value: Json, parentKey: string | undefined): Json {
  if (typeof value === 'string') {
    if (WHOLLY_FREE_TEXT.has(key)) return REDACTED;
    if (key === 'reason' && parentKey === 'manualActivation') return REDACTED;
    for (const quoting of QUOTING) {
      if (key !== quoting.field) continue;
      const prefix = quoting.prefix.exec(value)?.[0];
      if (prefix !== undefined) return `${prefix}${REDACTED}`;
    }
    return value;
  }
  if (key === 'goals' && Array.isArray(value)) return value.map((goal) => (typeof goal === 'string' ? REDACTED : goal));
  return redactJson(value, key);
}

/** Any JSON value (a plan, a view of one, an event, a stored answer) with its free text replaced by the marker. */
function redactJson<T>(value: T, parentKey?: string): T {
  if (Array.isArray(value)) return value.map((item) => redactJson(item, parentKey)) as T;
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([key, field]) => [key, redactValue(key, field, parentKey)])) as T;
}

/** The plan with every free-text value replaced by the marker; its structure, codes and dates unchanged. */
export function redactPlan(plan: Plan): Plan {
  return redactJson(plan);
}

/** An event of the plan's history as it is once her free text is gone (most events hold none). */
export function redactEvent(event: PlanEvent): PlanEvent {
  return redactJson(event);
}

/**
 * An answer kept for an Idempotency-Key (its JSON text) as it is once her free text is gone: the same
 * status and fingerprint, the plan or allocation it shows redacted. Text that is not JSON stays as it is.
 */
export function redactAnswerText(body: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return body;
  }
  return JSON.stringify(redactJson(parsed));
}

/**
 * The paths (`note`, `a.b`) of a value that hold free text: what redaction would replace. Used on a
 * command's payload, whose free-text fields carry the names they are stored under (`note`).
 */
export function freeTextPaths(value: unknown, path = '', parentKey?: string): string[] {
  if (Array.isArray(value)) return value.flatMap((item, i) => freeTextPaths(item, `${path}[${i}]`, parentKey));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, field]) => {
    const at = path ? `${path}.${key}` : key;
    if (typeof field === 'string' || (key === 'goals' && Array.isArray(field))) return JSON.stringify(redactValue(key, field, parentKey)) === JSON.stringify(field) ? [] : [at];
    return freeTextPaths(field, at, key);
  });
}

/**
 * A command on a plan whose identity was erased (on request, or anonymised after its retention period)
 * may not bring new free text to it: the plan was redacted once, and a note typed afterwards would be
 * kept with nothing to remove it. Refused rather than stored as the marker, so nobody believes words
 * were kept that were not; the same command without the field is accepted (a correction's answer and
 * coded reason are not free text). Only commands of exited and closed plans reach an erased plan
 * (lifecycle.ts): correct-follow-up's and withdraw-consent's `note`.
 */
export function refuseFreeTextAfterErasure(plan: { identityErasedAt?: string | undefined }, payload: unknown): void {
  if (!plan.identityErasedAt) return;
  const [path] = freeTextPaths(payload);
  if (path !== undefined) throw invalid(path, `her identity was erased on ${londonDate(plan.identityErasedAt)}: notes are not kept on her plans; send it without ${path}`);
}
