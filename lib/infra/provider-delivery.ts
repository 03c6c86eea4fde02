import { Annotations, Duration, RemovalPolicy, Stack, Tags } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledge } from './nag.ts';
import type { StageConfig } from './stage-config.ts';
import { placeholderWebhookUrl, WEBHOOK_KEY_HEADER, webhookSettingProblems } from '../adapters/events/provider-destinations.ts';

/** The request body is the CloudEvent itself (structured mode), as the embedded stack's webhooks send it. */
export const CLOUDEVENT_CONTENT_TYPE = 'application/cloudevents+json; charset=utf-8';

export function deadLetterQueueName(config: StageConfig, providerId: string): string {
  return `${config.namePrefix}-${providerId}-dead-letters`;
}

export interface ProviderDeliveryProps {
  config: StageConfig;
  bus: events.IEventBus;
  /** The stack's data key: dead letters hold the same pseudonymous plan data as the bus. */
  key: kms.IKey;
  /** Every provider organisation of the directory the functions run with. */
  providerIds: readonly string[];
  /** `source` of the events the publisher puts on the bus. */
  source: string;
}

export interface ProviderChannel {
  providerId: string;
  endpoint: string;
  /** Whether the endpoint is the .invalid placeholder. */
  placeholder: boolean;
  apiKey: secretsmanager.Secret;
  connection: events.Connection;
  destination: events.ApiDestination;
  rule: events.Rule;
  deadLetterQueue: sqs.Queue;
}

/**
 * Provider events to provider webhooks: per provider organisation a rule matching its `providerid`,
 * an API destination with an API-key connection, a retry policy and a dead-letter queue.
 *
 * One dead-letter queue per provider rather than one shared: SQS can neither redrive nor alarm on a
 * part of a queue, so per provider the depth alarm names whose endpoint is failing, and what is in
 * the queue is exactly what that provider missed. A provider's missed events are replayed from the
 * bus archive to its rule alone (StartReplay with the rule's ARN as filter); the dead letters say
 * which events and when.
 */
export class ProviderDelivery extends Construct {
  readonly channels: ProviderChannel[];
  /**
   * providerId → URL for the providers whose webhook the deploy configured (the others post to their
   * placeholder): what api-providers is told (PROVIDER_WEBHOOKS), so GET subscriptions shows it.
   */
  readonly configuredEndpoints: Readonly<Record<string, string>>;

  constructor(scope: Construct, id: string, props: ProviderDeliveryProps) {
    super(scope, id);
    const { config, bus, key, providerIds } = props;
    const stack = Stack.of(this);
    const removalPolicy = config.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    // Every id a provider of the directory, every URL one the webhook target policy takes off this machine
    // (https to a public host, no credentials or fragment): in the words api-providers' start uses too.
    const problems = webhookSettingProblems('providerWebhooks', config.providerWebhooks, providerIds);
    if (problems.length > 0) throw new Error(`Bad context ${problems.join('; ')}.`);

    this.channels = providerIds.map((providerId) => {
      const configured = config.providerWebhooks[providerId];
      const endpoint = configured ?? placeholderWebhookUrl(providerId);
      const name = `${config.namePrefix}-${providerId}`;

      // The value the provider's endpoint checks. EventBridge keeps its own copy in the secret the
      // connection creates; this one is for handing to the provider, and for rotation.
      const apiKey = new secretsmanager.Secret(this, `${providerId}-api-key`, {
        description: `Wraparound ${config.stage}: the ${WEBHOOK_KEY_HEADER} header on every event sent to ${providerId}`,
        generateSecretString: { passwordLength: 48, excludePunctuation: true },
        removalPolicy,
      });
      Tags.of(apiKey).add('provider', providerId);
      acknowledge(
        apiKey,
        'AwsSolutions-SMG4',
        `The value is shared with ${providerId}, whose endpoint checks it: a new key is a coordinated change (new value here, connection updated by a deploy, provider told), as docs/deploy.md describes, not a scheduled rotation.`,
      );

      const connection = new events.Connection(this, `${providerId}-connection`, {
        connectionName: name,
        description: `Wraparound events to ${providerId}: API key in ${WEBHOOK_KEY_HEADER}`,
        authorization: events.Authorization.apiKey(WEBHOOK_KEY_HEADER, apiKey.secretValue),
      });
      const destination = new events.ApiDestination(this, `${providerId}-destination`, {
        apiDestinationName: name,
        description: `${providerId}'s webhook${configured ? '' : ' (placeholder: set context providerWebhooks)'}`,
        connection,
        endpoint,
        httpMethod: events.HttpMethod.POST,
        rateLimitPerSecond: config.providerDelivery.rateLimitPerSecond,
      });

      const deadLetterQueue = new sqs.Queue(this, `${providerId}-dead-letters`, {
        queueName: deadLetterQueueName(config, providerId),
        encryption: sqs.QueueEncryption.KMS,
        encryptionMasterKey: key,
        enforceSSL: true,
        retentionPeriod: Duration.days(config.providerDelivery.deadLetterRetentionDays),
        removalPolicy,
      });
      acknowledge(deadLetterQueue, 'AwsSolutions-SQS3', `It is itself the dead-letter queue of ${providerId}'s rule target; cdk-nag recognises only SQS redrive as DLQ use.`);

      const rule = new events.Rule(this, `${providerId}-rule`, {
        ruleName: `${name}-webhook`,
        description: `Provider events for ${providerId} to its webhook`,
        eventBus: bus,
        eventPattern: { source: [props.source], detail: { providerid: [providerId] } },
        targets: [
          new targets.ApiDestination(destination, {
            event: events.RuleTargetInput.fromEventPath('$.detail'),
            headerParameters: { 'Content-Type': CLOUDEVENT_CONTENT_TYPE },
            retryAttempts: config.providerDelivery.retryAttempts,
            maxEventAge: Duration.hours(config.providerDelivery.maxEventAgeHours),
            deadLetterQueue,
          }),
        ],
      });

      // A dev stack without webhooks is normal; a prod one is worth a word at every synth.
      if (!configured && config.retainData) {
        Annotations.of(destination).addWarningV2(
          'wraparound:placeholder-webhook',
          `No webhook for provider "${providerId}": its events go to ${endpoint} and dead-letter. Set -c providerWebhooks='{"${providerId}":"https://..."}'.`,
        );
      }

      return { providerId, endpoint, placeholder: !configured, apiKey, connection, destination, rule, deadLetterQueue };
    });
    this.configuredEndpoints = Object.fromEntries(this.channels.filter((c) => !c.placeholder).map((c) => [c.providerId, c.endpoint]));

    // EventBridge writes dead letters through SQS with the data key. The queue ARNs are built from
    // their names: a reference to the queues would make the key depend on queues that depend on it.
    if (this.channels.length > 0) {
      key.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'EventBridgeWritesProviderDeadLetters',
          principals: [new iam.ServicePrincipal('events.amazonaws.com')],
          actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
          resources: ['*'],
          conditions: {
            StringEquals: {
              'kms:ViaService': `sqs.${stack.region}.${stack.urlSuffix}`,
              'kms:EncryptionContext:aws:sqs:arn': this.channels.map((c) => stack.formatArn({ service: 'sqs', resource: deadLetterQueueName(config, c.providerId) })),
            },
          },
        }),
      );
    }
  }
}
