/**
 * Metrics at scale and memory, in child processes of bench/run.ts so each measurement starts from a
 * fresh process:
 *
 *   node bench/scale.ts seed '<json>'      add synthetic plans (and their metrics facts) to a data directory
 *   node bench/scale.ts measure '<json>'   start the embedded stack on it, time the metrics, read peak memory
 *
 * Plans go straight into the table (BatchWriteItem of the same items PlanRepository.savePlan writes,
 * facts with FactStore.putMany), never through the API: see bench/synthetic.ts for how they are made.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getHeapSpaceStatistics } from 'node:v8';
import { BatchWriteCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { itemToPlan, planToItem } from '../lib/adapters/dynamodb/plan-item.ts';
import { computeMetrics } from '../lib/domain/metrics/compute.ts';
import { addDaysToDate, addMonthsToDate, firstOfQuarter, londonDay } from '../lib/domain/metrics/dates.ts';
import { DIMENSIONS } from '../lib/domain/metrics/definitions.ts';
import { planFacts, type PlanFacts } from '../lib/domain/metrics/facts.ts';
import type { MetricsQuery } from '../lib/domain/metrics/query.ts';
import type { Plan } from '../lib/domain/schemas.ts';
import { startEmbeddedStack, type EmbeddedStack } from '../lib/local/embedded-stack.ts';
import { FactStore } from '../lib/metrics/fact-store.ts';
import type { LoadResult } from '../lib/metrics/index.ts';
import { cohortFromTemplates, syntheticPlans, type SyntheticOptions } from './synthetic.ts';
import { itemBytes as storedItemBytes } from './lib/accounting.ts';
import { median, MB, processMemory, residentMemory, round, rssSampler } from './lib/stats.ts';

export interface SeedOptions extends SyntheticOptions {
  dataDir: string;
  /** Plans already there (new ones are numbered from here, so a cohort grows reproducibly). */
  from: number;
  count: number;
  templates: number;
}

export interface SeedResult {
  plans: number;
  ms: number;
  templatesMs: number;
  itemsPerSecond: number;
  stages: Record<string, number>;
  meanPlanItemBytes: number;
  meanFactsBytes: number;
}

export interface MeasureOptions {
  dataDir: string;
  expectedPlans: number;
  /** Timed repetitions of each metrics query (the median is reported). */
  repeats: number;
  /** 0: no brute-force baseline (a restart measured for its memory only). */
  bruteForceRepeats: number;
  /** Where the metrics facts must come from at this start (LoadResult.from), so a restart that silently read every fact item is not reported as one from the snapshot. */
  expectMetricsFrom?: LoadResult['from'];
}

export interface QueryTimes {
  query: string;
  httpMs: number;
  inProcessMs: number;
  /** CPU time of the process for the same (less sensitive than wall time to other load on the machine). */
  httpCpuMs: number;
  inProcessCpuMs: number;
  responseBytes: number;
}

export interface MeasureResult {
  plans: number;
  startMs: number;
  /** Where the metrics facts came from: the snapshot file (a normal restart) or every stored fact item (the first start, or after a crash). */
  metricsFrom: LoadResult['from'];
  queries: QueryTimes[];
  bruteForce: { ms: number; cpuMs: number; runs: number[]; scannedItems: number; planItems: number; sameFigures: boolean };
  /** Where dynalite ran: a child process of the stack (its memory counted below) or the stack's own. */
  storeProcess: string;
  memory: {
    /** The whole embedded stack: the stack's process plus its dynalite process (sum of the two VmHWM: the peaks need not coincide, so at most this). */
    totalPeakBytes: number;
    /** The largest sum of the two processes' RSS sampled every 25 ms (at least this). */
    sampledTotalPeakBytes: number;
    /** The largest sum of their PSS, sampled every 250 ms: shared pages (the Node executable both map) counted once. */
    sampledTotalPssBytes: number;
    /** The stack's own process (VmHWM). */
    peakBytes: number;
    /** The dynalite child process (VmHWM), its anonymous and file-backed (LevelDB's mmapped tables) peaks; 0 in process. */
    childPeakBytes: number;
    childPeakAnonBytes: number;
    childPeakFileBytes: number;
    afterLoadBytes: number;
    /** The stack's VmHWM once it is up (every fact item read on a recovery start), before the queries: whether the load or the queries set its peak. */
    loadPeakBytes: number;
    afterQueriesBytes: number;
    /** V8's young generation after the queries (both semi-spaces reserved; its bound is the stack's --max-semi-space-size, lib/local/process-settings.ts). */
    newSpaceBytes: number;
    peakWithBruteForceBytes: number;
    heapUsedBytes: number;
    /** After a full garbage collection (with --expose-gc): what the stack really holds. */
    heapUsedAfterGcBytes: number | undefined;
    /** The largest V8 heap (used and reserved) and external memory seen up to the peak. */
    peakHeapUsedBytes: number;
    peakHeapTotalBytes: number;
    peakExternalBytes: number;
    /** Peak anonymous (heaps, malloc) and file-backed (LevelDB's mmapped table files) resident memory, sampled. */
    peakAnonBytes: number;
    peakFileBytes: number;
  };
}

