/**
 * Embedded webhook delivery and the pull feed, over real HTTP: a receiver on a free loopback port,
 * subscriptions managed by a team lead, Standard Webhooks signatures checked with the reference
 * library, retries with backoff then the dead letter, replay, the delivery log, 410 Gone, feed
 * pagination, and the refusals (each leaving the table exactly as it was).
 */
import { WebhookStore } from '../../lib/adapters/dynamodb/webhook-store.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startEmbeddedStack } from '../../lib/local/embedded-stack.ts';
import { LOCAL_AWS, startLocalStore } from '../../lib/local/dynalite-server.ts';
import { TABLE_NAME_DEFAULT } from '../../lib/adapters/dynamodb/table-definition.ts';
import { anotherParticipant, consent, controllableClock, referral, scanTable, wrapStack, type CallOptions, type CallResult, type Json, type TestStack } from '../support/http.ts';

// ---------------------------------------------------------------------------------------------
// A webhook receiver: records every request; answers what the test says, per path.

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

interface Receiver {
  url: string;
  received: Received[];
  answer: Map<string, number>;
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  const answer = new Map<string, number>();
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const path = req.url ?? '/';
    received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() });
    res.writeHead(answer.get(path) ?? 204);
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    answer,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

// ---------------------------------------------------------------------------------------------

const SCHEDULE = [30, 60, 120];
let t: TestStack;
let receiver: Receiver;

