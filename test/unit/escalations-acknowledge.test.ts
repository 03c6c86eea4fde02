import { describe, expect, it } from 'vitest';
import { addDays } from '../../lib/domain/calendar.ts';
import { decide } from '../../lib/domain/decide.ts';
import { at, command, COORDINATOR, planInStage, run, TEAM_LEAD, TIMER, validCommand, withOpenEscalation, refusal } from '../support/domain-fixtures.ts';

const acknowledge = (payload: unknown, actor = TEAM_LEAD) => command('acknowledge-escalation', payload, { actor });

describe('a team lead picks up an escalation', () => {
  it('keeps who (her id and name) and when on the open escalation, changes no stage, and tells nobody her name', () => {
    const { plan, ctx } = withOpenEscalation(planInStage('referred'));
    const step = run(plan, acknowledge({ kind: 'assessment-overdue' }), ctx);
    expect(step.plan.stage).toBe('referred');
    expect(step.plan.escalations).toEqual([expect.objectContaining({ kind: 'assessment-overdue', acknowledged: { by: 'team-lead-1', byName: 'Dana Team-Lead', at: ctx.now } })]);
    expect(step.events.map((e) => [e.type, e.data])).toEqual([['plan.escalation-acknowledged.v1', { planRef: plan!.planId, kind: 'assessment-overdue' }]]);
    expect(JSON.stringify(step.events)).not.toContain('Dana');
  });

  it('survives the weekly repeat of the escalation, and is gone once it is resolved and raised again', () => {
    const { plan, ctx } = withOpenEscalation(planInStage('referred'));
    const picked = run(plan, acknowledge({ kind: 'assessment-overdue' }), ctx);
    const repeat = validCommand('assessment-overdue', picked.plan, at(ctx, addDays(ctx.now, 8)));
    const repeated = run(picked.plan, repeat.command, repeat.ctx);
    expect(repeated.events.find((e) => e.type === 'plan.escalated.v1')?.data).toMatchObject({ repeated: true });
    expect(repeated.plan.escalations.filter((e) => !e.resolvedAt)).toEqual([expect.objectContaining({ acknowledged: expect.objectContaining({ by: 'team-lead-1' }) })]);

    // Resolved by the coordinator acting; a later escalation of another kind starts unacknowledged.
    const consented = run(repeated.plan, command('record-consent', { scope: { shareWithProviders: true, dataCategories: ['needs'] }, givenAt: repeat.ctx.now.slice(0, 10), method: 'written' }), repeat.ctx);
    const assessed = run(consented.plan, command('submit-assessment', { needs: [{ domain: 'mental-health', level: 'high', priority: true }] }), repeat.ctx);
    expect(assessed.plan.escalations.filter((e) => !e.resolvedAt && e.kind === 'assessment-overdue')).toEqual([]);
    const overdue = validCommand('activation-overdue', assessed.plan, repeat.ctx);
    const later = run(assessed.plan, overdue.command, overdue.ctx);
    expect(later.plan.escalations.filter((e) => !e.resolvedAt).map((e) => [e.kind, e.acknowledged])).toEqual([['activation-overdue', undefined]]);
  });

  it('refuses an escalation that is not open naming kind or ref (400), a second pick-up (409), and anyone but a team lead (403), changing nothing', () => {
    const { plan, ctx } = withOpenEscalation(planInStage('active'));
    expect(plan!.escalations.filter((e) => !e.resolvedAt).map((e) => e.kind)).toEqual(['no-contact']);
    const noKind = refusal(() => decide(plan, acknowledge({ kind: 'review-overdue', ref: '1' }), ctx));
    expect([noKind.status, noKind.errors.map((e) => e.path)]).toEqual([400, ['kind']]);
    const badKind = refusal(() => decide(plan, acknowledge({ kind: 'late' }), ctx));
    expect([badKind.status, badKind.errors.map((e) => e.path)]).toEqual([400, ['kind']]);
    const words = refusal(() => decide(plan, acknowledge({ kind: 'no-contact', ref: 'she called me' }), ctx));
    expect([words.status, words.errors.map((e) => e.path)]).toEqual([400, ['ref']]);
    const wrongRef = refusal(() => decide(plan, acknowledge({ kind: 'no-contact', ref: 'mental-health' }), ctx));
    expect([wrongRef.status, wrongRef.errors.map((e) => e.path)]).toEqual([400, ['ref']]);
    for (const actor of [COORDINATOR, TIMER]) expect(refusal(() => decide(plan, acknowledge({ kind: 'no-contact' }, actor), ctx)).status).toBe(403);

    const picked = run(plan, acknowledge({ kind: 'no-contact' }), ctx);
    const again = refusal(() => decide(picked.plan, acknowledge({ kind: 'no-contact' }, { ...TEAM_LEAD, sub: 'team-lead-2', name: 'Other Lead' }), ctx));
    expect(again.status).toBe(409);
    expect(again.message).toContain('Dana Team-Lead');
  });

  it('says in the 409 who picked it up and when in London time, in words a team lead reads', () => {
    const { plan, ctx } = withOpenEscalation(planInStage('referred'));
    // Picked up in summer, when London is an hour ahead of UTC: 13:05 UTC is 14:05 in London.
    const picked = run(plan, acknowledge({ kind: 'assessment-overdue' }), at(ctx, '2026-06-15T13:05:00.000Z'));
    const again = refusal(() => decide(picked.plan, acknowledge({ kind: 'assessment-overdue' }, { ...TEAM_LEAD, sub: 'team-lead-2', name: 'Other Lead' }), at(ctx, '2026-06-16T09:00:00.000Z')));
    expect([again.status, again.message]).toEqual([409, 'This escalation was already picked up by Dana Team-Lead on 15 June 2026 at 14:05.']);
  });
});
