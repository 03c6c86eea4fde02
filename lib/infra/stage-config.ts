import * as z from 'zod';
import { METRICS_FUNCTION_ENV_NAMES, metricsSettingBounds, metricsSettingRule, type MetricsFunctionSettingKey } from '../config.ts';
import { PLAN_ITEM_FORMATS } from '../adapters/dynamodb/plan-item.ts';

/**
 * Per-stage settings for the AWS deployment, parsed with zod so a typo in `-c stage=...` or in the
 * table below fails the synth instead of deploying something half-configured.
 */
export const STAGE_NAMES = ['dev', 'prod'] as const;
export const StageName = z.enum(STAGE_NAMES);
export type StageName = z.infer<typeof StageName>;

/** The retention periods CloudWatch Logs accepts. */
const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

const positiveInt = z.number().int().positive();

/** Where a provider organisation receives its events: EventBridge API destinations call HTTPS endpoints only. */
const webhookUrl = z.url({ protocol: /^https$/, hostname: z.regexes.domain, error: 'an https:// URL' });
export const ProviderWebhooks = z.record(z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'a provider id'), webhookUrl);
export type ProviderWebhooks = z.infer<typeof ProviderWebhooks>;

/** An api-metrics setting, held to the bounds the function itself checks, so a bad one fails the synth naming itself and its rule. */
const metricsSetting = (key: MetricsFunctionSettingKey) => {
  const bounds = metricsSettingBounds(key);
  const error = `must be ${metricsSettingRule(key)} (${METRICS_FUNCTION_ENV_NAMES[key]} of api-metrics)`;
  return z.number({ error }).int({ error }).min(bounds.min, { error }).max(bounds.max, { error });
};

