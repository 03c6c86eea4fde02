/**
 * Part 6c: what a whole plan costs on AWS, counted on a simulated cohort.
 *
 * The accounting run of part 6b drives a short, idealised lifecycle (8 commands). A real plan also
 * meets the sweeper's timer commands (reminders, offer expiries, escalations, follow-ups), review
 * after review, and the reads that coordinators and providers make along the way. So this runs
 * `wraparound simulate` (the seeded, discrete-event cohort of lib/simulate) through the real HTTP API
 * of an in-process embedded stack and attributes every request to the plan it concerns:
 *
 * - HTTP requests by their path (`/plans/{planId}`, `/allocations/al_<plan>_n`); requests that name
 *   no plan (worklists, offer inboxes, the directory) are "shared" and spread over the plans;
 * - executions by their command's plan, started by the API ("command") or the sweeper ("timer");
 * - storage requests by the execution or HTTP request they were made in (AsyncLocalStorage), sized
 *   as DynamoDB bills them (bench/lib/accounting.ts); the sweeper's own index queries are left out,
 *   since on AWS it runs every minute whatever the number of plans (docs/deploy.md's fixed floor);
 * - events by plan, as EventBridge would receive them.
 *
 * Only plans that finished their lifecycle in the simulated span (closed, or withdrawn) are averaged.
 * Durations on AWS are modelled as in part 6b: compute measured here plus fixed round-trip times
 * (AWS_TIMING). Run alone: `node bench/cohort-cost.ts [--plans 40] [--months 36] [--seed 1]`.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { writeFile } from 'node:fs/promises';
import http from 'node:http';
import { join } from 'node:path';
import { matchRoute, type ApiFunctionName } from '../lib/api/routes.ts';
import type { PlanEvent } from '../lib/domain/schemas.ts';
import { FUNCTION_SPECS } from '../lib/infra/functions.ts';
import { startEmbeddedStack } from '../lib/local/embedded-stack.ts';
import type { LocalWorkflowRunner } from '../lib/local/workflow-runner.ts';
import { runSimulation } from '../lib/simulate/run.ts';
import { AWS_TIMING, PRICES } from './cost.ts';
import { Accounting, type Bill } from './lib/accounting.ts';
import { countTransitions, Instrument, isStorageRequest } from './lib/instrument.ts';

type Origin = 'command' | 'read' | 'timer' | 'sweeper' | 'other';
interface Tag {
  plan?: string;
  origin: Origin;
  fn?: ApiFunctionName;
  /** On an API request's tag: how long the executions it started ran (its handler's own time is the rest). */
  timing?: { executionMs: number };
}

/** The per-plan tallies that add up and scale (readsByFn besides). */
const COUNTED = ['commands', 'timers', 'reads', 'otherWrites', 'transitions', 'events', 'providerEvents', 'storageRequests', 'readUnits', 'writeUnits', 'indexWriteUnits'] as const;
const STORAGE = ['storageRequests', 'readUnits', 'writeUnits', 'indexWriteUnits'] as const;

/**
 * commands, timers: executions started by the API or by the sweeper; reads: API GETs; otherWrites: API
 * writes that start no execution (directory changes, subscriptions); storage figures as DynamoDB bills them.
 */
export type PlanCounts = Record<(typeof COUNTED)[number], number> & {
  /** Reads by the API function that serves them. */
  readsByFn: Partial<Record<ApiFunctionName, number>>;
};

const emptyCounts = (): PlanCounts => ({ ...(Object.fromEntries(COUNTED.map((k) => [k, 0])) as Record<(typeof COUNTED)[number], number>), readsByFn: {} });

/** Modelled AWS durations, averaged over the whole cohort (ms). */
export interface ModelledTimes {
  executionMs: number;
  /** Billed step milliseconds and GB-seconds per execution (each invocation rounded up to 1 ms). */
  stepBilledMs: number;
  stepGbSeconds: number;
  stepInvocations: number;
  /** api-commands waiting for its execution, per command. */
  apiCommandMs: number;
  /** The sweeper waiting for a timer's execution, per timer. */
  sweeperPerTimerMs: number;
  /** A read, per API function. */
  readMs: Partial<Record<ApiFunctionName, number>>;
}

