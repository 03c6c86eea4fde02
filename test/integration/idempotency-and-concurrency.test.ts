/**
 * Retries and races over real HTTP: a retried request (same Idempotency-Key) returns the first
 * result and changes nothing; commands racing on one plan are each applied once or refused with
 * 409, never lost.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anotherParticipant, consent, planInStage, referral, scanTable, startTestStack, type AllocationJson, type HistoryItemJson, type TestStack } from '../support/http.ts';

let t: TestStack;

beforeAll(async () => {
  t = await startTestStack();
});
afterAll(async () => {
  await t?.stop();
});

const getPlan = async (planId: string) => (await t.call('GET', `/plans/${planId}`, { token: t.coordinator })).json;
const historyLength = async (planId: string) => (await t.call('GET', `/plans/${planId}/history`, { token: t.coordinator })).json.items.length as number;
const KEY_REUSED = { path: 'Idempotency-Key', message: 'already used for a different request' };

/** Identity records in the table that no plan references. */
function orphanIdentities(items: Record<string, unknown>[]): string[] {
  const referenced = new Set(items.filter((i) => i.type === 'plan').map((i) => `PARTICIPANT#${i.participantId as string}`));
  return items.map((i) => String(i.pk)).filter((pk) => pk.startsWith('PARTICIPANT#') && !referenced.has(pk));
}
const identityItems = (items: Record<string, unknown>[]) => items.filter((i) => String(i.pk).startsWith('PARTICIPANT#'));

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
    const body = referral({ participant: anotherParticipant() });
    const first = await t.call('POST', '/plans', { token: t.coordinator, body, headers: { 'idempotency-key': key } });
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(first.headers.get('location')).toBe(`/plans/${first.json.planId}`);
    const before = await scanTable(t.stack);

    const retry = await t.call('POST', '/plans', { token: t.coordinator, body, headers: { 'idempotency-key': key } });
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.headers.get('content-type')).toBe('application/json');
    expect(retry.json.planId).toBe(first.json.planId);
    expect(retry.json.version).toBe(first.json.version);
    // Exactly the first answer, the identity included.
    expect(retry.json).toEqual(first.json);
    expect(retry.json.participant).toEqual(body.participant);
    // Not a second plan, not a second identity record, not a second event: the store is as it was.
    expect(await scanTable(t.stack)).toEqual(before);
    expect(await historyLength(first.json.planId)).toBe(1);
  });

  it('a retried referral answered from the stored response carries the same Location as the first answer', async () => {
    const key = 'refer-location-1';
    const body = referral({ participant: anotherParticipant() });
    const first = await t.call('POST', '/plans', { token: t.coordinator, body, headers: { 'idempotency-key': key } });
    const retry = await t.call('POST', '/plans', { token: t.coordinator, body, headers: { 'idempotency-key': key } });
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.headers.get('location')).toBe(first.headers.get('location'));
    expect(retry.headers.get('location')).toBe(`/plans/${first.json.planId}`);
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
    expect(retry.json).toEqual(first.json);
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
    expect(retry.json).toEqual(first.json);
    const after = await getPlan(planId);
    expect(after.contacts).toHaveLength(1);
    expect(after.version).toBe(start.version + 1);
  });

  it('a retry after the plan has moved on still returns the first result: its version and stage, not the current ones', async () => {
    const referBody = referral({ participant: anotherParticipant() });
    const referHeaders = { 'idempotency-key': 'refer-moved-on' };
    const referred = await t.call('POST', '/plans', { token: t.coordinator, body: referBody, headers: referHeaders });
    expect(referred.status).toBe(201);
    const planId = referred.json.planId as string;
    const consentBody = consent(t.clock.today());
    const consentHeaders = { 'idempotency-key': 'consent-moved-on' };
    const consented = await t.call('POST', `/plans/${planId}/record-consent`, { token: t.coordinator, body: consentBody, headers: consentHeaders });
    expect(consented.status).toBe(200);
    expect(consented.json).toMatchObject({ stage: 'assessment', version: 2 });
    const assessed = await t.call('POST', `/plans/${planId}/submit-assessment`, { token: t.coordinator, body: { needs: [{ domain: 'mental-health', level: 'high', priority: true }] } });
    expect(assessed.status).toBe(200);
    expect(assessed.json.stage).toBe('allocating');
    expect(assessed.json.version).toBeGreaterThan(2);
    const before = await scanTable(t.stack);
    const history = await historyLength(planId);

    const consentRetry = await t.call('POST', `/plans/${planId}/record-consent`, { token: t.coordinator, body: consentBody, headers: consentHeaders });
    expect(consentRetry.status).toBe(200);
    expect(consentRetry.headers.get('idempotent-replayed')).toBe('true');
    expect(consentRetry.json).toMatchObject({ planId, stage: 'assessment', version: 2 });
    expect(consentRetry.json).toEqual(consented.json);

    const referRetry = await t.call('POST', '/plans', { token: t.coordinator, body: referBody, headers: referHeaders });
    expect(referRetry.status).toBe(201);
    expect(referRetry.headers.get('idempotent-replayed')).toBe('true');
    expect(referRetry.json).toMatchObject({ planId, stage: 'referred', version: 1 });
    expect(referRetry.json).toEqual(referred.json);

    // Neither retry changed anything: the plan is where the assessment left it.
    expect(await scanTable(t.stack)).toEqual(before);
    expect(await historyLength(planId)).toBe(history);
    expect(await getPlan(planId)).toMatchObject({ stage: 'allocating', version: assessed.json.version });
  });

  it('the same key with a different body, or for another participant, is refused with 422 and changes nothing', async () => {
    const referKey = 'refer-reused';
    const body = referral({ participant: anotherParticipant() });
    const created = await t.call('POST', '/plans', { token: t.coordinator, body, headers: { 'idempotency-key': referKey } });
    expect(created.status).toBe(201);
    let before = await scanTable(t.stack);
    const otherReferral = { ...body, referral: { source: 'probation', localAuthority: 'coventry', urgency: 'urgent' } };
    const reused = await t.call('POST', '/plans', { token: t.coordinator, body: otherReferral, headers: { 'idempotency-key': referKey } });
    expect(reused.status).toBe(422);
    expect(reused.headers.get('content-type')).toBe('application/problem+json');
    expect(reused.json).toMatchObject({ status: 422 });
    expect(reused.json.errors).toEqual([KEY_REUSED]);
    expect(await scanTable(t.stack)).toEqual(before);

    // The participant is not in the fingerprint, but is compared with the plan's identity record.
    const someoneElse = { ...body, participant: { givenName: 'Philippa', familyName: 'Garside-Moult', dateOfBirth: '1983-09-30' } };
    const otherPerson = await t.call('POST', '/plans', { token: t.coordinator, body: someoneElse, headers: { 'idempotency-key': referKey } });
    expect(otherPerson.status).toBe(422);
    expect(otherPerson.headers.get('content-type')).toBe('application/problem+json');
    expect(otherPerson.json.errors).toEqual([KEY_REUSED]);
    // Refusing must not tell the caller who the key's plan is about.
    expect(otherPerson.text).not.toContain(body.participant.familyName);
    expect(otherPerson.text).not.toContain(body.participant.dateOfBirth);
    expect(await scanTable(t.stack)).toEqual(before);
    expect((await getPlan(created.json.planId)).participant).toEqual(body.participant);

    const planId = created.json.planId as string;
    const key = 'consent-reused';
    const ok = await t.call('POST', `/plans/${planId}/record-consent`, { token: t.coordinator, body: consent(t.clock.today()), headers: { 'idempotency-key': key } });
    expect(ok.status).toBe(200);
    before = await scanTable(t.stack);
    const different = { ...consent(t.clock.today()), method: 'verbal' };
    const res = await t.call('POST', `/plans/${planId}/record-consent`, { token: t.coordinator, body: different, headers: { 'idempotency-key': key } });
    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.json.detail).toContain('Idempotency-Key');
    expect(res.json.errors).toEqual([KEY_REUSED]);
    expect(await scanTable(t.stack)).toEqual(before);
    expect((await getPlan(planId)).consent.method).toBe('written');
  });

  it("keys are the caller's own: another coordinator's request with the same key is not a replay", async () => {
    const other = await t.stack.tokens.issue({ role: 'coordinator', sub: 'coordinator-two' });
    const headers = { 'idempotency-key': 'shared-looking-key' };
    const mine = await t.call('POST', '/plans', { token: t.coordinator, body: referral({ participant: anotherParticipant() }), headers });
    const theirs = await t.call('POST', '/plans', { token: other, body: referral({ participant: anotherParticipant() }), headers });
    expect(mine.status).toBe(201);
    expect(theirs.status).toBe(201);
    expect(theirs.headers.get('idempotent-replayed')).toBeNull();
    expect(theirs.json.planId).not.toBe(mine.json.planId);
    // Each one's retry gets its own first answer.
    const myRetry = await t.call('POST', '/plans', { token: t.coordinator, body: referral({ participant: mine.json.participant }), headers });
    const theirRetry = await t.call('POST', '/plans', { token: other, body: referral({ participant: theirs.json.participant }), headers });
    expect(myRetry.json).toEqual(mine.json);
    expect(theirRetry.json).toEqual(theirs.json);
    expect([myRetry, theirRetry].map((r) => r.headers.get('idempotent-replayed'))).toEqual(['true', 'true']);
  });
});

