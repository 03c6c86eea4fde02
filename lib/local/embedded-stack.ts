import { makeDocumentClient } from '../adapters/dynamodb/client.ts';
import { PlanRepository } from '../adapters/dynamodb/plan-repository.ts';
import { DirectoryStore } from '../adapters/dynamodb/directory-store.ts';
import { DynamoAuditLog } from '../adapters/dynamodb/audit-log.ts';
import { GroupPut } from '../adapters/dynamodb/group-put.ts';
import { checkMetricsSettings } from '../config.ts';
import { retentionOf } from '../domain/calendar.ts';
import { TABLE_DEFINITION, TABLE_NAME_DEFAULT } from '../adapters/dynamodb/table-definition.ts';
import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { EventPublisher } from '../adapters/events/publisher.ts';
import { englandAndWalesCalendar } from '../adapters/holidays.ts';
import type { Directory } from '../domain/directory.ts';
import { DEFAULT_POLICY, type DeadlinePolicy } from '../domain/policy.ts';
import { loadDirectoryFile, seedDirectory } from '../directory/load.ts';
import type { Role } from '../api/routes.ts';
import type { StepDeps } from '../runtime/step-deps.ts';
import { planCommandAsl } from '../../workflows/plan-command/asl.ts';
import { HttpProblem, problemResponse, type HttpResult } from '../api/http.ts';
import type { Logger } from '../api/handler-kit.ts';
import { makeHandler as makeLoadPlan } from '../../functions/load-plan/handler.ts';
import { makeHandler as makeDecide } from '../../functions/decide/handler.ts';
import { makeHandler as makeAllocate } from '../../functions/allocate-providers/handler.ts';
import { makeHandler as makeSavePlan } from '../../functions/save-plan/handler.ts';
import { makeHandler as makePublish } from '../../functions/publish-events/handler.ts';
import { makeHandler as makeCommandsApi } from '../../functions/api-commands/handler.ts';
import { makeHandler as makeQueriesApi } from '../../functions/api-queries/handler.ts';
import { makeHandler as makeDirectoryApi } from '../../functions/api-directory/handler.ts';
import { makeHandler as makeProvidersApi } from '../../functions/api-providers/handler.ts';
import { WebhookStore, type Delivery } from '../adapters/dynamodb/webhook-store.ts';
import { carriesHerNeeds, withheldFromProvider } from '../domain/consent.ts';
import { WebhookPublisher } from './webhooks/publisher.ts';
import { DeliveryDispatcher, type DispatcherOptions } from './webhooks/dispatcher.ts';
import { makeHandler as makeMetricsApi } from '../../functions/api-metrics/handler.ts';
import { FactStore } from '../metrics/fact-store.ts';
import { MetricsIndex, type PeriodicSnapshots } from '../metrics/index.ts';
import { FactSnapshotFile } from '../metrics/snapshot.ts';
import type { MetricsConfig } from '../domain/metrics/query.ts';
import { sweep, type SweepReport } from '../../functions/sweeper/handler.ts';
import type { WorkflowStarter } from '../../workflows/plan-command/state.ts';
import { LOCAL_AWS, startLocalStore, type LocalStore, type StoreProcess } from './dynalite-server.ts';
import { composeExtra, startGateway, type ApiFunction, type GatewayOptions } from './gateway.ts';
import { webRoutes } from './web-routes.ts';
import { LocalTokens } from './tokens.ts';
import { localSecret } from './secrets.ts';
import { LocalWorkflowRunner } from './workflow-runner.ts';
import { SimulatedClock, systemClock, type Clock } from './clock.ts';
import { clockRoutes } from './clock-routes.ts';

