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
 * Erase a participant's identity (name, date of birth) and the keyed link between her plans, keep
 * the pseudonymous plan (the aggregates stay right), and record who did it and why. Used for an
 * erasure request and by the sweeper when a closed plan's retention period ends.
 */
export async function eraseIdentity(deps: ErasureDeps, plan: Plan, by: { who: string; role: string; why: string; action: 'erase-identity' | 'anonymise' }, now: string): Promise<boolean> {
  const identity = await deps.plans.getIdentity(plan.participantId);
  const secret = await deps.identityKey?.();
  // Audit first: if the record cannot be written, nothing is erased.
  await deps.audit.record({ who: by.who, role: by.role, action: by.action, planId: plan.planId, participantId: plan.participantId, why: by.why, at: now });
  if (identity && secret) await deps.plans.forgetPerson(identityMatchKey(secret, identity));
  if (identity) await deps.plans.deleteIdentity(plan.participantId);
  await deps.plans.markIdentityErased(plan.planId, now);
  return Boolean(identity);
}
