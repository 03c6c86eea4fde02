/** Default waits after each failed attempt: 7 attempts in all over about 6 h 18 min, then dead letter. */
export const DEFAULT_RETRY_SCHEDULE_MS: readonly number[] = [5_000, 30_000, 120_000, 600_000, 3_600_000, 21_600_000];

export type Jitter = 'full' | 'none';

/**
 * How long to wait after the `attempt`-th failed attempt (1-based), or undefined when the schedule
 * is used up and the delivery goes to the dead letter. Full jitter (a uniform wait between 0 and
 * the scheduled one) spreads the retries of many deliveries that failed together, so a receiver
 * coming back up is not hit by all of them at once.
 */
export function retryDelayMs(schedule: readonly number[], attempt: number, jitter: Jitter, random: () => number): number | undefined {
  const base = schedule[attempt - 1];
  if (base === undefined) return undefined;
  return jitter === 'full' ? Math.floor(random() * base) : base;
}

/** A schedule must be a list of non-negative whole milliseconds (empty: a single attempt). */
export function checkSchedule(schedule: readonly number[]): readonly number[] {
  for (const ms of schedule) if (!Number.isInteger(ms) || ms < 0) throw new RangeError(`webhook retry schedule: ${ms} is not a whole number of milliseconds >= 0`);
  return schedule;
}
