/**
 * The demo users (every role's token) are offered to this machine only. A pilot behind a reverse proxy
 * on the same machine (nginx for TLS) sees every request come from 127.0.0.1, so the socket's address
 * alone handed the tokens to anyone who could reach the proxy. A request a proxy forwarded says so in
 * a forwarding header: it is refused like one from another machine.
 */
import { request } from 'node:http';
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

  // A proxy that adds no forwarding header still passes on the name asked for (nginx with only
  // `proxy_set_header Host $host`), and a rebound name (DNS rebinding) arrives with its own.
  it.each(['pilot.example.org', 'pilot.example.org:443', 'evil.example:3000'])('refuses a request for another name (Host: %s)', async (host) => {
    const res = await hostRequest(host);
    expect(res.status).toBe(403);
    expect(res.body).toContain('at localhost or 127.0.0.1');
    for (const user of stack.demoUsers) expect(res.body).not.toContain(user.token);
  });

  it.each(['localhost', '127.0.0.1', '[::1]', '127.0.0.2'])('answers a request for this machine by name (Host: %s and the port)', async (name) => {
    const res = await hostRequest(`${name}:${new URL(stack.url).port}`);
    expect(res.status).toBe(200);
    expect(res.body).toContain(stack.demoUsers[0]!.token);
  });

  /** fetch sets Host from the URL and will not take another: node:http sends the one given. */
  function hostRequest(host: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request(`${stack.url}/_local/demo-users`, { headers: { host } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
  }
});
