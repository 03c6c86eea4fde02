/**
 * The words every answer uses while the figures leave plans out (GET /metrics.csv's first line, the
 * web dashboard's warning), around the reason GET /metrics gives. No value imports, so the web app's
 * bundle carries it as it is (test/browser/web-constants.test.ts).
 */
import type { MetricsIncomplete } from './report-schema.ts';

export const INCOMPLETE_HEADLINE = 'These figures are incomplete.';

/**
 * The reason, then how many plans are not yet counted. That count is left out when it is 0: plans with
 * no stored facts yet are not in it, so 0 does not mean none is missing.
 */
export function incompleteDetail(incomplete: MetricsIncomplete, formatCount: (count: number) => string = String): string {
  return incomplete.staleFacts > 0 ? `${incomplete.reason} Plans not yet counted: ${formatCount(incomplete.staleFacts)}.` : incomplete.reason;
}
