import { proposeAllocation } from './allocation.ts';
import { addOffers, continueTransition, unallocatedNeeds, type DecideContext } from './decide.ts';
import type { ServiceLoad } from './directory.ts';
import type { Plan, PlanEvent } from './schemas.ts';

/** Outcomes with which a provider stops before the need is met: that service is not asked again. */
const STOPPED_EARLY = new Set(['partially-completed', 'disengaged', 'other']);

/**
 * The Allocate providers step: propose offers for every open need that no live allocation holds,
 * record the gaps with their reasons, and tell the chosen providers. It runs after assessment, after
 * a decline or an expiry, and after a review that adds needs; it adds to the same plan version.
 */
export function allocatePlan(plan: Plan, ctx: DecideContext, load: ServiceLoad): { plan: Plan; events: PlanEvent[] } {
  const t = continueTransition(structuredClone(plan), ctx);
  const draft = t.plan;
  const needs = unallocatedNeeds(draft);
  if (needs.length === 0) return { plan, events: [] };
  const domains = new Set(needs.map((n) => n.domain));
  draft.gaps = draft.gaps.filter((g) => !domains.has(g.domain));

  if (!draft.consent?.scope.shareWithProviders) {
    for (const need of needs)
      draft.gaps.push({ domain: need.domain, reason: 'no-consent-to-share', explanation: 'Consent does not allow sharing with providers, so no offer was made.', recordedAt: ctx.now });
    t.emit('plan.allocation-proposed.v1', { planRef: draft.planId, offers: [], gaps: draft.gaps.filter((g) => domains.has(g.domain)) });
  } else {
    // Services that declined, let an offer expire, or stopped before the need was met are not asked again.
    const excludedServiceIds = new Set(
      draft.allocations.filter((a) => a.status === 'declined' || a.status === 'expired' || (a.status === 'ended' && STOPPED_EARLY.has(a.outcome ?? ''))).map((a) => a.serviceId),
    );
    const proposal = proposeAllocation(
      { needs: needs.map((n) => ({ domain: n.domain, priority: n.priority })), localAuthority: draft.referral.localAuthority, age: draft.ageAtReferral, excludedServiceIds },
      ctx.directory,
      load,
    );
    for (const gap of proposal.gaps) draft.gaps.push({ ...gap, recordedAt: ctx.now });
    t.emit('plan.allocation-proposed.v1', {
      planRef: draft.planId,
      offers: proposal.offers.map((o) => ({ providerId: o.providerId, serviceId: o.serviceId, needs: o.needs, why: o.why })),
      gaps: proposal.gaps,
    });
    addOffers(t, proposal.offers);
  }
  draft.outbox = [...draft.outbox, ...t.events];
  return { plan: draft, events: t.events };
}
