/**
 * The dashboard's words about the period (web/src/period-words.ts) come from the API's rule
 * (metricsPeriodRules), so a deployment allowing under a year is not told "four quarters to To" while
 * its API answers two (e9c6d12). Checked against what resolveMetricsQuery answers a query with no from.
 */
import { describe, expect, it } from 'vitest';
import { metricsPeriodRules, resolveMetricsQuery } from '../../lib/domain/metrics/query.ts';
import { periodHint, periodPlaceholder } from '../../web/src/period-words.ts';

const TODAY = '2026-03-02'; // the last complete quarter ends 31 December 2025

/** How many quarters the API answers a query with no from, at this setting. */
function defaultQuartersAnswered(maxPeriodMonths: number): number {
  const resolved = resolveMetricsQuery({}, TODAY, { maxPeriodMonths });
  if (!resolved.ok) throw new Error(JSON.stringify(resolved.errors));
  const { from, to } = resolved.query;
  return (Number(to.slice(0, 4)) - Number(from.slice(0, 4))) * 4 + (Number(to.slice(5, 7)) - Number(from.slice(5, 7)) + 1) / 3;
}

describe('the period hint on the dashboard', () => {
  it.each([
    [36, 'Periods are whole quarters, at most twelve quarters (36 months); default: four quarters to To', 'Four quarters to To'],
    [12, 'Periods are whole quarters, at most four quarters (12 months); default: four quarters to To', 'Four quarters to To'],
    [9, 'Periods are whole quarters, at most three quarters (9 months); default: three quarters to To', 'Three quarters to To'],
    [6, 'Periods are whole quarters, at most two quarters (6 months); default: two quarters to To', 'Two quarters to To'],
    [4, 'Periods are whole quarters, at most one quarter (3 months); default: the quarter ending at To', 'The quarter ending at To'],
    [1, 'Periods are whole quarters, at most one quarter (3 months); default: the quarter ending at To', 'The quarter ending at To'],
  ])('at maxPeriodMonths %i says what the API answers', (maxPeriodMonths, hint, placeholder) => {
    const rules = metricsPeriodRules({ maxPeriodMonths });
    expect(periodHint(rules)).toBe(hint);
    expect(periodPlaceholder(rules)).toBe(placeholder);
    // The rule the words are made from is the one the API answers by.
    expect(defaultQuartersAnswered(maxPeriodMonths)).toBe(rules.defaultQuarters);
  });

  it('before an answer (or after a refusal) names no number the deployment might not allow', () => {
    expect(periodHint(undefined)).toBe('Periods are whole quarters; default: the longest period allowed up to four quarters, ending at To');
    expect(periodHint(undefined)).not.toMatch(/default: four quarters/);
    expect(periodPlaceholder(undefined)).toBe('The longest allowed, up to four quarters to To');
  });
});
