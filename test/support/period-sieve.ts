/**
 * The sieve attack on the commissioner figures, and what it still finds.
 *
 * An auditor playing a commissioner asked GET /metrics for the same start and every end day, one day
 * apart: the day the overall "Reoffended within 6 months" moved under the rounding (suppressed to 5,
 * or the rounded count stepping) was the day one plan exited, and told whether she had reoffended.
 * This module works out what such answers pin down, for any set of periods: the auditor's (one start,
 * every end day), every start month with every end month (whole months, the first fix tried: still
 * pinning outcomes), and whole calendar quarters (what GET /metrics now answers: none found). Run
 * as a script it prints each, for a seeded simulated cohort.
 *
 * How. Each answer is a set of published counts; a count of one series (a figure in one group:
 * overall Reoffended within 6 months, say, or Exits in the mental-health cohort) over months a..b is
 * the difference of two prefix sums, P(b+1) - P(a). A shown count rounded to R stands for the true
 * counts that round to R and reach the threshold; a suppressed one, where nothing else can hide it
 * (an overall-only answer's count that is in no total-and-parts relation), for 0 to threshold - 1;
 * any other suppressed cell says nothing. With every month's count at least 0, these are difference
 * constraints, whose tightest bounds are shortest paths (Floyd-Warshall over the prefix sums), and
 * with integer limits they are exact for whole numbers too: the least and most each month's count can
 * be, given every answer. Each series is taken on its own (exits and their reasons together, or a
 * group against the overall, would narrow more), so what is counted here is a floor on what a
 * determined attacker learns, not a ceiling.
 *
 * What is counted as pinned to one plan: the attacker is taken to know which women exited in each
 * unit, and whose follow-ups are known (a commissioner may well know who left a programme, and when).
 * If, for a unit, the least an outcome's count can be reaches the number it is about (the exits, or
 * for reoffending the follow-ups known), every one of them has the outcome (she
 * reoffended; she left for that reason): one pinned outcome per woman. If the most it can be is 0, none
 * of them has it: counted apart, as "pinned none". At day granularity one woman exiting on a day is the
 * usual case, and a count that must have grown by one that day is hers.
 *
 * Run it: node test/support/period-sieve.ts [plans] [months] [seed]
 */
import { syntheticPlans } from '../../bench/synthetic.ts';
import { computeMetrics, type FigureValue, type MetricsReport } from '../../lib/domain/metrics/compute.ts';
import { addDaysToDate, addMonthsToDate, lastOfMonth, londonDay } from '../../lib/domain/metrics/dates.ts';
import { DEFAULT_METRICS_CONFIG, resolveMetricsQuery } from '../../lib/domain/metrics/query.ts';
import { RELATIONS, type CountKey, type Dimension } from '../../lib/domain/metrics/definitions.ts';
import { planFacts, type PlanFacts } from '../../lib/domain/metrics/facts.ts';
import { FactTable } from '../../lib/domain/metrics/fact-table.ts';
import { roundCount } from '../../lib/domain/metrics/suppression.ts';

/** The outcomes of one exited woman the attack looks for, each read against Exits in the same group and unit. */
export const OUTCOMES = ['reoffended6', 'reoffended12', 'exitsCompleted', 'exitsTransferred', 'exitsDisengaged', 'exitsMovedAway', 'exitsCustody', 'exitsOther', 'exitsConsentWithdrawn'] as const satisfies readonly CountKey[];
const SERIES = ['exits', 'followUps6', 'followUps12', ...OUTCOMES] as const;
/** Who an outcome is about: a reoffending answer exists only for a woman whose follow-up is known (none is, before it falls due). */
const POPULATION: Record<(typeof OUTCOMES)[number], SeriesKey> = {
  reoffended6: 'followUps6',
  reoffended12: 'followUps12',
  exitsCompleted: 'exits',
  exitsTransferred: 'exits',
  exitsDisengaged: 'exits',
  exitsMovedAway: 'exits',
  exitsCustody: 'exits',
  exitsOther: 'exits',
  exitsConsentWithdrawn: 'exits',
};
type SeriesKey = (typeof SERIES)[number];
const IN_A_RELATION = new Set<CountKey>(RELATIONS.flatMap((r) => [r.total, ...r.parts]));

