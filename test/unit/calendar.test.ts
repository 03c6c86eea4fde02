import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addCalendarDays, addDays, addMonths, daysBetween, londonDate, londonTime, retentionCutoff, retentionWords, reviewDates, weekendsOnly, workingDaysAfter, type WorkingDayCalendar } from '../../lib/domain/calendar.ts';

/** England and Wales bank holidays injected as the adapter would: here only the ones the tests cross. */
const withHolidays = (...dates: string[]): WorkingDayCalendar => {
  const holidays = new Set(dates);
  return { isWorkingDay: (date) => weekendsOnly.isWorkingDay(date) && !holidays.has(date) };
};
const CHRISTMAS_2026 = withHolidays('2026-12-25', '2026-12-28', '2027-01-01');

describe('workingDaysAfter', () => {
  it('counts working days from the London date and lands at 17:00 London (GMT in winter)', () => {
    expect(workingDaysAfter(weekendsOnly, '2026-03-02T10:00:00.000Z', 2)).toBe('2026-03-04T17:00:00.000Z'); // Mon → Wed
    expect(workingDaysAfter(weekendsOnly, '2026-03-02T10:00:00.000Z', 10)).toBe('2026-03-16T17:00:00.000Z'); // two weeks
  });

  it('skips the weekend: Friday evening + 1 working day is Monday', () => {
    expect(workingDaysAfter(weekendsOnly, '2026-03-06T20:00:00.000Z', 1)).toBe('2026-03-09T17:00:00.000Z');
    expect(workingDaysAfter(weekendsOnly, '2026-03-07T09:00:00.000Z', 1)).toBe('2026-03-09T17:00:00.000Z'); // from a Saturday
  });

  it('skips injected bank holidays: Thursday 24 Dec 2026 + 2 working days is Wednesday 30 Dec, 17:00 London = 17:00Z', () => {
    expect(workingDaysAfter(CHRISTMAS_2026, '2026-12-24T10:00:00.000Z', 2)).toBe('2026-12-30T17:00:00.000Z');
    // Without the holidays the same offer would be due on the Monday bank holiday.
    expect(workingDaysAfter(weekendsOnly, '2026-12-24T10:00:00.000Z', 2)).toBe('2026-12-28T17:00:00.000Z');
    // Christmas Eve is a Thursday in 2026; a Friday-before-Christmas offer crosses both holidays too.
    expect(workingDaysAfter(CHRISTMAS_2026, '2026-12-18T16:00:00.000Z', 5)).toBe('2026-12-29T17:00:00.000Z');
    // …and New Year's Day.
    expect(workingDaysAfter(CHRISTMAS_2026, '2026-12-31T09:00:00.000Z', 1)).toBe('2027-01-04T17:00:00.000Z');
  });

  it('lands at 17:00 London = 16:00Z in British Summer Time', () => {
    expect(workingDaysAfter(weekendsOnly, '2026-06-12T09:00:00.000Z', 2)).toBe('2026-06-16T16:00:00.000Z'); // Fri → Tue
    expect(workingDaysAfter(withHolidays('2026-08-31'), '2026-08-28T09:00:00.000Z', 1)).toBe('2026-09-01T16:00:00.000Z'); // summer bank holiday Monday
  });

  it('crosses the change to summer time (Sunday 29 March 2026) correctly', () => {
    expect(workingDaysAfter(weekendsOnly, '2026-03-27T10:00:00.000Z', 1)).toBe('2026-03-30T16:00:00.000Z');
    expect(workingDaysAfter(weekendsOnly, '2026-10-23T10:00:00.000Z', 1)).toBe('2026-10-26T17:00:00.000Z'); // back to GMT on 25 Oct
  });

  it('uses the London date, not the UTC date: 23:30Z on a summer Thursday is already Friday in London', () => {
    expect(workingDaysAfter(weekendsOnly, '2026-06-11T23:30:00.000Z', 1)).toBe('2026-06-15T16:00:00.000Z');
    expect(workingDaysAfter(weekendsOnly, '2026-06-11T22:30:00.000Z', 1)).toBe('2026-06-12T16:00:00.000Z');
  });

  it('always lands on a working day, after the start, with exactly n working days in between', () => {
    const cal = CHRISTMAS_2026;
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(2026, 0, 1), max: Date.UTC(2027, 11, 31) }), fc.integer({ min: 1, max: 25 }), (ms, n) => {
        const start = new Date(ms).toISOString();
        const due = workingDaysAfter(cal, start, n);
        const dueDate = londonDate(due);
        expect(cal.isWorkingDay(dueDate)).toBe(true);
        expect(due > start).toBe(true);
        expect(londonTime(dueDate, 17)).toBe(due);
        let count = 0;
        for (let d = addCalendarDays(londonDate(start), 1); d <= dueDate; d = addCalendarDays(d, 1)) if (cal.isWorkingDay(d)) count += 1;
        expect(count).toBe(n);
      }),
      { numRuns: 300, seed: 1 },
    );
  });
});

