/**
 * Fault injection on the embedded stack (on a data directory, as `npm start` runs it). A simulated
 * cohort of plans goes from referral through consent, assessment, the providers' answers,
 * activation, contacts, reviews and exit, then a year on the simulated clock with the 6- and
 * 12-month follow-ups, while:
 *
 *  - DynamoDB requests fail at random (FAULTS_RATE, default 22%): ThrottlingException,
 *    ProvisionedThroughputExceededException and InternalServerError, before the SDK's own retries,
 *    and a share of the InternalServerErrors after the write was applied (the answer lost); half the
 *    faults drawn for a BatchWriteItem write its first half and hand the rest back as UnprocessedItems;
 *  - the process is killed and restarted on the same data directory, twice during the cohort and
 *    once during the follow-ups, with commands in flight (from the kill on, the old process reaches
 *    the store no more);
 *  - the event publisher fails 20% of the time (half before, half after handing the events on);
 *  - every provider's webhook receiver is down (503) for the first 40% of the cohort.
 *
 * Clients send every command with its own Idempotency-Key and retry it until the answer is not a
 * 5xx. Then, with the faults off and everything drained, the suite checks: every plan's stage and
 * its path there are ones the lifecycle table allows; every command a client saw succeed is applied,
 * once; a command applied twice shows nowhere (versions, contacts, reviews, follow-ups); every
 * event id is in its plan's history once, sequences contiguous, nothing left in an outbox; every
 * event was published, and every provider event reached its provider's webhook (after dedupe);
 * capacity holds equal the live allocations.
 *
 * FAULTS_PLANS (default 60, to stay within a few minutes in CI; the README's figures are from FAULTS_PLANS=500), FAULTS_RATE,
 * FAULTS_AMBIGUOUS (share of injected faults that come after the write), FAULTS_SEED. The figures
 * are printed and written to test-artifacts/faults.json.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMAND_NAMES, LIFECYCLE, STAGES, type Stage } from '../../lib/domain/lifecycle.ts';
import type { Plan, PlanEvent } from '../../lib/domain/schemas.ts';
import { startEmbeddedStack, type EmbeddedStack } from '../../lib/local/embedded-stack.ts';
import { inPool } from '../fuzz/raw-http.ts';
import { roomyProvidersFile } from '../fuzz/targets.ts';
import { PROVIDERS } from '../support/http.ts';
import { PatientClient, type CommandRecord } from './client.ts';
import { monthsAfter, runPlan, type Actors, type CohortContext } from './cohort.ts';
import { flakyPublisher, StorageFaults, WebhookReceiver, type PublisherCounts } from './inject.ts';
// mulberry32, seeded: a failing run replays with the same draws.
import { mulberry32 as seeded } from '../../lib/simulate/prng.ts';

const PLANS = Number(process.env.FAULTS_PLANS ?? 60);
const FAULT_RATE = Number(process.env.FAULTS_RATE ?? 0.22);
const AMBIGUOUS = Number(process.env.FAULTS_AMBIGUOUS ?? 0.1);
const PUBLISH_FAILURE_RATE = 0.2;
const SEED = Number(process.env.FAULTS_SEED ?? 20261128);
const CONCURRENCY = 6;
const DAY = 86_400_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const subOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString('utf8')).sub as string;

// ---------------------------------------------------------------------------------------------
// The stack, its faults and its restarts

let dataDir: string;
let providersFile: string;
let port = 0;
let running: { stack: EmbeddedStack; kill(): void; settled(): Promise<void> } | undefined;
let ready: Promise<void> = Promise.resolve();
const restarts: { at: string; reason: string; ms: number }[] = [];
const faults = new StorageFaults({ rate: FAULT_RATE, ambiguousShare: AMBIGUOUS, random: seeded(SEED) });
const publishing: PublisherCounts = { attempts: 0, failedBefore: 0, failedAfter: 0, published: new Map() };
let publishRate = PUBLISH_FAILURE_RATE;
const publisherRandom = seeded(SEED + 1);
const secrets = new Map<string, string>();
const receiver = new WebhookReceiver((providerId) => secrets.get(providerId));
let client: PatientClient;
let actors: Actors;
/** Sweeps that got through, and attempts that a storage fault cut short (the timers they sent are in `executions`). */
const sweeps = { runs: 0, failed: 0, redelivered: 0, holdsReleased: 0 };
let timersSent = 0;
/** PlanCommand executions, by who sent them and how they ended. */
const executions: Record<string, number> = {};
const drainFigures: Record<string, number> = {};