export interface CohortCostLine {
  item: string;
  /** Counted here (false: a figure from the counts and a stated assumption, see ASSUMED). */
  counted: boolean;
  perPlan: Record<string, number>;
  usdPer1000: number;
}

export interface CohortCostResult {
  settings: { plans: number; months: number; seed: string };
  simulatedMs: number;
  plansReferred: number;
  plansFinished: number;
  /** Per finished plan, its own requests plus its share of the shared ones. */
  perPlan: PlanCounts & { sharedReads: number };
  perCommand: { storageRequests: number; writeUnits: number; indexWriteUnits: number; readUnits: number; transitions: number };
  times: ModelledTimes;
  express: { lines: CohortCostLine[]; totalPer1000: number };
  standard: { lines: CohortCostLine[]; totalPer1000: number; transitionsPerPlan: number };
  /** Storage requests made outside any API request or execution (none expected). */
  unattributed: { storageRequests: number };
  /** The sweeper's own index queries over the whole run (not per plan: a fixed cost on AWS). */
  sweeperStorageRequests: number;
  simulationErrors: unknown;
}

const gbSeconds = (ms: number, mb: number) => (ms / 1000) * (mb / 1024);

/**
 * What the embedded stack cannot count, derived from what it does count. Assumptions, stated:
 * prod logs at INFO with state machine logs at ERROR and no execution data (lib/infra/stage-config.ts).
 */
export const ASSUMED = {
  /** X-Ray: one trace per API request and per timer execution (a command's trace covers its execution). */
  xrayPerTrace: 5.0 / 1e6,
  /** CloudWatch Logs ingestion, eu-west-2. */
  logsPerGb: 0.6,
  /** Per Lambda invocation: Powertools' one INFO line plus the platform's START/END/REPORT lines. */
  logBytesPerInvocation: 700,
  /** Per HTTP API request: one access-log line. */
  logBytesPerApiRequest: 500,
  /** KMS: the encrypted bus asks KMS once per event put and once per API destination delivery (the table's key is cached). */
  kmsPerRequest: 0.03 / 10_000,
} as const;

/** The plan a path names: a plan id, or the plan an allocation id belongs to (`al_<plan>_<n>`). */
export function planOfPath(path: string): string | undefined {
  const plan = /\/plans\/(pl_[a-z0-9]+)/.exec(path);
  if (plan) return plan[1];
  const allocation = /\/allocations\/al_([a-z0-9]+)_\d+/.exec(path);
  return allocation ? `pl_${allocation[1]}` : undefined;
}