export const StageConfig = z.object({
  stage: StageName,
  /** Prefix of every physical name (functions, table, bus, state machine, log groups). */
  namePrefix: z.string().regex(/^[a-z][a-z0-9-]{2,30}$/, 'lower-case letters, digits and dashes'),
  stackName: z.string().regex(/^[A-Za-z][A-Za-z0-9-]{0,127}$/),
  logRetentionDays: z
    .number()
    .int()
    .refine((days) => (LOG_RETENTION_DAYS as readonly number[]).includes(days), { message: `one of ${LOG_RETENTION_DAYS.join(', ')}` }),
  /** Application log level of the functions (Powertools logger). */
  logLevel: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR']),
  /** What the state machine writes to CloudWatch Logs: execution data holds personal data, so prod keeps it out. */
  stateMachineLogs: z.object({ level: z.enum(['ALL', 'ERROR', 'FATAL', 'OFF']), includeExecutionData: z.boolean() }),
  /** dev is torn down with its data; prod keeps table, key, user pool and logs when the stack goes. */
  retainData: z.boolean(),
  /** Staff sign-in: prod requires a TOTP second factor. */
  mfa: z.enum(['OPTIONAL', 'REQUIRED']),
  /**
   * Cognito feature plan. PLUS adds threat protection (compromised-credential checks, adaptive
   * authentication), enforced in prod where real case workers sign in; dev stays on ESSENTIALS.
   */
  cognitoFeaturePlan: z.enum(['ESSENTIALS', 'PLUS']),
  /**
   * The prefix of the user pool's hosted UI domain (https://<prefix>.auth.<region>.amazoncognito.com),
   * where staff sign in. Prefixes are unique across all AWS accounts in a region: if the stage's is
   * taken, choose another with `-c cognitoDomainPrefix=...`.
   */
  cognitoDomainPrefix: z
    .string()
    .regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, 'lower-case letters, digits and inner dashes, at most 63')
    .refine((prefix) => !/aws|amazon|cognito/.test(prefix), { message: 'Cognito refuses prefixes containing aws, amazon or cognito' }),
  /** How long the bus archive keeps events for replay to a provider that missed them. */
  eventArchiveDays: positiveInt,
  /** Delivery of provider events to their webhooks (one rule and API destination per provider). */
  providerDelivery: z.object({
    /** Retries before an event goes to the provider's dead-letter queue (EventBridge allows 0-185). */
    retryAttempts: z.number().int().min(0).max(185),
    /** How long an undelivered event is retried (EventBridge allows 1 minute to 24 hours). */
    maxEventAgeHours: z.number().int().min(1).max(24),
    /** Requests per second to one provider: their endpoints are small. */
    rateLimitPerSecond: positiveInt.max(300),
    /** How long dead letters wait for someone to look (SQS keeps messages at most 14 days). */
    deadLetterRetentionDays: z.number().int().min(1).max(14),
  }),
  /**
   * providerId → https URL of its webhook, from `-c providerWebhooks='{"bcwa":"https://..."}'` or
   * cdk.context.json. A provider without one gets a placeholder on the reserved .invalid domain, which
   * never resolves: its events are retried, dead-lettered and alarmed on, and never leave AWS.
   */
  providerWebhooks: ProviderWebhooks,
  apiThrottle: z.object({ rateLimit: positiveInt, burstLimit: positiveInt }),
  /**
   * How the commissioner figures are published (api-metrics' METRICS_* environment): the suppression
   * threshold, what shown counts are rounded to, the longest period one answer covers; and how many
   * seconds the facts api-metrics has read serve answers before it reads them again (maxAgeSeconds,
   * METRICS_MAX_AGE_SECONDS). Checked here and again at the function's cold start (functions/api-metrics/handler.ts).
   */
  metrics: z.object({
    suppressionThreshold: metricsSetting('suppressionThreshold'),
    roundCountsTo: metricsSetting('roundCountsTo'),
    maxPeriodMonths: metricsSetting('maxPeriodMonths'),
    maxAgeSeconds: metricsSetting('maxAgeSeconds'),
  }),
  /**
   * How the functions write plan items (PLAN_ITEM_FORMAT; lib/adapters/dynamodb/plan-item.ts). `nested`,
   * the format before 2026-11-28, only for the first deploy over a stack from before then (`-c
   * planItemFormat=nested`), while functions of that release may still run: they cannot read `gzip`.
   */
  planItemFormat: z.enum(PLAN_ITEM_FORMATS, { error: `one of ${PLAN_ITEM_FORMATS.join(', ')}` }),
  /**
   * Origins allowed to call the API from a browser besides the web app's own CloudFront origin,
   * which is always allowed (dev: the web app's local dev server). Never a wildcard.
   */
  extraCorsOrigins: z.array(z.url({ protocol: /^https?$/, error: 'an http(s) origin' }).refine((u) => new URL(u).origin === u, { message: 'an origin: scheme, host and port, no path or trailing slash' })),
  web: z.object({
    /** Countries (ISO 3166-1 alpha-2) from which CloudFront serves the web app: the programme's staff work in England. */
    allowedCountries: z.array(z.string().regex(/^[A-Z]{2}$/, 'an ISO 3166-1 alpha-2 country code')).min(1),
  }),
  alarms: z.object({
    /** API responses with a 5xx status, per 5 minutes. */
    api5xxPerFiveMinutes: positiveInt,
    /** Errors of the API and sweeper functions (which map domain refusals to responses, so any error is real), per 5 minutes. */
    functionErrorsPerFiveMinutes: positiveInt,
    /** Express executions that timed out or were aborted, per 5 minutes. */
    executionTimeoutsPerFiveMinutes: positiveInt,
    /** Failed publishes: events left in the outbox for the sweeper, per 5 minutes. */
    publishErrorsPerFiveMinutes: positiveInt,
    /** Consecutive minutes without a successful sweeper run before someone is told. */
    sweeperMissedMinutes: positiveInt,
    /** Events waiting in a provider's (or the bus's) dead-letter queue. */
    deadLetters: positiveInt,
    /**
     * Failed PlanCommand executions as a percentage of those started, per 15 minutes. Refusals
     * (409, 422…) end in Fail states too, so only a share well above the usual refusals means
     * something is broken; below `minExecutionsForRate` started executions the share is not judged.
     */
    executionFailurePercent: z.number().positive().max(100),
    minExecutionsForRate: positiveInt,
    /** Throttled StartSyncExecution calls (Express quota reached), per 5 minutes. */
    executionThrottlesPerFiveMinutes: positiveInt,
    /** API responses with a 5xx status as a percentage of all, per 5 minutes, once there are `minRequestsForRate`. */
    api5xxPercent: z.number().positive().max(100),
    minRequestsForRate: positiveInt,
    /** Open plans with a deadline past due (the sweeper's OverduePlans gauge). */
    overduePlans: positiveInt,
  }),
});
export type StageConfig = z.infer<typeof StageConfig>;

