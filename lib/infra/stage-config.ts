import { z } from 'zod';

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
  /** How long the bus archive keeps events for replay to a provider that missed them. */
  eventArchiveDays: positiveInt,
  apiThrottle: z.object({ rateLimit: positiveInt, burstLimit: positiveInt }),
  /** Origins allowed to call the API from a browser (the SPA's CloudFront origin in prod). */
  corsAllowOrigins: z.array(z.string().min(1)).min(1),
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
    eventArchiveDays: 7,
    apiThrottle: { rateLimit: 20, burstLimit: 40 },
    corsAllowOrigins: ['*'],
    alarms: { api5xxPerFiveMinutes: 10, functionErrorsPerFiveMinutes: 10, executionTimeoutsPerFiveMinutes: 5, publishErrorsPerFiveMinutes: 10, sweeperMissedMinutes: 15 },
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
    eventArchiveDays: 90,
    apiThrottle: { rateLimit: 100, burstLimit: 200 },
    corsAllowOrigins: ['*'],
    alarms: { api5xxPerFiveMinutes: 1, functionErrorsPerFiveMinutes: 1, executionTimeoutsPerFiveMinutes: 1, publishErrorsPerFiveMinutes: 5, sweeperMissedMinutes: 5 },
  },
};

/** The config of a stage given on the command line (`-c stage=prod`); dev when none is given. */
export function stageConfig(stage: unknown = 'dev'): StageConfig {
  const name = StageName.safeParse(stage ?? 'dev');
  if (!name.success) throw new Error(`Unknown stage ${JSON.stringify(stage)}: use one of ${STAGE_NAMES.join(', ')} (cdk synth -c stage=<name>).`);
  const parsed = StageConfig.safeParse(STAGES[name.data]);
  if (!parsed.success) throw new Error(`Bad config for stage ${name.data}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}
