/**
 * A session held before an allocation ended, recorded late (record-contact on an ended allocation):
 * allowed for the days a correction is (session-correction.ts), dated on or before the day it ended,
 * with the same stops; on a plan still open an attended one re-arms the no-contact alert as a correction
 * does, and on an exited plan arms nothing.
 */
import { describe, expect, it } from 'vitest';
import { addDays, londonDate } from '../../lib/domain/calendar.ts';
import { decide } from '../../lib/domain/decide.ts';
import { SESSION_CORRECTION_DAYS } from '../../lib/domain/session-correction.ts';
import { exitSummary } from '../../lib/domain/views.ts';
import { allocationOf, at, command, planInStage, refusal, respond, run } from '../support/domain-fixtures.ts';

function endedByItsProvider() {
  const { plan, ctx } = planInStage('active');
  const anawim = allocationOf(plan!, 'anawim-womens-centre', 'accepted');
  const ended = run(plan, respond('end-allocation', anawim, { outcome: 'disengaged' }), ctx);
  return { plan: ended.plan, ctx, anawim, endDay: londonDate(ctx.now) };
}

describe('record-contact on an ended allocation', () => {
  it('ended by its provider, the plan still active: recorded, re-arming the no-contact alert from it', () => {
    const { plan, ctx, anawim, endDay } = endedByItsProvider();
    expect(plan.stage).toBe('active');
    const later = at(ctx, addDays(ctx.now, 3));
    const late = run(plan, respond('record-contact', anawim, { date: endDay, kind: 'attended' }), later);
    expect(late.plan.contacts.at(-1)).toMatchObject({ allocationId: anawim.allocationId, date: endDay, kind: 'attended', recordedAt: later.now });
    expect(late.events.map((e) => e.type)).toEqual(['contact.recorded.v1']);
    const noContact = late.plan.deadlines.find((d) => d.command === 'no-contact');
    expect(noContact?.dueAt).toEqual(expect.any(String));
    expect(noContact?.dueAt).toBe(addDays(`${endDay}T12:00:00.000Z`, later.policy.noContactDays));
    // Then the plan exits: the late session is in its summary.
    expect(exitSummary(run(late.plan, command('exit', { reason: 'completed' }), later).plan)?.sessions.attended).toBe(1);
  });

  it('dated after the day it ended: a 400 naming date; past the bound or once her identity is erased: a 409 in words', () => {
    const { plan, ctx, anawim, endDay } = endedByItsProvider();
    const later = at(ctx, addDays(ctx.now, 3));
    const after = refusal(() => decide(plan, respond('record-contact', anawim, { date: londonDate(addDays(ctx.now, 1)), kind: 'attended' }), later));
    expect(after.status).toBe(400);
    expect(after.errors.map((e) => e.path)).toEqual(['date']);
    expect(after.errors[0]?.message).toMatch(new RegExp(`^must be on or before .+: allocation ${anawim.allocationId} ended that day`));

    const tooLate = at(ctx, addDays(ctx.now, SESSION_CORRECTION_DAYS + 1 / 1440));
    const refused = refusal(() => decide(plan, respond('record-contact', anawim, { date: endDay, kind: 'attended' }), tooLate));
    expect(refused.status).toBe(409);
    expect(refused.message).toContain(`a session held before it ended could be recorded for ${SESSION_CORRECTION_DAYS} days after it ended`);

    const erased = refusal(() => decide({ ...plan, identityErasedAt: ctx.now }, respond('record-contact', anawim, { date: endDay, kind: 'attended' }), later));
    expect(erased.status).toBe(409);
    expect(erased.message).toContain('Her identity was erased on');
  });

  it('after the plan exited: recorded, arming no alert (nothing is awaited of her)', () => {
    const { plan, ctx } = planInStage('active');
    const anawim = allocationOf(plan!, 'anawim-womens-centre', 'accepted');
    const exited = run(plan, command('exit', { reason: 'completed' }), ctx);
    const later = at(ctx, addDays(ctx.now, 10));
    const late = run(exited.plan, respond('record-contact', anawim, { date: londonDate(ctx.now), kind: 'attended' }), later);
    expect(late.plan.stage).toBe('exited');
    expect(late.plan.deadlines).toEqual(exited.plan.deadlines);
    expect(exitSummary(late.plan)?.sessions.attended).toBe(1);
  });
});
