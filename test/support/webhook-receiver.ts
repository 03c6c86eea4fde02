/**
 * A provider's webhook receiver for tests over real HTTP: it verifies every delivery with the
 * `standardwebhooks` reference library against the secrets its operator has configured (204 when one
 * verifies, 401 when none does, as a real receiver would answer), or is down (503).
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { expect } from 'vitest';
import { startEmbeddedStack } from '../../lib/local/embedded-stack.ts';
import { anotherParticipant, consent, controllableClock, referral, wrapStack, type Json, type TestStack } from './http.ts';

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  /** What the receiver answered: 204 when a configured secret verified it, 401 when none did, 503 when down. */
  status: number;
}

/** A provider's receiver: verifies with the secrets in `secrets` (its configuration), or is down (503). */
export interface Receiver {
  url: string;
  received: Received[];
  secrets: string[];
  down: boolean;
  /** The requests that carried this event (webhook-id), oldest first. */
  requestsFor(eventId: string): Received[];
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const state = { secrets: [] as string[], down: false };
  const received: Received[] = [];
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const verifies = state.secrets.some((secret) => verifiesWith(secret, { headers: req.headers, body }));
    const status = state.down ? 503 : verifies ? 204 : 401;
    received.push({ headers: req.headers, body, status });
    res.writeHead(status);
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    get secrets() {
      return state.secrets;
    },
    set secrets(value: string[]) {
      state.secrets = value;
    },
    get down() {
      return state.down;
    },
    set down(value: boolean) {
      state.down = value;
    },
    requestsFor: (eventId) => received.filter((r) => r.headers['webhook-id'] === eventId),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Whether the reference library accepts the request with this secret. */
export function verifiesWith(secret: string, request: Pick<Received, 'headers' | 'body'>): boolean {
  try {
    new Webhook(secret).verify(request.body, request.headers as Record<string, string>);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Run the stack's delivery loop until `done` holds (or fail after a few seconds). */
export async function deliverUntil(t: TestStack, done: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const until = Date.now() + 5_000;
  for (;;) {
    await t.stack.webhooks.runOnce();
    if (await done()) return;
    if (Date.now() > until) throw new Error(`the delivery loop did not get there: ${what}`);
    await sleep(10);
  }
}

/** A new plan whose offer goes to bcwa (domestic abuse is only theirs in Birmingham): its offer event's id. */
export async function offerToBcwa(t: TestStack): Promise<string> {
  const created = await t.call('POST', '/plans', { token: t.coordinator, body: referral({ participant: anotherParticipant() }) });
  expect(created.status, created.text).toBe(201);
  const planId = created.json.planId as string;
  expect((await t.call('POST', `/plans/${planId}/record-consent`, { token: t.coordinator, body: consent(t.clock.today()) })).status).toBe(200);
  const assessed = await t.call('POST', `/plans/${planId}/submit-assessment`, { token: t.coordinator, body: { needs: [{ domain: 'domestic-abuse', level: 'high', priority: true }] } });
  expect(assessed.status, assessed.text).toBe(200);
  const history = await t.call('GET', `/plans/${planId}/history`, { token: t.coordinator });
  const offered = (history.json.items as Json[]).find((e) => e.providerId === 'bcwa' && e.type === 'allocation.offered.v1');
  expect(offered).toBeDefined();
  return offered.id as string;
}

/** bcwa's delivery of this event, as its delivery log shows it to a team lead. */
export async function bcwaDeliveryOf(t: TestStack, eventId: string): Promise<Json | undefined> {
  const res = await t.call('GET', '/providers/bcwa/deliveries', { token: t.teamLead });
  return (res.json.items as Json[]).find((d) => d.eventId === eventId);
}

/**
 * The embedded stack the secret rotation tests run, on a clock they move, with a receiver: the test
 * runs the delivery loop itself, and retries are a few wall-clock ms apart.
 */
export async function startRotationStack(): Promise<{ t: TestStack; receiver: Receiver }> {
  const receiver = await startReceiver();
  const clock = controllableClock('2026-03-02T10:00:00.000Z');
  const stack = await startEmbeddedStack({
    inMemory: true,
    port: 0,
    sweepIntervalMs: 0,
    clock,
    webhooks: { intervalMs: 0, retrySchedule: [20, 20, 20, 20, 20, 20], jitter: 'none', timeoutMs: 2_000 },
  });
  return { t: wrapStack(stack, clock), receiver };
}
