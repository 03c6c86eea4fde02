import * as z from 'zod';
import type { FieldError } from '../errors.ts';
import { addDaysToDate, addMonthsToDate, firstOfQuarter, isCalendarDate, lastOfQuarter, monthsTouched } from './dates.ts';
import { DIMENSIONS, type Dimension } from './definitions.ts';

/**
 * How the metrics are published: the suppression threshold, what shown counts are rounded to (1:
 * exact), the longest period one answer may cover,
 * and whether an answer is given again for the same query until the facts change (off only to time
 * the computation itself).
 */
export const MetricsConfig = z.object({
  suppressionThreshold: z.number().int().min(1).max(100).default(5),
  // Suppression alone is undone by differencing two answers (January-February minus February gives
  // January's hidden count): shown counts are rounded, as in UK official statistics, so the difference
  // of two published counts no longer pins a small number.
  roundCountsTo: z.number().int().min(1).max(100).default(5),
  maxPeriodMonths: z.number().int().min(1).max(120).default(36),
  cacheAnswers: z.boolean().default(true),
});
export type MetricsConfig = z.infer<typeof MetricsConfig>;
export const DEFAULT_METRICS_CONFIG: MetricsConfig = MetricsConfig.parse({});

const CalendarDate = z.string().refine(isCalendarDate, 'must be a calendar date, YYYY-MM-DD');

/** The query string of GET /metrics and GET /metrics.csv. */
export const MetricsQueryParams = z.strictObject({
  from: CalendarDate.optional().describe(
    'First day of the period (London date, inclusive): the first day of a calendar quarter (1 January, 1 April, 1 July or 1 October), as periods are whole calendar quarters; default: four quarters (12 months) back from `to`, or as many whole quarters as the deployment\'s longest period allows when that is shorter',
  ),
  to: CalendarDate.optional().describe(
    'Last day of the period (London date, inclusive): the last day of a calendar quarter (31 March, 30 June, 30 September or 31 December); default: the end of the last complete quarter. Figures come only from complete quarters: a `to` in the current quarter or later is answered up to the end of the last complete quarter, and the answer says so (`period.to`, and `period.requestedTo` with the day asked for)',
  ),
  groupBy: z
    .string()
    .max(200)
    .optional()
    .describe(`Comma-separated breakdowns, each given separately next to the overall figures: ${DIMENSIONS.join(', ')}`),
});

export interface MetricsQuery {
  from: string;
  to: string;
  groupBy: Dimension[];
  /** The `to` asked for, when the answer stops earlier (figures come only from complete quarters). */
  requestedTo?: string;
}

export type QueryResult = { ok: true; query: MetricsQuery } | { ok: false; errors: FieldError[] };

const isDimension = (value: string): value is Dimension => (DIMENSIONS as readonly string[]).includes(value);

const WHOLE_QUARTERS = 'periods are whole calendar quarters';

/**
 * Read and check a metrics query. `today` (a London date) decides which quarters are complete. Every
 * refusal names the parameter at fault, what was sent, and what was filled in for what was not.
 *
 * Periods are whole calendar quarters, and figures come only from complete quarters. With any day as
 * either end, a commissioner could ask for the same period a day longer, day after day: the day a
 * count moved (a rounded 5 appearing where it was suppressed, 7 becoming 8 under the rounding) was the
 * day one woman exited, and said whether she had reoffended. Rounding and suppression hold within one
 * answer, not across hundreds of overlapping ones (test/unit/metrics-period-sieve.test.ts replays it).
 * Whole months were not enough: every start month with every end month still pinned women's outcomes
 * (10 of an 80-plan cohort, 105 of a 200-plan one over two years; whole quarters: none, measured by
 * test/support/period-sieve.ts). A quarter not yet over is never answered: its figures would move as
 * it fills, and asked each month it would give every month's end back. A `to` in the current quarter
 * or later is answered up to the end of the last complete quarter (a financial year asked for in its
 * ninth month is its two complete quarters), and `requestedTo` says what was asked. A period that
 * starts in a quarter not yet complete has no figures at all, and is refused. The longest period is
 * counted on the period answered, after that cut.
 */
/**
 * The period rules a deployment answers by: the most whole quarters one answer may cover (at least one,
 * from maxPeriodMonths), and how many a query that sends no `from` is answered (four, or the most allowed
 * if fewer). The API's answer carries them (`periodRules`), so what the dashboard says of the default is
 * this rule, not a copy of it.
 */
export interface MetricsPeriodRules {
  maxQuarters: number;
  defaultQuarters: number;
}

/** Four quarters, a year: the period a commissioner who sends no `from` asked for, where allowed. */
const DEFAULT_QUARTERS = 4;

