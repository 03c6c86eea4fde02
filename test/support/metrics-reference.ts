/**
 * The commissioner figures as computed before the facts were held in columns: one pass over plain
 * PlanFacts objects. Kept unchanged as the test oracle that the columnar computation in
 * lib/domain/metrics/compute.ts must match byte for byte (test/unit/metrics-table.test.ts).
 */
import { LOCAL_AUTHORITIES, NEED_DOMAINS, REFERRAL_SOURCES } from '../../lib/domain/taxonomy.ts';
import { dayNumber, monthSlices, type MonthSlice } from '../../lib/domain/metrics/dates.ts';
import {
  COUNT_FIGURES,
  DIMENSION_DEFINITIONS,
  FIGURE_KEYS,
  FIGURES,
  RATE_DECIMALS,
  RELATIONS,
  SUPPRESSED,
  SUPPRESSION_RULES,
  servedDefinition,
  type CountKey,
  type Dimension,
  type FigureDefinition,
  type FigureKey,
  type StatValues,
} from '../../lib/domain/metrics/definitions.ts';
import type { ExitReasonFact, GapReasonFact, OfferFact, PlanFacts } from '../../lib/domain/metrics/facts.ts';
import type { MetricsQuery } from '../../lib/domain/metrics/query.ts';
import { p90MinimumValues, primarySuppress, secondarySuppress, STATISTIC_BASES, statisticShown, type Cell, type Line, type RateCells, type Table } from '../../lib/domain/metrics/suppression.ts';

export type FigureValue = number | typeof SUPPRESSED;
export type Figures = Record<FigureKey, FigureValue>;

export interface MetricsGroup {
  group: string;
  figures: Figures;
}

export interface MetricsReport {
  period: { from: string; to: string };
  groupBy: Dimension[];
  asOf: string;
  suppression: { threshold: number; roundCountsTo: number; marker: typeof SUPPRESSED; rules: string[] };
  definitions: {
    figures: Record<FigureKey, { label: string; kind: FigureDefinition['kind']; unit: string; definition: string }>;
    dimensions: Partial<Record<Dimension, string>>;
  };
  overall: Figures;
  breakdowns: Partial<Record<Dimension, MetricsGroup[]>>;
  boundedRates: { dimension: Dimension | 'overall'; group: string; figure: FigureKey; bound: 'below-all' | 'above-none' }[];
}

export interface ComputeOptions {
  suppressionThreshold: number;
  /** Shown counts are published as the nearest multiple of this (1: exact); default 5, as GET /metrics by default. */
  roundCountsTo?: number;
  /** When the answer was worked out (the facts are as of then). */
  asOf: string;
  /** Providers to list in a provider breakdown even when they have nothing in the period. */
  providers?: readonly string[];
}

const COUNT_KEYS = Object.keys(COUNT_FIGURES) as CountKey[];
const at = (key: CountKey) => COUNT_KEYS.indexOf(key);
// Positions in an accumulator's counts array, as plain constants for the inner loop.
const REFERRALS = at('referrals');
const CONSENTED = at('consented');
const ASSESSED = at('assessed');
const ACTIVATED = at('activated');
const ACTIVE_AT_END = at('activeAtEnd');
const EXITS = at('exits');
const OFFERS = at('offers');
const OFFERS_RESOLVED = at('offersResolved');
const GAPS = at('gaps');
const PLANS_WITH_GAP = at('plansWithGap');
const REVIEWS_DUE = at('reviewsDue');
const REVIEWS_ON_TIME = at('reviewsOnTime');
const REVIEWS_LATE = at('reviewsLate');
const SCORED_PLANS = at('scoredPlans');
const FOLLOW_UPS_6 = at('followUps6');
const REOFFENDED_6 = at('reoffended6');
const FOLLOW_UPS_12 = at('followUps12');
const REOFFENDED_12 = at('reoffended12');

const EXIT_FIELD: Record<ExitReasonFact, number> = {
  completed: at('exitsCompleted'),
  transferred: at('exitsTransferred'),
  disengaged: at('exitsDisengaged'),
  'moved-away': at('exitsMovedAway'),
  custody: at('exitsCustody'),
  other: at('exitsOther'),
  'consent-withdrawn': at('exitsConsentWithdrawn'),
};
const GAP_FIELD: Record<GapReasonFact, number> = {
  'no-service': at('gapsNoService'),
  'no-coverage-in-area': at('gapsNoCoverageInArea'),
  'no-capacity': at('gapsNoCapacity'),
  'not-eligible': at('gapsNotEligible'),
  'all-candidates-declined-or-expired': at('gapsAllDeclinedOrExpired'),
  'no-consent-to-share': at('gapsNoConsentToShare'),
  'not-offered': at('gapsNotOffered'),
  'outside-consent': at('gapsOutsideConsent'),
};
const OUTCOME_FIELD: Record<OfferFact['outcome'], number> = { accepted: at('offersAccepted'), declined: at('offersDeclined'), expired: at('offersExpired'), other: at('offersWithdrawnOrOpen') };

