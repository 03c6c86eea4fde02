/**
 * A clean stop while commands are still running keeps the metrics snapshot: stop() lets the
 * executions in flight finish (for a bounded time), and one that outlives that wait and saves its plan
 * after the last snapshot is put in the snapshot's change journal, so the next start still reads the
 * file (and that plan's stored facts) instead of every fact item, with the figures the stored facts give.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startEmbeddedStack, type EmbeddedOptions, type EmbeddedStack } from '../../lib/local/embedded-stack.ts';
import type { LocalWorkflowRunner } from '../../lib/local/workflow-runner.ts';
import { FactStore } from '../../lib/metrics/fact-store.ts';
import type { PlanFacts } from '../../lib/domain/metrics/facts.ts';
import { DIMENSIONS } from '../../lib/domain/metrics/definitions.ts';
import { addDaysToDate, firstOfQuarter, lastOfQuarter } from '../../lib/domain/metrics/dates.ts';
import { DEFAULT_METRICS_CONFIG, metricsPeriodRules } from '../../lib/domain/metrics/query.ts';
import { referenceComputeMetrics } from '../support/metrics-reference.ts';
import { anotherParticipant, consent, controllableClock, makeCall, planInStage, referral, START, wrapStack, type Json, type TestStack } from '../support/http.ts';

const EXACT = { roundCountsTo: 1, suppressionThreshold: 1 };
// The quarter of the stack's today (START), asked once it is complete (figures come only from complete quarters).
const QUERY = { from: '2026-01-01', to: '2026-03-31', groupBy: [...DIMENSIONS] };

/** GET /metrics of the stack, and the same query worked out by the reference computation from every stored fact item. */
async function figuresAndStoredFacts(t: TestStack) {
  if (t.clock.today() <= QUERY.to) t.clock.set(`${addDaysToDate(QUERY.to, 1)}T10:00:00.000Z`);
  const res = await t.call('GET', `/metrics?from=${QUERY.from}&to=${QUERY.to}&groupBy=${QUERY.groupBy.join(',')}`, { token: t.commissioner });
  expect(res.status, res.text).toBe(200);
  const stored: PlanFacts[] = [];
  await new FactStore(t.stack.plans.client, t.stack.plans.tableName).loadEach((_planId, facts) => void stored.push(facts));
  const asOf = (res.json as Json).asOf as string;
  const reference = referenceComputeMetrics(stored, QUERY, { suppressionThreshold: EXACT.suppressionThreshold, roundCountsTo: EXACT.roundCountsTo, asOf, providers: t.stack.directory.organizations.map((o) => o.id) });
  // As GET /metrics gives it: the figures, and the deployment's period rules beside them.
  return { served: res.json as Json, reference: { ...(JSON.parse(JSON.stringify(reference)) as Json), periodRules: metricsPeriodRules(DEFAULT_METRICS_CONFIG) }, stored: stored.length };
}

