/**
 * Metrics facts: the compact per-plan record every commissioner figure is computed from, derived
 * from a plan driven through real commands (decide and the Allocate providers step).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { addDays, addMonths, londonDate } from '../../lib/domain/calendar.ts';
import { addMonthsToDate, dayNumber as D, dayString, isCalendarDate, londonDay, londonDayNumber, monthSlices } from '../../lib/domain/metrics/dates.ts';
import { planFacts } from '../../lib/domain/metrics/facts.ts';
import type { Plan } from '../../lib/domain/schemas.ts';
import { allocationOf, at, command, planInStage, respond, run, TIMER, type BuiltPlan } from '../support/domain-fixtures.ts';

describe('london days', () => {
  it('agree with the calendar module for any instant, summer time changes included', () => {
    const boundaries = ['2026-03-29T00:59:59.999Z', '2026-03-29T01:00:00.000Z', '2026-10-25T00:59:59.999Z', '2026-10-25T01:00:00.000Z', '2026-06-30T23:00:00.000Z', '2026-12-31T23:59:59.000Z'];
    for (const instant of boundaries) {
      expect(londonDay(instant), instant).toBe(londonDate(instant));
      expect(dayString(londonDayNumber(instant))).toBe(londonDate(instant));
      expect(D(londonDate(instant))).toBe(londonDayNumber(instant));
    }
    fc.assert(
      fc.property(fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2060-12-31T23:59:59Z'), noInvalidDate: true }), (date) => {
        const instant = date.toISOString();
        expect(londonDay(instant)).toBe(londonDate(instant));
        expect(dayString(londonDayNumber(instant))).toBe(londonDate(instant));
      }),
      { numRuns: 2000 },
    );
  });

  it('cut a period into calendar months', () => {
    expect(monthSlices('2026-01-15', '2026-03-03')).toEqual([
      { month: '2026-01', from: '2026-01-15', to: '2026-01-31' },
      { month: '2026-02', from: '2026-02-01', to: '2026-02-28' },
      { month: '2026-03', from: '2026-03-01', to: '2026-03-03' },
    ]);
    expect(monthSlices('2026-05-10', '2026-05-10')).toEqual([{ month: '2026-05', from: '2026-05-10', to: '2026-05-10' }]);
    expect(addMonthsToDate('2024-01-31', 1)).toBe('2024-02-29');
    expect(addMonthsToDate('2026-11-30', 3)).toBe('2027-02-28');
    expect(addMonthsToDate('2026-03-01', -12)).toBe('2025-03-01');
    expect(isCalendarDate('2026-02-29')).toBe(false);
    expect(isCalendarDate('2028-02-29')).toBe(true);
    expect(isCalendarDate('2026-1-01')).toBe(false);
  });
});

/**
 * An active plan (Anawim holds mental health, Changing Lives accommodation; alcohol and finance still
 * offered), then: Green Square Accord declines finance (no other candidate: a gap), the alcohol offer
 * expires, review 1 falls overdue and is recorded late, review 2 on time, exit disengaged, follow-ups.
 */
