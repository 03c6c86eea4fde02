/**
 * `npm run bench [-- --quick] [-- --plans 10000,100000] [-- --skip throughput,cohort,scale,bundles]`
 *
 * How fast Wraparound's embedded stack is, how close to its limits, and what it would cost on AWS.
 * Prints a table and writes every figure to bench/results.json. The machines this runs on are shared
 * and noisy, so every speed is either a ratio against a baseline measured in the same run (raw writes,
 * no-op executions, a brute-force scan) or a median of several runs. See the README, "Benchmarks".
 */
import { fork } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, platform, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { BUNDLE_LIMIT_BYTES, measureBundles, type BundlesResult } from './bundles.ts';
import { formatCohortCost, runCohortCost, type CohortCostResult } from './cohort-cost.ts';
import { estimateCost, type CostResult } from './cost.ts';
import type { MeasureOptions, MeasureResult, SeedOptions, SeedResult } from './scale.ts';
import { runThroughput, type ThroughputResult } from './throughput.ts';
import { MB, round } from './lib/stats.ts';
import { missingStackSettings, reexecWithStackSettings } from '../lib/local/process-settings.ts';

// The throughput part runs its stack in this process: give it the settings `wraparound start` gives the
// stack's process (lib/local/process-settings.ts), by re-executing once as bin/wraparound.ts does.
reexecWithStackSettings();

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const option = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const quick = flag('quick');
const skip = new Set((option('skip') ?? '').split(',').filter(Boolean));
const sizes = (option('plans') ?? (quick ? '2000,10000' : '10000,100000')).split(',').map(Number);

const SETTINGS = quick
  ? { levels: [1, 8, 32], repeats: 1, e2eMs: 5000, rawMs: 1500, noopMs: 1500, costLifecycles: 6, cohortPlans: 12, templates: 300, queryRepeats: 3, bruteForceRepeats: [1, 1] }
  : { levels: [1, 8, 32], repeats: 3, e2eMs: 12_000, rawMs: 3000, noopMs: 2500, costLifecycles: 20, cohortPlans: 40, templates: 1500, queryRepeats: 7, bruteForceRepeats: [3, 1] };

/** Targets from the issue. */
const TARGETS = { e2eShareOfRawAt8: 0.25, p99At8Ms: 50, metricsMs: 1000, metricsSpeedUp: 20, residentBytes: 500 * MB, bundleBytes: BUNDLE_LIMIT_BYTES };

const started = Date.now();
const log = (message: string) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${message}\n`);

function child<T>(mode: 'seed' | 'measure', options: SeedOptions | MeasureOptions): Promise<T> {
  return new Promise((resolve, reject) => {
    // --expose-gc: the measurement reads the heap after a full collection too. The rest as `wraparound
    // start` sets them for itself (lib/local/process-settings.ts).
    const missing = missingStackSettings([], process.env);
    const p = fork(join(import.meta.dirname, 'scale.ts'), [mode, JSON.stringify(options)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], execArgv: ['--expose-gc', ...missing.nodeFlags], env: { ...process.env, ...missing.env } });
    let result: T | undefined;
    p.on('message', (message) => (result = message as T));
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 && result !== undefined ? resolve(result) : reject(new Error(`bench/scale.ts ${mode} exited with ${code}`))));
  });
}

interface ScalePoint {
  plans: number;
  seed: SeedResult;
  /** The first start after seeding: no metrics snapshot yet, every fact item read through dynalite (as after a crash). Its clean stop saves the snapshot. */
  measure: MeasureResult;
  /** The next start on the same directory: a normal restart, the metrics columns read from the snapshot. */
  restart?: MeasureResult;
}

/** Filled as the measurements come in, so a failure at 100,000 plans keeps the 10,000 figures. */
const scaleRun: { points: ScalePoint[]; empty?: MeasureResult } = { points: [] };

