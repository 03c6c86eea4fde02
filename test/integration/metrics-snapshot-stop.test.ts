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
import { referenceComputeMetrics } from '../support/metrics-reference.ts';
import { anotherParticipant, consent, controllableClock, makeCall, planInStage, referral, START, wrapStack, type Json, type TestStack } from '../support/http.ts';

const EXACT = { roundCountsTo: 1, suppressionThreshold: 1 };
// Up to the stack's today (START): the API clamps a period to it.
const QUERY = { from: '2026-01-01', to: START.slice(0, 10), groupBy: [...DIMENSIONS] };

/** GET /metrics of the stack, and the same query worked out by the reference computation from every stored fact item. */
async function figuresAndStoredFacts(t: TestStack) {
  const res = await t.call('GET', `/metrics?from=${QUERY.from}&to=${QUERY.to}&groupBy=${QUERY.groupBy.join(',')}`, { token: t.commissioner });
  expect(res.status, res.text).toBe(200);
  const stored: PlanFacts[] = [];
  await new FactStore(t.stack.plans.client, t.stack.plans.tableName).loadEach((_planId, facts) => void stored.push(facts));
  const asOf = (res.json as Json).asOf as string;
  const reference = referenceComputeMetrics(stored, QUERY, { suppressionThreshold: EXACT.suppressionThreshold, roundCountsTo: EXACT.roundCountsTo, asOf, providers: t.stack.directory.organizations.map((o) => o.id) });
  return { served: res.json as Json, reference: JSON.parse(JSON.stringify(reference)) as Json, stored: stored.length };
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
});
