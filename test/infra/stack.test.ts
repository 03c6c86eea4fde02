import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { EventBridgeClient, PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TABLE_DEFINITION } from '../../lib/adapters/dynamodb/table-definition.ts';
import { EventBridgePublisher } from '../../lib/adapters/events/eventbridge-publisher.ts';
import { GROUP_OF_ROLE } from '../../lib/api/auth.ts';
import { ROLES, ROUTES } from '../../lib/api/routes.ts';
import { ENV_NAMES } from '../../lib/config.ts';
import { seedDirectory } from '../../lib/directory/load.ts';
import { ESM_REQUIRE_BANNER, FUNCTION_NAMES, functionSpec, functionsThat, type FunctionName } from '../../lib/infra/functions.ts';
import { CLOUDEVENT_CONTENT_TYPE, WEBHOOK_KEY_HEADER, placeholderWebhookUrl } from '../../lib/infra/provider-delivery.ts';
import { stageConfig } from '../../lib/infra/stage-config.ts';
import { EVENT_SOURCE } from '../../lib/infra/wraparound-stack.ts';
import { planInStage } from '../support/domain-fixtures.ts';
import { synthStack, type Synthesized } from './synth.ts';

type Resource = { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string; UpdateReplacePolicy?: string };
interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

const resourcesOf = (s: Synthesized, type: string) => s.template.findResources(type) as Record<string, Resource>;
const only = (s: Synthesized, type: string): Resource => {
  const found = Object.values(resourcesOf(s, type));
  expect(found, type).toHaveLength(1);
  return found[0] as Resource;
};

/** The logical id of each function, by its name in functions/. */
function functionIds(s: Synthesized): Record<FunctionName, string> {
  const byPhysical = new Map(Object.entries(resourcesOf(s, 'AWS::Lambda::Function')).map(([id, r]) => [r.Properties.FunctionName, id]));
  return Object.fromEntries(FUNCTION_NAMES.map((name) => [name, byPhysical.get(`${s.config.namePrefix}-${name}`)])) as Record<FunctionName, string>;
}

