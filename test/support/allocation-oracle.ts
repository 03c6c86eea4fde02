import type { Directory } from '../../lib/domain/directory.ts';
import type { Plan } from '../../lib/domain/schemas.ts';
import type { NeedDomain } from '../../lib/domain/taxonomy.ts';

/**
 * The allocation rules written out plainly, as the property tests check the domain against them
 * (not the domain's own code, so a test of it can fail).
 */

/** The outcomes of an accepted allocation that ended before its need was met (an early stop). */
export const STOPPED_EARLY = ['partially-completed', 'disengaged', 'other'];

/** Services that could meet `domain` for her: the need, her area, her sex and age. */
export function candidates(directory: Directory, plan: Plan, domain: NeedDomain) {
  return directory.services.filter(
    (s) =>
      s.needDomains.includes(domain) &&
      s.serviceAreas.includes(plan.referral.localAuthority) &&
      s.eligibility.sex.includes('female') &&
      plan.ageAtReferral >= s.eligibility.minAge &&
      plan.ageAtReferral <= s.eligibility.maxAge,
  );
}

/** Did this service decline, let expire or stop early an offer of this need for this plan? */
export function turnedDown(plan: Plan, serviceId: string, domain: NeedDomain): boolean {
  return plan.allocations.some(
    (a) => a.serviceId === serviceId && a.needs.includes(domain) && (a.status === 'declined' || a.status === 'expired' || (a.status === 'ended' && STOPPED_EARLY.includes(a.outcome ?? ''))),
  );
}
