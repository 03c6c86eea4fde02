/**
 * Sign-in as it works on AWS, through a hosted UI: the embedded stack's config.json names a fake
 * authorization server started here (Cognito's /oauth2/authorize, /oauth2/token and /logout), which
 * signs people in without asking, checks the PKCE verifier against the challenge, and hands out ID
 * tokens the API under test accepts (signed with the stack's own key, shaped like Cognito's).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Role } from '../../lib/api/routes.ts';
import { axeScan, describeViolations, horizontalOverflow, LAYOUT_RULES, MOBILE, screenshot, startHarness, type Harness } from './support.ts';

const CLIENT_ID = 'wraparound-web-test';
const SCOPE = 'openid email profile';

interface Person {
  role: Role;
  providerId?: string;
  name: string;
  /** How long the ID token lasts (Cognito's is an hour). */
  idTokenSeconds?: number;
}

/** What the fake authorization server does with the next /oauth2/authorize. */
type Answer = 'sign-in' | 'deny' | 'wrong-state';

interface Grant {
  person: Person;
  challenge: string;
  redirectUri: string;
  used: boolean;
}

let h: Harness;
let auth: Server;
let authOrigin: string;
let webOrigin: string;

/** The fake's knobs and what it saw. */
const fake = {
  person: undefined as Person | undefined,
  answer: 'sign-in' as Answer,
  tokenEndpointDown: false,
  refuseRefresh: false,
  authorizeRequests: [] as URLSearchParams[],
  tokenRequests: [] as { form: URLSearchParams; status: number }[],
  logoutRequests: [] as URLSearchParams[],
  revokeRequests: [] as URLSearchParams[],
  grants: new Map<string, Grant>(),
  refreshTokens: new Map<string, Person>(),
};

const base64url = (bytes: Buffer) => bytes.toString('base64url');

async function formOf(req: IncomingMessage): Promise<URLSearchParams> {
  let body = '';
  for await (const chunk of req) body += (chunk as Buffer).toString();
  return new URLSearchParams(body);
}

const idTokenFor = (person: Person) =>
  h.stack.tokens.issue({ role: person.role, name: person.name, sub: `hosted-${person.name}`, ...(person.providerId ? { providerId: person.providerId } : {}), ttlSeconds: person.idTokenSeconds ?? 3600 });

