/**
 * Test deliveries are bounded per provider: each is a signed request from this stack to a URL the
 * provider registered, so a provider (or a stolen provider token) could otherwise have the stack send
 * them without end. Over real HTTP on the embedded stack, its wall clock (the deliveries' clock) moved
 * by hand: five in a minute are sent, the sixth is a 429 problem+json with Retry-After that sends
 * nothing, another provider's webhook is not held back, and once the minute has passed one goes again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedStack } from '../../lib/local/embedded-stack.ts';
import { TEST_DELIVERY_LIMIT } from '../../lib/api/rate-limit.ts';
import { controllableClock, wrapStack, type TestStack } from '../support/http.ts';
import { startReceiver, type Receiver } from '../support/webhook-receiver.ts';

let t: TestStack;
let receiver: Receiver;
let wallMs = Date.parse('2026-03-02T10:00:00.000Z');
const subscriptions: Record<string, string> = {};

beforeAll(async () => {
  receiver = await startReceiver();
  const clock = controllableClock('2026-03-02T10:00:00.000Z');
  const stack = await startEmbeddedStack({ inMemory: true, port: 0, sweepIntervalMs: 0, clock, webDistDir: false, webhooks: { intervalMs: 0, jitter: 'none', timeoutMs: 2_000, now: () => wallMs } });
  t = wrapStack(stack, clock);
  for (const providerId of ['bcwa', 'anawim']) {
    const created = await t.call('POST', `/providers/${providerId}/subscriptions`, { token: t.teamLead, body: { url: `${receiver.url}/${providerId}` } });
    expect(created.status, created.text).toBe(201);
    subscriptions[providerId] = created.json.subscriptionId as string;
  }
});
afterAll(async () => {
  await t?.stop();
  await receiver?.close();
});

const sendTest = (providerId: string, headers: Record<string, string> = {}) =>
  t.call('POST', `/providers/${providerId}/subscriptions/${subscriptions[providerId]}/test`, { token: t.provider(providerId), body: {}, headers });

describe('test deliveries to a provider\'s webhook', () => {
  it(`sends ${TEST_DELIVERY_LIMIT.max} a minute; the next is a 429 with Retry-After that sends nothing`, async () => {
    expect(TEST_DELIVERY_LIMIT).toEqual({ max: 5, windowMs: 60_000 });
    for (let n = 1; n <= 5; n++) {
      const res = await sendTest('bcwa');
      expect(res.status, `test ${n}: ${res.text}`).toBe(200);
      wallMs += 10_000; // ten seconds apart: the fifth at 40 s
    }
    const sent = receiver.received.length;
    // At 50 s: the first of the five (at 0 s) leaves the minute at 60 s, ten seconds on.
    const refused = await sendTest('bcwa', { 'idempotency-key': 'limited-0001' });
    expect(refused.status, refused.text).toBe(429);
    expect(refused.headers.get('content-type')).toBe('application/problem+json');
    expect(refused.headers.get('retry-after')).toBe('10');
    expect(refused.json).toMatchObject({ status: 429, title: 'Too many requests' });
    expect(refused.json.detail).toBe("At most 5 test deliveries to provider bcwa's webhook are sent in any 60 seconds, and 5 were sent in the last 60: nothing was sent. Try again in 10 seconds.");
    expect(receiver.received.length).toBe(sent);
  });

  it("holds back only that provider's: another provider's webhook is still tested", async () => {
    const sent = receiver.received.length;
    const res = await sendTest('anawim');
    expect(res.status, res.text).toBe(200);
    expect(receiver.received.length).toBe(sent + 1);
  });

  it('sends again once the oldest has left the minute, and a refused request retried with its Idempotency-Key then goes', async () => {
    wallMs += 9_000;
    expect((await sendTest('bcwa')).status).toBe(429);
    wallMs += 1_000;
    const sent = receiver.received.length;
    const retried = await sendTest('bcwa', { 'idempotency-key': 'limited-0001' });
    expect(retried.status, retried.text).toBe(200);
    expect(retried.headers.get('idempotent-replayed')).toBeNull();
    expect(receiver.received.length).toBe(sent + 1);
    // And the window is full again: the one after it waits for the second of the five (at 10 s) to leave, at 70 s.
    const next = await sendTest('bcwa');
    expect(next.status).toBe(429);
    expect(next.headers.get('retry-after')).toBe('10');
  });
});
