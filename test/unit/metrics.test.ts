/**
 * Commissioner figures over metrics facts: what each figure counts, the breakdowns, small-number
 * suppression (primary and secondary: no suppressed cell can be worked back from a total), the CSV,
 * and the query checks.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { computeMetrics, median, percentile, type Figures, type MetricsReport } from '../../lib/domain/metrics/compute.ts';
import { metricsCsv, metricsCsvNotes } from '../../lib/domain/metrics/csv.ts';
import { COUNT_FIGURES, DIMENSIONS, FIGURE_KEYS, FIGURES, RELATIONS, SUPPRESSED, type CountKey, type Dimension, type FigureDefinition } from '../../lib/domain/metrics/definitions.ts';
import type { PlanFacts } from '../../lib/domain/metrics/facts.ts';
import { dayNumber as D } from '../../lib/domain/metrics/dates.ts';
import { DEFAULT_METRICS_CONFIG, resolveMetricsQuery } from '../../lib/domain/metrics/query.ts';
import { primarySuppress, roundCount, secondarySuppress, type Cell } from '../../lib/domain/metrics/suppression.ts';
import { LOCAL_AUTHORITIES, NEED_DOMAINS, REFERRAL_SOURCES } from '../../lib/domain/taxonomy.ts';
import { factsOfRows, randomPlanRows } from '../support/random-cohort.ts';
import { recoverableCells } from '../support/disclosure.ts';
import { referralFacts } from '../support/metrics-reference.ts';

const PROVIDERS = ['anawim', 'bcwa', 'changing-lives', 'green-square-accord'];

const fact = referralFacts;

/** Threshold 0 shows everything (the API's threshold is at least 1); counts exact unless `roundTo` says (the API's default is 5). */
const run = (facts: PlanFacts[], query: { from?: string; to?: string; groupBy?: Dimension[] } = {}, threshold = 0, roundTo = 1) =>
  computeMetrics(
    facts,
    { from: query.from ?? '2026-01-01', to: query.to ?? '2026-12-31', groupBy: query.groupBy ?? [] },
    { suppressionThreshold: threshold, roundCountsTo: roundTo, asOf: '2027-01-01T00:00:00.000Z', providers: PROVIDERS },
  );

const round4 = (n: number) => Math.round(n * 10_000) / 10_000;

const groupOf = (report: MetricsReport, dim: Dimension, group: string): Figures => {
  const found = report.breakdowns[dim]?.find((g) => g.group === group);
  if (!found) throw new Error(`no ${dim} group ${group}`);
  return found.figures;
};

/** A plan that went the whole way: referred 1 March, assessed 3rd, active 6th, exited 20 April. */
const whole = (overrides: Partial<PlanFacts> = {}) =>
  fact({
    referred: D('2026-03-01'),
    consented: true,
    assessed: D('2026-03-03'),
    daysReferralToAssessment: 2,
    activated: D('2026-03-06'),
    daysAssessmentToActive: 3,
    daysReferralToActive: 5,
    exited: D('2026-04-20'),
    exitReason: 'completed',
    needs: ['mental-health', 'accommodation'],
    providers: ['anawim'],
    offers: [
      { provider: 'anawim', day: D('2026-03-03'), needs: ['mental-health'], outcome: 'accepted', responseHours: 20 },
      { provider: 'changing-lives', day: D('2026-03-03'), needs: ['accommodation'], outcome: 'expired' },
    ],
    gaps: [{ domain: 'accommodation', reason: 'all-candidates-declined-or-expired', day: D('2026-03-06') }],
    reviews: [
      { day: D('2026-04-03'), late: false },
      { day: D('2026-04-18'), late: true },
    ],
    scoreChanges: [
      { domain: 'mental-health', day: D('2026-04-15'), change: 3 },
      { domain: 'accommodation', day: D('2026-04-15'), change: -1 },
    ],
    followUp6: 'no',
    followUp12: 'yes',
    ...overrides,
  });

describe('statistics', () => {
  it('median is the middle value (or the mean of the two middle ones); p90 is the nearest rank', () => {
    expect(median([1, 2, 3])).toBe(2);
    expect(median([1, 2, 3, 10])).toBe(2.5);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90)).toBe(9);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 90)).toBe(10);
    expect(percentile([7], 90)).toBe(7);
  });
});

