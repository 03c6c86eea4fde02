import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addDays } from '../../lib/domain/calendar.ts';
import { DomainError } from '../../lib/domain/errors.ts';
import { COMMAND_NAMES, isAllowedIn } from '../../lib/domain/lifecycle.ts';
import type { Plan } from '../../lib/domain/schemas.ts';
import { allocationOf, ASSESSMENT_PAYLOAD, at, command, consentPayload, planInStage, respond, run, TIMER, validCommand } from '../support/domain-fixtures.ts';

const offerOf = (plan: Plan, domain: string) => plan.allocations.find((a) => a.status === 'offered' && a.needs.includes(domain as never))!;
const open = (plan: Plan, kind: string) => plan.escalations.filter((e) => e.kind === kind && !e.resolvedAt).map((e) => e.ref);

describe('coverage-gap: a need of a plan in support with no provider', () => {
  it('is raised when allocation records a gap, stays open through activation and a pending offer, and is resolved once a provider accepts the need', () => {
    const { plan, ctx } = planInStage('allocating');
    const declined = run(plan, respond('decline-offer', allocationOf(plan!, 'changing-lives-housing-first', 'offered'), { reason: 'capacity' }), ctx);
    const gap = run(declined.plan, respond('decline-offer', offerOf(declined.plan, 'accommodation'), { reason: 'location' }), ctx);
    expect(gap.plan.gaps.map((g) => g.domain)).toEqual(['accommodation']);
    expect(open(declined.plan, 'coverage-gap')).toEqual([]);
    expect(open(gap.plan, 'coverage-gap')).toEqual(['accommodation']);
    expect(gap.events.filter((e) => e.type === 'plan.escalated.v1').map((e) => e.data)).toEqual([
      { planRef: plan!.planId, kind: 'coverage-gap', ref: 'accommodation', stage: 'allocating', repeated: false },
    ]);

    const active = run(gap.plan, command('activate', { reason: 'Housing through the council instead' }), ctx);
    expect(active.plan.stage).toBe('active');
    expect(open(active.plan, 'coverage-gap')).toEqual(['accommodation']);
    // Still one escalation, raised once: activation does not raise it again.
    expect(active.events.some((e) => e.type === 'plan.escalated.v1')).toBe(false);

    const offered = run(active.plan, command('offer-manually', { serviceId: 'green-square-accord-housing', needs: ['accommodation'], reason: 'Asked again' }), ctx);
    expect(open(offered.plan, 'coverage-gap')).toEqual(['accommodation']);
    const accepted = run(offered.plan, respond('accept-offer', offerOf(offered.plan, 'accommodation'), {}), ctx);
    expect(open(accepted.plan, 'coverage-gap')).toEqual([]);
    expect(accepted.plan.escalations.find((e) => e.kind === 'coverage-gap')).toMatchObject({ raisedAt: gap.plan.escalations.find((e) => e.kind === 'coverage-gap')!.raisedAt, resolvedAt: ctx.now });
  });

  it('is resolved when the need is closed at a review, and when the plan exits', () => {
    const { plan, ctx } = planInStage('active');
    const stopped = run(plan, respond('end-allocation', allocationOf(plan!, 'anawim-womens-centre', 'accepted'), { outcome: 'disengaged' }), ctx);
    expect(open(stopped.plan, 'coverage-gap')).toEqual(['mental-health']);

    const review = run(stopped.plan, command('record-review', { scores: { 'mental-health': 5 }, outcome: 'adjust', closeNeeds: ['mental-health'] }), at(ctx, addDays(ctx.now, 1)));
    expect(open(review.plan, 'coverage-gap')).toEqual([]);

    const exited = run(stopped.plan, command('exit', { reason: 'disengaged' }), ctx);
    expect(exited.plan.escalations.filter((e) => !e.resolvedAt)).toEqual([]);
  });
});

