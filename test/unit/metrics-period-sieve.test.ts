/**
 * The sieve: a commissioner asking for the same period one day longer, day after day, learnt the day
 * a count moved under the rounding, and so one woman's reoffending (an auditor's finding on an 80-plan
 * simulated cohort). Periods are now whole calendar quarters, figures from complete quarters only.
 *
 * Seeded: the benchmark's pure-domain simulation of 80 plans over 15 months (seed 7), as the auditor's
 * `wraparound simulate --plans 80 --months 15 --seed 7`, asked through GET /metrics as it is served.
 */
import type { Context } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeHandler } from '../../functions/api-metrics/handler.ts';
import { computeMetrics } from '../../lib/domain/metrics/compute.ts';
import { addDaysToDate } from '../../lib/domain/metrics/dates.ts';
import type { Dimension } from '../../lib/domain/metrics/definitions.ts';
import type { FactTable } from '../../lib/domain/metrics/fact-table.ts';
import { CLAIMS, lambdaEvent } from '../support/lambda-event.ts';
import { computeAsk, dayUnits, everyPeriod, monthUnits, servedAsk, sieve, simulatedCohort } from '../support/period-sieve.ts';

const START = '2026-11-30';
let facts: FactTable;
let now: string;

beforeAll(() => {
  ({ facts, now } = simulatedCohort({ plans: 80, months: 15, seed: 7, start: START }));
});

/** GET /metrics as served, its answer without asOf (the same figures asked twice differ only in it), or its status when refused. */
async function served(handler: ReturnType<typeof makeHandler>, query: string): Promise<string> {
  const result = await handler(lambdaEvent({ routeKey: 'GET /metrics', rawPath: '/metrics', query, claims: CLAIMS.commissioner }), {} as Context);
  if (result.statusCode !== 200) return String(result.statusCode);
  const { asOf: _asOf, ...figures } = JSON.parse(result.body as string) as Record<string, unknown>;
  return JSON.stringify(figures);
}

const QUARTER_START = /-(01|04|07|10)-01$/;
const QUARTER_END = /-(03-31|06-30|09-30|12-31)$/;

/** The days on which an answer differs from the day before's. */
function changes(days: readonly string[], answers: readonly string[]): string[] {
  return days.filter((_, i) => i > 0 && answers[i] !== answers[i - 1]);
}

describe('the day-by-day sieve', () => {
  it('sees no change from one day to the next any more: every end day, every start day, overall and by need domain', async () => {
    const handler = makeHandler({ source: { snapshot: async () => ({ facts, providers: [], generation: 1 }) }, clock: () => now });
    const days = dayUnits(START, addDaysToDate(now.slice(0, 10), 60)).map((d) => d.from);
    for (const groupBy of ['', '&groupBy=needDomain']) {
      // The auditor's: one start, every end day (the start as the auditor sent it, and a quarter's first day).
      for (const from of [START, '2027-01-01']) {
        const answers: string[] = [];
        for (const to of days) answers.push(await served(handler, `from=${from}&to=${to}${groupBy}`));
        // Only a quarter's last day is answered (a refusal carries no figures), so the answers change only on
        // it and the day after: nothing is learnt of any day within a quarter.
        const answered = days.filter((_, i) => answers[i] !== '400');
        expect(answered.filter((day) => !QUARTER_END.test(day)), `from=${from}${groupBy}`).toEqual([]);
        expect(changes(days, answers).filter((day) => !QUARTER_END.test(day) && !QUARTER_START.test(day))).toEqual([]);
        // Some answers are given at all (the quarters), so this is not only a wall of refusals.
        if (from !== START) expect(answers.filter((a) => a !== '400').length).toBeGreaterThan(0);
      }
      // And the other way: every start day, one end.
      const answers: string[] = [];
      for (const from of days) answers.push(await served(handler, `from=${from}&to=2027-12-31${groupBy}`));
      expect(days.filter((day, i) => answers[i] !== '400' && !QUARTER_START.test(day)), `to=2027-12-31${groupBy}`).toEqual([]);
      expect(answers.filter((a) => a !== '400').length).toBeGreaterThan(0);
    }
  });

  it('worked on this cohort while any day could end a period: the control, so the test above can fail', () => {
    const days = dayUnits(START, now.slice(0, 10)).map((d) => d.from);
    const answers = days.map((to) => JSON.stringify(computeMetrics(facts, { from: START, to, groupBy: [] }, { suppressionThreshold: 5, roundCountsTo: 5, asOf: now }).overall));
    expect(changes(days, answers).filter((day) => !QUARTER_END.test(day) && !QUARTER_START.test(day)).length).toBeGreaterThan(10);
  });
});

describe('the sieve at the coarsest step left', () => {
  const groupBys: Dimension[][] = [[], ['needDomain'], ['localAuthority'], ['referralSource'], ['provider'], ['month']];

  it('pins no woman\'s reoffending or exit reason with every start month against every end month, as served (whole quarters only)', () => {
    const months = monthUnits(START, now.slice(0, 10));
    const result = sieve(facts, months, everyPeriod(months.length, 36), groupBys, servedAsk(facts, now));
    expect(result.pins).toEqual([]);
  });

  it('would pin some with any whole month as a start or end: why whole months were not enough', () => {
    const months = monthUnits(START, addDaysToDate(`${now.slice(0, 7)}-01`, -1));
    const result = sieve(facts, months, everyPeriod(months.length, 36), groupBys, computeAsk(facts, now));
    expect(result.pinned).toBeGreaterThan(0);
  });
});
