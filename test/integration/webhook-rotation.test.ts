/**
 * Rotating a provider's webhook secret on the embedded stack, over real HTTP, with a receiver that
 * verifies every delivery with the `standardwebhooks` reference library against the secrets its
 * operator has configured (401 when none matches, as a real receiver would answer). Before the
 * rotation the old secret verifies; during the overlap either does, so the receiver switches without
 * a failed delivery; after it (the stack's clock moved on) only the new one, and the old one is gone
 * from the table. A delivery waiting for its retry when the secret is rotated is signed when it is
 * sent, so it verifies with the new secret. Refusals are problem+json and leave the table as it was.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROTATION_OVERLAP_RULE } from '../../lib/api/webhook-rotation-limits.ts';
import { scanTable, type CallOptions, type CallResult, type Json, type TestStack } from '../support/http.ts';
import { bcwaDeliveryOf, deliverUntil as deliverOn, offerToBcwa as offerOn, startRotationStack, verifiesWith, type Received, type Receiver } from '../support/webhook-receiver.ts';

const HOUR = 3_600_000;
let t: TestStack;
let receiver: Receiver;

beforeAll(async () => {
  ({ t, receiver } = await startRotationStack());
});
afterAll(async () => {
  await t?.stop();
  await receiver?.close();
});

const deliverUntil = (done: () => boolean | Promise<boolean>, what: string) => deliverOn(t, done, what);
const offerToBcwa = () => offerOn(t);
const requestsFor = (eventId: string) => receiver.requestsFor(eventId);
const deliveryOf = (eventId: string) => bcwaDeliveryOf(t, eventId);

/** A request that must be refused: its status, a problem+json body, and the table unchanged. */
async function refused(status: number, path: string, options: CallOptions): Promise<CallResult> {
  const before = await scanTable(t.stack);
  const res = await t.call('POST', path, options);
  expect(res.status, res.text).toBe(status);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  expect(res.json.detail.length).toBeGreaterThan(0);
  expect(await scanTable(t.stack), `${path} ${JSON.stringify(options.body)} changed the store`).toEqual(before);
  return res;
}

const SUBSCRIBE_KEY = { 'idempotency-key': 'subscribe-bcwa-before-rotation' };