const cpuMs = (since: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
};

// cacheAnswers off: every GET /metrics below is worked out afresh, as the first one after a save is.
// BENCH_STORE_PROCESS=in-process puts dynalite back on the stack's thread, to compare (default: a child process, as `wraparound start` runs it).
const storeProcess = process.env.BENCH_STORE_PROCESS === 'in-process' ? ('in-process' as const) : ('child' as const);
const stackOptions = (dataDir: string) => ({ dataDir, port: 0, sweepIntervalMs: 0, webhooks: { intervalMs: 0 }, webDistDir: false as const, metrics: { cacheAnswers: false }, storeProcess });

function log(message: string) {
  process.stderr.write(`  [scale] ${message}\n`);
}

async function seed(options: SeedOptions): Promise<SeedResult> {
  // The facts are written behind the metrics index's back, so this stack must not save a snapshot of its (empty) columns.
  const stack = await startEmbeddedStack({ ...stackOptions(options.dataDir), metricsSnapshot: false });
  try {
    const client = stack.plans.client;
    const table = stack.plans.tableName;
    const facts = new FactStore(client, table);
    // The templates are simulated once per data directory and kept with it.
    const templatesFile = join(options.dataDir, 'bench-templates.json');
    const t0 = performance.now();
    let templates: Plan[];
    if (existsSync(templatesFile)) templates = JSON.parse(readFileSync(templatesFile, 'utf8')) as Plan[];
    else {
      templates = [...syntheticPlans(options.templates, options)];
      writeFileSync(templatesFile, JSON.stringify(templates));
    }
    const templatesMs = performance.now() - t0;
    log(`${templates.length} template plans in ${(templatesMs / 1000).toFixed(1)} s; writing ${options.count} plans`);

    const started = performance.now();
    const inFlight = new Set<Promise<void>>();
    const send = async (items: Record<string, unknown>[]) => {
      let requests = items.map((Item) => ({ PutRequest: { Item } }));
      for (let attempt = 0; requests.length > 0; attempt += 1) {
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 10 * attempt));
        const out = await client.send(new BatchWriteCommand({ RequestItems: { [table]: requests } }));
        requests = (out.UnprocessedItems?.[table] ?? []) as typeof requests;
      }
    };
    const launch = async (work: Promise<void>) => {
      const tracked = work.finally(() => inFlight.delete(tracked));
      inFlight.add(tracked);
      if (inFlight.size >= 24) await Promise.race(inFlight);
    };
    const stages: Record<string, number> = {};
    let planItems: Record<string, unknown>[] = [];
    let factEntries: [string, PlanFacts][] = [];
    let itemBytes = 0;
    let factBytes = 0;
    let written = 0;
    for (const plan of cohortFromTemplates(options.count, templates, options, options.from)) {
      const item = planToItem(plan);
      const f = planFacts(plan);
      if (written < 2000) {
        // DynamoDB's size of the item: its JSON would spell the gzipped body (a Buffer) out byte by byte.
        itemBytes += storedItemBytes(item);
        factBytes += JSON.stringify(f).length;
      }
      stages[plan.stage] = (stages[plan.stage] ?? 0) + 1;
      planItems.push(item);
      factEntries.push([plan.planId, f]);
      written += 1;
      if (planItems.length === 25) {
        await launch(send(planItems));
        await launch(facts.putMany(factEntries));
        planItems = [];
        factEntries = [];
      }
      if (written % 10_000 === 0) log(`${written} / ${options.count} plans (${Math.round(written / ((performance.now() - started) / 1000))} plans/s)`);
    }
    if (planItems.length > 0) await launch(send(planItems));
    if (factEntries.length > 0) await launch(facts.putMany(factEntries));
    await Promise.all(inFlight);
    const ms = performance.now() - started;
    const sampled = Math.min(written, 2000);
    return { plans: written, ms, templatesMs, itemsPerSecond: (2 * written) / (ms / 1000), stages, meanPlanItemBytes: itemBytes / sampled, meanFactsBytes: factBytes / sampled };
  } finally {
    await stack.stop();
  }
}

