/**
 * Webhook signatures as the Standard Webhooks spec defines them, checked with the reference
 * library's own `Webhook.verify` and once more by hand with node:crypto; the retry schedule's
 * jitter; the webhook URL rules.
 */
import { createHmac } from 'node:crypto';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { signatureHeaders } from '../../lib/local/webhooks/signing.ts';
import { retryDelayMs, checkSchedule, DEFAULT_RETRY_SCHEDULE_MS } from '../../lib/local/webhooks/retry.ts';
import { deliveryIdOf, newWebhookSecret, parseDeliveryId } from '../../lib/adapters/dynamodb/webhook-store.ts';
import { toCloudEvent } from '../../lib/adapters/events/publisher.ts';
import { webhookUrlProblem } from '../../lib/local/webhooks/url-policy.ts';

const event = {
  id: '7f1c1f43-4d0b-4f0e-9b0e-3f8f5d0c2a11',
  type: 'allocation.offered.v1',
  time: '2026-03-02T10:00:00.000Z',
  planId: 'pl_0123456789abcdef01234567',
  sequence: 4,
  providerId: 'bcwa',
  data: { planRef: 'pl_0123456789abcdef01234567', allocationId: 'al_0123456789abcdef01234567_1', needs: [{ domain: 'domestic-abuse' }] },
};
const body = JSON.stringify(toCloudEvent(event, 'wraparound'));

describe('Standard Webhooks signature', () => {
  const secret = newWebhookSecret();
  const now = new Date();
  const headers = signatureHeaders(secret, event.id, now, body);

  it('sends the three headers: the event id, Unix seconds, v1 and a base64 HMAC-SHA256', () => {
    expect(Object.keys(headers).sort()).toEqual(['webhook-id', 'webhook-signature', 'webhook-timestamp']);
    expect(headers['webhook-id']).toBe(event.id);
    expect(headers['webhook-timestamp']).toBe(String(Math.floor(now.getTime() / 1000)));
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
  });

  it('verifies with the reference library, which hands back the CloudEvent', () => {
    const verified = new Webhook(secret).verify(body, headers) as Record<string, unknown>;
    expect(verified).toMatchObject({ specversion: '1.0', id: event.id, type: event.type, subject: event.planId, sequence: '0000000004', providerid: 'bcwa' });
  });

  it('is the HMAC-SHA256 of "<id>.<timestamp>.<body>" under the base64-decoded secret', () => {
    const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
    expect(key).toHaveLength(32);
    const expected = createHmac('sha256', key).update(`${headers['webhook-id']}.${headers['webhook-timestamp']}.${body}`).digest('base64');
    expect(headers['webhook-signature']).toBe(`v1,${expected}`);
  });

  it('fails verification for a changed body, another secret, another id or a stale timestamp', () => {
    const verify = (payload: string, h: Record<string, string>, s = secret) => () => new Webhook(s).verify(payload, h);
    expect(verify(body.replace('domestic-abuse', 'accommodation'), headers)).toThrow(WebhookVerificationError);
    expect(verify(body, headers, newWebhookSecret())).toThrow(WebhookVerificationError);
    expect(verify(body, { ...headers, 'webhook-id': 'another-id' })).toThrow(WebhookVerificationError);
    const old = new Date(now.getTime() - 10 * 60_000);
    expect(verify(body, signatureHeaders(secret, event.id, old, body))).toThrow(/too old/);
  });

  it('makes a new 32-byte secret each time, in the whsec_ form', () => {
    const a = newWebhookSecret();
    const b = newWebhookSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(a).not.toBe(b);
  });
});

describe('retry schedule', () => {
  it('waits the scheduled time without jitter, and gives up after the last step', () => {
    const schedule = [10, 20, 40];
    expect([1, 2, 3, 4].map((n) => retryDelayMs(schedule, n, 'none', Math.random))).toEqual([10, 20, 40, undefined]);
    expect(retryDelayMs([], 1, 'full', Math.random)).toBeUndefined();
  });

  it('with full jitter waits a uniform time between 0 and the scheduled one', () => {
    expect(retryDelayMs([1000], 1, 'full', () => 0)).toBe(0);
    expect(retryDelayMs([1000], 1, 'full', () => 0.5)).toBe(500);
    expect(retryDelayMs([1000], 1, 'full', () => 0.999999)).toBe(999);
    for (let i = 0; i < 200; i += 1) {
      const wait = retryDelayMs(DEFAULT_RETRY_SCHEDULE_MS, 3, 'full', Math.random) as number;
      expect(wait).toBeGreaterThanOrEqual(0);
      expect(wait).toBeLessThan(120_000);
    }
  });

  it('defaults to 5 s, 30 s, 2 min, 10 min, 1 h, 6 h and refuses a bad schedule', () => {
    expect(DEFAULT_RETRY_SCHEDULE_MS).toEqual([5_000, 30_000, 120_000, 600_000, 3_600_000, 21_600_000]);
    expect(() => checkSchedule([10, -1])).toThrow(RangeError);
    expect(() => checkSchedule([1.5])).toThrow(RangeError);
  });
});

describe('delivery ids and webhook URLs', () => {
  it('a delivery id names its plan and sequence', () => {
    const id = deliveryIdOf(event.planId, 12);
    expect(id).toBe('dl_0123456789abcdef01234567_12');
    expect(parseDeliveryId(id)).toEqual({ planId: event.planId, sequence: 12 });
    expect(parseDeliveryId('dl_short_1')).toBeUndefined();
    expect(parseDeliveryId('dl_0123456789abcdef01234567_0')).toBeUndefined();
  });

  it.each([
    ['https://receiver.example.org/hooks', true, undefined],
    ['https://receiver.example.org/hooks', false, undefined],
    ['http://127.0.0.1:8080/hooks', true, undefined],
    ['http://localhost/hooks', true, undefined],
    ['http://[::1]:9000/', true, undefined],
    ['http://127.0.0.1:8080/hooks', false, 'must use https'],
    ['http://receiver.example.org/hooks', true, 'must use https (plain http is allowed only to localhost, 127.0.0.1 or [::1])'],
    ['http://10.0.0.8/hooks', true, 'must use https (plain http is allowed only to localhost, 127.0.0.1 or [::1])'],
    ['ftp://receiver.example.org/', true, 'must use https, not ftp'],
    ['receiver.example.org/hooks', true, 'is not an absolute URL'],
    ['https://user:pw@receiver.example.org/', true, 'must not carry a user name or password: the signature authenticates each delivery'],
    ['https://receiver.example.org/#frag', true, 'must not have a #fragment'],
  ])('%s (loopback http allowed: %s) → %s', (url, loopback, expected) => {
    expect(webhookUrlProblem(url, { embedded: loopback })).toBe(expected);
  });
});
