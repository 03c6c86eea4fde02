import type { AuditLog } from '../adapters/dynamodb/audit-log.ts';
import type { PlanRepository } from '../adapters/dynamodb/plan-repository.ts';
import { identityMatchKey } from '../adapters/identity-match.ts';
import { OPEN_STAGES } from '../domain/lifecycle.ts';
import { redactAnswerText, redactEvent, redactPlan } from '../domain/redaction.ts';
import type { Plan } from '../domain/schemas.ts';

export interface ErasureDeps {
  plans: PlanRepository;
  audit: AuditLog;
  identityKey?: () => Promise<Uint8Array | undefined>;
}

/** A claim on a person older than this whose plan never appeared belongs to a referral that died. */
const REFERRAL_CLAIM_TIMEOUT_MS = 60_000;

/**
 * The plan id of a referral of her being recorded right now, if any: a claim on her person record, by
 * a plan other than `planId` that is not among the plans `found`, younger than a minute. Erasure and
 * the referral route (a second referral of her meanwhile) use this one rule.
 */
export function referralInFlight(claim: { planId: string; at: string } | undefined, planId: string, found: readonly (Plan | undefined)[], now: string): string | undefined {
  if (!claim || claim.planId === planId || found.some((p) => p?.planId === claim.planId)) return undefined;
  return Date.parse(now) - Date.parse(claim.at) < REFERRAL_CLAIM_TIMEOUT_MS ? claim.planId : undefined;
}

export type ErasureOutcome =
  /** Done: `identityErased` says whether her identity record itself went (on retention it can stay for her other plans). */
  | { done: true; identityErased: boolean }
  /**
   * Nothing changed: for an erasure request, these plans of hers (this one among them, if it is open)
   * are still open, or a referral of her (`referring`, the plan id it is recording) is under way; for a
   * request or retention alike, `waitingForIdentityKey`: her record exists but the identity key is not
   * available, so her other plans cannot be found.
   */
  | { done: false; openPlans: { planId: string; stage: Plan['stage'] }[]; referring?: string; waitingForIdentityKey?: true };

const isOpen = (plan: Plan) => (OPEN_STAGES as readonly string[]).includes(plan.stage);

/**
 * Erase a participant's identity (the whole identity record: name, date of birth, contact details,
 * safety notes and address) and the keyed link between her plans, and replace what was typed in words
 * on her plans (goals, notes, her words at reviews, reasons: lib/domain/redaction.ts) in the plan, its
 * history and the answers kept for retries; keep the pseudonymous plan (the figures stay right), and
 * record who did it and why. Used for an erasure request and by the sweeper when a closed plan's
 * retention period ends.
 *
 * A woman referred again shares one identity record between her plans.
 *
 * An erasure request is refused, changing nothing, while any plan of hers is open (referred,
 * assessment, allocating, active): an open plan without her identity would stay on the worklist,
 * escalate for nobody, and let her be referred twice, as nobody would know her. The coordinator ends it
 * first (exit, withdraw the referral, or her consent withdrawn, which also tells providers to stop and
 * purge), a decision with consequences for her support that an erasure should not take silently. Without
 * the identity key (her record exists) it does nothing either (`waitingForIdentityKey`): her other plans
 * cannot be found, and erasing this one alone would leave her record or her words on them. An
 * exited plan is not open: her support has ended; its 6- and 12-month follow-ups are still due and are
 * recorded on the pseudonymous plan ("unknown" where she can no longer be looked up). Once
 * none is open it erases the record at once, for every plan of hers, and redacts and marks them all.
 *
 * On retention (`anonymise`) the record stays while another of her plans still uses it (an open plan,
 * or one whose own retention period has not ended): this plan alone is redacted and marked erased and no
 * longer shows it, and the last plan's anonymisation erases it. Without the identity key her other
 * plans cannot be found, so nothing is done (`waitingForIdentityKey`) and a later run, with the key,
 * anonymises the plan: marking it with her record kept would leave the record for good if this was her
 * last plan, since marked plans are not looked at again. While a referral of her is being recorded its
 * plan is not linked yet, so the record is kept (that plan's own anonymisation erases it).
 */
export async function eraseIdentity(deps: ErasureDeps, plan: Plan, by: { who: string; role: string; why: string; action: 'erase-identity' | 'anonymise' }, now: string): Promise<ErasureOutcome> {
  const identity = await deps.plans.getIdentity(plan.participantId);
  const secret = await deps.identityKey?.();
  const matchKey = identity && secret ? identityMatchKey(secret, identity) : undefined;
  // Without the key her other plans cannot be found: a setup fault, not her request's. Nothing is done,
  // for a request (answered 503, to be asked again) as for retention (a later run with the key does it).
  if (identity && !matchKey) return { done: false, openPlans: [], waitingForIdentityKey: true };
  const person = matchKey ? await deps.plans.findPerson(matchKey) : undefined;
  const claim = person?.claim;
  const linkedIds = [...new Set([...(person?.planIds ?? []), ...(claim ? [claim.planId] : []), ...plan.previousPlanIds])].filter((id) => id !== plan.planId);
  const found = await Promise.all(linkedIds.map((id) => deps.plans.getPlan(id)));
  const linked = found.filter((p): p is Plan => p?.participantId === plan.participantId);
  // A referral of her claimed the person and has not saved its plan yet: it is about to use her record.
  const referring = referralInFlight(claim, plan.planId, found, now);

  if (by.action === 'erase-identity') {
    const open = [plan, ...linked].filter(isOpen);
    if (open.length > 0 || referring) return { done: false, openPlans: open.map((p) => ({ planId: p.planId, stage: p.stage })), ...(referring ? { referring } : {}) };
  }
  const stillUsing = linked.filter((p) => !p.identityErasedAt);
  const keep = by.action === 'anonymise' && (stillUsing.length > 0 || Boolean(referring));
  // Audit first: if the record cannot be written, nothing is erased.
  await deps.audit.record({ who: by.who, role: by.role, action: by.action, planId: plan.planId, participantId: plan.participantId, why: by.why, at: now });
  // Her other plans before this one, whose mark comes last: a request that fails part-way leaves this plan
  // unmarked, so asking again finishes it (each step can be done twice).
  if (by.action === 'erase-identity') for (const other of linked) await redactAll(deps, other.planId, now);
  if (!keep) {
    if (matchKey) await deps.plans.forgetPerson(matchKey);
    if (identity) await deps.plans.deleteIdentity(plan.participantId);
  }
  await redactAll(deps, plan.planId, now);
  return { done: true, identityErased: Boolean(identity) && !keep };
}

/** Her free text gone from one plan, its history and its kept answers; the plan marked erased (last). */
async function redactAll(deps: ErasureDeps, planId: string, now: string): Promise<void> {
  await deps.plans.redactHistory(planId, redactEvent);
  await deps.plans.redactStoredResponses(planId, redactAnswerText);
  await deps.plans.redactPlanAndMarkErased(planId, redactPlan, now);
}