export function metricsPeriodRules(config: Pick<MetricsConfig, 'maxPeriodMonths'>): MetricsPeriodRules {
  const maxQuarters = Math.max(1, Math.floor(config.maxPeriodMonths / 3));
  return { maxQuarters, defaultQuarters: Math.min(DEFAULT_QUARTERS, maxQuarters) };
}

export function resolveMetricsQuery(params: Record<string, string | undefined>, today: string, config: Pick<MetricsConfig, 'maxPeriodMonths'>): QueryResult {
  const errors: FieldError[] = [];
  // A parameter given twice reaches here joined by a comma (as API Gateway joins them): name it, rather than read one of them.
  const single: Record<string, string | undefined> = { ...params };
  for (const name of ['from', 'to'] as const) {
    const value = params[name];
    if (value !== undefined && value.includes(',')) {
      errors.push({ path: name, message: `was given more than once (${value.split(',').join(', ')}): give one date` });
      delete single[name];
    }
  }
  const parsed = MetricsQueryParams.safeParse(single);
  if (!parsed.success) {
    errors.push(
      ...parsed.error.issues.flatMap((issue) =>
        issue.code === 'unrecognized_keys'
          ? issue.keys.map((key) => ({ path: key, message: `is not a known parameter: use from, to and groupBy` }))
          : [{ path: issue.path.map(String).join('.') || '(query)', message: `${issue.message} (sent: ${String(single[String(issue.path[0])])})` }],
      ),
    );
    return { ok: false, errors };
  }
  const lastComplete = addDaysToDate(firstOfQuarter(today), -1);
  const given = parsed.data;
  if (given.from !== undefined && given.from !== firstOfQuarter(given.from))
    errors.push({ path: 'from', message: `must be the first day of a quarter (1 January, 1 April, 1 July or 1 October), as ${WHOLE_QUARTERS}: ${given.from} was sent (its quarter starts ${firstOfQuarter(given.from)})` });
  if (given.to !== undefined && given.to !== lastOfQuarter(given.to))
    errors.push({ path: 'to', message: `must be the last day of a quarter (31 March, 30 June, 30 September or 31 December), as ${WHOLE_QUARTERS}: ${given.to} was sent (its quarter ends ${lastOfQuarter(given.to)})` });
  if (errors.length === 0) {
    const to = given.to === undefined || given.to > lastComplete ? lastComplete : given.to;
    const toSaid = given.to === undefined ? `to was not given: the end of the last complete quarter, ${lastComplete}` : given.to > lastComplete ? `to ${given.to} is answered up to the end of the last complete quarter, ${lastComplete}` : `to ${given.to}`;
    // Whole quarters: the most whole quarters the setting allows (at least one).
    const rules = metricsPeriodRules(config);
    const maxMonths = rules.maxQuarters * 3;
    // Four quarters unless the deployment allows fewer: a commissioner who sent no `from` asked for the
    // usual period, and is answered the longest one allowed, not refused over a `from` she never sent.
    const from = given.from ?? firstOfQuarter(addMonthsToDate(to, 1 - rules.defaultQuarters * 3));
    if (given.from !== undefined && given.from > lastComplete)
      errors.push({ path: 'from', message: `${given.from} starts a quarter not yet complete: figures come only from complete quarters, the last of them ending ${lastComplete}` });
    else if (given.from !== undefined && given.to !== undefined && given.from > given.to) errors.push({ path: 'from', message: `must not be after to: from ${given.from}, to ${given.to}` });
    else if (monthsTouched(from, to) > maxMonths) {
      const months = monthsTouched(from, to);
      const limit = `the period may cover at most ${maxMonths} months (${maxMonths / 3} quarters)`;
      if (given.to !== undefined && given.to <= lastComplete)
        errors.push({ path: 'to', message: `${limit}: from ${from} to ${to} is ${months} months; from ${from}, to must be ${lastOfQuarter(addMonthsToDate(from, maxMonths - 1))} or earlier` });
      else errors.push({ path: 'from', message: `${limit}: from ${from} (${toSaid}) is ${months} months; from must be ${firstOfQuarter(addMonthsToDate(to, 1 - maxMonths))} or later` });
    }
    const groupBy = readGroupBy(given.groupBy, errors);
    if (errors.length === 0) return { ok: true, query: { from, to, groupBy, ...(given.to !== undefined && given.to !== to ? { requestedTo: given.to } : {}) } };
  } else readGroupBy(given.groupBy, errors);
  return { ok: false, errors };
}

function readGroupBy(raw: string | undefined, errors: FieldError[]): Dimension[] {
  const groupBy: Dimension[] = [];
  for (const part of (raw ?? '').split(',')) {
    const name = part.trim();
    if (name === '') continue;
    if (!isDimension(name)) errors.push({ path: 'groupBy', message: `"${name}" is not a dimension: use ${DIMENSIONS.join(', ')}` });
    else if (!groupBy.includes(name)) groupBy.push(name);
  }
  return groupBy;
}