export async function runCohortCost(options: { plans: number; months: number; seed: string; log?: (m: string) => void }): Promise<CohortCostResult> {
  const log = options.log ?? (() => {});
  const als = new AsyncLocalStorage<Tag>();
  const instrument = new Instrument();
  const tagOf = (): Tag => als.getStore() ?? { origin: 'other' };
  const labelOf = (t: Tag) => `${t.plan ?? '-'}|${t.origin}`;
  const accounting = new Accounting(
    () => labelOf(tagOf()),
    () => instrument.als.getStore()?.step ?? 'api',
  );
  const perLabel = new Map<string, PlanCounts>();
  const counts = (t: Tag) => {
    const key = labelOf(t);
    let c = perLabel.get(key);
    if (!c) perLabel.set(key, (c = emptyCounts()));
    return c;
  };

  // Time and count each API request, and run its handler inside its tag.
  const serverMs: Record<string, { ms: number; n: number; executionMs: number }> = {};
  const storageMs: Record<string, { ms: number; n: number }> = {};
  const originalEmit = http.Server.prototype.emit;
  const emit = originalEmit as (this: http.Server, event: string, ...args: unknown[]) => boolean;
  http.Server.prototype.emit = function patchedEmit(this: http.Server, event: string, ...args: unknown[]) {
    if (event !== 'request') return emit.apply(this, [event, ...args]);
    const [request, response] = args as [http.IncomingMessage, http.ServerResponse];
    if (isStorageRequest(request)) return emit.apply(this, [event, ...args]);
    const [path = '/'] = (request.url ?? '/').split('?');
    const method = request.method ?? 'GET';
    const matched = matchRoute(method, path);
    const fn = matched && 'route' in matched ? matched.route.fn : undefined;
    const origin: Origin = path.startsWith('/_local/clock') ? 'sweeper' : !fn ? 'other' : method === 'GET' ? 'read' : fn === 'api-commands' ? 'command' : 'other';
    const plan = planOfPath(path);
    const timing = { executionMs: 0 };
    const tag: Tag = { origin, timing, ...(fn ? { fn } : {}), ...(plan ? { plan } : {}) };
    const started = performance.now();
    response.once('finish', () => {
      const key = `${origin}|${fn ?? '-'}`;
      const s = (serverMs[key] ??= { ms: 0, n: 0, executionMs: 0 });
      s.ms += performance.now() - started;
      s.n += 1;
      s.executionMs += timing.executionMs;
      const c = counts(tag);
      if (origin === 'read') {
        c.reads += 1;
        c.readsByFn[fn as ApiFunctionName] = (c.readsByFn[fn as ApiFunctionName] ?? 0) + 1;
      } else if (origin === 'other' && fn) c.otherWrites += 1;
    });
    return als.run(tag, () => emit.apply(this, [event, ...args]));
  } as typeof http.Server.prototype.emit;

  let executionsMs = 0;
  let executions = 0;
  const stack = await startEmbeddedStack({
    inMemory: true,
    port: 0,
    // Priced as on AWS: the requests the deployed functions send (no plan cache, no group commit).
    awsStorageRequests: true,
    clockMode: 'simulated',
    sweepIntervalMs: 0,
    webhooks: { intervalMs: 0 },
    webDistDir: false,
    // On AWS every event goes to EventBridge; the provider ones on to an API destination.
    publisher: {
      publish: async (list: readonly PlanEvent[]) => {
        for (const event of list) {
          const c = counts({ ...tagOf(), plan: event.planId });
          c.events += 1;
          if (event.providerId) c.providerEvents += 1;
        }
      },
    },
    wrapWorkflow: (workflow) => {
      const runner = workflow as LocalWorkflowRunner;
      countTransitions(runner, (states) => {
        counts(tagOf()).transitions += states.length;
      });
      const wrapped = instrument.wrapRunner(runner);
      return {
        startSync: (input) => {
          const outer = tagOf();
          const origin: Origin = outer.origin === 'command' ? 'command' : 'timer';
          const tag: Tag = { origin, plan: input.command.planId };
          const c = counts(tag);
          if (origin === 'command') c.commands += 1;
          else c.timers += 1;
          const started = performance.now();
          return als.run(tag, () => wrapped.startSync(input)).finally(() => {
            const ms = performance.now() - started;
            executionsMs += ms;
            executions += 1;
            if (outer.timing) outer.timing.executionMs += ms;
          });
        },
      };
    },
  });
  const simulatedStarted = performance.now();
  try {
    await accounting.attach(stack.plans.client, stack.plans.tableName);
    instrument.attachClient(stack.plans.client);
    stack.plans.client.middlewareStack.add(
      (next) => async (args) => {
        const started = performance.now();
        try {
          return await next(args);
        } finally {
          const key = `${tagOf().origin}|${instrument.als.getStore()?.step ?? 'api'}`;
          const s = (storageMs[key] ??= { ms: 0, n: 0 });
          s.ms += performance.now() - started;
          s.n += 1;
        }
      },
      { step: 'initialize', name: 'benchCohortStorageTimer', priority: 'high' },
    );
    log(`cohort cost: simulating ${options.plans} plans over ${options.months} months (seed ${options.seed}) through the API`);
    const summary = await runSimulation({
      plans: options.plans,
      months: options.months,
      seed: options.seed,
      url: stack.url,
      users: stack.demoUsers,
      concurrency: 4,
      warn: (m) => log(m),
    });
    const simulatedMs = performance.now() - simulatedStarted;
    await new Promise((resolve) => setTimeout(resolve, 50));

    // Storage bills into the per-label counts.
    for (const [label, bill] of accounting.bills) {
      const [plan, origin] = label.split('|') as [string, Origin];
      const c = counts({ origin, ...(plan !== '-' ? { plan } : {}) });
      addBill(c, bill);
    }

    // Which plans finished: closed or withdrawn at the end of the span.
    const finished = new Set<string>();
    const referred = new Set<string>();
    for (const key of perLabel.keys()) {
      const plan = key.split('|')[0] as string;
      if (plan !== '-') referred.add(plan);
    }
    for (const planId of referred) {
      const plan = await stack.plans.getPlan(planId);
      if (plan && (plan.stage === 'closed' || plan.stage === 'withdrawn')) finished.add(planId);
    }
    if (finished.size === 0) throw new Error('no plan finished its lifecycle in the simulated span: run longer (--months)');

    const total = emptyCounts();
    const commandSide = emptyCounts();
    const shared = emptyCounts();
    let sweeperStorage = 0;
    let unattributed = 0;
    for (const [key, c] of perLabel) {
      const [plan, origin] = key.split('|') as [string, Origin];
      if (plan === '-') {
        if (origin === 'sweeper') {
          // The sweeper's own index queries run every minute on AWS whatever the plans: the fixed floor.
          sweeperStorage += c.storageRequests;
          addCounts(shared, { ...c, ...Object.fromEntries(STORAGE.map((k) => [k, 0])) });
        } else {
          if (origin === 'other') unattributed += c.storageRequests;
          addCounts(shared, c);
        }
      } else if (finished.has(plan)) {
        addCounts(total, c);
        if (origin === 'command' || origin === 'timer') addCounts(commandSide, c);
      }
    }
    const F = finished.size;
    const R = referred.size;
    // Shared requests serve every plan in the programme, finished or not: spread per plan referred.
    const perPlan: PlanCounts & { sharedReads: number } = { ...scale(total, 1 / F), sharedReads: shared.reads / R };
    addCounts(perPlan, scale(shared, 1 / R));

    const times = modelTimes(instrument, storageMs, serverMs, executionsMs, executions);
    const { express, standard } = priceCohort(perPlan, times);
    const commands = Math.max(1, commandSide.commands + commandSide.timers);
    return {
      settings: { plans: options.plans, months: options.months, seed: options.seed },
      simulatedMs,
      plansReferred: R,
      plansFinished: F,
      perPlan,
      perCommand: {
        storageRequests: commandSide.storageRequests / commands,
        writeUnits: commandSide.writeUnits / commands,
        indexWriteUnits: commandSide.indexWriteUnits / commands,
        readUnits: commandSide.readUnits / commands,
        transitions: commandSide.transitions / commands,
      },
      times,
      express,
      standard,
      unattributed: { storageRequests: unattributed },
      sweeperStorageRequests: sweeperStorage,
      simulationErrors: summary.errors,
    };
  } finally {
    http.Server.prototype.emit = originalEmit;
    accounting.close();
    await stack.stop();
  }
}

