/**
 * Parts 1-3 of the bench, and the request counts the cost estimate is built from:
 *
 *   1. commands/s and latency over real HTTP with 1, 8 and 32 clients driving whole lifecycles;
 *   2. the storage limit: raw conditional UpdateItem calls/s on the same dynalite with the same client,
 *      and the storage requests each command makes (an SDK middleware on the stack's client);
 *   3. the orchestration limit: executions/s of the same ASL in the local runner with no-op tasks,
 *      and where a command's time goes (orchestration, domain, storage, HTTP) at one client;
 *
 * then a separate accounting run (a fresh stack, one client) that sizes every storage request as
 * DynamoDB would bill it and counts events, state transitions and Lambda invocations per command.
 */
import diagnostics from 'node:diagnostics_channel';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { allocationCommandBySegment, planCommandBySegment, type CommandName, type Stage } from '../lib/domain/lifecycle.ts';
import type { Plan, PlanEvent } from '../lib/domain/schemas.ts';
import { startEmbeddedStack, type EmbeddedStack, type EmbeddedOptions } from '../lib/local/embedded-stack.ts';
import { LocalWorkflowRunner } from '../lib/local/workflow-runner.ts';
import { planCommandAsl } from '../workflows/plan-command/asl.ts';
import type { PlanCommandState } from '../workflows/plan-command/state.ts';
import { Accounting, type Bill } from './lib/accounting.ts';
import type { ClientsJob, ClientsResult } from './lib/clients.ts';
import { countTransitions, Instrument, isStorageRequest, type Counters } from './lib/instrument.ts';
import { profileWhile, type CpuBreakdown } from './lib/profile.ts';
import { median, percentile, processCpuMs } from './lib/stats.ts';
import { ClientWorker } from './lib/worker-pool.ts';

export interface ThroughputOptions {
  levels: number[];
  repeats: number;
  e2eMs: number;
  rawMs: number;
  noopMs: number;
  costLifecycles: number;
  log: (message: string) => void;
}

export interface RateRun {
  perSecond: number;
  p50: number;
  p95: number;
  p99: number;
  /** CPU time of the stack's own thread per operation (robust to other load on the machine). */
  cpuMsPerOp: number;
  /** CPU time of the dynalite child process per operation (NaN when dynalite runs in the stack's process). */
  storeCpuMsPerOp: number;
}

export interface E2eRun extends RateRun {
  commands: number;
  lifecycles: number;
  elapsedMs: number;
  activations: number;
  errors: string[];
  /** Main thread event-loop utilisation while the clients ran (1 = the stack's thread never idle). */
  eventLoopUtilization: number;
  /** CPU of this whole process (stack and clients' thread) as a share of one core. */
  cpuCores: number;
  storageRequestsPerCommand: number;
  counters: Counters;
  /** Every command of the run (the ones closing plans after the deadline too), which the counters cover. */
  allCommands: number;
  latencySumMs: number;
}

export interface Breakdown {
  clientLatencyMs: number;
  perCommandMs: { orchestration: number; domain: number; storage: number; http: number; apiHandler: number; transport: number };
  fractions: { orchestration: number; domain: number; storage: number; http: number };
  stepMsPerCommand: Record<string, number>;
  stepCallsPerCommand: Record<string, number>;
  storageRequestsPerCommand: { total: number; api: number; steps: number; byWhere: Record<string, number> };
  /** Requests refused, per command, by `<where>:<operation>:<error name>`. */
  refusedPerCommand: Record<string, number>;
  /** Every storage request's own duration added up, per command. */
  storageMsPerCommand: { api: number; steps: number };
  /** Wall time with a storage request in flight, per command (requests sent together counted once). */
  storageWallMsPerCommand: { api: number; steps: number };
  /** Per step, per command: its storage wall time, and its storage round trips (a batch of requests sent together is one). */
  stepStorageWallMsPerCommand: Record<string, number>;
  stepRoundTripsPerCommand: Record<string, number>;
  executionMsPerCommand: number;
  serverMsPerCommand: number;
}

