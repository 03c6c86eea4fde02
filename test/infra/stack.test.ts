import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { EventBridgeClient, PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TABLE_DEFINITION } from '../../lib/adapters/dynamodb/table-definition.ts';
import { EventBridgePublisher } from '../../lib/adapters/events/eventbridge-publisher.ts';
import { openApiDocument } from '../../lib/api/openapi.ts';
import { GROUP_OF_ROLE, ROLES, ROUTES } from '../../lib/api/routes.ts';
import { ENV_NAMES, METRICS_FUNCTION_ENV_NAMES } from '../../lib/config.ts';
import { seedDirectory } from '../../lib/directory/load.ts';
import { ESM_REQUIRE_BANNER, FUNCTION_NAMES, PROJECT_ROOT, functionSpec, functionsThat, type FunctionName } from '../../lib/infra/functions.ts';
import { CLOUDEVENT_CONTENT_TYPE } from '../../lib/infra/provider-delivery.ts';
import { PROVIDER_WEBHOOKS_ENV, WEBHOOK_KEY_HEADER, placeholderWebhookUrl } from '../../lib/adapters/events/provider-destinations.ts';
import { stageConfig } from '../../lib/infra/stage-config.ts';
import {
  AUDIT_CHANGE_ACTIONS,
  AUDIT_LEADING_KEYS,
  AUDIT_WRITE_ACTIONS,
  DIRECTORY_ACTIONS,
  EVENT_SOURCE,
  METRICS_LEADING_KEYS,
  METRICS_READ_ACTIONS,
  PARTIQL_WRITE_ACTIONS,
  TABLE_READ_ACTIONS,
  TABLE_SCAN_ACTIONS,
  TABLE_WRITE_ACTIONS,
} from '../../lib/infra/wraparound-stack.ts';
import { ALL_SHARDS, keys } from '../../lib/adapters/dynamodb/keys.ts';
import { metricsKeys } from '../../lib/metrics/fact-store.ts';
import { METRIC_NAMES, METRICS_NAMESPACE, OBSERVABILITY_ENV, SERVICE_DIMENSION } from '../../lib/runtime/observability.ts';
import { WEB_RUNTIME_CONFIG_FILE } from '../../lib/infra/web.ts';
import { planInStage } from '../support/domain-fixtures.ts';
import { renderPlanCommandAsl } from '../../workflows/plan-command/render.ts';
import { runAwsSolutions } from './nag.ts';
import { resolveDefinition, synthStack, type Synthesized } from './synth.ts';

/** asl-validator ships CommonJS without types: its one function, typed here. */
const aslValidator = createRequire(import.meta.url)('asl-validator') as (definition: unknown) => { isValid: boolean; errorsText: (separator?: string) => string };

type Resource = { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string; UpdateReplacePolicy?: string };
interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
  Principal?: unknown;
}

const resourcesOf = (s: Synthesized, type: string) => s.template.findResources(type) as Record<string, Resource>;
const only = (s: Synthesized, type: string): Resource => {
  const found = Object.values(resourcesOf(s, type));
  expect(found, type).toHaveLength(1);
  return found[0] as Resource;
};

/** The data key (the other key encrypts the alarm topic only). */
const dataKeyId = (s: Synthesized): string => {
  const ids = Object.keys(resourcesOf(s, 'AWS::KMS::Key')).filter((id) => id.startsWith('DataKey'));
  expect(ids).toHaveLength(1);
  return ids[0] as string;
};
const dataKey = (s: Synthesized): Resource => resourcesOf(s, 'AWS::KMS::Key')[dataKeyId(s)] as Resource;

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

/** A policy resource as text, the way cdk-nag prints it: `<LogicalId.Attr>` for GetAtt, `<Id>` for Ref, joins flattened. */
function render(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, unknown>;
  if (v.Ref) return `<${String(v.Ref)}>`;
  if (v['Fn::GetAtt']) return `<${(v['Fn::GetAtt'] as string[]).join('.')}>`;
  if (v['Fn::Join']) {
    const [separator, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map(render).join(separator);
  }
  if (v['Fn::Sub']) return String(v['Fn::Sub']).replace(/\$\{([^}]+)\}/g, '<$1>');
  return JSON.stringify(value);
}

function filesUnder(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path).flatMap((entry) => filesUnder(join(path, entry)));
}

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

