import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TABLE_DEFINITION } from '../../lib/adapters/dynamodb/table-definition.ts';
import { GROUP_OF_ROLE } from '../../lib/api/auth.ts';
import { ROLES, ROUTES } from '../../lib/api/routes.ts';
import { ENV_NAMES } from '../../lib/config.ts';
import { ESM_REQUIRE_BANNER, FUNCTION_NAMES, functionSpec, functionsThat, type FunctionName } from '../../lib/infra/functions.ts';
import { stageConfig } from '../../lib/infra/stage-config.ts';
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
      const ids = functionIds(dev);
      for (const name of FUNCTION_NAMES) {
        const fn = resourcesOf(dev, 'AWS::Lambda::Function')[ids[name]] as Resource;
        const key = (fn.Properties.Code as { S3Key: string }).S3Key;
        const dir = join(dev.outdir, `asset.${key.replace(/\.zip$/, '')}`);
        expect(existsSync(join(dir, 'index.mjs')), `${name} bundle`).toBe(true);
        expect(existsSync(join(dir, 'index.mjs.map')), `${name} source map`).toBe(true);
        expect(readFileSync(join(dir, 'index.mjs'), 'utf8').startsWith(ESM_REQUIRE_BANNER)).toBe(true);
      }
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
    it('has the event bus the publishers write to, with an archive for replay', () => {
      dev.template.hasResourceProperties('AWS::Events::EventBus', { Name: `${dev.config.namePrefix}-events` });
      dev.template.resourceCountIs('AWS::Events::Archive', 1);
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

  it('outputs the API URL, table, state machine, bus and user pool', () => {
    const outputs = Object.keys(dev.template.toJSON().Outputs as Record<string, unknown>);
    expect(outputs).toEqual(expect.arrayContaining(['ApiUrl', 'TableName', 'StateMachineArn', 'EventBusName', 'UserPoolId']));
  });

  it('names the stack after the stage, and refuses an unknown stage', () => {
    expect(dev.stack.stackName).toBe('Wraparound-dev');
    expect(prod.stack.stackName).toBe('Wraparound-prod');
    expect(() => stageConfig('staging')).toThrow(/Unknown stage "staging"/);
  });
});
