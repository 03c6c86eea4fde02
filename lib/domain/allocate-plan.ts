import { proposeAllocation, type TurnedDownOffer } from './allocation.ts';
import { addOffers, continueTransition, reviewCoverageEscalations, unallocatedNeeds, type DecideContext } from './decide.ts';
import type { ServiceLoad } from './directory.ts';
import type { Plan, PlanEvent } from './schemas.ts';

/** Outcomes with which a provider stops before the need is met: that service is not asked again for it. */
const STOPPED_EARLY = new Set(['partially-completed', 'disengaged', 'other']);

/** Offers a service declined, let expire, or stopped before their needs were met: it is not asked again for those needs. */
function turnedDownOffers(plan: Plan): TurnedDownOffer[] {
  return plan.allocations.flatMap((a): TurnedDownOffer[] => {
    if (a.status === 'declined') return [{ serviceId: a.serviceId, needs: a.needs, how: 'declined', ...(a.declineReason ? { reason: a.declineReason } : {}) }];
    if (a.status === 'expired') return [{ serviceId: a.serviceId, needs: a.needs, how: 'expired' }];
    if (a.status === 'ended' && a.outcome && STOPPED_EARLY.has(a.outcome)) return [{ serviceId: a.serviceId, needs: a.needs, how: 'stopped', reason: a.outcome }];
    return [];
  });
}

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
    const proposal = proposeAllocation(
      { needs: needs.map((n) => ({ domain: n.domain, priority: n.priority })), localAuthority: draft.referral.localAuthority, age: draft.ageAtReferral, turnedDown: turnedDownOffers(draft) },
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
  reviewCoverageEscalations(t);
  draft.outbox = [...draft.outbox, ...t.events];
  return { plan: draft, events: t.events };
}
