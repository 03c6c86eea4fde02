import * as z from 'zod';
import { MetricsConfig } from './domain/metrics/query.ts';
import { PLAN_ITEM_FORMATS } from './adapters/dynamodb/plan-item.ts';

/**
 * Environment shared by every function, parsed once at start so a missing setting fails fast.
 * The CDK stack sets the same names (ENV_NAMES), so they are written once.
 */
export const ENV_NAMES = {
  tableName: 'TABLE_NAME',
  stateMachineArn: 'STATE_MACHINE_ARN',
  eventBusName: 'EVENT_BUS_NAME',
  eventSource: 'EVENT_SOURCE',
  directoryFile: 'DIRECTORY_FILE',
  identityKeySecretArn: 'IDENTITY_KEY_SECRET_ARN',
  retentionDays: 'RETENTION_DAYS',
  planItemFormat: 'PLAN_ITEM_FORMAT',
} as const;

export { DEFAULT_RETENTION } from './domain/calendar.ts';

export const FunctionConfig = z.object({
  TABLE_NAME: z.string().min(1),
  STATE_MACHINE_ARN: z.string().min(1).optional(),
  EVENT_BUS_NAME: z.string().min(1).optional(),
  EVENT_SOURCE: z.string().min(1).default('wraparound'),
  /** Secrets Manager secret holding the key that links a woman's plans across referrals. */
  IDENTITY_KEY_SECRET_ARN: z.string().min(1).optional(),
  /** Days after a plan closes (or is withdrawn) before its identity is erased; unset: six calendar years (DEFAULT_RETENTION). */
  RETENTION_DAYS: z.coerce.number().int().min(1).max(36_500).optional(),
  /** How plan items are written (lib/adapters/dynamodb/plan-item.ts): `nested` only while a release from before `gzip` still runs. */
  PLAN_ITEM_FORMAT: z.enum(PLAN_ITEM_FORMATS).default('gzip'),
});
export type FunctionConfig = z.infer<typeof FunctionConfig>;

