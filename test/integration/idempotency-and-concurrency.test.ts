/**
 * Retries and races over real HTTP: a retried request (same Idempotency-Key) returns the first
 * result and changes nothing; commands racing on one plan are each applied once or refused with
 * 409, never lost.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consent, planInStage, referral, scanTable, startTestStack, type AllocationJson, type HistoryItemJson, type TestStack } from '../support/http.ts';

let t: TestStack;

beforeAll(async () => {
  t = await startTestStack();
});
afterAll(async () => {
  await t?.stop();
});

const getPlan = async (planId: string) => (await t.call('GET', `/plans/${planId}`, { token: t.coordinator })).json;
const historyLength = async (planId: string) => (await t.call('GET', `/plans/${planId}/history`, { token: t.coordinator })).json.items.length as number;

/** An active plan with one accepted allocation; returns the plan id and the accepted allocation. */
async function activePlan() {
  const plan = await planInStage(t, 'allocating', [{ domain: 'mental-health', level: 'high', priority: true }]);
  const offer = plan.allocations.find((a) => a.status === 'offered') as AllocationJson;
  const accepted = await t.call('POST', `/allocations/${offer.allocationId}/accept`, { token: t.provider(offer.providerId), body: {} });
  expect(accepted.status).toBe(200);
  const now = await getPlan(plan.planId);
  expect(now.stage).toBe('active');
  return { planId: plan.planId as string, allocation: offer as { allocationId: string; providerId: string } };
}

describe('Idempotency-Key', () => {
  it('a retried referral returns the first plan with the same status and version, and creates nothing', async () => {
    const key = 'refer-2f9c1e';
    const first = await t.call('POST', '/plans', { token: t.coordinator, body: referral(), headers: { 'idempotency-key': key } });
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const before = await scanTable(t.stack);

    const retry = await t.call('POST', '/plans', { token: t.coordinator, body: referral(), headers: { 'idempotency-key': key } });
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.json.planId).toBe(first.json.planId);
    expect(retry.json.version).toBe(first.json.version);
    expect(retry.headers.get('location')).toBe(`/plans/${first.json.planId}`);
    // Not a second plan, not a second identity record, not a second event: the store is as it was.
    expect(await scanTable(t.stack)).toEqual(before);
    expect(await historyLength(first.json.planId)).toBe(1);
  });

  it('a retried plan command returns the first result and is applied once', async () => {
    const plan = await planInStage(t, 'referred');
    const key = 'consent-7d41';
    const body = consent(t.clock.today());
    const first = await t.call('POST', `/plans/${plan.planId}/record-consent`, { token: t.coordinator, body, headers: { 'Idempotency-Key': key } });
    expect(first.status).toBe(200);
    expect(first.json.version).toBe(2);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const history = await historyLength(plan.planId);
    const before = await scanTable(t.stack);

    const retry = await t.call('POST', `/plans/${plan.planId}/record-consent`, { token: t.coordinator, body, headers: { 'Idempotency-Key': key } });
    expect(retry.status).toBe(200);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.json.planId).toBe(plan.planId);
    expect(retry.json.version).toBe(first.json.version);
    expect(retry.json.stage).toBe('assessment');
    expect(await scanTable(t.stack)).toEqual(before);
    expect(await historyLength(plan.planId)).toBe(history);
    expect((await getPlan(plan.planId)).version).toBe(2);
  });

  it('a retried provider command (same key) records one contact, not two', async () => {
    const { planId, allocation } = await activePlan();
    const start = await getPlan(planId);
    const body = { date: t.clock.today(), kind: 'attended' };
    const headers = { 'idempotency-key': 'contact-0001' };
    const token = t.provider(allocation.providerId);
    const first = await t.call('POST', `/allocations/${allocation.allocationId}/record-contact`, { token, body, headers });
    const retry = await t.call('POST', `/allocations/${allocation.allocationId}/record-contact`, { token, body, headers });
    expect(first.status).toBe(200);
    expect(retry.status).toBe(200);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.json.contacts).toEqual(first.json.contacts);
    const after = await getPlan(planId);
    expect(after.contacts).toHaveLength(1);
    expect(after.version).toBe(start.version + 1);
  });

  it.todo(
    'a retry after the plan has moved on still returns the first result (bug: the replay body is the current plan view, so `version` is the latest version, not the one the retried command produced — functions/api-commands/handler.ts commandResponse ignores state.replay.version)',
  );

  it('the same key with a different body is refused with 422 and changes nothing', async () => {
    const referKey = 'refer-reused';
    const created = await t.call('POST', '/plans', { token: t.coordinator, body: referral(), headers: { 'idempotency-key': referKey } });
    expect(created.status).toBe(201);
    let before = await scanTable(t.stack);
    const otherReferral = referral({ referral: { source: 'probation', localAuthority: 'coventry', urgency: 'urgent' } });
    const reused = await t.call('POST', '/plans', { token: t.coordinator, body: otherReferral, headers: { 'idempotency-key': referKey } });
    expect(reused.status).toBe(422);
    expect(reused.headers.get('content-type')).toBe('application/problem+json');
    expect(reused.json).toMatchObject({ status: 422 });
    expect(reused.json.errors).toContainEqual(expect.objectContaining({ path: 'Idempotency-Key' }));
    expect(await scanTable(t.stack)).toEqual(before);

    const planId = created.json.planId as string;
    const key = 'consent-reused';
    const ok = await t.call('POST', `/plans/${planId}/record-consent`, { token: t.coordinator, body: consent(t.clock.today()), headers: { 'idempotency-key': key } });
    expect(ok.status).toBe(200);
    before = await scanTable(t.stack);
    const different = { ...consent(t.clock.today()), method: 'verbal' };
    const res = await t.call('POST', `/plans/${planId}/record-consent`, { token: t.coordinator, body: different, headers: { 'idempotency-key': key } });
    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.json.detail).toContain(key);
    expect(await scanTable(t.stack)).toEqual(before);
    expect((await getPlan(planId)).consent.method).toBe('written');
  });
});

