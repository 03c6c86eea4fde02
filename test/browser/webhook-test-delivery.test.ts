/**
 * A provider checks its webhook from its webhook page: "Send a test delivery" reaches its receiver
 * signed with its secret (verified with the reference library), and the page says what the receiver
 * answered, accepted or not and with its status code.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReceiver, verifiesWith, type Receiver } from '../support/webhook-receiver.ts';
import { axeScan, screenshot, signIn, startHarness, visit, type Harness } from './support.ts';

let h: Harness;
let receiver: Receiver;
beforeAll(async () => {
  h = await startHarness();
  receiver = await startReceiver();
});
afterAll(async () => {
  await h?.stop();
  await receiver?.close();
});

describe('testing a webhook from its page', () => {
  it('the provider sends a test delivery and reads what its receiver answered', async () => {
    const subscribed = await h.call('POST', '/providers/bcwa/subscriptions', h.token('team-lead'), { url: `${receiver.url}/bcwa` });
    expect(subscribed.status, subscribed.text).toBe(201);
    const secret = subscribed.json.secret as string;

    const { page, errors } = await h.page();
    await signIn(h, page, "Black Country Women's Aid");
    await visit(h, page, '/webhook');
    const form = page.getByRole('form', { name: 'Test the webhook' });
    await form.waitFor();

    // The receiver is not yet configured with the secret: it refuses, and the page says so.
    await form.getByRole('button', { name: 'Send a test delivery' }).click();
    await form.getByText(/did not accept the test delivery: it answered HTTP 401/).waitFor();
    expect(receiver.received).toHaveLength(1);

    receiver.secrets = [secret];
    await form.getByRole('button', { name: 'Send a test delivery' }).click();
    await form.getByText(/accepted the test delivery: it answered HTTP 204/).waitFor();
    expect(receiver.received).toHaveLength(2);
    const last = receiver.received.at(-1)!;
    expect(verifiesWith(secret, last)).toBe(true);
    expect(JSON.parse(last.body)).toMatchObject({ type: 'webhook.test.v1', providerid: 'bcwa' });
    expect(await axeScan(page)).toEqual([]);
    await screenshot(page, 'provider-webhook-test-delivery');
    expect(errors).toEqual([]);
  });
});
