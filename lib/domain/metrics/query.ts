import { z } from 'zod';
import type { FieldError } from '../errors.ts';
import { addDaysToDate, addMonthsToDate, isCalendarDate } from './dates.ts';
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
  from: CalendarDate.optional().describe('First day of the period (London date, inclusive); default: the day after the same day a year before `to`'),
  to: CalendarDate.optional().describe('Last day of the period (London date, inclusive); default: today. A day after today is read as today: the answer covers the days so far (its period says so)'),
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
}

export type QueryResult = { ok: true; query: MetricsQuery } | { ok: false; errors: FieldError[] };

const isDimension = (value: string): value is Dimension => (DIMENSIONS as readonly string[]).includes(value);

/**
 * Read and check a metrics query. `today` (a London date) fills in a missing `to`. Every refusal
 * names the parameter at fault. A period reaching past today is answered up to today (a financial
 * year asked for in its ninth month is the year to date): figures for days still to come would be
 * guesses, and some read as facts (Active at end of period would count today's plans as active on a
 * day not yet come). A period that starts after today has no figures at all, and is refused.
 */
export function resolveMetricsQuery(params: Record<string, string | undefined>, today: string, config: Pick<MetricsConfig, 'maxPeriodMonths'>): QueryResult {
  const parsed = MetricsQueryParams.safeParse(params);
  if (!parsed.success) {
    return {
      ok: false,
      errors: parsed.error.issues.flatMap((issue) =>
        issue.code === 'unrecognized_keys'
          ? issue.keys.map((key) => ({ path: key, message: `is not a known parameter: use from, to and groupBy` }))
          : [{ path: issue.path.map(String).join('.') || '(query)', message: issue.message }],
      ),
    };
  }
  const to = parsed.data.to ?? today;
  const from = parsed.data.from ?? addDaysToDate(addMonthsToDate(to, -12), 1);
  const errors: FieldError[] = [];
  if (from > to) errors.push({ path: 'from', message: `must not be after to (${to})` });
  else if (from > today) errors.push({ path: 'from', message: `must not be after today (${today}): there are no figures for days still to come` });
  else {
    const latest = addDaysToDate(addMonthsToDate(from, config.maxPeriodMonths), -1);
    if (to > latest) errors.push({ path: 'to', message: `the period may cover at most ${config.maxPeriodMonths} months: from ${from}, to must be ${latest} or earlier` });
  }
  const groupBy: Dimension[] = [];
  for (const raw of (parsed.data.groupBy ?? '').split(',')) {
    const name = raw.trim();
    if (name === '') continue;
    if (!isDimension(name)) errors.push({ path: 'groupBy', message: `"${name}" is not a dimension: use ${DIMENSIONS.join(', ')}` });
    else if (!groupBy.includes(name)) groupBy.push(name);
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, query: { from, to: to > today ? today : to, groupBy } };
}