/**
 * The two queries timed: the default (the last four complete quarters, overall only) and the heaviest
 * one allowed (twelve complete quarters, every breakdown). Periods are whole quarters, figures from
 * complete ones only, so both end at the end of the last complete quarter.
 */
function queries(today: string): { name: string; params: Record<string, string>; query: MetricsQuery }[] {
  const to = addDaysToDate(firstOfQuarter(today), -1);
  const from12 = firstOfQuarter(addMonthsToDate(to, -11));
  const from36 = firstOfQuarter(addMonthsToDate(to, -35));
  return [
    { name: '12 months, overall', params: { from: from12, to }, query: { from: from12, to, groupBy: [] } },
    {
      name: '36 months, every breakdown',
      params: { from: from36, to, groupBy: DIMENSIONS.join(',') },
      query: { from: from36, to, groupBy: [...DIMENSIONS] },
    },
  ];
}

async function timeHttp(stack: EmbeddedStack, token: string, params: Record<string, string>): Promise<{ ms: number; bytes: number; body: string }> {
  try {
    return await timeHttpOnce(stack, token, params);
  } catch (error) {
    // The stack runs in this process: a brute-force scan blocks the event loop for seconds, after which
    // the gateway's keep-alive timer (5 s) can close the idle socket fetch is about to reuse (ECONNRESET).
    // The GET changes nothing, so it is asked once more on a new connection; only that answer is timed.
    if (!isConnectionReset(error)) throw error;
    return timeHttpOnce(stack, token, params);
  }
}

function isConnectionReset(error: unknown): boolean {
  const cause = (error as { cause?: { code?: unknown } }).cause;
  return error instanceof TypeError && (cause?.code === 'ECONNRESET' || cause?.code === 'UND_ERR_SOCKET');
}

async function timeHttpOnce(stack: EmbeddedStack, token: string, params: Record<string, string>): Promise<{ ms: number; bytes: number; body: string }> {
  const started = performance.now();
  const response = await fetch(`${stack.url}/metrics?${new URLSearchParams(params)}`, { headers: { authorization: `Bearer ${token}` } });
  const body = await response.text();
  const ms = performance.now() - started;
  if (response.status !== 200) throw new Error(`GET /metrics: ${response.status} ${body.slice(0, 300)}`);
  return { ms, bytes: body.length, body };
}

/** The baseline: no projection at all. Scan every plan from the table and compute the figures from scratch. */
async function bruteForce(stack: EmbeddedStack, query: MetricsQuery, asOf: string, providers: readonly string[]) {
  let start: Record<string, unknown> | undefined;
  const facts: PlanFacts[] = [];
  let scanned = 0;
  do {
    const out = await stack.plans.client.send(
      new ScanCommand({
        TableName: stack.plans.tableName,
        FilterExpression: '#type = :plan',
        ExpressionAttributeNames: { '#type': 'type' },
        ExpressionAttributeValues: { ':plan': 'plan' },
        ExclusiveStartKey: start,
      }),
    );
    scanned += out.ScannedCount ?? 0;
    for (const item of out.Items ?? []) facts.push(planFacts(itemToPlan(item)));
    start = out.LastEvaluatedKey;
  } while (start);
  const report = computeMetrics(facts, query, { suppressionThreshold: 5, asOf, providers });
  return { report, scanned, plans: facts.length };
}