const STAGES: Record<StageName, z.input<typeof StageConfig>> = {
  dev: {
    stage: 'dev',
    namePrefix: 'wraparound-dev',
    stackName: 'Wraparound-dev',
    logRetentionDays: 14,
    logLevel: 'DEBUG',
    stateMachineLogs: { level: 'ALL', includeExecutionData: true },
    retainData: false,
    mfa: 'OPTIONAL',
    cognitoFeaturePlan: 'ESSENTIALS',
    cognitoDomainPrefix: 'wraparound-dev',
    eventArchiveDays: 7,
    // Fail fast in dev so a broken endpoint shows in the dead-letter queue within minutes.
    providerDelivery: { retryAttempts: 8, maxEventAgeHours: 1, rateLimitPerSecond: 5, deadLetterRetentionDays: 14 },
    providerWebhooks: {},
    apiThrottle: { rateLimit: 20, burstLimit: 40 },
    metrics: { suppressionThreshold: 5, roundCountsTo: 5, maxPeriodMonths: 36, maxAgeSeconds: 30 },
    planItemFormat: 'gzip',
    // The web app's dev server (vite), against the dev API.
    extraCorsOrigins: ['http://localhost:5173'],
    web: { allowedCountries: ['GB'] },
    alarms: {
      api5xxPerFiveMinutes: 10,
      functionErrorsPerFiveMinutes: 10,
      executionTimeoutsPerFiveMinutes: 5,
      publishErrorsPerFiveMinutes: 10,
      sweeperMissedMinutes: 15,
      deadLetters: 1,
      executionFailurePercent: 75,
      minExecutionsForRate: 10,
      executionThrottlesPerFiveMinutes: 5,
      api5xxPercent: 25,
      minRequestsForRate: 20,
      overduePlans: 50,
    },
  },
  prod: {
    stage: 'prod',
    namePrefix: 'wraparound-prod',
    stackName: 'Wraparound-prod',
    logRetentionDays: 365,
    logLevel: 'INFO',
    stateMachineLogs: { level: 'ERROR', includeExecutionData: false },
    retainData: true,
    mfa: 'REQUIRED',
    cognitoFeaturePlan: 'PLUS',
    cognitoDomainPrefix: 'wraparound-prod',
    eventArchiveDays: 90,
    // EventBridge's own maximum: a provider endpoint down for a working day still gets every event.
    providerDelivery: { retryAttempts: 185, maxEventAgeHours: 24, rateLimitPerSecond: 20, deadLetterRetentionDays: 14 },
    providerWebhooks: {},
    apiThrottle: { rateLimit: 100, burstLimit: 200 },
    metrics: { suppressionThreshold: 5, roundCountsTo: 5, maxPeriodMonths: 36, maxAgeSeconds: 30 },
    planItemFormat: 'gzip',
    extraCorsOrigins: [],
    web: { allowedCountries: ['GB'] },
    alarms: {
      api5xxPerFiveMinutes: 1,
      functionErrorsPerFiveMinutes: 1,
      executionTimeoutsPerFiveMinutes: 1,
      publishErrorsPerFiveMinutes: 5,
      sweeperMissedMinutes: 5,
      deadLetters: 1,
      executionFailurePercent: 50,
      minExecutionsForRate: 10,
      executionThrottlesPerFiveMinutes: 1,
      api5xxPercent: 5,
      minRequestsForRate: 20,
      overduePlans: 10,
    },
  },
};

