import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, SourceMapMode, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { API_FUNCTIONS } from '../api/routes.ts';
import { STEP_FUNCTIONS } from '../../workflows/plan-command/steps.ts';
import { metricsEnvironment } from '../config.ts';
import { PROVIDER_WEBHOOKS_ENV } from '../adapters/events/provider-destinations.ts';
import { METRICS_NAMESPACE, OBSERVABILITY_ENV } from '../runtime/observability.ts';
import { acknowledge } from './nag.ts';
import type { StageConfig } from './stage-config.ts';

/** Every Lambda function: each is functions/<name>/handler.ts exporting `handler`. */
export const FUNCTION_NAMES = [...STEP_FUNCTIONS, ...API_FUNCTIONS, 'sweeper'] as const;
export type FunctionName = (typeof FUNCTION_NAMES)[number];

export const PROJECT_ROOT = join(import.meta.dirname, '..', '..');

export function handlerEntry(name: FunctionName): string {
  return join(PROJECT_ROOT, 'functions', name, 'handler.ts');
}

/**
 * `directory`: only the items of the DIRECTORY partition (service capacity and holds), enforced with
 * a dynamodb:LeadingKeys condition: the steps that reserve capacity never see a plan or an identity.
 * `metrics-facts`: reads of the metrics projection's partitions only (METRICS#FACTS#<shard> and
 * METRICS#META, lib/metrics/fact-store.ts), likewise by leading key: the commissioner figures are
 * computed from them, never from a plan or an identity.
 */
export type TableAccess = 'none' | 'read' | 'read-write' | 'directory' | 'metrics-facts';

/** What each function is and may do: the stack grants exactly this, nothing more. */
export interface FunctionSpec {
  description: string;
  memoryMb: 256 | 512;
  /** Step functions stay within the Task state's 10 s timeout; api-commands waits for a whole sync execution. */
  timeout: Duration;
  table: TableAccess;
  /** May start PlanCommand executions (StartSyncExecution), and gets STATE_MACHINE_ARN. */
  startsExecutions?: boolean;
  /** May put events on the bus, and gets EVENT_BUS_NAME. */
  publishesEvents?: boolean;
  /** May read the identity-linking key from Secrets Manager, and gets IDENTITY_KEY_SECRET_ARN. */
  readsIdentityKey?: boolean;
  /**
   * Appends audit records (lib/adapters/dynamodb/audit-log.ts): it may put items in the AUDIT#
   * partitions (a function whose table access is read-only gets that and no other write). The table's
   * resource policy lets no other principal put an AUDIT# item, and nobody update or delete one.
   */
  writesAudit?: boolean;
  /** Concurrent executions reserved, and so capped: for a function that protects what it calls. */
  reservedConcurrency?: number;
}

const seconds = Duration.seconds;