/** A seeded simulated cohort (the benchmark's pure-domain simulation: decide() with an injected clock), as metrics facts. */
export function simulatedCohort(options: { plans: number; months: number; seed: number; start: string }): { facts: FactTable; now: string } {
  const now = `${addMonthsToDate(options.start, options.months)}T12:00:00.000Z`;
  const spanDays = Math.round((Date.parse(now) - Date.parse(`${options.start}T00:00:00Z`)) / 86_400_000);
  const facts: PlanFacts[] = [];
  for (const plan of syntheticPlans(options.plans, { now, spanDays, seed: options.seed })) facts.push(planFacts(plan));
  return { facts: FactTable.of(facts), now };
}

/** One published answer over units a..b (inclusive), as the attacker reads it. */
export interface Observation {
  a: number;
  b: number;
  /** Whether suppression in it can only be primary for counts in no relation (an answer with no breakdown). */
  overallOnly: boolean;
  /** The published value of each series, by group ("all" overall). */
  values: Map<string, Partial<Record<SeriesKey, FigureValue>>>;
}

/** What an answer over units a..b tells: its overall and group figures, and each month of a month breakdown as an answer over that month alone. */
function observe(report: MetricsReport, a: number, b: number, unitOf: (name: string) => number | undefined): Observation[] {
  const values = new Map<string, Partial<Record<SeriesKey, FigureValue>>>();
  const pick = (figures: Record<string, FigureValue>) => Object.fromEntries(SERIES.map((k) => [k, figures[k] as FigureValue]));
  values.set('all', pick(report.overall));
  const out: Observation[] = [{ a, b, overallOnly: report.groupBy.length === 0, values }];
  for (const [dim, groups] of Object.entries(report.breakdowns))
    for (const g of groups ?? []) {
      if (dim !== 'month') values.set(`${dim}:${g.group}`, pick(g.figures));
      else {
        const u = unitOf(g.group);
        if (u !== undefined) out.push({ a: u, b: u, overallOnly: false, values: new Map([['all', pick(g.figures)]]) });
      }
    }
  return out;
}

/** The true count of each series in each unit, by group: the facts counted exactly over each unit alone. */
function truth(facts: FactTable, units: readonly { from: string; to: string }[], groupBy: Dimension[]): Map<string, Record<SeriesKey, number[]>> {
  const out = new Map<string, Record<SeriesKey, number[]>>();
  units.forEach((unit, u) => {
    // Threshold 0: nothing suppressed, every count exact.
    const r = computeMetrics(facts, { from: unit.from, to: unit.to, groupBy }, { suppressionThreshold: 0, roundCountsTo: 1, asOf: `${unit.to}T23:59:59Z` });
    const put = (group: string, figures: Record<string, FigureValue>) => {
      let series = out.get(group);
      if (!series) out.set(group, (series = Object.fromEntries(SERIES.map((k) => [k, new Array<number>(units.length).fill(0)])) as Record<SeriesKey, number[]>));
      for (const k of SERIES) (series[k] as number[])[u] = typeof figures[k] === 'number' ? (figures[k] as number) : 0;
    };
    put('all', r.overall);
    for (const [dim, groups] of Object.entries(r.breakdowns)) for (const g of groups ?? []) put(`${dim}:${g.group}`, g.figures);
  });
  return out;
}

/** The true counts a published value stands for: [least, most], or undefined when it says nothing. */
function interval(value: FigureValue | undefined, key: SeriesKey, overallOnly: boolean, threshold: number, roundTo: number): [number, number] | undefined {
  if (value === undefined) return undefined;
  if (value === 'suppressed') return overallOnly && !IN_A_RELATION.has(key) ? [0, threshold - 1] : undefined;
  let least = Infinity;
  let most = -Infinity;
  for (let v = Math.max(threshold, value - roundTo); v <= value + roundTo; v += 1)
    if (roundCount(v, roundTo) === value) {
      least = Math.min(least, v);
      most = Math.max(most, v);
    }
  return [least, most];
}

