/**
 * A rate worked out from rounded counts must not read all (100 %) or none (0 %) unless it exactly is:
 * 48 consents of 50 referrals round to 50 and 50, and "100 % consented" tells a commissioner every
 * woman referred consented. Such a rate reads 0.99 (or 0.01), is listed in boundedRates, and the CSV
 * names it in its last column.
 */
import { describe, expect, it } from 'vitest';
import { computeMetrics } from '../../lib/domain/metrics/compute.ts';
import { metricsCsv } from '../../lib/domain/metrics/csv.ts';
import type { Dimension } from '../../lib/domain/metrics/definitions.ts';
import type { PlanFacts } from '../../lib/domain/metrics/facts.ts';
import { MetricsReportSchema } from '../../lib/domain/metrics/report-schema.ts';
import { publishedRate } from '../../lib/domain/metrics/suppression.ts';
import { referralFacts } from '../support/metrics-reference.ts';

const referral = (consented: boolean, localAuthority: PlanFacts['localAuthority'] = 'birmingham'): PlanFacts => referralFacts({ consented, localAuthority });
const plans = (consented: number, of: number, localAuthority?: PlanFacts['localAuthority']) => Array.from({ length: of }, (_, i) => referral(i < consented, localAuthority));
const QUERY = { from: '2026-01-01', to: '2026-12-31' };
const run = (facts: PlanFacts[], roundCountsTo = 5, suppressionThreshold = 5, groupBy: Dimension[] = []) =>
  computeMetrics(facts, { ...QUERY, groupBy }, { suppressionThreshold, roundCountsTo, asOf: '2027-01-01T00:00:00.000Z' });

describe('a rate from rounded counts', () => {
  it('48 of 50 reads 0.99 and is listed as under all, not 1 (both counts show as 50)', () => {
    const report = run(plans(48, 50));
    expect(report.overall.referrals).toBe(50);
    expect(report.overall.consented).toBe(50);
    expect(report.overall.consentRate).toBe(0.99);
    expect(report.boundedRates).toEqual([{ dimension: 'overall', group: 'all', figure: 'consentRate', bound: 'below-all' }]);
    expect(MetricsReportSchema.safeParse(report).success).toBe(true);
  });

  it('50 of 50 reads 1: all, exactly so, and nothing is listed', () => {
    const report = run(plans(50, 50));
    expect(report.overall.consentRate).toBe(1);
    expect(report.boundedRates).toEqual([]);
  });

  it('a rate nowhere near all or none is the ratio of the rounded counts, as before', () => {
    const report = run(plans(31, 50));
    expect(report.overall.consentRate).toBe(0.6); // 30 of 50
    expect(report.boundedRates).toEqual([]);
  });

  it('says the same of 49, 51 or 52 of 50-52: what is shown never tells the exact counts apart', () => {
    // Every pair that shows as 50 of 50 with a difference reads the same: the answer says only "not all".
    const shown = [
      [48, 50],
      [49, 50],
      [50, 52],
      [48, 52],
    ].map(([c, n]) => run(plans(c as number, n as number)));
    for (const report of shown) {
      expect(report.overall.consentRate).toBe(0.99);
      expect([report.overall.referrals, report.overall.consented]).toEqual([50, 50]);
    }
  });

  it('never reads none while some have it: 1 of 400 with exact counts reads 0.01, listed as over none', () => {
    expect(publishedRate(1, 400, 1, 4)).toEqual({ value: 0.01, bound: 'above-none' });
    expect(publishedRate(0, 400, 1, 4)).toEqual({ value: 0 });
    // And with exact counts, 399 of 400 (0.9975) would read 100 % in whole percent: it reads 0.99.
    expect(publishedRate(399, 400, 1, 4)).toEqual({ value: 0.99, bound: 'below-all' });
    const report = run(plans(1, 400), 1, 1);
    expect(report.overall.consentRate).toBe(0.01);
    expect(report.boundedRates).toEqual([{ dimension: 'overall', group: 'all', figure: 'consentRate', bound: 'above-none' }]);
  });

  it('is listed per group of a breakdown, and the CSV names it in its last column for that row only', () => {
    const report = run([...plans(48, 50, 'sandwell'), ...plans(30, 50, 'dudley')], 5, 5, ['localAuthority']);
    expect(report.boundedRates).toEqual([{ dimension: 'localAuthority', group: 'sandwell', figure: 'consentRate', bound: 'below-all' }]);
    const rows = metricsCsv(report).trim().split('\r\n');
    expect(rows[0]?.split(',').at(-1)).toBe('boundedRates');
    const sandwell = rows.find((r) => r.includes(',localAuthority,sandwell,'));
    const dudley = rows.find((r) => r.includes(',localAuthority,dudley,'));
    expect(sandwell?.split(',').at(-1)).toBe('consentRate:below-all');
    expect(dudley?.split(',').at(-1)).toBe('');
    expect(rows[1]?.split(',').at(-1)).toBe(''); // overall: 78 of 100, rounded 80 of 100
    expect(report.breakdowns.localAuthority?.find((g) => g.group === 'sandwell')?.figures.consentRate).toBe(0.99);
  });
});