/** Cognito's endpoints, as far as the web app uses them. */
function startAuthorizationServer(): Promise<void> {
  auth = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', authOrigin);
      // The token endpoint is fetched from the web app's origin: Cognito answers it with CORS headers.
      const cors = { 'access-control-allow-origin': webOrigin, vary: 'origin' };
      if (req.method === 'GET' && url.pathname === '/oauth2/authorize') {
        const q = url.searchParams;
        fake.authorizeRequests.push(q);
        const redirect = new URL(q.get('redirect_uri') ?? '');
        if (q.get('client_id') !== CLIENT_ID || q.get('redirect_uri') !== `${webOrigin}/sign-in` || q.get('response_type') !== 'code') {
          res.writeHead(400, { 'content-type': 'text/plain' }).end('bad authorize request');
          return;
        }
        if (fake.answer === 'deny') {
          redirect.search = new URLSearchParams({ error: 'access_denied', state: q.get('state') ?? '' }).toString();
        } else {
          const code = base64url(randomBytes(16));
          fake.grants.set(code, { person: fake.person as Person, challenge: q.get('code_challenge') ?? '', redirectUri: q.get('redirect_uri') ?? '', used: false });
          redirect.search = new URLSearchParams({ code, state: fake.answer === 'wrong-state' ? 'a-state-this-tab-never-sent' : (q.get('state') ?? '') }).toString();
        }
        res.writeHead(302, { location: redirect.toString() }).end();
        return;
      }
      if (req.method === 'POST' && url.pathname === '/oauth2/token') {
        const form = await formOf(req);
        const answer = (status: number, body: object) => {
          fake.tokenRequests.push({ form, status });
          res.writeHead(status, { 'content-type': 'application/json', ...cors }).end(JSON.stringify(body));
        };
        if (fake.tokenEndpointDown) return answer(500, { error: 'internal_error' });
        if (req.headers['content-type'] !== 'application/x-www-form-urlencoded' || form.get('client_id') !== CLIENT_ID) return answer(400, { error: 'invalid_client' });
        if (form.get('grant_type') === 'refresh_token') {
          const person = fake.refreshTokens.get(form.get('refresh_token') ?? '');
          if (!person || fake.refuseRefresh) return answer(400, { error: 'invalid_grant' });
          // A renewed token lasts the usual hour.
          return answer(200, { id_token: await idTokenFor({ ...person, idTokenSeconds: 3600 }), access_token: 'not-used', token_type: 'Bearer', expires_in: 3600 });
        }
        const grant = fake.grants.get(form.get('code') ?? '');
        const verifier = form.get('code_verifier') ?? '';
        const challenge = base64url(createHash('sha256').update(verifier).digest());
        if (form.get('grant_type') !== 'authorization_code' || !grant || grant.used || grant.redirectUri !== form.get('redirect_uri') || challenge !== grant.challenge) return answer(400, { error: 'invalid_grant' });
        grant.used = true;
        const refreshToken = base64url(randomBytes(24));
        fake.refreshTokens.set(refreshToken, grant.person);
        return answer(200, { id_token: await idTokenFor(grant.person), access_token: 'not-used', refresh_token: refreshToken, token_type: 'Bearer', expires_in: 3600 });
      }
      if (req.method === 'POST' && url.pathname === '/oauth2/revoke') {
        const form = await formOf(req);
        fake.revokeRequests.push(form);
        if (form.get('client_id') === CLIENT_ID) fake.refreshTokens.delete(form.get('token') ?? '');
        res.writeHead(200, cors).end();
        return;
      }
      if (req.method === 'GET' && url.pathname === '/logout') {
        fake.logoutRequests.push(url.searchParams);
        res.writeHead(302, { location: url.searchParams.get('logout_uri') ?? '/' }).end();
        return;
      }
      res.writeHead(404).end();
    })().catch((error: unknown) => res.writeHead(500).end(String(error)));
  });
  return new Promise((resolve) => auth.listen(0, '127.0.0.1', resolve));
}

/** A port nobody listens on now, so the redirect URLs can be written into config.json before the stack starts. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

beforeAll(async () => {
  await startAuthorizationServer();
  authOrigin = `http://127.0.0.1:${(auth.address() as AddressInfo).port}`;
  const port = await freePort();
  webOrigin = `http://127.0.0.1:${port}`;
  h = await startHarness({
    port,
    // What the CDK stack writes to config.json on AWS (lib/infra/web.ts WebRuntimeConfig).
    webRuntimeConfig: { stage: 'test', region: 'eu-west-2', apiUrl: '', userPoolId: 'eu-west-2_test', userPoolClientId: CLIENT_ID, hostedUiDomain: authOrigin, redirectUri: `${webOrigin}/sign-in`, logoutUri: `${webOrigin}/`, scope: SCOPE },
  });
  expect(h.url).toBe(webOrigin);
});

afterAll(async () => {
  await h?.stop();
  await new Promise((resolve) => auth?.close(resolve));
});

beforeEach(() => {
  fake.person = undefined;
  fake.answer = 'sign-in';
  fake.tokenEndpointDown = false;
  fake.refuseRefresh = false;
  fake.authorizeRequests.length = 0;
  fake.tokenRequests.length = 0;
  fake.logoutRequests.length = 0;
  fake.revokeRequests.length = 0;
});

const signInButton = (page: Page) => page.getByRole('button', { name: 'Sign in', exact: true });
const alertText = async (page: Page) => (await page.getByRole('alert').textContent())?.trim();

/** What the tab keeps: tokens in session storage only, nothing in local storage. */
const storage = (page: Page) =>
  page.evaluate(() => {
    const w = globalThis as unknown as { sessionStorage: Storage; localStorage: Storage };
    return { session: w.sessionStorage.getItem('wraparound.session'), local: w.localStorage.length };
  });