beforeAll(async () => {
  receiver = await startReceiver();
  const clock = controllableClock('2026-03-02T10:00:00.000Z');
  const stack = await startEmbeddedStack({
    inMemory: true,
    port: 0,
    sweepIntervalMs: 0,
    clock,
    // Entries written by this one process in sequence: no settle time needed to page the feed exactly.
    feedSettleMs: 0,
    // The test runs the delivery loop itself; no jitter, so the backoff can be measured.
    webhooks: { intervalMs: 0, retrySchedule: SCHEDULE, jitter: 'none', timeoutMs: 2_000 },
  });
  t = wrapStack(stack, clock);
});
afterAll(async () => {
  await t?.stop();
  await receiver?.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Run the delivery loop until `done` holds (or fail after a few seconds). */
async function deliverUntil(done: () => boolean | Promise<boolean>, what: string, limitMs = 5_000) {
  const until = Date.now() + limitMs;
  for (;;) {
    await t.stack.webhooks.runOnce();
    if (await done()) return;
    if (Date.now() > until) throw new Error(`the delivery loop did not get there: ${what}`);
    await sleep(10);
  }
}

/** Needs that only this provider covers in Birmingham, so the offers go where the test expects. */
const NEEDS_FOR: Record<string, string[]> = {
  bcwa: ['domestic-abuse'],
  'changing-lives': ['substance-misuse', 'physical-health', 'accommodation'],
  'green-square-accord': ['education-training-employment'],
  anawim: ['mental-health', 'trauma', 'interpersonal-skills'],
};

/** A plan in allocating whose offers all go to `providerId`; returns its id and the allocation ids. */
async function offeredTo(providerId: string): Promise<{ planId: string; allocationIds: string[] }> {
  const created = await t.call('POST', '/plans', { token: t.coordinator, body: referral({ participant: anotherParticipant() }) });
  expect(created.status, created.text).toBe(201);
  const planId = created.json.planId as string;
  expect((await t.call('POST', `/plans/${planId}/record-consent`, { token: t.coordinator, body: consent(t.clock.today()) })).status).toBe(200);
  const needs = (NEEDS_FOR[providerId] as string[]).map((domain) => ({ domain, level: 'high', priority: true }));
  const assessed = await t.call('POST', `/plans/${planId}/submit-assessment`, { token: t.coordinator, body: { needs } });
  expect(assessed.status, assessed.text).toBe(200);
  const allocations = assessed.json.allocations as { allocationId: string; providerId: string }[];
  expect(new Set(allocations.map((a) => a.providerId))).toEqual(new Set([providerId]));
  return { planId, allocationIds: allocations.map((a) => a.allocationId) };
}

async function accept(providerId: string, allocationId: string) {
  const res = await t.call('POST', `/allocations/${allocationId}/accept`, { token: t.provider(providerId), body: {} });
  expect(res.status, res.text).toBe(200);
}

/** The provider events of a plan, in order, from its history. */
async function providerEvents(planId: string, providerId: string): Promise<Json[]> {
  const history = await t.call('GET', `/plans/${planId}/history`, { token: t.coordinator });
  return (history.json.items as Json[]).filter((e) => e.providerId === providerId);
}

async function subscribe(providerId: string, path = `/${providerId}`): Promise<Json> {
  const res = await t.call('POST', `/providers/${providerId}/subscriptions`, { token: t.teamLead, body: { url: `${receiver.url}${path}` } });
  expect(res.status, res.text).toBe(201);
  return res.json;
}

const deliveriesOf = async (providerId: string, query = '') => {
  const res = await t.call('GET', `/providers/${providerId}/deliveries${query}`, { token: t.teamLead });
  expect(res.status, res.text).toBe(200);
  return res.json.items as Json[];
};

const receivedAt = (path: string) => receiver.received.filter((r) => r.path === path);

interface Problem {
  status: number;
  title: string;
  detail: string;
  errors?: { path: string; message: string }[];
}

/** A request that must be refused: its status, a problem+json body, and the table unchanged. */
async function refused(status: number, method: string, path: string, options: CallOptions = {}): Promise<CallResult<Problem>> {
  const before = await scanTable(t.stack);
  const res = await t.call<Problem>(method, path, options);
  const label = `${method} ${path} ${JSON.stringify(options.body) ?? ''}`;
  expect(res.status, `${label}: ${res.text}`).toBe(status);
  expect(res.headers.get('content-type'), label).toBe('application/problem+json');
  expect(res.json.status, label).toBe(status);
  expect(res.json.detail.length, label).toBeGreaterThan(0);
  expect(await scanTable(t.stack), `${label} changed the store`).toEqual(before);
  return res;
}

// ---------------------------------------------------------------------------------------------

describe('webhook subscriptions', () => {
  it('a team lead subscribes a provider: 201 with the secret, shown once; GET never shows it', async () => {
    const empty = await t.call('GET', '/providers/bcwa/subscriptions', { token: t.teamLead });
    expect(empty.status).toBe(200);
    expect(empty.json.items).toEqual([]);

    const created = await subscribe('bcwa');
    expect(created).toMatchObject({ providerId: 'bcwa', url: `${receiver.url}/bcwa`, status: 'active' });
    expect(created.subscriptionId).toMatch(/^sub_[a-f0-9]{24}$/);
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);

    for (const token of [t.teamLead, t.provider('bcwa')]) {
      const listed = await t.call('GET', '/providers/bcwa/subscriptions', { token });
      expect(listed.status).toBe(200);
      expect(listed.json.items).toEqual([{ subscriptionId: created.subscriptionId, providerId: 'bcwa', url: `${receiver.url}/bcwa`, status: 'active', createdAt: created.createdAt }]);
      expect(listed.text).not.toContain(created.secret.slice(6));
      expect(listed.text).not.toContain('secret');
    }
  });

  it('one active subscription per provider: a second is a 409 and changes nothing', async () => {
    const res = await refused(409, 'POST', '/providers/bcwa/subscriptions', { token: t.teamLead, body: { url: `${receiver.url}/elsewhere` } });
    expect(res.json.detail).toContain('already has an active webhook subscription');
    expect(res.json.errors?.map((e) => e.path)).toEqual(['url']);
  });

  it('deleting removes it (and its secret); subscribing again gives a new id and a new secret', async () => {
    const first = await subscribe('anawim', '/anawim-old');
    const removed = await t.call('DELETE', `/providers/anawim/subscriptions/${first.subscriptionId}`, { token: t.teamLead });
    expect(removed.status, removed.text).toBe(200);
    expect(removed.json).toMatchObject({ subscriptionId: first.subscriptionId, deleted: true, deadLettered: 0 });
    expect((await t.call('GET', '/providers/anawim/subscriptions', { token: t.teamLead })).json.items).toEqual([]);
    const table = JSON.stringify(await scanTable(t.stack));
    expect(table).not.toContain(first.secret);
    await refused(404, 'DELETE', `/providers/anawim/subscriptions/${first.subscriptionId}`, { token: t.teamLead });
    // anawim stays unsubscribed from here on: its events are in its feed only.
  });

  it('a retry with the same Idempotency-Key returns the first answer, secret included; another body with it is a 422', async () => {
    const key = { 'idempotency-key': 'subscribe-gsa-1' };
    const first = await t.call('POST', '/providers/green-square-accord/subscriptions', { token: t.teamLead, headers: key, body: { url: `${receiver.url}/green-square-accord` } });
    expect(first.status, first.text).toBe(201);
    const again = await t.call('POST', '/providers/green-square-accord/subscriptions', { token: t.teamLead, headers: key, body: { url: `${receiver.url}/green-square-accord` } });
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.json).toEqual(first.json);
    await refused(422, 'POST', '/providers/green-square-accord/subscriptions', { token: t.teamLead, headers: key, body: { url: `${receiver.url}/other` } });
  });
});