describe('concurrent retries of one referral', () => {
  it('the same key sent three times at once creates one plan, one identity record and one event', async () => {
    const countOf = (items: Record<string, unknown>[], type: string) => items.filter((i) => i.type === type).length;
    const before = await scanTable(t.stack);
    const headers = { 'idempotency-key': 'double-click-1' };
    const responses = await Promise.all([1, 2, 3].map(() => t.call('POST', '/plans', { token: t.coordinator, body: referral(), headers })));
    for (const r of responses) expect([201, 409], r.text).toContain(r.status);
    const created = responses.filter((r) => r.status === 201);
    expect(created.length).toBeGreaterThanOrEqual(1);
    expect(new Set(created.map((r) => r.json.planId)).size).toBe(1);
    const after = await scanTable(t.stack);
    expect(countOf(after, 'plan') - countOf(before, 'plan')).toBe(1);
    expect(countOf(after, 'identity') - countOf(before, 'identity')).toBe(1);
    expect(await historyLength(created[0]?.json.planId)).toBe(1);
    // A later retry gets the first result.
    const late = await t.call('POST', '/plans', { token: t.coordinator, body: referral(), headers });
    expect(late.status).toBe(201);
    expect(late.headers.get('idempotent-replayed')).toBe('true');
    expect(late.json.planId).toBe(created[0]?.json.planId);
  });

  it.todo(
    "concurrent referrals with the same key but different participants keep the identity of the referral that created the plan (bug: functions/api-commands/handler.ts refer() calls putIdentity unconditionally before the workflow, so a racing request that is then refused with 409/422 overwrites the created plan's identity — the 201 for 'Alice' reads back as 'Clara')",
  );
});

describe('concurrent commands on one plan', () => {
  it('each is applied once or refused with 409: nothing is lost and nothing is doubled', async () => {
    const { planId, allocation } = await activePlan();
    const start = await getPlan(planId);
    const token = t.provider(allocation.providerId);
    const N = 10;
    const responses = await Promise.all(
      Array.from({ length: N }, (_, i) =>
        t.call('POST', `/allocations/${allocation.allocationId}/record-contact`, { token, body: { date: t.clock.today(), kind: i % 2 === 0 ? 'attended' : 'missed' } }),
      ),
    );
    const statuses = responses.map((r) => r.status);
    for (const r of responses) {
      expect([200, 409], r.text).toContain(r.status);
      if (r.status === 409) expect(r.headers.get('content-type')).toBe('application/problem+json');
    }
    const applied = statuses.filter((s) => s === 200).length;
    const refused = statuses.filter((s) => s === 409).length;
    expect(applied).toBeGreaterThanOrEqual(1);
    // If the runner serialised commands this would be 0; it does not, so racing writers must lose visibly.
    expect(refused, `statuses: ${statuses.join(',')}`).toBeGreaterThanOrEqual(1);

    const end = await getPlan(planId);
    expect(end.contacts).toHaveLength(applied);
    expect(end.version).toBe(start.version + applied);
    // Each applied response saw its own write: distinct versions, the last one is the plan's.
    const versions = responses.filter((r) => r.status === 200).map((r) => r.json.contacts.length as number);
    expect(new Set(versions).size).toBe(applied);
    // The history has one contact event per applied command, in strictly increasing sequence.
    const items = (await t.call('GET', `/plans/${planId}/history`, { token: t.coordinator })).json.items as HistoryItemJson[];
    expect(items.filter((e) => e.type === 'contact.recorded.v1')).toHaveLength(applied);
    const sequences = items.map((e) => e.sequence);
    expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
    expect(new Set(sequences).size).toBe(sequences.length);

    // A refused client reloads and retries: then it goes through.
    const retry = await t.call('POST', `/allocations/${allocation.allocationId}/record-contact`, { token, body: { date: t.clock.today(), kind: 'cancelled', expectedVersion: end.version } });
    expect(retry.status).toBe(200);
    expect((await getPlan(planId)).version).toBe(end.version + 1);
  });

  it('a command made against a stale version is refused with 409 and not applied', async () => {
    const { planId, allocation } = await activePlan();
    const start = await getPlan(planId);
    const stale = await t.call('POST', `/plans/${planId}/record-review`, {
      token: t.coordinator,
      body: { scores: { 'mental-health': 5 }, outcome: 'continue', expectedVersion: start.version - 1 },
    });
    expect(stale.status).toBe(409);
    expect(stale.headers.get('content-type')).toBe('application/problem+json');
    expect(stale.json.detail).toContain(String(start.version));
    const unchanged = await getPlan(planId);
    expect(unchanged.version).toBe(start.version);
    expect(unchanged.reviews).toEqual([]);

    const providerStale = await t.call('POST', `/allocations/${allocation.allocationId}/record-contact`, {
      token: t.provider(allocation.providerId),
      body: { date: t.clock.today(), kind: 'attended', expectedVersion: start.version + 5 },
    });
    expect(providerStale.status).toBe(409);
    expect((await getPlan(planId)).contacts).toEqual([]);

    const current = await t.call('POST', `/plans/${planId}/record-review`, {
      token: t.coordinator,
      body: { scores: { 'mental-health': 5 }, outcome: 'continue', expectedVersion: start.version },
    });
    expect(current.status).toBe(200);
    expect(current.json.version).toBe(start.version + 1);
  });
});
