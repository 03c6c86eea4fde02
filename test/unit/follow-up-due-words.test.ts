/**
 * A follow-up reminded, not yet escalated, in the lists' words: its deadline has moved on to when the
 * team lead is told, so the words say since when it has been due. On a list line the day comes from the
 * API's nextActionAt, which is the 12-month follow-up's day only once the 6-month one is recorded: with
 * the 6-month one still open (escalated) it is that one's day, and the 12-month line read "Overdue since"
 * the 6-month day, six months too early.
 */
import { describe, expect, it } from 'vitest';
import { deadlineInWords, followUpDueAtOf } from '../../web/src/deadline-words.ts';

const NOW = '2028-08-16T09:00:00.000Z';

describe('a reminded follow-up on a list line', () => {
  it('the 6-month one: overdue since its day, and when the team lead is told', () => {
    const line = { nextDue: { command: 'follow-up-due', ref: '6', dueAt: '2028-08-23T09:00:00.000Z' }, nextActionAt: '2028-08-09T09:00:00.000Z' };
    const at = followUpDueAtOf(line, []);
    expect(at).toBe('2028-08-09T09:00:00.000Z');
    expect(deadlineInWords(line.nextDue, [], NOW, undefined, at)).toEqual({
      term: '6-month follow-up due',
      words: 'Overdue since 9 Aug 2028 (7 days ago); the team lead is told 23 Aug 2028, 10:00 if it is not recorded',
      overdue: true,
    });
  });

  it('the 12-month one once the 6-month one is recorded', () => {
    const line = { nextDue: { command: 'follow-up-due', ref: '12', dueAt: '2028-08-23T09:00:00.000Z' }, nextActionAt: '2028-08-09T09:00:00.000Z' };
    expect(followUpDueAtOf(line, [])).toBe('2028-08-09T09:00:00.000Z');
  });

  it('not the 12-month one while the 6-month one is open: nextActionAt is the 6-month day', () => {
    const escalations = [{ kind: 'follow-up-due:6', raisedAt: '2028-02-23T09:00:00.000Z' }];
    const line = { nextDue: { command: 'follow-up-due', ref: '12', dueAt: '2028-08-23T09:00:00.000Z' }, nextActionAt: '2028-02-09T09:00:00.000Z' };
    expect(followUpDueAtOf(line, escalations)).toBeUndefined();
    expect(deadlineInWords(line.nextDue, escalations, NOW, undefined, followUpDueAtOf(line, escalations)).words).not.toContain('9 Feb 2028');
  });

  it('nothing for another deadline, nor a follow-up not reminded yet', () => {
    expect(followUpDueAtOf({ nextDue: { command: 'review-due', ref: '2', dueAt: NOW }, nextActionAt: NOW }, [])).toBeUndefined();
    const due = { command: 'follow-up-due', ref: '6', dueAt: '2028-08-20T09:00:00.000Z' };
    expect(deadlineInWords(due, [], NOW, undefined, followUpDueAtOf({ nextDue: due, nextActionAt: due.dueAt }, [])).words).toMatch(/^20 Aug 2028, 10:00 \(in 4 days\)$/);
  });
});