describe('signed delivery', () => {
  let secret: string;
  let planId: string;

  it('POSTs each provider event as a CloudEvent, signed per Standard Webhooks, in sequence order', async () => {
    const listed = await t.call('GET', '/providers/bcwa/subscriptions', { token: t.teamLead });
    expect(listed.json.items).toHaveLength(1);
    // The secret was shown once, at creation: read it from the store as the receiver's operator would have kept it.
    secret = (await t.stack.webhooks.store.activeSubscription('bcwa'))?.secret as string;
    const plan = await offeredTo('bcwa');
    planId = plan.planId;
    await accept('bcwa', plan.allocationIds[0] as string);
    const expected = await providerEvents(planId, 'bcwa');
    expect(expected.map((e) => e.type)).toEqual(['allocation.offered.v1', 'allocation.accepted.v1']);

    await deliverUntil(() => receivedAt('/bcwa').length >= 2, 'two bcwa events');
    const got = receivedAt('/bcwa');
    expect(got).toHaveLength(2);
    const webhook = new Webhook(secret);
    const bodies = got.map((r) => {
      expect(r.headers['content-type']).toBe('application/cloudevents+json; charset=utf-8');
      expect(r.headers['webhook-signature']).toMatch(/^v1,/);
      return webhook.verify(r.body, r.headers as Record<string, string>) as Json;
    });
    expect(bodies.map((b) => b.id)).toEqual(expected.map((e) => e.id));
    expect(got.map((r) => r.headers['webhook-id'])).toEqual(expected.map((e) => e.id));
    expect(bodies.map((b) => b.sequence)).toEqual(expected.map((e) => String(e.sequence).padStart(10, '0')));
    for (const body of bodies) expect(body).toMatchObject({ specversion: '1.0', source: 'wraparound', subject: planId, providerid: 'bcwa' });
  });

  it('the delivery log shows each delivered once, first time, and the provider reads its own log', async () => {
    const log = await deliveriesOf('bcwa', '?status=delivered');
    expect(log.map((d) => [d.planRef, d.eventType, d.status, d.attempts])).toEqual([
      [planId, 'allocation.offered.v1', 'delivered', 1],
      [planId, 'allocation.accepted.v1', 'delivered', 1],
    ]);
    expect(log[0].log).toEqual([expect.objectContaining({ outcome: 'delivered', statusCode: 204 })]);
    expect(log[0].deliveryId).toMatch(/^dl_[a-z0-9]+_[0-9]+$/);
    const own = await t.call('GET', '/providers/bcwa/deliveries', { token: t.provider('bcwa') });
    expect(own.status).toBe(200);
    expect(own.json.items).toEqual(await deliveriesOf('bcwa'));
    expect(await deliveriesOf('bcwa', '?status=dead')).toEqual([]);
  });

  it('republishing an event (the sweeper does) queues nothing twice', async () => {
    const events = (await t.stack.plans.history(planId)).filter((e) => e.providerId === 'bcwa');
    // The same events once more through the publisher, as a redelivery from the outbox would.
    const { WebhookPublisher } = await import('../../lib/local/webhooks/publisher.ts');
    await new WebhookPublisher(t.stack.webhooks.store).publish(events);
    await t.stack.webhooks.runOnce();
    expect(receivedAt('/bcwa')).toHaveLength(2);
    expect(await deliveriesOf('bcwa')).toHaveLength(2);
  });

  it('an unsubscribed provider gets no deliveries: its events are in its feed only', async () => {
    const { planId: anawimPlan } = await offeredTo('anawim');
    await t.stack.webhooks.runOnce();
    expect(await deliveriesOf('anawim')).toEqual([]);
    expect(receiver.received.filter((r) => r.path.startsWith('/anawim'))).toEqual([]);
    const feed = await t.call('GET', '/providers/anawim/feed', { token: t.provider('anawim') });
    expect(feed.status).toBe(200);
    expect(feed.json.items.map((e: Json) => e.subject)).toContain(anawimPlan);
  });
});

