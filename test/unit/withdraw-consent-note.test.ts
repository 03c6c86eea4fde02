/**
 * withdraw-consent's optional `note`: the coordinator typed why her consent was withdrawn, so it is kept
 * on the plan (consentWithdrawalNote), from a plan never consented to (referred) as from an exited one
 * (whose exit note is the exit's own), never in an event, and replaced at erasure like every other note.
 */
import { describe, expect, it } from 'vitest';
import { addMonths } from '../../lib/domain/calendar.ts';
import type { Stage } from '../../lib/domain/lifecycle.ts';
import { REDACTED, redactPlan } from '../../lib/domain/redaction.ts';
import { planView } from '../../lib/domain/views.ts';
import { at, command, planInStage, run } from '../support/domain-fixtures.ts';

const NOTE = 'Told me on the phone she wants no more contact from anyone';

describe("withdraw-consent's note", () => {
  it.each(['referred', 'assessment', 'allocating', 'active'] as Stage[])('from %s is kept on the plan and its view, and in no event', (stage) => {
    const { plan, ctx } = planInStage(stage);
    const step = run(plan, command('withdraw-consent', { note: NOTE }), ctx);
    expect(step.plan.stage).toBe('closed');
    expect(step.plan.consentWithdrawalNote).toBe(NOTE);
    expect(planView(step.plan, step.plan.updatedAt).consentWithdrawalNote).toBe(NOTE);
    expect(step.plan.exit).toEqual({ reason: 'consent-withdrawn', exitedAt: ctx.now });
    expect(JSON.stringify(step.events)).not.toContain('no more contact');
  });

  it('from exited is kept apart from the exit note, which stays the exit’s own', () => {
    const { plan, ctx } = planInStage('exited');
    const step = run(plan, command('withdraw-consent', { note: NOTE }), at(ctx, addMonths(plan!.exit!.exitedAt, 1)));
    expect(step.plan.consentWithdrawalNote).toBe(NOTE);
    expect(step.plan.exit).toEqual(plan!.exit);
    expect(JSON.stringify(step.events)).not.toContain('no more contact');
  });

  it('is absent when none was sent', () => {
    const { plan, ctx } = planInStage('active');
    expect(run(plan, command('withdraw-consent', {}), ctx).plan).not.toHaveProperty('consentWithdrawalNote');
  });

  it('is replaced at erasure', () => {
    const { plan, ctx } = planInStage('active');
    const redacted = redactPlan(run(plan, command('withdraw-consent', { note: NOTE }), ctx).plan);
    expect(redacted.consentWithdrawalNote).toBe(REDACTED);
    expect(JSON.stringify(redacted)).not.toContain('no more contact');
  });
});
