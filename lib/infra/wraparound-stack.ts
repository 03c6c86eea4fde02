import { ArnFormat, CfnOutput, Duration, RemovalPolicy, Stack, type CfnElement, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ALL_SHARDS, keys } from '../adapters/dynamodb/keys.ts';
import { TABLE_DEFINITION } from '../adapters/dynamodb/table-definition.ts';
import { ENV_NAMES } from '../config.ts';
import { seedDirectory } from '../directory/load.ts';
import { metricsKeys } from '../metrics/fact-store.ts';
import { definePlanCommand, type StepFunctions } from '../../workflows/plan-command/definition.ts';
import { Alarms } from './alarms.ts';
import { Api, WEB_OAUTH_SCOPES } from './api.ts';
import { Dashboard } from './dashboard.ts';
import { Functions, functionsThat, type FunctionName } from './functions.ts';
import { acknowledge, wildcardResource } from './nag.ts';
import { ProviderDelivery } from './provider-delivery.ts';
import type { StageConfig } from './stage-config.ts';
import { Web } from './web.ts';

/** What the capacity store does with a service's item: read, query the partition, reserve and release conditionally. */
export const DIRECTORY_ACTIONS = ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:ConditionCheckItem'];

/**
 * What the adapters do with the table (test/infra checks every DynamoDB command in the code maps to
 * one of these): reads are gets, batched gets and queries, writes are puts, updates, deletes and batched writes.
 * No streams, no DescribeTable, and no scans but the one below.
 */
export const TABLE_READ_ACTIONS = ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:BatchGetItem'];
export const TABLE_WRITE_ACTIONS = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];
/**
 * The sweeper's one-off walk of the table for plans erased before free text went with her identity
 * (functions/sweeper/erased-redaction.ts): in key order, because a plan's key never changes while its
 * stage does. The sweeper only, on the table itself (no index).
 */
export const TABLE_SCAN_ACTIONS = ['dynamodb:Scan'];

/** The audit log's partitions (AUDIT#<day>, lib/adapters/dynamodb/audit-log.ts) as a dynamodb:LeadingKeys pattern. */
export const AUDIT_LEADING_KEYS = `${keys.audit('', '', '').pk}*`;
/** What an audit writer does with an audit record: create it (a conditional put, never an overwrite). */
export const AUDIT_WRITE_ACTIONS = ['dynamodb:PutItem'];
/**
 * Every item write that could change or remove an existing audit record, or put one past the
 * writers' grant: denied on AUDIT# leading keys to every principal by the table's resource policy.
 * (TransactWriteItems is authorised as the PutItem, UpdateItem and DeleteItem of its parts.)
 */
