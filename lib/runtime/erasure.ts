import type { AuditLog } from '../adapters/dynamodb/audit-log.ts';
import type { PlanRepository } from '../adapters/dynamodb/plan-repository.ts';
import { identityMatchKey } from '../adapters/identity-match.ts';
import type { Plan } from '../domain/schemas.ts';

export interface ErasureDeps {
  plans: PlanRepository;
  audit: AuditLog;
  identityKey?: () => Promise<Uint8Array | undefined>;
}

/**
 * Erase a participant's identity (the whole identity record: name, date of birth, contact details,
 * safety notes and address) and the keyed link between her plans, keep the pseudonymous plan (the aggregates stay right), and record who did it and why. Used for an
 * erasure request and by the sweeper when a closed plan's retention period ends.
 *
 * A woman referred again shares one identity record between her plans. On retention
 * (`anonymise`) that record stays while another of her plans still uses it (an open plan, or one
 * whose own retention period has not ended): this plan is marked erased and no longer shows it,
 * and the last plan's anonymisation erases it. An erasure request erases it at once, for every
 * plan of hers, and marks them all.
 */
export async function eraseIdentity(deps: ErasureDeps, plan: Plan, by: { who: string; role: string; why: string; action: 'erase-identity' | 'anonymise' }, now: string): Promise<boolean> {
  const identity = await deps.plans.getIdentity(plan.participantId);
  const secret = await deps.identityKey?.();
  const matchKey = identity && secret ? identityMatchKey(secret, identity) : undefined;
  const person = matchKey ? await deps.plans.findPerson(matchKey) : undefined;
  const linked = await Promise.all((person?.planIds ?? []).filter((id) => id !== plan.planId).map((id) => deps.plans.getPlan(id)));
  const stillUsing = linked.filter((p): p is Plan => Boolean(p) && p?.participantId === plan.participantId && !p?.identityErasedAt);
  const keep = by.action === 'anonymise' && stillUsing.length > 0;
  // Audit first: if the record cannot be written, nothing is erased.
  await deps.audit.record({ who: by.who, role: by.role, action: by.action, planId: plan.planId, participantId: plan.participantId, why: by.why, at: now });
  if (!keep) {
    if (matchKey) await deps.plans.forgetPerson(matchKey);
    if (identity) await deps.plans.deleteIdentity(plan.participantId);
    for (const other of stillUsing) await deps.plans.markIdentityErased(other.planId, now);
  }
  await deps.plans.markIdentityErased(plan.planId, now);
  return Boolean(identity) && !keep;
}
