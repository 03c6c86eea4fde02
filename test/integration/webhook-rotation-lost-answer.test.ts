/**
 * A webhook secret whose answer could not be stored for retries is not lost. The embedded stack over
 * real HTTP, with the one write failing that stores the Idempotency-Key's answer (the plan
 * repository's saveResponse, for the subscribe and rotate-secret routes only): subscribing and
 * rotating still answer with the secret they made, a retry with the same key is shown that secret
 * again (and never makes another), nobody else is shown it, and deliveries signed with it verify at
 * the provider's receiver, none dead-lettered. Before, the request was a 500 saying nothing had
 * changed while the secret had, and the retry a 409: the team lead never saw the secret that signs.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { scanTable, type CallOptions, type Json, type TestStack } from '../support/http.ts';
import { bcwaDeliveryOf, deliverUntil, offerToBcwa, startRotationStack, verifiesWith, type Received, type Receiver } from '../support/webhook-receiver.ts';

const HOUR = 3_600_000;
let t: TestStack;
let receiver: Receiver;
/** Scopes (route prefixes of the stored answers' keys) whose answers cannot be stored at the moment. */
const failingScopes = new Set<string>();

beforeAll(async () => {
  ({ t, receiver } = await startRotationStack());
  const stack = t.stack;
  // The store as it fails under load: that one write refused, every other one written.
  const saveResponse = stack.plans.saveResponse.bind(stack.plans);
  vi.spyOn(stack.plans, 'saveResponse').mockImplementation(async (scope, ...rest) => {
    if (failingScopes.has(scope.split('#')[0] as string)) throw Object.assign(new Error('Throughput exceeds the current capacity of your table or index.'), { name: 'ProvisionedThroughputExceededException' });
    return saveResponse(scope, ...rest);
  });
});
afterAll(async () => {
  vi.restoreAllMocks();
  await t?.stop();
  await receiver?.close();
});

/** A request that must be refused: its status, a problem+json body that shows no secret, and the table unchanged. */
async function refused(status: number, path: string, options: CallOptions, secrets: string[]): Promise<Json> {
  const before = await scanTable(t.stack);
  const res = await t.call('POST', path, options);
  expect(res.status, res.text).toBe(status);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  for (const secret of secrets) expect(res.text).not.toContain(secret.slice(6));
  expect(await scanTable(t.stack), `${path} changed the store`).toEqual(before);
  return res.json;
}

const delivered = async (eventId: string) => (await bcwaDeliveryOf(t, eventId))?.status === 'delivered';