describe('retries, dead letter, replay', () => {
  let planId: string;
  let deliveryId: string;

  it('a failing receiver is retried on the schedule, then the delivery is dead-lettered; the plan waits in its lane', async () => {
    await subscribe('changing-lives');
    receiver.answer.set('/changing-lives', 503);
    const plan = await offeredTo('changing-lives');
    planId = plan.planId;
    await accept('changing-lives', plan.allocationIds[0] as string);
    const events = await providerEvents(planId, 'changing-lives');
    expect(events.length).toBeGreaterThanOrEqual(2);
    const first = events[0];

    await deliverUntil(async () => (await deliveriesOf('changing-lives', '?status=dead')).length >= 1, 'the first event dead-lettered');
    const attempts = receivedAt('/changing-lives').filter((r) => r.headers['webhook-id'] === first.id);
    expect(attempts).toHaveLength(SCHEDULE.length + 1);
    // Each wait at least the scheduled one (no jitter here).
    SCHEDULE.forEach((ms, i) => expect((attempts[i + 1] as Received).at - (attempts[i] as Received).at).toBeGreaterThanOrEqual(ms - 2));
    // Nothing of the plan's later events left before the first was dead-lettered.
    const firstDeadAt = (attempts.at(-1) as Received).at;
    for (const r of receivedAt('/changing-lives').filter((x) => x.headers['webhook-id'] !== first.id)) expect(r.at).toBeGreaterThanOrEqual(firstDeadAt);

    const dead = (await deliveriesOf('changing-lives', '?status=dead'))[0];
    deliveryId = dead.deliveryId;
    expect(dead).toMatchObject({ planRef: planId, eventId: first.id, status: 'dead', attempts: SCHEDULE.length + 1, lastStatusCode: 503, lastError: `gave up after ${SCHEDULE.length + 1} attempts: the receiver answered 503` });
    expect(dead.log.map((a: Json) => a.outcome)).toEqual(['failed', 'failed', 'failed', 'failed']);
    expect(dead.deadAt).toBeDefined();
    expect(dead.nextAttemptAt).toBeUndefined();

    // The lane moved on to the next event, which is being retried in its turn.
    await deliverUntil(() => receivedAt('/changing-lives').some((r) => r.headers['webhook-id'] === events[1].id), 'the next event tried');
  });

  it('replay: refused for another provider, an unknown or malformed id, a delivery not dead', async () => {
    await refused(403, 'POST', `/providers/changing-lives/deliveries/${deliveryId}/replay`, { token: t.provider('bcwa'), body: {} });
    await refused(404, 'POST', `/providers/changing-lives/deliveries/${deliveryId.replace(/_[0-9]+$/, '_999')}/replay`, { token: t.teamLead, body: {} });
    const malformed = await refused(400, 'POST', '/providers/changing-lives/deliveries/not-a-delivery/replay', { token: t.teamLead, body: {} });
    expect(malformed.json.errors?.map((e) => e.path)).toEqual(['deliveryId']);
    const delivered = (await deliveriesOf('bcwa', '?status=delivered'))[0];
    const notDead = await refused(409, 'POST', `/providers/bcwa/deliveries/${delivered.deliveryId}/replay`, { token: t.teamLead, body: {} });
    expect(notDead.json.detail).toContain('only dead-lettered deliveries can be replayed');
  });

  it('replays a dead-lettered delivery once the receiver is back: same webhook-id, delivered', async () => {
    receiver.answer.delete('/changing-lives');
    const res = await t.call('POST', `/providers/changing-lives/deliveries/${deliveryId}/replay`, { token: t.provider('changing-lives'), body: {} });
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({ deliveryId, status: 'pending', attempts: 0, replays: 1 });
    await deliverUntil(async () => (await deliveriesOf('changing-lives', '?status=pending')).length === 0, 'all delivered');
    const log = await deliveriesOf('changing-lives');
    expect(log.every((d) => d.status === 'delivered')).toBe(true);
    const replayed = log.find((d) => d.deliveryId === deliveryId);
    expect(replayed.log.at(-1)).toMatchObject({ outcome: 'delivered' });
    expect(replayed.log).toHaveLength(SCHEDULE.length + 2);
    const again = await refused(409, 'POST', `/providers/changing-lives/deliveries/${deliveryId}/replay`, { token: t.teamLead, body: {} });
    expect(again.json.detail).toContain('is delivered');
  });

  it('the delivery log pages with a cursor and filters by status', async () => {
    const all = await deliveriesOf('changing-lives');
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: CallResult = await t.call('GET', `/providers/changing-lives/deliveries?limit=1${cursor ? `&cursor=${cursor}` : ''}`, { token: t.teamLead });
      expect(page.status).toBe(200);
      seen.push(...page.json.items.map((d: Json) => d.deliveryId));
      cursor = page.json.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all.map((d) => d.deliveryId));
    await refused(400, 'GET', '/providers/changing-lives/deliveries?status=lost', { token: t.teamLead });
    await refused(400, 'GET', '/providers/changing-lives/deliveries?cursor=bm9wZQ', { token: t.teamLead });
  });
});

