import { FIGURE_KEYS, roundedRateExample, roundingReach } from './definitions.ts';
import type { Figures, MetricsReport } from './compute.ts';
import { INCOMPLETE_HEADLINE, incompleteDetail } from './incomplete-notice.ts';
import type { MetricsIncomplete } from './report-schema.ts';
import { p90MinimumValues } from './suppression.ts';

const field = (value: string | number) => {
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
};

/**
 * The same figures as the JSON answer, one row per group: the overall row first, then each
 * breakdown's groups. A suppressed cell reads `suppressed`, as in the JSON. The definitions are in
 * the JSON answer (and the OpenAPI document); the column names are the figure keys.
 *
 * While the figures leave plans out, one line comes before the header row: a single field saying so,
 * with the reason. It is cell A1 of a spreadsheet, where nobody opening the file can miss it, and it
 * travels with the file wherever it is saved or sent; a program that takes the first line for the
 * header row finds none of its columns there, rather than taking partial figures for whole. Complete
 * figures: no such line, the file as it always was.
 *
 * After the rows come a few notes, each a line starting with "# " and holding no comma or quote (one
 * field, should a program read it as a row): what a consumer the file is forwarded to needs to read
 * the figures right (the rounding, the threshold, rates from rounded counts, boundedRates, whole
 * quarters). At the end, so the header row stays the first line and a program reading rows stops
 * there or skips them as comments (pandas `comment='#'`, csv-parse `comment: '#'`).
 */
/** The definitions' example (a rate shown as 2 of 6 rounding steps, and the true rates it may stand for), without a comma. */
function example(roundTo: number): string {
  const { shown, lowest, highest } = roundedRateExample(roundTo);
  return `${shown.count} of ${shown.of} shown reads ${shown.percent} and the truth may be anything from ${lowest.count} of ${lowest.of} (${lowest.percent}) to ${highest.count} of ${highest.of} (${highest.percent})`;
}

export function metricsCsvNotes(report: MetricsReport): string[] {
  const { threshold, roundCountsTo: roundTo } = report.suppression;
  const { below, above } = roundingReach(roundTo);
  const notes = [
    'Notes: lines starting with # are notes about the figures above; they are not figures.',
    `Period: ${report.period.from} to ${report.period.to}. Periods are whole calendar quarters and figures come only from complete quarters` +
      (report.period.requestedTo ? `: asked up to ${report.period.requestedTo} and answered up to ${report.period.to} (the end of the last complete quarter).` : '.'),
    `Suppressed: a count below ${threshold} (zero included) reads suppressed; so does any rate or statistic built on one and any other cell that would let one be worked out.`,
    roundTo > 1
      ? `Counts are rounded to the nearest ${roundTo} after suppression (each may be up to ${below} under or ${above} over the true count) and need not add up to their rounded total.`
      : 'Counts are exact (not rounded).',
    roundTo > 1
      ? `Rates are worked out from the rounded counts as shown (not the true rate rounded) so at small numbers a rate can be several points from the true one: ${example(roundTo)}. Medians and 90th percentiles and means are worked out from the exact values.`
      : 'Rates are worked out from the exact counts; medians and 90th percentiles and means from the exact values.',
    `A 90th percentile is shown only over at least ${p90MinimumValues(threshold)} values.`,
    'boundedRates (last column): the rates of the row that read 0.99 or 0.01 only because they are not exactly all or none - figure:below-all is under 1 however close; figure:above-none is over 0. A rate reads 1 or 0 only when it exactly is.',
  ];
  return notes.map((note) => `# ${note}`);
}

/**
 * The CSV of a metrics answer (see above).
 */
export function metricsCsv(report: MetricsReport & { incomplete?: MetricsIncomplete }): string {
  const header = ['from', 'to', 'dimension', 'group', ...FIGURE_KEYS, 'boundedRates'];
  // The row's rates that read 0.99 or 0.01 only because they are not exactly all or none, as "key:bound", space-separated.
  const bounded = (dimension: string, group: string) =>
    (report.boundedRates ?? [])
      .filter((b) => b.dimension === dimension && b.group === group)
      .map((b) => `${b.figure}:${b.bound}`)
      .join(' ');
  const row = (dimension: string, group: string, figures: Figures) => [report.period.from, report.period.to, dimension, group, ...FIGURE_KEYS.map((k) => figures[k]), bounded(dimension, group)].map(field).join(',');
  const note = report.incomplete ? [field(`${INCOMPLETE_HEADLINE} ${incompleteDetail(report.incomplete)}`)] : [];
  const rows = [...note, header.join(','), row('overall', 'all', report.overall)];
  for (const dimension of report.groupBy) for (const g of report.breakdowns[dimension] ?? []) rows.push(row(dimension, g.group, g.figures));
  rows.push(...metricsCsvNotes(report));
  return `${rows.join('\r\n')}\r\n`;
}
