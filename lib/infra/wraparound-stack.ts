import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { keys } from '../adapters/dynamodb/keys.ts';
import { TABLE_DEFINITION } from '../adapters/dynamodb/table-definition.ts';
import { ENV_NAMES } from '../config.ts';
import { seedDirectory } from '../directory/load.ts';
import { definePlanCommand, type StepFunctions } from '../../workflows/plan-command/definition.ts';
import { Alarms } from './alarms.ts';
import { Api } from './api.ts';
import { Functions, functionsThat } from './functions.ts';
import { ProviderDelivery } from './provider-delivery.ts';
import type { StageConfig } from './stage-config.ts';

/** What the capacity store does with a service's item: read, query the partition, reserve and release conditionally. */
export const DIRECTORY_ACTIONS = ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:ConditionCheckItem'];

/** `source` of every event on the bus (the publisher's EVENT_SOURCE); the archive matches on it. */
export const EVENT_SOURCE = 'wraparound';

export interface WraparoundStackProps extends StackProps {
  config: StageConfig;
}

/**
 * Wraparound on AWS: the plan table, the PlanCommand Express state machine and its step functions,
 * the HTTP API behind Cognito, the event bus with a webhook delivery per provider, and the sweeper
 * on a one-minute schedule.
 */
export class WraparoundStack extends Stack {
  readonly table: dynamodb.Table;
  readonly stateMachine: sfn.StateMachine;
  readonly bus: events.EventBus;
  readonly busDeadLetters: sqs.Queue;
  readonly providerDelivery: ProviderDelivery;
  readonly functions: Functions;
  readonly api: Api;

  constructor(scope: Construct, id: string, props: WraparoundStackProps) {
    super(scope, id, props);
    const { config } = props;
    const removalPolicy = config.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const retention = config.logRetentionDays as logs.RetentionDays;

    // Plans hold special-category and criminal-offence data: encrypted with a key this stack owns,
    // and so is every copy of their events (bus, archive, dead letters).
    const key = new kms.Key(this, 'DataKey', {
      alias: `alias/${config.namePrefix}-data`,
      description: 'Wraparound data encryption: plan table, event bus and archive, provider dead letters',
      enableKeyRotation: true,
      removalPolicy,
      pendingWindow: Duration.days(config.retainData ? 30 : 7),
    });

    this.table = new dynamodb.Table(this, 'Table', {
      tableName: config.namePrefix,
      partitionKey: { name: TABLE_DEFINITION.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE_DEFINITION.sortKey, type: dynamodb.AttributeType.STRING },
      // Items that carry it expire (the cached first responses of Idempotency-Keys).
      timeToLiveAttribute: TABLE_DEFINITION.timeToLiveAttribute,
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: key,
      deletionProtection: config.retainData,
      removalPolicy,
    });
    for (const index of TABLE_DEFINITION.indexes) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.name,
        partitionKey: { name: index.partitionKey, type: dynamodb.AttributeType.STRING },
        sortKey: { name: index.sortKey, type: dynamodb.AttributeType.STRING },
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }

