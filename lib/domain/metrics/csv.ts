import { FIGURE_KEYS } from './definitions.ts';
import type { Figures, MetricsReport } from './compute.ts';

const field = (value: string | number) => {
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
};

/**
 * The same figures as the JSON answer, one row per group: the overall row first, then each
 * breakdown's groups. A suppressed cell reads `suppressed`, as in the JSON. The definitions are in
 * the JSON answer (and the OpenAPI document); the column names are the figure keys.
 */
export function metricsCsv(report: MetricsReport): string {
  const header = ['from', 'to', 'dimension', 'group', ...FIGURE_KEYS];
  const row = (dimension: string, group: string, figures: Figures) => [report.period.from, report.period.to, dimension, group, ...FIGURE_KEYS.map((k) => figures[k])].map(field).join(',');
  const rows = [header.join(','), row('overall', 'all', report.overall)];
  for (const dimension of report.groupBy) for (const g of report.breakdowns[dimension] ?? []) rows.push(row(dimension, g.group, g.figures));
  return `${rows.join('\r\n')}\r\n`;
}