async function start(): Promise<void> {
  const stack = await startEmbeddedStack({
    inMemory: false,
    dataDir,
    port,
    sweepIntervalMs: 0,
    clockMode: 'simulated',
    providersFile,
    wrapPublisher: flakyPublisher(publishing, publisherRandom, () => publishRate),
    wrapWorkflow: (inner) => ({
      async startSync(input) {
        const kind = input.command.actor.role === 'timer' ? 'timer' : 'command';
        const outcome = await inner.startSync(input);
        const key = `${kind} ${outcome.status === 'SUCCEEDED' ? (outcome.output.replay ? 'replayed' : 'succeeded') : `failed: ${outcome.error}`}`;
        executions[key] = (executions[key] ?? 0) + 1;
        return outcome;
      },
    }),
    webhooks: {
      intervalMs: 100,
      // Long enough to outlast the receiver's outage and the restarts: nothing should be dead-lettered.
      retrySchedule: [20, 50, 100, 200, 400, 800, 1_600, ...Array.from({ length: 200 }, () => 2_000)],
      jitter: 'full',
      random: seeded(SEED + 2 + restarts.length),
      timeoutMs: 2_000,
      concurrency: 8,
    },
  });
  port = stack.port;
  running = { stack, ...faults.attach(stack.plans.client) };
}

let lastToday = '';
const stack = () => {
  if (!running) throw new Error('the stack is not running');
  return running.stack;
};

/** Kill: from now on the old process reaches the store no more; its port closes; a new one starts. */
function restart(reason: string): Promise<void> {
  const previous = ready;
  ready = (async () => {
    await previous;
    const started = Date.now();
    const old = running;
    running = undefined;
    old?.kill();
    // What the dead process had already sent still lands; then its store closes (closing dynalite under
    // a request in flight makes it throw "Database is closed" outside any caller: see the report).
    await old?.settled();
    await old?.stack.stop();
    await start();
    restarts.push({ at: stack().clock.now(), reason, ms: Date.now() - started });
  })();
  return ready;
}

/** A sweep that is retried until it gets through (storage faults fail sweeps too). */
async function sweepUntilDone(): Promise<void> {
  for (let attempt = 0; ; attempt += 1) {
    await ready;
    try {
      const report = await stack().sweep();
      sweeps.runs += 1;
      timersSent += report.timersSent;
      sweeps.redelivered += report.plansRedelivered;
      sweeps.holdsReleased += report.holdsReleased;
      return;
    } catch {
      sweeps.failed += 1;
      if (attempt > 200) throw new Error('the sweep never got through');
      await sleep(5);
    }
  }
}

/** Move the simulated clock on in steps of at most `stepDays` (long steps: a weekly escalation fires once a step, not once a week), sweeping after each (retried). */
async function advance(days: number, stepDays = 61): Promise<void> {
  await ready;
  const target = Date.parse(stack().clock.now()) + days * DAY;
  for (;;) {
    await ready;
    const now = Date.parse(stack().clock.now());
    if (now >= target) break;
    const step = Math.min(stepDays * DAY, target - now);
    try {
      const moved = await stack().advanceClock(step, step);
      sweeps.runs += moved.steps;
      timersSent += moved.timersSent;
    } catch {
      // The clock moved; the sweep failed: sweep again at the new time.
      sweeps.failed += 1;
      await sweepUntilDone();
    }
  }
  // Timers re-armed by this sweep may already be due, and a sweep takes 100 plans a shard: go on until quiet.
  for (let i = 0; i < 30; i += 1) {
    const before = timersSent;
    await sweepUntilDone();
    if (timersSent === before) break;
  }
}