async function runScale(untimedWork?: Promise<unknown>): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'wraparound-bench-scale-'));
  const now = new Date().toISOString();
  const points = scaleRun.points;
  let have = 0;
  try {
    // The baseline for memory: the same stack on an empty data directory.
    log('memory baseline: the embedded stack on an empty data directory');
    const emptyDir = join(dataDir, 'empty');
    scaleRun.empty = await child<MeasureResult>('measure', { dataDir: emptyDir, expectedPlans: 0, repeats: 1, bruteForceRepeats: 1 });
    for (const [i, size] of sizes.entries()) {
      log(`metrics at scale: seeding ${size - have} synthetic plans (to ${size}) in ${dataDir}`);
      const seed = await child<SeedResult>('seed', { dataDir, from: have, count: size - have, templates: SETTINGS.templates, now, spanDays: 1080, seed: 9 });
      have = size;
      // Nothing else may run while a measurement does.
      await untimedWork;
      log(`  ${size} plans in the table (${Math.round(seed.itemsPerSecond)} items/s written); measuring on a fresh embedded stack`);
      const measure = await child<MeasureResult>('measure', { dataDir, expectedPlans: size, repeats: SETTINGS.queryRepeats, bruteForceRepeats: SETTINGS.bruteForceRepeats[i] ?? 1, expectMetricsFrom: 'fact-items' });
      const point: ScalePoint = { plans: size, seed, measure };
      points.push(point);
      log(`  ${size} plans: a normal restart (the metrics columns from the snapshot the last stop saved)`);
      point.restart = await child<MeasureResult>('measure', { dataDir, expectedPlans: size, repeats: SETTINGS.queryRepeats, bruteForceRepeats: 0, expectMetricsFrom: 'snapshot' });
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

function machine() {
  const list = cpus();
  return {
    cpus: list.length,
    cpuModel: list[0]?.model ?? 'unknown',
    memoryBytes: totalmem(),
    node: process.version,
    os: `${platform()} ${release()}`,
    loadAverageAtStart: loadavg().map((x) => round(x, 2)),
  };
}

// ---------------------------------------------------------------------------------------------
// The table

const fmt = (x: number | undefined, d = 0) => (x === undefined || !Number.isFinite(x) ? '—' : x.toLocaleString('en-GB', { minimumFractionDigits: d, maximumFractionDigits: d }));
const pct = (x: number | undefined, d = 0) => (x === undefined || !Number.isFinite(x) ? '—' : `${(x * 100).toFixed(d)}%`);

function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ');
  return [line(cells[0] as string[]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

interface Target {
  name: string;
  met: boolean | undefined;
  value: string;
}

function report(m: ReturnType<typeof machine>, t: ThroughputResult | undefined, scale: ScalePoint[] | undefined, empty: MeasureResult | undefined, bundles: BundlesResult | undefined, cost: CostResult | undefined, cohort: CohortCostResult | undefined, targets: Target[]): string {
  const out: string[] = [];
  out.push(`Wraparound bench, ${new Date(started).toISOString()}${quick ? ' (--quick)' : ''}`);
  out.push(`${m.cpus} × ${m.cpuModel}, ${(m.memoryBytes / 2 ** 30).toFixed(1)} GiB, Node ${m.node}, ${m.os}, load average at start ${m.loadAverageAtStart.join(' ')}`);
  if (t) {
    out.push('', `1-2. Commands over HTTP, whole lifecycles (median of ${SETTINGS.repeats} run(s) of ${SETTINGS.e2eMs / 1000} s per level) against raw conditional UpdateItem on the same dynalite and client`);
    out.push(
      table(
        ['clients', 'commands/s', 'p50 ms', 'p95 ms', 'p99 ms', 'raw writes/s', 'e2e / raw', 'CPU ms/cmd', 'CPU ms/raw write', 'e2e / raw by CPU', 'dynalite CPU ms/cmd', 'dynalite CPU ms/raw write', 'storage req/cmd', 'stack thread busy'],
        Object.entries(t.e2e).map(([c, { median: e }]) => {
          const raw = t.raw[Number(c)];
          return [
            c,
            fmt(e.perSecond, 1),
            fmt(e.p50, 1),
            fmt(e.p95, 1),
            fmt(e.p99, 1),
            fmt(raw?.perSecond),
            pct(e.perSecond / (raw?.perSecond ?? NaN), 1),
            fmt(e.cpuMsPerOp, 2),
            fmt(raw?.cpuMsPerOp, 2),
            pct((raw?.cpuMsPerOp ?? NaN) / e.cpuMsPerOp, 1),
            fmt(e.storeCpuMsPerOp, 2),
            fmt(raw?.storeCpuMsPerOp, 2),
            fmt(e.storageRequestsPerCommand, 1),
            pct(e.eventLoopUtilization),
          ];
        }),
      ),
    );
    const b = t.breakdown;
    const noop1 = t.noop[1];
    out.push('   CPU ms = CPU time of the stack\'s own thread (the clients run in another thread): less sensitive than rates to other load on the machine.');
    out.push('   dynalite CPU ms = CPU time of the dynalite child process (on the other core; — when it runs in the stack\'s process), 10 ms resolution.');
    if (Object.keys(t.latencyByCommandAt8 ?? {}).length > 0) {
      out.push('', '   Latency by command at 8 clients (all rounds), and each command\'s share of the slowest 1 %:');
      out.push(
        table(
          ['command', 'count', 'p50 ms', 'p95 ms', 'p99 ms', 'share of slowest 1 %'],
          Object.entries(t.latencyByCommandAt8).map(([k, v]) => [k, v.count, fmt(v.p50, 1), fmt(v.p95, 1), fmt(v.p99, 1), pct(v.shareOfSlowest1Percent)]),
        ),
      );
    }
    if (t.http && Object.keys(t.http).length > 0) {
      out.push('', "   HTTP limit, same run: GET of a path no route has (the gateway's own 404: no token, no handler, no storage) through the same clients and gateway");
      out.push(
        table(
          ['clients', 'requests/s', 'p50 ms', 'p99 ms', 'share of raw writes/s', 'CPU ms/request', 'e2e commands/s as share of it'],
          Object.entries(t.http).map(([c, h]) => [c, fmt(h.perSecond), fmt(h.p50, 2), fmt(h.p99, 2), pct(h.perSecond / (t.raw[Number(c)]?.perSecond ?? NaN), 1), fmt(h.cpuMsPerOp, 3), pct((t.e2e[Number(c)]?.median.perSecond ?? NaN) / h.perSecond, 1)]),
        ),
      );
    }
    out.push('', '3. Orchestration limit: the same ASL in the local runner with no-op tasks');
    out.push(
      table(
        ['executions at once', 'no-op executions/s', 'ms each', 'e2e commands/s as share of it'],
        Object.entries(t.noop).map(([c, n]) => [c, fmt(n.perSecond), fmt(n.msPerExecution, 2), pct((t.e2e[Number(c)]?.median.perSecond ?? NaN) / n.perSecond, 1)]),
      ),
    );
    out.push('', `   Where one command's time goes at 1 client (mean ${fmt(b.clientLatencyMs, 1)} ms):`);
    out.push(
      table(
        ['part', 'ms/command', 'share'],
        [
          ['orchestration (ASL interpreter)', fmt(b.perCommandMs.orchestration, 2), pct(b.fractions.orchestration, 1)],
          ['domain (step code less its storage)', fmt(b.perCommandMs.domain, 2), pct(b.fractions.domain, 1)],
          ['storage (DynamoDB client + dynalite)', fmt(b.perCommandMs.storage, 2), pct(b.fractions.storage, 1)],
          ['HTTP (gateway + API handler + transport)', fmt(b.perCommandMs.http, 2), pct(b.fractions.http, 1)],
          ['  of which API handler and gateway', fmt(b.perCommandMs.apiHandler, 2), pct(b.perCommandMs.apiHandler / b.clientLatencyMs, 1)],
          ['  of which client and loopback', fmt(b.perCommandMs.transport, 2), pct(b.perCommandMs.transport / b.clientLatencyMs, 1)],
        ],
      ),
    );
    out.push(`   No-op execution ${fmt(noop1?.msPerExecution, 2)} ms vs orchestration measured in the commands ${fmt(b.perCommandMs.orchestration, 2)} ms.`);
    if (t.cpuProfile) {
      const { cpu } = t.cpuProfile;
      const perCommand = t.e2e[8]?.median.cpuMsPerOp ?? NaN;
      out.push('', `   CPU of the stack's thread at 8 clients (V8 sampling profile of one more run, ${pct(cpu.idleShare)} idle; ms/command = share × the unprofiled ${fmt(perCommand, 2)} ms):`);
      out.push(table(['component', 'share of busy CPU', 'ms/command'], Object.entries(cpu.shares).map(([k, v]) => [k, pct(v, 1), fmt(v * perCommand, 2)])));
    }
    const where = Object.entries(b.storageRequestsPerCommand.byWhere).sort((x, y) => y[1] - x[1]);
    out.push('', `   Storage requests per command (1 client): ${fmt(b.storageRequestsPerCommand.total, 2)}: ${where.map(([k, v]) => `${k} ${fmt(v, 2)}`).join(', ')}`);
    const refused = Object.entries(b.refusedPerCommand).sort((x, y) => y[1] - x[1]);
    out.push(`   Of them refused (a condition failed, or an error): ${refused.length ? refused.map(([k, v]) => `${k} ${fmt(v, 3)}`).join(', ') : 'none'}`);
    out.push(`   Step time per command (ms): ${Object.entries(b.stepMsPerCommand).map(([k, v]) => `${k} ${fmt(v, 2)}`).join(', ')}`);
  }
  if (scale?.length) {
    out.push('', '4. Commissioner metrics at scale (synthetic plans; median of runs; brute force = Scan every plan, compute the figures from scratch)');
    out.push(
      table(
        ['plans', 'GET 12 mo ms', 'GET 36 mo all breakdowns ms', '(CPU ms)', 'in process ms', '(CPU ms)', 'brute force ms', '(CPU ms)', 'speed-up', 'by CPU', 'same figures', 'stack start s'],
        scale.map(({ plans, measure: x }) => {
          const heavy = x.queries.at(-1);
          return [
            fmt(plans),
            fmt(x.queries[0]?.httpMs, 1),
            fmt(heavy?.httpMs, 1),
            fmt(heavy?.httpCpuMs, 1),
            fmt(heavy?.inProcessMs, 1),
            fmt(heavy?.inProcessCpuMs, 1),
            fmt(x.bruteForce.ms),
            fmt(x.bruteForce.cpuMs),
            `${fmt(x.bruteForce.ms / (heavy?.httpMs ?? NaN), 0)}×`,
            `${fmt(x.bruteForce.cpuMs / (heavy?.httpCpuMs ?? NaN), 0)}×`,
            x.bruteForce.sameFigures ? 'yes' : 'NO',
            fmt(x.startMs / 1000, 1),
          ];
        }),
      ),
    );
    out.push('', '5. Memory of the embedded stack (a fresh start on the data directory: the stack\'s process with the metrics index, and its dynalite child process with LevelDB on disk; peak = VmHWM through start-up and the queries). Recovery = the first start after seeding, every fact item read through dynalite (as after a crash); restart = the next, the metrics columns from the snapshot the clean stop saved');
    const rows = [
      ...(empty ? [{ plans: 0, label: '0 (empty)', measure: empty }] : []),
      ...scale.flatMap((p) => [{ plans: p.plans, label: `${fmt(p.plans)} recovery`, measure: p.measure }, ...(p.restart ? [{ plans: p.plans, label: `${fmt(p.plans)} restart`, measure: p.restart }] : [])]),
    ];
    const base = empty?.memory.totalPeakBytes;
    out.push(
      table(
        ['plans, start', 'start s', 'total peak MB', 'sampled total MB', 'sampled total PSS MB', 'over empty MB', 'stack peak MB', 'anon MB', 'file MB', 'dynalite peak MB', 'anon MB', 'file MB', 'after load MB', 'V8 heap reserved MB', 'heap used MB', 'live after GC MB', 'total incl. brute force MB'],
        rows.map(({ label, measure: x }) => [
          label,
          fmt(x.startMs / 1000, 1),
          fmt(x.memory.totalPeakBytes / MB),
          fmt(x.memory.sampledTotalPeakBytes / MB),
          fmt(x.memory.sampledTotalPssBytes / MB),
          base === undefined ? '—' : fmt((x.memory.totalPeakBytes - base) / MB),
          fmt(x.memory.peakBytes / MB),
          fmt(x.memory.peakAnonBytes / MB),
          fmt(x.memory.peakFileBytes / MB),
          fmt(x.memory.childPeakBytes / MB),
          fmt(x.memory.childPeakAnonBytes / MB),
          fmt(x.memory.childPeakFileBytes / MB),
          fmt(x.memory.afterLoadBytes / MB),
          fmt(x.memory.peakHeapTotalBytes / MB),
          fmt(x.memory.peakHeapUsedBytes / MB),
          fmt((x.memory.heapUsedAfterGcBytes ?? NaN) / MB),
          fmt(x.memory.peakWithBruteForceBytes / MB),
        ]),
      ),
    );
    out.push(`   dynalite ran ${scale[0]?.measure.storeProcess === 'child' ? 'in a child process' : 'in the stack\'s process'}. Total = the two processes' VmHWM added (their peaks need not coincide: at most this); sampled = the largest sum of their RSS every 25 ms (at least this); PSS = the same with the pages both share (the Node executable) counted once, every 250 ms; anon and file = sampled peaks.`);
  }
  if (bundles) {
    out.push('', `6a. Lambda bundles (cdk synth --quiet, ${fmt(bundles.synthMs / 1000, 1)} s; minified index.mjs)`);
    out.push(table(['function', 'memory MB', 'bundle kB', 'gzip kB', 'source map kB'], bundles.functions.map((f) => [f.name, f.memoryMb, fmt(f.bundleBytes / 1000, 1), fmt(f.gzipBytes / 1000, 1), fmt(f.sourceMapBytes / 1000, 1)])));
  }
  if (cost) {
    out.push('', `6b. AWS cost per 1,000 plan lifecycles as driven here (${fmt(cost.commandsPerLifecycle, 1)} commands each), docs/deploy.md prices`);
    const names = [...new Set([...cost.express.lines, ...cost.standard.lines].map((l) => l.item))];
    const usd = (x: number | undefined) => (x === undefined ? '—' : `$${x.toFixed(3)}`);
    out.push(
      table(
        ['item', 'Express per command (this design)', 'one Standard execution per plan'],
        [
          ...names.map((n) => [n, usd(cost.express.lines.find((l) => l.item === n)?.usdPer1000), usd(cost.standard.lines.find((l) => l.item === n)?.usdPer1000)]),
          ['total', usd(cost.express.totalPer1000), usd(cost.standard.totalPer1000)],
          [`total at the docs' ${40} commands per plan`, usd(cost.docsLifecycle.expressPer1000), usd(cost.docsLifecycle.standardPer1000)],
          [`  workflow only, ${40} commands per plan`, usd(cost.docsLifecycle.workflowOnly.expressPer1000), usd(cost.docsLifecycle.workflowOnly.standardPer1000)],
        ],
      ),
    );
    const p = cost.perCommand;
    out.push(`   Write units per command by where written: ${Object.entries(p.writeUnitsByWhere).map(([k, v]) => `${k} ${fmt(v, 1)}`).join(', ')}`);
    out.push(
      `   Per command: ${fmt(p.storageRequests, 1)} storage requests, ${fmt(p.readUnits, 1)} RRU, ${fmt(p.writeUnits, 1)} WRU + ${fmt(p.indexWriteUnits, 1)} index WRU, ${fmt(p.events, 2)} events (${fmt(p.providerEvents, 2)} to providers), ${fmt(p.transitions, 1)} state transitions, ${fmt(p.stepInvocations, 2)} step invocations; modelled ${fmt(p.executionMs)} ms per execution, ${fmt(p.apiCommandsBilledMs)} ms billed to api-commands.`,
    );
  }
  if (cohort) out.push('', '6c. AWS cost per 1,000 plans from a simulated cohort (whole lifecycles: timers, reviews, reads), docs/deploy.md prices', formatCohortCost(cohort));
  out.push('', 'Targets');
  out.push(table(['target', 'value', 'met'], targets.map((x) => [x.name, x.value, x.met === undefined ? 'not measured' : x.met ? 'yes' : 'NO'])));
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------

const m = machine();
log(`bench${quick ? ' --quick' : ''}: ${m.cpus} CPUs, load average ${m.loadAverageAtStart.join(' ')}`);
let throughput: ThroughputResult | undefined;
let scale: ScalePoint[] | undefined;
let emptyStack: MeasureResult | undefined;
let cost: CostResult | undefined;
let cohortCost: CohortCostResult | undefined;
const loads: Record<string, number[]> = { start: m.loadAverageAtStart };

const failures: Record<string, string> = {};
/** A part that fails is reported and the others still run. */
async function part<T>(name: string, work: () => Promise<T>): Promise<T | undefined> {
  try {
    return await work();
  } catch (error) {
    failures[name] = (error as Error).stack ?? String(error);
    log(`${name} FAILED: ${(error as Error).message}`);
    return undefined;
  }
}

if (!skip.has('throughput')) {
  throughput = await part('throughput', () => runThroughput({ ...SETTINGS, log }));
  if (throughput) cost = estimateCost(throughput.cost, throughput.breakdown);
  loads.afterThroughput = loadavg();
}
if (!skip.has('cohort')) {
  cohortCost = await part('cohort', () => runCohortCost({ plans: SETTINGS.cohortPlans, months: 30, seed: '1', log }));
  loads.afterCohort = loadavg();
}
// The synth is not timed, so it runs while the first plans are written.
const bundling = skip.has('bundles') ? undefined : part('bundles', () => measureBundles());
if (!skip.has('scale')) {
  await part('scale', () => runScale(bundling));
  scale = scaleRun.points;
  emptyStack = scaleRun.empty;
  loads.afterScale = loadavg();
}
const bundles = await bundling;

const e8 = throughput?.e2e[8]?.median;
const raw8 = throughput?.raw[8]?.perSecond;
const biggest = scale?.at(-1);
const heavy = biggest?.measure.queries.at(-1);
const targets: Target[] = [
  { name: 'end-to-end commands/s at 8 clients ≥ 25% of raw writes/s', met: e8 && raw8 ? e8.perSecond / raw8 >= TARGETS.e2eShareOfRawAt8 : undefined, value: e8 && raw8 ? pct(e8.perSecond / raw8, 1) : '—' },
  { name: 'p99 at 8 clients < 50 ms', met: e8 ? e8.p99 < TARGETS.p99At8Ms : undefined, value: e8 ? `${fmt(e8.p99, 1)} ms` : '—' },
  {
    name: `metrics at ${fmt(biggest?.plans)} plans < 1 s (GET /metrics, heaviest query)`,
    met: biggest && biggest.plans >= 100_000 && heavy ? heavy.httpMs < TARGETS.metricsMs : undefined,
    value: heavy ? `${fmt(heavy.httpMs)} ms (CPU ${fmt(heavy.httpCpuMs)} ms)` : '—',
  },
  {
    name: 'metrics ≥ 20× faster than brute force',
    met: biggest && biggest.plans >= 100_000 && heavy ? biggest.measure.bruteForce.ms / heavy.httpMs >= TARGETS.metricsSpeedUp : undefined,
    value: heavy && biggest ? `${fmt(biggest.measure.bruteForce.ms / heavy.httpMs)}×` : '—',
  },
  {
    // Judged on a normal restart (the metrics columns from the snapshot a clean stop saved); the start
    // after a crash, which reads every fact item, is shown next to it.
    name: `embedded stack < 500 MB resident at ${fmt(biggest?.plans)} plans (normal restart; recovery start shown)`,
    met: biggest?.restart && biggest.plans >= 100_000 ? biggest.restart.memory.totalPeakBytes < TARGETS.residentBytes : undefined,
    value: biggest
      ? `${biggest.restart ? `restart ${fmt(biggest.restart.memory.totalPeakBytes / MB)} MB peak (stack ${fmt(biggest.restart.memory.peakBytes / MB)} + dynalite ${fmt(biggest.restart.memory.childPeakBytes / MB)}); ` : ''}recovery ${fmt(biggest.measure.memory.totalPeakBytes / MB)} MB (stack ${fmt(biggest.measure.memory.peakBytes / MB)} + dynalite ${fmt(biggest.measure.memory.childPeakBytes / MB)})`
      : '—',
  },
  { name: 'no bundle over 1 MB', met: bundles ? bundles.largestBytes <= TARGETS.bundleBytes : undefined, value: bundles ? `largest ${fmt(bundles.largestBytes / 1000, 1)} kB` : '—' },
];

const text = report(m, throughput, scale, emptyStack, bundles, cost, cohortCost, targets);
console.log(text);
for (const [name, error] of Object.entries(failures)) console.log(`\n${name} failed:\n${error}`);
const results = {
  date: new Date(started).toISOString(),
  durationSeconds: (Date.now() - started) / 1000,
  quick,
  machine: { ...m, loadAverages: loads },
  settings: { ...SETTINGS, plans: sizes },
  targets,
  throughput,
  cost,
  cohortCost,
  scale,
  emptyStack,
  bundles,
  failures,
};
const file = join(import.meta.dirname, 'results.json');
await writeFile(file, `${JSON.stringify(results, (_k, v: unknown) => (typeof v === 'number' ? round(v, 3) : v), 2)}\n`);
log(`figures written to ${file}`);