describe('410 Gone', () => {
  it('disables the subscription and dead-letters what was pending; later events are not queued', async () => {
    receiver.answer.set('/green-square-accord', 410);
    const plan = await offeredTo('green-square-accord');
    const second = await offeredTo('green-square-accord');
    const before = receivedAt('/green-square-accord').length;
    await deliverUntil(async () => (await deliveriesOf('green-square-accord', '?status=pending')).length === 0, 'nothing pending');
    // The two plans are two lanes, tried side by side: at most one 410 each, then nothing more.
    const answered = receivedAt('/green-square-accord').length - before;
    expect(answered).toBeGreaterThanOrEqual(1);
    expect(answered).toBeLessThanOrEqual(2);

    const subs = await t.call('GET', '/providers/green-square-accord/subscriptions', { token: t.teamLead });
    expect(subs.json.items).toHaveLength(1);
    expect(subs.json.items[0]).toMatchObject({ status: 'disabled', disabledReason: expect.stringContaining('410 Gone') });
    const dead = await deliveriesOf('green-square-accord', '?status=dead');
    expect(dead.map((d) => d.planRef).sort()).toEqual([plan.planId, second.planId].sort());
    for (const d of dead) expect(d.lastError).toContain('410 Gone');

    const count = (await deliveriesOf('green-square-accord')).length;
    await offeredTo('green-square-accord');
    await t.stack.webhooks.runOnce();
    expect(await deliveriesOf('green-square-accord')).toHaveLength(count);
    expect(receivedAt('/green-square-accord').length - before).toBe(answered);
    // With no active subscription there is nowhere to replay to.
    await refused(409, 'POST', `/providers/green-square-accord/deliveries/${dead[0].deliveryId}/replay`, { token: t.teamLead, body: {} });
    // A disabled subscription leaves room for a new one.
    await subscribe('green-square-accord', '/green-square-accord-new');
  });
});

