import { z } from 'zod';

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
});
export type FunctionConfig = z.infer<typeof FunctionConfig>;

export function readFunctionConfig(env: Record<string, string | undefined>): FunctionConfig {
  const parsed = FunctionConfig.safeParse(env);
  if (!parsed.success) throw new Error(`Bad function configuration: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}