// ---------------------------------------------------------------------------------------------
// The run

const planIds: string[] = [];
const referralKeys: string[] = [];
const timings: Record<string, number> = {};
let checkpoint: Map<string, Plan> = new Map();

/** Read through the faults (and a restart): retried until it gets through. */
async function retrying<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt += 1) {
    await ready;
    try {
      return await work();
    } catch (error) {
      if (attempt > 200) throw error;
      await sleep(5);
    }
  }
}

async function readPlans(ids: readonly string[]): Promise<Map<string, Plan>> {
  const plans = new Map<string, Plan>();
  for (const id of ids) {
    const plan = await retrying(() => stack().plans.getPlan(id));
    if (plan) plans.set(id, plan);
  }
  return plans;
}

async function drain(): Promise<{ rounds: number; deadLettered: number; emptyOutboxesStillIndexed: number }> {
  let deadLettered = 0;
  for (let round = 1; ; round += 1) {
    // Past the sweeper's grace for outboxes (30 s) each time, so every leftover is redelivered.
    await stack().advanceClock(60_000, 60_000);
    await sweepUntilDone();
    const indexed = await stack().plans.pendingOutbox('9999-12-31T00:00:00.000Z', 1000);
    // An emptied outbox still indexed is taken out of the index by the sweep's redelivery: counted, never waited for.
    const leftovers = indexed.filter((p) => p.outbox.length > 0);
    const emptyOutboxesStillIndexed = indexed.length - leftovers.length;
    let pending = 0;
    for (const providerId of PROVIDERS) pending += (await stack().webhooks.store.pendingDeliveries(providerId)).length;
    if (leftovers.length === 0 && pending === 0) {
      // Anything dead-lettered is replayed, as a team lead would, and delivered in turn.
      // Not one her consent withholds (an event carrying her needs once it no longer covers the provider): its replay is refused.
      const dead = (await Promise.all(PROVIDERS.map((p) => stack().webhooks.store.listDeliveries(p, { status: 'dead', limit: 200 }))))
        .flatMap((page) => page.items)
        .filter((d) => !withheldByConsent.has(d.eventId));
      if (dead.length === 0) return { rounds: round, deadLettered, emptyOutboxesStillIndexed };
      deadLettered += dead.length;
      for (const d of dead) {
        const res = await client.send('POST', `/providers/${d.providerId}/deliveries/${d.deliveryId}/replay`, teamLeadToken, {});
        if (res.status === 409 && res.text.includes('cannot be replayed: it carries her needs')) withheldByConsent.add(d.eventId);
        else if (res.status !== 200) throw new Error(`replay ${d.deliveryId}: ${res.status} ${res.text}`);
      }
    }
    if (round > 600) throw new Error(`not quiet: ${leftovers.length} outboxes, ${pending} deliveries pending`);
    await sleep(leftovers.length > 0 ? 10 : 100);
  }
}
let teamLeadToken = '';
/** Provider events her consent withheld from their provider when sent (withdrawn, or no longer covering it): never delivered, by design. */
const withheldByConsent = new Set<string>();

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'wraparound-faults-'));
  // Room for everyone, so the cohort is about faults, not about running out of places.
  providersFile = await roomyProvidersFile(dataDir);
  await receiver.start();
  faults.enabled = false;
  await start();
  const users = stack().demoUsers;
  const token = (role: string, providerId?: string) => users.find((u) => u.role === role && (providerId === undefined || u.providerId === providerId))?.token as string;
  actors = {
    coordinator: { token: token('coordinator'), sub: subOf(token('coordinator')) },
    provider: Object.fromEntries(PROVIDERS.map((p) => [p, { token: token('provider', p), sub: subOf(token('provider', p)) }])),
  };
  teamLeadToken = token('team-lead');
  client = new PatientClient(stack().url, { sockets: CONCURRENCY * 2 });
  for (const providerId of PROVIDERS) {
    const res = await client.send('POST', `/providers/${providerId}/subscriptions`, teamLeadToken, { url: `${receiver.url}/${providerId}` }, `subscribe-${providerId}-${SEED}`);
    if (res.status !== 201) throw new Error(`subscribe ${providerId}: ${res.status} ${res.text}`);
    secrets.set(providerId, res.json.secret);
  }
  faults.enabled = true;
}, 60_000);

