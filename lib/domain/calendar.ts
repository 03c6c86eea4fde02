/**
 * Working-day arithmetic in Europe/London. Which dates are bank holidays is injected (the adapter
 * builds it from date-holidays for England and Wales) so the domain stays free of I/O and of any
 * particular holiday source.
 */
export interface WorkingDayCalendar {
  /** Is this London calendar date (YYYY-MM-DD) a working day? */
  isWorkingDay(date: string): boolean;
}

const LONDON = 'Europe/London';
const dateFormatter = new Intl.DateTimeFormat('en-CA', { timeZone: LONDON, year: 'numeric', month: '2-digit', day: '2-digit' });

/** The London calendar date of an instant. */
export function londonDate(instant: string | Date): string {
  return dateFormatter.format(new Date(instant));
}

const dayWords = new Intl.DateTimeFormat('en-GB', { timeZone: LONDON, day: 'numeric', month: 'long', year: 'numeric' });
const clockWords = new Intl.DateTimeFormat('en-GB', { timeZone: LONDON, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });

/** The London day of an instant as a person reads it: "28 November 2026". */
export function londonDayWords(instant: string): string {
  return dayWords.format(new Date(instant));
}

/** An instant as a person in the programme reads it, in London time: "28 November 2026 at 14:05". */
export function londonDateTimeWords(instant: string): string {
  const at = new Date(instant);
  return `${dayWords.format(at)} at ${clockWords.format(at)}`;
}

/** Offset of London from UTC, in minutes, at an instant (0 in winter, 60 in summer). */
// Built once: constructing an Intl formatter is costly and every deadline computation needs this one.
const offsetFormatter = new Intl.DateTimeFormat('en-GB', { timeZone: LONDON, timeZoneName: 'shortOffset' });

function londonOffsetMinutes(at: Date): number {
  const parts = offsetFormatter.formatToParts(at);
  const name = parts.find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
  const match = /GMT([+-]\d+)?(?::(\d+))?/.exec(name);
  const hours = match?.[1] ? Number(match[1]) : 0;
  const minutes = match?.[2] ? Number(match[2]) : 0;
  return hours * 60 + Math.sign(hours) * minutes;
}

/** The instant at a London wall-clock time on a London date. */
export function londonTime(date: string, hour: number, minute = 0): string {
  const guess = new Date(`${date}T${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}:00Z`);
  const offset = londonOffsetMinutes(guess);
  return new Date(guess.getTime() - offset * 60_000).toISOString();
}

export function addCalendarDays(date: string, days: number): string {
  const d = new Date(`${date}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** Add whole days to an instant, keeping it an instant. */
export function addDays(instant: string, days: number): string {
  return new Date(new Date(instant).getTime() + days * 86_400_000).toISOString();
}

/** Calendar months later, clamped to the month's last day (31 August + 6 months = 28/29 February). */
export function addMonths(instant: string, months: number): string {
  const d = new Date(instant);
  const day = d.getUTCDate();
  d.setUTCDate(1);
  d.setUTCMonth(d.getUTCMonth() + months);
  const lastDay = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
  d.setUTCDate(Math.min(day, lastDay));
  return d.toISOString();
}

/** The hour (London) every deadline a person works to falls at: offers, reviews and their reminders alike. */
const CLOSE_OF_BUSINESS_HOUR = 17;

/** The close of business (17:00 London) on a London date. */
export function closeOfBusiness(date: string): string {
  return londonTime(date, CLOSE_OF_BUSINESS_HOUR);
}

/** The date itself if it is a working day, else the next working day after it. */
export function workingDayOnOrAfter(calendar: WorkingDayCalendar, date: string): string {
  let day = date;
  while (!calendar.isWorkingDay(day)) day = addCalendarDays(day, 1);
  return day;
}

/** The date itself if it is a working day, else the last working day before it. */
function workingDayOnOrBefore(calendar: WorkingDayCalendar, date: string): string {
  let day = date;
  while (!calendar.isWorkingDay(day)) day = addCalendarDays(day, -1);
  return day;
}

/**
 * The close of business (17:00 London) on the n-th working day after the instant's London date.
 * A deadline given on a Friday evening for 2 working days lands on Tuesday at 17:00, skipping a
 * bank holiday Monday.
 */
export function workingDaysAfter(calendar: WorkingDayCalendar, instant: string, workingDays: number): string {
  let date = londonDate(instant);
  let remaining = workingDays;
  while (remaining > 0) {
    date = addCalendarDays(date, 1);
    if (calendar.isWorkingDay(date)) remaining -= 1;
  }
  return closeOfBusiness(date);
}

/** When a review falls due, when its reminder goes and when it is escalated to a team lead. */
export interface ReviewDates {
  dueAt: string;
  remindAt: string;
  escalateAt: string;
}

/**
 * A review's dates, counted in London calendar days from the day of activation or of the previous
 * review, each moved onto a working day and set at close of business: a review that would fall on
 * New Year's Day is due the next working day, its reminder goes on the working day on or before
 * `reminderDaysBefore` days earlier, and the escalation on the working day on or after `graceDays`
 * days after it is due. The same time of day every review, whatever time the plan was activated.
 */
export function reviewDates(calendar: WorkingDayCalendar, from: string, everyDays: number, reminderDaysBefore: number, graceDays: number): ReviewDates {
  const due = workingDayOnOrAfter(calendar, addCalendarDays(londonDate(from.length === 10 ? `${from}T12:00:00Z` : from), everyDays));
  const remind = workingDayOnOrBefore(calendar, addCalendarDays(due, -reminderDaysBefore));
  const escalate = workingDayOnOrAfter(calendar, addCalendarDays(due, graceDays));
  return { dueAt: closeOfBusiness(due), remindAt: closeOfBusiness(remind), escalateAt: closeOfBusiness(escalate) };
}

/** Whole days from one instant to another, rounded down. */
export function daysBetween(from: string, to: string): number {
  return Math.floor((new Date(to).getTime() - new Date(from).getTime()) / 86_400_000);
}

/** A calendar with weekends only; tests and callers without a holiday source use it. */
export const weekendsOnly: WorkingDayCalendar = {
  isWorkingDay(date: string) {
    const day = new Date(`${date}T12:00:00Z`).getUTCDay();
    return day !== 0 && day !== 6;
  },
};

/**
 * How long a closed plan keeps her identity: whole calendar years (six by default: a plan closed on
 * 7 July 2027 is anonymised from 7 July 2033, leap days and all), or a number of days where a shorter
 * period is configured (tests, trials).
 */
export type RetentionPeriod = { years: number; days?: never } | { days: number; years?: never };

export const DEFAULT_RETENTION: RetentionPeriod = { years: 6 };

/** The period a setting of days gives: those days, or without one the default six years. */
export function retentionOf(days: number | undefined): RetentionPeriod {
  return days === undefined ? DEFAULT_RETENTION : { days };
}

/** The instant a plan must have ended before to be past its retention period at `now`. */
export function retentionCutoff(now: string, period: RetentionPeriod): string {
  return period.years !== undefined ? addMonths(now, -12 * period.years) : addDays(now, -period.days);
}

/** The period in words, for the audit record of the anonymisation: "6 years", "30 days". */
export function retentionWords(period: RetentionPeriod): string {
  const [n, unit] = period.years !== undefined ? [period.years, 'year'] : [period.days, 'day'];
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}
