import * as z from 'zod';
import { DIMENSIONS, FIGURE_KEYS, SUPPRESSED, type FigureKey } from './definitions.ts';
import { INCOMPLETE_HEADLINE } from './incomplete-notice.ts';

/** The shape of a metrics answer, for the OpenAPI document (the values are built in compute.ts). */
const FigureValue = z.union([z.number(), z.literal(SUPPRESSED)]).describe('The figure (a count rounded to the nearest suppression.roundCountsTo), or "suppressed" (small numbers)');
const Figures = z.object(Object.fromEntries(FIGURE_KEYS.map((k) => [k, FigureValue])) as Record<FigureKey, typeof FigureValue>);
const Dimension = z.enum(DIMENSIONS);
const Definition = z.object({ label: z.string(), kind: z.enum(['count', 'rate', 'median', 'p90', 'mean']), unit: z.string(), definition: z.string() });

export const MetricsIncompleteSchema = z
  .object({
    reason: z.string().describe('Why some plans are left out, in words'),
    staleFacts: z.number().int().min(0).describe('Plans left out because their stored facts are of an older schema or could not be read (plans with no stored facts yet are not counted)'),
  })
  .describe(
    'Present only while the figures leave some plans out: after a deploy that changed how the facts are worked out, until the sweeper has rebuilt every plan\'s facts, or while some stored facts cannot be read (see docs/deploy.md). Absent: every plan is counted.',
  );
export type MetricsIncomplete = z.infer<typeof MetricsIncompleteSchema>;

export const MetricsReportSchema = z
  .object({
    period: z
      .object({
        from: z.iso.date().describe('The first day of the first quarter'),
        to: z.iso.date().describe('The last day of the last quarter: never later than the end of the last complete quarter'),
        requestedTo: z.iso.date().optional().describe('The `to` asked for, present only when the answer stops earlier: figures come only from complete quarters, so a `to` in the current quarter or later is answered up to the end of the last complete quarter'),
      })
      .describe('Whole calendar quarters, London dates, both inclusive'),
    periodRules: z
      .object({
        maxQuarters: z.number().int().min(1).describe('The most whole quarters one answer may cover on this deployment (its maxPeriodMonths in whole quarters, at least one)'),
        defaultQuarters: z.number().int().min(1).describe('The quarters up to `to` a query with no `from` is answered: four, or maxQuarters if fewer'),
      })
      .optional()
      .describe("This deployment's period rules, on every answer of the API"),
    groupBy: z.array(Dimension),
    asOf: z.iso.datetime({ offset: true }).describe('When the figures were worked out: they include every change saved before then'),
    suppression: z.object({
      threshold: z.number().int().min(1),
      roundCountsTo: z.number().int().min(1).describe('Every shown count is rounded to the nearest multiple of this, after suppression (1: exact counts); rates are worked out from the rounded counts as shown, medians, percentiles and means from the exact values'),
      marker: z.literal(SUPPRESSED),
      rules: z.array(z.string()),
    }),
    definitions: z.object({
      figures: z.object(Object.fromEntries(FIGURE_KEYS.map((k) => [k, Definition])) as Record<FigureKey, typeof Definition>),
      dimensions: z.partialRecord(Dimension, z.string()),
    }),
    overall: Figures,
    breakdowns: z.partialRecord(Dimension, z.array(z.object({ group: z.string().describe('A provider id, local authority, need domain, referral source or YYYY-MM'), figures: Figures }))),
    boundedRates: z
      .array(
        z.object({
          dimension: z.union([z.literal('overall'), Dimension]).describe('"overall" for the overall figures, else the breakdown'),
          group: z.string().describe('The group within the breakdown ("all" for overall)'),
          figure: z.enum(FIGURE_KEYS as unknown as [FigureKey, ...FigureKey[]]).describe('The rate'),
          bound: z.enum(['below-all', 'above-none']).describe('below-all: the rate reads 0.99 but is under 1 (not every one counted), nearer 1 than that or not; above-none: it reads 0.01 but is over 0'),
        }),
      )
      .describe(
        'The rates that read 0.99 or 0.01 only because they are not exactly all or none: worked out from the rounded counts, 48 of 50 would read 1 (both round to 50). A rate reads 1 or 0 only when it exactly is. Empty when none is bound.',
      ),
    incomplete: MetricsIncompleteSchema.optional(),
  })
  .meta({ id: 'MetricsReport', description: 'Commissioner figures for a period: aggregates only, small numbers suppressed, shown counts rounded' });

/** The response header of GET /metrics.csv present only while the figures leave plans out; its value is `incomplete.staleFacts`. */
export const FIGURES_INCOMPLETE_HEADER = 'figures-incomplete';

export const METRICS_CSV_DESCRIPTION =
  'The same figures as GET /metrics: a header row (from, to, dimension, group, then one column per figure key, then boundedRates: the rates of the row that read 0.99 or 0.01 only because they are not exactly all or none, as figure:below-all or figure:above-none, space-separated, empty when none), the overall row (dimension "overall", group "all"), then one row per group of each breakdown. Suppressed cells read "suppressed". ' +
  `While the figures leave some plans out (\`incomplete\` in GET /metrics), one line comes before the header row: a single field, "${INCOMPLETE_HEADLINE}" followed by \`incomplete.reason\` and, when known, "Plans not yet counted: N."; the answer then also has the header \`${FIGURES_INCOMPLETE_HEADER}\` (its value \`incomplete.staleFacts\`) and the file name ends "-incomplete.csv". Complete figures have none of these.`;
