import { FIGURE_KEYS } from './definitions.ts';
import type { Figures, MetricsReport } from './compute.ts';
import { INCOMPLETE_HEADLINE, incompleteDetail } from './incomplete-notice.ts';
import type { MetricsIncomplete } from './report-schema.ts';

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
  return `${rows.join('\r\n')}\r\n`;
}
