import { weekendsOnly, type WorkingDayCalendar } from '../domain/calendar.ts';
import bankHolidays from './gb-holidays.json' with { type: 'json' };

/**
 * England and Wales working days: weekends and the bank holidays date-holidays maintains for
 * GB-ENG (the same list applies in Wales), substitute and one-off days included.
 *
 * The dates are date-holidays' own, taken at build time: scripts/render-holidays.ts writes
 * gb-holidays.json and a test fails when it differs from what the installed date-holidays says.
 * Importing the library here would put its rules engine, every country's data and the whole
 * time-zone database (~1.4 MB minified) into every Lambda bundle.
 */
export function englandAndWalesCalendar(): WorkingDayCalendar {
  const byYear = new Map<number, ReadonlySet<string>>(Object.entries(bankHolidays.dates).map(([year, dates]) => [Number(year), new Set(dates)]));
  return {
    isWorkingDay(date: string) {
      const year = Number(date.slice(0, 4));
      const holidays = byYear.get(year);
      // Never guess: a date past the table would silently count bank holidays as working days.
      if (!holidays) {
        throw new RangeError(
          `No England and Wales bank holidays for ${year}: lib/adapters/gb-holidays.json covers ${bankHolidays.firstYear}-${bankHolidays.lastYear} (widen it in scripts/render-holidays.ts)`,
        );
      }
      return weekendsOnly.isWorkingDay(date) && !holidays.has(date);
    },
  };
}