function story(): BuiltPlan & { plan: Plan; marks: Record<string, string> } {
  const built = planInStage('active');
  let { ctx } = built;
  let plan = built.plan as Plan;
  const marks: Record<string, string> = { activatedAt: plan.activatedAt as string };
  const step = (cmd: Parameters<typeof run>[1]) => {
    plan = run(plan, cmd, ctx).plan;
  };
  ctx = at(ctx, addDays(ctx.now, 0.25));
  step(respond('decline-offer', allocationOf(plan, 'green-square-accord-housing', 'offered'), { reason: 'capacity' }));
  marks.declinedAt = ctx.now;
  const alcohol = allocationOf(plan, 'changing-lives-recovery', 'offered');
  ctx = at(ctx, alcohol.respondBy);
  step(command('offer-expired', { deadlineId: `offer-expired:${alcohol.allocationId}` }, { actor: TIMER }));
  marks.expiredAt = ctx.now;
  const overdue = plan.deadlines.find((d) => d.deadlineId === 'review-overdue:1');
  if (!overdue) throw new Error('no review-overdue deadline');
  ctx = at(ctx, overdue.dueAt);
  step(command('review-overdue', { deadlineId: 'review-overdue:1' }, { actor: TIMER }));
  marks.overdueAt = ctx.now;
  ctx = at(ctx, addDays(ctx.now, 2));
  step(command('record-review', { scores: { 'mental-health': 3, accommodation: 4 }, outcome: 'continue' }));
  marks.review1 = londonDate(ctx.now);
  ctx = at(ctx, addDays(ctx.now, 27));
  step(command('record-review', { scores: { 'mental-health': 6, accommodation: 4 }, outcome: 'continue' }));
  marks.review2 = londonDate(ctx.now);
  ctx = at(ctx, addDays(ctx.now, 1));
  step(command('exit', { reason: 'disengaged' }));
  marks.exitedAt = ctx.now;
  ctx = at(ctx, addMonths(marks.exitedAt, 6));
  step(command('record-follow-up', { month: 6, reoffended: 'yes' }));
  ctx = at(ctx, addMonths(marks.exitedAt, 12));
  step(command('record-follow-up', { month: 12, reoffended: 'unknown' }));
  return { ...built, ctx, plan, marks };
}

