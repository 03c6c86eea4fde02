import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Holidays from 'date-holidays';
import { describe, expect, it } from 'vitest';
import { addCalendarDays, weekendsOnly, workingDaysAfter } from '../../lib/domain/calendar.ts';
import { englandAndWalesCalendar } from '../../lib/adapters/holidays.ts';
import { PROJECT_ROOT } from '../../lib/infra/functions.ts';
import { BANK_HOLIDAYS_FILE, FIRST_YEAR, LAST_YEAR, bankHolidaysFromLibrary, renderBankHolidays } from '../../scripts/render-holidays.ts';

// The bundles carry date-holidays' answers rather than date-holidays itself (see lib/adapters/holidays.ts).
describe('England and Wales bank holidays', () => {
  const calendar = englandAndWalesCalendar();

  it(`${BANK_HOLIDAYS_FILE} is what the installed date-holidays says now (run \`node scripts/render-holidays.ts\`)`, () => {
    expect(readFileSync(join(PROJECT_ROOT, BANK_HOLIDAYS_FILE), 'utf8')).toBe(renderBankHolidays());
  });

  it('agrees with date-holidays on every day it covers', () => {
    const library = new Holidays('GB', 'ENG');
    for (let year = FIRST_YEAR; year <= LAST_YEAR; year += 1) {
      const holidays = new Set(bankHolidaysFromLibrary(year, library));
      expect(holidays.size, `${year}`).toBeGreaterThanOrEqual(8);
      for (let date = `${year}-01-01`; date.startsWith(String(year)); date = addCalendarDays(date, 1)) {
        if (calendar.isWorkingDay(date) !== (weekendsOnly.isWorkingDay(date) && !holidays.has(date))) expect.fail(`${date} disagrees with date-holidays`);
      }
    }
  });

  it('knows substitute days and one-off bank holidays', () => {
    expect(calendar.isWorkingDay('2026-12-24')).toBe(true);
    expect(calendar.isWorkingDay('2026-12-25')).toBe(false);
    expect(calendar.isWorkingDay('2026-12-28')).toBe(false); // Boxing Day falls on a Saturday: substitute Monday
    expect(calendar.isWorkingDay('2027-12-27')).toBe(false); // Christmas on a Saturday: substitute Monday…
    expect(calendar.isWorkingDay('2027-12-28')).toBe(false); // …and Boxing Day's substitute Tuesday
    expect(calendar.isWorkingDay('2022-09-19')).toBe(false); // the Queen's funeral
    expect(calendar.isWorkingDay('2023-05-08')).toBe(false); // the coronation
    expect(calendar.isWorkingDay('2020-05-08')).toBe(false); // VE day, which moved the early May bank holiday…
    expect(calendar.isWorkingDay('2020-05-04')).toBe(true); // …off its first Monday
    expect(calendar.isWorkingDay('2026-03-07')).toBe(false); // a Saturday
    expect(workingDaysAfter(calendar, '2026-12-24T10:00:00.000Z', 2)).toBe('2026-12-30T17:00:00.000Z');
  });

  it('refuses a year it has no data for rather than treat its bank holidays as working days', () => {
    expect(() => calendar.isWorkingDay(`${LAST_YEAR + 1}-12-25`)).toThrow(/No England and Wales bank holidays for 2101/);
    expect(() => calendar.isWorkingDay(`${FIRST_YEAR - 1}-12-27`)).toThrow(RangeError);
  });
});
