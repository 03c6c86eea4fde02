import { consentCoversProvider } from './consent.ts';
import type { Plan } from './schemas.ts';

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
  return {
    planRef: plan.planId,
    allocationId: a.allocationId,
    serviceId: a.serviceId,
    status: a.status,
    lead: a.lead,
    offeredAt: a.offeredAt,
    respondBy: a.respondBy,
    ...(a.respondedAt ? { respondedAt: a.respondedAt } : {}),
    ...(a.endedAt ? { endedAt: a.endedAt, outcome: a.outcome } : {}),
    needs: live
      ? plan.needs.filter((n) => a.needs.includes(n.domain)).map((n) => ({ domain: n.domain, level: n.level, status: n.status, ...(categories.includes('needs') ? { goals: n.goals } : {}) }))
      : a.needs.map((domain) => ({ domain })),
    ...(live && categories.includes('adjustments') ? { adjustments: plan.adjustments } : {}),
    ...(live && categories.includes('risks') && plan.risks ? { risks: plan.risks } : {}),
    contacts: plan.contacts.filter((c) => c.allocationId === a.allocationId).map(({ date, kind }) => ({ date, kind })),
  };
}
