import { consentCoversProvider, consentWithdrawnAt } from './consent.ts';
import type { Allocation, Plan, PurgeInstruction } from './schemas.ts';

/**
 * What the allocation's provider was told to delete (plan.consent-withdrawn.v1, plan.consent-narrowed.v1),
 * as the allocation keeps it. An allocation stored before they were kept, on a plan whose consent was
 * withdrawn, was told to stop and purge all the same: a withdrawal tells every provider ever offered the plan.
 */
export function purgeInstructionsOf(plan: Plan, a: Pick<Allocation, 'purgeInstructions'>): PurgeInstruction[] {
  if (a.purgeInstructions) return a.purgeInstructions;
  const withdrawnAt = consentWithdrawnAt(plan);
  return withdrawnAt ? [{ instruction: 'stop-processing-and-purge', at: withdrawnAt }] : [];
}

/**
 * A provider's view of one allocation it holds: the pseudonymous reference, its needs (with goals
 * only if consent shares them with this provider), what consent allows it to know, and its own contacts. Never
 * identity, never other providers' parts, never offence detail.
 */
export function providerAllocationView(plan: Plan, allocationId: string) {
  const a = plan.allocations.find((x) => x.allocationId === allocationId);
  if (!a) return { planRef: plan.planId, allocationId, status: 'unknown' };
  // Consent as it stands at this read: withdrawn, or no longer covering this provider, shares nothing.
  const categories = consentCoversProvider(plan.consent, a.providerId) ? (plan.consent?.scope.dataCategories ?? []) : [];
  const live = a.status === 'offered' || a.status === 'accepted';
  const purge = purgeInstructionsOf(plan, a);
  return {
    planRef: plan.planId,
    allocationId: a.allocationId,
    serviceId: a.serviceId,
    status: a.status,
    lead: a.lead,
    offeredAt: a.offeredAt,
    respondBy: a.respondBy,
    ...(a.respondedAt ? { respondedAt: a.respondedAt } : {}),
    ...(a.expiredAt ? { expiredAt: a.expiredAt } : {}),
    ...(a.endedAt ? { endedAt: a.endedAt, outcome: a.outcome } : {}),
    ...(purge.length > 0 ? { purgeInstructions: purge } : {}),
    needs: live
      ? plan.needs.filter((n) => a.needs.includes(n.domain)).map((n) => ({ domain: n.domain, level: n.level, status: n.status, ...(categories.includes('needs') ? { goals: n.goals } : {}) }))
      : a.needs.map((domain) => ({ domain })),
    ...(live && categories.includes('adjustments') ? { adjustments: plan.adjustments } : {}),
    // As assessed: a risk left out was not assessed (not none), so the provider is shown that, not nothing.
    ...(live && categories.includes('risks') ? { risks: plan.risks ?? {} } : {}),
    // Numbered in the order recorded (the number correct-contact names); a withdrawn session keeps its number and says so.
    contacts: plan.contacts
      .filter((c) => c.allocationId === a.allocationId)
      .map(({ date, kind, withdrawnAt, corrections }, i) => ({ session: i + 1, date, kind, ...(withdrawnAt ? { withdrawnAt } : {}), ...(corrections?.length ? { corrected: true } : {}) })),
  };
}