describe('concurrent retries of one referral', () => {
  it('the same key sent three times at once creates one plan, one identity record and one event', async () => {
    const countOf = (items: Record<string, unknown>[], type: string) => items.filter((i) => i.type === type).length;
    const before = await scanTable(t.stack);
    const headers = { 'idempotency-key': 'double-click-1' };
    const body = referral({ participant: anotherParticipant() });
    const responses = await Promise.all([1, 2, 3].map(() => t.call('POST', '/plans', { token: t.coordinator, body, headers })));
    for (const r of responses) expect([201, 409], r.text).toContain(r.status);
    const created = responses.filter((r) => r.status === 201);
    expect(created.length).toBeGreaterThanOrEqual(1);
    expect(new Set(created.map((r) => r.json.planId)).size).toBe(1);
    const after = await scanTable(t.stack);
    expect(countOf(after, 'plan') - countOf(before, 'plan')).toBe(1);
    expect(countOf(after, 'identity') - countOf(before, 'identity')).toBe(1);
    expect(orphanIdentities(after)).toEqual([]);
    expect(await historyLength(created[0]?.json.planId)).toBe(1);
    // A later retry gets the first result.
    const late = await t.call('POST', '/plans', { token: t.coordinator, body, headers });
    expect(late.status).toBe(201);
    expect(late.headers.get('idempotent-replayed')).toBe('true');
    expect(late.json.planId).toBe(created[0]?.json.planId);
    expect(late.json.participant).toEqual(body.participant);
  });

  it('concurrent referrals with the same key but different participants keep the identity of the referral that created the plan', async () => {
    const surnames = ['Ashcombe', 'Birtwhistle', 'Cattermole', 'Dunwoody', 'Eversleigh'];
    for (const round of [1, 2, 3]) {
      const people = surnames.map((familyName, i) => ({ givenName: `Round${'abc'[round - 1]}`, familyName, dateOfBirth: `198${i}-0${round}-1${i}` }));
      const headers = { 'idempotency-key': `same-key-race-${round}` };
      const before = await scanTable(t.stack);
      const responses = await Promise.all(people.map((participant) => t.call('POST', '/plans', { token: t.coordinator, body: referral({ participant }), headers })));
      const statuses = responses.map((r) => r.status);

      // Exactly one referral created the plan; every other one was refused, as a conflict or as a reused key.
      const winners = statuses.flatMap((s, i) => (s === 201 ? [i] : []));
      expect(winners, `round ${round}: ${statuses.join(',')}`).toHaveLength(1);
      const w = winners[0]!;
      const created = responses[w]!;
      expect(created.headers.get('idempotent-replayed')).toBeNull();
      expect(created.json.participant).toEqual(people[w]);
      for (const [i, r] of responses.entries()) {
        if (i === w) continue;
        expect([409, 422], r.text).toContain(r.status);
        expect(r.headers.get('content-type')).toBe('application/problem+json');
        // A refused referral learns nothing about who the plan is for.
        expect(r.text).not.toContain(people[w]!.familyName);
      }

      // The plan's identity is the creating request's participant, read back apart from the plan.
      const planId = created.json.planId as string;
      expect((await getPlan(planId)).participant).toEqual(people[w]);
      expect(await historyLength(planId)).toBe(1);
      const after = await scanTable(t.stack);
      expect(orphanIdentities(after)).toEqual([]);
      const added = identityItems(after).filter((i) => !identityItems(before).some((b) => b.pk === i.pk));
      expect(added).toHaveLength(1);
      expect(added[0]).toMatchObject({ pk: `PARTICIPANT#${created.json.participantId}`, ...people[w] });

      // Afterwards the creator's retry is a replay; every other participant's is refused, changing nothing.
      const replay = await t.call('POST', '/plans', { token: t.coordinator, body: referral({ participant: people[w] }), headers });
      expect(replay.status).toBe(201);
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      expect(replay.json).toEqual(created.json);
      for (const [i, participant] of people.entries()) {
        if (i === w) continue;
        const retry = await t.call('POST', '/plans', { token: t.coordinator, body: referral({ participant }), headers });
        expect(retry.status).toBe(422);
        expect(retry.json.errors).toEqual([KEY_REUSED]);
      }
      expect(await scanTable(t.stack)).toEqual(after);
    }
  });
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

    // A refused client retries: then it goes through (a provider sends no expectedVersion: the plan's version is not shown to it).
    const retry = await t.call('POST', `/allocations/${allocation.allocationId}/record-contact`, { token, body: { date: t.clock.today(), kind: 'cancelled' } });
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

    // A provider cannot see the plan's version: its expectedVersion is refused (400 naming it), whatever the value, and never answered with the version.
    for (const expectedVersion of [start.version + 5, start.version]) {
      const fromProvider = await t.call('POST', `/allocations/${allocation.allocationId}/record-contact`, {
        token: t.provider(allocation.providerId),
        body: { date: t.clock.today(), kind: 'attended', expectedVersion },
      });
      expect(fromProvider.status, fromProvider.text).toBe(400);
      expect(fromProvider.json.errors).toEqual([{ path: 'expectedVersion', message: expect.stringContaining('not accepted from a provider') }]);
      expect(fromProvider.text).not.toContain(`version ${start.version}`);
    }
    expect((await getPlan(planId)).contacts).toEqual([]);

    const current = await t.call('POST', `/plans/${planId}/record-review`, {
      token: t.coordinator,
      body: { scores: { 'mental-health': 5 }, outcome: 'continue', expectedVersion: start.version },
    });
    expect(current.status).toBe(200);
    expect(current.json.version).toBe(start.version + 1);
  });
});