/** Every statement of every identity policy (AWS::IAM::Policy and roles' inline policies), with the role it is attached to. */
function statements(s: Synthesized): { roles: string[]; statement: Statement }[] {
  const out: { roles: string[]; statement: Statement }[] = [];
  for (const policy of Object.values(resourcesOf(s, 'AWS::IAM::Policy'))) {
    const roles = ((policy.Properties.Roles as { Ref: string }[]) ?? []).map((r) => r.Ref);
    for (const statement of (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement) out.push({ roles, statement });
  }
  for (const [id, role] of Object.entries(resourcesOf(s, 'AWS::IAM::Role'))) {
    for (const inline of (role.Properties.Policies as { PolicyDocument: { Statement: Statement[] } }[]) ?? []) {
      for (const statement of inline.PolicyDocument.Statement) out.push({ roles: [id], statement });
    }
  }
  return out;
}

const actionsOf = (statement: Statement) => [statement.Action].flat();

/** The role logical id of a function. */
function roleOf(s: Synthesized, name: FunctionName): string {
  const fn = resourcesOf(s, 'AWS::Lambda::Function')[functionIds(s)[name]] as Resource;
  return ((fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'])[0];
}

function actionsGrantedTo(s: Synthesized, name: FunctionName): string[] {
  const role = roleOf(s, name);
  return statements(s)
    .filter((x) => x.roles.includes(role))
    .flatMap((x) => actionsOf(x.statement));
}

/** The directory of the deployed functions: one delivery channel per organisation. */
const PROVIDER_IDS = seedDirectory().organizations.map((o) => o.id);

/** What "no bundle over 1 MB minified" means here: decimal megabytes, so the stricter reading. */
const MAX_BUNDLE_BYTES = 1_000_000;

function bundleDir(s: Synthesized, name: FunctionName): string {
  const fn = resourcesOf(s, 'AWS::Lambda::Function')[functionIds(s)[name]] as Resource;
  const key = (fn.Properties.Code as { S3Key: string }).S3Key;
  return join(s.outdir, `asset.${key.replace(/\.zip$/, '')}`);
}

/** The logical id of the one resource of a type whose properties match. */
function idOf(s: Synthesized, type: string, properties: Record<string, unknown>): string {
  const ids = Object.keys(s.template.findResources(type, { Properties: properties }));
  expect(ids, `${type} ${JSON.stringify(properties)}`).toHaveLength(1);
  return ids[0] as string;
}

const rules = (s: Synthesized) => Object.entries(resourcesOf(s, 'AWS::Events::Rule'));

/** The one rule whose pattern picks a provider's events: [logical id, resource]. */
function ruleOf(s: Synthesized, providerId: string): [string, Resource] {
  const found = rules(s).filter(([, r]) => JSON.stringify((r.Properties.EventPattern as { detail?: unknown }).detail) === JSON.stringify({ providerid: [providerId] }));
  expect(found, providerId).toHaveLength(1);
  return found[0] as [string, Resource];
}

/** EventBridge's matching for the pattern forms the stack uses: lists of exact values, nested objects. */
function matches(pattern: Record<string, unknown>, event: Record<string, unknown>): boolean {
  return Object.entries(pattern).every(([field, expected]) => {
    const actual = event[field];
    if (Array.isArray(expected)) return expected.includes(actual);
    return typeof actual === 'object' && actual !== null && matches(expected as Record<string, unknown>, actual as Record<string, unknown>);
  });
}

const X_RAY_AND_LOG_DELIVERY = /^(xray:(PutTraceSegments|PutTelemetryRecords|GetSamplingRules|GetSamplingTargets)|logs:(CreateLogDelivery|GetLogDelivery|UpdateLogDelivery|DeleteLogDelivery|ListLogDeliveries|PutResourcePolicy|DescribeResourcePolicies|DescribeLogGroups))$/;

describe('Wraparound stack', () => {
  let dev: Synthesized;
  let prod: Synthesized;

  // Bundling the functions is the slow part: synthesize once per stage, into one cloud assembly
  // directory so that prod finds dev's bundles already staged.
  beforeAll(() => {
    dev = synthStack('dev', { bundle: true });
    prod = synthStack('prod', { bundle: true, outdir: dev.outdir });
  }, 180_000);

  afterAll(() => dev?.cleanup());

  describe('table', () => {
    it('is on-demand, with point-in-time recovery and a customer-managed KMS key that rotates', () => {
      dev.template.hasResourceProperties('AWS::DynamoDB::Table', {
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: Match.objectLike({ 'Fn::GetAtt': [Match.stringLikeRegexp('^DataKey'), 'Arn'] }) },
        KeySchema: [
          { AttributeName: TABLE_DEFINITION.partitionKey, KeyType: 'HASH' },
          { AttributeName: TABLE_DEFINITION.sortKey, KeyType: 'RANGE' },
        ],
      });
      dev.template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    });

    it('has every index of TABLE_DEFINITION with ALL projection, and only string attributes', () => {
      const table = only(dev, 'AWS::DynamoDB::Table');
      const indexes = table.Properties.GlobalSecondaryIndexes as { IndexName: string; KeySchema: unknown; Projection: unknown }[];
      expect(indexes.map((i) => i.IndexName).sort()).toEqual(TABLE_DEFINITION.indexes.map((i) => i.name).sort());
      for (const index of TABLE_DEFINITION.indexes) {
        expect(indexes.find((i) => i.IndexName === index.name)).toEqual({
          IndexName: index.name,
          KeySchema: [
            { AttributeName: index.partitionKey, KeyType: 'HASH' },
            { AttributeName: index.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        });
      }
      const attributes = table.Properties.AttributeDefinitions as { AttributeName: string; AttributeType: string }[];
      expect(new Set(attributes.map((a) => a.AttributeType))).toEqual(new Set(['S']));
    });

    it('expires items by the TABLE_DEFINITION time-to-live attribute', () => {
      expect(only(dev, 'AWS::DynamoDB::Table').Properties.TimeToLiveSpecification).toEqual({ AttributeName: TABLE_DEFINITION.timeToLiveAttribute, Enabled: true });
      expect(only(prod, 'AWS::DynamoDB::Table').Properties.TimeToLiveSpecification).toEqual({ AttributeName: TABLE_DEFINITION.timeToLiveAttribute, Enabled: true });
    });

    it('is destroyed with a dev stack, retained and deletion-protected in prod', () => {
      const devTable = only(dev, 'AWS::DynamoDB::Table');
      expect(devTable.DeletionPolicy).toBe('Delete');
      expect(devTable.Properties.DeletionProtectionEnabled).toBeFalsy();

      const prodTable = only(prod, 'AWS::DynamoDB::Table');
      expect(prodTable.DeletionPolicy).toBe('Retain');
      expect(prodTable.UpdateReplacePolicy).toBe('Retain');
      expect(prodTable.Properties.DeletionProtectionEnabled).toBe(true);
      expect(only(prod, 'AWS::KMS::Key').DeletionPolicy).toBe('Retain');
      expect(only(prod, 'AWS::Cognito::UserPool').Properties.DeletionProtection).toBe('ACTIVE');
      expect(only(prod, 'AWS::Cognito::UserPool').DeletionPolicy).toBe('Retain');
    });
  });

  describe('state machine', () => {
    it('is Express, traced, and logs ALL with execution data in dev', () => {
      const logGroup = Object.keys(dev.template.findResources('AWS::Logs::LogGroup', { Properties: { LogGroupName: `/aws/vendedlogs/states/${dev.config.namePrefix}-plan-command` } }));
      expect(logGroup).toHaveLength(1);
      dev.template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
        StateMachineType: 'EXPRESS',
        TracingConfiguration: { Enabled: true },
        LoggingConfiguration: {
          Level: 'ALL',
          IncludeExecutionData: true,
          Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [logGroup[0], 'Arn'] } } }],
        },
      });
      dev.template.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: Match.stringLikeRegexp('plan-command$'), RetentionInDays: dev.config.logRetentionDays });
    });

    it('logs only errors, without execution data, in prod', () => {
      prod.template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
        StateMachineType: 'EXPRESS',
        TracingConfiguration: { Enabled: true },
        LoggingConfiguration: Match.objectLike({ Level: 'ERROR', IncludeExecutionData: false }),
      });
      prod.template.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: Match.stringLikeRegexp('plan-command$'), RetentionInDays: prod.config.logRetentionDays });
    });
  });

  describe('functions', () => {
    it('one per handler, Node.js 24 on arm64, nothing else', () => {
      const functions = Object.values(resourcesOf(dev, 'AWS::Lambda::Function'));
      expect(functions.map((f) => f.Properties.FunctionName).sort()).toEqual(FUNCTION_NAMES.map((n) => `${dev.config.namePrefix}-${n}`).sort());
      for (const fn of functions) {
        expect(fn.Properties).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], Handler: 'index.handler', TracingConfig: { Mode: 'Active' } });
        expect([256, 512]).toContain(fn.Properties.MemorySize);
        expect(fn.Properties.Timeout).toBeLessThanOrEqual(60);
      }
    });

    it('get the environment their code reads, and only that', () => {
      const ids = functionIds(dev);
      const env = (name: FunctionName) => ((resourcesOf(dev, 'AWS::Lambda::Function')[ids[name]] as Resource).Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      for (const name of FUNCTION_NAMES) {
        const vars = env(name);
        expect(vars[ENV_NAMES.tableName], name).toEqual({ Ref: Object.keys(resourcesOf(dev, 'AWS::DynamoDB::Table'))[0] });
        expect(vars.NODE_OPTIONS).toBe('--enable-source-maps');
        expect(ENV_NAMES.stateMachineArn in vars, `${name} STATE_MACHINE_ARN`).toBe(Boolean(functionSpec(name).startsExecutions));
        expect(ENV_NAMES.eventBusName in vars, `${name} EVENT_BUS_NAME`).toBe(Boolean(functionSpec(name).publishesEvents));
      }
      expect(env('api-commands')[ENV_NAMES.stateMachineArn]).toEqual({ Ref: Object.keys(resourcesOf(dev, 'AWS::StepFunctions::StateMachine'))[0] });
      expect(env('publish-events')[ENV_NAMES.eventBusName]).toEqual({ Ref: Object.keys(resourcesOf(dev, 'AWS::Events::EventBus'))[0] });
    });

    it('are bundled by esbuild as minified ESM with a source map and a require shim', () => {
      for (const name of FUNCTION_NAMES) {
        const dir = bundleDir(dev, name);
        expect(existsSync(join(dir, 'index.mjs')), `${name} bundle`).toBe(true);
        expect(existsSync(join(dir, 'index.mjs.map')), `${name} source map`).toBe(true);
        expect(readFileSync(join(dir, 'index.mjs'), 'utf8').startsWith(ESM_REQUIRE_BANNER)).toBe(true);
      }
    });

    it(`keeps every bundle under ${MAX_BUNDLE_BYTES / 1_000_000} MB minified`, () => {
      const sizes = FUNCTION_NAMES.map((name) => ({ name, bytes: statSync(join(bundleDir(dev, name), 'index.mjs')).size }));
      console.log(`Lambda bundles (index.mjs, minified):\n${sizes.map(({ name, bytes }) => `  ${name.padEnd(20)} ${(bytes / 1000).toFixed(1).padStart(7)} kB`).join('\n')}`);
      for (const { name, bytes } of sizes) expect(bytes, `${name}: ${bytes} bytes`).toBeLessThanOrEqual(MAX_BUNDLE_BYTES);
    });
  });

  describe('least privilege', () => {
    it('no statement allows every action, and only X-Ray and log delivery use Resource "*"', () => {
      const all = statements(dev).concat(statements(prod));
      expect(all.length).toBeGreaterThan(10);
      for (const { statement } of all) {
        for (const action of actionsOf(statement)) {
          expect(action).not.toBe('*');
          expect(action).not.toMatch(/^[a-z0-9-]+:\*$/);
        }
        if (statement.Resource === '*' || (Array.isArray(statement.Resource) && statement.Resource.includes('*'))) {
          for (const action of actionsOf(statement)) expect(action, JSON.stringify(statement)).toMatch(X_RAY_AND_LOG_DELIVERY);
        }
      }
    });

    it('readers cannot write; the deciding steps reach only the directory partition', () => {
      expect(functionsThat((s) => s.table === 'read')).toEqual(expect.arrayContaining(['load-plan', 'api-queries']));
      expect(functionsThat((s) => s.table === 'read-write')).toEqual(expect.arrayContaining(['save-plan', 'publish-events', 'api-commands', 'sweeper']));
      expect(functionsThat((s) => s.table === 'directory')).toEqual(['decide', 'allocate-providers']);
      expect(functionsThat((s) => s.table === 'none')).toEqual([]);
      const writes = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];
      for (const name of functionsThat((s) => s.table === 'read')) {
        const actions = actionsGrantedTo(dev, name);
        expect(actions).toContain('dynamodb:GetItem');
        expect(actions).toContain('dynamodb:Query');
        expect(actions).toContain('kms:Decrypt');
        for (const w of writes) expect(actions, name).not.toContain(w);
      }
      for (const name of functionsThat((s) => s.table === 'read-write')) {
        const actions = actionsGrantedTo(dev, name);
        for (const w of ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']) expect(actions, name).toContain(w);
        expect(actions, name).toContain('kms:GenerateDataKey*');
      }
      for (const name of functionsThat((s) => s.table === 'directory')) {
        const role = roleOf(dev, name);
        const tableStatements = statements(dev).filter((x) => x.roles.includes(role) && actionsOf(x.statement).some((a) => a.startsWith('dynamodb:')));
        expect(tableStatements.length, name).toBeGreaterThan(0);
        for (const { statement } of tableStatements) {
          expect((statement as Statement & { Condition?: unknown }).Condition, name).toEqual({ 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['DIRECTORY'] } });
          for (const a of ['dynamodb:Scan', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem', 'dynamodb:BatchGetItem']) expect(actionsOf(statement), name).not.toContain(a);
        }
      }
    });

    it('only api-commands and the sweeper start executions; only the publishers put events', () => {
      expect(functionsThat((s) => s.startsExecutions)).toEqual(['api-commands', 'sweeper']);
      expect(functionsThat((s) => s.publishesEvents)).toEqual(['publish-events', 'sweeper']);
      for (const name of FUNCTION_NAMES) {
        const actions = actionsGrantedTo(dev, name);
        expect(actions.includes('states:StartSyncExecution'), name).toBe(name === 'api-commands' || name === 'sweeper');
        expect(actions.includes('events:PutEvents'), name).toBe(name === 'publish-events' || name === 'sweeper');
        expect(actions.some((a) => a.startsWith('states:') && a !== 'states:StartSyncExecution'), name).toBe(false);
      }
      const machineId = Object.keys(resourcesOf(dev, 'AWS::StepFunctions::StateMachine'))[0];
      const busId = Object.keys(resourcesOf(dev, 'AWS::Events::EventBus'))[0];
      for (const { statement } of statements(dev)) {
        if (actionsOf(statement).includes('states:StartSyncExecution')) expect(statement.Resource).toEqual({ Ref: machineId });
        if (actionsOf(statement).includes('events:PutEvents')) expect(statement.Resource).toEqual({ 'Fn::GetAtt': [busId, 'Arn'] });
      }
    });
  });

  describe('HTTP API', () => {
    it('has one route per ROUTES entry, JWT-authorized unless public', () => {
      const routes = Object.values(resourcesOf(dev, 'AWS::ApiGatewayV2::Route'));
      expect(routes.map((r) => r.Properties.RouteKey).sort()).toEqual(ROUTES.map((r) => `${r.method} ${r.path}`).sort());
      const authorizerId = Object.keys(resourcesOf(dev, 'AWS::ApiGatewayV2::Authorizer'))[0];
      for (const route of ROUTES) {
        const found = routes.find((r) => r.Properties.RouteKey === `${route.method} ${route.path}`) as Resource;
        if (route.roles === 'public') {
          expect(found.Properties.AuthorizationType ?? 'NONE', route.path).toBe('NONE');
          expect(found.Properties.AuthorizerId).toBeUndefined();
        } else {
          expect(found.Properties.AuthorizationType, route.path).toBe('JWT');
          expect(found.Properties.AuthorizerId).toEqual({ Ref: authorizerId });
        }
      }
    });

    it('routes each request to the Lambda integration of its function', () => {
      const ids = functionIds(dev);
      const integrations = resourcesOf(dev, 'AWS::ApiGatewayV2::Integration');
      const integrationOf = (id: string) => integrations[id]?.Properties.IntegrationUri;
      for (const route of ROUTES) {
        const [, found] = Object.entries(resourcesOf(dev, 'AWS::ApiGatewayV2::Route')).find(([, r]) => r.Properties.RouteKey === `${route.method} ${route.path}`) as [string, Resource];
        const target = (found.Properties.Target as { 'Fn::Join': [string, [string, { Ref: string }]] })['Fn::Join'][1][1].Ref;
        expect(integrationOf(target), route.path).toEqual({ 'Fn::GetAtt': [ids[route.fn], 'Arn'] });
      }
    });

    it('trusts tokens of the Cognito user pool client only', () => {
      const poolId = Object.keys(resourcesOf(dev, 'AWS::Cognito::UserPool'))[0];
      const clientId = Object.keys(resourcesOf(dev, 'AWS::Cognito::UserPoolClient'))[0];
      const authorizer = only(dev, 'AWS::ApiGatewayV2::Authorizer');
      expect(authorizer.Properties.AuthorizerType).toBe('JWT');
      expect(authorizer.Properties.IdentitySource).toEqual(['$request.header.Authorization']);
      const config = authorizer.Properties.JwtConfiguration as { Audience: unknown[]; Issuer: unknown };
      expect(config.Audience).toEqual([{ Ref: clientId }]);
      expect(JSON.stringify(config.Issuer)).toContain(poolId);
    });

    it('has a user pool with a group per role and a providerId attribute users cannot write', () => {
      const groups = Object.values(resourcesOf(dev, 'AWS::Cognito::UserPoolGroup')).map((g) => g.Properties.GroupName);
      expect(groups.sort()).toEqual(ROLES.map((r) => GROUP_OF_ROLE[r]).sort());
      expect(groups.sort()).toEqual(['commissioners', 'coordinators', 'providers', 'team-leads']);
      dev.template.hasResourceProperties('AWS::Cognito::UserPool', {
        Schema: Match.arrayWith([Match.objectLike({ Name: 'providerId', AttributeDataType: 'String', Mutable: true })]),
        AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      });
      const client = only(dev, 'AWS::Cognito::UserPoolClient');
      expect(client.Properties.ReadAttributes).toContain('custom:providerId');
      expect(client.Properties.WriteAttributes).not.toContain('custom:providerId');
    });

    it('logs access on the default stage and throttles it', () => {
      dev.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
        StageName: '$default',
        AutoDeploy: true,
        AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('\\$context\\.requestId') },
        DefaultRouteSettings: { ThrottlingRateLimit: dev.config.apiThrottle.rateLimit, ThrottlingBurstLimit: dev.config.apiThrottle.burstLimit },
      });
    });
  });

  describe('events and schedule', () => {
    it('has the event bus the publishers write to, encrypted with the data key, with an encrypted archive for replay', () => {
      const keyArn = { 'Fn::GetAtt': [Object.keys(resourcesOf(dev, 'AWS::KMS::Key'))[0], 'Arn'] };
      dev.template.hasResourceProperties('AWS::Events::EventBus', { Name: `${dev.config.namePrefix}-events`, KmsKeyIdentifier: keyArn });
      const archive = Object.entries(resourcesOf(dev, 'AWS::Events::Archive'));
      expect(archive).toHaveLength(1);
      const [archiveId, { Properties: archiveProps }] = archive[0] as [string, Resource];
      expect(archiveProps).toMatchObject({ EventPattern: { source: [EVENT_SOURCE] }, RetentionDays: dev.config.eventArchiveDays, KmsKeyIdentifier: keyArn });
      expect(JSON.stringify(archiveProps.SourceArn)).toContain(`:event-bus/${dev.config.namePrefix}-events`);
      // Where bus.archive() put it: a new logical id would replace the archive and lose what it holds.
      expect(archiveId).toMatch(/^BusArchive[0-9A-F]{8}$/);
      expect(only(prod, 'AWS::Events::Archive').Properties.RetentionDays).toBe(prod.config.eventArchiveDays);
    });

    it('lets EventBridge use the data key for the bus and archive only under their encryption context', () => {
      const statements = (only(dev, 'AWS::KMS::Key').Properties.KeyPolicy as { Statement: (Statement & { Principal?: { Service?: string }; Condition?: Record<string, Record<string, unknown>> })[] }).Statement;
      const forEvents = statements.filter((st) => st.Principal?.Service === 'events.amazonaws.com');
      for (const st of forEvents) {
        if (actionsOf(st).every((a) => a === 'kms:DescribeKey')) continue;
        const context = JSON.stringify(st.Condition?.StringEquals ?? {});
        expect(context, JSON.stringify(st)).toMatch(/kms:EncryptionContext:aws:(events:event-bus|sqs):arn/);
      }
      expect(forEvents.some((st) => JSON.stringify(st.Condition).includes('kms:EncryptionContext:aws:events:event-bus:arn') && actionsOf(st).includes('kms:GenerateDataKey'))).toBe(true);
    });

    it('dead-letters what the bus cannot process into an SQS-encrypted queue only the bus may write to', () => {
      const queueId = idOf(dev, 'AWS::SQS::Queue', { QueueName: `${dev.config.namePrefix}-events-dead-letters` });
      const queue = (resourcesOf(dev, 'AWS::SQS::Queue')[queueId] as Resource).Properties;
      expect(queue.SqsManagedSseEnabled).toBe(true);
      expect(queue.KmsMasterKeyId).toBeUndefined();
      dev.template.hasResourceProperties('AWS::Events::EventBus', { DeadLetterConfig: { Arn: { 'Fn::GetAtt': [queueId, 'Arn'] } } });
      const busId = Object.keys(resourcesOf(dev, 'AWS::Events::EventBus'))[0];
      dev.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: queueId }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
            Match.objectLike({ Effect: 'Allow', Action: 'sqs:SendMessage', Principal: { Service: 'events.amazonaws.com' }, Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [busId, 'Arn'] } } } }),
          ]),
        },
      });
    });

    it('runs the sweeper every minute', () => {
      const sweeperId = functionIds(dev).sweeper;
      dev.template.hasResourceProperties('AWS::Scheduler::Schedule', {
        ScheduleExpression: 'rate(1 minute)',
        State: 'ENABLED',
        Target: Match.objectLike({ Arn: { 'Fn::GetAtt': [sweeperId, 'Arn'] } }),
      });
    });
  });

  describe('provider delivery', () => {
    type Target = { Arn: unknown; InputPath?: string; HttpParameters?: unknown; RetryPolicy?: unknown; DeadLetterConfig?: { Arn: { 'Fn::GetAtt': [string, string] } }; RoleArn?: unknown };
    const targetOf = (s: Synthesized, providerId: string): Target => {
      const targets = ruleOf(s, providerId)[1].Properties.Targets as Target[];
      expect(targets).toHaveLength(1);
      return targets[0] as Target;
    };

    it('has one rule per provider of the directory, on the bus, matching its providerid', () => {
      expect(PROVIDER_IDS).toEqual(['anawim', 'bcwa', 'changing-lives', 'green-square-accord']);
      const busId = Object.keys(resourcesOf(dev, 'AWS::Events::EventBus'))[0];
      expect(rules(dev)).toHaveLength(PROVIDER_IDS.length);
      for (const providerId of PROVIDER_IDS) {
        const [, rule] = ruleOf(dev, providerId);
        expect(rule.Properties).toMatchObject({ EventBusName: { Ref: busId }, State: 'ENABLED', EventPattern: { source: [EVENT_SOURCE], detail: { providerid: [providerId] } } });
      }
    });

    it("routes what the publisher puts on the bus to exactly the addressed provider's rule", async () => {
      const entries: PutEventsRequestEntry[] = [];
      const client = { send: async (command: { input: { Entries: PutEventsRequestEntry[] } }) => (entries.push(...command.input.Entries), { FailedEntryCount: 0, Entries: [] }) };
      const events = planInStage('closed').events;
      await new EventBridgePublisher(client as unknown as EventBridgeClient, 'bus', EVENT_SOURCE).publish(events);
      expect(entries).toHaveLength(events.length);
      const addressed = events.filter((e) => e.providerId);
      expect(addressed.length).toBeGreaterThan(0);
      expect(addressed.length).toBeLessThan(events.length);
      const archivePattern = only(dev, 'AWS::Events::Archive').Properties.EventPattern as Record<string, unknown>;
      entries.forEach((entry, i) => {
        const envelope = { source: entry.Source, 'detail-type': entry.DetailType, detail: JSON.parse(entry.Detail ?? '{}') as unknown };
        const matched = rules(dev).filter(([, r]) => matches(r.Properties.EventPattern as Record<string, unknown>, envelope)).map(([id]) => id);
        const providerId = events[i]?.providerId;
        expect(matched, `${entry.DetailType} for ${providerId ?? 'nobody'}`).toEqual(providerId ? [ruleOf(dev, providerId)[0]] : []);
        expect(matches(archivePattern, envelope)).toBe(true);
      });
    });

    it('sends each provider the CloudEvent through its API destination, with its retry policy and its own dead-letter queue', () => {
      const { providerDelivery } = dev.config;
      const queues = new Set<string>();
      for (const providerId of PROVIDER_IDS) {
        const target = targetOf(dev, providerId);
        const destinationId = idOf(dev, 'AWS::Events::ApiDestination', { Name: `${dev.config.namePrefix}-${providerId}` });
        expect(target.Arn).toEqual({ 'Fn::GetAtt': [destinationId, 'Arn'] });
        expect(target.InputPath).toBe('$.detail');
        expect(target.HttpParameters).toEqual({ HeaderParameters: { 'Content-Type': CLOUDEVENT_CONTENT_TYPE } });
        expect(target.RetryPolicy).toEqual({ MaximumRetryAttempts: providerDelivery.retryAttempts, MaximumEventAgeInSeconds: providerDelivery.maxEventAgeHours * 3600 });
        const queueId = idOf(dev, 'AWS::SQS::Queue', { QueueName: `${dev.config.namePrefix}-${providerId}-dead-letters` });
        expect(target.DeadLetterConfig).toEqual({ Arn: { 'Fn::GetAtt': [queueId, 'Arn'] } });
        queues.add(queueId);
      }
      expect(queues.size).toBe(PROVIDER_IDS.length);
      expect(targetOf(prod, 'bcwa').RetryPolicy).toEqual({ MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 24 * 3600 });
    });

    it('authenticates with an API key kept in Secrets Manager, never in the template', () => {
      for (const providerId of PROVIDER_IDS) {
        const connectionId = idOf(dev, 'AWS::Events::Connection', { Name: `${dev.config.namePrefix}-${providerId}` });
        const connection = (resourcesOf(dev, 'AWS::Events::Connection')[connectionId] as Resource).Properties;
        expect(connection.AuthorizationType).toBe('API_KEY');
        const auth = (connection.AuthParameters as { ApiKeyAuthParameters: { ApiKeyName: string; ApiKeyValue: unknown } }).ApiKeyAuthParameters;
        expect(auth.ApiKeyName).toBe(WEBHOOK_KEY_HEADER);
        const value = JSON.stringify(auth.ApiKeyValue);
        expect(value).toContain('{{resolve:secretsmanager:');
        const secretId = /"Ref":"([A-Za-z0-9]+)"/.exec(value)?.[1] as string;
        const secret = resourcesOf(dev, 'AWS::SecretsManager::Secret')[secretId] as Resource;
        expect(secret.Properties.GenerateSecretString).toMatchObject({ PasswordLength: 48, ExcludePunctuation: true });
        expect(secret.Properties.Tags).toEqual(expect.arrayContaining([{ Key: 'provider', Value: providerId }]));
        dev.template.hasResourceProperties('AWS::Events::ApiDestination', {
          Name: `${dev.config.namePrefix}-${providerId}`,
          ConnectionArn: { 'Fn::GetAtt': [connectionId, 'Arn'] },
          HttpMethod: 'POST',
          InvocationRateLimitPerSecond: dev.config.providerDelivery.rateLimitPerSecond,
        });
      }
      dev.template.resourceCountIs('AWS::SecretsManager::Secret', PROVIDER_IDS.length);
    });

    it('posts to a placeholder that never resolves until a webhook is configured, and warns about it in prod', () => {
      for (const providerId of PROVIDER_IDS) {
        dev.template.hasResourceProperties('AWS::Events::ApiDestination', { Name: `${dev.config.namePrefix}-${providerId}`, InvocationEndpoint: placeholderWebhookUrl(providerId) });
        expect(new URL(placeholderWebhookUrl(providerId)).hostname.endsWith('.invalid')).toBe(true);
      }
      expect(Annotations.fromStack(dev.stack).findWarning('*', Match.stringLikeRegexp('No webhook for provider'))).toHaveLength(0);
      expect(Annotations.fromStack(prod.stack).findWarning('*', Match.stringLikeRegexp('No webhook for provider'))).toHaveLength(PROVIDER_IDS.length);
    });

    it('takes webhook URLs from the providerWebhooks context, as JSON text or an object', () => {
      const asText = synthStack('prod', { bundle: false, context: { providerWebhooks: JSON.stringify({ bcwa: 'https://hooks.bcwa.example/wraparound' }) } });
      const asObject = synthStack('dev', { bundle: false, context: { providerWebhooks: { anawim: 'https://anawim.example/in' } } });
      try {
        asText.template.hasResourceProperties('AWS::Events::ApiDestination', { Name: 'wraparound-prod-bcwa', InvocationEndpoint: 'https://hooks.bcwa.example/wraparound' });
        asText.template.hasResourceProperties('AWS::Events::ApiDestination', { Name: 'wraparound-prod-anawim', InvocationEndpoint: placeholderWebhookUrl('anawim') });
        expect(Annotations.fromStack(asText.stack).findWarning('*', Match.stringLikeRegexp('No webhook for provider "bcwa"'))).toHaveLength(0);
        expect(Annotations.fromStack(asText.stack).findWarning('*', Match.stringLikeRegexp('No webhook for provider'))).toHaveLength(PROVIDER_IDS.length - 1);
        asObject.template.hasResourceProperties('AWS::Events::ApiDestination', { Name: 'wraparound-dev-anawim', InvocationEndpoint: 'https://anawim.example/in' });
      } finally {
        asText.cleanup();
        asObject.cleanup();
      }
    });

    it('refuses a webhook that is not https, an unknown provider, and context that is not an object', () => {
      expect(() => stageConfig('dev', { providerWebhooks: { bcwa: 'http://hooks.example/x' } })).toThrow(/providerWebhooks\.bcwa: an https:\/\/ URL/);
      expect(() => stageConfig('dev', { providerWebhooks: '{not json' })).toThrow(/providerWebhooks: not JSON/);
      expect(() => stageConfig('dev', { providerWebhooks: '["https://a.example"]' })).toThrow(/not an object/);
      expect(() => synthStack('dev', { bundle: false, context: { providerWebhooks: { nobody: 'https://nobody.example/' } } })).toThrow(/"nobody", not a provider of the directory/);
    });

    it('encrypts dead letters with the data key, over TLS only, writable by its own rule alone', () => {
      const keyId = Object.keys(resourcesOf(dev, 'AWS::KMS::Key'))[0];
      for (const providerId of PROVIDER_IDS) {
        const queueName = `${dev.config.namePrefix}-${providerId}-dead-letters`;
        const queueId = idOf(dev, 'AWS::SQS::Queue', { QueueName: queueName });
        const queue = (resourcesOf(dev, 'AWS::SQS::Queue')[queueId] as Resource).Properties;
        expect(queue.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
        expect(queue.MessageRetentionPeriod).toBe(dev.config.providerDelivery.deadLetterRetentionDays * 86_400);
        const [ruleId] = ruleOf(dev, providerId);
        const policy = Object.values(resourcesOf(dev, 'AWS::SQS::QueuePolicy')).find((p) => JSON.stringify(p.Properties.Queues) === JSON.stringify([{ Ref: queueId }])) as Resource;
        const statements = (policy.Properties.PolicyDocument as { Statement: (Statement & { Condition?: unknown; Principal?: unknown })[] }).Statement;
        expect(statements).toEqual(
          expect.arrayContaining([
            expect.objectContaining({ Effect: 'Deny', Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
            expect.objectContaining({ Effect: 'Allow', Action: 'sqs:SendMessage', Principal: { Service: 'events.amazonaws.com' }, Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [ruleId, 'Arn'] } } } }),
          ]),
        );
        expect(statements.filter((st) => st.Effect === 'Allow')).toHaveLength(1);
      }
      // EventBridge may use the key through SQS for exactly these queues.
      const keyPolicy = only(dev, 'AWS::KMS::Key').Properties.KeyPolicy as { Statement: { Sid?: string; Action: string[]; Condition: { StringEquals: Record<string, unknown> } }[] };
      const dlq = keyPolicy.Statement.find((st) => st.Sid === 'EventBridgeWritesProviderDeadLetters');
      expect(dlq?.Action).toEqual(['kms:GenerateDataKey', 'kms:Decrypt']);
      const arns = JSON.stringify(dlq?.Condition.StringEquals['kms:EncryptionContext:aws:sqs:arn']);
      for (const providerId of PROVIDER_IDS) expect(arns).toContain(`:${dev.config.namePrefix}-${providerId}-dead-letters"`);
      expect(JSON.stringify(dlq?.Condition.StringEquals['kms:ViaService'])).toContain('sqs.');
    });

    it('lets each rule invoke its own API destination and nothing else', () => {
      for (const providerId of PROVIDER_IDS) {
        const target = targetOf(dev, providerId);
        const role = (target.RoleArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
        const granted = statements(dev).filter((x) => x.roles.includes(role));
        expect(granted.map((x) => x.statement.Action)).toEqual(['events:InvokeApiDestination']);
        expect(granted[0]?.statement.Resource).toEqual(target.Arn);
      }
    });
  });

  describe('alarms', () => {
    const alarms = (s: Synthesized) => Object.values(resourcesOf(s, 'AWS::CloudWatch::Alarm')).map((a) => a.Properties);
    const topicId = (s: Synthesized) => Object.keys(resourcesOf(s, 'AWS::SNS::Topic'))[0];

    it("alarm on every provider's dead letters, on events not even dead-lettered, and on the bus's dead letters", () => {
      const queueNameOf = (id: string) => (resourcesOf(dev, 'AWS::SQS::Queue')[id] as Resource).Properties.QueueName;
      const depth = alarms(dev).filter((a) => a.MetricName === 'ApproximateNumberOfMessagesVisible');
      const watched = depth.map((a) => queueNameOf(((a.Dimensions as { Name: string; Value: { 'Fn::GetAtt': [string, string] } }[])[0]?.Value['Fn::GetAtt'] ?? [])[0] as string));
      expect(watched.sort()).toEqual([...PROVIDER_IDS.map((id) => `${dev.config.namePrefix}-${id}-dead-letters`), `${dev.config.namePrefix}-events-dead-letters`].sort());
      for (const a of depth) {
        expect(a).toMatchObject({ Namespace: 'AWS/SQS', Statistic: 'Maximum', Threshold: dev.config.alarms.deadLetters, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
        expect(a.AlarmActions).toEqual([{ Ref: topicId(dev) }]);
      }
      const lost = alarms(dev).filter((a) => a.MetricName === 'InvocationsFailedToBeSentToDlq');
      expect(lost).toHaveLength(PROVIDER_IDS.length);
      const busId = Object.keys(resourcesOf(dev, 'AWS::Events::EventBus'))[0];
      for (const providerId of PROVIDER_IDS) {
        const [ruleId] = ruleOf(dev, providerId);
        expect(lost.map((a) => a.Dimensions)).toContainEqual(
          expect.arrayContaining([
            { Name: 'EventBusName', Value: { Ref: busId } },
            { Name: 'RuleName', Value: { Ref: ruleId } },
          ]),
        );
      }
      for (const a of lost) expect(a).toMatchObject({ Namespace: 'AWS/Events', Statistic: 'Sum', Threshold: 1 });
      expect(alarms(prod).filter((a) => a.MetricName === 'ApproximateNumberOfMessagesVisible')).toHaveLength(PROVIDER_IDS.length + 1);
    });
  });

  it('outputs the API URL, table, state machine, bus, user pool and where the providers\' API keys are', () => {
    const outputs = Object.keys(dev.template.toJSON().Outputs as Record<string, unknown>);
    expect(outputs).toEqual(expect.arrayContaining(['ApiUrl', 'TableName', 'StateMachineArn', 'EventBusName', 'UserPoolId', 'ProviderApiKeySecrets']));
  });

  it('names the stack after the stage, and refuses an unknown stage', () => {
    expect(dev.stack.stackName).toBe('Wraparound-dev');
    expect(prod.stack.stackName).toBe('Wraparound-prod');
    expect(() => stageConfig('staging')).toThrow(/Unknown stage "staging"/);
  });
});