export interface CostCounts {
  lifecycles: number;
  commands: Record<string, number>;
  bills: Record<string, Bill>;
  events: Record<string, { events: number; providerEvents: number }>;
  transitions: Record<string, number>;
  executions: Record<string, number>;
  stepCalls: Record<string, number>;
  errors: string[];
}

export interface ThroughputResult {
  raw: Record<number, RateRun & { runs: number[] }>;
  e2e: Record<number, { runs: E2eRun[]; median: RateRun & { storageRequestsPerCommand: number; eventLoopUtilization: number; cpuCores: number } }>;
  noop: Record<number, { runs: number[]; perSecond: number; msPerExecution: number }>;
  /**
   * The HTTP limit, same run: GET of a path no route has (the gateway's own 404: no token, no handler,
   * no storage) over the same clients and gateway, at each level. What any command behind this HTTP
   * front could at best approach.
   */
  http: Record<number, RateRun & { runs: number[] }>;
  breakdown: Breakdown;
  commandMix: Record<string, number>;
  latencyByCommand: Record<string, { count: number; p50: number; p99: number }>;
  /** The same at 8 clients, where the p99 target is set: which commands make the tail. */
  latencyByCommandAt8: Record<string, { count: number; p50: number; p95: number; p99: number; shareOfSlowest1Percent: number }>;
  /** A CPU profile of the stack's thread during one more run at 8 clients. */
  cpuProfile: { clients: number; run: E2eRun; cpu: CpuBreakdown } | undefined;
  cost: CostCounts;
}

/** CPU ms the stack's dynalite child process has used so far (NaN when dynalite runs in the stack's process). */
const storeCpu = (stack: EmbeddedStack) => (stack.store.process === 'child' ? (processCpuMs(stack.store.pid) ?? NaN) : NaN);

const baseOptions = (): Partial<EmbeddedOptions> => ({ port: 0, sweepIntervalMs: 0, webhooks: { intervalMs: 0 }, webDistDir: false });

function tokensOf(stack: EmbeddedStack) {
  const coordinator = (stack.demoUsers.find((u) => u.role === 'coordinator') as { token: string }).token;
  const providers = Object.fromEntries(stack.demoUsers.filter((u) => u.role === 'provider').map((u) => [u.providerId as string, u.token]));
  return { coordinator, providers };
}

// ---------------------------------------------------------------------------------------------
// 2. The storage limit

const RAW_PK = (i: number) => ({ pk: `BENCH#RAW#${i}`, sk: 'RAW' });

async function rawWrites(stack: EmbeddedStack, versions: number[], concurrency: number, ms: number): Promise<RateRun> {
  const client = stack.plans.client;
  const TableName = stack.plans.tableName;
  for (let i = versions.length; i < concurrency; i += 1) {
    await client.send(new PutCommand({ TableName, Item: { ...RAW_PK(i), type: 'bench', v: 0 } }));
    versions.push(0);
  }
  const latencies: number[] = [];
  const storeCpuBefore = storeCpu(stack);
  const cpu = process.threadCpuUsage();
  const started = performance.now();
  const end = started + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, i) => {
      while (performance.now() < end) {
        const t = performance.now();
        await client.send(
          new UpdateCommand({
            TableName,
            Key: RAW_PK(i),
            UpdateExpression: 'SET #v = :next, #at = :at',
            ConditionExpression: '#v = :previous',
            ExpressionAttributeNames: { '#v': 'v', '#at': 'updatedAt' },
            ExpressionAttributeValues: { ':next': (versions[i] as number) + 1, ':previous': versions[i], ':at': new Date().toISOString() },
          }),
        );
        versions[i] = (versions[i] as number) + 1;
        latencies.push(performance.now() - t);
      }
    }),
  );
  const elapsed = performance.now() - started;
  const used = process.threadCpuUsage(cpu);
  return {
    perSecond: latencies.length / (elapsed / 1000),
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    cpuMsPerOp: (used.user + used.system) / 1000 / latencies.length,
    storeCpuMsPerOp: (storeCpu(stack) - storeCpuBefore) / latencies.length,
  };
}

