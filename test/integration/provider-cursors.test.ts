/**
 * A cursor of one provider's pull feed or delivery log, or of another status filter of the log, is
 * a 400 naming the parameter and saying whose it is, as the worklists' cursors are: read on another
 * list it would start at a place among other entries. Nothing leaked before; a client is told plainly
 * it sent the wrong cursor. The provider's own cursor pages on as before. Over real HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedStack } from '../../lib/local/embedded-stack.ts';
import { anotherParticipant, consent, controllableClock, referral, scanTable, wrapStack, type Json, type TestStack } from '../support/http.ts';

let t: TestStack;
beforeAll(async () => {
  const clock = controllableClock('2026-03-02T10:00:00.000Z');
  // No delivery loop: deliveries stay pending in the log. No settle time: the feed shows what was just written.
  const stack = await startEmbeddedStack({ inMemory: true, port: 0, sweepIntervalMs: 0, clock, feedSettleMs: 0, webhooks: { intervalMs: 0 } });
  t = wrapStack(stack, clock);
  for (const providerId of ['bcwa', 'anawim']) {
    const subscribed = await t.call('POST', `/providers/${providerId}/subscriptions`, { token: t.teamLead, body: { url: `http://127.0.0.1:9/${providerId}` } });
    expect(subscribed.status, subscribed.text).toBe(201);
  }
  // Two plans, each offered to both (domestic abuse: bcwa; mental health: anawim): events in both feeds and logs.
  for (let i = 0; i < 2; i += 1) {
    const created = await t.call('POST', '/plans', { token: t.coordinator, body: referral({ participant: anotherParticipant() }) });
    expect(created.status, created.text).toBe(201);
    const planId = created.json.planId as string;
    expect((await t.call('POST', `/plans/${planId}/record-consent`, { token: t.coordinator, body: consent(t.clock.today()) })).status).toBe(200);
    const needs = ['domestic-abuse', 'mental-health'].map((domain) => ({ domain, level: 'high', priority: true }));
    const assessed = await t.call('POST', `/plans/${planId}/submit-assessment`, { token: t.coordinator, body: { needs } });
    expect(assessed.status, assessed.text).toBe(200);
    t.clock.advanceMs(1_000);
  }
}, 60_000);
afterAll(async () => {
  await t?.stop();
});

/** A request refused with a 400 naming `path`, that changes nothing; the message given. */
async function refusedNaming(path: string, url: string, token: string): Promise<string> {
  const before = await scanTable(t.stack);
  const res = await t.call('GET', url, { token });
  expect(res.status, res.text).toBe(400);
  expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
  expect(res.json.errors.map((e: Json) => e.path)).toEqual([path]);
  expect(await scanTable(t.stack)).toEqual(before);
  return res.json.errors[0].message as string;
}

describe("another provider's cursor", () => {
  it("the feed: bcwa's cursor on anawim's feed is a 400 naming after; anawim's own pages on", async () => {
    const bcwaPage = await t.call('GET', '/providers/bcwa/feed?limit=1', { token: t.provider('bcwa') });
    expect(bcwaPage.status, bcwaPage.text).toBe(200);
    expect(bcwaPage.json.more).toBe(true);
    const message = await refusedNaming('after', `/providers/anawim/feed?after=${bcwaPage.json.cursor}`, t.provider('anawim'));
    expect(message).toBe("belongs to another provider's feed (GET /providers/bcwa/feed), not anawim's: a cursor reads on only the feed that gave it; leave it out to start from the beginning");

    const anawim = t.provider('anawim');
    const whole = await t.call('GET', '/providers/anawim/feed?limit=500', { token: anawim });
    const first = await t.call('GET', '/providers/anawim/feed?limit=1', { token: anawim });
    const rest = await t.call('GET', `/providers/anawim/feed?limit=500&after=${first.json.cursor}`, { token: anawim });
    expect(rest.status, rest.text).toBe(200);
    expect([...first.json.items, ...rest.json.items].map((e: Json) => e.id)).toEqual(whole.json.items.map((e: Json) => e.id));
  });

  it("a feed cursor given before cursors named their feed is read as it always was", async () => {
    const anawim = t.provider('anawim');
    const first = await t.call('GET', '/providers/anawim/feed?limit=1', { token: anawim });
    const position = JSON.parse(Buffer.from(first.json.cursor as string, 'base64url').toString('utf8')) as unknown[];
    const older = Buffer.from(JSON.stringify(position.slice(0, 4))).toString('base64url');
    const fromOlder = await t.call('GET', `/providers/anawim/feed?limit=500&after=${older}`, { token: anawim });
    const fromNew = await t.call('GET', `/providers/anawim/feed?limit=500&after=${first.json.cursor}`, { token: anawim });
    expect(fromOlder.status, fromOlder.text).toBe(200);
    expect(fromOlder.json.items.map((e: Json) => e.id)).toEqual(fromNew.json.items.map((e: Json) => e.id));
  });

  it("the delivery log: bcwa's cursor on anawim's log, or with another status, is a 400 naming cursor; its own pages on", async () => {
    const bcwaPage = await t.call('GET', '/providers/bcwa/deliveries?limit=1', { token: t.teamLead });
    expect(bcwaPage.status, bcwaPage.text).toBe(200);
    const cursor = bcwaPage.json.nextCursor as string;
    expect(cursor).toEqual(expect.any(String));
    expect(await refusedNaming('cursor', `/providers/anawim/deliveries?cursor=${cursor}`, t.teamLead)).toBe(
      "belongs to another provider's delivery log (GET /providers/bcwa/deliveries), not GET /providers/anawim/deliveries (every status): a cursor pages on only the list that gave it; leave it out to start from the top",
    );
    expect(await refusedNaming('cursor', `/providers/bcwa/deliveries?status=pending&cursor=${cursor}`, t.teamLead)).toBe(
      'belongs to another filter, GET /providers/bcwa/deliveries (every status), not GET /providers/bcwa/deliveries?status=pending (only pending deliveries): read with another status it would skip deliveries; send it with the status it was given for, or leave it out to start from the top',
    );
    const whole = await t.call('GET', '/providers/bcwa/deliveries?limit=200', { token: t.teamLead });
    const rest = await t.call('GET', `/providers/bcwa/deliveries?limit=200&cursor=${cursor}`, { token: t.teamLead });
    expect(rest.status, rest.text).toBe(200);
    expect([...bcwaPage.json.items, ...rest.json.items].map((d: Json) => d.deliveryId)).toEqual(whole.json.items.map((d: Json) => d.deliveryId));
  });
});