/** A growable list of numbers in a typed array: no boxed values, and the garbage collector never walks it. */
class Values {
  buf = new Float64Array(0);
  length = 0;
  push(value: number) {
    if (this.length === this.buf.length) {
      const next = new Float64Array(Math.max(256, this.buf.length * 4));
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.length++] = value;
  }
  /** The values, in an order the statistics below are free to change. */
  view(): Float64Array {
    return this.buf.subarray(0, this.length);
  }
}

/** Running totals for one group: a counts array and the values statistics are taken over. */
class Accumulator {
  readonly c = new Float64Array(COUNT_KEYS.length);
  readonly daysReferralToAssessment = new Values();
  readonly daysAssessmentToActive = new Values();
  readonly daysReferralToActive = new Values();
  readonly responseHours = new Values();
  scoreChangeSum = 0;
  scoreChanges = 0;
  /** The last plan counted in plansWithGap / scoredPlans, so a plan counts once per group. */
  gapStamp = -1;
  scoreStamp = -1;
}

const round = (value: number, decimals: number) => {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
};

/** The k-th smallest (from 0) of `a`, rearranging it so every value before position k is no larger. */
function select(a: Float64Array, k: number): number {
  let left = 0;
  let right = a.length - 1;
  while (right > left) {
    const pivot = a[(left + right) >> 1] as number;
    let i = left;
    let j = right;
    while (i <= j) {
      while ((a[i] as number) < pivot) i += 1;
      while ((a[j] as number) > pivot) j -= 1;
      if (i <= j) {
        const t = a[i] as number;
        a[i] = a[j] as number;
        a[j] = t;
        i += 1;
        j -= 1;
      }
    }
    if (k <= j) right = j;
    else if (k >= i) left = i;
    else break;
  }
  return a[k] as number;
}

/** Median: the middle value, or the mean of the two middle values. Reorders a typed array given to it. */
export function median(values: ArrayLike<number>): number {
  const a = values instanceof Float64Array ? values : Float64Array.from(values);
  const mid = a.length >> 1;
  const upper = select(a, mid);
  if (a.length % 2 === 1) return upper;
  let lower = -Infinity;
  for (let i = 0; i < mid; i += 1) if ((a[i] as number) > lower) lower = a[i] as number;
  return (lower + upper) / 2;
}

/** Nearest-rank percentile: the smallest value at or below which p% of the values lie. Reorders a typed array given to it. */
export function percentile(values: ArrayLike<number>, p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * values.length));
  return select(values instanceof Float64Array ? values : Float64Array.from(values), rank - 1);
}

function addOffer(acc: Accumulator | undefined, outcome: number, resolved: boolean, hours: number | undefined) {
  if (!acc) return;
  const c = acc.c;
  c[OFFERS]! += 1;
  c[outcome]! += 1;
  if (resolved) c[OFFERS_RESOLVED]! += 1;
  if (hours !== undefined) acc.responseHours.push(hours);
}

function addGap(acc: Accumulator | undefined, reason: number, plan: number) {
  if (!acc) return;
  const c = acc.c;
  c[GAPS]! += 1;
  c[reason]! += 1;
  if (acc.gapStamp !== plan) {
    acc.gapStamp = plan;
    c[PLANS_WITH_GAP]! += 1;
  }
}

function addScore(acc: Accumulator | undefined, change: number, plan: number) {
  if (!acc) return;
  acc.scoreChangeSum += change;
  acc.scoreChanges += 1;
  if (acc.scoreStamp !== plan) {
    acc.scoreStamp = plan;
    acc.c[SCORED_PLANS]! += 1;
  }
}

interface GroupState {
  group: string;
  acc: Accumulator;
  cells?: Record<CountKey, Cell>;
}

/**
 * Every figure for the period, overall and for each breakdown asked for, with small numbers
 * suppressed. One pass over the facts: each unit (a referral, an offer, a gap, a review...) is added
 * to the overall totals and to each group it belongs to. Days are integers, counts sit in typed
 * arrays, and the loop allocates nothing per plan beyond the values statistics are taken over.
 */