afterAll(async () => {
  await writeFigures();
  client?.close();
  running?.kill();
  await running?.settled();
  await running?.stack.stop();
  await receiver.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
}, 120_000);

const records = () => client.commands;
const ok = (r: CommandRecord) => r.status >= 200 && r.status < 300;

describe(`faults: ${PLANS} plans, ${Math.round(FAULT_RATE * 100)}% storage faults, kills, a failing publisher, a receiver down`, () => {
  it('runs the cohort and a year of follow-ups to the end', { timeout: 3_600_000 }, async () => {
    const started = Date.now();
    const ctx: CohortContext = {
      client,
      actors,
      // While a restart is under way there is no stack to ask: the clock has not moved meanwhile.
      today: () => (lastToday = running?.stack.clock.now().slice(0, 10) ?? lastToday),
      key: (plan, step) => `faults-${SEED}-${plan}-${step}`,
    };
    // ---- the cohort, with two kills, the receiver down for the first 40%
    let done = 0;
    const kills = new Set([Math.round(PLANS / 3), Math.round((2 * PLANS) / 3)]);
    await inPool(
      Array.from({ length: PLANS }, (_, i) => i),
      CONCURRENCY,
      async (i) => {
        referralKeys.push(ctx.key(i, 'refer'));
        const planId = await runPlan(ctx, i, seeded(SEED * 31 + i));
        if (planId) planIds.push(planId);
        done += 1;
        if (done === Math.round(PLANS * 0.4)) receiver.down = false;
        if (kills.has(done)) void restart(`cohort, after ${done} plans`);
      },
    );
    await ready;
    receiver.down = false;
    timings.cohortSeconds = (Date.now() - started) / 1000;

    // Checkpoint: before any timer has run, every plan remembers every command it applied.
    faults.enabled = false;
    checkpoint = await readPlans(allPlanIds());
    faults.enabled = true;

    // ---- a year on the clock, the follow-ups, one more kill while they are in flight
    client.phase = 'follow-up';
    const followUps = async (label: string, killHalfway: boolean) => {
      const now = Date.parse(stack().clock.now());
      const plans = [...(await readPlans(allPlanIds())).values()];
      let sent = 0;
      const due = plans.filter((p) => p.stage === 'exited' && p.exit);
      await inPool(due, CONCURRENCY, async (plan) => {
        const exitedAt = plan.exit?.exitedAt as string;
        const month = [6, 12].find((m) => !plan.followUps.some((f) => f.month === m));
        if (!month || now < monthsAfter(exitedAt, month)) return;
        await client.command(plan.planId, 'record-follow-up', 'POST', `/plans/${plan.planId}/record-follow-up`, actors.coordinator.token, actors.coordinator.sub, { month, reoffended: ['no', 'yes', 'unknown'][sent % 3] }, `faults-${SEED}-${plan.planId}-follow-up-${month}`);
        sent += 1;
        if (killHalfway && sent === Math.round(due.length / 2)) void restart(`follow-ups (${label}), halfway`);
      });
      await ready;
    };
    const phase2 = Date.now();
    const lap = (name: string, since: number) => (timings[name] = (Date.now() - since) / 1000);
    let at = Date.now();
    await advance(184);
    lap('advance184Seconds', at);
    at = Date.now();
    await followUps('6 months', true);
    lap('followUps6Seconds', at);
    at = Date.now();
    // Most plans still open at six months end now (their own follow-ups come after the next move).
    const stillOpen = [...(await readPlans(allPlanIds())).values()].filter((p) => p.stage === 'active' || p.stage === 'allocating');
    await inPool(stillOpen.slice(0, Math.ceil(stillOpen.length * 0.7)), CONCURRENCY, async (plan) => {
      await client.command(plan.planId, 'exit', 'POST', `/plans/${plan.planId}/exit`, actors.coordinator.token, actors.coordinator.sub, { reason: 'completed' }, `faults-${SEED}-${plan.planId}-late-exit`);
    });
    lap('lateExitsSeconds', at);
    at = Date.now();
    await advance(186);
    lap('advance186Seconds', at);
    at = Date.now();
    await followUps('12 months', false);
    lap('followUps12Seconds', at);
    timings.followUpSeconds = (Date.now() - phase2) / 1000;

    // ---- faults off: let everything settle
    const drainStarted = Date.now();
    faults.enabled = false;
    publishRate = 0;
    const drained = await drain();
    // Two hours on, so the hourly reconcile of capacity holds runs.
    await stack().advanceClock(2 * 3600_000, 3600_000);
    await sweepUntilDone();
    timings.drainSeconds = (Date.now() - drainStarted) / 1000;
    timings.totalSeconds = (Date.now() - started) / 1000;
    Object.assign(drainFigures, drained);

    expect(planIds.length).toBeGreaterThan(PLANS * 0.9);
    expect(restarts.length).toBe(3);
    expect(faults.counts.injected / faults.counts.requests).toBeGreaterThanOrEqual(FAULT_RATE * 0.9);
  });

  it('leaves every plan in a stage the lifecycle allows, reached by moves it allows', async () => {
    const plans = await readPlans(allPlanIds());
    const problems: string[] = [];
    for (const plan of plans.values()) {
      const history = await stack().plans.history(plan.planId);
      problems.push(...lifecycleProblems(plan, history).map((p) => `${plan.planId}: ${p}`));
    }
    stages = countBy([...plans.values()].map((p) => p.stage));
    expect(problems).toEqual([]);
    expect(Object.keys(stages).length).toBeGreaterThanOrEqual(4);
  });

  it('applies every command a client saw succeed, exactly once, and nothing twice', async () => {
    const final = await readPlans(allPlanIds());
    const problems: string[] = [];
    const keyOf = (r: CommandRecord) => `${r.sub}:${r.key}`;
    for (const r of records().filter(ok)) {
      const planId = r.command === 'refer' ? planIdOfReferral(r.sub, r.key) : r.planId;
      // Cohort commands against the checkpoint (the plan then remembered all it applied); later ones against the end.
      const plan = r.phase === 'cohort' ? checkpoint.get(planId) : final.get(planId);
      if (!plan) {
        problems.push(`${r.command} ${r.key}: answered ${r.status}, but there is no plan ${planId}`);
        continue;
      }
      const hits = plan.applied.filter((a) => a.key === keyOf(r));
      const remembered = Math.min(...plan.applied.map((a) => a.version));
      if (hits.length === 0 && (r.version === undefined || r.version >= remembered)) problems.push(`${r.command} ${r.key}: answered ${r.status}, not applied to ${planId}`);
      if (hits.length > 1) problems.push(`${r.command} ${r.key}: applied ${hits.length} times`);
      if (hits[0] && r.version !== undefined && hits[0].version !== r.version) problems.push(`${r.command} ${r.key}: answered version ${r.version}, applied as version ${hits[0].version}`);
    }
    for (const plan of checkpoint.values()) {
      // Every saved version is exactly one applied command (all carried a key; no timer has run yet).
      const versions = plan.applied.map((a) => a.version).sort((a, b) => a - b);
      if (versions.join() !== Array.from({ length: plan.version }, (_, i) => i + 1).join()) problems.push(`${plan.planId}: versions ${plan.version} but applied ${versions.join(',')}`);
      const keys = plan.applied.map((a) => a.key);
      if (new Set(keys).size !== keys.length) problems.push(`${plan.planId}: a key applied twice`);
      const count = (command: string) => plan.applied.filter((a) => a.command === command).length;
      if (plan.contacts.length !== count('record-contact')) problems.push(`${plan.planId}: ${plan.contacts.length} contacts from ${count('record-contact')} record-contact commands`);
      if (plan.reviews.length !== count('record-review')) problems.push(`${plan.planId}: ${plan.reviews.length} reviews from ${count('record-review')} record-review commands`);
    }
    for (const plan of final.values()) {
      const followUps = plan.followUps.map((f) => f.month);
      if (new Set(followUps).size !== followUps.length) problems.push(`${plan.planId}: follow-ups ${followUps.join(',')}`);
      const keys = plan.applied.map((a) => a.key);
      if (new Set(keys).size !== keys.length) problems.push(`${plan.planId}: a key applied twice`);
    }
    expect(problems).toEqual([]);
  });

  it('tells no client a command failed that was in fact applied (a Save plan whose answer was lost and is retried finds its own write)', async () => {
    const final = await readPlans(allPlanIds());
    appliedThoughRefused = refusedButApplied(final);
    expect(appliedThoughRefused).toEqual([]);
    // The faults did reach the saves: some writes landed with their answer lost.
    expect(faults.counts.byKind['InternalServerError (after the write)']).toBeGreaterThan(0);
  });

  it('leaves no plan in the undelivered-outbox index once its outbox is empty', () => {
    expect(drainFigures.emptyOutboxesStillIndexed).toBe(0);
  });

  it('keeps every event once, in contiguous sequences, and delivers it: published, and to each provider’s webhook', async () => {
    const plans = await readPlans(allPlanIds());
    const problems: string[] = [];
    const seen = new Set<string>();
    const providerEvents = new Map<string, PlanEvent>();
    let total = 0;
    for (const plan of plans.values()) {
      const history = await stack().plans.history(plan.planId);
      total += history.length;
      const sequences = history.map((e) => e.sequence);
      if (sequences.join() !== Array.from({ length: plan.sequence }, (_, i) => i + 1).join()) problems.push(`${plan.planId}: sequences ${sequences.join(',')} of ${plan.sequence}`);
      if (plan.outbox.length) problems.push(`${plan.planId}: ${plan.outbox.length} events still in the outbox`);
      for (const e of history) {
        if (seen.has(e.id)) problems.push(`${plan.planId}: event ${e.id} twice`);
        seen.add(e.id);
        if (!publishing.published.has(e.id)) problems.push(`${plan.planId}: event ${e.sequence} ${e.type} never published`);
        if (e.providerId) providerEvents.set(e.id, e);
      }
    }
    // The webhooks: signed, each id handled once after dedupe, every provider event there.
    const handled = new Map<string, string>();
    let duplicates = 0;
    for (const delivery of receiver.received) {
      if (!delivery.eventId) {
        problems.push(`a delivery to ${delivery.providerId} failed its signature check: ${delivery.signatureError}`);
        continue;
      }
      if (handled.has(delivery.eventId)) duplicates += 1;
      else handled.set(delivery.eventId, delivery.providerId);
    }
    for (const [id, e] of providerEvents) if (handled.get(id) !== e.providerId && !withheldByConsent.has(id)) problems.push(`${e.planId}: ${e.type} (${id}) never reached ${e.providerId}`);
    eventFigures = {
      inHistory: total,
      providerEvents: providerEvents.size,
      publishedUnique: publishing.published.size,
      publishedMoreThanOnce: [...publishing.published.values()].filter((n) => n > 1).length,
      webhookRequestsAccepted: receiver.received.length,
      webhookDuplicatesDroppedByDedupe: duplicates,
      webhookRefusedWhileDown: receiver.refusedWhileDown,
      withheldByConsent: withheldByConsent.size,
    };
    expect(problems.slice(0, 20)).toEqual([]);
    expect(total).toBeGreaterThan(PLANS * 3);
    // History and feed entries went in batches, some of them handed back in part and resent.
    expect(faults.counts.byKind['UnprocessedItems (part of a batch)']).toBeGreaterThan(0);
  });

  it('holds on each service’s capacity exactly the live (offered or accepted) allocations', async () => {
    const plans = await readPlans(allPlanIds());
    const live = new Map<string, Set<string>>();
    for (const plan of plans.values())
      for (const a of plan.allocations) if (a.status === 'offered' || a.status === 'accepted') live.set(a.serviceId, (live.get(a.serviceId) ?? new Set()).add(a.allocationId));
    const problems: string[] = [];
    let holds = 0;
    for (const state of await stack().services.states()) {
      const held = Object.keys(state.holds ?? {}).sort();
      holds += held.length;
      const expected = [...(live.get(state.serviceId) ?? [])].sort();
      if (held.join() !== expected.join()) problems.push(`${state.serviceId}: holds ${held.length} (${held.filter((h) => !expected.includes(h)).slice(0, 3).join(', ')}…), live ${expected.length} (${expected.filter((h) => !held.includes(h)).slice(0, 3).join(', ')}…)`);
    }
    capacityFigures = { holds, liveAllocations: [...live.values()].reduce((n, s) => n + s.size, 0) };
    expect(problems).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// Checks and figures

let stages: Record<string, number> = {};
let appliedThoughRefused: string[] = [];
let eventFigures: Record<string, number> = {};
let capacityFigures: Record<string, number> = {};

function allPlanIds(): string[] {
  return [...new Set([...planIds, ...referralKeys.map((key) => planIdOfReferral(actors.coordinator.sub, key))])];
}

/** The plan a referral with this key creates: the API derives it from the caller and the key. */
function planIdOfReferral(sub: string, key: string): string {
  return `pl_${createHash('sha256').update(`${sub}:${key}`).digest('hex').slice(0, 24)}`;
}

function countBy(values: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

/** Events that move a plan into a stage. */
const ENTERS: Record<string, Stage> = {
  'plan.referred.v1': 'referred',
  'plan.consent-recorded.v1': 'assessment',
  'plan.withdrawn.v1': 'withdrawn',
  'plan.assessment-submitted.v1': 'allocating',
  'plan.activated.v1': 'active',
  'plan.exited.v1': 'exited',
  'plan.closed.v1': 'closed',
};
const moveAllowed = (from: Stage, to: Stage) => COMMAND_NAMES.some((c) => (LIFECYCLE[c].from as readonly Stage[]).includes(from) && (LIFECYCLE[c].next as readonly Stage[]).includes(to));

function lifecycleProblems(plan: Plan, history: PlanEvent[]): string[] {
  const problems: string[] = [];
  if (!(STAGES as readonly string[]).includes(plan.stage) || plan.stage === 'none') problems.push(`stage ${plan.stage}`);
  let stage: Stage = 'none';
  let adjustedSince = false;
  for (const e of [...history].sort((a, b) => a.sequence - b.sequence)) {
    if (e.type === 'plan.adjusted.v1') adjustedSince = true;
    // Consent withdrawn during support exits and closes in one transition: the exit is not a stop of its own.
    if (e.type === 'plan.exited.v1' && e.data.reason === 'consent-withdrawn') continue;
    const next = ENTERS[e.type];
    if (!next || next === stage) continue;
    if (!moveAllowed(stage, next)) problems.push(`${stage} → ${next} (${e.type}) is not a move of the lifecycle`);
    stage = next;
    adjustedSince = false;
  }
  // A review that adds a priority need takes an active plan back to allocating without a stage event of its own.
  if (plan.stage !== stage && !(stage === 'active' && plan.stage === 'allocating' && adjustedSince)) problems.push(`stage ${plan.stage}, but its events lead to ${stage}`);
  const live = plan.allocations.filter((a) => a.status === 'offered' || a.status === 'accepted');
  switch (plan.stage) {
    case 'referred':
      if (plan.consent || plan.allocations.length) problems.push('referred with consent or allocations');
      break;
    case 'assessment':
      if (!plan.consent || plan.assessedAt) problems.push('in assessment without consent, or assessed');
      break;
    case 'allocating':
    case 'active':
      if (!plan.assessedAt) problems.push(`${plan.stage} but never assessed`);
      if (plan.stage === 'active' && !plan.activatedAt) problems.push('active but never activated');
      break;
    case 'exited':
      if (!plan.exit) problems.push('exited without an exit');
      if (live.length) problems.push(`exited with ${live.length} live allocations`);
      break;
    case 'closed':
      // Both follow-ups recorded, or consent withdrawn (which cancels those still due).
      if (!plan.closedAt || (plan.followUps.length !== 2 && !plan.consent?.withdrawnAt && plan.exit?.reason !== 'consent-withdrawn')) problems.push(`closed with ${plan.followUps.length} follow-ups`);
      if (live.length) problems.push(`closed with ${live.length} live allocations`);
      break;
    case 'withdrawn':
      if (!plan.withdrawal || plan.allocations.length) problems.push('withdrawn without a withdrawal, or with allocations');
      break;
  }
  return problems;
}

/** Commands a client was refused (4xx) that its plan nevertheless applied. */
function refusedButApplied(final: Map<string, Plan>): string[] {
  return records()
    .filter((r) => r.status >= 400)
    .filter((r) => (r.phase === 'cohort' ? checkpoint : final).get(r.command === 'refer' ? planIdOfReferral(r.sub, r.key) : r.planId)?.applied.some((a) => a.key === `${r.sub}:${r.key}`))
    .map((r) => `${r.command} ${r.key} → ${r.status}: ${r.detail}`);
}

async function writeFigures(): Promise<void> {
  if (!client) return;
  const all = records();
  if (running) {
    faults.enabled = false;
    const final = await readPlans(allPlanIds());
    appliedThoughRefused = refusedButApplied(final);
    const timerKeys = [...final.values()].reduce((n, p) => n + p.applied.filter((a) => a.key.startsWith('timer:')).length, 0);
    Object.assign(drainFigures, { timerCommandsRememberedOnPlans: timerKeys });
  }
  const figures = {
    plans: PLANS,
    seed: SEED,
    faultRate: FAULT_RATE,
    ambiguousShare: AMBIGUOUS,
    seconds: timings,
    http: {
      requests: client.counts.requests,
      clientRetries: client.counts.retries,
      answeredWith5xx: client.counts.serverErrors,
      connectionFailures: client.counts.networkErrors,
      statuses: client.counts.statuses,
    },
    commands: {
      sent: all.length,
      succeeded: all.filter(ok).length,
      refused: countBy(all.filter((r) => r.status >= 400).map((r) => `${r.status} ${r.command}`)),
      retried: all.filter((r) => r.attempts > 1).length,
      answeredAsReplay: all.filter((r) => r.replayed).length,
      maxAttempts: Math.max(0, ...all.map((r) => r.attempts)),
      appliedThoughRefused: appliedThoughRefused.length,
      byCommand: countBy(all.filter(ok).map((r) => r.command)),
    },
    storage: { requests: faults.counts.requests, injected: faults.counts.injected, injectedRate: +(faults.counts.injected / Math.max(1, faults.counts.requests)).toFixed(3), byKind: faults.counts.byKind, byCommand: faults.counts.byCommand, refusedToKilledProcess: faults.counts.afterKill },
    publisher: { attempts: publishing.attempts, failedBefore: publishing.failedBefore, failedAfterPublishing: publishing.failedAfter },
    restarts,
    executions,
    sweeps,
    drain: drainFigures,
    events: eventFigures,
    capacity: capacityFigures,
    finalStages: stages,
    appliedThoughRefusedExamples: appliedThoughRefused.slice(0, 10),
  };
  console.log(`faults figures:\n${JSON.stringify(figures, null, 2)}`);
  await mkdir('test-artifacts', { recursive: true });
  await writeFile('test-artifacts/faults.json', JSON.stringify(figures, null, 2));
}