export interface EmbeddedOptions {
  port?: number;
  host?: string;
  dataDir?: string;
  inMemory?: boolean;
  providersFile?: string;
  /** How often the sweeper runs; 0 turns the loop off (tests call `sweep()` themselves). */
  sweepIntervalMs?: number;
  clock?: () => string;
  /** `simulated`: time moves only through advanceClock (or POST /_local/clock/advance). */
  clockMode?: 'system' | 'simulated';
  policy?: DeadlinePolicy;
  /** Wrap the workflow or publisher (fault-injection tests do). */
  wrapWorkflow?: (workflow: WorkflowStarter) => WorkflowStarter;
  /** Replaces the webhook publisher (events then go only where this one sends them). */
  publisher?: EventPublisher;
  /** Days after a plan ends before its identity is erased by the sweeper (default six calendar years). */
  retentionDays?: number;
  /** How old a feed entry must be before the pull feed shows it (default 2 s; tests use 0). */
  feedSettleMs?: number;
  wrapPublisher?: (publisher: EventPublisher) => EventPublisher;
  /** Suppression threshold, rounding of shown counts and longest period of the commissioner metrics (defaults 5, 5 and 36 months). */
  metrics?: Partial<MetricsConfig>;
  /**
   * Webhook delivery: how often the loop runs (`intervalMs`, default 1000; 0 turns it off and tests
   * call `webhooks.runOnce()`), the retry schedule in ms, jitter, timeout, lanes at once, wall clock.
   */
  webhooks?: Partial<Omit<DispatcherOptions, 'store' | 'providerIds'>> & { intervalMs?: number };
  /** The built web app served on the same port (default web/dist); false serves none. */
  webDistDir?: string | false;
  /**
   * What `/config.json` tells the web app instead of embedded sign-in: the hosted-UI browser test
   * names a fake authorization server here, as the CDK stack names Cognito's on AWS.
   */
  webRuntimeConfig?: Record<string, unknown>;
  /** Where dynalite runs: by default a child process for a store on disk, on this thread in memory (see startLocalStore). */
  storeProcess?: StoreProcess;
  /** How long stop() waits for requests and executions in flight before closing the store (default 5 s). */
  stopGraceMs?: number;
  /**
   * Send the storage requests the same code sends on AWS: no plan cache and no group commit of puts
   * (both rely on this process being the table's only writer). For the bench's cost accounting, which
   * prices the requests as DynamoDB would bill them on AWS.
   */
  awsStorageRequests?: boolean;
  /**
   * Save the metrics columns to `<dataDir>/metrics-facts.snapshot` at a clean stop and load them from
   * there at the next start (default true with a data directory). Turn it off when something other than
   * this stack writes metrics fact items to the table while it runs (the bench's seeding does): a
   * snapshot the table names is then forgotten at start, so the next start reads every fact item.
   */
  metricsSnapshot?: boolean;
  /**
   * How often the metrics columns are saved while the stack runs (default every 5 minutes while the
   * facts change, and early after 5,000 saves), so a start after a crash also reads one file and the
   * plans changed since; `schedule` replaces the timer (tests).
   */
  metricsSnapshots?: PeriodicSnapshots;
}

export interface DemoUser {
  role: Role;
  providerId?: string;
  name: string;
  token: string;
}

export interface EmbeddedStack {
  url: string;
  port: number;
  plans: PlanRepository;
  services: DirectoryStore;
  directory: Directory;
  workflow: WorkflowStarter;
  tokens: LocalTokens;
  demoUsers: DemoUser[];
  clock: Clock;
  /** The commissioner metrics projection: every plan's facts, in memory. */
  metrics: MetricsIndex;
  sweep(): Promise<SweepReport>;
  /** Move a simulated clock forward in steps, sweeping after each so every deadline fires in order. */
  advanceClock(ms: number, stepMs?: number): Promise<{ now: string; steps: number; timersSent: number }>;
  /** The webhook delivery loop (its `store` holds subscriptions and deliveries). */
  webhooks: DeliveryDispatcher;
  /** Where dynalite runs, and its process (the bench counts that process's memory and CPU with the stack's). */
  store: { process: StoreProcess; pid: number; endpoint: string; stoppedUnexpectedly(): string | undefined };
  stop(): Promise<void>;
}

/** How long GET /health waits for the store to answer one read before it calls the store not answering. */
const HEALTH_READ_MS = 2_000;