export const FUNCTION_SPECS: Record<FunctionName, FunctionSpec> = {
  'load-plan': { description: 'PlanCommand: load the plan, spot a replayed Idempotency-Key', memoryMb: 256, timeout: seconds(10), table: 'read' },
  // The domain decides from the state it is given; the table is touched only to reserve capacity for new offers.
  decide: { description: 'PlanCommand: the pure domain decides the next plan and its events', memoryMb: 256, timeout: seconds(10), table: 'directory' },
  'allocate-providers': { description: 'PlanCommand: exact provider allocation for open needs', memoryMb: 512, timeout: seconds(10), table: 'directory' },
  'save-plan': { description: 'PlanCommand: the one conditional write of a command', memoryMb: 256, timeout: seconds(10), table: 'read-write' },
  'publish-events': { description: 'PlanCommand: deliver the outbox (history, provider views, bus)', memoryMb: 256, timeout: seconds(10), table: 'read-write', publishesEvents: true },
  // Writes the participant's identity item before it starts the refer execution.
  // Its referrals link a woman's earlier plans by an HMAC of her identity, keyed by a secret only it reads.
  // Audits every command, referral and erasure request before it runs.
  'api-commands': { description: 'HTTP API: commands, run as synchronous Express executions', memoryMb: 512, timeout: seconds(29), table: 'read-write', startsExecutions: true, readsIdentityKey: true, writesAudit: true },
  // Read-only but for its audit records: every read of plan or identity detail (and of the audit log
  // itself) is recorded before anything is disclosed.
  'api-queries': { description: 'HTTP API: reads (worklists, plans, history, provider offers)', memoryMb: 512, timeout: seconds(10), table: 'read', writesAudit: true },
  'api-directory': { description: 'HTTP API: the provider directory (HSDS reads, availability changes)', memoryMb: 512, timeout: seconds(10), table: 'read-write', writesAudit: true },
  // Audits providers' reads of their allocations.
  'api-providers': { description: 'HTTP API: provider allocations, pull feed, webhook subscriptions and deliveries', memoryMb: 512, timeout: seconds(10), table: 'read-write', writesAudit: true },
  // Reads the stored plan facts and answers with suppressed aggregates only.
  'api-metrics': { description: 'HTTP API: commissioner figures (aggregates of stored plan facts, small numbers suppressed)', memoryMb: 512, timeout: seconds(10), table: 'metrics-facts' },
  // Redelivers stranded outboxes through the same publisher as Publish events.
  // One sweep at a time: two overlapping sweeps would race to start the same timer commands and
  // double the load on the state machine and the table after an outage.
  sweeper: {
    // After a deploy that changes the metrics facts schema it also rebuilds plans' facts, a bounded share
    // a run (functions/sweeper/facts-backfill.ts): plan reads through the stage index, fact puts, marker updates.
    description: 'Every minute: due deadlines into timer commands, redeliver stranded outboxes, rebuild metrics facts after a schema change',
    memoryMb: 256,
    timeout: seconds(55),
    table: 'read-write',
    startsExecutions: true,
    publishesEvents: true,
    reservedConcurrency: 1,
    // Retention erasure also removes the keyed link between a woman's plans, which needs the key.
    readsIdentityKey: true,
    // Retention erasure ('anonymise') is audited like an erasure request.
    writesAudit: true,
  },
};

export function functionSpec(name: FunctionName): FunctionSpec {
  const spec = (FUNCTION_SPECS as Partial<Record<string, FunctionSpec>>)[name];
  if (!spec) throw new Error(`No FUNCTION_SPECS entry for "${name}": add one in lib/infra/functions.ts (memory, timeout, table access).`);
  return spec;
}

export const functionsThat = (test: (spec: FunctionSpec) => boolean | undefined): FunctionName[] => FUNCTION_NAMES.filter((name) => test(functionSpec(name)));

/**
 * ESM bundles need `require` for the CommonJS dependencies esbuild inlines; the aliased import keeps
 * the banner's names clear of anything the minifier might generate.
 */
export const ESM_REQUIRE_BANNER = "import { createRequire as __wraparoundCreateRequire } from 'node:module'; const require = __wraparoundCreateRequire(import.meta.url);";

/** What a bundle is built from: the handler code it can import, the locked dependencies, the compiler settings. */
const BUNDLE_INPUTS = ['functions', 'lib', 'workflows', 'package-lock.json', 'tsconfig.json'];

function filesUnder(path: string): string[] {
  let entries;
  try {
    entries = readdirSync(path, { withFileTypes: true });
  } catch {
    return [path];
  }
  return entries.flatMap((entry) => filesUnder(join(path, entry.name)));
}

let sourceHash: string | undefined;
/**
 * A hash of every bundle input, computed once per process. Bundles are named by it (plus the
 * function and its bundling options), so a repeated synth with unchanged sources reuses the bundles
 * already staged in cdk.out instead of running esbuild eight times.
 */
