import { describe, expect, it } from 'vitest';
import { erasureHeldWords, erasureHold } from '../../lib/domain/erasure-hold.ts';
import { OPEN_STAGES } from '../../lib/domain/lifecycle.ts';
import type { Plan } from '../../lib/domain/schemas.ts';
import { command, planInStage, run } from '../support/domain-fixtures.ts';

describe('when a plan of hers holds back an erasure of her identity (lib/domain/erasure-hold.ts, the one rule)', () => {
  it.each(OPEN_STAGES)('an open plan (%s) holds it', (stage) => {
    expect(erasureHold(planInStage(stage).plan!)).toBe('open');
  });

  it('an exited plan holds it while her follow-ups are to come, not once her consent is withdrawn (which closes it), nor when closed', () => {
    const { plan, ctx } = planInStage('exited');
    expect(erasureHold(plan!)).toBe('awaiting-follow-ups');
    const withdrawn = run(plan, command('withdraw-consent', {}), ctx).plan;
    expect(withdrawn.stage).toBe('closed');
    expect(erasureHold(withdrawn)).toBeUndefined();
    // Stored by a release before withdrawal closed the plan: exited, her consent withdrawn, follow-ups cancelled at the next timer.
    const legacy: Plan = { ...plan!, consent: { ...plan!.consent!, withdrawnAt: ctx.now } };
    expect(erasureHold(legacy)).toBeUndefined();
  });

  it('words the refusal: each plan, and what the coordinator can do in its stage (the lifecycle table) or about its follow-ups', () => {
    const words = erasureHeldWords('pl_aaaaaaaaaaaa', [
      { planId: 'pl_aaaaaaaaaaaa', stage: 'exited', hold: 'awaiting-follow-ups' },
      { planId: 'pl_bbbbbbbbbbbb', stage: 'referred', hold: 'open' },
    ]);
    expect(words.detail).toBe(
      'Her identity cannot be erased while a plan of hers is open or waiting for its follow-ups. This plan is waiting for its follow-ups: record them, or, if she asked to be forgotten, record her consent withdrawn (which cancels them and closes the plan) first; her plan pl_bbbbbbbbbbbb (stage referred): withdraw the referral or record her consent withdrawn first, then ask again.',
    );
    expect(words.errors).toEqual([
      { path: 'planId', message: 'plan pl_aaaaaaaaaaaa is waiting for its follow-ups: record them, or, if she asked to be forgotten, record her consent withdrawn (which cancels them and closes the plan) first' },
      { path: 'planId', message: 'plan pl_bbbbbbbbbbbb is open (stage referred): withdraw the referral or record her consent withdrawn first' },
    ]);
    expect(erasureHeldWords('pl_cccccccccccc', [{ planId: 'pl_cccccccccccc', stage: 'active', hold: 'open' }]).detail).toBe(
      'Her identity cannot be erased while a plan of hers is open. This plan (stage active): exit it or record her consent withdrawn first, then ask again.',
    );
  });
});