    // Events the bus itself cannot process (the data key disabled or gone) land here. It is
    // encrypted by SQS, not with the data key: a queue under the failing key could not take them.
    this.busDeadLetters = new sqs.Queue(this, 'BusDeadLetters', {
      queueName: `${config.namePrefix}-events-dead-letters`,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(config.providerDelivery.deadLetterRetentionDays),
      removalPolicy,
    });
    const busName = `${config.namePrefix}-events`;
    this.bus = new events.EventBus(this, 'Bus', {
      eventBusName: busName,
      description: 'Wraparound plan events (CloudEvents); provider events carry providerid',
      kmsKey: key,
      deadLetterQueue: this.busDeadLetters,
    });
    this.busDeadLetters.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['sqs:SendMessage'],
        resources: [this.busDeadLetters.queueArn],
        conditions: { ArnEquals: { 'aws:SourceArn': this.bus.eventBusArn } },
      }),
    );
    // Delivery is at-least-once and replayable: a provider that missed events can be replayed from here.
    // Built directly (bus.archive() drops kmsKey) under the bus, where bus.archive() put it, so it keeps
    // its logical id. Its source is the bus by ARN: the key policy the archive adds names its source,
    // and a reference to the bus there would make the key depend on a bus that depends on the key.
    const archive = new events.Archive(this.bus, 'Archive', {
      sourceEventBus: events.EventBus.fromEventBusArn(this, 'BusByArn', this.formatArn({ service: 'events', resource: 'event-bus', resourceName: busName })),
      archiveName: `${config.namePrefix}-events`,
      description: 'Every Wraparound event, for replay to providers',
      eventPattern: { source: [EVENT_SOURCE] },
      retention: Duration.days(config.eventArchiveDays),
      kmsKey: key,
    });
    archive.node.addDependency(this.bus);
    this.providerDelivery = new ProviderDelivery(this, 'ProviderDelivery', {
      config,
      bus: this.bus,
      key,
      providerIds: seedDirectory().organizations.map((o) => o.id),
      source: EVENT_SOURCE,
    });

    this.functions = new Functions(this, 'Functions', {
      config,
      environment: { [ENV_NAMES.tableName]: this.table.tableName },
    });
    const fn = this.functions.byName;

    // Least privilege, from FUNCTION_SPECS: each function gets the table access, execution start and
    // bus access its spec names, and the environment that goes with them.
    for (const name of functionsThat((spec) => spec.table === 'read')) this.table.grantReadData(fn[name]);
    for (const name of functionsThat((spec) => spec.table === 'read-write')) this.table.grantReadWriteData(fn[name]);
    for (const name of functionsThat((spec) => spec.table === 'directory')) {
      fn[name].addToRolePolicy(
        new iam.PolicyStatement({
          actions: DIRECTORY_ACTIONS,
          resources: [this.table.tableArn],
          conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [keys.serviceStatePrefix().pk] } },
        }),
      );
      key.grantEncryptDecrypt(fn[name]);
    }
    const publishers = functionsThat((spec) => spec.publishesEvents);
    for (const name of publishers) this.bus.grantPutEventsTo(fn[name]);
    this.functions.addEnvironment(publishers, ENV_NAMES.eventBusName, this.bus.eventBusName);
    this.functions.addEnvironment(publishers, ENV_NAMES.eventSource, EVENT_SOURCE);

    const stepFunctions: StepFunctions = { 'load-plan': fn['load-plan'], decide: fn.decide, 'allocate-providers': fn['allocate-providers'], 'save-plan': fn['save-plan'], 'publish-events': fn['publish-events'] };
    const stateMachineLogs = new logs.LogGroup(this, 'PlanCommandLogs', {
      logGroupName: `/aws/vendedlogs/states/${config.namePrefix}-plan-command`,
      retention,
      removalPolicy,
    });
    this.stateMachine = new sfn.StateMachine(this, 'PlanCommand', {
      stateMachineName: `${config.namePrefix}-plan-command`,
      stateMachineType: sfn.StateMachineType.EXPRESS,
      // The states get a scope of their own so their names never meet other construct ids.
      definitionBody: sfn.DefinitionBody.fromChainable(definePlanCommand(new Construct(this, 'PlanCommandStates'), stepFunctions)),
      logs: {
        destination: stateMachineLogs,
        level: sfn.LogLevel[config.stateMachineLogs.level],
        includeExecutionData: config.stateMachineLogs.includeExecutionData,
      },
      tracingEnabled: true,
    });

    const starters = functionsThat((spec) => spec.startsExecutions);
    for (const name of starters) this.stateMachine.grantStartSyncExecution(fn[name]);
    this.functions.addEnvironment(starters, ENV_NAMES.stateMachineArn, this.stateMachine.stateMachineArn);

    this.api = new Api(this, 'Api', { config, functions: fn });

    new scheduler.Schedule(this, 'SweeperSchedule', {
      scheduleName: `${config.namePrefix}-sweeper`,
      description: 'Turn due deadlines into timer commands; redeliver stranded outboxes',
      schedule: scheduler.ScheduleExpression.rate(Duration.minutes(1)),
      // A missed minute is made up by the next run, so a late invocation is worth nothing.
      target: new schedulerTargets.LambdaInvoke(fn.sweeper, { retryAttempts: 0, maxEventAge: Duration.minutes(1) }),
    });

    new Alarms(this, 'Alarms', {
      config,
      httpApi: this.api.httpApi,
      stateMachine: this.stateMachine,
      functions: fn,
      bus: this.bus,
      busDeadLetters: this.busDeadLetters,
      providerChannels: this.providerDelivery.channels,
    });

    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'HTTP API base URL' });
    new CfnOutput(this, 'TableName', { value: this.table.tableName });
    new CfnOutput(this, 'StateMachineArn', { value: this.stateMachine.stateMachineArn });
    new CfnOutput(this, 'EventBusName', { value: this.bus.eventBusName });
    new CfnOutput(this, 'ProviderApiKeySecrets', {
      value: this.toJsonString(Object.fromEntries(this.providerDelivery.channels.map((c) => [c.providerId, c.apiKey.secretArn]))),
      description: 'providerId → the secret holding the API key its webhook endpoint checks',
    });
    new CfnOutput(this, 'UserPoolId', { value: this.api.userPool.userPoolId });
    new CfnOutput(this, 'UserPoolClientId', { value: this.api.userPoolClient.userPoolClientId });
  }
}