describe('sign-in through the hosted UI (as on AWS)', () => {
  it('offers no demo users, only "Sign in" with the organisation account; the page passes axe at both widths', async () => {
    const { page, errors } = await h.page();
    await page.goto(`${h.url}/`);
    await signInButton(page).waitFor();
    expect(new URL(page.url()).pathname).toBe('/sign-in');
    expect(await page.getByRole('button', { name: /^Sign in as / }).count()).toBe(0);
    // As CloudFront's policy on AWS: the page may fetch from the hosted UI (its token endpoint), and from no other origin.
    const csp = (await fetch(`${h.url}/sign-in`, { headers: { accept: 'text/html' } })).headers.get('content-security-policy');
    expect(csp).toContain(`connect-src 'self' ${authOrigin};`);
    expect(describeViolations(await axeScan(page))).toBe('');
    await screenshot(page, 'sign-in-hosted-ui-desktop');
    await page.setViewportSize(MOBILE);
    expect(describeViolations(await axeScan(page, LAYOUT_RULES))).toBe('');
    expect(await horizontalOverflow(page)).toBe(0);
    expect(errors).toEqual([]);
  });

  it('a coordinator clicking "Sign in" goes to the hosted UI with a PKCE S256 challenge and state, and ends on her worklist signed in as a coordinator', async () => {
    fake.person = { role: 'coordinator', name: 'Carol Coordinator' };
    const { page, errors } = await h.page();
    await page.goto(`${h.url}/worklist`);
    await signInButton(page).click();
    await page.getByRole('heading', { level: 1, name: 'Worklist' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/worklist');
    expect(new URL(page.url()).search).toBe('');
    await expect.poll(() => page.locator('.who').textContent()).toContain('Carol Coordinator (Coordinator)');

    const [authorize] = fake.authorizeRequests;
    expect(Object.fromEntries(authorize as URLSearchParams)).toMatchObject({ response_type: 'code', client_id: CLIENT_ID, redirect_uri: `${webOrigin}/sign-in`, scope: SCOPE, code_challenge_method: 'S256' });
    expect(authorize?.get('state')).toMatch(/^[A-Za-z0-9_-]{16,}$/);
    expect(authorize?.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // One code exchange, whose verifier the server checked against the challenge.
    expect(fake.tokenRequests.map((r) => [r.form.get('grant_type'), r.status])).toEqual([['authorization_code', 200]]);
    expect(fake.tokenRequests[0]?.form.get('code_verifier')).toMatch(/^[A-Za-z0-9_-]{43,128}$/);

    const kept = await storage(page);
    expect(kept.local).toBe(0);
    expect(JSON.parse(kept.session ?? '{}')).toMatchObject({ role: 'coordinator', refreshToken: expect.any(String) });
    expect(errors).toEqual([]);
  });

  it('a provider lands on her offers, acting for her own organisation', async () => {
    fake.person = { role: 'provider', providerId: 'bcwa', name: 'Bea Provider' };
    const { page, errors } = await h.page();
    await page.goto(`${h.url}/`);
    await signInButton(page).click();
    await page.getByRole('heading', { level: 1, name: 'Offers' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/inbox');
    await expect.poll(() => page.locator('.who').textContent()).toContain('Bea Provider (Provider)');
    expect(JSON.parse((await storage(page)).session ?? '{}')).toMatchObject({ role: 'provider', providerId: 'bcwa' });
    expect(errors).toEqual([]);
  });

  it('renews an ID token about to expire with the refresh token before calling the API', async () => {
    // Signed in with an ID token that has under the two-minute margin left: the first API call renews it.
    fake.person = { role: 'coordinator', name: 'Rita Renewed', idTokenSeconds: 60 };
    const { page, errors } = await h.page();
    await page.goto(`${h.url}/worklist`);
    await signInButton(page).click();
    await page.getByRole('heading', { level: 1, name: 'Worklist' }).waitFor();
    await expect.poll(() => fake.tokenRequests.map((r) => `${r.form.get('grant_type')} ${r.status}`)).toContain('refresh_token 200');
    await expect.poll(async () => JSON.parse((await storage(page)).session ?? '{}').expiresAt - Date.now() / 1000).toBeGreaterThan(600);
    // Still signed in: the API took the renewed token.
    expect(new URL(page.url()).pathname).toBe('/worklist');
    await expect.poll(() => page.locator('.who').textContent()).toContain('Rita Renewed');
    expect(errors).toEqual([]);
  });

  it('sends the person to sign in again, saying why, when the refresh token is no longer accepted', async () => {
    fake.person = { role: 'coordinator', name: 'Una Unrenewed', idTokenSeconds: 60 };
    const { page } = await h.page();
    await page.goto(`${h.url}/`);
    // Its refresh token refused (revoked, or its 12 hours up) when the first API call needs it.
    fake.refuseRefresh = true;
    await signInButton(page).click();
    await page.getByText('Your sign-in has ended or is no longer accepted: sign in again.').waitFor();
    expect(new URL(page.url()).pathname).toBe('/sign-in');
    expect(fake.tokenRequests.map((r) => `${r.form.get('grant_type')} ${r.status}`)).toEqual(['authorization_code 200', 'refresh_token 400']);
    expect((await storage(page)).session).toBeNull();
  });

  it('refuses an answer whose state is not the one this tab sent, and says so in plain words', async () => {
    fake.person = { role: 'coordinator', name: 'Carol Coordinator' };
    fake.answer = 'wrong-state';
    const { page, errors } = await h.page();
    await page.goto(`${h.url}/`);
    await signInButton(page).click();
    await page.getByRole('alert').waitFor();
    expect(await alertText(page)).toBe('This sign-in did not start in this browser tab, or has already been used, so it was refused to keep your account safe. Sign in again.');
    // The code was never exchanged, nobody is signed in, and the used code is gone from the address.
    expect(fake.tokenRequests).toEqual([]);
    expect((await storage(page)).session).toBeNull();
    expect(page.url()).toBe(`${webOrigin}/sign-in`);
    expect(describeViolations(await axeScan(page))).toBe('');
    await screenshot(page, 'sign-in-hosted-ui-refused');
    expect(errors).toEqual([]);
  });

  it('says so when the person cancels or is refused at the hosted UI (error=access_denied)', async () => {
    fake.answer = 'deny';
    const { page } = await h.page();
    await page.goto(`${h.url}/`);
    await signInButton(page).click();
    await page.getByRole('alert').waitFor();
    expect(await alertText(page)).toBe('Sign-in was cancelled or refused, so you are not signed in.');
    expect((await storage(page)).session).toBeNull();
  });

  it('says so when the token endpoint fails, and signs in on the next try', async () => {
    fake.person = { role: 'commissioner', name: 'Cora Commissioner' };
    fake.tokenEndpointDown = true;
    const { page } = await h.page();
    await page.goto(`${h.url}/`);
    await signInButton(page).click();
    await page.getByRole('alert').waitFor();
    expect(await alertText(page)).toBe('The sign-in service refused to complete your sign-in (internal_error). Sign in again.');
    expect((await storage(page)).session).toBeNull();
    fake.tokenEndpointDown = false;
    await signInButton(page).click();
    await page.getByRole('heading', { level: 1, name: /figures/i }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/dashboard');
  });

  it('"Sign out" ends the hosted UI session at its /logout and comes back to the sign-in page, signed out', async () => {
    fake.person = { role: 'coordinator', name: 'Carol Coordinator' };
    const { page, errors } = await h.page();
    await page.goto(`${h.url}/worklist`);
    await signInButton(page).click();
    await page.getByRole('heading', { level: 1, name: 'Worklist' }).waitFor();
    const { refreshToken } = JSON.parse((await storage(page)).session ?? '{}') as { refreshToken: string };
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByText('You have signed out.').waitFor();
    // The refresh token is revoked (a copy left behind is worthless), then the hosted UI's session ends.
    expect(fake.revokeRequests.map((q) => Object.fromEntries(q))).toEqual([{ token: refreshToken, client_id: CLIENT_ID }]);
    expect(fake.refreshTokens.has(refreshToken)).toBe(false);
    expect(fake.logoutRequests.map((q) => Object.fromEntries(q))).toEqual([{ client_id: CLIENT_ID, logout_uri: `${webOrigin}/` }]);
    expect(new URL(page.url()).pathname).toBe('/sign-in');
    expect((await storage(page)).session).toBeNull();
    await signInButton(page).waitFor();
    // Back to a signed-in page: the sign-in page again.
    await page.goto(`${h.url}/worklist`);
    await signInButton(page).waitFor();
    expect(new URL(page.url()).pathname).toBe('/sign-in');
    expect(errors).toEqual([]);
  });
});
