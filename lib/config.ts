import { z } from 'zod';
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

export const DEFAULT_RETENTION_DAYS = 6 * 365;

export const FunctionConfig = z.object({
  TABLE_NAME: z.string().min(1),
  STATE_MACHINE_ARN: z.string().min(1).optional(),
  EVENT_BUS_NAME: z.string().min(1).optional(),
  EVENT_SOURCE: z.string().min(1).default('wraparound'),
  /** Secrets Manager secret holding the key that links a woman's plans across referrals. */
  IDENTITY_KEY_SECRET_ARN: z.string().min(1).optional(),
  /** Days after a plan closes (or is withdrawn) before its identity is erased; default six years. */
  RETENTION_DAYS: z.coerce.number().int().min(1).max(36_500).default(DEFAULT_RETENTION_DAYS),
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

/** The commissioner metrics settings of the api-metrics function; the CDK stack sets them from the stage config. */
export const METRICS_ENV_NAMES = {
  suppressionThreshold: 'METRICS_SUPPRESSION_THRESHOLD',
  roundCountsTo: 'METRICS_ROUND_COUNTS_TO',
  maxPeriodMonths: 'METRICS_MAX_PERIOD_MONTHS',
} as const satisfies Partial<Record<keyof MetricsConfig, string>>;
export type MetricsSettingKey = keyof typeof METRICS_ENV_NAMES;
const METRICS_SETTING_KEYS = Object.keys(METRICS_ENV_NAMES) as MetricsSettingKey[];

/** The rule of one metrics setting in words, from MetricsConfig itself (so it cannot drift from what is checked). */
export function metricsSettingRule(key: MetricsSettingKey): string {
  const number = MetricsConfig.shape[key].unwrap();
  return `a whole number from ${number.minValue} to ${number.maxValue}`;
}

/**
 * Check metrics settings given as numbers (the embedded stack's options, the stage config): each one
 * present must pass MetricsConfig's rule. `nameOf` says how the caller calls the setting.
 */
export function checkMetricsSettings(
  settings: Partial<Record<MetricsSettingKey, unknown>>,
  nameOf: (key: MetricsSettingKey) => string,
  asGiven: Partial<Record<MetricsSettingKey, string>> = {},
): Partial<Pick<MetricsConfig, MetricsSettingKey>> {
  const problems: string[] = [];
  const out: Partial<Pick<MetricsConfig, MetricsSettingKey>> = {};
  for (const key of METRICS_SETTING_KEYS) {
    const value = settings[key];
    if (value === undefined) continue;
    const parsed = MetricsConfig.shape[key].unwrap().safeParse(value);
    if (parsed.success) out[key] = parsed.data;
    else problems.push(`${nameOf(key)} is ${JSON.stringify(asGiven[key] ?? value)}: it must be ${metricsSettingRule(key)}`);
  }
  if (problems.length > 0) throw new ConfigurationError(`Bad metrics settings: ${problems.join('; ')}.`);
  return out;
}

/**
 * The metrics settings from the environment (METRICS_ENV_NAMES), absent ones left to the defaults. A
 * value that is not a whole number in range (0, negative, fractional, text) is a ConfigurationError
 * naming the variable and the rule. Digits only: Number() would take '', ' 5', '0x5' and '5e0'.
 */
export function readMetricsSettings(env: Record<string, string | undefined>): Partial<Pick<MetricsConfig, MetricsSettingKey>> {
  const given: Partial<Record<MetricsSettingKey, unknown>> = {};
  const asGiven: Partial<Record<MetricsSettingKey, string>> = {};
  for (const key of METRICS_SETTING_KEYS) {
    const raw = env[METRICS_ENV_NAMES[key]];
    if (raw === undefined) continue;
    given[key] = /^\d+$/.test(raw) ? Number(raw) : raw;
    asGiven[key] = raw;
  }
  return checkMetricsSettings(given, (key) => METRICS_ENV_NAMES[key], asGiven);
}

/** The environment that carries metrics settings to the api-metrics function. */
export function metricsEnvironment(settings: Pick<MetricsConfig, MetricsSettingKey>): Record<string, string> {
  return Object.fromEntries(METRICS_SETTING_KEYS.map((key) => [METRICS_ENV_NAMES[key], String(settings[key])]));
}