export function readFunctionConfig(env: Record<string, string | undefined>): FunctionConfig {
  const parsed = FunctionConfig.safeParse(env);
  if (!parsed.success) throw new Error(`Bad function configuration: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

/**
 * A setting that cannot work, found at start: the message names the setting, the value and the rule,
 * so whoever set it can put it right (before, a bad metrics setting passed the start and made every
 * GET /metrics a 500).
 */
export class ConfigurationError extends Error {
  override name = 'ConfigurationError';
}

/** The commissioner figures' settings of the api-metrics function (and `wraparound start`); the CDK stack sets them from the stage config. */
export const METRICS_ENV_NAMES = {
  suppressionThreshold: 'METRICS_SUPPRESSION_THRESHOLD',
  roundCountsTo: 'METRICS_ROUND_COUNTS_TO',
  maxPeriodMonths: 'METRICS_MAX_PERIOD_MONTHS',
} as const satisfies Partial<Record<keyof MetricsConfig, string>>;
export type MetricsSettingKey = keyof typeof METRICS_ENV_NAMES;
const METRICS_SETTING_KEYS = Object.keys(METRICS_ENV_NAMES) as MetricsSettingKey[];

/** The figures' settings, each with MetricsConfig's own rule. */
const FIGURE_SETTING_RULES = Object.fromEntries(METRICS_SETTING_KEYS.map((key) => [key, MetricsConfig.shape[key].unwrap()])) as Record<MetricsSettingKey, z.ZodNumber>;

/**
 * api-metrics' own setting, not the figures': how many seconds the facts it has read serve answers
 * before the next answer reads them again (lib/metrics StoredFactsSource). The embedded stack keeps
 * every fact in memory as it changes, so it has no such setting. The CDK stack sets it from the stage config.
 */
const METRICS_SOURCE_ENV_NAMES = { maxAgeSeconds: 'METRICS_MAX_AGE_SECONDS' } as const;
type MetricsSourceSettingKey = keyof typeof METRICS_SOURCE_ENV_NAMES;
const MetricsSourceSettings = z.object({ maxAgeSeconds: z.number().int().min(0).max(60).default(30) });
export type MetricsSourceSettings = z.infer<typeof MetricsSourceSettings>;
const SOURCE_SETTING_RULES = { maxAgeSeconds: MetricsSourceSettings.shape.maxAgeSeconds.unwrap() } satisfies Record<MetricsSourceSettingKey, z.ZodNumber>;

/** Every METRICS_* variable api-metrics reads: the figures' settings and its source's. */
export const METRICS_FUNCTION_ENV_NAMES = { ...METRICS_ENV_NAMES, ...METRICS_SOURCE_ENV_NAMES } as const;
export type MetricsFunctionSettingKey = keyof typeof METRICS_FUNCTION_ENV_NAMES;
const FUNCTION_SETTING_RULES: Record<MetricsFunctionSettingKey, z.ZodNumber> = { ...FIGURE_SETTING_RULES, ...SOURCE_SETTING_RULES };
/** The settings api-metrics is given, as the stage config holds them. */
export type MetricsFunctionSettings = Pick<MetricsConfig, MetricsSettingKey> & MetricsSourceSettings;

/** A whole-number rule in words, from the schema's own bounds (so it cannot drift from what is checked). */
const wholeNumberRule = (rule: z.ZodNumber) => `a whole number from ${rule.minValue} to ${rule.maxValue}`;

/** The rule of one api-metrics setting in words, from the schema the function checks it with (MetricsConfig, or its source's). */
export function metricsSettingRule(key: MetricsFunctionSettingKey): string {
  return wholeNumberRule(FUNCTION_SETTING_RULES[key]);
}

/** The bounds api-metrics holds one of its settings to, so the stage config checks the same ones. */
export function metricsSettingBounds(key: MetricsFunctionSettingKey): { min: number; max: number } {
  const rule = FUNCTION_SETTING_RULES[key];
  return { min: rule.minValue as number, max: rule.maxValue as number };
}

/** Each setting present checked against its rule: the values that pass, and a sentence for each that does not. */
function checkWholeNumbers<K extends string>(
  rules: Record<K, z.ZodNumber>,
  settings: Partial<Record<K, unknown>>,
  nameOf: (key: K) => string,
  asGiven: Partial<Record<K, string>>,
): { values: Partial<Record<K, number>>; problems: string[] } {
  const values: Partial<Record<K, number>> = {};
  const problems: string[] = [];
  for (const key of Object.keys(rules) as K[]) {
    const value = settings[key];
    if (value === undefined) continue;
    const parsed = rules[key].safeParse(value);
    if (parsed.success) values[key] = parsed.data;
    else problems.push(`${nameOf(key)} is ${JSON.stringify(asGiven[key] ?? value)}: it must be ${wholeNumberRule(rules[key])}`);
  }
  return { values, problems };
}

const refuse = (problems: string[]) => new ConfigurationError(`Bad metrics settings: ${problems.join('; ')}.`);

/**
 * Check metrics settings given as numbers (the embedded stack's options, the stage config): each one
 * present must pass MetricsConfig's rule. `nameOf` says how the caller calls the setting.
 */
export function checkMetricsSettings(
  settings: Partial<Record<MetricsSettingKey, unknown>>,
  nameOf: (key: MetricsSettingKey) => string,
  asGiven: Partial<Record<MetricsSettingKey, string>> = {},
): Partial<Pick<MetricsConfig, MetricsSettingKey>> {
  const { values, problems } = checkWholeNumbers(FIGURE_SETTING_RULES, settings, nameOf, asGiven);
  if (problems.length > 0) throw refuse(problems);
  return values;
}

/**
 * Settings as the environment gives them: digits become numbers, anything else stays the text it is
 * and fails its rule. Digits only: Number() would take '', ' 5', '0x5' and '5e0' (z.coerce read '' as 0).
 */
function fromEnvironment<K extends string>(env: Record<string, string | undefined>, names: Record<K, string>): { given: Partial<Record<K, unknown>>; asGiven: Partial<Record<K, string>> } {
  const given: Partial<Record<K, unknown>> = {};
  const asGiven: Partial<Record<K, string>> = {};
  for (const key of Object.keys(names) as K[]) {
    const raw = env[names[key]];
    if (raw === undefined) continue;
    given[key] = /^\d+$/.test(raw) ? Number(raw) : raw;
    asGiven[key] = raw;
  }
  return { given, asGiven };
}

/**
 * The figures' settings from the environment (METRICS_ENV_NAMES), absent ones left to the defaults. A
 * value that is not a whole number in range (0, negative, fractional, text, empty) is a
 * ConfigurationError naming the variable and the rule. `wraparound start` reads these.
 */
export function readMetricsSettings(env: Record<string, string | undefined>): Partial<Pick<MetricsConfig, MetricsSettingKey>> {
  const { given, asGiven } = fromEnvironment(env, METRICS_ENV_NAMES);
  return checkMetricsSettings(given, (key) => METRICS_ENV_NAMES[key], asGiven);
}

/**
 * Every METRICS_* setting of the api-metrics function (the figures' and its source's), read at cold
 * start; one ConfigurationError names every bad one with its rule.
 */
export function readMetricsFunctionSettings(env: Record<string, string | undefined>): { figures: Partial<Pick<MetricsConfig, MetricsSettingKey>>; source: MetricsSourceSettings } {
  const figureEnv = fromEnvironment(env, METRICS_ENV_NAMES);
  const sourceEnv = fromEnvironment(env, METRICS_SOURCE_ENV_NAMES);
  const figures = checkWholeNumbers(FIGURE_SETTING_RULES, figureEnv.given, (key) => METRICS_ENV_NAMES[key], figureEnv.asGiven);
  const source = checkWholeNumbers(SOURCE_SETTING_RULES, sourceEnv.given, (key) => METRICS_SOURCE_ENV_NAMES[key], sourceEnv.asGiven);
  const problems = [...figures.problems, ...source.problems];
  if (problems.length > 0) throw refuse(problems);
  return { figures: figures.values, source: MetricsSourceSettings.parse(source.values) };
}

/** The environment that carries every metrics setting (the figures' and the source's) to the api-metrics function. */
export function metricsEnvironment(settings: MetricsFunctionSettings): Record<string, string> {
  return Object.fromEntries((Object.keys(METRICS_FUNCTION_ENV_NAMES) as MetricsFunctionSettingKey[]).map((key) => [METRICS_FUNCTION_ENV_NAMES[key], String(settings[key])]));
}
