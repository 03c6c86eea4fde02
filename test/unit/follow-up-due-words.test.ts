/**
 * A follow-up reminded, not yet escalated, in the lists' words: its deadline has moved on to when the
 * team lead is told, so the words say since when it has been due. The worklist line carries that day
 * (nextDue.followUpDueAt, planSummary). It used to be inferred from the line's nextActionAt, which is the
 * 6-month day while the 6-month follow-up is not recorded: with its escalation open, the 12-month line
 * could not be told its own day and fell back to the deadline's "(in N days)".
 */
import { describe, expect, it } from 'vitest';
import type { DecideContext } from '../../lib/domain/decide.ts';
import type { Plan } from '../../lib/domain/schemas.ts';
import { followUpsLapseAt } from '../../lib/domain/follow-ups.ts';
import { planSummary } from '../../lib/domain/views.ts';
import { deadlineInWords } from '../../web/src/deadline-words.ts';
import { at, command, planInStage, run, TIMER } from '../support/domain-fixtures.ts';

const NOW = '2028-08-16T09:00:00.000Z';

/** The exited fixture plan after the sweeper fired its follow-up timers, soonest first, while `until` is false. */
function sweptUntil(until: (plan: Plan, now: string) => boolean, most = 40): { plan: Plan; now: string; ctx: DecideContext } {
  const built = planInStage('exited');
  let plan = built.plan as Plan;
  let ctx = built.ctx;
  for (let fired = 0; !until(plan, ctx.now); fired++) {
    if (fired > most) throw new Error('the sweep never reached the state asked for');
    const next = [...plan.deadlines].sort((a, b) => a.dueAt.localeCompare(b.dueAt))[0];
    if (!next) throw new Error('no deadline left to fire');
    ctx = at(ctx, next.dueAt);
    plan = run(plan, command('follow-up-due', { deadlineId: next.deadlineId }, { actor: TIMER }), ctx).plan;
  }
  return { plan, now: ctx.now, ctx };
}

describe("the worklist line's follow-up day", () => {
  it('the 12-month line, with the 6-month escalation open, carries the 12-month day and reads overdue since it', () => {
    const { plan, now } = sweptUntil((p) => p.remindersSent.includes('follow-up:12') && planSummary(p, NOW).nextDue?.ref === '12');
    expect(plan.exit?.exitedAt).toBe('2026-03-25T10:00:00.000Z');
    const escalations = planSummary(plan, now).openEscalations;
    expect(escalations.map((e) => e.kind)).toEqual(['follow-up-due:6']);
    const line = planSummary(plan, now);
    expect(line.nextActionAt).toBe('2026-09-25T10:00:00.000Z');
    expect(line.nextDue).toMatchObject({ command: 'follow-up-due', ref: '12', followUpDueAt: '2027-03-25T10:00:00.000Z' });
    const words = deadlineInWords(line.nextDue!, escalations, now, undefined, line.nextDue?.followUpDueAt);
    expect(words.term).toBe('12-month follow-up due');
    expect(words.words).toBe('Overdue since 25 Mar 2027 (1 day ago); the team lead is told 8 Apr 2027, 11:00 if it is not recorded');
    expect(words.overdue).toBe(true);
  });

  it('the 6-month line, reminded, carries the 6-month day', () => {
    const { plan, now } = sweptUntil((p) => p.remindersSent.includes('follow-up:6'));
    expect(planSummary(plan, now).nextDue).toMatchObject({ command: 'follow-up-due', ref: '6', followUpDueAt: '2026-09-25T10:00:00.000Z' });
  });

  it('no day on a line whose next deadline is not a follow-up', () => {
    const { plan } = planInStage('active');
    const due = planSummary(plan as Plan, NOW).nextDue;
    expect(due?.command).not.toBe('follow-up-due');
    expect(due).not.toHaveProperty('followUpDueAt');
  });
});

describe('follow-ups about to lapse, in words', () => {
  it('the last deadline before they lapse says the plan closes then, not that anyone is reminded or told', () => {
    const lapses = '2027-09-25T10:00:00.000Z';
    const { plan, now, ctx } = sweptUntil((p) => planSummary(p, NOW).nextDue?.dueAt === lapses, 400);
    expect(followUpsLapseAt(plan)).toBe(lapses);
    expect(plan.stage).toBe('exited');
    const line = planSummary(plan, now);
    expect(line.nextDue).toMatchObject({ command: 'follow-up-due', dueAt: lapses, followUpsLapseAt: lapses });
    const words = deadlineInWords(line.nextDue!, line.openEscalations, now, undefined, line.nextDue?.followUpDueAt, line.nextDue?.followUpsLapseAt);
    expect(words.words).toMatch(/^since \d{1,2} [A-Z][a-z]{2} \d{4}; not recorded by 25 Sept? 2027, 11:00, it is recorded as unknown and the plan closes$/);
    expect(words.words).not.toMatch(/reminded again|team lead/);
    // And it does: at that deadline the plan closes.
    const deadline = plan.deadlines.find((d) => d.dueAt === lapses)!;
    const closed = run(plan, command('follow-up-due', { deadlineId: deadline.deadlineId }, { actor: TIMER }), at(ctx, lapses)).plan;
    expect(closed.stage).toBe('closed');
  });

  it('an earlier deadline keeps its words', () => {
    const due = { command: 'follow-up-due', ref: '6', dueAt: '2028-08-23T09:00:00.000Z' };
    expect(deadlineInWords(due, [], NOW, undefined, '2028-08-09T09:00:00.000Z', '2029-08-09T09:00:00.000Z').words).toContain('the team lead is told 23 Aug 2028');
  });
});

describe('a reminded follow-up in words', () => {
  it('overdue since its day, and when the team lead is told', () => {
    const due = { command: 'follow-up-due', ref: '6', dueAt: '2028-08-23T09:00:00.000Z' };
    expect(deadlineInWords(due, [], NOW, undefined, '2028-08-09T09:00:00.000Z')).toEqual({
      term: '6-month follow-up due',
      words: 'Overdue since 9 Aug 2028 (7 days ago); the team lead is told 23 Aug 2028, 10:00 if it is not recorded',
      overdue: true,
    });
  });

  it("not reminded yet (its day is the deadline's own): the deadline's words", () => {
    const due = { command: 'follow-up-due', ref: '6', dueAt: '2028-08-20T09:00:00.000Z' };
    expect(deadlineInWords(due, [], NOW, undefined, due.dueAt).words).toMatch(/^20 Aug 2028, 10:00 \(in 4 days\)$/);
  });
});