describe('a new webhook secret whose answer could not be stored for retries', () => {
  const SUBSCRIBE = { 'idempotency-key': 'subscribe-bcwa-answer-not-stored' };
  const ROTATE = { 'idempotency-key': 'rotate-bcwa-answer-not-stored' };
  let subscriptionId: string;
  let rotatePath: string;
  let firstSecret: string;
  let rotatedSecret: string;
  let waitingEvent: string;

  it('subscribing answers with the secret; a retry with the same key is shown it again, another request is not', async () => {
    failingScopes.add('SUBSCRIBE');
    const body = { url: `${receiver.url}/bcwa` };
    const created = await t.call('POST', '/providers/bcwa/subscriptions', { token: t.teamLead, headers: SUBSCRIBE, body });
    expect(created.status, created.text).toBe(201);
    firstSecret = created.json.secret;
    subscriptionId = created.json.subscriptionId;
    rotatePath = `/providers/bcwa/subscriptions/${subscriptionId}/rotate-secret`;
    expect((await t.stack.webhooks.store.activeSubscription('bcwa'))?.secret).toBe(firstSecret);

    // The answer was lost on the way, say: the retry finds the subscription this very request made.
    const again = await t.call('POST', '/providers/bcwa/subscriptions', { token: t.teamLead, headers: SUBSCRIBE, body });
    expect(again.status, again.text).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.json).toEqual(created.json);

    // Another key, or the same key in another body, is not that request: no secret.
    const other = await refused(409, '/providers/bcwa/subscriptions', { token: t.teamLead, headers: { 'idempotency-key': 'subscribe-bcwa-another' }, body }, [firstSecret]);
    expect(other.detail).toContain('already has an active webhook subscription');
    await refused(422, '/providers/bcwa/subscriptions', { token: t.teamLead, headers: SUBSCRIBE, body: { url: `${receiver.url}/elsewhere` } }, [firstSecret]);
    failingScopes.delete('SUBSCRIBE');

    receiver.secrets = [firstSecret];
    const eventId = await offerToBcwa(t);
    await deliverUntil(t, () => delivered(eventId), 'an offer delivered to a receiver with the secret shown');
    expect(receiver.requestsFor(eventId).map((r) => r.status)).toEqual([204]);
  });

  it('rotating answers with the new secret; a retry with the same key is shown it again, nobody else is', async () => {
    // Waiting for its retry when the secret is rotated: it must reach the receiver all the same.
    receiver.down = true;
    waitingEvent = await offerToBcwa(t);
    await deliverUntil(t, () => receiver.requestsFor(waitingEvent).length >= 1, 'the first attempt');

    failingScopes.add('ROTATE');
    const body = { overlapHours: 2 };
    const rotated = await t.call('POST', rotatePath, { token: t.teamLead, headers: ROTATE, body });
    expect(rotated.status, rotated.text).toBe(200);
    rotatedSecret = rotated.json.secret;
    expect(rotatedSecret).not.toBe(firstSecret);
    expect((await t.stack.webhooks.store.activeSubscription('bcwa'))?.secret).toBe(rotatedSecret);

    const again = await t.call('POST', rotatePath, { token: t.teamLead, headers: ROTATE, body });
    expect(again.status, again.text).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.json).toEqual(rotated.json);

    // Not another key, not another team lead with the same key, not the same key for another body.
    const secrets = [firstSecret, rotatedSecret];
    const other = await refused(409, rotatePath, { token: t.teamLead, headers: { 'idempotency-key': 'rotate-bcwa-another' }, body }, secrets);
    expect(other.detail).toContain('was rotated at');
    const anotherLead = await t.stack.tokens.issue({ role: 'team-lead', name: 'Another team lead', sub: 'another-team-lead' });
    await refused(409, rotatePath, { token: anotherLead, headers: ROTATE, body }, secrets);
    await refused(422, rotatePath, { token: t.teamLead, headers: ROTATE, body: { overlapHours: 3 } }, secrets);
    // The subscribing request's retry: the secret it made has been rotated away, so neither is shown.
    const resubscribed = await refused(409, '/providers/bcwa/subscriptions', { token: t.teamLead, headers: SUBSCRIBE, body: { url: `${receiver.url}/bcwa` } }, secrets);
    expect(resubscribed.detail).toContain('already has an active webhook subscription');
  });

  it('past the overlap, when a rotation would be allowed again, the retry is still shown the secret it made and makes none', async () => {
    t.clock.advanceMs(3 * HOUR);
    const later = await t.call('POST', rotatePath, { token: t.teamLead, headers: ROTATE, body: { overlapHours: 2 } });
    expect(later.status, later.text).toBe(200);
    expect(later.json.secret).toBe(rotatedSecret);
    expect((await t.stack.webhooks.store.activeSubscription('bcwa'))?.secret).toBe(rotatedSecret);
    failingScopes.delete('ROTATE');
  });

  it('deliveries are not lost: the waiting one and new ones verify with the secret shown, none is dead-lettered', async () => {
    receiver.secrets = [rotatedSecret];
    receiver.down = false;
    await deliverUntil(t, () => delivered(waitingEvent), 'the waiting delivery delivered');
    const eventId = await offerToBcwa(t);
    await deliverUntil(t, () => delivered(eventId), 'a new offer delivered');
    for (const id of [waitingEvent, eventId]) {
      const last = receiver.requestsFor(id).at(-1) as Received;
      expect(last.status).toBe(204);
      expect(verifiesWith(rotatedSecret, last)).toBe(true);
      expect(verifiesWith(firstSecret, last)).toBe(false);
    }
    expect(await t.call('GET', '/providers/bcwa/deliveries?status=dead', { token: t.teamLead }).then((r) => r.json.items)).toEqual([]);
  });

  it('a rotation without a key ends the shown secret of the one before: its retry is refused, with no secret', async () => {
    const plain = await t.call('POST', rotatePath, { token: t.teamLead, body: { overlapHours: 1 } });
    expect(plain.status, plain.text).toBe(200);
    const res = await refused(409, rotatePath, { token: t.teamLead, headers: ROTATE, body: { overlapHours: 2 } }, [rotatedSecret, plain.json.secret]);
    expect(res.detail).toContain('was rotated at');
  });
});