/** The least and most each unit's count can be, given the range sums (difference constraints, Floyd-Warshall). */
export function unitBounds(units: number, ranges: readonly { a: number; b: number; least: number; most: number }[]): { least: number[]; most: number[] } {
  const n = units + 1;
  const dist = new Float64Array(n * n).fill(Infinity);
  const edge = (from: number, to: number, weight: number) => {
    if (weight < dist[from * n + to]!) dist[from * n + to] = weight;
  };
  for (let i = 0; i < n; i += 1) dist[i * n + i] = 0;
  // Every unit's count is at least 0: P(m) - P(m+1) <= 0.
  for (let m = 0; m < units; m += 1) edge(m + 1, m, 0);
  for (const r of ranges) {
    edge(r.a, r.b + 1, r.most); // P(b+1) - P(a) <= most
    edge(r.b + 1, r.a, -r.least); // P(a) - P(b+1) <= -least
  }
  for (let k = 0; k < n; k += 1)
    for (let i = 0; i < n; i += 1) {
      const ik = dist[i * n + k]!;
      if (ik === Infinity) continue;
      for (let j = 0; j < n; j += 1) {
        const via = ik + dist[k * n + j]!;
        if (via < dist[i * n + j]!) dist[i * n + j] = via;
      }
    }
  const least: number[] = [];
  const most: number[] = [];
  for (let m = 0; m < units; m += 1) {
    most.push(dist[m * n + m + 1]!);
    least.push(-dist[(m + 1) * n + m]!);
  }
  return { least, most };
}

export interface SieveResult {
  /** How many answers the attack read. */
  answers: number;
  /** Women whose outcome (reoffended within 6 or 12 months, exit reason) the answers pin: every one who exited in her unit has it. */
  pinned: number;
  /** Women pinned as not having an outcome: none who exited in her unit has it. */
  pinnedNone: number;
  /** Each pin, for the report: group, outcome, unit, how many women. */
  pins: { group: string; outcome: string; unit: string; women: number; has: boolean }[];
}

/** What the answers pin, series by series and unit by unit (see the module's comment). */
export function pinnedOutcomes(
  observations: readonly Observation[],
  truths: Map<string, Record<SeriesKey, number[]>>,
  unitNames: readonly string[],
  settings: { threshold: number; roundTo: number },
): SieveResult {
  const result: SieveResult = { answers: observations.length, pinned: 0, pinnedNone: 0, pins: [] };
  for (const [group, series] of truths) {
    const boundsOf = (key: SeriesKey) => {
      const ranges = [];
      for (const o of observations) {
        const range = interval(o.values.get(group)?.[key], key, o.overallOnly, settings.threshold, settings.roundTo);
        if (range) ranges.push({ a: o.a, b: o.b, least: range[0], most: range[1] });
      }
      return unitBounds(unitNames.length, ranges);
    };
    for (const outcome of OUTCOMES) {
      const bounds = boundsOf(outcome);
      unitNames.forEach((unit, u) => {
        const women = series[POPULATION[outcome]][u] as number;
        if (women === 0) return;
        if ((bounds.least[u] as number) >= women) {
          result.pinned += women;
          result.pins.push({ group, outcome, unit, women, has: true });
        } else if ((bounds.most[u] as number) <= 0) {
          result.pinnedNone += women;
          result.pins.push({ group, outcome, unit, women, has: false });
        }
      });
    }
  }
  return result;
}

/** Calendar months from the one of `first` to the one of `last`, as units. */
export function monthUnits(first: string, last: string): { name: string; from: string; to: string }[] {
  const units = [];
  for (let from = `${first.slice(0, 7)}-01`; from <= last; from = addMonthsToDate(from, 1)) units.push({ name: from.slice(0, 7), from, to: lastOfMonth(from) });
  return units;
}

/** Days from `first` to `last`, as units. */
export function dayUnits(first: string, last: string): { name: string; from: string; to: string }[] {
  const units = [];
  for (let day = first; day <= last; day = addDaysToDate(day, 1)) units.push({ name: day, from: day, to: day });
  return units;
}

export type Ask = (from: string, to: string, groupBy: Dimension[]) => MetricsReport | undefined;

/**
 * The attack over `units`: every period the policy allows (pairs of unit indices), overall and with
 * each breakdown in `groupBys`, asked through `ask` (a refused query gives nothing).
 */
export function sieve(
  facts: FactTable,
  units: readonly { name: string; from: string; to: string }[],
  periods: readonly [number, number][],
  groupBys: readonly Dimension[][],
  ask: Ask,
  settings = { threshold: 5, roundTo: 5 },
): SieveResult {
  const observations: Observation[] = [];
  const byName = new Map(units.map((u, i) => [u.name, i]));
  for (const groupBy of groupBys)
    for (const [a, b] of periods) {
      const report = ask((units[a] as { from: string }).from, (units[b] as { to: string }).to, groupBy);
      if (report) observations.push(...observe(report, a, b, (name) => byName.get(name)));
    }
  const dims = [...new Set(groupBys.flat())].filter((d) => d !== 'month');
  const result = pinnedOutcomes(observations, truth(facts, units, dims), units.map((u) => u.name), settings);
  // Answers asked, not the month slices read out of them.
  return { ...result, answers: periods.length * groupBys.length };
}