function addBill(c: PlanCounts, bill: Bill): void {
  c.storageRequests += Object.values(bill.requests).reduce((a, b) => a + b, 0);
  c.readUnits += bill.readUnits;
  c.writeUnits += bill.writeUnits;
  c.indexWriteUnits += bill.indexWriteUnits;
}

function addCounts(into: PlanCounts, c: PlanCounts): void {
  for (const k of COUNTED) into[k] += c[k];
  for (const [fn, n] of Object.entries(c.readsByFn) as [ApiFunctionName, number][]) into.readsByFn[fn] = (into.readsByFn[fn] ?? 0) + n;
}

function scale(c: PlanCounts, by: number): PlanCounts {
  const out = emptyCounts();
  addCounts(out, c);
  for (const k of COUNTED) out[k] *= by;
  for (const fn of Object.keys(out.readsByFn) as ApiFunctionName[]) out.readsByFn[fn] = (out.readsByFn[fn] ?? 0) * by;
  return out;
}

/**
 * AWS durations from what was measured here: each step's compute (its time less the wall time its local
 * storage requests were in flight) plus AWS_TIMING.dynamoRequestMs per storage round trip (requests sent
 * together are one) and taskInvokeMs per invocation;
 * the execution's own interpreter time on top. Averages over every execution of the cohort.
 */