async function measure(options: MeasureOptions): Promise<MeasureResult> {
  const sampler = rssSampler(25);
  const started = performance.now();
  const stack = await startEmbeddedStack(stackOptions(options.dataDir));
  try {
    const startMs = performance.now() - started;
    const plans = stack.metrics.size;
    const { from: metricsFrom } = await stack.metrics.start();
    if (options.expectMetricsFrom && metricsFrom !== options.expectMetricsFrom) throw new Error(`the metrics facts came from ${metricsFrom}, expected ${options.expectMetricsFrom}`);
    if (options.expectedPlans === 0 && plans > 0) throw new Error('expected an empty store');
    if (plans !== options.expectedPlans) throw new Error(`the metrics index holds ${plans} plans, expected ${options.expectedPlans}`);
    if (stack.store.process === 'child') sampler.watchChild(stack.store.pid);
    const childPeak = () => (stack.store.process === 'child' ? (processMemory(stack.store.pid)?.peak ?? 0) : 0);
    const afterLoadBytes = process.memoryUsage.rss();
    const loadPeakBytes = residentMemory().peak;
    log(`stack up with ${plans} plans (metrics facts from ${metricsFrom}) in ${(startMs / 1000).toFixed(1)} s, ${(afterLoadBytes / MB).toFixed(0)} MB resident`);
    const token = (stack.demoUsers.find((u) => u.role === 'commissioner') as { token: string }).token;
    const now = stack.clock.now();
    const providers = stack.directory.organizations.map((o) => o.id);
    const results: QueryTimes[] = [];
    const asked = queries(londonDay(now));
    for (const q of asked) {
      const http: number[] = [];
      const local: number[] = [];
      const httpCpu: number[] = [];
      const localCpu: number[] = [];
      let bytes = 0;
      for (let i = 0; i < options.repeats + 2; i += 1) {
        let cpu = process.cpuUsage();
        const h = await timeHttp(stack, token, q.params);
        const hc = cpuMs(cpu);
        bytes = h.bytes;
        cpu = process.cpuUsage();
        const t = performance.now();
        const { facts, providers: ps } = await stack.metrics.snapshot();
        computeMetrics(facts, q.query, { suppressionThreshold: 5, asOf: now, providers: ps });
        const l = performance.now() - t;
        const lc = cpuMs(cpu);
        // The first two of each are warm-up (JIT).
        if (i >= 2) {
          http.push(h.ms);
          local.push(l);
          httpCpu.push(hc);
          localCpu.push(lc);
        }
      }
      results.push({ query: q.name, httpMs: median(http), inProcessMs: median(local), httpCpuMs: median(httpCpu), inProcessCpuMs: median(localCpu), responseBytes: bytes });
      log(`${q.name}: GET /metrics ${median(http).toFixed(1)} ms (CPU ${median(httpCpu).toFixed(1)} ms), in process ${median(local).toFixed(1)} ms (CPU ${median(localCpu).toFixed(1)} ms)`);
    }
    const afterQueriesBytes = process.memoryUsage.rss();
    const newSpaceBytes = getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_size ?? 0;
    const peakBytes = Math.max(residentMemory().peak, sampler.peak);
    const childPeakBytes = childPeak();
    const peaks = sampler.peaks;
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    const heapUsedAfterGcBytes = gc ? process.memoryUsage().heapUsed : undefined;

    // The baseline, on the heaviest query; its answer must be the index's (asOf aside).
    const heavy = asked.at(-1) as (typeof asked)[number];
    const runs: number[] = [];
    const cpuRuns: number[] = [];
    let scannedItems = 0;
    let planItems = 0;
    let sameFigures = true;
    const { facts: indexed } = await stack.metrics.snapshot();
    const expected = JSON.stringify(computeMetrics(indexed, heavy.query, { suppressionThreshold: 5, asOf: now, providers }));
    for (let i = 0; i < options.bruteForceRepeats; i += 1) {
      const t = performance.now();
      const cpu = process.cpuUsage();
      const brute = await bruteForce(stack, heavy.query, now, providers);
      runs.push(performance.now() - t);
      cpuRuns.push(cpuMs(cpu));
      scannedItems = brute.scanned;
      planItems = brute.plans;
      sameFigures &&= JSON.stringify(brute.report) === expected;
      log(`brute force: ${brute.plans} plans scanned and computed in ${((runs.at(-1) as number) / 1000).toFixed(1)} s`);
    }
    const memory = {
      totalPeakBytes: peakBytes + childPeakBytes,
      sampledTotalPeakBytes: peaks.totalRss,
      sampledTotalPssBytes: peaks.totalPss,
      peakBytes,
      childPeakBytes,
      childPeakAnonBytes: peaks.childAnon,
      childPeakFileBytes: peaks.childFile,
      afterLoadBytes,
      loadPeakBytes,
      afterQueriesBytes,
      newSpaceBytes,
      peakWithBruteForceBytes: Math.max(residentMemory().peak, sampler.peak) + childPeak(),
      heapUsedBytes: process.memoryUsage().heapUsed,
      heapUsedAfterGcBytes,
      peakHeapUsedBytes: peaks.heapUsed,
      peakHeapTotalBytes: peaks.heapTotal,
      peakExternalBytes: peaks.external,
      peakAnonBytes: peaks.anon,
      peakFileBytes: peaks.file,
    };
    return { plans, startMs, metricsFrom, storeProcess: stack.store.process, queries: results, bruteForce: { ms: median(runs), cpuMs: median(cpuRuns), runs, scannedItems, planItems, sameFigures }, memory };
  } finally {
    sampler.stop();
    await stack.stop();
  }
}

const [mode, raw] = process.argv.slice(2);
if (mode === 'seed' || mode === 'measure') {
  const options = JSON.parse(raw ?? '{}');
  const result = mode === 'seed' ? await seed(options as SeedOptions) : await measure(options as MeasureOptions);
  if (process.send) process.send(result);
  else console.log(JSON.stringify(result, (_k, v: unknown) => (typeof v === 'number' ? round(v, 2) : v), 2));
}
