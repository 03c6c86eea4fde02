/**
 * `wraparound simulate`: a synthetic cohort driven through the real HTTP API and workflow on the
 * simulated clock. The main run (40 plans over 14 months) drives a stack this test started, so what
 * the summary says can be checked against what the API shows afterwards. The reproducibility checks
 * run the CLI itself in child processes, alongside the main run (they use the other core): the same
 * seed twice, and another seed, on a smaller cohort so the whole file stays well under 90 seconds.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedStack, type EmbeddedStack } from '../../lib/local/embedded-stack.ts';
import { STAGES } from '../../lib/domain/lifecycle.ts';
import { runSimulation } from '../../lib/simulate/run.ts';
import { londonDate } from '../../lib/domain/calendar.ts';
import { addDaysToDate, firstOfQuarter, lastOfQuarter } from '../../lib/domain/metrics/dates.ts';
import type { SimulationSummary } from '../../lib/simulate/summary.ts';
import { makeCall, type Json } from '../support/http.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SEED = 'new-chance';

/** A Monday at least a week ahead: every run here starts on it, so their calendars line up. */
function startDate(): string {
  const d = new Date(Date.now() + 7 * 86_400_000);
  while (d.getUTCDay() !== 1) d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

/** `wraparound simulate … --json` in a child process: its summary, or the reason it failed. */
function simulateCli(args: string[]): Promise<SimulationSummary> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/wraparound.ts', 'simulate', '--json', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`simulate ${args.join(' ')} exited ${code}: ${err.slice(-2000)}`));
      try {
        resolve(JSON.parse(out) as SimulationSummary);
      } catch (error) {
        reject(new Error(`simulate printed no JSON summary (${(error as Error).message}): ${out.slice(0, 500)} ${err.slice(-500)}`));
      }
    });
  });
}

describe('wraparound simulate', () => {
  const start = startDate();
  let stack: EmbeddedStack;
  let summary: SimulationSummary;
  let repeats: SimulationSummary[];
  const token = (role: string) => stack.demoUsers.find((u) => u.role === role)?.token as string;

  beforeAll(async () => {
    const small = ['--plans', '16', '--months', '3', '--in-memory', '--step-hours', '24', '--start', start];
    const children = Promise.all([simulateCli([...small, '--seed', 'twice']), simulateCli([...small, '--seed', 'twice']), simulateCli([...small, '--seed', 'another'])]);
    stack = await startEmbeddedStack({ inMemory: true, port: 0, clockMode: 'simulated', sweepIntervalMs: 0, webDistDir: false });
    summary = await runSimulation({ url: stack.url, users: stack.demoUsers, plans: 40, months: 14, seed: SEED, start, stepHours: 24 });
    repeats = await children;
  }, 300_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('finishes: every plan driven, no server error and no request the API refused', () => {
    expect(summary.errors.server).toBe(0);
    expect(summary.errors.client).toEqual({});
    expect(summary.outcome.stuck).toBe(0);
    expect(Object.values(summary.outcome.stages).reduce((a, b) => a + b, 0)).toBe(40);
    expect(summary.outcome.period).toMatchObject({ from: start, days: 426 });
    expect(summary.run.commands).toBeGreaterThan(400);
    expect(summary.run.commandsPerSecond).toBeGreaterThan(0);
  });

  it('says what the API shows: plans by stage as the worklist lists them', async () => {
    const call = makeCall(stack.url);
    for (const stage of STAGES.filter((s) => s !== 'none')) {
      let count = 0;
      let cursor: string | null = null;
      do {
        const page: { status: number; json: Json } = await call('GET', `/plans?stage=${stage}&limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token: token('team-lead') });
        expect(page.status).toBe(200);
        count += page.json.items.length;
        cursor = page.json.nextCursor;
      } while (cursor);
      expect({ stage, count }).toEqual({ stage, count: summary.outcome.stages[stage] ?? 0 });
    }
  });

  it('says what the commissioner figures show: referrals and exits over the period', async () => {
    const call = makeCall(stack.url);
    // Periods are whole quarters, and figures come only from complete ones: the quarters the run
    // touched, asked on the first day after the last of them.
    const from = firstOfQuarter(summary.outcome.period.from);
    const to = lastOfQuarter(londonDate(stack.clock.now()));
    await stack.advanceClock(Date.parse(`${addDaysToDate(to, 1)}T12:00:00Z`) - Date.parse(stack.clock.now()), 86_400_000);
    const metrics = await call('GET', `/metrics?from=${from}&to=${to}`, { token: token('commissioner') });
    expect(metrics.status).toBe(200);
    const exits = Object.values(summary.outcome.exits).reduce((a, b) => a + b, 0);
    // Shown counts are rounded to the nearest 5 (GET /metrics by default).
    const rounded = (count: number) => Math.round(count / 5) * 5;
    expect(metrics.json.overall.referrals).toBe(40);
    expect(metrics.json.overall.exits).toBe(rounded(exits));
    expect(metrics.json.overall.exitsCompleted).toBe((summary.outcome.exits.completed ?? 0) >= 5 ? rounded(summary.outcome.exits.completed as number) : 'suppressed');
  });

  it('has real variety: sources, areas, declines, expiries, late reviews, exits by reason, follow-ups', () => {
    const o = summary.outcome;
    expect(Object.keys(o.referrals.bySource).length).toBeGreaterThanOrEqual(5);
    expect(Object.keys(o.referrals.byLocalAuthority).length).toBeGreaterThanOrEqual(6);
    expect(o.offers.declined).toBeGreaterThan(0);
    expect(Object.keys(o.offers.declineReasons).length).toBeGreaterThanOrEqual(2);
    expect(o.offers.expired).toBeGreaterThan(0);
    expect(o.offers.accepted).toBeGreaterThan(o.offers.declined + o.offers.expired);
    expect(o.reviews.late + o.reviews.overdueNow).toBeGreaterThan(0);
    expect(o.reviews.onTime).toBeGreaterThan(o.reviews.late);
    expect(o.escalations['review-overdue']).toBeGreaterThan(0);
    expect(o.contacts.attended).toBeGreaterThan(o.contacts.missed ?? 0);
    expect(o.contacts.missed).toBeGreaterThan(0);
    expect(Object.keys(o.exits).length).toBeGreaterThanOrEqual(4);
    expect(Object.values(o.followUps.month6).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expect(Object.keys(o.reoffending).length).toBeGreaterThan(3);
    // Every stage but `none` is reached by some plan during the run.
    for (const stage of STAGES.filter((s) => s !== 'none')) expect({ stage, reached: (o.reached[stage] ?? 0) > 0 }).toEqual({ stage, reached: true });
  });

  it('gives the same outcome for the same seed and start, and another for another seed', () => {
    const [first, second, other] = repeats as [SimulationSummary, SimulationSummary, SimulationSummary];
    for (const s of repeats) {
      expect(s.errors).toMatchObject({ server: 0, client: {} });
      expect(s.outcome.plans).toBe(16);
    }
    expect(second.outcome).toEqual(first.outcome);
    expect(other.outcome).not.toEqual(first.outcome);
    expect(other.outcome.referrals).not.toEqual(first.outcome.referrals);
  });
});