export const AUDIT_CHANGE_ACTIONS = ['dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];
/**
 * PartiQL writes (ExecuteStatement and its batches and transactions): no code uses them, and their
 * requests are not the item APIs whose leading keys the audit rules above are written against, so the
 * table refuses them to everyone.
 */
export const PARTIQL_WRITE_ACTIONS = ['dynamodb:PartiQLInsert', 'dynamodb:PartiQLUpdate', 'dynamodb:PartiQLDelete'];

/** The partitions of the metrics projection (lib/metrics/fact-store.ts): the only items api-metrics may read. */
export const METRICS_LEADING_KEYS = [...ALL_SHARDS.map((shard) => metricsKeys.factsPartition(shard)), metricsKeys.marker().pk];
/** What the fact store reads: the marker (GetItem) and the fact partitions (Query). */
export const METRICS_READ_ACTIONS = ['dynamodb:GetItem', 'dynamodb:Query'];

/**
 * What a caller of the table needs of its key, through DynamoDB only: Decrypt to open the table key
 * DynamoDB caches, and for writers Encrypt and GenerateDataKey. Exact actions, no `kms:ReEncrypt*`
 * or `kms:GenerateDataKey*` (CDK's table grants), which only re-keying a table would need.
 */
export const TABLE_KEY_READ_ACTIONS = ['kms:Decrypt', 'kms:DescribeKey'];
export const TABLE_KEY_WRITE_ACTIONS = [...TABLE_KEY_READ_ACTIONS, 'kms:Encrypt', 'kms:GenerateDataKey'];

/** What CloudWatch Logs does with the data key for the stack's log groups (AWS's documented set, without wildcards). */
export const LOGS_KEY_ACTIONS = ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:GenerateDataKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:DescribeKey'];

/** The cdk-nag finding id of `<function ARN>:*` (its versions and aliases) in an invoke grant. */
function qualifiedArnFinding(fn: { node: { defaultChild?: unknown } }): string {
  const cfn = fn.node.defaultChild as CfnElement;
  return wildcardResource(`<${Stack.of(cfn).resolve(cfn.logicalId) as string}.Arn>:*`);
}

/** `source` of every event on the bus (the publisher's EVENT_SOURCE); the archive matches on it. */
export const EVENT_SOURCE = 'wraparound';

export interface WraparoundStackProps extends StackProps {
  config: StageConfig;
  /** The built web app (web/dist) to deploy to the bucket; without it only the bucket and distribution. */
  webDistDir?: string;
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
  readonly web: Web;
  readonly identityKey: secretsmanager.Secret;
  readonly alarms: Alarms;
  readonly dashboard: Dashboard;
  /** Whether the built web app was deployed with this synth. */
  readonly webDeployed: boolean;

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
    // Every log group of the stack is encrypted with it too: errors and dev's execution data name plans.
    // Limited to this stage's log groups by name, so the key never depends on them.
    const logGroupArn = (name: string) => this.formatArn({ service: 'logs', resource: 'log-group', resourceName: name, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchLogsEncryptsTheStageLogGroups',
        principals: [new iam.ServicePrincipal(`logs.${this.region}.${this.urlSuffix}`)],
        actions: LOGS_KEY_ACTIONS,
        resources: ['*'],
        conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': [logGroupArn(`/aws/lambda/${config.namePrefix}-*`), logGroupArn(`/aws/vendedlogs/*/${config.namePrefix}-*`)] } },
      }),
    );

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
        projectionType: dynamodb.ProjectionType[index.projection.type],
        ...(index.projection.type === 'INCLUDE' ? { nonKeyAttributes: index.projection.nonKeyAttributes } : {}),
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
    acknowledge(this.busDeadLetters, 'AwsSolutions-SQS3', "It is itself a dead-letter queue (the bus's DeadLetterConfig); cdk-nag recognises only SQS redrive as DLQ use.");
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
      environment: { [ENV_NAMES.tableName]: this.table.tableName, [ENV_NAMES.planItemFormat]: config.planItemFormat },
      logKey: key,
      providerWebhooks: this.providerDelivery.configuredEndpoints,
    });
    const fn = this.functions.byName;

    // Least privilege, from FUNCTION_SPECS: each function gets the table access, execution start and
    // bus access its spec names, and the environment that goes with them. The indexes are named one
    // by one rather than as <table>/index/*.
    const tableResources = [this.table.tableArn, ...TABLE_DEFINITION.indexes.map((index) => `${this.table.tableArn}/index/${index.name}`)];
    const viaDynamoDb = { StringEquals: { 'kms:ViaService': `dynamodb.${this.region}.${this.urlSuffix}` } };
    // What each function needs of the table key, gathered over its table grants: one statement each.
    const keyActionsOf = new Map<FunctionName, Set<string>>();
    const grantTable = (name: FunctionName, actions: string[], keyActions: string[], conditions?: Record<string, unknown>, resources = tableResources) => {
      fn[name].addToRolePolicy(new iam.PolicyStatement({ actions, resources, ...(conditions ? { conditions } : {}) }));
      const needed = keyActionsOf.get(name) ?? new Set<string>();
      for (const action of keyActions) needed.add(action);
      keyActionsOf.set(name, needed);
    };
    for (const name of functionsThat((spec) => spec.table === 'read')) grantTable(name, TABLE_READ_ACTIONS, TABLE_KEY_READ_ACTIONS);
    for (const name of functionsThat((spec) => spec.table === 'read-write')) grantTable(name, [...TABLE_READ_ACTIONS, ...TABLE_WRITE_ACTIONS], TABLE_KEY_WRITE_ACTIONS);
    grantTable('sweeper', TABLE_SCAN_ACTIONS, TABLE_KEY_READ_ACTIONS, undefined, [this.table.tableArn]);
    for (const name of functionsThat((spec) => spec.table === 'directory')) {
      grantTable(name, DIRECTORY_ACTIONS, TABLE_KEY_WRITE_ACTIONS, { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [keys.serviceStatePrefix().pk] } }, [this.table.tableArn]);
    }
    for (const name of functionsThat((spec) => spec.table === 'metrics-facts')) {
      grantTable(name, METRICS_READ_ACTIONS, TABLE_KEY_READ_ACTIONS, { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': METRICS_LEADING_KEYS } }, [this.table.tableArn]);
    }
    // Audit writers whose table access puts nothing (api-queries reads only) may put audit records and
    // nothing else: ForAllValues holds only when every leading key of the request is an AUDIT# one.
    // Read-write audit writers already hold PutItem on the table; a second, narrower statement would
    // add nothing.
    for (const name of functionsThat((spec) => spec.writesAudit && spec.table !== 'read-write')) {
      grantTable(name, AUDIT_WRITE_ACTIONS, TABLE_KEY_WRITE_ACTIONS, { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [AUDIT_LEADING_KEYS] } }, [this.table.tableArn]);
    }
    for (const [name, keyActions] of keyActionsOf) fn[name].addToRolePolicy(new iam.PolicyStatement({ actions: [...keyActions], resources: [key.keyArn], conditions: viaDynamoDb }));

    // The audit log is append-only on AWS too, enforced on the table rather than on each role: a
    // resource policy's Deny binds every principal of the account (these function roles, a role a
    // later change adds and forgets, an operator at the console), where a Deny in each function's
    // policy binds only the roles that remember to carry it. Its only exception names the audit
    // writers' roles: they may create audit records, nobody else may; nobody may update, delete or
    // batch-write one. IAM cannot see a request's ConditionExpression, so a writer's put of an
    // existing key is stopped by the adapter's attribute_not_exists(pk) (and keys carrying a random
    // UUID), not here. Records that must one day expire can do so by a TTL attribute set when they are
    // created: TTL deletions are the service's own, not a principal's request. Lifting the rule takes a
    // change to the table's policy, a control-plane call CloudTrail records. (Table's own resourcePolicy
    // support: moving to TableV2 for it would replace the retained prod table.)
    // The table's ARN by name: a resource policy cannot refer to the table it is part of.
    const tableArnByName = this.formatArn({ service: 'dynamodb', resource: 'table', resourceName: config.namePrefix });
    const onAuditRecords = { 'ForAnyValue:StringLike': { 'dynamodb:LeadingKeys': [AUDIT_LEADING_KEYS] } };
    this.table.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AuditRecordsAreNeverChanged',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: AUDIT_CHANGE_ACTIONS,
        resources: [tableArnByName],
        conditions: onAuditRecords,
      }),
    );
    this.table.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OnlyAuditWritersCreateAuditRecords',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: AUDIT_WRITE_ACTIONS,
        resources: [tableArnByName],
        conditions: { ...onAuditRecords, ArnNotEquals: { 'aws:PrincipalArn': functionsThat((spec) => spec.writesAudit).map((name) => this.functions.roles[name].roleArn) } },
      }),
    );
    this.table.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'NoPartiQLWrites',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: PARTIQL_WRITE_ACTIONS,
        resources: [tableArnByName],
      }),
    );

    // The key of the keyed hash that links a woman's plans across referrals: random, never in the
    // template, encrypted with the data key, readable by api-commands alone. Losing it unlinks every
    // earlier plan, so prod keeps it when the stack goes.
    this.identityKey = new secretsmanager.Secret(this, 'IdentityKey', {
      secretName: `${config.namePrefix}/identity-key`,
      description: `Wraparound ${config.stage}: HMAC key linking a person's plans across referrals (never rotate without re-keying the PERSON# items)`,
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
      encryptionKey: key,
      removalPolicy,
    });
    acknowledge(
      this.identityKey,
      'AwsSolutions-SMG4',
      'Rotating the identity-linking key would orphan every PERSON# match item keyed with the old value (re-referrals would stop being linked); it is rotated only by a planned re-keying, not on a schedule.',
    );
    const identityReaders = functionsThat((spec) => spec.readsIdentityKey);
    for (const name of identityReaders) this.identityKey.grantRead(fn[name]);
    this.functions.addEnvironment(identityReaders, ENV_NAMES.identityKeySecretArn, this.identityKey.secretArn);

    const publishers = functionsThat((spec) => spec.publishesEvents);
    for (const name of publishers) this.bus.grantPutEventsTo(fn[name]);
    this.functions.addEnvironment(publishers, ENV_NAMES.eventBusName, this.bus.eventBusName);
    this.functions.addEnvironment(publishers, ENV_NAMES.eventSource, EVENT_SOURCE);

    const stepFunctions: StepFunctions = { 'load-plan': fn['load-plan'], decide: fn.decide, 'allocate-providers': fn['allocate-providers'], 'save-plan': fn['save-plan'], 'publish-events': fn['publish-events'] };
    const stateMachineLogs = new logs.LogGroup(this, 'PlanCommandLogs', {
      logGroupName: `/aws/vendedlogs/states/${config.namePrefix}-plan-command`,
      retention,
      encryptionKey: key,
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
    acknowledge(
      this.stateMachine.role,
      [wildcardResource('*'), ...Object.values(stepFunctions).map(qualifiedArnFinding)],
      'Resource "*": X-Ray and CloudWatch Logs delivery (logs:CreateLogDelivery etc.) accept no resource; <function>:*: the LambdaInvoke grant covers the five step functions and their own versions and aliases, nothing else (test/infra checks both).',
    );
    if (config.stateMachineLogs.level !== 'ALL') {
      acknowledge(
        this.stateMachine,
        'AwsSolutions-SF1',
        'Executions carry special-category personal data: prod logs errors only, without execution data (stage config stateMachineLogs); every change is recorded as plan history in the table instead.',
      );
    }

    const starters = functionsThat((spec) => spec.startsExecutions);
    for (const name of starters) this.stateMachine.grantStartSyncExecution(fn[name]);
    this.functions.addEnvironment(starters, ENV_NAMES.stateMachineArn, this.stateMachine.stateMachineArn);

    this.web = new Web(this, 'Web', { config, logKey: key });
    this.api = new Api(this, 'Api', { config, functions: fn, webOrigin: this.web.origin, logKey: key });
    this.webDeployed = this.web.deploy(props.webDistDir, {
      stage: config.stage,
      region: this.region,
      apiUrl: this.api.url,
      userPoolId: this.api.userPool.userPoolId,
      userPoolClientId: this.api.userPoolClient.userPoolClientId,
      hostedUiDomain: this.api.hostedUiOrigin,
      redirectUri: this.api.signInRedirectUri,
      logoutUri: this.api.signOutRedirectUri,
      scope: WEB_OAUTH_SCOPES.join(' '),
    });

    // Its own role, so the invoke grant is on a role this stack names (and acknowledges) itself.
    const sweeperScheduleRole = new iam.Role(this, 'SweeperScheduleRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': this.account } } }),
      description: 'EventBridge Scheduler: invoke the sweeper every minute',
    });
    new scheduler.Schedule(this, 'SweeperSchedule', {
      scheduleName: `${config.namePrefix}-sweeper`,
      description: 'Turn due deadlines into timer commands; redeliver stranded outboxes',
      schedule: scheduler.ScheduleExpression.rate(Duration.minutes(1)),
      // A missed minute is made up by the next run, so a late invocation is worth nothing.
      target: new schedulerTargets.LambdaInvoke(fn.sweeper, { retryAttempts: 0, maxEventAge: Duration.minutes(1), role: sweeperScheduleRole }),
    });
    acknowledge(sweeperScheduleRole, qualifiedArnFinding(fn.sweeper), "The scheduler's invoke grant covers the sweeper and its own versions and aliases (<sweeper>:*), no other function.");

    this.alarms = new Alarms(this, 'Alarms', {
      config,
      httpApi: this.api.httpApi,
      stateMachine: this.stateMachine,
      functions: fn,
      bus: this.bus,
      busDeadLetters: this.busDeadLetters,
      providerChannels: this.providerDelivery.channels,
    });
    this.dashboard = new Dashboard(this, 'Dashboard', {
      config,
      httpApi: this.api.httpApi,
      stateMachine: this.stateMachine,
      functions: fn,
      busDeadLetters: this.busDeadLetters,
      providerChannels: this.providerDelivery.channels,
      alarms: this.alarms.all,
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
    new CfnOutput(this, 'HostedUiUrl', { value: this.api.hostedUiOrigin, description: 'The Cognito hosted UI where staff sign in (the web app sends them there)' });
    new CfnOutput(this, 'WebUrl', { value: this.web.origin, description: 'The web app (CloudFront); the only browser origin the API allows besides extraCorsOrigins' });
    new CfnOutput(this, 'WebBucketName', { value: this.web.bucket.bucketName, description: 'Where the built web app goes' });
    new CfnOutput(this, 'AccessLogBucketName', { value: this.web.logBucket.bucketName, description: 'CloudFront and S3 access logs (empty it before destroying a dev stack)' });
    new CfnOutput(this, 'IdentityKeySecretArn', { value: this.identityKey.secretArn, description: 'The HMAC key linking plans across referrals (api-commands reads it)' });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarms.topic.topicArn, description: 'Subscribe the on-call address here' });
    new CfnOutput(this, 'DashboardName', { value: this.dashboard.dashboard.dashboardName });
  }
}