function modelTimes(
  instrument: Instrument,
  storageMs: Record<string, { ms: number; n: number }>,
  serverMs: Record<string, { ms: number; n: number; executionMs: number }>,
  executionsMs: number,
  executions: number,
): ModelledTimes {
  const { stepMs, stepCalls, stepStorageWallMs, stepRoundTrips } = instrument.counters;
  const E = Math.max(1, executions);
  let stepBilledMs = 0;
  let stepGb = 0;
  let stepLocalMs = 0;
  let invocations = 0;
  for (const [step, ms] of Object.entries(stepMs)) {
    // Less the wall time it waited on storage, plus one AWS round trip per batch of requests sent together.
    const calls = stepCalls[step] ?? 0;
    const billed = Math.max(0, ms - (stepStorageWallMs[step] ?? 0)) + (stepRoundTrips[step] ?? 0) * AWS_TIMING.dynamoRequestMs;
    const perCall = calls > 0 ? Math.ceil(billed / calls) : 0;
    stepBilledMs += perCall * calls;
    stepGb += gbSeconds(perCall * calls, FUNCTION_SPECS[step as keyof typeof FUNCTION_SPECS]?.memoryMb ?? 256);
    stepLocalMs += ms;
    invocations += calls;
  }
  const orchestrationMs = Math.max(0, executionsMs - stepLocalMs) / E;
  const executionMs = stepBilledMs / E + (invocations / E) * AWS_TIMING.taskInvokeMs + orchestrationMs;
  const apiStorage = (origin: string) => storageMs[`${origin}|api`] ?? { ms: 0, n: 0 };
  const commandServer = serverMs['command|api-commands'] ?? { ms: 0, n: 0, executionMs: 0 };
  const commandStorage = apiStorage('command');
  const apiOwn = commandServer.n > 0 ? Math.max(0, commandServer.ms - commandServer.executionMs - commandStorage.ms) / commandServer.n + (commandStorage.n / commandServer.n) * AWS_TIMING.dynamoRequestMs : 0;
  const readMs: Partial<Record<ApiFunctionName, number>> = {};
  const readStorage = apiStorage('read');
  const allReads = Object.entries(serverMs).filter(([k]) => k.startsWith('read|'));
  const readsN = allReads.reduce((a, [, v]) => a + v.n, 0);
  const storagePerRead = readsN > 0 ? readStorage.ms / readsN : 0;
  const requestsPerRead = readsN > 0 ? readStorage.n / readsN : 0;
  for (const [key, v] of allReads) {
    const fn = key.split('|')[1] as ApiFunctionName;
    readMs[fn] = Math.max(0, v.ms / v.n - storagePerRead) + requestsPerRead * AWS_TIMING.dynamoRequestMs;
  }
  return {
    executionMs,
    stepBilledMs: stepBilledMs / E,
    stepGbSeconds: stepGb / E,
    stepInvocations: invocations / E,
    apiCommandMs: apiOwn + AWS_TIMING.startSyncMs + executionMs,
    sweeperPerTimerMs: AWS_TIMING.startSyncMs + executionMs,
    readMs,
  };
}

