/**
 * A provider corrects or withdraws a session it recorded (correct-contact): the same session recorded
 * twice is withdrawn and counts nowhere (attendance at reviews, the exit summary, the no-contact alert),
 * a wrong date or kind is corrected, the session keeps its number and its earlier values stay on the
 * plan and in the event (codes only, no free text). Only the provider holding the allocation may.
 */
import { describe, expect, it } from 'vitest';
import { addDays, londonDate } from '../../lib/domain/calendar.ts';
import { decide } from '../../lib/domain/decide.ts';
import { EVENT_CATALOGUE } from '../../lib/domain/events.ts';
import { providerAllocationView } from '../../lib/domain/provider-views.ts';
import { CorrectContactPayload } from '../../lib/domain/schemas.ts';
import { SESSION_CORRECTION_DAYS } from '../../lib/domain/session-correction.ts';
import { exitSummary } from '../../lib/domain/views.ts';
import { allocationOf, at, command, planInStage, providerActor, refusal, respond, run, withOpenEscalation } from '../support/domain-fixtures.ts';

const paths = (fn: () => unknown) => refusal(fn).errors.map((e) => e.path);

/** An active plan whose anawim allocation has "today: attended" recorded twice. */
function recordedTwice() {
  const { plan, ctx } = planInStage('active');
  const anawim = allocationOf(plan!, 'anawim-womens-centre', 'accepted');
  const today = londonDate(ctx.now);
  const once = run(plan, respond('record-contact', anawim, { date: today, kind: 'attended' }), ctx);
  const twice = run(once.plan, respond('record-contact', anawim, { date: today, kind: 'attended' }), ctx);
  return { before: plan!, plan: twice.plan, ctx, anawim, today };
}