describe('computeMetrics: what each figure counts (threshold 0, so nothing hides)', () => {
  it('counts each thing in the period by its own day', () => {
    const r = run([whole()], { from: '2026-03-01', to: '2026-04-30' });
    expect(r.overall).toMatchObject({
      referrals: 1,
      consented: 1,
      consentRate: 1,
      assessed: 1,
      daysReferralToAssessmentMedian: 2,
      activated: 1,
      daysAssessmentToActiveMedian: 3,
      daysReferralToActiveP90: 5,
      activeAtEnd: 0, // exited 20 April, before the end of the period
      exits: 1,
      exitsCompleted: 1,
      exitsDisengaged: 0,
      completionRate: 1,
      offers: 2,
      offersAccepted: 1,
      offersExpired: 1,
      offersResolved: 2,
      offersWithdrawnOrOpen: 0,
      acceptanceRate: 0.5,
      responseHoursMedian: 20,
      gaps: 1,
      gapsAllDeclinedOrExpired: 1,
      plansWithGap: 1,
      reviewsDue: 2,
      reviewsOnTime: 1,
      reviewsLate: 1,
      reviewOnTimeRate: 0.5,
      scoredPlans: 1,
      scoreChangeMean: 1,
      followUps6: 1,
      reoffended6: 0,
      reoffendingRate6: 0,
      followUps12: 1,
      reoffended12: 1,
      reoffendingRate12: 1,
    });
    // A period that ends before the exit: active at its end, no exit, no follow-ups.
    expect(run([whole()], { from: '2026-03-01', to: '2026-03-31' }).overall).toMatchObject({ activeAtEnd: 1, exits: 0, followUps6: 0, reviewsDue: 0, scoredPlans: 0 });
    // A period after the exit: nothing at all.
    expect(run([whole()], { from: '2026-05-02', to: '2026-12-31' }).overall).toMatchObject({ referrals: 0, activeAtEnd: 0, exits: 0, reviewsDue: 0 });
    // The late review counts on its own day.
    expect(run([whole()], { from: '2026-04-10', to: '2026-04-30' }).overall).toMatchObject({ reviewsDue: 1, reviewsLate: 1, reviewOnTimeRate: 0 });
  });

  it('works out medians, 90th percentiles, rates and means over the plans in the period', () => {
    const facts = Array.from({ length: 10 }, (_, i) => whole({ daysReferralToAssessment: i + 1.04, consented: i % 4 !== 0, exitReason: i < 3 ? 'completed' : 'custody' }));
    const o = run(facts).overall;
    expect(o.daysReferralToAssessmentMedian).toBe(5.5); // (5.04 + 6.04) / 2, to one decimal
    expect(o.daysReferralToAssessmentP90).toBe(9); // 9.04
    expect(o.consented).toBe(7);
    expect(o.consentRate).toBe(0.7);
    expect(o.exitsCompleted).toBe(3);
    expect(o.exitsCustody).toBe(7);
    expect(o.completionRate).toBe(0.3);
    expect(o.scoreChangeMean).toBe(1); // (3 - 1) / 2 per plan
    const third = run([...facts.slice(0, 3), ...facts.slice(0, 3), ...facts.slice(0, 3)]).overall;
    expect(third.completionRate).toBe(1);
    expect(run(facts.slice(0, 3).map((f) => ({ ...f, consented: false })).concat(facts.slice(3, 4))).overall.consentRate).toBe(0.25);
  });

  it('groups: plans by their local authority, source and need cohorts; offers by their own provider and needs; gaps and score changes by their own domain', () => {
    const a = whole({ localAuthority: 'sandwell', source: 'court' });
    const b = whole({ referred: D('2026-06-01'), assessed: undefined, activated: undefined, exited: undefined, needs: ['substance-misuse'], providers: ['changing-lives', 'anawim'], offers: [], gaps: [], reviews: [], scoreChanges: [] });
    const r = run([a, b], { groupBy: ['localAuthority', 'referralSource', 'needDomain', 'provider', 'month'] });
    expect(groupOf(r, 'localAuthority', 'sandwell').referrals).toBe(1);
    expect(groupOf(r, 'localAuthority', 'birmingham').referrals).toBe(1);
    expect(groupOf(r, 'referralSource', 'court').exits).toBe(1);
    // Need cohorts: a plan is in each domain it has had.
    expect(groupOf(r, 'needDomain', 'mental-health')).toMatchObject({ referrals: 1, exits: 1, followUps12: 1, reoffended12: 1, offers: 1, offersAccepted: 1, gaps: 0, scoreChangeMean: 3 });
    expect(groupOf(r, 'needDomain', 'accommodation')).toMatchObject({ referrals: 1, offers: 1, offersExpired: 1, gaps: 1, scoreChangeMean: -1 });
    expect(groupOf(r, 'needDomain', 'substance-misuse')).toMatchObject({ referrals: 1, offers: 0 });
    // Providers: offers by the provider they went to; other figures by the providers that accepted.
    expect(groupOf(r, 'provider', 'changing-lives')).toMatchObject({ offers: 1, offersExpired: 1, offersAccepted: 0, referrals: 1, exits: 0 });
    expect(groupOf(r, 'provider', 'anawim')).toMatchObject({ offers: 1, offersAccepted: 1, referrals: 2, exits: 1 });
    expect(groupOf(r, 'provider', 'bcwa')).toMatchObject({ referrals: 0, offers: 0 });
    // Months: each month worked out as a period of its own.
    expect(r.breakdowns.month?.map((g) => g.group)).toEqual(['2026-01', '2026-02', '2026-03', '2026-04', '2026-05', '2026-06', '2026-07', '2026-08', '2026-09', '2026-10', '2026-11', '2026-12']);
    expect(groupOf(r, 'month', '2026-03')).toMatchObject({ referrals: 1, assessed: 1, activated: 1, activeAtEnd: 1, offers: 2, gaps: 1, exits: 0 });
    expect(groupOf(r, 'month', '2026-04')).toMatchObject({ referrals: 0, activeAtEnd: 0, exits: 1, reviewsDue: 2, reviewsLate: 1, scoredPlans: 1 });
    expect(groupOf(r, 'month', '2026-06')).toMatchObject({ referrals: 1, activeAtEnd: 0 });
    // Every group of every dimension is listed, even empty ones, in a stable order.
    expect(r.breakdowns.localAuthority?.map((g) => g.group)).toEqual([...LOCAL_AUTHORITIES]);
    expect(r.breakdowns.referralSource?.map((g) => g.group)).toEqual([...REFERRAL_SOURCES]);
    expect(r.breakdowns.needDomain?.map((g) => g.group)).toEqual([...NEED_DOMAINS]);
    expect(r.breakdowns.provider?.map((g) => g.group)).toEqual(PROVIDERS);
  });

  it('defines every figure and every breakdown asked for', () => {
    const r = run([whole()], { groupBy: ['needDomain'] });
    expect(Object.keys(r.definitions.figures)).toEqual(FIGURE_KEYS);
    for (const key of FIGURE_KEYS) expect(r.definitions.figures[key].definition.length, key).toBeGreaterThan(20);
    expect(Object.keys(r.definitions.dimensions)).toEqual(['needDomain']);
    expect(Object.keys(r.overall)).toEqual(FIGURE_KEYS);
  });
});