/**
 * GET /health while the store cannot serve: its process has stopped under the stack (a dynalite child that
 * exited on a full disk), or it is still there but does not answer a read (hung, stopped by a signal, its
 * files gone from under it): a 503 naming why, instead of the handler's "ok" while every other request
 * fails. A supervisor or a load balancer watching /health then sees the stack is not serving.
 */
function storeHealth(store: LocalStore, client: DynamoDBDocumentClient): NonNullable<GatewayOptions['extra']> {
  return async (req, res) => {
    if (req.method !== 'GET' || new URL(req.url ?? '/', 'http://localhost').pathname !== '/health') return false;
    const stopped = store.stoppedUnexpectedly();
    const reason = stopped === undefined ? await storeDoesNotAnswer(client) : `${stopped} Its log above says why (a full disk, for one).`;
    if (reason === undefined) return false;
    const answer = problemResponse(new HttpProblem(503, 'Service unavailable', reason, [], { 'retry-after': '30' }));
    res.writeHead(answer.statusCode, answer.headers as Record<string, string>);
    res.end(answer.body);
    return true;
  };
}

/** One read of a key no item has: undefined when the store answers it, else why not. */
async function storeDoesNotAnswer(client: DynamoDBDocumentClient): Promise<string | undefined> {
  const key = { [TABLE_DEFINITION.partitionKey]: 'HEALTH', [TABLE_DEFINITION.sortKey]: 'HEALTH' };
  try {
    await client.send(new GetCommand({ TableName: TABLE_NAME_DEFAULT, Key: key }), { abortSignal: AbortSignal.timeout(HEALTH_READ_MS) });
    return undefined;
  } catch (error) {
    const timedOut = (error as Error).name === 'AbortError' || (error as Error).name === 'TimeoutError';
    return timedOut
      ? `The local store did not answer a read within ${HEALTH_READ_MS / 1000} seconds: storage requests are not being served. Restart the stack; if it stays, see the store's process and its log.`
      : `The local store refused a read (${(error as Error).name}: ${(error as Error).message}): storage requests are failing. Restart the stack; if it stays, see its log (a full disk, for one).`;
  }
}

/**
 * The whole of Wraparound in one process: dynalite for DynamoDB, the PlanCommand ASL in the local
 * runner, the API handlers behind an HTTP gateway, and the sweeper on a timer.
 */