describe('correct-contact', () => {
  it('withdraws the second of two identical sessions: it keeps its number, counts nowhere, and the event carries codes only', () => {
    const { plan, ctx, anawim, today } = recordedTwice();
    const withdrawn = run(plan, respond('correct-contact', anawim, { session: 2, withdrawn: true, reason: 'recorded-twice' }), ctx);
    expect((providerAllocationView(withdrawn.plan, anawim.allocationId) as { contacts?: unknown }).contacts).toEqual([
      { session: 1, date: today, kind: 'attended' },
      { session: 2, date: today, kind: 'attended', withdrawnAt: ctx.now, corrected: true },
    ]);
    expect(withdrawn.plan.contacts[1]?.corrections).toEqual([{ previous: { date: today, kind: 'attended' }, withdrawn: true, reason: 'recorded-twice', at: ctx.now }]);
    expect(withdrawn.events).toHaveLength(1);
    const [event] = withdrawn.events;
    expect(event).toMatchObject({ type: 'contact.corrected.v1', data: { session: 2, withdrawn: true, reason: 'recorded-twice', previous: { date: today, kind: 'attended' } } });
    expect(event?.providerId).toBeUndefined();
    expect(EVENT_CATALOGUE['contact.corrected.v1'].data.parse(event?.data)).toEqual(event?.data);

    // A review counts one attended session, not two.
    const later = at(ctx, addDays(ctx.now, 7));
    const reviewed = run(withdrawn.plan, command('record-review', { scores: { 'mental-health': 5 }, outcome: 'continue' }), later);
    expect(reviewed.plan.reviews.at(-1)?.attendance).toEqual({ attended: 1, missed: 0, cancelled: 0 });
    // So does the exit summary.
    const exited = run(reviewed.plan, command('exit', { reason: 'completed' }), later);
    expect(exitSummary(exited.plan)?.sessions).toEqual({ attended: 1, missed: 0, cancelled: 0 });

    // Withdrawn once: nothing more to correct.
    expect(paths(() => decide(withdrawn.plan, respond('correct-contact', anawim, { session: 2, kind: 'missed', reason: 'wrong-kind' }), ctx))).toEqual(['session']);
  });

  it('corrects a date or a kind; the session as it read before stays on the plan', () => {
    const { plan, ctx, anawim, today } = recordedTwice();
    const yesterday = londonDate(addDays(ctx.now, -1));
    const corrected = run(plan, respond('correct-contact', anawim, { session: 1, date: yesterday, kind: 'missed', reason: 'wrong-date' }), ctx);
    expect(corrected.plan.contacts[0]).toMatchObject({ date: yesterday, kind: 'missed', corrections: [{ previous: { date: today, kind: 'attended' }, withdrawn: false, reason: 'wrong-date' }] });
    expect(corrected.events[0]).toMatchObject({ type: 'contact.corrected.v1', data: { session: 1, date: yesterday, kind: 'missed', withdrawn: false } });
    // The same values again is no correction.
    expect(paths(() => decide(corrected.plan, respond('correct-contact', anawim, { session: 1, kind: 'missed', reason: 'wrong-kind' }), ctx))).toEqual(['kind']);
  });

  it('withdrawing the only attended session puts the no-contact alert back where activation set it', () => {
    const { plan, ctx } = planInStage('active');
    const anawim = allocationOf(plan!, 'anawim-womens-centre', 'accepted');
    const fromActivation = plan!.deadlines.find((d) => d.command === 'no-contact')?.dueAt;
    const once = run(plan, respond('record-contact', anawim, { date: londonDate(ctx.now), kind: 'attended' }), ctx);
    expect(once.plan.deadlines.find((d) => d.command === 'no-contact')?.dueAt).not.toBe(fromActivation);
    const withdrawn = run(once.plan, respond('correct-contact', anawim, { session: 1, withdrawn: true, reason: 'no-such-session' }), ctx);
    expect(withdrawn.plan.deadlines.find((d) => d.command === 'no-contact')?.dueAt).toBe(fromActivation);
  });

  it('leaves an open no-contact alert open when a correction shows no engagement since it was raised; resolves it when one does', () => {
    const { plan: active, ctx } = planInStage('active');
    const anawim = allocationOf(active!, 'anawim-womens-centre', 'accepted');
    const firstWeek = londonDate(ctx.now);
    const attended = run(active, respond('record-contact', anawim, { date: firstWeek, kind: 'attended' }), ctx);
    // Nobody attended for the policy's 28 days: the team lead is told.
    const alerted = withOpenEscalation({ plan: attended.plan, ctx, events: [] });
    const openAlert = (p: typeof alerted.plan) => p?.escalations.find((e) => e.kind === 'no-contact' && !e.resolvedAt);
    expect(openAlert(alerted.plan)).toBeDefined();

    // The old session's date was keyed a day late: still attended, still weeks ago. She has not engaged since.
    const dayBefore = londonDate(addDays(`${firstWeek}T12:00:00.000Z`, -1));
    const redated = run(alerted.plan, respond('correct-contact', anawim, { session: 1, date: dayBefore, reason: 'wrong-date' }), alerted.ctx);
    expect(openAlert(redated.plan)).toBeDefined();

    // A session of today keyed as missed was in fact attended: that is engagement, and the alert is resolved.
    const today = londonDate(alerted.ctx.now);
    const missed = run(redated.plan, respond('record-contact', anawim, { date: today, kind: 'missed' }), alerted.ctx);
    expect(openAlert(missed.plan)).toBeDefined();
    const corrected = run(missed.plan, respond('correct-contact', anawim, { session: 2, kind: 'attended', reason: 'wrong-kind' }), alerted.ctx);
    expect(openAlert(corrected.plan)).toBeUndefined();
    expect(corrected.plan.deadlines.find((d) => d.command === 'no-contact')?.dueAt).toBe(addDays(`${today}T12:00:00.000Z`, 28));
  });

  it('refuses another provider, an unknown session, a future date, and a payload that is both or neither', () => {
    const { plan, ctx, anawim } = recordedTwice();
    const byOther = { ...respond('correct-contact', anawim, { session: 1, withdrawn: true, reason: 'recorded-twice' }), actor: providerActor('bcwa') };
    expect(refusal(() => decide(plan, byOther, ctx)).name).toBe('Forbidden');
    const asCoordinator = command('correct-contact', { session: 1, withdrawn: true, reason: 'recorded-twice' }, { allocationId: anawim.allocationId });
    expect(refusal(() => decide(plan, asCoordinator, ctx)).name).toBe('Forbidden');
    expect(paths(() => decide(plan, respond('correct-contact', anawim, { session: 3, withdrawn: true, reason: 'recorded-twice' }), ctx))).toEqual(['session']);
    expect(paths(() => decide(plan, respond('correct-contact', anawim, { session: 1, date: londonDate(addDays(ctx.now, 2)), reason: 'wrong-date' }), ctx))).toEqual(['date']);
    expect(CorrectContactPayload.safeParse({ session: 1, withdrawn: true, kind: 'missed', reason: 'recorded-twice' }).error?.issues.map((i) => i.path.join('.'))).toEqual(['kind']);
    expect(CorrectContactPayload.safeParse({ session: 1, reason: 'recorded-twice' }).error?.issues.map((i) => i.path.join('.'))).toEqual(['withdrawn']);
    expect(CorrectContactPayload.safeParse({ session: 1, withdrawn: true, reason: 'typed it twice' }).success).toBe(false);
    expect(CorrectContactPayload.safeParse({ session: 1, withdrawn: true, reason: 'recorded-twice', note: 'free text' }).success).toBe(false);
  });
});

