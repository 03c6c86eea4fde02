/**
 * GET /providers/{id}/feed gives her needs and their levels (the offer's event), so each page read is
 * on the audit record, as the allocations list is: one record per page, naming the provider and the
 * action, found by a team lead in GET /audit. A bad cursor is refused before anything is recorded.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planInStage, startTestStack, type Json, type TestStack } from '../support/http.ts';

let t: TestStack;

beforeAll(async () => {
  t = await startTestStack({ feedSettleMs: 0, webDistDir: false });
});
afterAll(async () => {
  await t?.stop();
});

async function feedRecords(providerId: string): Promise<Json[]> {
  const res = await t.call('GET', `/audit?from=${t.clock.today()}&to=${t.clock.today()}&limit=1000`, { token: t.teamLead });
  expect(res.status, res.text).toBe(200);
  return res.json.items.filter((r: Json) => r.action === 'read-provider-feed' && r.providerId === providerId);
}

describe('the provider feed is audited', () => {
  it('each page read leaves one record naming the provider and the action; a team lead finds it in GET /audit', async () => {
    const needs = [{ domain: 'domestic-abuse', level: 'high', priority: true }];
    const plan = await planInStage(t, 'allocating', needs);
    const providerId = plan.allocations[0]!.providerId;
    // A second offer to the same provider: a page of two events is still one read.
    expect((await planInStage(t, 'allocating', needs)).allocations[0]!.providerId).toBe(providerId);
    const token = t.provider(providerId);
    expect(await feedRecords(providerId)).toEqual([]);

    const page = await t.call('GET', `/providers/${providerId}/feed?limit=500`, { token });
    expect(page.status, page.text).toBe(200);
    const offer = page.json.items.find((e: Json) => e.type === 'allocation.offered.v1' && e.subject === plan.planId);
    expect(offer.data.needs).toEqual([{ domain: 'domestic-abuse', level: 'high' }]);
    expect(page.json.items.filter((e: Json) => e.type === 'allocation.offered.v1')).toHaveLength(2);

    const records = await feedRecords(providerId);
    expect(records).toEqual([expect.objectContaining({ action: 'read-provider-feed', role: 'provider', providerId, why: 'delivering-the-allocated-service' })]);
    expect(records[0].planId).toBeUndefined();

    // Page by page: one record for each page read, the X-Purpose header's reason when it is sent.
    const first = await t.call('GET', `/providers/${providerId}/feed?limit=1`, { token, headers: { 'x-purpose': 'answering-offers' } });
    expect(first.status, first.text).toBe(200);
    const second = await t.call('GET', `/providers/${providerId}/feed?limit=1&after=${encodeURIComponent(first.json.cursor)}`, { token });
    expect(second.status, second.text).toBe(200);
    expect((await feedRecords(providerId)).map((r: Json) => r.why).sort()).toEqual(['answering-offers', 'delivering-the-allocated-service', 'delivering-the-allocated-service']);

    // A cursor it never gave: a 400 naming it, and nothing recorded.
    const bad = await t.call('GET', `/providers/${providerId}/feed?after=not-a-cursor`, { token });
    expect(bad.status).toBe(400);
    expect(bad.json.errors).toEqual([expect.objectContaining({ path: 'after' })]);
    expect(await feedRecords(providerId)).toHaveLength(3);
  });

  it('an empty page (a poll with nothing new) gives nothing and leaves no record; the next page with something does', async () => {
    const plan = await planInStage(t, 'allocating', [{ domain: 'domestic-abuse', level: 'medium', priority: true }]);
    const providerId = plan.allocations[0]!.providerId;
    const token = t.provider(providerId);
    const all = await t.call('GET', `/providers/${providerId}/feed?limit=500`, { token });
    expect(all.status, all.text).toBe(200);
    expect(all.json.items.length).toBeGreaterThan(0);
    const recorded = (await feedRecords(providerId)).length;

    // A provider polling every 10 s with its last cursor: a record per poll would be 8,640 a day.
    for (let i = 0; i < 3; i++) {
      const poll = await t.call('GET', `/providers/${providerId}/feed?after=${encodeURIComponent(all.json.cursor)}`, { token });
      expect(poll.status, poll.text).toBe(200);
      expect(poll.json.items).toEqual([]);
    }
    expect(await feedRecords(providerId)).toHaveLength(recorded);

    // Something new for it: the poll that gives it is recorded.
    await planInStage(t, 'allocating', [{ domain: 'domestic-abuse', level: 'medium', priority: true }]);
    const next = await t.call('GET', `/providers/${providerId}/feed?after=${encodeURIComponent(all.json.cursor)}`, { token });
    expect(next.status, next.text).toBe(200);
    expect(next.json.items.length).toBeGreaterThan(0);
    expect(await feedRecords(providerId)).toHaveLength(recorded + 1);
  });
});