export function referenceComputeMetrics(facts: Iterable<PlanFacts>, query: MetricsQuery, options: ComputeOptions): MetricsReport {
  const { from, to } = query;
  const first = dayNumber(from);
  const last = dayNumber(to);
  const dims = new Set(query.groupBy);
  const overall = new Accumulator();

  const keyed = (keys: readonly string[]) => new Map(keys.map((k) => [k, new Accumulator()]));
  const groups: Record<Exclude<Dimension, 'month'>, Map<string, Accumulator>> = {
    localAuthority: keyed(LOCAL_AUTHORITIES),
    referralSource: keyed(REFERRAL_SOURCES),
    needDomain: keyed(NEED_DOMAINS),
    provider: keyed(options.providers ?? []),
  };
  const group = (dim: Exclude<Dimension, 'month'>, key: string): Accumulator => {
    let acc = groups[dim].get(key);
    if (!acc) groups[dim].set(key, (acc = new Accumulator()));
    return acc;
  };
  const byMonth = dims.has('month');
  const byLa = dims.has('localAuthority');
  const bySource = dims.has('referralSource');
  const byNeed = dims.has('needDomain');
  const byProvider = dims.has('provider');
  const slices: MonthSlice[] = byMonth ? monthSlices(from, to) : [];
  const monthAccs = slices.map(() => new Accumulator());
  const sliceEnds = slices.map((s) => dayNumber(s.to));
  // The month accumulator of each day of the period, by day offset (empty without a month breakdown).
  const monthOfDay: Accumulator[] = [];
  slices.forEach((s, i) => {
    for (let d = dayNumber(s.from); d <= (sliceEnds[i] as number); d += 1) monthOfDay[d - first] = monthAccs[i] as Accumulator;
  });

  // The plan's groups, reused for every plan: [0, nBase) overall, local authority, source;
  // then its providers up to nNoNeeds; then its need cohorts up to n; then its month, if any, at n.
  const t: (Accumulator | undefined)[] = [];
  let planIndex = -1;
  for (const f of facts) {
    planIndex += 1;
    // Everything about a plan happens on or after its referral, and nothing counts after its exit but the exit itself.
    if (f.referred > last || (f.exited !== undefined && f.exited < first)) continue;

    let n = 0;
    t[n++] = overall;
    if (byLa) t[n++] = group('localAuthority', f.localAuthority);
    if (bySource) t[n++] = group('referralSource', f.source);
    const nBase = n;
    if (byProvider) for (const p of f.providers) t[n++] = group('provider', p);
    const nNoNeeds = n;
    if (byNeed) for (const d of f.needs) t[n++] = group('needDomain', d);

    const referred = f.referred;
    if (referred >= first) {
      t[n] = monthOfDay[referred - first];
      for (let i = 0; i <= n; i += 1) {
        const acc = t[i];
        if (!acc) continue;
        acc.c[REFERRALS]! += 1;
        if (f.consented) acc.c[CONSENTED]! += 1;
      }
    }
    const assessed = f.assessed;
    if (assessed !== undefined && assessed >= first && assessed <= last) {
      t[n] = monthOfDay[assessed - first];
      for (let i = 0; i <= n; i += 1) {
        const acc = t[i];
        if (!acc) continue;
        acc.c[ASSESSED]! += 1;
        if (f.daysReferralToAssessment !== undefined) acc.daysReferralToAssessment.push(f.daysReferralToAssessment);
      }
    }
    const activated = f.activated;
    const exited = f.exited;
    if (activated !== undefined && activated <= last) {
      if (activated >= first) {
        t[n] = monthOfDay[activated - first];
        for (let i = 0; i <= n; i += 1) {
          const acc = t[i];
          if (!acc) continue;
          acc.c[ACTIVATED]! += 1;
          if (f.daysAssessmentToActive !== undefined) acc.daysAssessmentToActive.push(f.daysAssessmentToActive);
          if (f.daysReferralToActive !== undefined) acc.daysReferralToActive.push(f.daysReferralToActive);
        }
      }
      if (exited === undefined || exited > last) for (let i = 0; i < n; i += 1) (t[i] as Accumulator).c[ACTIVE_AT_END]! += 1;
      for (let s = 0; s < sliceEnds.length; s += 1) {
        const end = sliceEnds[s] as number;
        if (activated <= end && (exited === undefined || exited > end)) (monthAccs[s] as Accumulator).c[ACTIVE_AT_END]! += 1;
      }
    }
    if (exited !== undefined && exited <= last) {
      t[n] = monthOfDay[exited - first];
      const reason = f.exitReason ? EXIT_FIELD[f.exitReason] : EXIT_FIELD.other;
      const known6 = f.followUp6 === 'yes' || f.followUp6 === 'no';
      const known12 = f.followUp12 === 'yes' || f.followUp12 === 'no';
      for (let i = 0; i <= n; i += 1) {
        const acc = t[i];
        if (!acc) continue;
        const c = acc.c;
        c[EXITS]! += 1;
        c[reason]! += 1;
        if (known6) c[FOLLOW_UPS_6]! += 1;
        if (f.followUp6 === 'yes') c[REOFFENDED_6]! += 1;
        if (known12) c[FOLLOW_UPS_12]! += 1;
        if (f.followUp12 === 'yes') c[REOFFENDED_12]! += 1;
      }
    }
    for (const o of f.offers) {
      if (o.day < first || o.day > last) continue;
      const outcome = OUTCOME_FIELD[o.outcome];
      const resolved = o.outcome !== 'other';
      for (let i = 0; i < nBase; i += 1) addOffer(t[i], outcome, resolved, o.responseHours);
      if (byNeed) for (const d of o.needs) addOffer(group('needDomain', d), outcome, resolved, o.responseHours);
      if (byProvider) addOffer(group('provider', o.provider), outcome, resolved, o.responseHours);
      addOffer(monthOfDay[o.day - first], outcome, resolved, o.responseHours);
    }
    for (const g of f.gaps) {
      if (g.day < first || g.day > last) continue;
      const reason = GAP_FIELD[g.reason];
      for (let i = 0; i < nNoNeeds; i += 1) addGap(t[i], reason, planIndex);
      if (byNeed) addGap(group('needDomain', g.domain), reason, planIndex);
      addGap(monthOfDay[g.day - first], reason, planIndex);
    }
    for (const r of f.reviews) {
      if (r.day < first || r.day > last) continue;
      t[n] = monthOfDay[r.day - first];
      const field = r.late ? REVIEWS_LATE : REVIEWS_ON_TIME;
      for (let i = 0; i <= n; i += 1) {
        const acc = t[i];
        if (!acc) continue;
        acc.c[REVIEWS_DUE]! += 1;
        acc.c[field]! += 1;
      }
    }
    for (const s of f.scoreChanges) {
      if (s.day < first || s.day > last) continue;
      for (let i = 0; i < nNoNeeds; i += 1) addScore(t[i], s.change, planIndex);
      if (byNeed) addScore(group('needDomain', s.domain), s.change, planIndex);
      addScore(monthOfDay[s.day - first], s.change, planIndex);
    }
  }

  // Suppression over every published cell at once: a total and its parts may sit in different groups.
  const threshold = options.suppressionThreshold;
  const roundTo = options.roundCountsTo ?? 5;
  // Nearest multiple, halves up, after suppression; never 0 for a shown count (0 reads as none).
  const published = (count: number) => {
    if (roundTo === 1) return count;
    const below = count - (count % roundTo);
    const nearest = (count % roundTo) * 2 >= roundTo ? below + roundTo : below;
    return nearest === 0 ? roundTo : nearest;
  };
  const overallState: GroupState = { group: 'all', acc: overall };
  const breakdowns: [Dimension, GroupState[]][] = [];
  for (const dim of query.groupBy) {
    if (dim === 'month') breakdowns.push([dim, slices.map((s, i) => ({ group: s.month, acc: monthAccs[i] as Accumulator }))]);
    else {
      const entries = [...groups[dim]].map(([key, acc]) => ({ group: key, acc }));
      if (dim === 'provider') entries.sort((a, b) => a.group.localeCompare(b.group));
      breakdowns.push([dim, entries]);
    }
  }
  const all = [overallState, ...breakdowns.flatMap(([, states]) => states)];
  for (const state of all) {
    state.cells = Object.fromEntries(COUNT_KEYS.map((k, i) => [k, { value: state.acc.c[i] as number, suppressed: false }])) as Record<CountKey, Cell>;
    primarySuppress(Object.values(state.cells), threshold);
  }
  const cellsOf = (state: GroupState) => state.cells as Record<CountKey, Cell>;
  const lines: Line[] = [];
  for (const state of all) for (const r of RELATIONS) lines.push({ total: cellsOf(state)[r.total], parts: r.parts.map((p) => cellsOf(state)[p]) });
  for (const [dim, states] of breakdowns) {
    for (const [key, figure] of Object.entries(COUNT_FIGURES) as [CountKey, (typeof COUNT_FIGURES)[CountKey]][]) {
      if ((figure.additiveOver as readonly Dimension[]).includes(dim)) lines.push({ total: cellsOf(overallState)[key], parts: states.map((s) => cellsOf(s)[key]) });
    }
  }
  const rates: RateCells[] = [];
  for (const state of all)
    for (const key of FIGURE_KEYS) {
      const def: FigureDefinition = FIGURES[key];
      if (def.kind === 'rate' && cellsOf(state)[def.denominator].value > 0) rates.push({ numerator: cellsOf(state)[def.numerator], denominator: cellsOf(state)[def.denominator] });
    }
  const tables: Table[] = [];
  for (const [dim, states] of breakdowns)
    for (const r of RELATIONS) {
      if (![r.total, ...r.parts].every((key) => (COUNT_FIGURES[key].additiveOver as readonly Dimension[]).includes(dim))) continue;
      const lineOf = (state: GroupState): Line => ({ total: cellsOf(state)[r.total], parts: r.parts.map((p) => cellsOf(state)[p]) });
      tables.push({ overall: lineOf(overallState), groups: states.map(lineOf) });
    }
  secondarySuppress(lines, threshold, rates, tables);

  const boundedRates: MetricsReport['boundedRates'] = [];
  const figuresOf = (state: GroupState, dimension: Dimension | 'overall'): Figures => {
    const cells = cellsOf(state);
    const out = {} as Figures;
    for (const key of FIGURE_KEYS) {
      const def: FigureDefinition = FIGURES[key];
      if (def.kind === 'count') {
        const cell = cells[key as CountKey];
        out[key] = cell.suppressed ? SUPPRESSED : published(cell.value);
      } else if (def.kind === 'rate') {
        const num = cells[def.numerator];
        const den = cells[def.denominator];
        if (num.suppressed || den.suppressed || den.value === 0) out[key] = SUPPRESSED;
        else {
          // All (1) or none (0) only when exactly so: otherwise no nearer than 0.99 and 0.01, and listed.
          const rate = round(published(num.value) / published(den.value), RATE_DECIMALS);
          if (rate > 0.99 && num.value < den.value) boundedRates.push({ dimension, group: state.group, figure: key, bound: 'below-all' });
          else if (rate < 0.01 && num.value > 0) boundedRates.push({ dimension, group: state.group, figure: key, bound: 'above-none' });
          out[key] = rate > 0.99 && num.value < den.value ? 0.99 : rate < 0.01 && num.value > 0 ? 0.01 : rate;
        }
      } else if (def.kind === 'mean') {
        // Score changes may be several per plan; the mean is built on the plans that have one.
        const acc = state.acc;
        out[key] = !statisticShown(acc.scoreChanges === 0 ? 0 : cells.scoredPlans.value, threshold, STATISTIC_BASES.scoreChange.map((k) => cells[k])) ? SUPPRESSED : round(acc.scoreChangeSum / acc.scoreChanges, def.decimals);
      } else {
        const values = state.acc[def.values as Exclude<StatValues, 'scoreChange'>].view();
        out[key] = !statisticShown(values.length, def.kind === 'p90' ? p90MinimumValues(threshold) : threshold, STATISTIC_BASES[def.values].map((k) => cells[k])) ? SUPPRESSED : round(def.kind === 'median' ? median(values) : percentile(values, 90), def.decimals);
      }
    }
    return out;
  };

  return {
    period: { from, to },
    groupBy: [...query.groupBy],
    asOf: options.asOf,
    suppression: { threshold, roundCountsTo: roundTo, marker: SUPPRESSED, rules: [...SUPPRESSION_RULES] },
    definitions: {
      figures: Object.fromEntries(FIGURE_KEYS.map((k) => [k, { label: FIGURES[k].label, kind: FIGURES[k].kind, unit: FIGURES[k].unit, definition: servedDefinition(k, roundTo) }])) as MetricsReport['definitions']['figures'],
      dimensions: Object.fromEntries(query.groupBy.map((d) => [d, DIMENSION_DEFINITIONS[d]])),
    },
    overall: figuresOf(overallState, 'overall'),
    breakdowns: Object.fromEntries(breakdowns.map(([dim, states]) => [dim, states.map((s) => ({ group: s.group, figures: figuresOf(s, dim) }))])),
    boundedRates,
  };
}

/** One plan's facts for tests: a routine custody-diversion referral in Birmingham on 2026-03-02, no consent yet, nothing else; `overrides` set the rest. */
export function referralFacts(overrides: Partial<PlanFacts> = {}): PlanFacts {
  return {
    version: 1,
    source: 'custody-diversion',
    localAuthority: 'birmingham',
    referred: dayNumber('2026-03-02'),
    consented: false,
    needs: [],
    providers: [],
    offers: [],
    gaps: [],
    reviews: [],
    scoreChanges: [],
    ...overrides,
  };
}