describe('coverage-gap and her consent', () => {
  it('raises nothing for needs left unmet because she has not agreed to sharing with providers', () => {
    const { plan: referred, ctx } = planInStage('referred');
    const consented = run(referred, command('record-consent', consentPayload(ctx, false)), ctx);
    const assessed = run(consented.plan, command('submit-assessment', ASSESSMENT_PAYLOAD), ctx);
    expect(assessed.plan.gaps.length).toBeGreaterThan(0);
    expect(assessed.plan.gaps.every((g) => g.reason === 'no-consent-to-share')).toBe(true);
    const active = run(assessed.plan, command('activate', { reason: 'Support from the women’s centre team itself' }), ctx);
    expect(active.plan.stage).toBe('active');
    expect(open(active.plan, 'coverage-gap')).toEqual([]);
  });
});

describe('offer-unanswered: an offer that expired without an answer', () => {
  it('is raised by the offer-expired timer, naming the allocation, and resolved when another provider accepts its need', () => {
    const { plan, ctx } = planInStage('allocating');
    const housingFirst = allocationOf(plan!, 'changing-lives-housing-first', 'offered');
    const deadline = plan!.deadlines.find((d) => d.ref === housingFirst.allocationId)!;
    const expired = run(plan, command('offer-expired', { deadlineId: deadline.deadlineId }, { actor: TIMER }), at(ctx, deadline.dueAt));
    expect(open(expired.plan, 'offer-unanswered')).toEqual([housingFirst.allocationId]);
    expect(expired.events.find((e) => e.type === 'plan.escalated.v1')?.data).toEqual({ planRef: plan!.planId, kind: 'offer-unanswered', ref: housingFirst.allocationId, stage: 'allocating', repeated: false });

    const accepted = run(expired.plan, respond('accept-offer', offerOf(expired.plan, 'accommodation'), {}), at(ctx, deadline.dueAt));
    expect(open(accepted.plan, 'offer-unanswered')).toEqual([]);
  });

  it('is resolved when the plan ends', () => {
    const { plan, ctx } = planInStage('allocating');
    const housingFirst = allocationOf(plan!, 'changing-lives-housing-first', 'offered');
    const deadline = plan!.deadlines.find((d) => d.ref === housingFirst.allocationId)!;
    const expired = run(plan, command('offer-expired', { deadlineId: deadline.deadlineId }, { actor: TIMER }), at(ctx, deadline.dueAt));
    const exited = run(expired.plan, command('exit', { reason: 'moved-away' }), at(ctx, deadline.dueAt));
    expect(open(exited.plan, 'offer-unanswered')).toEqual([]);
  });
});

describe('coverage escalations follow the plan', () => {
  it('after any sequence of commands, a need of a plan in support with a gap and no accepted provider has exactly one open coverage-gap, and no other need has one', () => {
    const names = COMMAND_NAMES.filter((n) => n !== 'refer');
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...names), { maxLength: 30 }), (sequence) => {
        let { plan, ctx } = planInStage('allocating');
        for (const name of sequence) {
          if (!isAllowedIn(name, plan!.stage)) continue;
          const valid = validCommand(name, plan, ctx);
          if (!valid.feasible) continue;
          try {
            plan = run(plan, valid.command, valid.ctx).plan;
            ctx = valid.ctx;
          } catch (error) {
            if (!(error instanceof DomainError)) throw error;
          }
          const p = plan!;
          const inSupport = p.stage === 'allocating' || p.stage === 'active';
          const accepted = new Set(p.allocations.filter((a) => a.status === 'accepted').flatMap((a) => a.needs));
          const unmet = new Set(p.needs.filter((n) => inSupport && n.status === 'open' && !accepted.has(n.domain)).map((n) => n.domain));
          const openGaps = open(p, 'coverage-gap');
          expect(new Set(openGaps).size).toBe(openGaps.length);
          // A gap that is her choice (her consent does not reach a provider who could meet it) raises nothing.
          for (const g of p.gaps) if (unmet.has(g.domain) && g.reason !== 'outside-consent' && g.reason !== 'no-consent-to-share') expect(openGaps).toContain(g.domain);
          for (const ref of openGaps) expect(unmet.has(ref as never)).toBe(true);
          if (!inSupport) expect(p.escalations.filter((e) => !e.resolvedAt)).toEqual(p.stage === 'exited' ? p.escalations.filter((e) => !e.resolvedAt && e.kind.startsWith('follow-up-due')) : []);
        }
      }),
      { numRuns: 150 },
    );
  });
});