// ---------------------------------------------------------------------------------------------
// 1. End to end

async function e2eRun(worker: ClientWorker, instrument: Instrument, job: ClientsJob, stack: EmbeddedStack): Promise<{ run: E2eRun; result: ClientsResult }> {
  instrument.reset();
  const storeCpuBefore = storeCpu(stack);
  const elu = performance.eventLoopUtilization();
  const cpu = process.cpuUsage();
  const thread = process.threadCpuUsage();
  const result = await worker.run(job);
  const counters = instrument.snapshot();
  const used = performance.eventLoopUtilization(elu);
  const cpuUsed = process.cpuUsage(cpu);
  const threadUsed = process.threadCpuUsage(thread);
  const all = Object.values(result.latencies).flat();
  const requests = Object.values(counters.requests).reduce((a, b) => a + b, 0);
  return {
    result,
    run: {
      perSecond: result.commands / (result.elapsedMs / 1000),
      p50: percentile(all, 50),
      p95: percentile(all, 95),
      p99: percentile(all, 99),
      cpuMsPerOp: (threadUsed.user + threadUsed.system) / 1000 / Math.max(1, result.allCommands),
      storeCpuMsPerOp: (storeCpu(stack) - storeCpuBefore) / Math.max(1, result.allCommands),
      commands: result.commands,
      lifecycles: result.lifecycles,
      elapsedMs: result.elapsedMs,
      activations: result.activations,
      errors: result.errors,
      eventLoopUtilization: used.utilization,
      cpuCores: (cpuUsed.user + cpuUsed.system) / 1000 / result.elapsedMs,
      storageRequestsPerCommand: requests / Math.max(1, result.allCommands),
      counters,
      allCommands: result.allCommands,
      latencySumMs: result.allLatencySumMs,
    },
  };
}

function breakdownOf(runs: E2eRun[]): Breakdown {
  const sum = (f: (r: E2eRun) => number) => runs.reduce((a, r) => a + f(r), 0);
  const n = sum((r) => r.allCommands);
  const latency = sum((r) => r.latencySumMs) / n;
  const storageApi = sum((r) => r.counters.storageMs.api) / n;
  const storageSteps = sum((r) => r.counters.storageMs.steps) / n;
  const storageWallApi = sum((r) => r.counters.storageWallMs.api) / n;
  const storageWallSteps = sum((r) => r.counters.storageWallMs.steps) / n;
  const stepStorageWallMs: Record<string, number> = {};
  const stepRoundTrips: Record<string, number> = {};
  const stepMs: Record<string, number> = {};
  const stepCalls: Record<string, number> = {};
  const byWhere: Record<string, number> = {};
  const refused: Record<string, number> = {};
  for (const r of runs) {
    for (const [k, v] of Object.entries(r.counters.refused)) refused[k] = (refused[k] ?? 0) + v / n;
    for (const [k, v] of Object.entries(r.counters.stepMs)) stepMs[k] = (stepMs[k] ?? 0) + v / n;
    for (const [k, v] of Object.entries(r.counters.stepCalls)) stepCalls[k] = (stepCalls[k] ?? 0) + v / n;
    for (const [k, v] of Object.entries(r.counters.requests)) byWhere[k] = (byWhere[k] ?? 0) + v / n;
    for (const [k, v] of Object.entries(r.counters.stepStorageWallMs)) stepStorageWallMs[k] = (stepStorageWallMs[k] ?? 0) + v / n;
    for (const [k, v] of Object.entries(r.counters.stepRoundTrips)) stepRoundTrips[k] = (stepRoundTrips[k] ?? 0) + v / n;
  }
  const steps = Object.values(stepMs).reduce((a, b) => a + b, 0);
  const execution = sum((r) => r.counters.executionMs) / n;
  const server = sum((r) => r.counters.serverMs) / n;
  const perCommandMs = {
    orchestration: execution - steps,
    domain: steps - storageWallSteps,
    storage: storageWallApi + storageWallSteps,
    apiHandler: server - execution - storageWallApi,
    transport: latency - server,
    http: 0,
  };
  perCommandMs.http = perCommandMs.apiHandler + perCommandMs.transport;
  const requests = Object.entries(byWhere);
  return {
    clientLatencyMs: latency,
    perCommandMs,
    fractions: {
      orchestration: perCommandMs.orchestration / latency,
      domain: perCommandMs.domain / latency,
      storage: perCommandMs.storage / latency,
      http: perCommandMs.http / latency,
    },
    stepMsPerCommand: stepMs,
    stepCallsPerCommand: stepCalls,
    storageRequestsPerCommand: {
      total: requests.reduce((a, [, v]) => a + v, 0),
      api: requests.filter(([k]) => k.startsWith('api:')).reduce((a, [, v]) => a + v, 0),
      steps: requests.filter(([k]) => !k.startsWith('api:')).reduce((a, [, v]) => a + v, 0),
      byWhere,
    },
    refusedPerCommand: refused,
    storageMsPerCommand: { api: storageApi, steps: storageSteps },
    storageWallMsPerCommand: { api: storageWallApi, steps: storageWallSteps },
    stepStorageWallMsPerCommand: stepStorageWallMs,
    stepRoundTripsPerCommand: stepRoundTrips,
    executionMsPerCommand: execution,
    serverMsPerCommand: server,
  };
}