function priceCohort(p: PlanCounts, t: ModelledTimes): { express: CohortCostResult['express']; standard: CohortCostResult['standard'] } {
  const executions = p.commands + p.timers;
  const line = (item: string, perPlan: Record<string, number>, usdPerPlan: number, counted = true): CohortCostLine => ({ item, counted, perPlan, usdPer1000: usdPerPlan * 1000 });
  const memory = (fn: string) => FUNCTION_SPECS[fn as keyof typeof FUNCTION_SPECS]?.memoryMb ?? 256;
  const expressBilledMs = Math.ceil(t.executionMs / 100) * 100;
  const steps = line(
    'Lambda: PlanCommand steps',
    { invocations: executions * t.stepInvocations, billedMs: executions * t.stepBilledMs },
    executions * t.stepInvocations * PRICES.lambdaPerRequest + executions * t.stepGbSeconds * PRICES.lambdaArmPerGbSecond,
  );
  const apiCommandsMs = Math.ceil(t.apiCommandMs);
  const sweeperMs = Math.ceil(t.sweeperPerTimerMs);
  let readGb = 0;
  for (const [fn, n] of Object.entries(p.readsByFn)) readGb += n * gbSeconds(Math.ceil(t.readMs[fn as ApiFunctionName] ?? 0), memory(fn));
  const reads = line('Lambda: API reads', { invocations: p.reads }, p.reads * PRICES.lambdaPerRequest + readGb * PRICES.lambdaArmPerGbSecond);
  const dynamo = line(
    'DynamoDB on demand (index writes included)',
    { requests: p.storageRequests, readUnits: p.readUnits, writeUnits: p.writeUnits, indexWriteUnits: p.indexWriteUnits },
    p.readUnits * PRICES.dynamoPerReadUnit + (p.writeUnits + p.indexWriteUnits) * PRICES.dynamoPerWriteUnit,
  );
  const eventBridge = line('EventBridge (events, API destination calls)', { events: p.events, apiDestinationCalls: p.providerEvents }, p.events * PRICES.eventBridgePerEvent + p.providerEvents * PRICES.apiDestinationPerCall);
  const httpRequests = p.commands + p.reads + p.otherWrites;
  const httpApi = line('API Gateway HTTP API', { requests: httpRequests }, httpRequests * PRICES.httpApiPerRequest);
  const traces = httpRequests + p.timers;
  const xray = line('X-Ray traces (estimated from the counts)', { traces }, traces * ASSUMED.xrayPerTrace, false);
  const invocations = (steps.perPlan.invocations ?? 0) + p.commands + p.reads + p.otherWrites;
  const logBytes = invocations * ASSUMED.logBytesPerInvocation + httpRequests * ASSUMED.logBytesPerApiRequest;
  const logs = line('CloudWatch Logs (estimated from the counts)', { lambdaInvocations: invocations, bytes: logBytes }, (logBytes / 1024 ** 3) * ASSUMED.logsPerGb, false);
  const kmsRequests = p.events + p.providerEvents;
  const kms = line('KMS for the encrypted bus (estimated from the counts)', { requests: kmsRequests }, kmsRequests * ASSUMED.kmsPerRequest, false);
  // The lines both designs pay the same.
  const alike = [reads, dynamo, eventBridge, httpApi, xray, logs, kms];
  const expressLines = [
    line('Step Functions Express (requests, duration at 64 MB)', { executions, billedMs: executions * expressBilledMs }, executions * PRICES.expressPerRequest + executions * gbSeconds(expressBilledMs, 64) * PRICES.expressPerGbSecond),
    steps,
    line('Lambda: api-commands (waits for the execution)', { invocations: p.commands, billedMs: p.commands * apiCommandsMs }, p.commands * PRICES.lambdaPerRequest + p.commands * gbSeconds(apiCommandsMs, memory('api-commands')) * PRICES.lambdaArmPerGbSecond),
    line('Lambda: sweeper waiting for timer executions', { timers: p.timers, billedMs: p.timers * sweeperMs }, p.timers * gbSeconds(sweeperMs, memory('sweeper')) * PRICES.lambdaArmPerGbSecond),
    ...alike,
  ];
  // One Standard execution per plan: a command is a callback into it and a timer a Wait state (one
  // more state each); no duration charge; the API answers once the callback is accepted.
  const transitionsPerPlan = p.transitions + executions;
  const callbackMs = Math.ceil(t.apiCommandMs - t.executionMs - AWS_TIMING.startSyncMs + AWS_TIMING.sendTaskSuccessMs);
  const standardLines = [
    line('Step Functions Standard (state transitions)', { transitions: transitionsPerPlan }, transitionsPerPlan * PRICES.standardPerTransition),
    steps,
    line('Lambda: api-commands (sends the callback)', { invocations: p.commands, billedMs: p.commands * callbackMs }, p.commands * PRICES.lambdaPerRequest + p.commands * gbSeconds(callbackMs, memory('api-commands')) * PRICES.lambdaArmPerGbSecond),
    ...alike,
  ];
  const total = (lines: CohortCostLine[]) => lines.reduce((a, l) => a + l.usdPer1000, 0);
  return { express: { lines: expressLines, totalPer1000: total(expressLines) }, standard: { lines: standardLines, totalPer1000: total(standardLines), transitionsPerPlan } };
}