describe('rotating a webhook secret', () => {
  let subscriptionId: string;
  let oldSecret: string;
  let newSecret: string;
  let rotatePath: string;
  let waitingEvent: string;

  it('before the rotation, deliveries are signed with the secret shown at subscribing, and only with it', async () => {
    const created = await t.call('POST', '/providers/bcwa/subscriptions', { token: t.teamLead, headers: SUBSCRIBE_KEY, body: { url: `${receiver.url}/bcwa` } });
    expect(created.status, created.text).toBe(201);
    subscriptionId = created.json.subscriptionId;
    oldSecret = created.json.secret;
    rotatePath = `/providers/bcwa/subscriptions/${subscriptionId}/rotate-secret`;
    receiver.secrets = [oldSecret];

    const eventId = await offerToBcwa();
    await deliverUntil(async () => (await deliveryOf(eventId))?.status === 'delivered', 'the first offer delivered');
    const [request] = requestsFor(eventId);
    expect(request?.status).toBe(204);
    expect(String(request?.headers['webhook-signature']).split(' ')).toHaveLength(1);
  });

  it('a delivery waiting for its retry when the secret is rotated', async () => {
    receiver.down = true;
    waitingEvent = await offerToBcwa();
    await deliverUntil(() => requestsFor(waitingEvent).length >= 1, 'the first attempt');
    expect(verifiesWith(oldSecret, requestsFor(waitingEvent)[0] as Received)).toBe(true);
    expect(await deliveryOf(waitingEvent)).toMatchObject({ status: 'pending', lastStatusCode: 503 });
  });

  it('a team lead rotates: 200 with a new secret shown once, the overlap 24 hours by default', async () => {
    const res = await t.call('POST', rotatePath, { token: t.teamLead, body: {} });
    expect(res.status, res.text).toBe(200);
    newSecret = res.json.secret;
    expect(newSecret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(newSecret).not.toBe(oldSecret);
    expect(res.json).toMatchObject({ subscriptionId, providerId: 'bcwa', status: 'active', rotatedAt: '2026-03-02T10:00:00.000Z', overlapEndsAt: '2026-03-03T10:00:00.000Z' });

    for (const token of [t.teamLead, t.provider('bcwa')]) {
      const listed = await t.call('GET', '/providers/bcwa/subscriptions', { token });
      expect(listed.status).toBe(200);
      expect(listed.json.items).toEqual([expect.objectContaining({ subscriptionId, rotatedAt: '2026-03-02T10:00:00.000Z', overlapEndsAt: '2026-03-03T10:00:00.000Z' })]);
      expect(listed.text).not.toContain(newSecret.slice(6));
      expect(listed.text).not.toContain(oldSecret.slice(6));
      expect(listed.text).not.toContain('secret');
    }
    // A retry of the subscribing request no longer shows a secret: the one it made has been rotated away.
    const replayed = await refused(409, '/providers/bcwa/subscriptions', { token: t.teamLead, headers: SUBSCRIBE_KEY, body: { url: `${receiver.url}/bcwa` } });
    expect(replayed.text).not.toContain(newSecret);
    expect(replayed.json.detail).toContain('has been rotated since');
  });

  it('the waiting delivery is signed when it is sent: a receiver already switched to the new secret takes it', async () => {
    receiver.secrets = [newSecret];
    receiver.down = false;
    await deliverUntil(async () => (await deliveryOf(waitingEvent))?.status === 'delivered', 'the waiting delivery delivered');
    const last = requestsFor(waitingEvent).at(-1) as Received;
    expect(last.status).toBe(204);
    expect(verifiesWith(newSecret, last)).toBe(true);
    expect(await t.call('GET', '/providers/bcwa/deliveries?status=dead', { token: t.teamLead }).then((r) => r.json.items)).toEqual([]);
  });

  it('during the overlap every delivery verifies with either secret, so the receiver switches without a failure', async () => {
    t.clock.advanceMs(23 * HOUR);
    receiver.secrets = [oldSecret];
    const beforeSwitch = await offerToBcwa();
    await deliverUntil(async () => (await deliveryOf(beforeSwitch))?.status === 'delivered', 'delivered to a receiver still on the old secret');
    receiver.secrets = [newSecret];
    const afterSwitch = await offerToBcwa();
    await deliverUntil(async () => (await deliveryOf(afterSwitch))?.status === 'delivered', 'delivered to a receiver on the new secret');
    for (const eventId of [beforeSwitch, afterSwitch]) {
      const requests = requestsFor(eventId);
      expect(requests.map((r) => r.status)).toEqual([204]);
      const request = requests[0] as Received;
      expect(String(request.headers['webhook-signature']).split(' ')).toHaveLength(2);
      expect(verifiesWith(oldSecret, request)).toBe(true);
      expect(verifiesWith(newSecret, request)).toBe(true);
    }
  });

  it('rotating again during the overlap is a 409 naming when it ends, and changes nothing', async () => {
    const res = await refused(409, rotatePath, { token: t.teamLead, body: {} });
    expect(res.json.detail).toContain(`Subscription ${subscriptionId}'s secret was rotated at 2026-03-02T10:00:00.000Z; until 2026-03-03T10:00:00.000Z`);
  });

  it('after the overlap only the new secret signs, and the old one is gone from the table', async () => {
    t.clock.advanceMs(1 * HOUR);
    // The delivery loop removes it on its next look at bcwa, with nothing to send and before anyone reads the subscription.
    expect(JSON.stringify(await scanTable(t.stack))).toContain(oldSecret);
    t.stack.webhooks.nudge('bcwa');
    await t.stack.webhooks.runOnce();
    const table = JSON.stringify(await scanTable(t.stack));
    expect(table).not.toContain(oldSecret);
    expect(table).toContain(newSecret);

    const eventId = await offerToBcwa();
    await deliverUntil(async () => (await deliveryOf(eventId))?.status === 'delivered', 'delivered after the overlap');
    const request = requestsFor(eventId)[0] as Received;
    expect(String(request.headers['webhook-signature']).split(' ')).toHaveLength(1);
    expect(verifiesWith(newSecret, request)).toBe(true);
    expect(verifiesWith(oldSecret, request)).toBe(false);
    const listed = await t.call('GET', '/providers/bcwa/subscriptions', { token: t.teamLead });
    expect(listed.json.items[0]).not.toHaveProperty('overlapEndsAt');
    expect(listed.json.items[0].rotatedAt).toBe('2026-03-02T10:00:00.000Z');
  });

  it('a bounded overlap can be asked for; a retry with the same Idempotency-Key shows the same secret, another body is a 422', async () => {
    const headers = { 'idempotency-key': 'rotate-bcwa-2' };
    const first = await t.call('POST', rotatePath, { token: t.teamLead, headers, body: { overlapHours: 2 } });
    expect(first.status, first.text).toBe(200);
    expect(first.json.overlapEndsAt).toBe(new Date(Date.parse(first.json.rotatedAt) + 2 * HOUR).toISOString());
    const again = await t.call('POST', rotatePath, { token: t.teamLead, headers, body: { overlapHours: 2 } });
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.json).toEqual(first.json);
    await refused(422, rotatePath, { token: t.teamLead, headers, body: { overlapHours: 3 } });
  });

  it('bad input is a 4xx problem naming the field and changes nothing', async () => {
    for (const [body, path] of [
      [{ overlapHours: 0 }, 'overlapHours'],
      [{ overlapHours: 73 }, 'overlapHours'],
      [{ overlapHours: 1.5 }, 'overlapHours'],
      [{ overlapHours: '24' }, 'overlapHours'],
      [{ secret: 'whsec_mine' }, ''],
    ] as const) {
      const res = await refused(400, rotatePath, { token: t.teamLead, body });
      expect(JSON.stringify(res.json.errors), JSON.stringify(body)).toContain(path || 'secret');
      // A bad overlap is named with the rule the web page's hint gives, in the same words.
      if (path) expect(res.json.errors).toEqual([{ path, message: ROTATION_OVERLAP_RULE }]);
    }
    const malformed = await refused(400, '/providers/bcwa/subscriptions/sub_nope/rotate-secret', { token: t.teamLead, body: {} });
    expect(malformed.json.errors.map((e: Json) => e.path)).toEqual(['subscriptionId']);
    await refused(404, '/providers/bcwa/subscriptions/sub_0123456789abcdef01234567/rotate-secret', { token: t.teamLead, body: {} });
    // Another provider's path with bcwa's subscription: there is no such subscription there.
    await refused(404, `/providers/anawim/subscriptions/${subscriptionId}/rotate-secret`, { token: t.teamLead, body: {} });
    // Providers read their subscription but do not set its secret, as they do not subscribe.
    await refused(403, rotatePath, { token: t.provider('bcwa'), body: {} });
    await refused(403, rotatePath, { token: t.coordinator, body: {} });
  });

  it('the body may be left out (the overlap is then 24 hours): the document says so, and the route reads none as {}', async () => {
    const document = await t.call('GET', '/openapi.json');
    expect(document.json.paths['/providers/{providerId}/subscriptions/{subscriptionId}/rotate-secret'].post.requestBody.required).toBe(false);
    expect(document.json.paths['/providers/{providerId}/subscriptions'].post.requestBody.required).toBe(true);
    // No body, no content type: past the body to the subscription, which is not there.
    await refused(404, '/providers/bcwa/subscriptions/sub_0123456789abcdef01234567/rotate-secret', { token: t.teamLead });
  });

  it('a disabled subscription has no secret to rotate: 409', async () => {
    await t.stack.webhooks.store.disableSubscription('bcwa', subscriptionId, 'the receiver answered 410 Gone', new Date().toISOString());
    const res = await refused(409, rotatePath, { token: t.teamLead, body: {} });
    expect(res.json.detail).toBe(`Subscription ${subscriptionId} is disabled: nothing is signed with its secret. Subscribe again for a new one.`);
  });
});