describe('suppression', () => {
  it('hides counts below the threshold, zero included, and statistics on fewer plans', () => {
    const four = Array.from({ length: 4 }, () => whole());
    const o4 = run(four, {}, 5).overall;
    expect(o4.referrals).toBe(SUPPRESSED);
    expect(o4.consentRate).toBe(SUPPRESSED);
    expect(o4.daysReferralToAssessmentMedian).toBe(SUPPRESSED);
    expect(o4.scoreChangeMean).toBe(SUPPRESSED);
    const o5 = run([...four, whole()], {}, 5).overall;
    expect(o5).toMatchObject({ referrals: 5, consented: 5, consentRate: 1, daysReferralToAssessmentMedian: 2, scoreChangeMean: 1, exitsDisengaged: SUPPRESSED });
    // A configurable threshold.
    expect(run(four, {}, 3).overall.referrals).toBe(4);
  });

  it('hides a rate whose numerator is hidden, even on a large denominator', () => {
    const facts = Array.from({ length: 20 }, (_, i) => whole({ consented: i < 3 }));
    const o = run(facts, {}, 5).overall;
    expect(o.referrals).toBe(20);
    expect(o.consented).toBe(SUPPRESSED);
    expect(o.consentRate).toBe(SUPPRESSED);
  });

  it('secondary: one hidden part takes the next smallest with it, so the total does not give it away', () => {
    // 12 exits: 8 completed, 3 custody, 1 disengaged; zeros for the rest.
    const facts = [...Array.from({ length: 8 }, () => whole()), ...Array.from({ length: 3 }, () => whole({ exitReason: 'custody' })), whole({ exitReason: 'disengaged' })];
    const o = run(facts, {}, 2).overall;
    // Threshold 2: zeros and the single disengaged exit are hidden (several cells); they add up to 1, under
    // the threshold (12 - 8 - 3 would say so), so custody (3), the smallest shown, goes with them.
    expect(o).toMatchObject({ exits: 12, exitsCompleted: 8, exitsCustody: SUPPRESSED, exitsDisengaged: SUPPRESSED, exitsOther: SUPPRESSED });
    // Exactly one hidden cell in a line: total 10, parts 6, 3, 1 -> the 1 and then the 3 are hidden.
    const cells: Cell[] = [10, 6, 3, 1].map((value) => ({ value, suppressed: false }));
    const [total, a, b, c] = cells as [Cell, Cell, Cell, Cell];
    primarySuppress([total, a, b, c], 2);
    expect(cells.map((x) => x.suppressed)).toEqual([false, false, false, true]);
    expect(secondarySuppress([{ total, parts: [a, b, c] }], 2)).toBe(1);
    expect(cells.map((x) => x.suppressed)).toEqual([false, false, true, true]);
    // A hidden total whose parts are all shown: a part goes too.
    const t2: Cell = { value: 9, suppressed: true };
    const parts2: Cell[] = [{ value: 5, suppressed: false }, { value: 4, suppressed: false }];
    secondarySuppress([{ total: t2, parts: parts2 }], 2);
    expect(parts2.map((x) => x.suppressed)).toEqual([false, true]);
    // A single part equal to its total goes with it.
    const t3: Cell = { value: 7, suppressed: false };
    const only: Cell = { value: 7, suppressed: true };
    secondarySuppress([{ total: t3, parts: [only] }], 2);
    expect(t3.suppressed).toBe(true);
    // Chains: hiding in one line can leave another with one hidden cell, which is then fixed too.
    const shared: Cell = { value: 3, suppressed: false };
    const l1 = { total: { value: 20, suppressed: false }, parts: [{ value: 1, suppressed: true }, shared, { value: 16, suppressed: false }] };
    const l2 = { total: { value: 30, suppressed: false }, parts: [shared, { value: 10, suppressed: false }, { value: 17, suppressed: false }] };
    secondarySuppress([l1, l2], 2);
    expect(shared.suppressed).toBe(true);
    expect(l2.parts[1]?.suppressed).toBe(true);
  });

  it('secondary: hidden parts of a shown total add up to at least the threshold, so none is pinned', () => {
    // Six exits, five completed: the five other reasons (one disengaged, zeros) are hidden but add up to
    // 6 - 5 = 1, which says four of them are 0 and leaves one 1 among five: completed goes too.
    const six = [...Array.from({ length: 5 }, () => whole()), whole({ exitReason: 'disengaged' })];
    expect(run(six, {}, 5).overall).toMatchObject({ exits: 6, exitsCompleted: SUPPRESSED, exitsDisengaged: SUPPRESSED, completionRate: SUPPRESSED });
    // Every offer accepted: 'Offers 6, accepted 6' would say declines, expiries and withdrawals are all 0,
    // even with Offers resolved hidden between them (the line offers = accepted + declined + expired + withdrawn).
    const accepted = Array.from({ length: 6 }, () => whole({ offers: [{ provider: 'bcwa', day: D('2026-03-02'), needs: ['mental-health'], outcome: 'accepted', responseHours: 3 }] }));
    expect(run(accepted, {}, 5).overall).toMatchObject({ offers: 6, offersAccepted: SUPPRESSED, offersDeclined: SUPPRESSED, offersResolved: SUPPRESSED, acceptanceRate: SUPPRESSED });
    // Cells: total 20 = 14 + 4 + 1 + 1, threshold 5: the hidden 4, 1, 1 add up to 6, enough; 14 stays.
    const cells: Cell[] = [20, 14, 4, 1, 1].map((value) => ({ value, suppressed: false }));
    primarySuppress(cells, 5);
    const [total, ...parts] = cells as [Cell, ...Cell[]];
    expect(secondarySuppress([{ total, parts }], 5)).toBe(0);
    // Total 20 = 16 + 2 + 1 + 1: the hidden add up to 4, so 16 goes too (a hidden total is left to its other lines).
    const small: Cell[] = [20, 16, 2, 1, 1].map((value) => ({ value, suppressed: false }));
    primarySuppress(small, 5);
    const [t, ...p] = small as [Cell, ...Cell[]];
    expect(secondarySuppress([{ total: t, parts: p }], 5)).toBe(1);
    expect(small.map((c) => c.suppressed)).toEqual([false, true, true, true, true]);
  });

  it('secondary across a breakdown: one small local authority cannot be read off the overall total', () => {
    const facts = [...Array.from({ length: 9 }, () => whole({ localAuthority: 'birmingham' })), ...Array.from({ length: 7 }, () => whole({ localAuthority: 'sandwell' })), ...Array.from({ length: 2 }, () => whole({ localAuthority: 'walsall' }))];
    const r = run(facts, { groupBy: ['localAuthority'] }, 5);
    expect(r.overall.referrals).toBe(18);
    expect(groupOf(r, 'localAuthority', 'walsall').referrals).toBe(SUPPRESSED);
    // Coventry and the others are zeros (hidden already), so the 2 is one of several hidden cells; but
    // 18 - 9 - 7 = 2 would still give walsall's away if zeros were known: hidden zeros hide it.
    expect(groupOf(r, 'localAuthority', 'birmingham').referrals).toBe(9);
    // Zeros count as small numbers too: with them hidden, the 2 is one of several hidden cells.
    expect(groupOf(r, 'localAuthority', 'coventry').referrals).toBe(SUPPRESSED);
  });

  it('secondary across a breakdown of two groups: the next smallest group goes too', () => {
    // A two-month period: March has 9 referrals, April 3. Hiding April alone would be undone by 12 - 9.
    const facts = [...Array.from({ length: 9 }, () => whole({ referred: D('2026-03-10') })), ...Array.from({ length: 3 }, () => whole({ referred: D('2026-04-10') }))];
    const r = run(facts, { from: '2026-03-01', to: '2026-04-30', groupBy: ['month'] }, 5);
    expect(r.overall.referrals).toBe(12);
    expect(groupOf(r, 'month', '2026-04').referrals).toBe(SUPPRESSED);
    expect(groupOf(r, 'month', '2026-03').referrals).toBe(SUPPRESSED);
  });

  /** Random cohorts (test/support/random-cohort.ts): no published set of cells lets a hidden count be worked back. */
  it('property: every published line has none or at least two hidden cells adding up to at least the threshold, no hidden count can be worked back from the lines and rates together, and shown counts add up', () => {
    fc.assert(
      fc.property(randomPlanRows, fc.integer({ min: 2, max: 6 }), (rows, threshold) => {
        const facts = factsOfRows(rows);
        const report = run(facts, { from: '2026-01-01', to: '2026-06-30', groupBy: [...DIMENSIONS] }, threshold);
        const raw = run(facts, { from: '2026-01-01', to: '2026-06-30', groupBy: [...DIMENSIONS] }, 0);
        // The same with shown counts rounded to 5: the same cells hidden (suppression decides on exact
        // counts), each shown count its true value rounded, each shown rate its rounded counts' ratio,
        // every other figure as without rounding.
        const roundedReport = run(facts, { from: '2026-01-01', to: '2026-06-30', groupBy: [...DIMENSIONS] }, threshold, 5);
        const figuresIn = (r: MetricsReport) => [r.overall, ...DIMENSIONS.flatMap((d) => (r.breakdowns[d] ?? []).map((g) => g.figures))];
        figuresIn(roundedReport).forEach((rounded, i) => {
          const exact = figuresIn(report)[i] as Figures;
          for (const key of FIGURE_KEYS) {
            const def: FigureDefinition = FIGURES[key];
            if (def.kind === 'count' && exact[key] !== SUPPRESSED) expect(rounded[key]).toBe(roundCount(exact[key] as number, 5));
            else if (def.kind === 'rate' && exact[key] !== SUPPRESSED) {
              // The ratio of the rounded counts, but all (1) only when the exact counts are equal (then 0.99).
              const ratio = round4((rounded[def.numerator] as number) / (rounded[def.denominator] as number));
              expect(rounded[key]).toBe(ratio > 0.99 && (exact[def.numerator] as number) < (exact[def.denominator] as number) ? 0.99 : ratio);
            }
            else expect(rounded[key]).toBe(exact[key]);
          }
        });
        // Nor can any sums and differences of the published lines, with the shown rates, work one back
        // (zeros pinned by several lines at once are a limit of the line-by-line rule: see disclosure.ts).
        expect(recoverableCells(report).filter((r) => r.how === 'by sums')).toEqual([]);
        const groups: [string, Figures, Figures][] = [['overall', report.overall, raw.overall]];
        for (const dim of DIMENSIONS) (report.breakdowns[dim] ?? []).forEach((g, i) => groups.push([`${dim}:${g.group}`, g.figures, (raw.breakdowns[dim] ?? [])[i]?.figures as Figures]));
        const hidden = (f: Figures, k: CountKey) => f[k] === SUPPRESSED;
        for (const [name, shown, truth] of groups) {
          for (const key of FIGURE_KEYS) {
            const def = FIGURES[key];
            // Shown values are the true values; counts below the threshold never show.
            if (shown[key] !== SUPPRESSED) expect(shown[key], `${name} ${key}`).toBe(truth[key]);
            if (def.kind === 'count' && (truth[key] as number) < threshold) expect(shown[key], `${name} ${key}`).toBe(SUPPRESSED);
            if (def.kind === 'rate' && shown[key] !== SUPPRESSED) {
              expect(hidden(shown, def.numerator) || hidden(shown, def.denominator), `${name} ${key}`).toBe(false);
            }
          }
          for (const rel of RELATIONS) {
            const cells = [rel.total, ...rel.parts];
            const n = cells.filter((k) => hidden(shown, k)).length;
            expect(n, `${name} ${rel.total}`).not.toBe(1);
            if (n === 0) expect(rel.parts.reduce((s, k) => s + (shown[k] as number), 0)).toBe(shown[rel.total]);
            // A shown total minus its shown parts is what the hidden ones add up to: never a small number.
            if (n > 0 && !hidden(shown, rel.total)) expect(rel.parts.filter((k) => hidden(shown, k)).reduce((s, k) => s + (truth[k] as number), 0), `${name} ${rel.total}`).toBeGreaterThanOrEqual(threshold);
          }
        }
        for (const dim of DIMENSIONS) {
          for (const [key, def] of Object.entries(COUNT_FIGURES) as [CountKey, (typeof COUNT_FIGURES)[CountKey]][]) {
            if (!(def.additiveOver as readonly string[]).includes(dim)) continue;
            const parts = (report.breakdowns[dim] ?? []).map((g) => g.figures[key]);
            const truthParts = (raw.breakdowns[dim] ?? []).map((g) => g.figures[key] as number);
            // The groups really do add up to the overall figure...
            expect(truthParts.reduce((a, b) => a + b, 0), `${dim} ${key}`).toBe(raw.overall[key]);
            // ...so no single hidden cell may be left in the line.
            const n = [report.overall[key], ...parts].filter((v) => v === SUPPRESSED).length;
            expect(n, `${dim} ${key}`).not.toBe(1);
            if (n > 0 && report.overall[key] !== SUPPRESSED) expect(truthParts.filter((_, i) => parts[i] === SUPPRESSED).reduce((a, b) => a + b, 0), `${dim} ${key}`).toBeGreaterThanOrEqual(threshold);
          }
        }
      }),
      { numRuns: 60 },
    );
  });
});

