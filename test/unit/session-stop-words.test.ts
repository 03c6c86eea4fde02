/**
 * Why nothing more may be recorded or corrected on an ended allocation, in words (session-correction.ts
 * endedSessionsStopWords): the API's refusals and the allocation page say it the same way. An allocation
 * that had already ended (with her plan's exit, or completed by its provider) keeps that end when her
 * consent is then withdrawn or narrowed to leave its provider out: the refusals said it "ended on <the
 * end>, when her consent … was withdrawn", the wrong reason for the end and no day for the withdrawal.
 */
import { describe, expect, it } from 'vitest';
import { addDays, londonDate } from '../../lib/domain/calendar.ts';
import { decide } from '../../lib/domain/decide.ts';
import { endedSessionsWords, lateSessionRefusal, sessionCorrectionRefusal } from '../../lib/domain/session-correction.ts';
import type { Plan } from '../../lib/domain/schemas.ts';
import { allocationOf, at, command, planInStage, refusal, respond, run } from '../support/domain-fixtures.ts';

function activeWithASession() {
  const { plan, ctx } = planInStage('active');
  const anawim = allocationOf(plan!, 'anawim-womens-centre', 'accepted');
  const recorded = run(plan, respond('record-contact', anawim, { date: londonDate(ctx.now), kind: 'attended' }), ctx).plan;
  return { plan: recorded, ctx, anawim };
}

describe('an allocation ended before her consent was withdrawn', () => {
  it('exited, then consent withdrawn: it ended on the exit, and her consent was withdrawn on its own day', () => {
    const { plan, ctx, anawim } = activeWithASession();
    expect(ctx.now).toBe('2026-03-05T10:00:00.000Z');
    const exited = run(plan, command('exit', { reason: 'completed' }), ctx).plan;
    const later = at(ctx, addDays(ctx.now, 3));
    const withdrawn = run(exited, command('withdraw-consent', {}), later).plan;
    const ended = allocationOf(withdrawn, 'anawim-womens-centre');
    expect(ended.outcome).toBe('plan-exited');

    const id = anawim.allocationId;
    const correct = `Allocation ${id} ended on 5 March 2026 at 10:00; her consent to share with your organisation was withdrawn on 8 March 2026 at 10:00: its sessions can no longer be corrected (delete what you hold about her).`;
    expect(sessionCorrectionRefusal(withdrawn, ended, later.now)).toBe(correct);
    expect(lateSessionRefusal(withdrawn, ended, later.now)).toBe(
      `Allocation ${id} ended on 5 March 2026 at 10:00; her consent to share with your organisation was withdrawn on 8 March 2026 at 10:00: no session can be recorded on it (delete what you hold about her).`,
    );
    expect(endedSessionsWords(ended, later.now)).toBe(
      'It ended on 5 March 2026 at 10:00; her consent to share with your organisation was withdrawn on 8 March 2026 at 10:00: no session can be recorded or corrected on it (delete what you hold about her).',
    );
  });

  it('completed by its provider, then consent narrowed to leave its provider out: the same, and the API refuses a correction in those words', () => {
    const { plan, ctx, anawim } = activeWithASession();
    const completed = run(plan, respond('end-allocation', anawim, { outcome: 'completed' }), ctx).plan;
    const later = at(ctx, addDays(ctx.now, 2));
    const consent = completed.consent!;
    const narrowed = run(
      completed,
      command('change-consent', { scope: { ...consent.scope, providers: { kind: 'all-except', providerIds: ['anawim'] } }, givenAt: londonDate(later.now), method: 'verbal' }),
      later,
    ).plan;
    const ended = allocationOf(narrowed, 'anawim-womens-centre');
    expect(ended.outcome).toBe('completed');
    const refused = refusal(() => decide(narrowed, respond('correct-contact', ended, { session: 1, reason: 'wrong-kind', kind: 'missed' }), later));
    expect(refused.status).toBe(409);
    expect(refused.message).toBe(
      `Allocation ${anawim.allocationId} ended on 5 March 2026 at 10:00; her consent to share with your organisation was withdrawn on 7 March 2026 at 10:00: its sessions can no longer be corrected (delete what you hold about her).`,
    );
  });

  it('ended by the withdrawal itself: it ended when her consent was withdrawn, as before', () => {
    const { plan, ctx, anawim } = activeWithASession();
    const withdrawn: Plan = run(plan, command('withdraw-consent', {}), ctx).plan;
    const ended = allocationOf(withdrawn, 'anawim-womens-centre');
    expect(ended.outcome).toBe('consent-withdrawn');
    expect(sessionCorrectionRefusal(withdrawn, ended, ctx.now)).toBe(
      `Allocation ${anawim.allocationId} ended on 5 March 2026 at 10:00, when her consent to share with your organisation was withdrawn: its sessions can no longer be corrected (delete what you hold about her).`,
    );
  });

  it('the page says what may still be done, and until when, in the same words as the refusals', () => {
    const { plan, ctx, anawim } = activeWithASession();
    const ended = allocationOf(run(plan, respond('end-allocation', anawim, { outcome: 'completed' }), ctx).plan, 'anawim-womens-centre');
    expect(endedSessionsWords(ended, ctx.now)).toBe(
      'A session held on or before 5 March 2026, the day it ended, can still be recorded, and its sessions corrected, until 2 April 2026 at 11:00 (28 days after it ended).',
    );
    expect(endedSessionsWords(ended, addDays(ctx.now, 29))).toBe(
      'It ended on 5 March 2026 at 10:00: sessions held before it ended could be recorded and corrected for 28 days after it ended, until 2 April 2026 at 11:00, and no longer; ask her coordinator to note a session or a correction on the plan.',
    );
  });
});