describe('planFacts', () => {
  it('a referral only: where it came from, when, and nothing else', () => {
    const facts = planFacts(planInStage('referred').plan as Plan);
    expect(facts).toEqual({
      version: 1,
      source: 'custody-diversion',
      localAuthority: 'birmingham',
      referred: D('2026-03-02'),
      consented: false,
      needs: [],
      providers: [],
      offers: [],
      gaps: [],
      reviews: [],
      scoreChanges: [],
    });
  });

  it('derives every fact of a whole plan from the plan alone', () => {
    const { plan, marks } = story();
    expect(plan.stage).toBe('closed');
    const facts = planFacts(plan);
    expect(facts).toMatchObject({
      version: plan.version,
      source: 'custody-diversion',
      localAuthority: 'birmingham',
      referred: D('2026-03-02'),
      consented: true,
      assessed: D('2026-03-04'),
      daysReferralToAssessment: 2,
      activated: D(londonDate(marks.activatedAt as string)),
      daysAssessmentToActive: 1,
      daysReferralToActive: 3,
      exited: D(londonDate(marks.exitedAt as string)),
      exitReason: 'disengaged',
      followUp6: 'yes',
      followUp12: 'unknown',
    });
    expect(facts.needs.sort()).toEqual(['accommodation', 'alcohol', 'finance-benefit-debt', 'mental-health']);
    expect(facts.providers.sort()).toEqual(['anawim', 'changing-lives']);
    // Accepted allocations ended at exit still count as accepted; the provider's answer came a day after the offer.
    const byService = Object.fromEntries(plan.allocations.map((a, i) => [a.serviceId, facts.offers[i]]));
    expect(byService['anawim-womens-centre']).toEqual({ provider: 'anawim', day: D('2026-03-04'), needs: ['mental-health'], outcome: 'accepted', responseHours: 24 });
    expect(byService['changing-lives-housing-first']).toMatchObject({ provider: 'changing-lives', outcome: 'accepted', responseHours: 24 });
    expect(byService['green-square-accord-housing']).toMatchObject({ provider: 'green-square-accord', needs: ['finance-benefit-debt'], outcome: 'declined', responseHours: 30 });
    // An expiry is not an answer: it has no response time.
    expect(byService['changing-lives-recovery']).toEqual({ provider: 'changing-lives', day: D('2026-03-04'), needs: ['alcohol'], outcome: 'expired' });
    expect(facts.gaps.map((g) => g.domain).sort()).toEqual(plan.gaps.map((g) => g.domain).sort());
    // Each allocation attempt records the standing gaps again: finance was last looked at after the alcohol offer expired.
    expect(facts.gaps.find((g) => g.domain === 'finance-benefit-debt')).toEqual({ domain: 'finance-benefit-debt', reason: 'all-candidates-declined-or-expired', day: D(londonDate(marks.expiredAt as string)) });
    expect(londonDate(marks.expiredAt as string)).not.toBe(londonDate(marks.declinedAt as string));
    // Review 1 fell overdue before it was recorded: late. Review 2 was on time.
    expect(facts.reviews).toEqual([
      { day: D(marks.review1 as string), late: true },
      { day: D(marks.review2 as string), late: false },
    ]);
    // Mental health went 3 -> 6; accommodation 4 -> 4 (a change of zero still counts).
    expect(facts.scoreChanges).toEqual([
      { domain: 'mental-health', day: D(marks.review2 as string), change: 3 },
      { domain: 'accommodation', day: D(marks.review2 as string), change: 0 },
    ]);
  });

  it('an overdue review never recorded counts as late on the day it fell overdue', () => {
    const built = planInStage('active');
    let plan = built.plan as Plan;
    const overdue = plan.deadlines.find((d) => d.deadlineId === 'review-overdue:1');
    const ctx = at(built.ctx, overdue?.dueAt as string);
    plan = run(plan, command('review-overdue', { deadlineId: 'review-overdue:1' }, { actor: TIMER }), ctx).plan;
    // The timer fires again a week later: still one late review.
    const again = plan.deadlines.find((d) => d.deadlineId === 'review-overdue:1');
    plan = run(plan, command('review-overdue', { deadlineId: 'review-overdue:1' }, { actor: TIMER }), at(ctx, again?.dueAt as string)).plan;
    expect(planFacts(plan).reviews).toEqual([{ day: D(londonDate(overdue?.dueAt as string)), late: true }]);
    // Exiting resolves the escalation; the review is still one that was never held on time.
    plan = run(plan, command('exit', { reason: 'moved-away' }), at(ctx, addDays(ctx.now, 10))).plan;
    expect(planFacts(plan).reviews).toEqual([{ day: D(londonDate(overdue?.dueAt as string)), late: true }]);
  });

  it('holds no identifier of the plan or the participant', () => {
    const { plan } = story();
    const text = JSON.stringify(planFacts(plan));
    expect(text).not.toContain(plan.planId);
    expect(text).not.toContain(plan.planId.slice(3));
    expect(text).not.toContain(plan.participantId);
    expect(text).not.toMatch(/pl_|pt_|al_/);
  });
});

describe('follow-ups in the facts', () => {
  function exitedWithSix(answer: 'yes' | 'no') {
    const { plan, ctx } = planInStage('exited');
    const later = at(ctx, addMonths(plan!.exit!.exitedAt, 6));
    return { plan: run(plan, command('record-follow-up', { month: 6, reoffended: answer }), later).plan, ctx: later };
  }

  it('a corrected answer replaces the one it corrects', () => {
    const { plan, ctx } = exitedWithSix('yes');
    expect(planFacts(plan).followUp6).toBe('yes');
    const corrected = run(plan, command('correct-follow-up', { month: 6, reoffended: 'no', reason: 'keyed-in-error' }), ctx).plan;
    expect(planFacts(corrected).followUp6).toBe('no');
  });

  it('once consent is withdrawn no follow-up answer is counted, not even one given before; the exit still is', () => {
    const { plan, ctx } = exitedWithSix('yes');
    const withdrawn = run(plan, command('withdraw-consent', {}), at(ctx, addDays(ctx.now, 1))).plan;
    const facts = planFacts(withdrawn);
    expect(facts.followUp6).toBeUndefined();
    expect(facts.followUp12).toBeUndefined();
    expect(facts).toMatchObject({ exitReason: 'completed', consented: true });
  });
});