describe('pull feed', () => {
  it('pages with after= and resumes exactly where it stopped, each plan in sequence order', async () => {
    for (let i = 0; i < 3; i += 1) {
      const plan = await offeredTo('anawim');
      await accept('anawim', plan.allocationIds[0] as string);
    }
    const token = t.provider('anawim');
    const whole = await t.call('GET', '/providers/anawim/feed?limit=500', { token });
    expect(whole.status).toBe(200);
    const ids: string[] = whole.json.items.map((e: Json) => e.id);
    expect(ids.length).toBeGreaterThanOrEqual(7);
    expect(new Set(ids).size).toBe(ids.length);

    const paged: string[] = [];
    let after: string | null = null;
    for (let pages = 0; pages < 50; pages += 1) {
      const page: CallResult = await t.call('GET', `/providers/anawim/feed?limit=2${after ? `&after=${after}` : ''}`, { token });
      expect(page.status).toBe(200);
      expect(page.json.items.length).toBeLessThanOrEqual(2);
      if (page.json.items.length === 0) {
        expect(page.json.cursor).toBe(after); // nothing new: the same place to poll from
        break;
      }
      paged.push(...page.json.items.map((e: Json) => e.id));
      after = page.json.cursor;
    }
    expect(paged).toEqual(ids);

    // Per plan, the feed is in the plan's own order.
    const byPlan = new Map<string, number[]>();
    for (const e of whole.json.items as Json[]) byPlan.set(e.subject, [...(byPlan.get(e.subject) ?? []), Number(e.sequence)]);
    for (const sequences of byPlan.values()) expect(sequences).toEqual([...sequences].sort((a, b) => a - b));

    // New events after the last cursor are exactly what the next poll returns. Feed positions are
    // write times: time moves on between writes (this test's clock stands still unless moved).
    t.clock.advanceMs(1_000);
    const more = await offeredTo('anawim');
    const next = await t.call('GET', `/providers/anawim/feed?after=${after}`, { token });
    expect(next.json.items.map((e: Json) => e.id)).toEqual((await providerEvents(more.planId, 'anawim')).map((e) => e.id));
    expect(next.json.items.every((e: Json) => e.providerid === 'anawim' && e.specversion === '1.0')).toBe(true);
  });

  it('shows only entries older than the settle time, so a reader never steps past a write still landing', async () => {
    const plan = await offeredTo('anawim');
    const ids = (await providerEvents(plan.planId, 'anawim')).map((e) => e.id);
    const settled = new WebhookStore(t.stack.plans.client, TABLE_NAME_DEFAULT, { feedSettleMs: 60_000 });
    const page = await settled.feedPage('anawim', undefined, 500);
    expect(page.entries.map((e) => e.event.id)).not.toEqual(expect.arrayContaining(ids));
    const immediate = new WebhookStore(t.stack.plans.client, TABLE_NAME_DEFAULT, { feedSettleMs: 0 });
    expect((await immediate.feedPage('anawim', undefined, 500)).entries.map((e) => e.event.id)).toEqual(expect.arrayContaining(ids));
  });

  it('a provider reads only its own feed; a bad cursor or limit is a 400', async () => {
    await refused(403, 'GET', '/providers/bcwa/feed', { token: t.provider('anawim') });
    const bad = await refused(400, 'GET', '/providers/anawim/feed?after=garbage', { token: t.provider('anawim') });
    expect(bad.json.errors?.map((e) => e.path)).toEqual(['after']);
    await refused(400, 'GET', '/providers/anawim/feed?limit=0', { token: t.provider('anawim') });
    await refused(400, 'GET', '/providers/anawim/feed?since=1', { token: t.provider('anawim') });
  });
});