describe('londonDate and londonTime', () => {
  it('in BST, a UTC evening after 23:00 is the next day in London', () => {
    expect(londonDate('2026-06-12T22:59:59.000Z')).toBe('2026-06-12');
    expect(londonDate('2026-06-12T23:00:00.000Z')).toBe('2026-06-13');
    expect(londonDate('2026-06-12T23:30:00.000Z')).toBe('2026-06-13');
  });

  it('in GMT, London and UTC dates agree up to midnight', () => {
    expect(londonDate('2026-01-12T23:30:00.000Z')).toBe('2026-01-12');
    expect(londonDate('2026-01-13T00:00:00.000Z')).toBe('2026-01-13');
  });

  it('on the night the clocks go forward and back', () => {
    expect(londonDate('2026-03-28T23:30:00.000Z')).toBe('2026-03-28'); // still GMT
    expect(londonDate('2026-03-29T23:30:00.000Z')).toBe('2026-03-30'); // BST
    expect(londonDate('2026-10-24T23:30:00.000Z')).toBe('2026-10-25'); // BST until 01:00Z on the 25th
    expect(londonDate('2026-10-25T23:30:00.000Z')).toBe('2026-10-25'); // GMT again
  });

  it('londonTime gives the instant of a London wall-clock time', () => {
    expect(londonTime('2026-01-15', 9, 30)).toBe('2026-01-15T09:30:00.000Z');
    expect(londonTime('2026-07-15', 9, 30)).toBe('2026-07-15T08:30:00.000Z');
  });
});