describe('stopping the stack while commands run keeps the metrics snapshot', () => {
  let dataDir: string;
  const clock = controllableClock(START);
  const running: EmbeddedStack[] = [];
  const base = (): EmbeddedOptions => ({ inMemory: false, dataDir, port: 0, sweepIntervalMs: 0, clock, webDistDir: false, webhooks: { intervalMs: 0 }, metrics: EXACT });

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'wraparound-stop-snapshot-'));
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });
  afterAll(async () => {
    for (const stack of running) await stack.stop().catch(() => undefined);
    await rm(dataDir, { recursive: true, force: true });
  });

  it('an execution that saves its plan after the last snapshot is journalled: the next start reads the snapshot, with the figures of the stored facts', async () => {
    // Executions held just before Publish events (where a plan's facts are saved) until the test lets them go.
    let holding = false;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const held: Promise<unknown>[] = [];
    const first = await startEmbeddedStack({
      ...base(),
      // A short wait at stop(), so the held executions outlive it, as slow ones under load do.
      stopGraceMs: 100,
      wrapWorkflow: (inner) => {
        const runner = inner as LocalWorkflowRunner;
        const publish = runner.handlers['Publish events'] as (input: unknown) => Promise<unknown>;
        runner.handlers['Publish events'] = (input) => {
          if (!holding) return publish(input);
          const step = gate.then(() => publish(input));
          held.push(step);
          return step;
        };
        return inner;
      },
    });
    running.push(first);
    const t = wrapStack(first, clock);
    await planInStage(t, 'assessment');
    const referred = await planInStage(t, 'referred');

    holding = true;
    const call = makeCall(first.url);
    const answers = Promise.all(
      [
        call('POST', '/plans', { token: t.coordinator, body: referral({ participant: anotherParticipant() }) }),
        call('POST', '/plans', { token: t.coordinator, body: referral({ participant: anotherParticipant(), referral: { source: 'self', localAuthority: 'sandwell', urgency: 'urgent' } }) }),
        call('POST', `/plans/${referred.planId}/record-consent`, { token: t.coordinator, body: consent('2026-03-02') }),
      ].map((answer) => answer.then((res) => res.status, () => 0)),
    );
    await expect.poll(() => held.length).toBe(3);

    // The held executions go on to save their plans right after the last snapshot is taken (the order
    // a slow execution can take once stop() has stopped waiting), and stop() goes on once they have.
    const saveFinalSnapshot = first.metrics.saveFinalSnapshot.bind(first.metrics);
    let finalSnapshotSaved: boolean | undefined;
    first.metrics.saveFinalSnapshot = async () => {
      finalSnapshotSaved = await saveFinalSnapshot();
      release();
      await Promise.allSettled(held);
      return finalSnapshotSaved;
    };
    const errors = vi.spyOn(console, 'error');
    await first.stop();
    running.splice(running.indexOf(first), 1);
    await answers;
    expect(finalSnapshotSaved).toBe(true);
    // Not vacuous: all three saves came after the snapshot, and none was refused.
    expect(await Promise.allSettled(held)).toEqual(held.map(() => expect.objectContaining({ status: 'fulfilled' })));
    expect(errors.mock.calls.flat().join('\n')).not.toMatch(/metrics/i);

    const second = await startEmbeddedStack(base());
    running.push(second);
    // The snapshot (2 plans) and the 3 plans its journal names, read over it.
    expect(await second.metrics.start()).toEqual({ loaded: 4, from: 'snapshot', changedSince: 3 });
    const { served, reference, stored } = await figuresAndStoredFacts(wrapStack(second, clock));
    expect(stored).toBe(4);
    expect(served.overall.referrals).toBe(4);
    expect(served.overall.consented).toBe(2);
    const { asOf: _served, ...servedRest } = served;
    const { asOf: _reference, ...referenceRest } = reference;
    expect(servedRest).toEqual(referenceRest);
  });

  it('a clock advance under way when stop() is called ends after its current step, and stop() waits for it: the last snapshot holds every save', async () => {
    const advanceDir = await mkdtemp(join(tmpdir(), 'wraparound-stop-advance-'));
    try {
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let heldOne!: () => void;
      const timerHeld = new Promise<void>((resolve) => (heldOne = resolve));
      let timerExecutions = 0;
      const options: EmbeddedOptions = { inMemory: false, dataDir: advanceDir, port: 0, sweepIntervalMs: 0, clockMode: 'simulated', webDistDir: false, webhooks: { intervalMs: 0 }, metrics: EXACT };
      const first = await startEmbeddedStack({
        ...options,
        // The first timer execution (a deadline the advance fired) is held before it saves, until stop() has begun.
        wrapWorkflow: (inner) => {
          const runner = inner as LocalWorkflowRunner;
          const publish = runner.handlers['Publish events'] as (input: unknown) => Promise<unknown>;
          runner.handlers['Publish events'] = (input) => {
            if ((input as { command: { actor: { role: string } } }).command.actor.role !== 'timer') return publish(input);
            timerExecutions += 1;
            if (timerExecutions > 1) return publish(input);
            heldOne();
            return gate.then(() => publish(input));
          };
          return inner;
        },
      });
      running.push(first);
      const coordinator = (first.demoUsers.find((u) => u.role === 'coordinator') as { token: string }).token;
      const call = makeCall(first.url);
      // Three referrals four days apart, so their assessment deadlines fall at different steps of the advance.
      for (let i = 0; i < 3; i += 1) {
        if (i > 0) expect((await call('POST', '/_local/clock/advance', { token: coordinator, body: { days: 4 } })).status).toBe(200);
        const res = await call('POST', '/plans', { token: coordinator, body: referral({ participant: anotherParticipant() }) });
        expect(res.status, res.text).toBe(201);
      }
      // Its connection cut (the stop not waiting for it) is a failure below, not an unhandled rejection.
      const advancing = call('POST', '/_local/clock/advance', { token: coordinator, body: { days: 60 } }).catch((error: Error) => ({ status: 0, text: error.message, json: undefined as Json }));
      await timerHeld;
      const stopped = first.stop();
      release();
      await stopped;
      running.splice(running.indexOf(first), 1);
      const advanced = await advancing;
      expect(advanced.status, advanced.text).toBe(200);
      // It stopped early: 60 days are 240 steps of 6 hours.
      expect(advanced.json.steps).toBeLessThan(240);
      expect(timerExecutions).toBeGreaterThanOrEqual(1);

      const second = await startEmbeddedStack(options);
      running.push(second);
      // Every save came before the last snapshot: nothing for its journal to name.
      expect(await second.metrics.start()).toEqual({ loaded: 3, from: 'snapshot' });
      const t = wrapStack(second, controllableClock(second.clock.now()));
      // The quarter of its today, asked on the first day after it (figures come only from complete quarters).
      const today = second.clock.now().slice(0, 10);
      const query = { from: firstOfQuarter(today), to: lastOfQuarter(today), groupBy: [...DIMENSIONS] };
      await second.advanceClock(Date.parse(`${addDaysToDate(query.to, 1)}T10:00:00.000Z`) - Date.parse(second.clock.now()));
      const res = await t.call('GET', `/metrics?from=${query.from}&to=${query.to}&groupBy=${query.groupBy.join(',')}`, { token: t.commissioner });
      expect(res.status, res.text).toBe(200);
      const stored: PlanFacts[] = [];
      await new FactStore(second.plans.client, second.plans.tableName).loadEach((_planId, facts) => void stored.push(facts));
      const { asOf, ...served } = res.json as Json;
      const { asOf: _asOf, ...figures } = JSON.parse(JSON.stringify(referenceComputeMetrics(stored, query, { ...EXACT, asOf, providers: second.directory.organizations.map((o) => o.id) }))) as Json;
      const reference = { ...figures, periodRules: metricsPeriodRules(DEFAULT_METRICS_CONFIG) };
      expect(served.overall.referrals).toBe(3);
      expect(served).toEqual(reference);
      await second.stop();
      running.splice(running.indexOf(second), 1);
    } finally {
      await rm(advanceDir, { recursive: true, force: true });
    }
  });
});
