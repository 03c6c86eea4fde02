/**
 * A coordinator closing an accidental second referral of the same woman says so: `duplicate-referral`
 * is a withdraw reason of its own (she had to pick "other"), kept on the plan and in plan.withdrawn.v1
 * (the event schema takes it), and the web's select offers it in words.
 */
import { describe, expect, it } from 'vitest';
import { EVENT_CATALOGUE } from '../../lib/domain/events.ts';
import { COMMAND_PAYLOADS } from '../../lib/domain/schemas.ts';
import { label, WITHDRAW_REASONS } from '../../web/src/domain.ts';
import { command, COORDINATOR, planInStage, run } from '../support/domain-fixtures.ts';

describe('withdraw: a duplicate referral', () => {
  it('is a reason of its own, on the plan and in the event, from referred and from assessment', () => {
    for (const stage of ['referred', 'assessment'] as const) {
      const { plan, ctx } = planInStage(stage);
      const step = run(plan, command('withdraw', { reason: 'duplicate-referral' }, { actor: COORDINATOR }), ctx);
      expect(step.plan.stage).toBe('withdrawn');
      expect(step.plan.withdrawal).toMatchObject({ reason: 'duplicate-referral' });
      const event = step.events.find((e) => e.type === 'plan.withdrawn.v1');
      expect(event?.data).toMatchObject({ reason: 'duplicate-referral' });
      expect(EVENT_CATALOGUE['plan.withdrawn.v1'].data.safeParse(event?.data).success).toBe(true);
    }
  });

  it('the payload schema takes it and the web names it', () => {
    expect(COMMAND_PAYLOADS.withdraw.safeParse({ reason: 'duplicate-referral' }).success).toBe(true);
    expect(WITHDRAW_REASONS).toContain('duplicate-referral');
    expect(label('duplicate-referral')).toBe('Duplicate referral');
  });
});
