import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SFNClient } from '@aws-sdk/client-sfn';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { makeDocumentClient } from '../adapters/dynamodb/client.ts';
import { PlanRepository } from '../adapters/dynamodb/plan-repository.ts';
import { DirectoryStore } from '../adapters/dynamodb/directory-store.ts';
import { DynamoAuditLog } from '../adapters/dynamodb/audit-log.ts';
import { WebhookStore } from '../adapters/dynamodb/webhook-store.ts';
import { EventBridgePublisher } from '../adapters/events/eventbridge-publisher.ts';
import { englandAndWalesCalendar } from '../adapters/holidays.ts';
import { deployConfigured, readProviderWebhooks, type ProviderDeliveryMode } from '../adapters/events/provider-destinations.ts';
import { SfnWorkflowStarter } from '../adapters/workflow/sfn-starter.ts';
import { readFunctionConfig } from '../config.ts';
import { DEFAULT_POLICY } from '../domain/policy.ts';
import { seedDirectory } from '../directory/load.ts';
import { observed, recordColdStart, traced } from './observability.ts';
import type { StepDeps } from './step-deps.ts';
import type { WorkflowStarter } from '../../workflows/plan-command/state.ts';

/**
 * Dependencies of the Lambda entry points, built from the environment once per container, on the
 * first invocation (so importing a handler module in a test reads no environment).
 */
export interface AwsDeps extends StepDeps {
  workflow: WorkflowStarter;
  identityKey: () => Promise<Uint8Array | undefined>;
  audit: DynamoAuditLog;
}

/** Read a secret once per container; a failure is retried on the next call rather than cached. */
function secretOnce(arn: string | undefined): () => Promise<Uint8Array | undefined> {
  let value: Promise<Uint8Array | undefined> | undefined;
  return () => {
    if (!arn) return Promise.resolve(undefined);
    value ??= traced(new SecretsManagerClient({}))
      .send(new GetSecretValueCommand({ SecretId: arn }))
      .then((out) => Buffer.from(out.SecretString ?? '', 'utf8'))
      .catch((error: unknown) => {
        value = undefined;
        throw error;
      });
    return value;
  };
}

let cached: AwsDeps | undefined;
export function awsDeps(): AwsDeps {
  if (cached) return cached;
  // Built on a container's first invocation: count the cold start (a no-op outside Lambda).
  recordColdStart();
  const config = readFunctionConfig(process.env);
  const plans = new PlanRepository(traced(makeDocumentClient()), config.TABLE_NAME, { itemFormat: config.PLAN_ITEM_FORMAT });

  const client = traced(makeDocumentClient());
  const deps: AwsDeps = {
    plans,
    baseDirectory: seedDirectory(),
    services: new DirectoryStore(client, config.TABLE_NAME),
    policy: DEFAULT_POLICY,
    calendar: englandAndWalesCalendar(),
    publisher: config.EVENT_BUS_NAME
      ? new EventBridgePublisher(traced(new EventBridgeClient({})), config.EVENT_BUS_NAME, config.EVENT_SOURCE)
      : { publish: async () => undefined },
    identityKey: secretOnce(config.IDENTITY_KEY_SECRET_ARN),
    audit: new DynamoAuditLog(client, config.TABLE_NAME),
    workflow: config.STATE_MACHINE_ARN ? new SfnWorkflowStarter(traced(new SFNClient({})), config.STATE_MACHINE_ARN) : missingWorkflow(),
  };
  cached = deps;
  return deps;
}

/**
 * How provider events reach providers on AWS, for the providers API: the API destinations the stack
 * set up at deploy, each URL from PROVIDER_WEBHOOKS (the stack puts the deploy's providerWebhooks
 * there) or the provider's placeholder, each request carrying the provider's API key. Never signed
 * webhooks: nothing on AWS signs with a subscription's secret. Read and checked once, when the
 * function starts; a value that does not validate is reported through `onBadSetting` and gives the
 * `misconfigured` mode, in which the webhook routes refuse with a 500 and everything else still works.
 */
export function awsProviderDelivery(env: Record<string, string | undefined>, providerIds: readonly string[], onBadSetting: (reason: string) => void): ProviderDeliveryMode {
  try {
    return deployConfigured(readProviderWebhooks(env, providerIds));
  } catch (error) {
    onBadSetting(error instanceof Error ? error.message : String(error));
    return { kind: 'misconfigured' };
  }
}

/**
 * The sweeper's removal of the webhook subscription records left on AWS by releases before 2026-11-28
 * (functions/sweeper/aws-subscription-cleanup.ts): the table's subscription store and the deployed
 * directory's providers, the only ones api-providers let subscribe. Given to the sweeper's Lambda entry
 * only: the embedded stack signs its deliveries with its subscriptions' secrets.
 */
export function awsSubscriptionCleanup(deps: Pick<AwsDeps, 'plans' | 'baseDirectory'>): { webhooks: WebhookStore; providerIds: string[] } {
  return { webhooks: new WebhookStore(deps.plans.client, deps.plans.tableName), providerIds: deps.baseDirectory.organizations.map((o) => o.id) };
}

function missingWorkflow(): WorkflowStarter {
  return {
    startSync: async () => {
      throw new Error('STATE_MACHINE_ARN is not set for this function');
    },
  };
}

/**
 * A Lambda entry point whose real handler is built from the environment on first use, with the
 * Lambda context on its log lines and its metrics flushed (observability.ts; the event is never logged).
 */
export function lazyStepHandler<I, O>(factory: (deps: AwsDeps) => (input: I) => Promise<O>) {
  let built: ((input: I) => Promise<O>) | undefined;
  return observed((input: I): Promise<O> => {
    built ??= factory(awsDeps());
    return built(input);
  });
}