/** An IAM pattern (`*` for any characters; the stack's patterns use no `?`) as a regular expression. */
const glob = (pattern: string) => new RegExp('^' + pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$');

/** The table's statements in its resource policy. */
function tableResourcePolicy(s: Synthesized): Statement[] {
  return ((only(s, 'AWS::DynamoDB::Table').Properties.ResourcePolicy as { PolicyDocument: { Statement: Statement[] } } | undefined)?.PolicyDocument.Statement ?? []);
}

/** A request to the table (or one of its indexes) as IAM sees it: who, which action, which partition keys. */
interface TableRequest {
  /** A function's role (`<RoleId.Arn>`, as a GetAtt renders) or any other principal's ARN. */
  principal: string;
  action: string;
  leadingKeys: string[];
  index?: string;
}

/**
 * How IAM decides a table request within the account: an explicit Deny in the principal's policies
 * or the table's resource policy wins, then an Allow in either, else the implicit deny. Only the
 * condition operators and keys the stack uses are understood; anything else fails the test, so a
 * new kind of condition cannot be silently misread.
 */
function decide(s: Synthesized, request: TableRequest, identity: Statement[]): 'allow' | 'deny' | 'implicit-deny' {
  const tableId = Object.keys(resourcesOf(s, 'AWS::DynamoDB::Table'))[0] as string;
  const tableArn = `arn:<AWS::Partition>:dynamodb:<AWS::Region>:<AWS::AccountId>:table/${s.config.namePrefix}`;
  const target = request.index ? `${tableArn}/index/${request.index}` : tableArn;
  const canonical = (resource: unknown) => render(resource).replace(`<${tableId}.Arn>`, tableArn);
  const holds = (condition: Statement['Condition']) =>
    Object.entries(condition ?? {}).every(([operator, entries]) =>
      Object.entries(entries).every(([key, raw]) => {
        const values = [raw].flat().map(render);
        const actual = key === 'dynamodb:LeadingKeys' ? request.leadingKeys : key === 'aws:PrincipalArn' ? [request.principal] : expect.fail(`decide(): unknown condition key ${key}`);
        const like = (a: string) => values.some((v) => glob(v).test(a));
        switch (operator) {
          case 'ForAllValues:StringEquals':
            return actual.every((a) => values.includes(a));
          case 'ForAllValues:StringLike':
            return actual.every(like);
          case 'ForAnyValue:StringLike':
            return actual.some(like);
          case 'ArnNotEquals':
            return actual.every((a) => !values.includes(a));
          default:
            return expect.fail(`decide(): unknown condition operator ${operator}`);
        }
      }),
    );
  const applies = (statement: Statement) =>
    actionsOf(statement).some((a) => glob(a).test(request.action)) && [statement.Resource].flat().some((r) => glob(canonical(r)).test(target)) && holds(statement.Condition);
  const resourcePolicy = tableResourcePolicy(s).filter((x) => {
    const principals = [(x.Principal as { AWS?: unknown } | undefined)?.AWS].flat().map(render);
    return principals.includes('*') || principals.includes(request.principal);
  });
  const relevant = [...identity, ...resourcePolicy].filter(applies);
  if (relevant.some((x) => x.Effect === 'Deny')) return 'deny';
  return relevant.some((x) => x.Effect === 'Allow') ? 'allow' : 'implicit-deny';
}

/** decide() for a function's role, with the statements of its own policies. */
function decideFor(s: Synthesized, name: FunctionName, request: Omit<TableRequest, 'principal'>) {
  const role = roleOf(s, name);
  return decide(s, { ...request, principal: `<${role}.Arn>` }, statements(s).filter((x) => x.roles.includes(role)).map((x) => x.statement));
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

  let webDist: string;

  // Bundling the functions is the slow part: synthesize once per stage, into one cloud assembly
  // directory so that prod finds dev's bundles already staged. dev gets a built web app to deploy
  // (as if web/dist existed), prod none (as before the web app arrives): both ways are covered.
  beforeAll(() => {
    webDist = mkdtempSync(join(tmpdir(), 'wraparound-web-'));
    mkdirSync(join(webDist, 'assets'));
    writeFileSync(join(webDist, 'index.html'), '<!doctype html><title>Wraparound</title><script type="module" src="/assets/app-1a2b3c.js"></script>');
    writeFileSync(join(webDist, 'assets', 'app-1a2b3c.js'), 'console.log("wraparound")');
    const started = performance.now();
    dev = synthStack('dev', { bundle: true, webDistDir: webDist });
    const devMs = performance.now() - started;
    prod = synthStack('prod', { bundle: true, outdir: dev.outdir });
    console.info(`synth with bundling: dev ${(devMs / 1000).toFixed(1)} s, prod ${((performance.now() - started - devMs) / 1000).toFixed(1)} s (bundles reused)`);
  }, 180_000);

  afterAll(() => {
    dev?.cleanup();
    if (webDist) rmSync(webDist, { recursive: true, force: true });
  });

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

    it('has every index of TABLE_DEFINITION with its projection (the plan indexes keys only), and only string attributes', () => {
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
          Projection: index.projection.type === 'INCLUDE' ? { ProjectionType: 'INCLUDE', NonKeyAttributes: index.projection.nonKeyAttributes } : { ProjectionType: index.projection.type },
        });
      }
      // A plan item is 10–25 KB: no index a plan is in may copy it whole on every plan write.
      const projections = Object.fromEntries(indexes.map((i) => [i.IndexName, i.Projection]));
      expect(projections).toEqual({
        byStage: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['identityErasedAt'] },
        byDue: { ProjectionType: 'KEYS_ONLY' },
        byOutbox: { ProjectionType: 'KEYS_ONLY' },
        byAlert: { ProjectionType: 'KEYS_ONLY' },
        byWork: { ProjectionType: 'KEYS_ONLY' },
        byPending: { ProjectionType: 'ALL' },
        // Audit records only (a plan item carries no auditPlanPk): small, written once, shown whole.
        byAuditPlan: { ProjectionType: 'ALL' },
      });
      const attributes = table.Properties.AttributeDefinitions as { AttributeName: string; AttributeType: string }[];
      expect(new Set(attributes.map((a) => a.AttributeType))).toEqual(new Set(['S']));
    });

    it("finds a plan's audit records by an index keyed by the plan and the record's own time-ordered key, which the team lead's API may query and nobody may write through", () => {
      for (const s of [dev, prod]) {
        const indexes = only(s, 'AWS::DynamoDB::Table').Properties.GlobalSecondaryIndexes as { IndexName: string; KeySchema: unknown }[];
        expect(indexes.find((i) => i.IndexName === 'byAuditPlan')?.KeySchema).toEqual([
          { AttributeName: 'auditPlanPk', KeyType: 'HASH' },
          { AttributeName: TABLE_DEFINITION.sortKey, KeyType: 'RANGE' },
        ]);
        const planAudit = keys.auditPlanPartition('pl_audited00000001');
        expect(planAudit).toBe('PLAN#pl_audited00000001');
        expect(decideFor(s, 'api-queries', { action: 'dynamodb:Query', leadingKeys: [planAudit], index: 'byAuditPlan' }), s.config.stage).toBe('allow');
        // The records it finds stay append-only: their index key is written with them, never added later.
        for (const name of FUNCTION_NAMES) for (const action of ['dynamodb:UpdateItem', 'dynamodb:DeleteItem']) expect(decideFor(s, name, { action, leadingKeys: [keys.audit('2026-11-28', '', '').pk] }), `${name} ${action}`).toBe('deny');
        // The marker saying from which day every record carries the key is kept like the records: moved
        // earlier, it would hide older records (not in the index) from plan queries. The sweeper creates it
        // (an audit writer); no principal, function or operator, moves or removes it.
        const marker = keys.auditPlanIndexMarker().pk;
        expect(marker).toMatch(glob(AUDIT_LEADING_KEYS));
        // It is no day partition: the day-by-day reader never meets it.
        expect(marker).not.toMatch(/^AUDIT#\d{4}-\d{2}-\d{2}$/);
        const operator = 'arn:aws:iam::000000000000:role/operator';
        for (const action of AUDIT_CHANGE_ACTIONS) {
          for (const name of FUNCTION_NAMES) expect(decideFor(s, name, { action, leadingKeys: [marker] }), `${s.config.stage} ${name} ${action} marker`).toBe('deny');
          expect(decide(s, { principal: operator, action, leadingKeys: [marker] }, [{ Effect: 'Allow', Action: 'dynamodb:*', Resource: '*' }]), `operator ${action} marker`).toBe('deny');
        }
        for (const name of FUNCTION_NAMES) {
          expect(decideFor(s, name, { action: 'dynamodb:PutItem', leadingKeys: [marker] }), `${s.config.stage} ${name} PutItem marker`).toBe(functionSpec(name).writesAudit ? 'allow' : 'deny');
        }
        expect(decideFor(s, 'sweeper', { action: 'dynamodb:PutItem', leadingKeys: [marker] }), s.config.stage).toBe('allow');
      }
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
      expect(dataKey(prod).DeletionPolicy).toBe('Retain');
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
    it('one per handler, Node.js 24 on arm64, each with its own role; the only other is CDK\'s web deployment', () => {
      const functions = Object.entries(resourcesOf(dev, 'AWS::Lambda::Function'));
      const ours = functions.filter(([, f]) => String(f.Properties.FunctionName ?? '').startsWith(`${dev.config.namePrefix}-`));
      expect(ours.map(([, f]) => f.Properties.FunctionName).sort()).toEqual(FUNCTION_NAMES.map((n) => `${dev.config.namePrefix}-${n}`).sort());
      for (const [, fn] of ours) {
        expect(fn.Properties).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], Handler: 'index.handler', TracingConfig: { Mode: 'Active' } });
        expect([256, 512]).toContain(fn.Properties.MemorySize);
        expect(fn.Properties.Timeout).toBeLessThanOrEqual(60);
      }
      expect(functions.filter(([, f]) => !ours.some(([, o]) => o === f)).map(([id]) => id)).toEqual([expect.stringMatching(/^CustomCDKBucketDeployment/)]);
      expect(Object.keys(resourcesOf(prod, 'AWS::Lambda::Function'))).toHaveLength(FUNCTION_NAMES.length);
      const roles = FUNCTION_NAMES.map((name) => roleOf(dev, name));
      expect(new Set(roles).size).toBe(FUNCTION_NAMES.length);
      // No AWS managed policy (AWSLambdaBasicExecutionRole may create and write any log group).
      for (const role of roles) expect((resourcesOf(dev, 'AWS::IAM::Role')[role] as Resource).Properties.ManagedPolicyArns).toBeUndefined();
    });

    it('write logs only to their own log group, encrypted with the data key and kept for the stage\'s retention', () => {
      for (const s of [dev, prod]) {
        for (const name of FUNCTION_NAMES) {
          const fn = (resourcesOf(s, 'AWS::Lambda::Function')[functionIds(s)[name]] as Resource).Properties;
          const logGroupId = (fn.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
          const logGroup = (resourcesOf(s, 'AWS::Logs::LogGroup')[logGroupId] as Resource).Properties;
          expect(logGroup).toMatchObject({ LogGroupName: `/aws/lambda/${s.config.namePrefix}-${name}`, RetentionInDays: s.config.logRetentionDays, KmsKeyId: { 'Fn::GetAtt': [dataKeyId(s), 'Arn'] } });
          const logStatements = statements(s).filter((x) => x.roles.includes(roleOf(s, name)) && actionsOf(x.statement).some((a) => a.startsWith('logs:')));
          expect(logStatements.map((x) => x.statement)).toEqual([expect.objectContaining({ Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: { 'Fn::GetAtt': [logGroupId, 'Arn'] } })]);
        }
      }
    });

    it('reserve concurrency only where it protects what they call: one sweep at a time', () => {
      for (const name of FUNCTION_NAMES) {
        const fn = (resourcesOf(prod, 'AWS::Lambda::Function')[functionIds(prod)[name]] as Resource).Properties;
        expect(fn.ReservedConcurrentExecutions, name).toBe(functionSpec(name).reservedConcurrency);
      }
      expect(functionSpec('sweeper').reservedConcurrency).toBe(1);
    });

    it('get the environment their code reads, and only that', () => {
      const ids = functionIds(dev);
      const env = (name: FunctionName) => ((resourcesOf(dev, 'AWS::Lambda::Function')[ids[name]] as Resource).Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      for (const name of FUNCTION_NAMES) {
        const vars = env(name);
        expect(vars[ENV_NAMES.tableName], name).toEqual({ Ref: Object.keys(resourcesOf(dev, 'AWS::DynamoDB::Table'))[0] });
        expect(vars[ENV_NAMES.planItemFormat], name).toBe('gzip');
        expect(vars.NODE_OPTIONS).toBe('--enable-source-maps');
        expect(ENV_NAMES.stateMachineArn in vars, `${name} STATE_MACHINE_ARN`).toBe(Boolean(functionSpec(name).startsExecutions));
        expect(ENV_NAMES.eventBusName in vars, `${name} EVENT_BUS_NAME`).toBe(Boolean(functionSpec(name).publishesEvents));
        expect(ENV_NAMES.identityKeySecretArn in vars, `${name} IDENTITY_KEY_SECRET_ARN`).toBe(Boolean(functionSpec(name).readsIdentityKey));
        // Powertools: the stage's service name and metric namespace, the level from the stage, never the event or responses.
        expect(vars).toMatchObject({
          [OBSERVABILITY_ENV.serviceName]: dev.config.namePrefix,
          [OBSERVABILITY_ENV.metricsNamespace]: METRICS_NAMESPACE,
          [OBSERVABILITY_ENV.logLevel]: dev.config.logLevel,
          [OBSERVABILITY_ENV.logEvent]: 'false',
          [OBSERVABILITY_ENV.tracerCaptureResponse]: 'false',
        });
        const known = new Set<string>([...Object.values(ENV_NAMES), ...Object.values(OBSERVABILITY_ENV), ...(name === 'api-metrics' ? Object.values(METRICS_FUNCTION_ENV_NAMES) : []), ...(name === 'api-providers' ? [PROVIDER_WEBHOOKS_ENV] : []), 'NODE_OPTIONS']);
        for (const key of Object.keys(vars)) expect(known.has(key), `${name}: ${key} is not a shared constant`).toBe(true);
      }
      expect(functionsThat((spec) => spec.readsIdentityKey).sort()).toEqual(['api-commands', 'sweeper']);
      expect(env('api-commands')[ENV_NAMES.stateMachineArn]).toEqual({ Ref: Object.keys(resourcesOf(dev, 'AWS::StepFunctions::StateMachine'))[0] });
      expect(env('publish-events')[ENV_NAMES.eventBusName]).toEqual({ Ref: Object.keys(resourcesOf(dev, 'AWS::Events::EventBus'))[0] });
    });

    it("give api-metrics the stage's METRICS_MAX_AGE_SECONDS (or -c metricsMaxAgeSeconds), and a bad one fails the synth naming it", () => {
      const metricsEnv = (s: Synthesized) => ((resourcesOf(s, 'AWS::Lambda::Function')[functionIds(s)['api-metrics']] as Resource).Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      // The default the function would use anyway, now set by every deploy rather than left to whoever edits the function.
      expect(metricsEnv(dev)[METRICS_FUNCTION_ENV_NAMES.maxAgeSeconds]).toBe('30');
      expect(metricsEnv(prod)[METRICS_FUNCTION_ENV_NAMES.maxAgeSeconds]).toBe('30');
      const everyAnswerReads = synthStack('prod', { bundle: false, context: { metricsMaxAgeSeconds: '0' } });
      try {
        expect(metricsEnv(everyAnswerReads)[METRICS_FUNCTION_ENV_NAMES.maxAgeSeconds]).toBe('0');
        expect(metricsEnv(everyAnswerReads)[METRICS_FUNCTION_ENV_NAMES.roundCountsTo]).toBe('5');
      } finally {
        everyAnswerReads.cleanup();
      }
      for (const bad of ['61', '2.5', '-1', '', 'soon']) {
        expect(() => synthStack('dev', { bundle: false, context: { metricsMaxAgeSeconds: bad } }), bad).toThrow(
          'Bad config for stage dev: metrics.maxAgeSeconds: must be a whole number from 0 to 60 (METRICS_MAX_AGE_SECONDS of api-metrics)',
        );
      }
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
    it('no wildcard a narrower grant could replace: exact actions, and "*" only where the service has no resource to name', () => {
      const stepFunctionIds = new Set(['load-plan', 'decide', 'allocate-providers', 'save-plan', 'publish-events'].map((n) => functionIds(dev)[n as FunctionName]));
      for (const s of [dev, prod]) {
        const all = statements(s);
        expect(all.length).toBeGreaterThan(10);
        const deploymentRole = (roles: string[]) => roles.length === 1 && /^CustomCDKBucketDeployment/.test(roles[0] as string);
        const ids = functionIds(s);
        for (const { roles, statement } of all) {
          const where = `${roles.join(',')}: ${JSON.stringify(statement).slice(0, 300)}`;
          for (const action of actionsOf(statement)) {
            expect(action, where).not.toBe('*');
            expect(action, where).not.toMatch(/^[a-z0-9-]+:\*$/);
            // Action wildcards only in CDK's own web-deployment role (acknowledged in lib/infra/web.ts).
            if (action.includes('*')) expect(deploymentRole(roles) && ['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:DeleteObject*', 's3:Abort*'].includes(action), where).toBe(true);
          }
          for (const resource of [statement.Resource].flat().map(render)) {
            if (resource === '*') {
              for (const action of actionsOf(statement)) expect(action, where).toMatch(X_RAY_AND_LOG_DELIVERY);
            } else if (resource.endsWith(':*')) {
              // A function's own versions and aliases, in the invoke grants of the state machine and the schedule.
              expect(actionsOf(statement), where).toEqual(['lambda:InvokeFunction']);
              const fnId = /^<([A-Za-z0-9]+)\.Arn>:\*$/.exec(resource)?.[1] as string;
              expect(stepFunctionIds.has(fnId) || fnId === ids.sweeper, where).toBe(true);
            } else if (resource.includes('*')) {
              // Objects of the CDK assets bucket and the web bucket, for CDK's web deployment only.
              expect(deploymentRole(roles), where).toBe(true);
              expect(resource, where).toMatch(/^(arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>\/\*|<WebSite[A-Z0-9]+\.Arn>\/\*)$/);
            }
          }
        }
      }
    });

    it('every DynamoDB command the code sends is an action the table grants name (and nothing else is granted)', () => {
      // Document-client and low-level commands → the IAM action each needs.
      const ACTION_OF: Record<string, string> = {
        Get: 'GetItem', GetItem: 'GetItem', Put: 'PutItem', PutItem: 'PutItem', Update: 'UpdateItem', UpdateItem: 'UpdateItem', Delete: 'DeleteItem', DeleteItem: 'DeleteItem',
        Query: 'Query', Scan: 'Scan', BatchGet: 'BatchGetItem', BatchGetItem: 'BatchGetItem', BatchWrite: 'BatchWriteItem', BatchWriteItem: 'BatchWriteItem',
        TransactWrite: 'TransactWriteItems', TransactWriteItems: 'TransactWriteItems', TransactGet: 'TransactGetItems', TransactGetItems: 'TransactGetItems',
        DescribeTable: 'DescribeTable', CreateTable: 'CreateTable',
      };
      const sources = ['lib', 'functions', 'workflows'].flatMap((dir) => filesUnder(join(PROJECT_ROOT, dir))).filter((f) => f.endsWith('.ts') && !f.includes(`${join('lib', 'local')}`) && !f.includes(`${join('lib', 'infra')}`));
      const used = new Set<string>();
      for (const file of sources) {
        const text = readFileSync(file, 'utf8');
        if (!/@aws-sdk\/(lib-dynamodb|client-dynamodb)/.test(text)) continue;
        for (const [, command] of text.matchAll(/new (\w+)Command\(/g)) {
          const action = ACTION_OF[command as string];
          if (action) used.add(`dynamodb:${action}`);
          else if (!/^(PutEvents|StartSyncExecution|GetSecretValue)$/.test(command as string)) expect.fail(`${relative(PROJECT_ROOT, file)}: new ${command}Command is not a DynamoDB command this test knows`);
        }
      }
      expect(used.size).toBeGreaterThan(3);
      // Transactions need the actions of their parts, which the adapters would have to grant themselves.
      expect([...used].filter((a) => a.includes('Transact') || a === 'dynamodb:CreateTable' || a === 'dynamodb:DescribeTable')).toEqual([]);
      expect(new Set([...TABLE_READ_ACTIONS, ...TABLE_WRITE_ACTIONS, ...TABLE_SCAN_ACTIONS])).toEqual(used);
      // The one scan (the sweeper's walk for plans erased before their free text went): the sweeper alone, on the table itself.
      for (const name of FUNCTION_NAMES) expect(actionsGrantedTo(dev, name).includes('dynamodb:Scan'), name).toBe(name === 'sweeper');
      const scanning = statements(dev).filter((x) => actionsOf(x.statement).includes('dynamodb:Scan'));
      expect(scanning.map((x) => x.statement.Resource)).toEqual([{ 'Fn::GetAtt': [Object.keys(resourcesOf(dev, 'AWS::DynamoDB::Table'))[0], 'Arn'] }]);
      // The narrower grants name actions of those sets only, and no role holds any other DynamoDB action.
      for (const action of [...METRICS_READ_ACTIONS, ...AUDIT_WRITE_ACTIONS, ...AUDIT_CHANGE_ACTIONS]) expect(used, action).toContain(action);
      for (const s of [dev, prod]) {
        const granted = statements(s).flatMap((x) => actionsOf(x.statement)).filter((a) => a.startsWith('dynamodb:'));
        for (const action of granted) expect(used.has(action) || DIRECTORY_ACTIONS.includes(action), action).toBe(true);
      }
    });

    it('readers write nothing but their audit records; the deciding steps reach only the directory partition', () => {
      expect(functionsThat((s) => s.table === 'read')).toEqual(expect.arrayContaining(['load-plan', 'api-queries']));
      expect(functionsThat((s) => s.table === 'read-write')).toEqual(expect.arrayContaining(['save-plan', 'publish-events', 'api-commands', 'sweeper']));
      expect(functionsThat((s) => s.table === 'directory')).toEqual(['decide', 'allocate-providers']);
      expect(functionsThat((s) => s.table === 'metrics-facts')).toEqual(['api-metrics']);
      expect(functionsThat((s) => s.table === 'none')).toEqual([]);
      const writes = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];
      const tableId = Object.keys(resourcesOf(dev, 'AWS::DynamoDB::Table'))[0] as string;
      for (const name of functionsThat((s) => s.table === 'read')) {
        const actions = actionsGrantedTo(dev, name);
        expect(actions).toContain('dynamodb:GetItem');
        expect(actions).toContain('dynamodb:Query');
        expect(actions).toContain('kms:Decrypt');
        const role = roleOf(dev, name);
        const writing = statements(dev).filter((x) => x.roles.includes(role) && actionsOf(x.statement).some((a) => writes.includes(a)));
        // An audit writer's one write: PutItem on the table itself, for AUDIT# partition keys only.
        expect(
          writing.map((x) => x.statement),
          name,
        ).toEqual(functionSpec(name).writesAudit ? [{ Effect: 'Allow', Action: 'dynamodb:PutItem', Resource: { 'Fn::GetAtt': [tableId, 'Arn'] }, Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [AUDIT_LEADING_KEYS] } } }] : []);
      }
      for (const name of functionsThat((s) => s.table === 'read-write')) {
        const actions = actionsGrantedTo(dev, name);
        for (const w of ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']) expect(actions, name).toContain(w);
        expect(actions, name).toContain('kms:GenerateDataKey');
      }
      for (const name of functionsThat((s) => s.table === 'directory')) {
        const role = roleOf(dev, name);
        const tableStatements = statements(dev).filter((x) => x.roles.includes(role) && actionsOf(x.statement).some((a) => a.startsWith('dynamodb:')));
        expect(tableStatements.length, name).toBeGreaterThan(0);
        for (const { statement } of tableStatements) {
          expect(statement.Condition, name).toEqual({ 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['DIRECTORY'] } });
          for (const a of ['dynamodb:Scan', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem', 'dynamodb:BatchGetItem']) expect(actionsOf(statement), name).not.toContain(a);
        }
      }
      // One statement per role for the table key, with what its table grants need (write actions only for writers).
      for (const name of FUNCTION_NAMES) {
        const role = roleOf(dev, name);
        const keyStatements = statements(dev).filter((x) => x.roles.includes(role) && actionsOf(x.statement).some((a) => a.startsWith('kms:')));
        expect(keyStatements, name).toHaveLength(1);
        const spec = functionSpec(name);
        const writer = spec.table === 'read-write' || spec.table === 'directory' || Boolean(spec.writesAudit);
        expect(actionsOf((keyStatements[0] as { statement: Statement }).statement).includes('kms:GenerateDataKey'), name).toBe(writer);
      }
    });

    it('audit records: only the audit writers create them, and no principal at all (function or operator) changes or removes one', () => {
      const writers = functionsThat((s) => s.writesAudit);
      expect(writers).toEqual(['api-commands', 'api-queries', 'api-directory', 'api-providers', 'sweeper']);
      // Every handler that records audit entries is one of them (the converse is a spec promise: a writer may not audit yet).
      for (const name of FUNCTION_NAMES) {
        const text = readFileSync(join(PROJECT_ROOT, 'functions', name, 'handler.ts'), 'utf8');
        if (/auditAccess|eraseIdentity|deps\.audit\b|\baudit:/.test(text)) expect(writers, `${name} records audit entries: give it writesAudit in FUNCTION_SPECS`).toContain(name);
      }
      // The grants assume the audit log only ever creates records, with a conditional put, and that
      // no other code builds an audit key.
      const adapter = readFileSync(join(PROJECT_ROOT, 'lib', 'adapters', 'dynamodb', 'audit-log.ts'), 'utf8');
      // Besides the records: the byAuditPlan marker, read (Get) and created once (a second conditional Put).
      expect([...adapter.matchAll(/new (\w+)Command\(/g)].map((m) => m[1]).sort()).toEqual(['Get', 'Put', 'Put', 'Query']);
      expect(adapter.match(/new PutCommand\(\{[^}]*Item: \w+(\(day\))?, ConditionExpression: 'attribute_not_exists\(pk\)' \}\)/g)).toHaveLength(2);
      const buildsAuditKeys = ['lib', 'functions', 'workflows']
        .flatMap((dir) => filesUnder(join(PROJECT_ROOT, dir)))
        .filter((f) => f.endsWith('.ts') && !f.includes(join('lib', 'infra')) && readFileSync(f, 'utf8').includes('keys.audit('));
      expect(buildsAuditKeys.map((f) => relative(PROJECT_ROOT, f))).toEqual([join('lib', 'adapters', 'dynamodb', 'audit-log.ts')]);
      expect(keys.audit('2025-06-01', 't', 'id').pk).toMatch(glob(AUDIT_LEADING_KEYS));

      const audit = keys.audit('2025-06-01', '2025-06-01T10:00:00.000Z', 'a1').pk;
      const plan = 'PLAN#p1';
      // Someone else in the account allowed everything on DynamoDB (an operator, a role added later).
      const operator = 'arn:aws:iam::000000000000:role/operator';
      const everything: Statement[] = [{ Effect: 'Allow', Action: 'dynamodb:*', Resource: '*' }];
      for (const s of [dev, prod]) {
        for (const name of FUNCTION_NAMES) {
          const spec = functionSpec(name);
          const put = decideFor(s, name, { action: 'dynamodb:PutItem', leadingKeys: [audit] });
          expect(put, `${s.config.stage} ${name} PutItem AUDIT#`).toBe(spec.writesAudit ? 'allow' : 'deny');
          for (const action of AUDIT_CHANGE_ACTIONS) {
            expect(decideFor(s, name, { action, leadingKeys: [audit] }), `${s.config.stage} ${name} ${action} AUDIT#`).toBe('deny');
          }
          // A batch that touches an audit record anywhere among its items.
          expect(decideFor(s, name, { action: 'dynamodb:BatchWriteItem', leadingKeys: [plan, audit] }), name).toBe('deny');
          for (const action of PARTIQL_WRITE_ACTIONS) expect(decideFor(s, name, { action, leadingKeys: [] }), `${name} ${action}`).toBe('deny');
          // The Deny is about audit records alone: a read-write function still writes everything else.
          if (spec.table === 'read-write') {
            for (const action of TABLE_WRITE_ACTIONS) expect(decideFor(s, name, { action, leadingKeys: [plan] }), `${s.config.stage} ${name} ${action} PLAN#`).toBe('allow');
          }
          // Audit writers read the log through the functions that may (api-queries serves GET /audit).
          if (name === 'api-queries') expect(decideFor(s, name, { action: 'dynamodb:Query', leadingKeys: [audit] })).toBe('allow');
        }
        for (const action of [...AUDIT_WRITE_ACTIONS, ...AUDIT_CHANGE_ACTIONS, ...PARTIQL_WRITE_ACTIONS]) {
          expect(decide(s, { principal: operator, action, leadingKeys: [audit] }, everything), `operator ${action}`).toBe('deny');
        }
        for (const action of TABLE_WRITE_ACTIONS) expect(decide(s, { principal: operator, action, leadingKeys: [plan] }, everything), `operator ${action} PLAN#`).toBe('allow');
        // Stated in the table's own policy, by name (it cannot refer to itself), not in any role's.
        for (const statement of tableResourcePolicy(s)) {
          expect(statement.Effect).toBe('Deny');
          expect(statement.Principal).toEqual({ AWS: '*' });
          expect(render(statement.Resource)).toBe(`arn:<AWS::Partition>:dynamodb:<AWS::Region>:<AWS::AccountId>:table/${s.config.namePrefix}`);
        }
        expect(statements(s).filter((x) => x.statement.Effect === 'Deny')).toEqual([]);
      }
    });

    it('api-queries writes nothing but audit records; api-metrics reads only the metrics facts', () => {
      const plan = 'PLAN#p1';
      const audit = keys.audit('2025-06-01', '2025-06-01T10:00:00.000Z', 'a1').pk;
      const index = TABLE_DEFINITION.indexes[0]?.name as string;
      for (const s of [dev, prod]) {
        expect(decideFor(s, 'api-queries', { action: 'dynamodb:GetItem', leadingKeys: [plan] })).toBe('allow');
        expect(decideFor(s, 'api-queries', { action: 'dynamodb:Query', leadingKeys: ['x'], index })).toBe('allow');
        for (const action of TABLE_WRITE_ACTIONS) expect(decideFor(s, 'api-queries', { action, leadingKeys: [plan] }), action).toBe('implicit-deny');
        expect(decideFor(s, 'api-queries', { action: 'dynamodb:PutItem', leadingKeys: [audit] })).toBe('allow');

        // The fact store's keys, shard by shard, and its completeness marker.
        expect(METRICS_LEADING_KEYS).toEqual([...ALL_SHARDS.map((shard) => metricsKeys.factsPartition(shard)), metricsKeys.marker().pk]);
        for (const shard of ALL_SHARDS) expect(decideFor(s, 'api-metrics', { action: 'dynamodb:Query', leadingKeys: [metricsKeys.factsPartition(shard)] })).toBe('allow');
        expect(decideFor(s, 'api-metrics', { action: 'dynamodb:GetItem', leadingKeys: [metricsKeys.marker().pk] })).toBe('allow');
        for (const pk of [plan, audit, keys.serviceStatePrefix().pk, 'METRICS#FACTS#9']) {
          for (const action of METRICS_READ_ACTIONS) expect(decideFor(s, 'api-metrics', { action, leadingKeys: [pk] }), `${action} ${pk}`).toBe('implicit-deny');
        }
        expect(decideFor(s, 'api-metrics', { action: 'dynamodb:Query', leadingKeys: ['x'], index })).toBe('implicit-deny');
        for (const action of TABLE_WRITE_ACTIONS) expect(decideFor(s, 'api-metrics', { action, leadingKeys: [metricsKeys.factsPartition(0)] }), action).toBe('implicit-deny');
        expect(actionsGrantedTo(s, 'api-metrics').filter((a) => a.startsWith('kms:')).sort()).toEqual(['kms:Decrypt', 'kms:DescribeKey']);
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
      const keyArn = { 'Fn::GetAtt': [dataKeyId(dev), 'Arn'] };
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
      const statements = (dataKey(dev).Properties.KeyPolicy as { Statement: (Statement & { Principal?: { Service?: string }; Condition?: Record<string, Record<string, unknown>> })[] }).Statement;
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

    it("lets the sweeper do what the metrics facts rebuild does: plans through the stage index, fact puts, the marker's conditional updates", () => {
      const role = roleOf(dev, 'sweeper');
      const tableStatements = statements(dev).filter((x) => x.roles.includes(role) && actionsOf(x.statement).includes('dynamodb:Query'));
      const rebuild = tableStatements.find(({ statement }) => {
        const actions = actionsOf(statement);
        return ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:BatchGetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'].every((a) => actions.includes(a)) && JSON.stringify(statement.Resource).includes('/index/byStage');
      });
      expect(rebuild, 'one statement granting the rebuild its reads and writes on the table and the stage index').toBeDefined();
      // No leading-key condition: the rebuild reads PLAN# items and writes METRICS# ones.
      expect(rebuild?.statement.Condition).toBeUndefined();
      // The Lambda stops taking pages 20 s before its timeout (functions/sweeper/handler.ts).
      expect(functionSpec('sweeper').timeout.toSeconds()).toBeGreaterThan(20);
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
      // The providers' keys and the identity-linking key.
      dev.template.resourceCountIs('AWS::SecretsManager::Secret', PROVIDER_IDS.length + 1);
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

    it('writes plan items in the nested format only when told to (-c planItemFormat=nested), and refuses any other', () => {
      expect(stageConfig('prod').planItemFormat).toBe('gzip');
      expect(stageConfig('prod', { planItemFormat: 'nested' }).planItemFormat).toBe('nested');
      expect(() => stageConfig('prod', { planItemFormat: 'json' })).toThrow(/planItemFormat: one of gzip, nested/);
    });

    it('refuses a webhook that is not https, an unknown provider, and context that is not an object', () => {
      expect(() => stageConfig('dev', { providerWebhooks: { bcwa: 'http://hooks.example/x' } })).toThrow(/providerWebhooks\.bcwa: an https:\/\/ URL/);
      expect(() => stageConfig('dev', { providerWebhooks: '{not json' })).toThrow(/providerWebhooks: not JSON/);
      expect(() => stageConfig('dev', { providerWebhooks: '["https://a.example"]' })).toThrow(/not an object/);
      expect(() => synthStack('dev', { bundle: false, context: { providerWebhooks: { nobody: 'https://nobody.example/' } } })).toThrow(/"nobody", not a provider of the directory/);
    });

    it('encrypts dead letters with the data key, over TLS only, writable by its own rule alone', () => {
      const keyId = dataKeyId(dev);
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
      const keyPolicy = dataKey(dev).Properties.KeyPolicy as { Statement: { Sid?: string; Action: string[]; Condition: { StringEquals: Record<string, unknown> } }[] };
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

    /** The alarm named `<prefix>-<id>`. */
    const alarmNamed = (s: Synthesized, id: string) => {
      const found = alarms(s).filter((a) => a.AlarmName === `${s.config.namePrefix}-${id}`);
      expect(found, id).toHaveLength(1);
      return found[0] as Record<string, unknown>;
    };
    type MetricQuery = { Id: string; Expression?: string; MetricStat?: { Metric: { Namespace: string; MetricName: string; Dimensions?: unknown[] }; Stat: string; Period: number }; ReturnData?: boolean };
    const queriesOf = (a: Record<string, unknown>) => a.Metrics as MetricQuery[];

    it('on state machine timeouts, throttles, and a share of failed executions that refusals alone do not reach', () => {
      for (const s of [dev, prod]) {
        const machineId = Object.keys(resourcesOf(s, 'AWS::StepFunctions::StateMachine'))[0];
        const machine = [{ Name: 'StateMachineArn', Value: { Ref: machineId } }];
        expect(alarmNamed(s, 'execution-timeouts')).toMatchObject({ Namespace: 'AWS/States', MetricName: 'ExecutionsTimedOut', Dimensions: machine, Threshold: s.config.alarms.executionTimeoutsPerFiveMinutes });
        expect(alarmNamed(s, 'execution-throttles')).toMatchObject({ Namespace: 'AWS/States', MetricName: 'ExecutionThrottled', Dimensions: machine, Statistic: 'Sum', Threshold: s.config.alarms.executionThrottlesPerFiveMinutes });
        const failures = alarmNamed(s, 'execution-failures');
        expect(failures.Threshold).toBe(s.config.alarms.executionFailurePercent);
        const queries = queriesOf(failures);
        expect(queries.find((q) => q.ReturnData !== false)?.Expression).toBe(`IF(started >= ${s.config.alarms.minExecutionsForRate}, 100 * failed / started, 0)`);
        expect(queries.filter((q) => q.MetricStat).map((q) => [q.Id, q.MetricStat?.Metric.MetricName, q.MetricStat?.Stat, q.MetricStat?.Period])).toEqual(
          expect.arrayContaining([
            ['started', 'ExecutionsStarted', 'Sum', 900],
            ['failed', 'ExecutionsFailed', 'Sum', 900],
          ]),
        );
      }
    });

    it('on sweeper errors, a sweeper that stopped running, and API functions failing', () => {
      const ids = functionIds(prod);
      const sweeperErrors = alarmNamed(prod, 'sweeper-errors');
      expect(sweeperErrors).toMatchObject({ Namespace: 'AWS/Lambda', MetricName: 'Errors', Statistic: 'Sum', Threshold: prod.config.alarms.functionErrorsPerFiveMinutes, Dimensions: [{ Name: 'FunctionName', Value: { Ref: ids.sweeper } }] });
      expect(alarmNamed(prod, 'sweeper-not-running')).toMatchObject({
        MetricName: 'Invocations',
        ComparisonOperator: 'LessThanThreshold',
        EvaluationPeriods: prod.config.alarms.sweeperMissedMinutes,
        TreatMissingData: 'breaching',
      });
      for (const name of ['api-commands', 'api-queries', 'api-directory', 'api-providers', 'api-metrics'] as const) {
        expect(alarmNamed(prod, `${name}-errors`).Dimensions).toEqual([{ Name: 'FunctionName', Value: { Ref: ids[name] } }]);
      }
    });

    it('on API 5xx, as a count and as a share of requests', () => {
      for (const s of [dev, prod]) {
        const apiId = Object.keys(resourcesOf(s, 'AWS::ApiGatewayV2::Api'))[0];
        expect(alarmNamed(s, 'api-5xx')).toMatchObject({ Namespace: 'AWS/ApiGateway', MetricName: '5xx', Statistic: 'Sum', Threshold: s.config.alarms.api5xxPerFiveMinutes, Dimensions: [{ Name: 'ApiId', Value: { Ref: apiId } }] });
        const rate = alarmNamed(s, 'api-5xx-rate');
        expect(rate.Threshold).toBe(s.config.alarms.api5xxPercent);
        const queries = queriesOf(rate);
        expect(queries.find((q) => q.ReturnData !== false)?.Expression).toBe(`IF(requests >= ${s.config.alarms.minRequestsForRate}, 100 * errors / requests, 0)`);
        expect(queries.filter((q) => q.MetricStat).map((q) => [q.Id, q.MetricStat?.Metric.MetricName])).toEqual(
          expect.arrayContaining([
            ['requests', 'Count'],
            ['errors', '5xx'],
          ]),
        );
      }
    });

    it('on the number of overdue plans, as the sweeper emits it', () => {
      for (const s of [dev, prod]) {
        expect(alarmNamed(s, 'overdue-plans')).toMatchObject({
          Namespace: METRICS_NAMESPACE,
          MetricName: METRIC_NAMES.overduePlans,
          Dimensions: [{ Name: SERVICE_DIMENSION, Value: s.config.namePrefix }],
          Statistic: 'Maximum',
          Threshold: s.config.alarms.overduePlans,
          TreatMissingData: 'notBreaching',
        });
        // The functions emit under the same service name the alarm watches.
        const env = (resourcesOf(s, 'AWS::Lambda::Function')[functionIds(s).sweeper] as Resource).Properties.Environment as { Variables: Record<string, unknown> };
        expect(env.Variables[OBSERVABILITY_ENV.serviceName]).toBe(s.config.namePrefix);
      }
    });

    it('every alarm tells the encrypted alarm topic when it fires and when it clears', () => {
      for (const s of [dev, prod]) {
        const all = alarms(s);
        expect(all.length).toBeGreaterThanOrEqual(20);
        for (const a of all) {
          expect(a.AlarmActions, String(a.AlarmName)).toEqual([{ Ref: topicId(s) }]);
          expect(a.OKActions, String(a.AlarmName)).toEqual([{ Ref: topicId(s) }]);
        }
        const topic = only(s, 'AWS::SNS::Topic').Properties;
        const topicKeyId = (topic.KmsMasterKeyId as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
        expect(topicKeyId).not.toBe(dataKeyId(s));
        const keyPolicy = (resourcesOf(s, 'AWS::KMS::Key')[topicKeyId] as Resource).Properties.KeyPolicy as { Statement: { Sid?: string; Principal?: unknown; Condition?: unknown }[] };
        expect(keyPolicy.Statement.find((st) => st.Sid === 'CloudWatchAlarmsPublish')).toMatchObject({ Principal: { Service: 'cloudwatch.amazonaws.com' } });
        expect(JSON.stringify(keyPolicy.Statement.find((st) => st.Sid === 'CloudWatchAlarmsPublish')?.Condition)).toContain(`:${s.config.namePrefix}-alarms"`);
      }
    });
  });

  describe('dashboard', () => {
    it('one per stage, showing every alarm, the API, executions, functions, the sweeper, overdue plans and dead letters', () => {
      for (const s of [dev, prod]) {
        const dashboard = only(s, 'AWS::CloudWatch::Dashboard').Properties;
        expect(dashboard.DashboardName).toBe(s.config.namePrefix);
        const body = render(dashboard.DashboardBody);
        for (const title of ['Alarms', 'API requests and errors', 'PlanCommand executions', 'Function duration (p99)', 'Function throttles', 'Cold starts', 'Sweeper', 'Overdue plans', 'Undelivered events (dead letters)']) {
          expect(body, title).toContain(`"title":"${title}"`);
        }
        for (const id of Object.keys(resourcesOf(s, 'AWS::CloudWatch::Alarm'))) expect(body, id).toContain(`<${id}.Arn>`);
        expect(body).toContain(`"${METRICS_NAMESPACE}","${METRIC_NAMES.overduePlans}","${SERVICE_DIMENSION}","${s.config.namePrefix}"`);
        expect(body).toContain('"AWS/States","ExecutionThrottled"');
        for (const providerId of PROVIDER_IDS) expect(body).toContain(`"label":"${providerId}"`);
      }
    });
  });

  it('outputs the API URL, table, state machine, bus, user pool, web app, alarm topic and where the secrets are', () => {
    const outputs = Object.keys(dev.template.toJSON().Outputs as Record<string, unknown>);
    expect(outputs).toEqual(
      expect.arrayContaining(['ApiUrl', 'TableName', 'StateMachineArn', 'EventBusName', 'UserPoolId', 'UserPoolClientId', 'HostedUiUrl', 'ProviderApiKeySecrets', 'WebUrl', 'WebBucketName', 'AccessLogBucketName', 'IdentityKeySecretArn', 'AlarmTopicArn', 'DashboardName']),
    );
  });

  describe('web app', () => {
    const bucketNamed = (s: Synthesized, prefix: string): [string, Resource] => {
      const found = Object.entries(resourcesOf(s, 'AWS::S3::Bucket')).filter(([id]) => id.startsWith(prefix));
      expect(found, prefix).toHaveLength(1);
      return found[0] as [string, Resource];
    };

    it('lives in a private, encrypted bucket that only this distribution may read, over TLS only', () => {
      for (const s of [dev, prod]) {
        const [siteId, site] = bucketNamed(s, 'WebSite');
        expect(site.Properties).toMatchObject({
          BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
          PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
          OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
          LoggingConfiguration: { DestinationBucketName: { Ref: bucketNamed(s, 'WebAccessLogs')[0] }, LogFilePrefix: 's3/' },
        });
        expect(site.Properties.WebsiteConfiguration).toBeUndefined();
        const policy = Object.values(resourcesOf(s, 'AWS::S3::BucketPolicy')).find((p) => JSON.stringify(p.Properties.Bucket) === JSON.stringify({ Ref: siteId })) as Resource;
        const allows = (policy.Properties.PolicyDocument as { Statement: (Statement & { Principal?: unknown; Condition?: unknown })[] }).Statement;
        const distributionId = Object.keys(resourcesOf(s, 'AWS::CloudFront::Distribution'))[0] as string;
        expect(allows.filter((st) => st.Effect === 'Allow')).toEqual([
          expect.objectContaining({ Action: 's3:GetObject', Principal: { Service: 'cloudfront.amazonaws.com' }, Condition: { StringEquals: { 'AWS:SourceArn': expect.objectContaining({}) } } }),
        ]);
        expect(render(allows.find((st) => st.Effect === 'Allow')?.Condition && (allows.find((st) => st.Effect === 'Allow')?.Condition as { StringEquals: Record<string, unknown> }).StringEquals['AWS:SourceArn'])).toBe(
          `arn:<AWS::Partition>:cloudfront::<AWS::AccountId>:distribution/<${distributionId}>`,
        );
        expect(allows).toContainEqual(expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
      }
      expect(bucketNamed(prod, 'WebSite')[1].DeletionPolicy).toBe('Retain');
      expect(bucketNamed(dev, 'WebSite')[1].DeletionPolicy).toBe('Delete');
    });

    it('is served by CloudFront through an origin access control (not an identity), HTTPS only, from the allowed countries', () => {
      for (const s of [dev, prod]) {
        const oac = only(s, 'AWS::CloudFront::OriginAccessControl').Properties.OriginAccessControlConfig;
        expect(oac).toMatchObject({ OriginAccessControlOriginType: 's3', SigningBehavior: 'always', SigningProtocol: 'sigv4' });
        s.template.resourceCountIs('AWS::CloudFront::CloudFrontOriginAccessIdentity', 0);
        const config = only(s, 'AWS::CloudFront::Distribution').Properties.DistributionConfig as Record<string, unknown>;
        const [origin] = config.Origins as { OriginAccessControlId: unknown; S3OriginConfig: { OriginAccessIdentity: string }; DomainName: unknown }[];
        expect(origin?.OriginAccessControlId).toEqual({ 'Fn::GetAtt': [Object.keys(resourcesOf(s, 'AWS::CloudFront::OriginAccessControl'))[0], 'Id'] });
        expect(origin?.S3OriginConfig.OriginAccessIdentity).toBe('');
        expect(config).toMatchObject({
          DefaultRootObject: 'index.html',
          DefaultCacheBehavior: { ViewerProtocolPolicy: 'redirect-to-https', AllowedMethods: ['GET', 'HEAD'], ResponseHeadersPolicyId: { Ref: Object.keys(resourcesOf(s, 'AWS::CloudFront::ResponseHeadersPolicy'))[0] } },
          Restrictions: { GeoRestriction: { RestrictionType: 'whitelist', Locations: s.config.web.allowedCountries } },
          Logging: { Bucket: { 'Fn::GetAtt': [bucketNamed(s, 'WebAccessLogs')[0], 'RegionalDomainName'] }, IncludeCookies: false, Prefix: 'cloudfront/' },
        });
        // Client-side routes fall back to the app.
        expect(config.CustomErrorResponses).toEqual(expect.arrayContaining([expect.objectContaining({ ErrorCode: 403, ResponseCode: 200, ResponsePagePath: '/index.html' })]));
      }
    });

    it('sends HSTS, a strict CSP, nosniff, DENY framing and no referrer on every response', () => {
      for (const s of [dev, prod]) {
        const headers = (only(s, 'AWS::CloudFront::ResponseHeadersPolicy').Properties.ResponseHeadersPolicyConfig as { SecurityHeadersConfig: Record<string, Record<string, unknown>> }).SecurityHeadersConfig;
        expect(headers.StrictTransportSecurity).toMatchObject({ AccessControlMaxAgeSec: 63_072_000, IncludeSubdomains: true, Override: true });
        expect(headers.ContentTypeOptions).toEqual({ Override: true });
        expect(headers.FrameOptions).toEqual({ FrameOption: 'DENY', Override: true });
        expect(headers.ReferrerPolicy).toEqual({ ReferrerPolicy: 'no-referrer', Override: true });
        const csp = render(headers.ContentSecurityPolicy?.ContentSecurityPolicy);
        for (const directive of ["default-src 'none'", "script-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "base-uri 'self'"]) expect(csp).toContain(directive);
        // The API and the hosted UI's token endpoint, nothing else (the app calls no other Cognito endpoint).
        expect(csp).toContain(`connect-src 'self' https://*.execute-api.<AWS::Region>.<AWS::URLSuffix> https://${s.config.cognitoDomainPrefix}.auth.<AWS::Region>.amazoncognito.com;`);
        expect(csp).not.toContain('unsafe-');
      }
    });

    it('keeps access logs private, encrypted, TLS only, and only as long as the stage keeps logs', () => {
      for (const s of [dev, prod]) {
        const [, logs] = bucketNamed(s, 'WebAccessLogs');
        expect(logs.Properties).toMatchObject({
          BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
          PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
          LifecycleConfiguration: { Rules: [{ ExpirationInDays: s.config.logRetentionDays, Status: 'Enabled' }] },
        });
      }
    });

    it('deploys web/dist with its runtime config when it exists (dev here), and only the bucket and distribution when not (prod here)', () => {
      expect(dev.stack.webDeployed).toBe(true);
      expect(prod.stack.webDeployed).toBe(false);
      prod.template.resourceCountIs('Custom::CDKBucketDeployment', 0);
      const deployments = Object.entries(resourcesOf(dev, 'Custom::CDKBucketDeployment'));
      expect(deployments).toHaveLength(2);
      const [siteId] = bucketNamed(dev, 'WebSite');
      for (const [, d] of deployments) expect(d.Properties.DestinationBucketName).toEqual({ Ref: siteId });
      const assets = deployments.find(([id]) => id.startsWith('WebAssets'))?.[1] as Resource;
      const entry = deployments.find(([id]) => id.startsWith('WebEntryPoints'))?.[1] as Resource;
      expect(assets.Properties).toMatchObject({ Prune: true, Exclude: ['index.html', WEB_RUNTIME_CONFIG_FILE], SystemMetadata: { 'cache-control': 'public, max-age=31536000, immutable' } });
      expect(entry.Properties).toMatchObject({ Prune: false, SystemMetadata: { 'cache-control': 'no-cache' } });
      expect((entry as Resource & { DependsOn?: string[] }).DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^WebAssets/)]));
      // config.json tells the app where its API and user pool are, filled in at deploy time.
      const markers = JSON.stringify(entry.Properties.SourceMarkers);
      const apiId = Object.keys(resourcesOf(dev, 'AWS::ApiGatewayV2::Api'))[0];
      const poolId = Object.keys(resourcesOf(dev, 'AWS::Cognito::UserPool'))[0];
      const clientId = Object.keys(resourcesOf(dev, 'AWS::Cognito::UserPoolClient'))[0];
      for (const id of [apiId, poolId, clientId]) expect(markers).toContain(`"Ref":"${id}"`);
      // The deployment function logs to its own encrypted log group, kept as long as the others.
      dev.template.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: `/aws/lambda/${dev.config.namePrefix}-web-deployment`, RetentionInDays: dev.config.logRetentionDays, KmsKeyId: { 'Fn::GetAtt': [dataKeyId(dev), 'Arn'] } });
    });

    it('is the only browser origin the API allows, besides the stage\'s extra origins, and never "*"', () => {
      for (const s of [dev, prod]) {
        const cors = only(s, 'AWS::ApiGatewayV2::Api').Properties.CorsConfiguration as { AllowOrigins: unknown[]; AllowCredentials?: boolean };
        const distributionId = Object.keys(resourcesOf(s, 'AWS::CloudFront::Distribution'))[0];
        expect(cors.AllowOrigins.map(render)).toEqual([`https://<${distributionId}.DomainName>`, ...s.config.extraCorsOrigins]);
        expect(JSON.stringify(cors.AllowOrigins)).not.toContain('"*"');
      }
      expect(prod.config.extraCorsOrigins).toEqual([]);
      expect(() => stageConfig('dev').extraCorsOrigins.forEach((o) => expect(new URL(o).origin).toBe(o))).not.toThrow();
    });

    it('lets a browser send every request header the API documents and read every response header it documents', () => {
      // From the OpenAPI document: the header parameters of every operation, and the headers of every answer.
      const sent = new Set<string>(['authorization', 'content-type']);
      const answered = new Set<string>();
      for (const operations of Object.values(openApiDocument().paths ?? {})) {
        for (const operation of Object.values(operations as Record<string, { parameters?: { in?: string; name?: string }[]; responses?: Record<string, { headers?: Record<string, unknown> }> }>)) {
          for (const p of operation.parameters ?? []) if (p.in === 'header' && p.name) sent.add(p.name.toLowerCase());
          for (const r of Object.values(operation.responses ?? {})) for (const h of Object.keys(r.headers ?? {})) answered.add(h.toLowerCase());
        }
      }
      expect(sent).toEqual(new Set(['authorization', 'content-type', 'idempotency-key', 'x-purpose', 'if-match']));
      // retry-after: an interrupted referral's 409 says when a new referral of her is possible; the web app on AWS reads it too.
      expect([...answered]).toEqual(expect.arrayContaining(['location', 'idempotent-replayed', 'content-disposition', 'figures-incomplete', 'etag', 'retry-after']));
      const refusal = (openApiDocument().paths?.['/plans']?.post?.responses as Record<string, { headers?: Record<string, unknown> }>)['409'];
      expect(Object.keys(refusal?.headers ?? {})).toEqual(['Retry-After']);
      for (const s of [dev, prod]) {
        const cors = only(s, 'AWS::ApiGatewayV2::Api').Properties.CorsConfiguration as { AllowHeaders: string[]; ExposeHeaders: string[] };
        expect(new Set(cors.AllowHeaders)).toEqual(sent);
        expect(new Set(cors.ExposeHeaders)).toEqual(answered);
      }
    });
  });

  describe('identity-linking key', () => {
    it('is a generated secret, encrypted with the data key, readable by api-commands and the sweeper alone, and kept in prod', () => {
      for (const s of [dev, prod]) {
        const id = idOf(s, 'AWS::SecretsManager::Secret', { Name: `${s.config.namePrefix}/identity-key` });
        const secret = resourcesOf(s, 'AWS::SecretsManager::Secret')[id] as Resource;
        expect(secret.Properties).toMatchObject({ GenerateSecretString: { PasswordLength: 64, ExcludePunctuation: true }, KmsKeyId: { 'Fn::GetAtt': [dataKeyId(s), 'Arn'] } });
        expect(secret.Properties.SecretString).toBeUndefined();
        expect(secret.DeletionPolicy).toBe(s.config.retainData ? 'Retain' : 'Delete');
        const readers = statements(s).filter((x) => actionsOf(x.statement).includes('secretsmanager:GetSecretValue') && JSON.stringify(x.statement.Resource) === JSON.stringify({ Ref: id }));
        const readerNames = ['api-commands', 'sweeper'] as const;
        expect(readers.map((x) => x.roles).flat().sort()).toEqual(readerNames.map((n) => roleOf(s, n)).sort());
        for (const r of readers) expect(actionsOf(r.statement).sort()).toEqual(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']);
        for (const name of readerNames) {
          const env = (resourcesOf(s, 'AWS::Lambda::Function')[functionIds(s)[name]] as Resource).Properties.Environment as { Variables: Record<string, unknown> };
          expect(env.Variables[ENV_NAMES.identityKeySecretArn]).toEqual({ Ref: id });
        }
        // The data key lets those two decrypt through Secrets Manager, and no other function.
        const keyStatements = (dataKey(s).Properties.KeyPolicy as { Statement: (Statement & { Principal?: { AWS?: unknown }; Condition?: unknown })[] }).Statement;
        const forRoles = keyStatements.filter((st) => JSON.stringify(st.Principal?.AWS ?? '').includes('"Fn::GetAtt"'));
        expect(forRoles.map((st) => JSON.stringify(st.Principal?.AWS)).sort()).toEqual(readerNames.map((n) => JSON.stringify({ 'Fn::GetAtt': [roleOf(s, n), 'Arn'] })).sort());
        for (const st of forRoles) {
          expect(st.Action).toBe('kms:Decrypt');
          expect(render((st.Condition as { StringEquals: Record<string, unknown> }).StringEquals['kms:ViaService'])).toBe('secretsmanager.<AWS::Region>.amazonaws.com');
        }
      }
    });
  });

  describe('users', () => {
    it('prod is on the Cognito Plus plan with threat protection enforced and MFA required; dev on Essentials', () => {
      expect(only(prod, 'AWS::Cognito::UserPool').Properties).toMatchObject({
        UserPoolTier: 'PLUS',
        MfaConfiguration: 'ON',
        UserPoolAddOns: { AdvancedSecurityMode: 'ENFORCED' },
      });
      expect(only(dev, 'AWS::Cognito::UserPool').Properties).toMatchObject({ UserPoolTier: 'ESSENTIALS', MfaConfiguration: 'OPTIONAL' });
    });
  });

  describe('sign-in through the Cognito hosted UI', () => {
    const distributionOrigin = (s: Synthesized) => `https://<${Object.keys(resourcesOf(s, 'AWS::CloudFront::Distribution'))[0]}.DomainName>`;

    /** The config.json the dev stack deploys, its deploy-time values rendered like the rest of the template. */
    const deployedRuntimeConfig = (): Record<string, string> => {
      const entry = Object.entries(resourcesOf(dev, 'Custom::CDKBucketDeployment')).find(([id]) => id.startsWith('WebEntryPoints'))?.[1] as Resource;
      const keys = entry.Properties.SourceObjectKeys as string[];
      const markers = entry.Properties.SourceMarkers as Record<string, unknown>[];
      const index = keys.findIndex((k) => existsSync(join(dev.outdir, `asset.${k.replace(/\.zip$/, '')}`, WEB_RUNTIME_CONFIG_FILE)));
      expect(index, 'the config.json asset').toBeGreaterThanOrEqual(0);
      let text = readFileSync(join(dev.outdir, `asset.${(keys[index] as string).replace(/\.zip$/, '')}`, WEB_RUNTIME_CONFIG_FILE), 'utf8');
      for (const [marker, value] of Object.entries(markers[index] ?? {})) text = text.split(marker).join(render(value));
      return JSON.parse(text) as Record<string, string>;
    };

    it("has the stage's Cognito prefix domain on the user pool, with the classic hosted UI", () => {
      for (const s of [dev, prod]) {
        const poolId = Object.keys(resourcesOf(s, 'AWS::Cognito::UserPool'))[0];
        expect(only(s, 'AWS::Cognito::UserPoolDomain').Properties).toEqual({ Domain: s.config.cognitoDomainPrefix, UserPoolId: { Ref: poolId }, ManagedLoginVersion: 1 });
      }
      expect(dev.config.cognitoDomainPrefix).toBe('wraparound-dev');
      expect(prod.config.cognitoDomainPrefix).toBe('wraparound-prod');
      expect(stageConfig('dev', { cognitoDomainPrefix: 'wraparound-dev-2' }).cognitoDomainPrefix).toBe('wraparound-dev-2');
      expect(() => stageConfig('dev', { cognitoDomainPrefix: 'Wraparound' })).toThrow(/cognitoDomainPrefix: lower-case/);
      expect(() => stageConfig('dev', { cognitoDomainPrefix: 'my-cognito-login' })).toThrow(/cognitoDomainPrefix: Cognito refuses/);
    });

    it('lets the web app use the authorization code grant only, as a public client without a secret (PKCE), with openid, email and profile', () => {
      for (const s of [dev, prod]) {
        const client = only(s, 'AWS::Cognito::UserPoolClient').Properties;
        expect(client.AllowedOAuthFlowsUserPoolClient).toBe(true);
        expect(client.AllowedOAuthFlows).toEqual(['code']);
        expect(client.GenerateSecret).toBe(false);
        expect([...(client.AllowedOAuthScopes as string[])].sort()).toEqual(['email', 'openid', 'profile']);
        expect(client.SupportedIdentityProviders).toEqual(['COGNITO']);
        expect(client.PreventUserExistenceErrors).toBe('ENABLED');
        expect(client.EnableTokenRevocation).toBe(true);
        // The ID token the app sends carries what the JWT authorizer's callers read.
        expect(client.ReadAttributes).toContain('custom:providerId');
      }
    });

    it('sends people back to the web app only: /sign-in after signing in, / after signing out', () => {
      for (const s of [dev, prod]) {
        const client = only(s, 'AWS::Cognito::UserPoolClient').Properties;
        expect((client.CallbackURLs as unknown[]).map(render)).toEqual([`${distributionOrigin(s)}/sign-in`]);
        expect((client.LogoutURLs as unknown[]).map(render)).toEqual([`${distributionOrigin(s)}/`]);
      }
    });

    it('keeps tokens short for a shared office computer: ID and access tokens an hour, the refresh token 12 hours', () => {
      for (const s of [dev, prod]) {
        expect(only(s, 'AWS::Cognito::UserPoolClient').Properties).toMatchObject({
          IdTokenValidity: 60,
          AccessTokenValidity: 60,
          RefreshTokenValidity: 720,
          TokenValidityUnits: { IdToken: 'minutes', AccessToken: 'minutes', RefreshToken: 'minutes' },
        });
      }
    });

    it("tells the web app where the hosted UI is, with the client's exact redirect URLs and scopes, in config.json", () => {
      const config = deployedRuntimeConfig();
      const clientId = Object.keys(resourcesOf(dev, 'AWS::Cognito::UserPoolClient'))[0];
      const client = only(dev, 'AWS::Cognito::UserPoolClient').Properties;
      expect(config).toMatchObject({
        hostedUiDomain: `https://${dev.config.cognitoDomainPrefix}.auth.<AWS::Region>.amazoncognito.com`,
        userPoolClientId: `<${clientId}>`,
        redirectUri: render((client.CallbackURLs as unknown[])[0]),
        logoutUri: render((client.LogoutURLs as unknown[])[0]),
        scope: 'openid email profile',
      });
      // The hosted UI origin is the one the CSP lets the app fetch tokens from.
      const headers = (only(dev, 'AWS::CloudFront::ResponseHeadersPolicy').Properties.ResponseHeadersPolicyConfig as { SecurityHeadersConfig: Record<string, Record<string, unknown>> }).SecurityHeadersConfig;
      const connectSrc = render(headers.ContentSecurityPolicy?.ContentSecurityPolicy).split('; ').find((d) => d.startsWith('connect-src '));
      expect(connectSrc?.split(' ')).toContain(config.hostedUiDomain);
    });
  });

  describe('encryption everywhere', () => {
    it('every store of data is encrypted at rest: table, bus, archive, queues, secrets, buckets, topic, log groups', () => {
      for (const s of [dev, prod]) {
        const key = { 'Fn::GetAtt': [dataKeyId(s), 'Arn'] };
        for (const [id, t] of Object.entries(resourcesOf(s, 'AWS::DynamoDB::Table'))) expect(t.Properties.SSESpecification, id).toMatchObject({ SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: key });
        for (const [id, bus] of Object.entries(resourcesOf(s, 'AWS::Events::EventBus'))) expect(bus.Properties.KmsKeyIdentifier, id).toEqual(key);
        for (const [id, archive] of Object.entries(resourcesOf(s, 'AWS::Events::Archive'))) expect(archive.Properties.KmsKeyIdentifier, id).toEqual(key);
        for (const [id, q] of Object.entries(resourcesOf(s, 'AWS::SQS::Queue'))) expect(q.Properties.SqsManagedSseEnabled === true || q.Properties.KmsMasterKeyId !== undefined, id).toBe(true);
        for (const [id, b] of Object.entries(resourcesOf(s, 'AWS::S3::Bucket'))) expect(b.Properties.BucketEncryption, id).toBeDefined();
        for (const [id, t] of Object.entries(resourcesOf(s, 'AWS::SNS::Topic'))) expect(t.Properties.KmsMasterKeyId, id).toBeDefined();
        // Secrets Manager always encrypts; the identity key uses the data key (above), providers' keys the service key.
        for (const [id, lg] of Object.entries(resourcesOf(s, 'AWS::Logs::LogGroup'))) {
          expect(lg.Properties.KmsKeyId, id).toEqual(key);
          expect(lg.Properties.RetentionInDays, id).toBe(s.config.logRetentionDays);
        }
        for (const [id, k] of Object.entries(resourcesOf(s, 'AWS::KMS::Key'))) expect(k.Properties.EnableKeyRotation, id).toBe(true);
        // Every log group name is one the data key lets CloudWatch Logs use it for.
        const logsStatement = (dataKey(s).Properties.KeyPolicy as { Statement: { Sid?: string; Condition?: { ArnLike: Record<string, unknown[]> } }[] }).Statement.find((st) => st.Sid === 'CloudWatchLogsEncryptsTheStageLogGroups');
        const patterns = (logsStatement?.Condition?.ArnLike['kms:EncryptionContext:aws:logs:arn'] ?? []).map((p) => new RegExp(`^${render(p).replace(/^.*:log-group:/, '').replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`));
        expect(patterns.length).toBe(2);
        for (const lg of Object.values(resourcesOf(s, 'AWS::Logs::LogGroup'))) {
          const name = lg.Properties.LogGroupName as string;
          expect(patterns.some((p) => p.test(name)), name).toBe(true);
        }
      }
    });

    it('the state machine, the access logs and the functions log with the stage\'s retention (no log group is left to Lambda to create)', () => {
      for (const s of [dev, prod]) {
        const names = Object.values(resourcesOf(s, 'AWS::Logs::LogGroup')).map((lg) => lg.Properties.LogGroupName);
        expect(names).toEqual(expect.arrayContaining([`/aws/vendedlogs/states/${s.config.namePrefix}-plan-command`, `/aws/vendedlogs/apigateway/${s.config.namePrefix}-api`]));
        for (const [id, fn] of Object.entries(resourcesOf(s, 'AWS::Lambda::Function'))) expect((fn.Properties.LoggingConfig as { LogGroup?: unknown } | undefined)?.LogGroup, id).toBeDefined();
      }
    });
  });

  describe('cdk-nag AwsSolutions', () => {
    for (const stage of ['dev', 'prod'] as const) {
      it(`has no unacknowledged finding in ${stage}, and every acknowledgement names its reason and still matches a finding`, () => {
        const s = stage === 'dev' ? dev : prod;
        const started = performance.now();
        const run = runAwsSolutions(s.stack);
        const ms = performance.now() - started;
        expect(run.unacknowledged.map((f) => `${f.rule} at ${f.path}`)).toEqual([]);
        expect(run.acknowledgements.length).toBeGreaterThan(0);
        for (const a of run.acknowledgements) {
          expect(a.reason.length, `${a.id} at ${a.path}`).toBeGreaterThan(40);
          expect(a.silenced.length, `${a.id} at ${a.path} matches no finding: remove it`).toBeGreaterThan(0);
          // Never a whole rule for the whole stack.
          expect(a.path, a.id).not.toBe(s.stack.node.path);
        }
        const byRule = new Map<string, number>();
        for (const a of run.acknowledgements) byRule.set(a.id.replace(/\[.*$/, ''), (byRule.get(a.id.replace(/\[.*$/, '')) ?? 0) + a.silenced.length);
        console.info(`cdk-nag AwsSolutions (${stage}, ${ms.toFixed(0)} ms): 0 open; acknowledged ${[...byRule].map(([rule, n]) => `${rule}×${n}`).join(', ')}`);
      });
    }
  });

  describe('ASL', () => {
    it('the synthesized PlanCommand definition, and the one the embedded stack renders, pass asl-validator', () => {
      for (const s of [dev, prod]) {
        const [machine] = Object.values(resourcesOf(s, 'AWS::StepFunctions::StateMachine'));
        const definition = resolveDefinition(s.template, machine?.Properties.DefinitionString);
        const result = aslValidator(definition);
        expect(result.errorsText(), s.config.stage).toBe('');
        expect(result.isValid).toBe(true);
      }
      const local = aslValidator(renderPlanCommandAsl());
      expect(local.errorsText()).toBe('');
      expect(local.isValid).toBe(true);
      // Not vacuous: a broken definition is refused.
      expect(aslValidator({ StartAt: 'Nowhere', States: {} }).isValid).toBe(false);
    });
  });

  it('names the stack after the stage, and refuses an unknown stage', () => {
    expect(dev.stack.stackName).toBe('Wraparound-dev');
    expect(prod.stack.stackName).toBe('Wraparound-prod');
    expect(() => stageConfig('staging')).toThrow(/Unknown stage "staging"/);
  });
});
