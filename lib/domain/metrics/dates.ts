/**
 * Day arithmetic for the metrics: London calendar dates (YYYY-MM-DD), computed without Intl so a
 * hundred thousand plans can be turned into facts quickly. The UK rule since 1996: summer time (UTC+1)
 * from 01:00 UTC on the last Sunday of March to 01:00 UTC on the last Sunday of October.
 */

const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

const summerTime = new Map<number, readonly [number, number]>();

function lastSundayAtOneUtc(year: number, month: number): number {
  const last = new Date(Date.UTC(year, month + 1, 0));
  return Date.UTC(year, month, last.getUTCDate() - last.getUTCDay(), 1);
}

function summerTimeOf(year: number): readonly [number, number] {
  let range = summerTime.get(year);
  if (!range) {
    range = [lastSundayAtOneUtc(year, 2), lastSundayAtOneUtc(year, 9)] as const;
    summerTime.set(year, range);
  }
  return range;
}

/** The London calendar date of an instant (the same answer as calendar.londonDate, much faster). */
export function londonDay(instant: string): string {
  const ms = Date.parse(instant);
  const [start, end] = summerTimeOf(new Date(ms).getUTCFullYear());
  return new Date(ms >= start && ms < end ? ms + HOUR_MS : ms).toISOString().slice(0, 10);
}

/** Days (with fraction) from one instant to a later one. */
export function daysFrom(from: string, to: string): number {
  return (Date.parse(to) - Date.parse(from)) / DAY_MS;
}

export function hoursFrom(from: string, to: string): number {
  return (Date.parse(to) - Date.parse(from)) / HOUR_MS;
}

export function isCalendarDate(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const d = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === value;
}

export function addDaysToDate(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

/** The same day `months` calendar months later, clamped to the month's last day. */
export function addMonthsToDate(date: string, months: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const index = y * 12 + (m - 1) + months;
  const year = Math.floor(index / 12);
  const month = index - year * 12;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  return `${String(year).padStart(4, '0')}-${String(month + 1).padStart(2, '0')}-${String(Math.min(d, lastDay)).padStart(2, '0')}`;
}

export interface MonthSlice {
  /** YYYY-MM */
  month: string;
  from: string;
  to: string;
}

/** The calendar months a period touches, each cut to the period. */
export function monthSlices(from: string, to: string): MonthSlice[] {
  const slices: MonthSlice[] = [];
  let start = from;
  while (start <= to) {
    const month = start.slice(0, 7);
    const nextMonth = addMonthsToDate(`${month}-01`, 1);
    const end = addDaysToDate(nextMonth, -1);
    slices.push({ month, from: start, to: end < to ? end : to });
    start = nextMonth;
  }
  return slices;
}

/**
 * Day numbers: whole days since 1970-01-01, for London calendar dates. Facts store days this way
 * so the figures compare and bucket plain integers.
 */
export function londonDayNumber(instant: string): number {
  const ms = Date.parse(instant);
  const [start, end] = summerTimeOf(new Date(ms).getUTCFullYear());
  return Math.floor((ms >= start && ms < end ? ms + HOUR_MS : ms) / DAY_MS);
}

/** The day number of a calendar date (YYYY-MM-DD). */
export function dayNumber(date: string): number {
  return Math.floor(Date.parse(`${date}T00:00:00Z`) / DAY_MS);
}

/** The calendar date (YYYY-MM-DD) of a day number. */
export function dayString(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** The first day of the calendar month of `date`. */
function firstOfMonth(date: string): string {
  return `${date.slice(0, 7)}-01`;
}

/** The last day of the calendar month of `date`. */
export function lastOfMonth(date: string): string {
  return addDaysToDate(addMonthsToDate(firstOfMonth(date), 1), -1);
}

/** How many calendar months a period touches (2026-01-01 to 2026-03-31: 3). */
export function monthsTouched(from: string, to: string): number {
  const index = (date: string) => Number(date.slice(0, 4)) * 12 + Number(date.slice(5, 7));
  return index(to) - index(from) + 1;
}

/** The first day of the calendar quarter (January, April, July, October) of `date`. */
export function firstOfQuarter(date: string): string {
  const month = Number(date.slice(5, 7));
  return `${date.slice(0, 4)}-${String(month - ((month - 1) % 3)).padStart(2, '0')}-01`;
}

/** The last day of the calendar quarter of `date`. */
export function lastOfQuarter(date: string): string {
  return addDaysToDate(addMonthsToDate(firstOfQuarter(date), 3), -1);
}