export function formatCohortCost(r: CohortCostResult): string {
  const f = (n: number, d = 1) => n.toLocaleString('en-GB', { maximumFractionDigits: d, minimumFractionDigits: d });
  const usd = (n: number) => `$${n.toFixed(2)}`;
  const p = r.perPlan;
  const lines = [
    `Cohort: ${r.plansReferred} plans referred over ${r.settings.months} simulated months (seed ${r.settings.seed}), ${r.plansFinished} finished (closed or withdrawn); ${f(r.simulatedMs / 1000, 0)} s.`,
    `Per finished plan: ${f(p.commands)} API commands + ${f(p.timers)} timer commands, ${f(p.reads)} reads (${f(p.sharedReads)} of them shared worklist/inbox/directory reads), ${f(p.transitions)} state transitions, ${f(p.events)} events (${f(p.providerEvents)} to a provider),`,
    `  ${f(p.storageRequests)} storage requests, ${f(p.readUnits)} read units, ${f(p.writeUnits)} write units + ${f(p.indexWriteUnits)} index write units.`,
    `Per command (API and timer; the API handler's and the execution's requests): ${f(r.perCommand.storageRequests)} storage requests, ${f(r.perCommand.writeUnits + r.perCommand.indexWriteUnits)} write units (${f(r.perCommand.indexWriteUnits)} index), ${f(r.perCommand.transitions)} transitions. Modelled: ${f(r.times.executionMs, 0)} ms per execution, ${f(r.times.apiCommandMs, 0)} ms billed to api-commands.`,
    '',
    '| per 1,000 plans | Express per command (this design) | Standard per plan |',
    '|---|---|---|',
  ];
  const items = new Map<string, [number?, number?]>();
  for (const l of r.express.lines) items.set(l.item, [l.usdPer1000, undefined]);
  for (const l of r.standard.lines) {
    const key = l.item.startsWith('Lambda: api-commands') ? 'Lambda: api-commands (waits for the execution)' : l.item;
    const row = items.get(key) ?? [undefined, undefined];
    items.set(key === 'Lambda: api-commands (waits for the execution)' ? key : l.item, [row[0], l.usdPer1000]);
  }
  for (const [item, [e, s]] of items) lines.push(`| ${item} | ${e === undefined ? '–' : usd(e)} | ${s === undefined ? '–' : usd(s)} |`);
  lines.push(`| **total** | **${usd(r.express.totalPer1000)}** | **${usd(r.standard.totalPer1000)}** |`);
  return lines.join('\n');
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const option = (name: string, fallback: string) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? (args[i + 1] ?? fallback) : fallback;
  };
  const started = Date.now();
  const result = await runCohortCost({
    plans: Number(option('plans', '40')),
    months: Number(option('months', '36')),
    seed: option('seed', '1'),
    log: (m) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${m}\n`),
  });
  await writeFile(join(import.meta.dirname, 'cohort-cost.json'), `${JSON.stringify({ date: new Date().toISOString(), ...result }, null, 2)}\n`);
  process.stdout.write(`${formatCohortCost(result)}\n`);
}