describe('allocations held', () => {
  it('a provider lists its allocations, optionally by status; not another provider', async () => {
    const res = await t.call('GET', '/providers/bcwa/allocations', { token: t.provider('bcwa') });
    expect(res.status).toBe(200);
    expect(res.json.items.length).toBeGreaterThanOrEqual(1);
    expect(res.json.items.every((a: Json) => a.providerId === 'bcwa')).toBe(true);
    const accepted = await t.call('GET', '/providers/bcwa/allocations?status=accepted', { token: t.provider('bcwa') });
    expect(accepted.json.items.map((a: Json) => a.status)).toEqual(accepted.json.items.map(() => 'accepted'));
    await refused(403, 'GET', '/providers/bcwa/allocations', { token: t.provider('anawim') });
    await refused(400, 'GET', '/providers/bcwa/allocations?status=maybe', { token: t.provider('bcwa') });
  });
});

describe('refusals change nothing', () => {
  const post = (providerId: string, body: unknown, token = t.teamLead) => ['POST', `/providers/${providerId}/subscriptions`, { token, body }] as const;

  it('webhook URLs must be https (plain http only to this machine)', async () => {
    for (const url of ['http://receiver.example.org/hooks', 'ftp://receiver.example.org/', 'not a url', 'https://user:pw@receiver.example.org/']) {
      const res = await refused(400, ...post('anawim', { url }));
      expect(res.json.errors?.map((e) => e.path)).toEqual(['url']);
      expect(res.json.detail).toMatch(/^url: /);
    }
  });

  it('a missing or extra field is a 400 naming it', async () => {
    expect((await refused(400, ...post('anawim', {}))).json.errors?.map((e) => e.path)).toEqual(['url']);
    expect((await refused(400, ...post('anawim', { url: `${receiver.url}/x`, secret: 'mine' }))).json.errors?.map((e) => e.path)).toEqual(['secret']);
    await refused(415, 'POST', '/providers/anawim/subscriptions', { token: t.teamLead, body: 'url=x', headers: { 'content-type': 'text/plain' } });
  });

  it('unknown providers are 404, malformed ids 400', async () => {
    const unknown = await refused(404, ...post('nobody-here', { url: `${receiver.url}/x` }));
    expect(unknown.json.detail).toContain('nobody-here');
    await refused(404, 'GET', '/providers/nobody-here/subscriptions', { token: t.teamLead });
    await refused(404, 'GET', '/providers/nobody-here/deliveries', { token: t.teamLead });
    await refused(400, 'GET', '/providers/NOT_AN_ID/subscriptions', { token: t.teamLead });
    await refused(400, 'DELETE', '/providers/anawim/subscriptions/none', { token: t.teamLead });
    await refused(404, 'DELETE', `/providers/anawim/subscriptions/sub_${'0'.repeat(24)}`, { token: t.teamLead });
  });

  it("providers may not manage subscriptions, nor read another provider's", async () => {
    await refused(403, ...post('bcwa', { url: `${receiver.url}/x` }, t.provider('bcwa')));
    const sub = (await t.call('GET', '/providers/bcwa/subscriptions', { token: t.teamLead })).json.items[0];
    await refused(403, 'DELETE', `/providers/bcwa/subscriptions/${sub.subscriptionId}`, { token: t.provider('bcwa') });
    await refused(403, 'GET', '/providers/bcwa/subscriptions', { token: t.provider('anawim') });
    await refused(403, 'GET', '/providers/bcwa/deliveries', { token: t.provider('anawim') });
    await refused(403, 'GET', '/providers/bcwa/deliveries', { token: t.coordinator });
    await refused(401, 'GET', '/providers/bcwa/deliveries');
  });
});

