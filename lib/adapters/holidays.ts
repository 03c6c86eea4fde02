import Holidays from 'date-holidays';
import { weekendsOnly, type WorkingDayCalendar } from '../domain/calendar.ts';

/**
 * England and Wales working days: weekends and the bank holidays date-holidays maintains for
 * GB-ENG (the same list applies in Wales), substitute days included. Years are looked up once.
 */
export function englandAndWalesCalendar(): WorkingDayCalendar {
  const holidays = new Holidays('GB', 'ENG');
  const byYear = new Map<number, Set<string>>();
  const bankHolidays = (year: number) => {
    let set = byYear.get(year);
    if (!set) {
      set = new Set(holidays.getHolidays(year).filter((h) => h.type === 'public').map((h) => h.date.slice(0, 10)));
      byYear.set(year, set);
    }
    return set;
  };
  return {
    isWorkingDay(date: string) {
      return weekendsOnly.isWorkingDay(date) && !bankHolidays(Number(date.slice(0, 4))).has(date);
    },
  };
}