/** Every (start, end) pair of `count` units, the end no earlier than the start and within `max` units. */
export function everyPeriod(count: number, max = Infinity, startsEvery = 1, endsEvery = 1, firstEnd = endsEvery - 1): [number, number][] {
  const out: [number, number][] = [];
  for (let a = 0; a < count; a += startsEvery) for (let b = a; b < count && b - a < max; b += 1) if ((b - firstEnd) % endsEvery === 0) out.push([a, b]);
  return out;
}

/** Each answer worked out directly (any period, the rounding and suppression of the API's defaults). */
export const computeAsk =
  (facts: FactTable, asOf: string): Ask =>
  (from, to, groupBy) =>
    computeMetrics(facts, { from, to, groupBy }, { suppressionThreshold: 5, roundCountsTo: 5, asOf });

/** The API's own rule, as a synchronous ask: the answer when GET /metrics would give it for exactly this period, else nothing. */
export const servedAsk =
  (facts: FactTable, asOf: string): Ask =>
  (from, to, groupBy) => {
    const resolved = resolveMetricsQuery({ from, to, groupBy: groupBy.join(',') }, londonDay(asOf), DEFAULT_METRICS_CONFIG);
    if (!resolved.ok || resolved.query.from !== from || resolved.query.to !== to) return undefined;
    return computeAsk(facts, asOf)(from, to, groupBy);
  };

if (import.meta.url === `file://${process.argv[1]}`) {
  const [plans = '80', months = '15', seed = '7'] = process.argv.slice(2);
  const start = '2026-11-30';
  const { facts, now } = simulatedCohort({ plans: Number(plans), months: Number(months), seed: Number(seed), start });
  const lastComplete = addDaysToDate(`${now.slice(0, 7)}-01`, -1);
  const ask = computeAsk(facts, now);
  const report = (name: string, r: SieveResult) =>
    console.log(`${name}: ${r.answers} answers, ${r.pinned} outcomes pinned to a woman, ${r.pinnedNone} pinned as none${r.pins.length ? `\n  ${r.pins.slice(0, 12).map((p) => `${p.group} ${p.outcome} ${p.unit}: ${p.women} ${p.has ? 'has' : 'none'}`).join('\n  ')}` : ''}`);
  console.log(`cohort: ${plans} plans over ${months} months from ${start}, seed ${seed}; now ${now}, last complete month ends ${lastComplete}`);
  const days = dayUnits(start, now.slice(0, 10));
  // The auditor's attack: one start, every end day, overall (one chain of answers a day apart).
  report('days, fixed start, every end (as before)', sieve(facts, days, days.map((_, b) => [0, b] as [number, number]), [[]], ask));
  const months_ = monthUnits(start, lastComplete);
  const groupBys: Dimension[][] = [[], ['needDomain'], ['localAuthority'], ['referralSource'], ['provider']];
  const n = months_.length;
  // Calendar quarters: units whose month is January, April, July or October start one.
  const quarterStart = months_.findIndex((u) => ['01', '04', '07', '10'].includes(u.name.slice(5, 7)));
  const policies: [string, [number, number][]][] = [
    ['months, every start x every end', everyPeriod(n, 36)],
    ['quarters: starts and ends on calendar quarters', everyPeriod(n, 36).filter(([a, b]) => (a - quarterStart) % 3 === 0 && (b + 1 - quarterStart) % 3 === 0)],
    ['quarter starts, any month end', everyPeriod(n, 36).filter(([a]) => (a - quarterStart) % 3 === 0)],
    ['12-month windows ending any month', everyPeriod(n, 36).filter(([a, b]) => b - a === 11)],
  ];
  report('every start month x every end month, as GET /metrics serves them', sieve(facts, months_, everyPeriod(n, 36), [...groupBys, ['month']], servedAsk(facts, now)));
  for (const [name, periods] of policies) {
    report(name, sieve(facts, months_, periods, groupBys, ask));
    report(`${name}, and a month breakdown`, sieve(facts, months_, periods, [...groupBys, ['month']], ask));
  }
}