describe('rounding of shown counts (differencing two answers must not pin a hidden count)', () => {
  it('rounds to the nearest multiple, halves up, the same count always to the same value, never a shown count to 0', () => {
    expect([5, 6, 7, 8, 9, 10, 12, 13, 44].map((n) => roundCount(n, 5))).toEqual([5, 5, 5, 10, 10, 10, 10, 15, 45]);
    expect([14, 15, 16].map((n) => roundCount(n, 10))).toEqual([10, 20, 20]);
    expect([1, 2, 3].map((n) => roundCount(n, 5))).toEqual([5, 5, 5]); // only with a threshold under 3: a 0 would read as none
    expect([0, 1, 7, 44].map((n) => roundCount(n, 1))).toEqual([0, 1, 7, 44]);
    expect(DEFAULT_METRICS_CONFIG.roundCountsTo).toBe(5);
    // Deterministic: the same facts give the same published figures, query after query.
    const facts = Array.from({ length: 23 }, (_, i) => whole({ consented: i < 13 }));
    expect(run(facts, {}, 5, 5)).toEqual(run(facts, {}, 5, 5));
  });

  it('the mean score change does not give back the exact count of scored plans its rounded count hides', () => {
    // One domain each, so the mean is over exactly the plans counted in Scored plans: 7 plans, 3 of +1
    // and 4 of 0. Scored plans reads 5 (5, 6 or 7 plans); to two decimals the mean read 0.43, which only
    // 3/7 gives of those, so the exact 7 was back (and with it differencing two answers again).
    const facts = Array.from({ length: 7 }, (_, i) => whole({ scoreChanges: [{ domain: 'mental-health', day: D('2026-04-15'), change: i < 3 ? 1 : 0 }] }));
    const o = run(facts, {}, 5, 5).overall;
    expect(o.scoredPlans).toBe(5);
    const mean = o.scoreChangeMean as number;
    const decimals = String(mean).split('.')[1]?.length ?? 0;
    const gives = (n: number) => Array.from({ length: 18 * n + 1 }, (_, k) => k - 9 * n).some((sum) => Math.round((sum / n) * 10 ** decimals) / 10 ** decimals === mean);
    const counts = [5, 6, 7].filter(gives);
    expect(counts).toContain(7);
    expect(counts.length).toBeGreaterThan(1);
  });

  it('rounds after suppression, which decides on the exact counts; rates come from the rounded counts, medians and means from the exact values', () => {
    // 23 plans, 13 consented: counts read 25 and 15, and the rate is 15/25, not 13/23 (which with the two
    // rounded counts would give 13 and 23 back).
    const facts = Array.from({ length: 23 }, (_, i) => whole({ consented: i < 13 }));
    const r = run(facts, {}, 5, 5);
    expect(r.overall).toMatchObject({ referrals: 25, consented: 15, consentRate: 0.6, exits: 25, daysReferralToAssessmentMedian: 2, scoreChangeMean: 1 });
    expect(run(facts, {}, 5, 1).overall.consentRate).toBe(round4(13 / 23));
    // Four plans: 4 would round to 5, but suppression saw the 4 first.
    expect(run(facts.slice(0, 4), {}, 5, 5).overall.referrals).toBe(SUPPRESSED);
    // Secondary suppression on the exact counts: 6 exits, 5 completed, 1 disengaged. Rounded, '5 and 5' would
    // not pin anything, but the decision is the same as without rounding.
    const six = [...Array.from({ length: 5 }, () => whole()), whole({ exitReason: 'disengaged' })];
    expect(run(six, {}, 5, 5).overall).toMatchObject({ exits: 5, exitsCompleted: SUPPRESSED, exitsDisengaged: SUPPRESSED, completionRate: SUPPRESSED });
    // Said with the figures: the setting, the rule, and each figure's definition.
    expect(r.suppression.roundCountsTo).toBe(5);
    expect(r.suppression.rules.join(' ')).toMatch(/rounded to the nearest multiple of roundCountsTo/);
    expect(r.definitions.figures.referrals.definition).toMatch(/Shown rounded to the nearest 5\.$/);
    // Said plainly: the rate of the rounded counts, not the true rate rounded, and how far off it can be.
    expect(r.definitions.figures.consentRate.definition).toContain('each rounded to the nearest 5, not from the exact counts');
    expect(r.definitions.figures.consentRate.definition).toContain('shown as 10 of 30 (33 %), the true rate may be anything from 8 of 32 (25 %) to 12 of 28 (43 %)');
    expect(run(facts, {}, 5, 1).definitions.figures.referrals.definition).toBe(FIGURES.referrals.definition);
    // The CSV carries the same rounded counts.
    expect(metricsCsv(r).split('\r\n')[1]).toMatch(/^2026-01-01,2026-12-31,overall,all,25,15,0\.6,/);
  });

  it('differencing: January-February minus February gives January\'s hidden count exactly with exact counts, and pins nothing with the default rounding', () => {
    // Referrals: x in January (below the threshold, so hidden when January is asked for), y in February.
    const cohort = (x: number, y: number) => [
      ...Array.from({ length: x }, () => fact({ referred: D('2026-01-10') })),
      ...Array.from({ length: y }, () => fact({ referred: D('2026-02-10') })),
    ];
    const threshold = 5;
    const published = (facts: PlanFacts[], from: string, to: string, roundTo: number) => run(facts, { from, to }, threshold, roundTo).overall.referrals;
    // Every true value of x a commissioner holding both published figures cannot rule out: some x' (0..4)
    // and y' (at least the threshold, since February shows) that give the same two published counts.
    const consistent = (janToFeb: number, feb: number, roundTo: number) =>
      [0, 1, 2, 3, 4].filter((x2) => Array.from({ length: 40 }, (_, i) => i + threshold).some((y2) => roundCount(y2, roundTo) === feb && roundCount(x2 + y2, roundTo) === janToFeb));
    for (let x = 0; x < threshold; x += 1) {
      for (let y = threshold; y < threshold + 10; y += 1) {
        const facts = cohort(x, y);
        expect(published(facts, '2026-01-01', '2026-01-31', 5)).toBe(SUPPRESSED);
        // Exact counts: the difference is January's hidden count, the only value consistent with both.
        const exactBoth = published(facts, '2026-01-01', '2026-02-28', 1) as number;
        const exactFeb = published(facts, '2026-02-01', '2026-02-28', 1) as number;
        expect(exactBoth - exactFeb).toBe(x);
        expect(consistent(exactBoth, exactFeb, 1)).toEqual([x]);
        // Rounded to 5 (the default): the true x is among at least three of the five values 0-4 the two
        // published counts allow (three only when February is near the threshold, which rules out more), so the difference pins nothing.
        const both = published(facts, '2026-01-01', '2026-02-28', 5) as number;
        const feb = published(facts, '2026-02-01', '2026-02-28', 5) as number;
        const left = consistent(both, feb, 5);
        expect(left, `x=${x} y=${y}: ${both} - ${feb}`).toContain(x);
        expect(left.length, `x=${x} y=${y}`).toBeGreaterThanOrEqual(3);
      }
    }
  });
});