describe('correct-contact after the allocation ended', () => {
  it(`is allowed for ${SESSION_CORRECTION_DAYS} days after it ended, the plan exited too, then refused in words; never once her identity is erased`, () => {
    const { plan, ctx, anawim, today } = recordedTwice();
    const exited = run(plan, command('exit', { reason: 'completed' }), ctx);
    expect(exited.plan.stage).toBe('exited');
    const ended = exited.plan.allocations.find((a) => a.allocationId === anawim.allocationId)!;
    expect(ended.status).toBe('ended');

    // On the last day of the bound: applied, and the plan stays exited with no deadline but its follow-ups.
    const lastDay = at(ctx, addDays(ended.endedAt!, SESSION_CORRECTION_DAYS));
    const corrected = run(exited.plan, respond('correct-contact', anawim, { session: 2, withdrawn: true, reason: 'recorded-twice' }), lastDay);
    expect(corrected.plan.stage).toBe('exited');
    expect(corrected.plan.contacts[1]?.withdrawnAt).toBe(lastDay.now);
    expect(corrected.plan.deadlines.map((d) => d.command)).toEqual(exited.plan.deadlines.map((d) => d.command));
    expect(exitSummary(corrected.plan)?.sessions).toEqual({ attended: 1, missed: 0, cancelled: 0 });
    // A corrected date may not be after the allocation ended.
    const after = londonDate(addDays(ended.endedAt!, 2));
    expect(paths(() => decide(exited.plan, respond('correct-contact', anawim, { session: 1, date: after, reason: 'wrong-date' }), lastDay))).toEqual(['date']);

    // A minute later: refused, saying when it ended, until when it could be corrected, and who can note it now.
    const tooLate = at(ctx, addDays(ended.endedAt!, SESSION_CORRECTION_DAYS + 1 / 1440));
    const refused = refusal(() => decide(exited.plan, respond('correct-contact', anawim, { session: 2, withdrawn: true, reason: 'recorded-twice' }), tooLate));
    expect(refused.status).toBe(409);
    expect(refused.message).toMatch(new RegExp(`^Allocation ${anawim.allocationId} ended on .+: its sessions could be corrected for 28 days after it ended, until .+, and no longer; ask her coordinator to note the correction on the plan\\.$`));

    // Her identity erased (a plan erased before erasure waited for follow-ups): refused, within the bound too.
    const erased = { ...exited.plan, identityErasedAt: ctx.now };
    const onErased = refusal(() => decide(erased, respond('correct-contact', anawim, { session: 2, withdrawn: true, reason: 'recorded-twice' }), lastDay));
    expect(onErased.status).toBe(409);
    expect(onErased.message).toContain('Her identity was erased on');
    expect(today).toBe(londonDate(ctx.now));
  });

  it('an allocation ended on an open plan may be corrected within the bound; one ended because her consent was withdrawn may not; a closed plan never', () => {
    const { plan, ctx, anawim } = recordedTwice();
    const ended = run(plan, respond('end-allocation', anawim, { outcome: 'completed' }), ctx);
    const nextWeek = at(ctx, addDays(ctx.now, 7));
    expect(run(ended.plan, respond('correct-contact', anawim, { session: 2, withdrawn: true, reason: 'recorded-twice' }), nextWeek).plan.contacts[1]?.withdrawnAt).toBe(nextWeek.now);

    const withdrawnConsent = { ...ended.plan, allocations: ended.plan.allocations.map((a) => (a.allocationId === anawim.allocationId ? { ...a, outcome: 'consent-withdrawn' as const } : a)) };
    expect(refusal(() => decide(withdrawnConsent, respond('correct-contact', anawim, { session: 2, withdrawn: true, reason: 'recorded-twice' }), nextWeek)).message).toContain('when her consent to share with your organisation was withdrawn');

    const closed = run(plan, command('withdraw-consent', {}), ctx);
    expect(closed.plan.stage).toBe('closed');
    expect(refusal(() => decide(closed.plan, respond('correct-contact', anawim, { session: 2, withdrawn: true, reason: 'recorded-twice' }), nextWeek)).status).toBe(409);
  });
});
