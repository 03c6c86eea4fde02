/**
 * What the dashboard says of the period a commissioner may ask for. The rule is the API's
 * (metricsPeriodRules, lib/domain/metrics/query.ts), sent on every answer as `periodRules`: four quarters
 * to To unless the deployment allows fewer, and at most its maxPeriodMonths in whole quarters. Before an
 * answer has come (or after a refusal, which carries none) the words claim no number the deployment
 * might not allow.
 */
import type { MetricsPeriodRules } from '../../lib/domain/metrics/query.ts';

export type PeriodRules = MetricsPeriodRules;

const NUMBER_WORDS = ['no', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve'];
const inWords = (n: number) => NUMBER_WORDS[n] ?? String(n);
const quarters = (n: number) => (n === 1 ? 'one quarter' : `${inWords(n)} quarters`);

/** The From field's hint: whole quarters, how many at most, and what an empty From is answered. */
export function periodHint(rules: PeriodRules | undefined): string {
  if (!rules) return 'Periods are whole quarters; default: the longest period allowed up to four quarters, ending at To';
  return `Periods are whole quarters, at most ${quarters(rules.maxQuarters)} (${rules.maxQuarters * 3} months); default: ${rules.defaultQuarters === 1 ? 'the quarter ending at To' : `${quarters(rules.defaultQuarters)} to To`}`;
}

/** The From field's empty choice, as the default it stands for. */
export function periodPlaceholder(rules: PeriodRules | undefined): string {
  if (!rules) return 'The longest allowed, up to four quarters to To';
  const words = rules.defaultQuarters === 1 ? 'The quarter ending at To' : `${quarters(rules.defaultQuarters)} to To`;
  return words.charAt(0).toUpperCase() + words.slice(1);
}
