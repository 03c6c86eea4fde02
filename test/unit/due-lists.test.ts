import { describe, expect, it } from 'vitest';
import { dueHorizon } from '../../lib/domain/worklist.ts';

describe('the due lists (lib/domain/worklist.ts), one definition for the API and the web app', () => {
  it('on a Sunday, "this-week" reaches the next Saturday night: offers running out on Tuesday are on it (it used to end that Sunday)', () => {
    const sunday = '2026-11-29T10:00:00.000Z';
    const horizon = dueHorizon(sunday, 'this-week');
    expect(horizon).toBe('2026-12-06T00:00:00.000Z'); // midnight London ending Saturday 5 December
    expect('2026-12-01T17:00:00.000Z' < horizon).toBe(true); // Tuesday's offer deadline
  });

  it('is the same seven days whatever the weekday: today and the six days after it, to midnight London', () => {
    expect(dueHorizon('2026-11-25T09:00:00.000Z', 'this-week')).toBe('2026-12-02T00:00:00.000Z'); // a Wednesday
    expect(dueHorizon('2026-11-30T23:30:00.000Z', 'this-week')).toBe('2026-12-07T00:00:00.000Z'); // Monday, late
    // In summer, midnight London is 23:00Z.
    expect(dueHorizon('2026-06-14T10:00:00.000Z', 'this-week')).toBe('2026-06-20T23:00:00.000Z');
    expect(dueHorizon('2026-11-29T10:00:00.000Z', 'today')).toBe('2026-11-30T00:00:00.000Z');
  });

  it('overdue reaches up to now: what fell due before now has passed, what falls due now is not overdue yet', () => {
    expect(dueHorizon('2026-11-29T10:00:00.000Z', 'overdue')).toBe('2026-11-29T09:59:59.999Z');
  });
});
