/**
 * The demo users (every role's token) are offered to this machine only. A pilot behind a reverse proxy
 * on the same machine (nginx for TLS) sees every request come from 127.0.0.1, so the socket's address
 * alone handed the tokens to anyone who could reach the proxy. A request a proxy forwarded says so in
 * a forwarding header: it is refused like one from another machine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedStack, type EmbeddedStack } from '../../lib/local/embedded-stack.ts';

describe('GET /_local/demo-users', () => {
  let stack: EmbeddedStack;
  beforeAll(async () => {
    stack = await startEmbeddedStack({ inMemory: true, port: 0, sweepIntervalMs: 0, webhooks: { intervalMs: 0 } });
  });
  afterAll(() => stack.stop());

  it('answers this machine with the demo users', async () => {
    const res = await fetch(`${stack.url}/_local/demo-users`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { items: unknown[] }).items.length).toBeGreaterThan(0);
  });

  it.each([
    ['x-forwarded-for', '203.0.113.7'],
    ['forwarded', 'for=203.0.113.7;proto=https'],
    ['x-real-ip', '203.0.113.7'],
    ['via', '1.1 nginx'],
  ])('refuses a request a proxy passed on (%s), handing out no token', async (header, value) => {
    const res = await fetch(`${stack.url}/_local/demo-users`, { headers: { [header]: value } });
    expect(res.status).toBe(403);
    const body = await res.text();
    expect(body).toContain('not through a proxy');
    for (const user of stack.demoUsers) expect(body).not.toContain(user.token);
  });
});