// ---------------------------------------------------------------------------------------------
// 3. The orchestration limit

const STAGE_BEFORE: Partial<Record<CommandName, Stage>> = {
  refer: 'none',
  'record-consent': 'referred',
  'submit-assessment': 'assessment',
  'accept-offer': 'allocating',
  activate: 'allocating',
  'record-contact': 'active',
  'record-review': 'active',
  exit: 'active',
};

/** The same ASL with tasks that only pass a realistic state along, in the lifecycle's command mix. */
/** The HTTP limit's path: no route has it, so the gateway answers 404 itself (see ClientsJob.probePath). */
const HTTP_LIMIT_PATH = '/bench-http-limit';

/** Per command: its own percentiles, and its share of the slowest 1 % of all commands (what the p99 is made of). */
function tailByCommand(byCommand: Record<string, number[]>): ThroughputResult['latencyByCommandAt8'] {
  const all = Object.values(byCommand).flat();
  const p99 = percentile(all, 99);
  const slowest = all.filter((ms) => ms >= p99).length;
  return Object.fromEntries(
    Object.entries(byCommand).map(([k, v]) => [
      k,
      { count: v.length, p50: percentile(v, 50), p95: percentile(v, 95), p99: percentile(v, 99), shareOfSlowest1Percent: v.filter((ms) => ms >= p99).length / Math.max(1, slowest) },
    ]),
  );
}

async function noopExecutions(plan: Plan, mix: CommandName[], concurrency: number, ms: number): Promise<number> {
  const runner = new LocalWorkflowRunner(planCommandAsl(), {
    'load-plan': async (s) => ({ ...s, stage: STAGE_BEFORE[s.command.name] ?? 'active', ...(s.command.name === 'refer' ? {} : { plan }), holdToken: 'bench' }),
    decide: async (s) => ({ ...s, plan, changed: true, needsAllocation: s.command.name === 'submit-assessment', status: 200 }),
    'allocate-providers': async (s) => s,
    'save-plan': async (s) => s,
    'publish-events': async (s: PlanCommandState) => ({ ...s, plan: { ...(s.plan as Plan), outbox: [] } }),
  });
  let done = 0;
  const started = performance.now();
  const end = started + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, c) => {
      for (let i = c; performance.now() < end; i += 1) {
        const name = mix[i % mix.length] as CommandName;
        const outcome = await runner.startSync({ command: { name, planId: plan.planId, payload: {}, actor: { role: 'coordinator', sub: 'bench' } }, now: new Date().toISOString() });
        if (outcome.status !== 'SUCCEEDED') throw new Error(`no-op execution failed: ${outcome.error} ${outcome.cause}`);
        done += 1;
      }
    }),
  );
  return done / ((performance.now() - started) / 1000);
}

