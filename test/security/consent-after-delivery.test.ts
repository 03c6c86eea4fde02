/**
 * What a provider is sent after her consent stops covering it. An event carrying her needs that was
 * queued before the withdrawal or narrowing (a webhook still retrying, a dead letter replayed after it (refused),
 * the pull feed read again from an early cursor) is not handed over again: the provider has just been
 * told to stop and purge. The purge instruction itself still arrives; a provider still covered is sent
 * everything as before. Over real HTTP, with a receiver on a loopback port and the delivery loop run by
 * the test.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedStack } from '../../lib/local/embedded-stack.ts';
import type { PlanEvent } from '../../lib/domain/schemas.ts';
import { anotherParticipant, controllableClock, PROVIDERS, referral, wrapStack, type Json, type TestStack } from '../support/http.ts';

let t: TestStack;
let server: Server;
let url = '';
/** What each provider's receiver was sent (the event types, in order); a provider's receiver is down while listed in `down`. */
const received = new Map<string, Json[]>();
const down = new Set<string>();
/** What the Publish events step handed the publisher (on AWS: the bus), and the plans whose publishing fails meanwhile. */
const published: PlanEvent[] = [];
const publishFailsFor = new Set<string>();

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const providerId = (req.url ?? '/').slice(1);
    if (down.has(providerId)) res.writeHead(503);
    else {
      received.set(providerId, [...(received.get(providerId) ?? []), JSON.parse(Buffer.concat(chunks).toString('utf8'))]);
      res.writeHead(204);
    }
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clock = controllableClock('2026-03-02T10:00:00.000Z');
  // Two attempts 1 ms apart, then the dead letter: the test gets there in a few passes.
  const stack = await startEmbeddedStack({
    inMemory: true,
    port: 0,
    sweepIntervalMs: 0,
    clock,
    feedSettleMs: 0,
    webhooks: { intervalMs: 0, retrySchedule: [1], jitter: 'none', timeoutMs: 2_000 },
    wrapPublisher: (inner) => ({
      publish: async (events) => {
        if (events.some((e) => publishFailsFor.has(e.planId))) throw new Error('the bus is unreachable');
        published.push(...events);
        await inner.publish(events);
      },
    }),
  });
  t = wrapStack(stack, clock);
  for (const providerId of PROVIDERS) {
    const sub = await t.call('POST', `/providers/${providerId}/subscriptions`, { token: t.teamLead, body: { url: `${url}/${providerId}` } });
    expect(sub.status, sub.text).toBe(201);
  }
});
afterAll(async () => {
  await t?.stop();
  server?.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
async function deliver(passes = 5) {
  for (let i = 0; i < passes; i++) {
    await t.stack.webhooks.runOnce();
    await sleep(5);
  }
}

async function ok(method: string, path: string, body: unknown, token = t.coordinator): Promise<Json> {
  const res = await t.call(method, path, { token, body });
  expect(res.status, `${method} ${path}: ${res.text}`).toBe(200);
  return res.json;
}

const scope = (extra: Record<string, unknown> = {}) => ({ scope: { shareWithProviders: true, dataCategories: ['needs', 'risks'], ...extra }, givenAt: t.clock.today(), method: 'written' });

/**
 * A plan offered to two providers, consent covering both: `left` (the one her consent will stop covering;
 * its receiver is down while `leftDown`) and `kept`.
 */
async function offeredToTwo(leftDown = false): Promise<{ planId: string; left: string; kept: string }> {
  down.clear();
  if (leftDown) for (const providerId of PROVIDERS) down.add(providerId);
  const created = await t.call('POST', '/plans', { token: t.coordinator, body: referral({ participant: anotherParticipant() }) });
  expect(created.status, created.text).toBe(201);
  const planId = created.json.planId as string;
  await ok('POST', `/plans/${planId}/record-consent`, scope());
  const assessed = await ok('POST', `/plans/${planId}/submit-assessment`, {
    needs: [
      { domain: 'mental-health', level: 'high', priority: true },
      { domain: 'education-training-employment', level: 'high', priority: true },
    ],
  });
  const providers = [...new Set((assessed.allocations as Json[]).map((a) => a.providerId as string))];
  expect(providers, 'the plan is offered to two providers').toHaveLength(2);
  const [left, kept] = providers as [string, string];
  // Only the left-out provider's receiver stays down; the other's offer is delivered at once.
  down.delete(kept);
  return { planId, left, kept };
}

const typesFor = (providerId: string, planId: string) => (received.get(providerId) ?? []).filter((e) => e.subject === planId).map((e) => e.type as string);

async function deliveriesOf(providerId: string, planId: string): Promise<Json[]> {
  const res = await t.call('GET', `/providers/${providerId}/deliveries`, { token: t.teamLead });
  expect(res.status, res.text).toBe(200);
  return (res.json.items as Json[]).filter((d) => d.planRef === planId);
}

async function feedOf(providerId: string, planId: string): Promise<Json[]> {
  const res = await t.call('GET', `/providers/${providerId}/feed?limit=200`, { token: t.provider(providerId) });
  expect(res.status, res.text).toBe(200);
  return (res.json.items as Json[]).filter((e) => e.subject === planId);
}

describe('events carrying her needs, after her consent stops covering the provider', () => {
  it('a dead-lettered offer replayed after her consent was withdrawn is not sent; the purge is', async () => {
    const { planId, left, kept } = await offeredToTwo(true);
    await deliver();
    const [dead] = await deliveriesOf(left, planId);
    expect(dead).toMatchObject({ status: 'dead' });
    expect(typesFor(kept, planId)).toEqual(['allocation.offered.v1']);

    await ok('POST', `/plans/${planId}/withdraw-consent`, {});
    down.clear();
    // The replay is refused, saying why, rather than queued to be withheld again.
    const replayed = await t.call('POST', `/providers/${left}/deliveries/${dead.deliveryId}/replay`, { token: t.provider(left), body: {} });
    expect(replayed.status, replayed.text).toBe(409);
    expect(replayed.text).toContain('her consent was withdrawn');
    await deliver();

    expect(typesFor(left, planId)).toEqual(['plan.consent-withdrawn.v1']);
    const after = await deliveriesOf(left, planId);
    expect(after.find((d) => d.deliveryId === dead.deliveryId)).toMatchObject({ status: 'dead', replays: 0, withheld: 'her consent was withdrawn' });
    // The feed read again from the start, by either provider (a withdrawal covers nobody): the purge, not the offer.
    expect((await feedOf(left, planId)).map((e) => e.type)).toEqual(['plan.consent-withdrawn.v1']);
    expect((await feedOf(kept, planId)).map((e) => e.type)).toEqual(['plan.consent-withdrawn.v1']);
  });

  it('an offer still being retried when her consent is changed to leave the provider out is not sent; a provider still covered keeps its own', async () => {
    const { planId, left, kept } = await offeredToTwo(true);
    await t.stack.webhooks.runOnce(); // the first attempt fails: the offer waits for its retry
    expect((await deliveriesOf(left, planId)).map((d) => d.status)).toEqual(['pending']);

    await ok('POST', `/plans/${planId}/change-consent`, scope({ providers: { kind: 'all-except', providerIds: [left] } }));
    down.clear();
    await deliver();

    expect(typesFor(left, planId)).toEqual(['plan.consent-withdrawn.v1']);
    expect(typesFor(kept, planId)).toEqual(['allocation.offered.v1']);
    expect((await feedOf(left, planId)).map((e) => e.type)).toEqual(['plan.consent-withdrawn.v1']);
    expect((await feedOf(kept, planId)).map((e) => e.type)).toEqual(['allocation.offered.v1']);
    expect(JSON.stringify(await feedOf(left, planId))).not.toContain('"needs"');
  });

  it('the feed cursor still moves past what it leaves out', async () => {
    const { planId, left } = await offeredToTwo();
    await ok('POST', `/plans/${planId}/withdraw-consent`, {});
    let cursor: string | null = null;
    const seen: string[] = [];
    for (let i = 0; i < 100; i++) {
      const res = await t.call('GET', `/providers/${left}/feed?limit=1${cursor ? `&after=${cursor}` : ''}`, { token: t.provider(left) });
      expect(res.status, res.text).toBe(200);
      seen.push(...(res.json.items as Json[]).filter((e) => e.subject === planId).map((e) => e.type as string));
      if (!res.json.more) break;
      expect(res.json.cursor).not.toBe(cursor);
      cursor = res.json.cursor as string;
    }
    expect(seen).toEqual(['plan.consent-withdrawn.v1']);
  });

  it('an offer left in the outbox by a failed publish is not published once her consent stops covering its provider; the purge is', async () => {
    const created = await t.call('POST', '/plans', { token: t.coordinator, body: referral({ participant: anotherParticipant() }) });
    const planId = created.json.planId as string;
    await ok('POST', `/plans/${planId}/record-consent`, scope());
    publishFailsFor.add(planId);
    const assessed = await t.call('POST', `/plans/${planId}/submit-assessment`, { token: t.coordinator, body: { needs: [{ domain: 'mental-health', level: 'high', priority: true }] } });
    expect(assessed.status, assessed.text).toBe(200);
    const offeredTo = (assessed.json.allocations as Json[]).map((a) => a.providerId as string);
    expect(published.filter((e) => e.planId === planId && e.type === 'allocation.offered.v1')).toEqual([]);

    publishFailsFor.delete(planId);
    await ok('POST', `/plans/${planId}/withdraw-consent`, {});
    const sent = published.filter((e) => e.planId === planId && e.providerId);
    expect(sent.map((e) => e.type)).toEqual(offeredTo.map(() => 'plan.consent-withdrawn.v1'));
    // Her history keeps every event; the provider's feed leaves the offer out.
    const history = await t.call('GET', `/plans/${planId}/history`, { token: t.coordinator });
    expect((history.json.items as Json[]).map((e) => e.type)).toContain('allocation.offered.v1');
    expect((await feedOf(offeredTo[0] as string, planId)).map((e) => e.type)).toEqual(['plan.consent-withdrawn.v1']);
  });
});