export function bundleSourceHash(): string {
  if (sourceHash) return sourceHash;
  const hash = createHash('sha256');
  for (const file of BUNDLE_INPUTS.flatMap((input) => filesUnder(join(PROJECT_ROOT, input))).sort()) {
    hash.update(relative(PROJECT_ROOT, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  sourceHash = hash.digest('hex');
  return sourceHash;
}

export interface FunctionsProps {
  config: StageConfig;
  /** Environment every function gets (the table name). */
  environment: Record<string, string>;
  /** Encrypts the functions' log groups (the stack's data key: errors may name plans). */
  logKey: kms.IKey;
  /**
   * The webhook URLs the deploy configured (ProviderDelivery.configuredEndpoints): api-providers gets
   * them as PROVIDER_WEBHOOKS, to show each provider's destination instead of subscriptions it cannot make.
   */
  providerWebhooks: Readonly<Record<string, string>>;
}

/** The Powertools settings every function gets (names shared with lib/runtime/observability.ts). */
export function observabilityEnvironment(config: StageConfig): Record<string, string> {
  return {
    // The service dimension of every metric, so two stages in one account never mix their figures.
    [OBSERVABILITY_ENV.serviceName]: config.namePrefix,
    [OBSERVABILITY_ENV.logLevel]: config.logLevel,
    [OBSERVABILITY_ENV.metricsNamespace]: METRICS_NAMESPACE,
    [OBSERVABILITY_ENV.logEvent]: 'false',
    [OBSERVABILITY_ENV.tracerCaptureResponse]: 'false',
  };
}

/**
 * One NodejsFunction per handler, bundled by the local esbuild (never Docker), each with its own
 * encrypted log group and its own role, which may write to that log group and nothing else until
 * the stack grants what FUNCTION_SPECS names (no AWSLambdaBasicExecutionRole, which may create
 * and write any log group).
 */
export class Functions extends Construct {
  readonly byName: Record<FunctionName, NodejsFunction>;
  readonly roles: Record<FunctionName, iam.Role>;

  constructor(scope: Construct, id: string, props: FunctionsProps) {
    super(scope, id);
    const { config } = props;
    const removalPolicy = config.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    const roles = {} as Record<FunctionName, iam.Role>;
    const make = (name: FunctionName) => {
      const spec = functionSpec(name);
      const functionName = `${config.namePrefix}-${name}`;
      const logGroup = new logs.LogGroup(this, `${name}-logs`, {
        logGroupName: `/aws/lambda/${functionName}`,
        retention: config.logRetentionDays as logs.RetentionDays,
        encryptionKey: props.logKey,
        removalPolicy,
      });
      const role = new iam.Role(this, `${name}-role`, {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: `${functionName}: its log group, X-Ray, and what FUNCTION_SPECS grants`,
      });
      logGroup.grantWrite(role);
      // Active tracing adds xray:PutTraceSegments and xray:PutTelemetryRecords, which have no resource
      // to name. The least-privilege test checks that nothing else in the stack uses Resource "*".
      acknowledge(role, 'AwsSolutions-IAM5[Resource::*]', 'X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions (Resource "*" is required); test/infra asserts no other action has Resource "*".');
      roles[name] = role;
      const bundling: BundlingOptions = {
        forceDockerBundling: false,
        format: OutputFormat.ESM,
        mainFields: ['module', 'main'],
        banner: ESM_REQUIRE_BANNER,
        minify: true,
        sourceMap: true,
        sourceMapMode: SourceMapMode.DEFAULT,
        sourcesContent: false,
        // Domain refusals cross into Step Functions by error name; keep names intact under minification.
        keepNames: true,
        // The Node.js 24 runtime ships AWS SDK v3.
        externalModules: ['@aws-sdk/*'],
      };
      const assetHash = createHash('sha256').update(bundleSourceHash()).update(name).update(JSON.stringify(bundling)).digest('hex');
      return new NodejsFunction(this, name, {
        functionName,
        description: spec.description,
        entry: handlerEntry(name),
        handler: 'handler',
        projectRoot: PROJECT_ROOT,
        depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
        runtime: lambda.Runtime.NODEJS_24_X,
        architecture: lambda.Architecture.ARM_64,
        memorySize: spec.memoryMb,
        timeout: spec.timeout,
        role,
        ...(spec.reservedConcurrency === undefined ? {} : { reservedConcurrentExecutions: spec.reservedConcurrency }),
        tracing: lambda.Tracing.ACTIVE,
        logGroup,
        loggingFormat: lambda.LoggingFormat.JSON,
        environment: {
          ...props.environment,
          NODE_OPTIONS: '--enable-source-maps',
          ...observabilityEnvironment(config),
          ...(name === 'api-metrics' ? metricsEnvironment(config.metrics) : {}),
          ...(name === 'api-providers' ? { [PROVIDER_WEBHOOKS_ENV]: JSON.stringify(props.providerWebhooks) } : {}),
        },
        bundling: { ...bundling, assetHash },
      });
    };

    this.byName = Object.fromEntries(FUNCTION_NAMES.map((name) => [name, make(name)])) as Record<FunctionName, NodejsFunction>;
    this.roles = roles;
  }

  addEnvironment(names: readonly FunctionName[], key: string, value: string): void {
    for (const name of names) this.byName[name].addEnvironment(key, value);
  }
}