// ---------------------------------------------------------------------------------------------
// The accounting run

function commandOfRequest(method: string, url: string): string {
  const path = url.split('?')[0] ?? '';
  const parts = path.split('/').filter(Boolean);
  if (method === 'POST' && parts.length === 1 && parts[0] === 'plans') return 'refer';
  if (method === 'POST' && parts.length === 3 && parts[0] === 'plans') return planCommandBySegment(parts[2] as string) ?? `plans/${parts[2]}`;
  if (method === 'POST' && parts.length === 3 && parts[0] === 'allocations') return allocationCommandBySegment(parts[2] as string) ?? `allocations/${parts[2]}`;
  return `${method} ${parts[0] ?? ''}`;
}

async function costRun(worker: ClientWorker, lifecycles: number): Promise<CostCounts> {
  let current = 'start-up';
  const onStart = (message: unknown) => {
    const { request } = message as { request: { method?: string; url?: string; headers: Record<string, unknown> } };
    if (isStorageRequest(request)) return;
    current = commandOfRequest(request.method ?? 'GET', request.url ?? '/');
  };
  const events: CostCounts['events'] = {};
  const transitions: Record<string, number> = {};
  const executions: Record<string, number> = {};
  const instrument = new Instrument();
  const accounting = new Accounting(
    () => current,
    () => instrument.als.getStore()?.step ?? 'api',
  );
  const stack = await startEmbeddedStack({
    ...baseOptions(),
    // Priced as on AWS: the requests the deployed functions send (no plan cache, no group commit).
    awsStorageRequests: true,
    inMemory: true,
    // On AWS every event goes to EventBridge; the provider ones on to an API destination.
    publisher: {
      publish: async (list: readonly PlanEvent[]) => {
        const e = (events[current] ??= { events: 0, providerEvents: 0 });
        e.events += list.length;
        e.providerEvents += list.filter((x) => x.providerId).length;
      },
    },
    wrapWorkflow: (workflow) => {
      const runner = workflow as LocalWorkflowRunner;
      countTransitions(runner, (states) => {
        transitions[current] = (transitions[current] ?? 0) + states.length;
        executions[current] = (executions[current] ?? 0) + 1;
      });
      return instrument.wrapRunner(runner);
    },
  });
  try {
    await accounting.attach(stack.plans.client, stack.plans.tableName);
    diagnostics.subscribe('http.server.request.start', onStart);
    const { coordinator, providers } = tokensOf(stack);
    const bills = new Map<string, Bill>();
    const stepCalls: Record<string, number> = {};
    const result = await worker.run({ url: stack.url, coordinator, providers, clients: 1, durationMs: 0, lifecyclesPerClient: lifecycles, runId: 'cost', runNumber: 0 });
    // Let the last execution's event log finish.
    await new Promise((resolve) => setTimeout(resolve, 50));
    for (const [label, bill] of accounting.bills) if (label !== 'start-up') bills.set(label, bill);
    for (const [k, v] of Object.entries(instrument.counters.stepCalls)) stepCalls[k] = v;
    return {
      lifecycles: result.lifecycles,
      commands: Object.fromEntries(Object.entries(result.latencies).map(([k, v]) => [k, v.length])),
      bills: Object.fromEntries(bills),
      events,
      transitions,
      executions,
      stepCalls,
      errors: result.errors,
    };
  } finally {
    diagnostics.unsubscribe('http.server.request.start', onStart);
    accounting.close();
    await stack.stop();
  }
}