describe('CSV', () => {
  it('has the same figures as the JSON, suppressed cells marked the same way', () => {
    const facts = Array.from({ length: 7 }, (_, i) => whole({ localAuthority: i < 5 ? 'birmingham' : 'dudley' }));
    const report = run(facts, { groupBy: ['localAuthority', 'month'] }, 5);
    const lines = metricsCsv(report).trimEnd().split('\r\n').filter((line) => !line.startsWith('#'));
    expect(lines[0]).toBe(['from', 'to', 'dimension', 'group', ...FIGURE_KEYS, 'boundedRates'].join(','));
    expect(lines).toHaveLength(1 + 1 + LOCAL_AUTHORITIES.length + 12);
    const rows = lines.slice(1).map((l) => l.split(','));
    const expected = [
      ['overall', 'all', report.overall] as const,
      ...(report.breakdowns.localAuthority ?? []).map((g) => ['localAuthority', g.group, g.figures] as const),
      ...(report.breakdowns.month ?? []).map((g) => ['month', g.group, g.figures] as const),
    ];
    rows.forEach((row, i) => {
      const [dim, group, figures] = expected[i] as (typeof expected)[number];
      expect(row.slice(0, 4)).toEqual(['2026-01-01', '2026-12-31', dim, group]);
      expect(row.slice(4)).toEqual([...FIGURE_KEYS.map((k) => String(figures[k])), '']);
    });
    expect(lines.join('\n')).toContain(SUPPRESSED);
  });

  it('of complete figures is the header row, then the rows, then the notes, each ended by CRLF, and nothing else', () => {
    const report = run([whole(), whole()], { groupBy: [] });
    const overall = ['2026-01-01', '2026-12-31', 'overall', 'all', ...FIGURE_KEYS.map((k) => String(report.overall[k])), ''].join(',');
    const notes = metricsCsvNotes(report);
    expect(metricsCsv(report)).toBe(`${['from', 'to', 'dimension', 'group', ...FIGURE_KEYS, 'boundedRates'].join(',')}\r\n${overall}\r\n${notes.map((n) => `${n}\r\n`).join('')}`);
  });

  it('ends with notes a forwarded file needs, each one field a program can skip as a comment', () => {
    const report = run([whole(), whole()], { groupBy: [] }, 5, 5);
    const notes = metricsCsvNotes({ ...report, period: { ...report.period, requestedTo: '2027-03-31' } });
    for (const note of notes) {
      expect(note).toMatch(/^# /);
      // One field: no comma, quote or line break, so a program that reads it as a row still reads one cell.
      expect(note).not.toMatch(/[",\r\n]/);
    }
    const text = notes.join(' ');
    expect(text).toContain('Counts are rounded to the nearest 5 after suppression');
    expect(text).toContain('a count below 5 (zero included) reads suppressed');
    expect(text).toContain('Rates are worked out from the rounded counts as shown (not the true rate rounded)');
    expect(text).toContain('10 of 30 shown reads 33 % and the truth may be anything from 8 of 32 (25 %) to 12 of 28 (43 %)');
    expect(text).toContain('boundedRates (last column)');
    expect(text).toContain('asked up to 2027-03-31 and answered up to 2026-12-31');
    expect(metricsCsvNotes(run([whole()], { groupBy: [] }, 5, 1)).join(' ')).toContain('Counts are exact (not rounded).');
  });

  it('of figures that leave plans out begins with one line saying so, with the reason and the plans not yet counted, before the same file', () => {
    const report = run([whole(), whole({ localAuthority: 'dudley' })], { groupBy: ['localAuthority'] });
    const complete = metricsCsv(report);
    const reason = 'The facts of some plans have not been rebuilt yet, so those plans are left out.';
    // One field, quoted because the reason has a comma: a spreadsheet shows it whole in cell A1.
    expect(metricsCsv({ ...report, incomplete: { reason, staleFacts: 12 } })).toBe(`"These figures are incomplete. ${reason} Plans not yet counted: 12."\r\n${complete}`);
    // No count of plans not yet counted when none is known (plans with no stored facts are not in it).
    expect(metricsCsv({ ...report, incomplete: { reason: 'Rebuilding.', staleFacts: 0 } })).toBe(`These figures are incomplete. Rebuilding.\r\n${complete}`);
  });
});

describe('resolveMetricsQuery', () => {
  const config = { maxPeriodMonths: 36 };
  const TODAY = '2026-11-28';
  const errorsOf = (params: Record<string, string>, max = 36) => {
    const r = resolveMetricsQuery(params, TODAY, { maxPeriodMonths: max });
    return r.ok ? [] : r.errors;
  };
  it('fills in the four complete quarters to the last one, and reads groupBy as a comma-separated list', () => {
    expect(resolveMetricsQuery({}, TODAY, config)).toEqual({ ok: true, query: { from: '2025-10-01', to: '2026-09-30', groupBy: [] } });
    expect(resolveMetricsQuery({ from: '2026-01-01', to: '2026-03-31', groupBy: 'month, provider,month' }, TODAY, config)).toEqual({
      ok: true,
      query: { from: '2026-01-01', to: '2026-03-31', groupBy: ['month', 'provider'] },
    });
    expect(resolveMetricsQuery({ from: '2024-01-01', to: '2026-09-30' }, TODAY, config).ok).toBe(true);
    // On a quarter's first day the quarter before is complete.
    expect(resolveMetricsQuery({}, '2026-10-01', config)).toEqual({ ok: true, query: { from: '2025-10-01', to: '2026-09-30', groupBy: [] } });
    expect(resolveMetricsQuery({}, '2026-09-30', config)).toEqual({ ok: true, query: { from: '2025-07-01', to: '2026-06-30', groupBy: [] } });
  });

  it('fills in from as the longest period allowed when the deployment allows less than four quarters', () => {
    expect(resolveMetricsQuery({}, TODAY, { maxPeriodMonths: 6 })).toEqual({ ok: true, query: { from: '2026-04-01', to: '2026-09-30', groupBy: [] } });
    // Whole quarters, at least one: 8 months allows two quarters, 1 month one.
    expect(resolveMetricsQuery({}, TODAY, { maxPeriodMonths: 8 })).toEqual({ ok: true, query: { from: '2026-04-01', to: '2026-09-30', groupBy: [] } });
    expect(resolveMetricsQuery({}, TODAY, { maxPeriodMonths: 1 })).toEqual({ ok: true, query: { from: '2026-07-01', to: '2026-09-30', groupBy: [] } });
    expect(resolveMetricsQuery({ to: '2026-03-31' }, TODAY, { maxPeriodMonths: 9 })).toEqual({ ok: true, query: { from: '2025-07-01', to: '2026-03-31', groupBy: [] } });
  });

  it('answers a period reaching into the current quarter or later up to the end of the last complete one, saying what was asked', () => {
    // A financial year asked for in its eighth month: its complete quarters so far.
    expect(resolveMetricsQuery({ from: '2026-04-01', to: '2027-03-31' }, TODAY, config)).toEqual({ ok: true, query: { from: '2026-04-01', to: '2026-09-30', groupBy: [], requestedTo: '2027-03-31' } });
    expect(resolveMetricsQuery({ to: '2027-03-31' }, TODAY, config)).toEqual({ ok: true, query: { from: '2025-10-01', to: '2026-09-30', groupBy: [], requestedTo: '2027-03-31' } });
    // Cut first, then the longest period is checked: 2026 to 2030 asked is 9 months answered.
    expect(resolveMetricsQuery({ from: '2026-01-01', to: '2030-03-31' }, TODAY, config)).toEqual({ ok: true, query: { from: '2026-01-01', to: '2026-09-30', groupBy: [], requestedTo: '2030-03-31' } });
    // A quarter not yet over has no figures: not a part-quarter that moves day by day.
    expect(errorsOf({ from: '2026-10-01', to: '2026-12-31' })).toEqual([
      { path: 'from', message: '2026-10-01 starts a quarter not yet complete: figures come only from complete quarters, the last of them ending 2026-09-30' },
    ]);
  });

  it('takes whole calendar quarters only, saying so on the parameter sent', () => {
    expect(errorsOf({ from: '2026-11-30' })).toEqual([
      { path: 'from', message: 'must be the first day of a quarter (1 January, 1 April, 1 July or 1 October), as periods are whole calendar quarters: 2026-11-30 was sent (its quarter starts 2026-10-01)' },
    ]);
    expect(errorsOf({ from: '2026-02-01', to: '2026-06-30' }).map((e) => e.path)).toEqual(['from']);
    expect(errorsOf({ from: '2026-01-01', to: '2026-05-31' })).toEqual([
      { path: 'to', message: 'must be the last day of a quarter (31 March, 30 June, 30 September or 31 December), as periods are whole calendar quarters: 2026-05-31 was sent (its quarter ends 2026-06-30)' },
    ]);
    expect(errorsOf({ from: '2026-01-02', to: '2026-03-30' }).map((e) => e.path)).toEqual(['from', 'to']);
  });

  it('names what was sent and what was filled in (the auditor\'s period edges)', () => {
    // No `to` sent: the refusal is of `from`, and says the month is not over, not "after to".
    expect(errorsOf({ from: '2028-04-01' })).toEqual([
      { path: 'from', message: '2028-04-01 starts a quarter not yet complete: figures come only from complete quarters, the last of them ending 2026-09-30' },
    ]);
    // Only `to` sent, in the future: answered, from filled in.
    expect(errorsOf({ to: '2029-12-31' })).toEqual([]);
    // Over the limit with `to` defaulted: the refusal names from, and says what to was taken as.
    expect(errorsOf({ from: '2022-01-01' })).toEqual([
      {
        path: 'from',
        message: 'the period may cover at most 36 months (12 quarters): from 2022-01-01 (to was not given: the end of the last complete quarter, 2026-09-30) is 57 months; from must be 2023-10-01 or later',
      },
    ]);
    expect(errorsOf({ from: '2022-01-01', to: '2025-12-31' })).toEqual([
      { path: 'to', message: 'the period may cover at most 36 months (12 quarters): from 2022-01-01 to 2025-12-31 is 48 months; from 2022-01-01, to must be 2024-12-31 or earlier' },
    ]);
    // A parameter given twice arrives joined by a comma (as API Gateway joins them): named, not one of them read.
    expect(errorsOf({ from: '2026-01-01,2026-04-01' })).toEqual([{ path: 'from', message: 'was given more than once (2026-01-01, 2026-04-01): give one date' }]);
  });

  it('refuses bad input, naming the parameter', () => {
    const errors = (params: Record<string, string>, max = 36) => errorsOf(params, max).map((e) => e.path);
    expect(errors({ from: '2026-04-01', to: '2026-03-31' })).toEqual(['from']);
    expect(errors({ groupBy: 'provider,postcode' })).toEqual(['groupBy']);
    expect(errors({ from: '2023-07-01', to: '2026-09-30' })).toEqual(['to']);
    expect(errors({ from: '2026-01-01', to: '2026-09-30' }, 6)).toEqual(['to']);
    expect(errors({ from: '2026-01-01', to: '2026-06-30' }, 6)).toEqual([]);
    expect(errors({ from: '2026-02-30' })).toEqual(['from']);
    expect(errors({ to: 'yesterday' })).toEqual(['to']);
    expect(errors({ planId: 'pl_x' })).toEqual(['planId']);
  });
});

