import { englandAndWalesCalendar } from '../adapters/holidays.ts';
import { addCalendarDays, londonDate } from '../domain/calendar.ts';

/**
 * Simulation days: day 0 is the first morning of the run, one day per clock step. Coordinators and
 * providers work on England and Wales working days, like the deadlines they answer to.
 */
export class SimCalendar {
  readonly startDate: string;
  private readonly working = englandAndWalesCalendar();
  private readonly startMs: number;

  constructor(startDate: string) {
    this.startDate = startDate;
    this.startMs = Date.parse(`${startDate}T00:00:00Z`);
  }

  date(day: number): string {
    return addCalendarDays(this.startDate, day);
  }

  /** The simulation day of an instant (by its London date). */
  dayOf(instant: string): number {
    return Math.round((Date.parse(`${londonDate(instant)}T00:00:00Z`) - this.startMs) / 86_400_000);
  }

  isWorkingDay(day: number): boolean {
    return this.working.isWorkingDay(this.date(day));
  }

  onOrAfter(day: number): number {
    let d = day;
    while (!this.isWorkingDay(d)) d += 1;
    return d;
  }

  addWorkingDays(day: number, n: number): number {
    let d = this.onOrAfter(day);
    for (let left = n; left > 0; left -= 1) d = this.onOrAfter(d + 1);
    return d;
  }

  /** Working days after `from` up to and including `to`. */
  workingDaysBetween(from: number, to: number): number {
    let n = 0;
    for (let d = from + 1; d <= to; d += 1) if (this.isWorkingDay(d)) n += 1;
    return n;
  }
}