// ---------------------------------------------------------------------------------------------

export async function runThroughput(options: ThroughputOptions): Promise<ThroughputResult> {
  const { log } = options;
  const dataDir = await mkdtemp(join(tmpdir(), 'wraparound-bench-'));
  const instrument = new Instrument();
  let lastPlan: Plan | undefined;
  const stack = await startEmbeddedStack({
    ...baseOptions(),
    dataDir,
    wrapWorkflow: (workflow) => {
      const runner = workflow as LocalWorkflowRunner;
      const save = runner.handlers['Save plan'] as (input: unknown) => Promise<unknown>;
      runner.handlers['Save plan'] = (input: unknown) => {
        lastPlan = (input as PlanCommandState).plan;
        return save(input);
      };
      return instrument.wrapRunner(runner);
    },
  });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await stack.stop();
  };
  const worker = new ClientWorker();
  try {
    instrument.attachClient(stack.plans.client);
    instrument.attachHttp();
    const { coordinator, providers } = tokensOf(stack);
    let runNumber = 0;
    const job = (clients: number, runId: string, durationMs = options.e2eMs): ClientsJob => ({ url: stack.url, coordinator, providers, clients, durationMs, runId, runNumber: (runNumber += 1) });

    log('warming up');
    await worker.run(job(4, 'warm', Math.min(3000, options.e2eMs)));
    const versions: number[] = [];
    await rawWrites(stack, versions, 8, 1000);

    const raw: Record<number, number[]> = {};
    const rawRuns: Record<number, RateRun[]> = {};
    const httpRuns: Record<number, RateRun[]> = {};
    const e2e: Record<number, E2eRun[]> = {};
    const latencyByCommand: Record<string, number[]> = {};
    const latencyByCommandAt8: Record<string, number[]> = {};
    for (let rep = 0; rep < options.repeats; rep += 1) {
      for (const c of options.levels) {
        const r = await rawWrites(stack, versions, c, options.rawMs);
        (raw[c] ??= []).push(r.perSecond);
        (rawRuns[c] ??= []).push(r);
        log(`raw UpdateItem, ${c} at once: ${r.perSecond.toFixed(0)}/s`);
        const { run: probe } = await e2eRun(worker, instrument, { ...job(c, `r${rep}c${c}probe`, options.rawMs), probePath: HTTP_LIMIT_PATH }, stack);
        (httpRuns[c] ??= []).push(probe);
        log(`GET ${HTTP_LIMIT_PATH} (the gateway's 404), ${c} at once: ${probe.perSecond.toFixed(0)}/s`);
      }
      for (const c of options.levels) {
        const { run, result } = await e2eRun(worker, instrument, job(c, `r${rep}c${c}`), stack);
        (e2e[c] ??= []).push(run);
        if (c === 1) for (const [k, v] of Object.entries(result.latencies)) (latencyByCommand[k] ??= []).push(...v);
        if (c === 8) for (const [k, v] of Object.entries(result.latencies)) (latencyByCommandAt8[k] ??= []).push(...v);
        log(
          `end to end, ${c} client${c > 1 ? 's' : ''}: ${run.perSecond.toFixed(1)} commands/s, p50 ${run.p50.toFixed(1)} ms, p99 ${run.p99.toFixed(1)} ms, ${run.storageRequestsPerCommand.toFixed(1)} storage requests/command${run.errors.length ? `, ${run.errors.length} errors: ${run.errors[0]}` : ''}`,
        );
      }
    }

    // Where the CPU goes at saturation: one more 8-client run, profiled (not part of the medians).
    const profiled = await profileWhile(() => e2eRun(worker, instrument, job(8, 'profile', Math.max(4000, options.e2eMs / 2)), stack));
    log(`profiled run, 8 clients: ${Object.entries(profiled.cpu.shares).slice(0, 4).map(([k, v]) => `${k} ${(v * 100).toFixed(0)}%`).join(', ')}`);

    // The orchestration limit, with a plan from this run as the state passed along.
    const mixCounts = Object.fromEntries(Object.entries(latencyByCommand).map(([k, v]) => [k, v.length]));
    const lifecycleMix: CommandName[] = ['refer', 'record-consent', 'submit-assessment', 'accept-offer', 'accept-offer', 'record-contact', 'record-contact', 'record-review', 'exit'];
    const noop: ThroughputResult['noop'] = {};
    for (const c of [1, 8]) {
      const runs: number[] = [];
      for (let rep = 0; rep < options.repeats; rep += 1) runs.push(await noopExecutions(lastPlan as Plan, lifecycleMix, c, options.noopMs));
      noop[c] = { runs, perSecond: median(runs), msPerExecution: 1000 / median(runs) };
      log(`no-op executions, ${c} at once: ${median(runs).toFixed(0)}/s`);
    }

    const med = (runs: RateRun[], k: keyof RateRun) => median(runs.map((r) => r[k]));
    const result: ThroughputResult = {
      raw: Object.fromEntries(
        options.levels.map((c) => {
          const runs = rawRuns[c] ?? [];
          return [c, { perSecond: median(raw[c] ?? []), p50: med(runs, 'p50'), p95: med(runs, 'p95'), p99: med(runs, 'p99'), cpuMsPerOp: med(runs, 'cpuMsPerOp'), storeCpuMsPerOp: med(runs, 'storeCpuMsPerOp'), runs: raw[c] ?? [] }];
        }),
      ),
      http: Object.fromEntries(
        options.levels.map((c) => {
          const runs = httpRuns[c] ?? [];
          return [c, { perSecond: med(runs, 'perSecond'), p50: med(runs, 'p50'), p95: med(runs, 'p95'), p99: med(runs, 'p99'), cpuMsPerOp: med(runs, 'cpuMsPerOp'), storeCpuMsPerOp: med(runs, 'storeCpuMsPerOp'), runs: runs.map((r) => r.perSecond) }];
        }),
      ),
      e2e: Object.fromEntries(
        options.levels.map((c) => {
          const runs = e2e[c] ?? [];
          return [
            c,
            {
              runs,
              median: {
                perSecond: med(runs, 'perSecond'),
                p50: med(runs, 'p50'),
                p95: med(runs, 'p95'),
                p99: med(runs, 'p99'),
                cpuMsPerOp: med(runs, 'cpuMsPerOp'),
                storeCpuMsPerOp: med(runs, 'storeCpuMsPerOp'),
                storageRequestsPerCommand: median(runs.map((r) => r.storageRequestsPerCommand)),
                eventLoopUtilization: median(runs.map((r) => r.eventLoopUtilization)),
                cpuCores: median(runs.map((r) => r.cpuCores)),
              },
            },
          ];
        }),
      ),
      noop,
      breakdown: breakdownOf(e2e[1] ?? []),
      commandMix: mixCounts,
      latencyByCommand: Object.fromEntries(Object.entries(latencyByCommand).map(([k, v]) => [k, { count: v.length, p50: percentile(v, 50), p99: percentile(v, 99) }])),
      latencyByCommandAt8: tailByCommand(latencyByCommandAt8),
      cpuProfile: { clients: 8, run: profiled.result.run, cpu: profiled.cpu },
      cost: { lifecycles: 0, commands: {}, bills: {}, events: {}, transitions: {}, executions: {}, stepCalls: {}, errors: [] },
    };
    instrument.detachHttp();
    await stop();
    log(`accounting run: ${options.costLifecycles} lifecycles, every request sized as DynamoDB bills it`);
    result.cost = await costRun(worker, options.costLifecycles);
    return result;
  } finally {
    instrument.detachHttp();
    await worker.close();
    await stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}
