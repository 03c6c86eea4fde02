/**
 * The embedded stack serves the built web app on the API's port without getting in the API's way:
 * files, the SPA fallback for browser navigations only, the runtime config, the demo users; and the
 * app's own paths never look like an API route.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedStack, type EmbeddedStack } from '../../lib/local/embedded-stack.ts';
import { matchRoute } from '../../lib/api/routes.ts';
import { APP_PATHS } from '../../web/src/paths.ts';

let stack: EmbeddedStack;
beforeAll(async () => {
  stack = await startEmbeddedStack({ inMemory: true, port: 0, sweepIntervalMs: 0, webhooks: { intervalMs: 0 } });
});
afterAll(async () => {
  await stack?.stop();
});

const html = { accept: 'text/html,application/xhtml+xml' };

describe('the web app on the embedded stack', () => {
  it('serves index.html at / and for client-side paths a browser navigates to, with a strict CSP', async () => {
    for (const path of ['/', '/worklist', '/plan/pl_0123456789abcdef', '/caseload/al_0123456789abcdef_1', '/sign-in?next=%2Fdashboard']) {
      const r = await fetch(`${stack.url}${path}`, { headers: html });
      expect(r.status, path).toBe(200);
      expect(r.headers.get('content-type')).toMatch(/^text\/html/);
      expect(r.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(r.headers.get('cache-control')).toBe('no-cache');
      expect(await r.text()).toContain('<div id="root"></div>');
    }
  });

  it('serves the hashed assets with a long cache life, and never files outside web/dist', async () => {
    const index = await (await fetch(`${stack.url}/`, { headers: html })).text();
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(index)?.[1];
    expect(script).toBeDefined();
    const r = await fetch(`${stack.url}${script}`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/javascript/);
    expect(r.headers.get('cache-control')).toContain('immutable');
    const escape = await fetch(`${stack.url}/assets/..%2f..%2fpackage.json`, { headers: html });
    expect(await escape.text()).not.toContain('"name": "wraparound"');
  });

  it('leaves the API alone: API paths, and unknown paths asked for as JSON, get problem+json', async () => {
    const plans = await fetch(`${stack.url}/plans`, { headers: html });
    expect(plans.status).toBe(401);
    expect(plans.headers.get('content-type')).toBe('application/problem+json');
    const unknown = await fetch(`${stack.url}/no-such-route`, { headers: { accept: 'application/json' } });
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('content-type')).toBe('application/problem+json');
    expect((await fetch(`${stack.url}/health`)).status).toBe(200);
  });

  it('tells the app it runs embedded, and offers the demo users to this machine', async () => {
    expect(await (await fetch(`${stack.url}/config.json`)).json()).toEqual({ auth: 'embedded', apiUrl: '' });
    const users = (await (await fetch(`${stack.url}/_local/demo-users`)).json()) as { items: { role: string; providerId?: string; token: string }[] };
    expect(users.items.map((u) => u.role)).toEqual(expect.arrayContaining(['coordinator', 'team-lead', 'commissioner', 'provider']));
    expect(users.items.filter((u) => u.role === 'provider').map((u) => u.providerId)).toEqual(stack.directory.organizations.map((o) => o.id));
    expect(users.items.every((u) => stack.demoUsers.some((d) => d.token === u.token))).toBe(true);
  });

  it('gives the app paths that no API route matches', () => {
    for (const pattern of APP_PATHS) {
      const path = pattern.replace(/:planId/, 'pl_0123456789abcdef').replace(/:allocationId/, 'al_0123456789abcdef_1');
      if (path === '/') continue;
      expect(matchRoute('GET', path), path).toBeUndefined();
    }
  });
});
