import { gapForEvents, noConsentToShareGap, proposeAllocation, turnedDownOffers } from './allocation.ts';
import { providersOf } from './consent.ts';
import { addOffers, continueTransition, reviewCoverageEscalations, unallocatedNeeds, type DecideContext } from './decide.ts';
import type { ServiceLoad } from './directory.ts';
import type { Plan, PlanEvent } from './schemas.ts';

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
      draft.gaps.push({ ...noConsentToShareGap(need.domain), recordedAt: ctx.now });
    t.emit('plan.allocation-proposed.v1', { planRef: draft.planId, offers: [], gaps: draft.gaps.filter((g) => domains.has(g.domain)) });
  } else {
    const proposal = proposeAllocation(
      {
        needs: needs.map((n) => ({ domain: n.domain, priority: n.priority })),
        localAuthority: draft.referral.localAuthority,
        age: draft.ageAtReferral,
        turnedDown: turnedDownOffers(draft),
        providers: providersOf(draft.consent.scope),
        alreadyHeld: draft.needs.filter((n) => n.status === 'open' && !domains.has(n.domain)).map((n) => n.domain),
      },
      ctx.directory,
      load,
    );
    for (const gap of proposal.gaps) draft.gaps.push({ ...gap, recordedAt: ctx.now });
    t.emit('plan.allocation-proposed.v1', {
      planRef: draft.planId,
      offers: proposal.offers.map((o) => ({ providerId: o.providerId, serviceId: o.serviceId, needs: o.needs, why: o.why })),
      gaps: proposal.gaps.map(gapForEvents),
    });
    addOffers(t, proposal.offers);
  }
  reviewCoverageEscalations(t);
  draft.outbox = [...draft.outbox, ...t.events];
  return { plan: draft, events: t.events };
}