describe('the publisher remembers who is subscribed', () => {
  it('a change through the stack’s own store counts for the very next event; one made elsewhere within subscriptionCacheMs', async () => {
    const { WebhookPublisher } = await import('../../lib/local/webhooks/publisher.ts');
    let wall = Date.parse('2026-03-02T10:00:00.000Z');
    const own = t.stack.webhooks.store;
    const publisher = new WebhookPublisher(own, { now: () => wall, subscriptionCacheMs: 5_000 });
    // Another process on the same table: its changes reach this publisher only through the cache's time limit.
    const elsewhere = new WebhookStore(t.stack.plans.client, TABLE_NAME_DEFAULT);
    const planId = 'pl_000000000000000000cache';
    let sequence = 0;
    const publishOne = async () => {
      sequence += 1;
      await publisher.publish([{ id: `ev_cache_${sequence}`, planId, sequence, type: 'allocation.offered.v1', time: '2026-03-02T10:00:00.000Z', providerId: 'anawim', data: {} }]);
      return sequence;
    };
    const queued = async () => (await own.pendingDeliveries('anawim')).filter((d) => d.planId === planId).map((d) => d.sequence);
    const subscription = (subscriptionId: string) => ({ subscriptionId, providerId: 'anawim', url: `${receiver.url}/anawim-cache`, status: 'active' as const, createdAt: '2026-03-02T10:00:00.000Z', createdBy: 'test', secret: 'whsec_dGVzdA==' });

    await publishOne(); // 1: anawim has no subscription (and the publisher now remembers that)
    await elsewhere.createSubscription(subscription('sub_elsewhere'));
    await publishOne(); // 2: may not be seen yet (queued or not, both are within the documented bound)
    wall += 5_000;
    const third = await publishOne(); // 3: the remembered answer has expired
    expect(await queued()).toContain(third);

    await own.deleteSubscription('anawim', 'sub_elsewhere');
    const fourth = await publishOne(); // 4: deleted through the stack's store: seen at once
    await own.createSubscription(subscription('sub_own'));
    const fifth = await publishOne(); // 5: created through it: seen at once
    const after = await queued();
    expect(after).not.toContain(fourth);
    expect(after).toContain(fifth);

    await own.deleteSubscription('anawim', 'sub_own');
    await own.deadLetterPending('anawim', 'test over', new Date(wall).toISOString());
  });
});

describe('restart', () => {
  it('pending deliveries survive a restart on the same data directory and go out after it', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'wraparound-webhooks-'));
    // Create the table first and wait until it is ACTIVE: dynalite creates it asynchronously even
    // with createTableMs 0, and the stack seeds the directory right after starting the store.
    const store = await startLocalStore({ dataDir, inMemory: false, tableName: TABLE_NAME_DEFAULT });
    const ddb = new DynamoDBClient({ ...LOCAL_AWS, endpoint: store.endpoint });
    while ((await ddb.send(new DescribeTableCommand({ TableName: TABLE_NAME_DEFAULT }))).Table?.TableStatus !== 'ACTIVE') await sleep(5);
    ddb.destroy();
    await store.close();
    const clock = controllableClock('2026-03-02T10:00:00.000Z');
    const options = { dataDir, port: 0, sweepIntervalMs: 0, clock, webhooks: { intervalMs: 0, retrySchedule: [20], jitter: 'none' as const } };
    const saved = t;
    try {
      t = wrapStack(await startEmbeddedStack(options), clock);
      await subscribe('bcwa', '/restart');
      receiver.answer.set('/restart', 500);
      const { planId } = await offeredTo('bcwa');
      await t.stack.webhooks.runOnce();
      expect(receivedAt('/restart')).toHaveLength(1);
      expect((await deliveriesOf('bcwa', '?status=pending')).map((d) => d.planRef)).toEqual([planId]);
      await t.stop();

      receiver.answer.delete('/restart');
      t = wrapStack(await startEmbeddedStack(options), clock);
      await deliverUntil(() => receivedAt('/restart').length === 2, 'delivered after the restart');
      const log = await deliveriesOf('bcwa');
      expect(log.map((d) => [d.planRef, d.status, d.attempts])).toEqual([[planId, 'delivered', 2]]);
      const [first, second] = receivedAt('/restart') as [Received, Received];
      expect(second.headers['webhook-id']).toBe(first.headers['webhook-id']);
      await t.stop();
    } finally {
      t = saved;
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