describe('day arithmetic', () => {
  it('addCalendarDays crosses month and year ends', () => {
    expect(addCalendarDays('2026-02-28', 1)).toBe('2026-03-01');
    expect(addCalendarDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(addCalendarDays('2026-03-01', -1)).toBe('2026-02-28');
  });

  it('addDays adds whole 24-hour days to an instant; daysBetween rounds down', () => {
    expect(addDays('2026-03-02T10:00:00.000Z', 28)).toBe('2026-03-30T10:00:00.000Z');
    expect(addDays('2026-03-02T10:00:00.000Z', -3)).toBe('2026-02-27T10:00:00.000Z');
    expect(daysBetween('2026-03-02T10:00:00.000Z', '2026-03-30T09:59:59.000Z')).toBe(27);
    expect(daysBetween('2026-03-02T10:00:00.000Z', '2026-03-30T10:00:00.000Z')).toBe(28);
  });

  it('addMonths keeps the day and time of day', () => {
    expect(addMonths('2026-03-25T10:00:00.000Z', 6)).toBe('2026-09-25T10:00:00.000Z');
    expect(addMonths('2026-03-25T10:00:00.000Z', 12)).toBe('2027-03-25T10:00:00.000Z');
  });

  it('weekendsOnly: Saturday and Sunday are not working days', () => {
    expect(['2026-03-02', '2026-03-03', '2026-03-04', '2026-03-05', '2026-03-06', '2026-03-07', '2026-03-08'].map((d) => weekendsOnly.isWorkingDay(d))).toEqual([
      true,
      true,
      true,
      true,
      true,
      false,
      false,
    ]);
  });
});

describe('reviewDates', () => {
  it('a plan activated on 4 Dec 2026 has its first review on Monday 4 Jan 2027, not New Year\'s Day; the reminder on the working day before, both at 17:00', () => {
    // Activated at 01:17 in the morning: the time of day of the activation does not carry over.
    expect(reviewDates(CHRISTMAS_2026, '2026-12-04T01:17:00.000Z', 28, 3, 5)).toEqual({
      dueAt: '2027-01-04T17:00:00.000Z', // 1 Jan is a bank holiday, 2-3 Jan the weekend
      remindAt: '2026-12-31T17:00:00.000Z', // 3 days before is 1 Jan: the working day on or before it
      escalateAt: '2027-01-11T17:00:00.000Z', // 5 days after is Saturday 9 Jan: the next working day
    });
  });

  it('counts from the previous review\'s date the same way, and lands at 17:00 London in summer too (16:00Z)', () => {
    expect(reviewDates(weekendsOnly, '2026-06-01', 28, 3, 5)).toEqual({
      dueAt: '2026-06-29T16:00:00.000Z',
      remindAt: '2026-06-26T16:00:00.000Z',
      escalateAt: '2026-07-06T16:00:00.000Z', // 4 July is a Saturday
    });
    // Counted from the London date of an instant: 23:30Z on 1 June is 2 June in London.
    expect(reviewDates(weekendsOnly, '2026-06-01T23:30:00.000Z', 28, 3, 5)).toEqual(reviewDates(weekendsOnly, '2026-06-02', 28, 3, 5)); // 00:30 on 2 June in London
  });

  it('every review date is a working day at close of business, and never before the day it is counted from plus the cadence', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('2026-01-01T00:00:00Z'), max: new Date('2030-12-31T00:00:00Z'), noInvalidDate: true }), fc.integer({ min: 7, max: 91 }), (from, every) => {
        const calendar = withHolidays('2026-12-25', '2026-12-28', '2027-01-01', '2027-03-26', '2027-03-29', '2027-05-03', '2027-12-27', '2027-12-28');
        const dates = reviewDates(calendar, from.toISOString(), every, 3, 5);
        for (const at of Object.values(dates)) {
          expect(calendar.isWorkingDay(londonDate(at))).toBe(true);
          expect(at).toBe(londonTime(londonDate(at), 17));
        }
        expect(londonDate(dates.dueAt) >= addCalendarDays(londonDate(from.toISOString()), every)).toBe(true);
        expect(dates.remindAt <= dates.dueAt && dates.dueAt < dates.escalateAt).toBe(true);
      }),
    );
  });
});

describe('retentionCutoff', () => {
  it('six calendar years: a plan closed on 7 Jul 2027 is past retention from 7 Jul 2033 at the hour it closed, not 2,190 days on (5 Jul 2033)', () => {
    const closedAt = '2027-07-07T10:00:00.000Z';
    const six = { years: 6 } as const;
    expect(retentionCutoff('2033-07-05T12:00:00.000Z', six) > closedAt).toBe(false);
    expect(retentionCutoff('2033-07-07T09:59:00.000Z', six) > closedAt).toBe(false);
    expect(retentionCutoff('2033-07-07T10:01:00.000Z', six) > closedAt).toBe(true);
    expect(retentionWords(six)).toBe('6 years');
  });

  it('a plan closed on 29 Feb 2028 is kept until 1 Mar 2034, and a period in days is whole days', () => {
    const closedAt = '2028-02-29T12:00:00.000Z';
    expect(retentionCutoff('2034-02-28T23:00:00.000Z', { years: 6 }) > closedAt).toBe(false);
    expect(retentionCutoff('2034-03-01T12:30:00.000Z', { years: 6 }) > closedAt).toBe(true);
    expect(retentionCutoff('2026-03-31T00:00:00.000Z', { days: 30 })).toBe('2026-03-01T00:00:00.000Z');
    expect(retentionWords({ days: 1 })).toBe('1 day');
  });
});