/** What may be set from CDK context on top of the stage's table. */
export interface StageOverrides {
  /** An object (cdk.json, cdk.context.json) or its JSON text (`-c providerWebhooks='{...}'`). */
  providerWebhooks?: unknown;
  /** Another hosted UI domain prefix, when the stage's own is taken in the region. */
  cognitoDomainPrefix?: unknown;
  /** Metrics settings over the stage's (`-c metricsRoundCountsTo=10`: context values arrive as text). */
  metrics?: Partial<Record<MetricsFunctionSettingKey, unknown>>;
  /** `-c planItemFormat=nested` for the first deploy over a stack from before the gzip format. */
  planItemFormat?: unknown;
}

/** A context value as given: digits are a number, anything else is left for the schema to refuse by name. */
const contextNumber = (value: unknown) => (typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value);
const METRICS_CONTEXT_KEYS = {
  suppressionThreshold: 'metricsSuppressionThreshold',
  roundCountsTo: 'metricsRoundCountsTo',
  maxPeriodMonths: 'metricsMaxPeriodMonths',
  maxAgeSeconds: 'metricsMaxAgeSeconds',
} as const satisfies Record<MetricsFunctionSettingKey, string>;

function parseWebhooks(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    throw new Error(`Bad context providerWebhooks: not JSON; give an object of providerId to https URL, e.g. -c providerWebhooks='{"bcwa":"https://example.org/hooks"}'`);
  }
}

/** The config of a stage given on the command line (`-c stage=prod`); dev when none is given. */
export function stageConfig(stage: unknown = 'dev', overrides: StageOverrides = {}): StageConfig {
  const name = StageName.safeParse(stage ?? 'dev');
  if (!name.success) throw new Error(`Unknown stage ${JSON.stringify(stage)}: use one of ${STAGE_NAMES.join(', ')} (cdk synth -c stage=<name>).`);
  const base = STAGES[name.data];
  const webhooks = overrides.providerWebhooks === undefined ? {} : parseWebhooks(overrides.providerWebhooks);
  if (typeof webhooks !== 'object' || webhooks === null || Array.isArray(webhooks)) {
    throw new Error(`Bad context providerWebhooks: ${JSON.stringify(webhooks)} is not an object of providerId to https URL.`);
  }
  const parsed = StageConfig.safeParse({
    ...base,
    providerWebhooks: { ...base.providerWebhooks, ...webhooks },
    ...(overrides.cognitoDomainPrefix === undefined ? {} : { cognitoDomainPrefix: overrides.cognitoDomainPrefix }),
    metrics: { ...base.metrics, ...Object.fromEntries(Object.entries(overrides.metrics ?? {}).filter(([, v]) => v !== undefined).map(([k, v]) => [k, contextNumber(v)])) },
    ...(overrides.planItemFormat === undefined ? {} : { planItemFormat: overrides.planItemFormat }),
  });
  if (!parsed.success) throw new Error(`Bad config for stage ${name.data}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

/** The stage config a CDK app asks for through its context (`stage`, `providerWebhooks`, `cognitoDomainPrefix`). */
export function stageConfigFromContext(node: { tryGetContext(key: string): unknown }): StageConfig {
  const metrics = Object.fromEntries(Object.entries(METRICS_CONTEXT_KEYS).map(([key, contextKey]) => [key, node.tryGetContext(contextKey)]));
  return stageConfig(node.tryGetContext('stage'), {
    providerWebhooks: node.tryGetContext('providerWebhooks'),
    cognitoDomainPrefix: node.tryGetContext('cognitoDomainPrefix'),
    metrics,
    planItemFormat: node.tryGetContext('planItemFormat'),
  });
}
