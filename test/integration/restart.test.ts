/**
 * The embedded stack keeps its data on disk: stopped and started again on the same data directory,
 * every plan is where it was, and the tokens people already hold still work.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedStack } from '../../lib/local/embedded-stack.ts';
import { anotherParticipant, consent, controllableClock, planInStage, referral, scanTable, START, wrapStack, type AllocationJson, type Json, type PlanSummaryJson, type TestStack } from '../support/http.ts';

describe('restarting on the same data directory', () => {
  let dataDir: string;
  const clock = controllableClock(START);
  let running: TestStack | undefined;

  const start = async () => wrapStack(await startEmbeddedStack({ inMemory: false, dataDir, port: 0, sweepIntervalMs: 0, clock }), clock);

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'wraparound-restart-'));
  });
  afterAll(async () => {
    await running?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('finds every plan in the same stage and version, and accepts tokens issued before the restart', async () => {
    running = await start();
    const first = running;
    const referred = await planInStage(first, 'referred');
    const assessment = await planInStage(first, 'assessment');
    const allocating = await planInStage(first, 'allocating', [{ domain: 'mental-health', level: 'high', priority: true }]);
    const offer = allocating.allocations[0] as AllocationJson;
    // One plan goes on to active, so the stages differ and a provider's token matters too.
    const accepted = await first.call('POST', `/allocations/${offer.allocationId}/accept`, { token: first.provider(offer.providerId), body: {} });
    expect(accepted.status).toBe(200);

    const ids = [referred.planId, assessment.planId, allocating.planId] as string[];
    const before = new Map<string, Json>();
    for (const id of ids) before.set(id, (await first.call('GET', `/plans/${id}`, { token: first.coordinator })).json);
    expect([...before.values()].map((p) => p.stage)).toEqual(['referred', 'assessment', 'active']);
    const historyBefore = (await first.call('GET', `/plans/${allocating.planId}/history`, { token: first.coordinator })).json.items;
    const coordinatorToken = first.coordinator;
    const providerToken = first.provider(offer.providerId);

    await first.stop();
    running = undefined;
    // The old port is closed: nothing answers for the stopped stack.
    await expect(fetch(`${first.url}/health`)).rejects.toThrow();

    running = await start();
    const second = running;
    for (const id of ids) {
      // The token issued by the first run, not one the second run printed.
      const res = await second.call('GET', `/plans/${id}`, { token: coordinatorToken });
      expect(res.status, res.text).toBe(200);
      const was = before.get(id);
      expect(res.json.stage).toBe(was.stage);
      expect(res.json.version).toBe(was.version);
      expect(res.json.allocations).toEqual(was.allocations);
      expect(res.json.deadlines).toEqual(was.deadlines);
      // Identity, stored apart from the plan, survives too.
      expect(res.json.participant).toEqual(was.participant);
    }
    const historyAfter = (await second.call('GET', `/plans/${allocating.planId}/history`, { token: coordinatorToken })).json.items;
    expect(historyAfter).toEqual(historyBefore);

    // The worklist (a secondary index) was persisted as well.
    const worklist = await second.call('GET', '/plans?stage=assessment', { token: coordinatorToken });
    expect((worklist.json.items as PlanSummaryJson[]).map((p) => p.planId)).toContain(assessment.planId);

    // A provider's earlier token still works, and the plan takes new commands where it left off.
    const contact = await second.call('POST', `/allocations/${offer.allocationId}/record-contact`, { token: providerToken, body: { date: clock.today(), kind: 'attended' } });
    expect(contact.status, contact.text).toBe(200);
    const moved = await second.call('GET', `/plans/${allocating.planId}`, { token: coordinatorToken });
    expect(moved.json.version).toBe(before.get(allocating.planId).version + 1);

    // A token signed with some other secret is still refused: the secret came from the data dir, not from "anything goes".
    const stranger = await startEmbeddedStack({ inMemory: true, port: 0, sweepIntervalMs: 0, clock });
    try {
      const foreign = stranger.demoUsers.find((u) => u.role === 'coordinator')?.token as string;
      const refused = await second.call('GET', `/plans/${referred.planId}`, { token: foreign });
      expect(refused.status).toBe(401);
    } finally {
      await stranger.stop();
    }
  });

  it('answers a retry sent after the restart with the response kept before it', async () => {
    running ??= await start();
    const before = running;
    const body = referral({ participant: anotherParticipant() });
    const headers = { 'idempotency-key': 'refer-across-restart' };
    const first = await before.call('POST', '/plans', { token: before.coordinator, body, headers });
    expect(first.status, first.text).toBe(201);
    const consented = await before.call('POST', `/plans/${first.json.planId}/record-consent`, {
      token: before.coordinator,
      body: consent(clock.today()),
      headers: { 'idempotency-key': 'consent-across-restart' },
    });
    expect(consented.status, consented.text).toBe(200);
    const coordinatorToken = before.coordinator;
    await before.stop();
    running = undefined;

    running = await start();
    const after = running;
    const stored = await scanTable(after.stack);
    const retry = await after.call('POST', '/plans', { token: coordinatorToken, body, headers });
    expect(retry.status, retry.text).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.json).toEqual(first.json);
    const consentRetry = await after.call('POST', `/plans/${first.json.planId}/record-consent`, {
      token: coordinatorToken,
      body: consent(clock.today()),
      headers: { 'idempotency-key': 'consent-across-restart' },
    });
    expect(consentRetry.status, consentRetry.text).toBe(200);
    expect(consentRetry.headers.get('idempotent-replayed')).toBe('true');
    expect(consentRetry.json).toEqual(consented.json);
    expect(await scanTable(after.stack)).toEqual(stored);
  });
});

describe('a crash after a periodic metrics snapshot', () => {
  let dataDir: string;
  const clock = controllableClock(START);
  const running: TestStack[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'wraparound-periodic-snapshot-'));
  });
  afterAll(async () => {
    for (const t of running) await t.stop().catch(() => undefined);
    await rm(dataDir, { recursive: true, force: true });
  });

  /** The stack on the data directory; `tick` takes the periodic snapshot when the test says (the timer, injected). */
  const start = async () => {
    let tick: (() => Promise<boolean>) | undefined;
    const t = wrapStack(
      await startEmbeddedStack({
        inMemory: false,
        dataDir,
        port: 0,
        sweepIntervalMs: 0,
        clock,
        // Exact figures, so one plan more or less shows.
        metrics: { roundCountsTo: 1, suppressionThreshold: 1 },
        metricsSnapshots: { everyMs: 60_000, schedule: (periodic) => ((tick = periodic), () => {}) },
      }),
      clock,
    );
    running.push(t);
    return { t, tick: () => (tick as () => Promise<boolean>)() };
  };
  const figures = async (t: TestStack) => {
    // Figures come only from complete quarters: asked once the first quarter of 2026 is over.
    if (clock.today() < '2026-04-01') clock.set('2026-04-01T10:00:00.000Z');
    const res = await t.call('GET', '/metrics?from=2026-01-01&to=2026-03-31&groupBy=localAuthority,referralSource,needDomain,provider', { token: t.commissioner });
    expect(res.status, res.text).toBe(200);
    const { asOf: _asOf, ...rest } = res.json as Json;
    return rest;
  };
  /** A crash: everything stops, but not cleanly for the metrics (no last snapshot, the journal left as it was). */
  const crash = async (t: TestStack) => {
    t.stack.metrics.saveFinalSnapshot = async () => false;
    await t.stop();
    running.splice(running.indexOf(t), 1);
  };

  it('starts from the snapshot and the fact items written after it, with the figures a full load gives', async () => {
    const { t: first, tick } = await start();
    for (const stage of ['referred', 'assessment', 'allocating', 'allocating'] as const) await planInStage(first, stage);
    expect(await tick()).toBe(true);
    // After the snapshot: two new plans, and one of the earlier ones moved on.
    const late = await planInStage(first, 'referred');
    await planInStage(first, 'allocating');
    const consented = await first.call('POST', `/plans/${late.planId}/record-consent`, { token: first.coordinator, body: consent('2026-03-02') });
    expect(consented.status, consented.text).toBe(200);
    const before = await figures(first);
    expect((before.overall as Json).referrals).toBe(6);
    await crash(first);

    const { t: second } = await start();
    expect(await second.stack.metrics.start()).toEqual({ loaded: 6, from: 'snapshot', changedSince: 2 });
    expect(await figures(second)).toEqual(before);
    await crash(second);

    // The same data read the long way (no snapshot named: the marker was cleared by the start above).
    const { t: third } = await start();
    expect((await third.stack.metrics.start()).from).toBe('fact-items');
    expect(await figures(third)).toEqual(before);
  });
});
