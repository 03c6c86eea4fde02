/**
 * A test delivery to a provider's webhook, over real HTTP: the provider (or a team lead) asks, the
 * receiver gets one webhook.test.v1 signed exactly as every delivery (verified here with the
 * `standardwebhooks` reference library) and about no plan, and the answer says what the receiver did.
 * Another provider cannot test it; nothing is queued or logged.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebhookTestEvent } from '../../lib/domain/events.ts';
import { startReceiver, startRotationStack, verifiesWith, type Receiver } from '../support/webhook-receiver.ts';
import type { TestStack } from '../support/http.ts';

let t: TestStack;
let receiver: Receiver;
let subscriptionId: string;
let secret: string;

beforeAll(async () => {
  ({ t, receiver } = await startRotationStack());
  const created = await t.call('POST', '/providers/bcwa/subscriptions', { token: t.teamLead, body: { url: `${receiver.url}/hooks` } });
  expect(created.status, created.text).toBe(201);
  subscriptionId = created.json.subscriptionId as string;
  secret = created.json.secret as string;
});
afterAll(async () => {
  await t?.stop();
  await receiver?.close();
});

const testPath = () => `/providers/bcwa/subscriptions/${subscriptionId}/test`;

describe('POST /providers/{providerId}/subscriptions/{subscriptionId}/test', () => {
  it('sends one signed webhook.test.v1 with no plan data, and says the receiver accepted it', async () => {
    receiver.secrets = [secret];
    const before = receiver.received.length;
    const res = await t.call('POST', testPath(), { token: t.provider('bcwa'), body: {} });
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({ subscriptionId, url: `${receiver.url}/hooks`, eventType: 'webhook.test.v1', accepted: true, statusCode: 204 });
    expect(res.json.durationMs).toBeGreaterThanOrEqual(0);

    const got = receiver.received.slice(before);
    expect(got).toHaveLength(1);
    const [request] = got;
    expect(verifiesWith(secret, request!)).toBe(true);
    expect(request!.headers['webhook-id']).toBe(res.json.eventId);
    expect(request!.headers['content-type']).toBe('application/cloudevents+json; charset=utf-8');
    const event = WebhookTestEvent.parse(JSON.parse(request!.body));
    expect(event).toMatchObject({ type: 'webhook.test.v1', providerid: 'bcwa', data: { test: true, subscriptionId } });
    expect(JSON.parse(request!.body)).not.toHaveProperty('subject');
  });

  it('a retry with the same Idempotency-Key is told what the first found and sends nothing again', async () => {
    const first = await t.call('POST', testPath(), { token: t.provider('bcwa'), body: {}, headers: { 'idempotency-key': 'webhook-test-0001' } });
    expect(first.status, first.text).toBe(200);
    const sent = receiver.received.length;
    const again = await t.call('POST', testPath(), { token: t.provider('bcwa'), body: {}, headers: { 'idempotency-key': 'webhook-test-0001' } });
    expect(again.json).toEqual(first.json);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(receiver.received.length).toBe(sent);
  });

  it('says when the receiver refuses it (a signature it cannot verify) or is down, and logs no delivery', async () => {
    receiver.secrets = ['whsec_' + Buffer.from('not the subscription secret at all!').toString('base64')];
    const refused = await t.call('POST', testPath(), { token: t.teamLead, body: {} });
    expect(refused.status, refused.text).toBe(200);
    expect(refused.json).toMatchObject({ accepted: false, statusCode: 401 });

    receiver.down = true;
    const down = await t.call('POST', testPath(), { token: t.provider('bcwa'), body: {} });
    receiver.down = false;
    expect(down.json).toMatchObject({ accepted: false, statusCode: 503 });

    const log = await t.call('GET', '/providers/bcwa/deliveries', { token: t.teamLead });
    expect(log.json.items).toEqual([]);
  });

  it("another provider cannot test it, a body is refused, and an unknown subscription is a 404; nothing is sent", async () => {
    const before = receiver.received.length;
    expect((await t.call('POST', testPath(), { token: t.provider('changing-lives'), body: {} })).status).toBe(403);
    const withBody = await t.call('POST', testPath(), { token: t.provider('bcwa'), body: { url: 'http://127.0.0.1:1/' } });
    expect(withBody.status).toBe(400);
    expect(withBody.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect((await t.call('POST', '/providers/bcwa/subscriptions/sub_000000000000000000000000/test', { token: t.provider('bcwa'), body: {} })).status).toBe(404);
    expect((await t.call('POST', testPath(), { token: t.coordinator, body: {} })).status).toBe(403);
    expect(receiver.received.length).toBe(before);
  });

  it('says why when nothing answers', async () => {
    const other = await startReceiver();
    await other.close();
    await t.call('DELETE', `/providers/bcwa/subscriptions/${subscriptionId}`, { token: t.teamLead });
    const created = await t.call('POST', '/providers/bcwa/subscriptions', { token: t.teamLead, body: { url: other.url } });
    const res = await t.call('POST', `/providers/bcwa/subscriptions/${created.json.subscriptionId as string}/test`, { token: t.provider('bcwa'), body: {} });
    expect(res.status, res.text).toBe(200);
    expect(res.json.accepted).toBe(false);
    expect(res.json.statusCode).toBeUndefined();
    expect(res.json.error).toMatch(/could not reach the receiver/);
    // The first subscription, now removed, is not tested.
    const old = await t.call('POST', testPath(), { token: t.provider('bcwa'), body: {} });
    expect(old.status, old.text).toBe(404);
  });
});
