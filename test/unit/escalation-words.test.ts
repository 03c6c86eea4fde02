/**
 * The team lead's words about escalations. A deadline that only repeats an open escalation reads as
 * that escalation, since when, and when it is raised again: an escalated review read "Review overdue
 * after 25 Mar 2028, 15:00" (the weekly repeat) and an escalated follow-up "Follow-up due 6 Apr (in 12
 * days)" beside "6-month follow-up due (9 Mar)". Picking up a no-contact escalation with a ref says that
 * kind takes none, not "open ones: (none)" while one is open.
 */
import { describe, expect, it } from 'vitest';
import { decide } from '../../lib/domain/decide.ts';
import { deadlineInWords } from '../../web/src/deadline-words.ts';
import { command, planInStage, refusal, TEAM_LEAD, withOpenEscalation } from '../support/domain-fixtures.ts';

const NOW = '2028-03-24T10:00:00.000Z';

describe('a repeating deadline in the lists', () => {
  it('an escalated review: overdue since it was raised, reminded again at the repeat', () => {
    const escalations = [{ kind: 'review-overdue', ref: '3', raisedAt: '2028-03-11T15:00:00.000Z' }];
    expect(deadlineInWords({ command: 'review-overdue', ref: '3', dueAt: '2028-03-25T15:00:00.000Z' }, escalations, NOW)).toEqual({
      term: 'Review overdue',
      words: 'since 11 Mar 2028; reminded again 25 Mar 2028',
      overdue: true,
    });
  });

  it('an escalated follow-up agrees with its escalation', () => {
    const escalations = [{ kind: 'follow-up-due:6', raisedAt: '2028-03-09T10:00:00.000Z' }];
    expect(deadlineInWords({ command: 'follow-up-due', ref: '6', dueAt: '2028-04-06T10:00:00.000Z' }, escalations, NOW)).toMatchObject({
      term: '6-month follow-up due',
      words: 'since 9 Mar 2028; reminded again 6 Apr 2028',
    });
  });

  it('a deadline with no open escalation (or another one open) keeps its own words and date', () => {
    const other = [{ kind: 'review-overdue', ref: '2', raisedAt: '2028-03-11T15:00:00.000Z' }];
    const due = deadlineInWords({ command: 'review-overdue', ref: '3', dueAt: '2028-03-25T15:00:00.000Z' }, other, NOW);
    expect(due.term).toBe('Review overdue after');
    expect(due.words).toMatch(/^25 Mar 2028, 15:00 \(/);
    expect(due.overdue).toBe(false);
    expect(deadlineInWords({ command: 'follow-up-due', ref: '6', dueAt: '2028-04-06T10:00:00.000Z' }, [], NOW).term).toBe('Follow-up due');
  });

  it('a deadline passed with no escalation yet says overdue in words, not only by its mark', () => {
    expect(deadlineInWords({ command: 'assessment-overdue', dueAt: '2028-03-21T17:00:00.000Z' }, [], NOW)).toEqual({
      term: 'Assessment due',
      words: 'Overdue since 21 Mar 2028, 17:00 (3 days ago)',
      overdue: true,
    });
  });
});

describe('picking up an escalation with the wrong ref', () => {
  it('a no-contact escalation takes no ref: the refusal says so', () => {
    const { plan, ctx } = withOpenEscalation(planInStage('active'));
    const wrong = refusal(() => decide(plan, command('acknowledge-escalation', { kind: 'no-contact', ref: '3' }, { actor: TEAM_LEAD }), ctx));
    expect(wrong.status).toBe(400);
    expect(wrong.errors).toEqual([{ path: 'ref', message: 'a no-contact escalation has no ref: leave ref out to pick up the one open on this plan' }]);
    expect(wrong.message).not.toContain('(none)');
  });
});