export async function startEmbeddedStack(options: EmbeddedOptions = {}): Promise<EmbeddedStack> {
  // Before anything starts: a setting that cannot work refuses the start, naming itself (ConfigurationError).
  if (options.metrics) checkMetricsSettings(options.metrics, (key) => `metrics.${key}`);
  const inMemory = options.inMemory ?? false;
  const dataDir = inMemory ? undefined : (options.dataDir ?? './.data');
  const clockSource: Clock = options.clock
    ? { kind: 'system', now: options.clock }
    : options.clockMode === 'simulated'
      ? await SimulatedClock.forDataDir(dataDir)
      : systemClock;
  const clock = () => clockSource.now();
  const directory = options.providersFile ? await loadDirectoryFile(options.providersFile) : seedDirectory();
  const store = await startLocalStore({ ...(dataDir ? { dataDir } : {}), inMemory, tableName: TABLE_NAME_DEFAULT, ...(options.storeProcess ? { process: options.storeProcess } : {}) });
  const client = makeDocumentClient({ ...LOCAL_AWS, endpoint: store.endpoint, maxAttempts: 3 }, { localStore: true });
  // Until the stack is handed back, a failure (its port taken, the store refusing the seed) closes the
  // store it started: a dynalite child would otherwise run on, holding the data directory's LevelDB
  // lock, until this process ends, and a second start on the same directory would fail.
  const closingStoreOnFailure = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      client.destroy();
      await store.close();
      throw error;
    }
  };
  // This process is the table's only writer (the data directory is locked), so plans it stored are
  // served from memory, as exactly as a consistent read would (never on AWS: many writers there).
  // Audit records, history and feed entries and stored responses of concurrent requests share BatchWriteItems.
  const groupPut = options.awsStorageRequests ? undefined : new GroupPut(client, TABLE_NAME_DEFAULT);
  const plans = new PlanRepository(client, TABLE_NAME_DEFAULT, options.awsStorageRequests ? {} : { soleWriterPlanCache: { maxPlans: 500 }, ...(groupPut ? { groupPut } : {}) });
  const services = new DirectoryStore(client, TABLE_NAME_DEFAULT);
  const audit = new DynamoAuditLog(client, TABLE_NAME_DEFAULT, groupPut ? { groupPut } : {});
  await closingStoreOnFailure(() => services.seed(directory, clock()));
  const webhookStore = new WebhookStore(client, TABLE_NAME_DEFAULT, options.feedSettleMs !== undefined ? { feedSettleMs: options.feedSettleMs } : {});
  const providerIds = directory.organizations.map((o) => o.id);
  const { intervalMs: webhookIntervalMs, ...dispatcherOptions } = options.webhooks ?? {};
  // Her consent as it stands when each delivery is sent (a plan that cannot be found shares nothing).
  const withheld = async (delivery: Delivery) =>
    carriesHerNeeds(delivery.eventType) ? withheldFromProvider(delivery.eventType, (await plans.getPlan(delivery.planId))?.consent, delivery.providerId) : undefined;
  const dispatcher = new DeliveryDispatcher({ logger: { warn: (m, d) => console.error(m, d) }, stackClock: clock, withheld, ...dispatcherOptions, store: webhookStore, providerIds: () => providerIds });
  const basePublisher = options.publisher ?? new WebhookPublisher(webhookStore, { ...(dispatcherOptions.now ? { now: dispatcherOptions.now } : {}), onQueued: (p) => dispatcher.nudge(p) });
  const publisher = options.wrapPublisher ? options.wrapPublisher(basePublisher) : basePublisher;
  // Every plan's metrics facts in memory, loaded before the API opens and updated on every save.
  const snapshotFile = dataDir ? new FactSnapshotFile(`${dataDir}/metrics-facts.snapshot`) : undefined;
  const metrics = new MetricsIndex({ store: new FactStore(client, TABLE_NAME_DEFAULT), plans, providers: directory.organizations.map((o) => o.id), clock, ...(snapshotFile ? { snapshotFile, useSnapshot: options.metricsSnapshot !== false } : {}) });
  await closingStoreOnFailure(() => metrics.start());
  const onPlanSaved = metrics.onPlanSaved;

  const deps: StepDeps = {
    plans,
    baseDirectory: directory,
    services,
    policy: options.policy ?? DEFAULT_POLICY,
    calendar: englandAndWalesCalendar(),
    publisher,
  };
  const runner = new LocalWorkflowRunner(planCommandAsl(), {
    'load-plan': makeLoadPlan(deps),
    decide: makeDecide(deps),
    'allocate-providers': makeAllocate(deps),
    'save-plan': makeSavePlan(deps),
    'publish-events': makePublish({ ...deps, clock, onPlanSaved }),
  });
  // Requests and executions in flight, so that stop() lets them finish before it closes the store.
  const inFlight = new Set<Promise<unknown>>();
  let stopping = false;
  const tracked = <T>(work: Promise<T>): Promise<T> => {
    inFlight.add(work);
    const done = () => inFlight.delete(work);
    work.then(done, done);
    return work;
  };
  const wrapped = options.wrapWorkflow ? options.wrapWorkflow(runner) : runner;
  const workflow: WorkflowStarter = { startSync: (input) => tracked(wrapped.startSync(input)) };
  // Once stop() has closed the store, a request it answered 503 and left running meets the closed store:
  // the stop's doing, not a fault, so its handler's storage error is a warning naming the route. Any other
  // error is still an error: a bug does not hide behind a stop.
  let storeClosed = false;
  const apiLogger: Logger = {
    error: (message, details) =>
      storeClosed && details?.name === 'TransientStorageError'
        ? console.warn(`${String(details?.route ?? 'A request')} was still running when the stack stopped and ended on the closed store (${String(details?.name ?? 'Error')}); its client was answered 503.`)
        : console.error(message, details),
  };
  const tokens = await closingStoreOnFailure(() => LocalTokens.forDataDir(dataDir));
  const identityKey = await closingStoreOnFailure(() => localSecret(dataDir, 'identity-key'));
  const functions: Record<string, ApiFunction> = {
    'api-commands': makeCommandsApi({ plans, workflow, clock, audit, identityKey: async () => identityKey, logger: apiLogger }) as unknown as ApiFunction,
    'api-queries': makeQueriesApi({ plans, audit, clock, logger: apiLogger }) as unknown as ApiFunction,
    'api-metrics': makeMetricsApi({ source: metrics, clock, ...(options.metrics ? { config: options.metrics } : {}) }) as unknown as ApiFunction,
    'api-directory': makeDirectoryApi({ baseDirectory: directory, services, clock, audit, logger: apiLogger }) as unknown as ApiFunction,
    'api-providers': makeProvidersApi({
      plans,
      audit,
      clock,
      webhooks: webhookStore,
      // Here the routes manage signed webhooks that the delivery loop sends.
      delivery: { kind: 'signed-webhooks' },
      providerIds,
      allowHttpLoopback: true,
      ...(dispatcherOptions.now ? { wallClock: () => new Date((dispatcherOptions.now as () => number)()).toISOString() } : {}),
      onDeliveriesChanged: (p) => dispatcher.nudge(p),
      sendTest: (subscription, eventId, body) => dispatcher.sendTest(subscription, eventId, body),
      logger: apiLogger,
    }) as unknown as ApiFunction,
  };
  // Once stop() has begun, a request that still arrives (on a connection already open) is told to come
  // back, instead of starting work the closing store would cut short.
  const stoppingAnswer = () =>
    problemResponse(new HttpProblem(503, 'Service unavailable', 'The embedded stack is stopping; nothing was changed. Try again when it is back.', [], { connection: 'close', 'retry-after': '5' }));
  // The answer to a request still being worked on when the stop's wait has ended (see stop()).
  const cutShortAnswer = () =>
    problemResponse(
      new HttpProblem(503, 'Service unavailable', 'The embedded stack stopped before this request finished, so it may not have been applied. Send it again when the stack is back (with the same Idempotency-Key, a command already applied is not applied twice).', [], { 'retry-after': '5' }),
    );
  // An answer given while stopping closes its connection, so the gateway's last connections end by themselves.
  const closingConnection = (result: HttpResult): HttpResult => (stopping ? { ...result, headers: { ...result.headers, connection: 'close' } } : result);
  for (const [name, fn] of Object.entries(functions)) {
    functions[name] = (event, context) => (stopping ? Promise.resolve(stoppingAnswer()) : tracked(fn(event, context).then(closingConnection)));
  }
  let lastReconcile = 0;
  const shouldReconcile = (now: string) => {
    const at = new Date(now).getTime();
    if (at - lastReconcile < 3600_000) return false;
    lastReconcile = at;
    return true;
  };
  const retention = { ...retentionOf(options.retentionDays), plans, audit, identityKey: async () => identityKey };
  const sweepOnce = () => sweep({ plans, services, workflow, publisher, clock, shouldReconcile, onPlanSaved, retention });
  let sweeping: Promise<unknown> | undefined;
  async function advanceClock(ms: number, stepMs = 6 * 3600_000) {
    if (!(clockSource instanceof SimulatedClock)) throw new Error('the clock is not simulated: start with --clock simulated');
    await sweeping;
    let remaining = ms;
    let steps = 0;
    let timersSent = 0;
    // A stop ends the walk after the current step (its answer's `now` says how far it got), so stop() need not wait for the rest.
    while (remaining > 0 && !stopping) {
      const step = Math.min(stepMs, remaining);
      await clockSource.advance(step);
      remaining -= step;
      steps += 1;
      timersSent += (await sweepOnce()).timersSent;
    }
    return { now: clockSource.now(), steps, timersSent };
  }
  const demoUsers: DemoUser[] = [];
  for (const role of ['coordinator', 'team-lead', 'commissioner'] as const) {
    demoUsers.push({ role, name: `Demo ${role}`, token: await tokens.issue({ role, name: `Demo ${role}` }) });
  }
  for (const org of directory.organizations) {
    demoUsers.push({ role: 'provider', providerId: org.id, name: org.name, token: await tokens.issue({ role: 'provider', providerId: org.id, name: org.name }) });
  }

  const gateway = await closingStoreOnFailure(() =>
    startGateway({
      port: options.port ?? 3000,
      ...(options.host ? { host: options.host } : {}),
      functions: functions as never,
      tokens,
      extra: composeExtra(
        storeHealth(store, client),
        clockRoutes({ clock: clockSource, tokens, advance: (ms, stepMs) => tracked(advanceClock(ms, stepMs)) }),
        ...(options.webDistDir === false ? [] : [webRoutes({ ...(options.webDistDir ? { distDir: options.webDistDir } : {}), ...(options.webRuntimeConfig ? { runtimeConfig: options.webRuntimeConfig } : {}), demoUsers: () => demoUsers })]),
      ),
    }),
  );

  const interval = options.sweepIntervalMs ?? 60_000;
  const timer =
    interval > 0
      ? setInterval(() => {
          // Never two sweeps at once: a slow sweep simply delays the next.
          sweeping ??= sweepOnce()
            .catch((error: Error) => console.error('sweeper failed:', error.name, error.message))
            .finally(() => (sweeping = undefined));
        }, interval)
      : undefined;
  dispatcher.start(webhookIntervalMs ?? 1000);
  // With the other timers, once nothing can fail the start: a start that fails closes the store, and a
  // timer started before it would go on snapshotting through a closed client with its journals open.
  metrics.startPeriodicSnapshots(options.metricsSnapshots);

  const url = `http://${options.host ?? '127.0.0.1'}:${gateway.port}`;
  return {
    url,
    port: gateway.port,
    plans,
    services,
    directory,
    workflow,
    tokens,
    demoUsers,
    clock: clockSource,
    metrics,
    sweep: sweepOnce,
    advanceClock,
    webhooks: dispatcher,
    store: { process: store.process, pid: store.pid, endpoint: store.endpoint, stoppedUnexpectedly: () => store.stoppedUnexpectedly() },
    async stop() {
      if (timer) clearInterval(timer);
      // From here on a new request is answered 503 (and its connection closed) while the requests,
      // executions and sweep in flight get a bounded time to finish, so none of them meets a closed
      // store (a 500) because the stack was stopped under it. The port stays open meanwhile: closing it
      // first would cut the connections whose requests Node has accepted but not yet read.
      stopping = true;
      const grace = new Promise<void>((resolve) => setTimeout(resolve, options.stopGraceMs ?? 5_000).unref());
      // Until nothing can save a plan: requests, the sweep, every execution the runner has under way
      // (whoever started it) and the metrics saves (a Publish events step that failed part-way may leave
      // its save running after its execution ended).
      const drained = (async () => {
        do {
          await sweeping;
          await Promise.allSettled([...inFlight]);
          await runner.settled();
          await metrics.settled();
        } while (sweeping || inFlight.size > 0 || runner.inFlight > 0 || metrics.savesInFlight > 0);
      })();
      await Promise.race([drained, grace]);
      // A request still running past the grace is answered now rather than cut off: its work may yet
      // end on the closed store, so whether it was applied is not known (a retry with its
      // Idempotency-Key is safe). Every other answer closes its connection; let them go before the rest are cut.
      await gateway.close(cutShortAnswer());
      await dispatcher.stop();
      // The next start reads the metrics columns from one file instead of every fact item (a last
      // snapshot, unless the periodic one is current); a failure here costs only that. An execution
      // still running past the grace may save a plan after it: its change journal stays open until the
      // store is closed, so that save is journalled before its fact item is written and the next start
      // reads it back over the file.
      await metrics
        .saveFinalSnapshot()
        .catch((error: Error) =>
          console.error(`Metrics: the commissioner figures could not be saved for a quick restart (${error.message}); the next start rebuilds them from every plan's stored facts, which is correct but slower.`),
        );
      storeClosed = true;
      try {
        client.destroy();
        await store.close();
      } finally {
        metrics.close();
      }
    },
  };
}
