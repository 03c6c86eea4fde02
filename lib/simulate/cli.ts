import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { runSimulation, SimulationSetupError, type SimulationOptions } from './run.ts';
import { formatSummary } from './summary.ts';

export const SIMULATE_USAGE = `  wraparound simulate --plans N [--months 18] [--seed 1] [--data-dir ./.data | --in-memory] [--url URL]
                      [--concurrency 8] [--step-hours 6] [--start YYYY-MM-DD] [--json]
      Drive a synthetic cohort of N plans through the real API and workflow on the simulated clock and
      print a summary. Without --url it starts the embedded stack on --data-dir (or in memory) and stops
      it at the end; with --url it drives a stack started with --clock simulated (tokens from its demo
      users, or minted from --data-dir). The clock moves a day at a time, sweeping every --step-hours,
      from --start (default: the next Monday). The same seed and start give the same outcome.`;

export class UsageError extends Error {}
export { SimulationSetupError };

export function parseSimulateArgs(args: string[]): SimulationOptions & { json: boolean } {
  const { values } = parseArgs({
    args,
    options: {
      plans: { type: 'string' },
      months: { type: 'string', default: '18' },
      seed: { type: 'string', default: '1' },
      'data-dir': { type: 'string' },
      'in-memory': { type: 'boolean', default: false },
      url: { type: 'string' },
      concurrency: { type: 'string', default: '8' },
      'step-hours': { type: 'string', default: '6' },
      start: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const plans = Number(values.plans);
  if (values.plans === undefined) throw new UsageError('--plans N is needed (how many women to refer)');
  if (!Number.isInteger(plans) || plans < 1 || plans > 100_000) throw new UsageError(`--plans must be a whole number from 1 to 100000, not "${values.plans}"`);
  const months = Number(values.months);
  if (!Number.isFinite(months) || months <= 0 || months > 60) throw new UsageError(`--months must be a number of months above 0 and at most 60, not "${values.months}"`);
  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) throw new UsageError(`--concurrency must be a whole number from 1 to 64, not "${values.concurrency}"`);
  const stepHours = Number(values['step-hours']);
  if (!Number.isFinite(stepHours) || stepHours < 0.25 || stepHours > 24) throw new UsageError(`--step-hours must be a number of hours from 0.25 to 24, not "${values['step-hours']}"`);
  if (values.start !== undefined && (!/^\d{4}-\d{2}-\d{2}$/.test(values.start) || Number.isNaN(Date.parse(values.start))))
    throw new UsageError(`--start must be a date YYYY-MM-DD, not "${values.start}"`);
  if (values['in-memory'] && values['data-dir']) throw new UsageError('give --data-dir or --in-memory, not both');
  if (values.url && values['in-memory']) throw new UsageError('--in-memory starts a stack of its own: leave it out with --url');
  if (values.url && !/^https?:\/\//.test(values.url)) throw new UsageError(`--url must be an http(s) URL, not "${values.url}"`);
  return {
    plans,
    months,
    seed: values.seed,
    concurrency,
    stepHours,
    json: values.json,
    ...(values.start ? { start: values.start } : {}),
    ...(values.url ? { url: values.url } : {}),
    ...(values['in-memory'] ? { inMemory: true } : {}),
    ...(values['data-dir'] ? { dataDir: values['data-dir'] } : {}),
  };
}

/** `wraparound simulate`: exit code 1 when the API answered any request with a 5xx. */
export async function simulateCommand(args: string[]): Promise<number> {
  const { json, ...options } = parseSimulateArgs(args);
  // The bar goes to stderr and only to a terminal: piped or in CI, just the summary.
  const bar = process.stderr.isTTY
    ? new cliProgress.SingleBar(
        { format: 'simulate |{bar}| {percentage}% · day {value}/{total} · {date} · referred {referred}/{plans} · {commands} commands ({cps}/s)', hideCursor: true, stream: process.stderr },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  let started = false;
  if (!options.url && !options.inMemory) {
    // dynalite throws from a callback when another stack holds the data directory's LevelDB.
    process.once('uncaughtException', (error) => {
      bar?.stop();
      const busy = /database is (closed|not open)|LOCK/i.test(error.message);
      console.error(`wraparound: ${busy ? `the data directory ${options.dataDir ?? './.data'} is in use by a running stack: drive that one with --url http://127.0.0.1:3000, or pass another --data-dir or --in-memory` : (error.stack ?? error.message)}`);
      process.exit(2);
    });
  }
  const summary = await runSimulation({
    ...options,
    warn: (message) => {
      // Loud: on its own lines, above the bar.
      process.stderr.write(`\n${message}\n`);
    },
    onProgress: (p) => {
      if (!bar) return;
      if (!started) {
        bar.start(p.days, 0, { date: p.date, referred: 0, plans: p.plans, commands: 0, cps: 0 });
        started = true;
      }
      bar.update(p.day, { date: p.date, referred: p.referred, plans: p.plans, commands: p.commands, cps: p.commandsPerSecond });
    },
  }).finally(() => bar?.stop());
  console.log(json ? JSON.stringify(summary, null, 2) : formatSummary(summary));
  return summary.errors.server > 0 ? 1 : 0;
}
