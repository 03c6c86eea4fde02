import { addCalendarDays, londonDate, londonTime } from './calendar.ts';

/**
 * The coordinator's due lists, defined once: the API reads which plans are on each from here and
 * the web app names them with these words. `this-week` keeps its name in the query, but it means the
 * next seven days from today whatever the weekday: a list that ended on Sunday was empty on a Sunday
 * while offers ran out on the Tuesday.
 */
export const DUE_LISTS = {
  overdue: {
    label: 'Overdue and escalated',
    means: 'plans with an open escalation, and plans whose next thing due (a deadline, a review or a follow-up) has passed',
  },
  today: {
    label: 'Due today',
    means: 'as overdue, and plans with something due before the end of today (London)',
  },
  'this-week': {
    label: 'Due in the next 7 days',
    means: 'as overdue, and plans with something due before the end of the sixth day after today (London): today and the next 6 days, whatever the weekday',
  },
} as const;

export type DueList = keyof typeof DUE_LISTS;

/** How many London days, today included, each list looks ahead. */
const DAYS_AHEAD = { today: 1, 'this-week': 7 } as const;

/**
 * Up to when, inclusive, a due list reaches: for overdue, the last millisecond before now (what fell
 * due at this very instant is due, not yet overdue); for the others, the midnight (London) ending
 * their last day.
 */
export function dueHorizon(now: string, list: DueList): string {
  if (list === 'overdue') return new Date(Date.parse(now) - 1).toISOString();
  return londonTime(addCalendarDays(londonDate(now), DAYS_AHEAD[list]), 0);
}
