/**
 * The authorisation matrix, over real HTTP: every route of ROUTES (the command routes expanded to
 * every command segment of the lifecycle table) × every kind of caller. The expected answer of each
 * cell is worked out from the route definitions and the scope rules alone, then asserted:
 * - no token or a bad one (tampered, expired, another secret, alg none) on a non-public route: 401;
 * - a role the route does not list, an allocation command the role may not send, or another provider's
 *   id in the path: 403;
 * - another provider's allocation: 404, the answer an unknown allocation gets (allocation ids are
 *   numbered in order on a plan: any other answer would let a provider count the others on it);
 * - otherwise anything but 401/403 (and never a 5xx).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT } from 'jose';
import { LOCAL_AUDIENCE, LOCAL_ISSUER } from '../../lib/local/tokens.ts';
import { GROUP_OF_ROLE, ROUTES, type Role, type Route } from '../../lib/api/routes.ts';
import { LIFECYCLE, type CommandName } from '../../lib/domain/lifecycle.ts';
import { BAD_TOKENS, badToken, referralBody, SECRET_PARTICIPANT, startSecurityStack, type BadToken, type SecurityStack } from './support.ts';
import type { CallResult } from '../support/http.ts';

const CALLERS = ['no-token', ...BAD_TOKENS, 'coordinator', 'team-lead', 'commissioner', 'provider-own', 'provider-other'] as const;
type Caller = (typeof CALLERS)[number];
type Expected = 401 | 403 | 404 | 'ok';

interface Row {
  route: Route;
  /** The concrete command segment, for the two command routes. */
  segment?: string;
  /** The lifecycle command that segment names (allocation routes check its actors). */
  command?: CommandName;
  label: string;
}

/** Every route, with `{command}` expanded to each segment of the lifecycle table for that target. */
function rows(): Row[] {
  const out: Row[] = [];
  for (const route of ROUTES) {
    const target = route.path === '/plans/{planId}/{command}' ? 'plan' : route.path === '/allocations/{allocationId}/{command}' ? 'allocation' : undefined;
    if (!target) {
      out.push({ route, label: `${route.method} ${route.path}` });
      continue;
    }
    for (const [name, row] of Object.entries(LIFECYCLE) as [CommandName, (typeof LIFECYCLE)[CommandName]][]) {
      if (row.target !== target) continue;
      // The team lead's acknowledgement has a route of its own (a row above); every other plan segment,
      // timer ones included, is tried on the generic route (no caller may start a timer command).
      if (target === 'plan' && (row.actors as readonly string[]).includes('team-lead')) continue;
      out.push({ route, segment: row.segment, command: name, label: `${route.method} ${route.path.replace('{command}', row.segment)}` });
    }
  }
  return out;
}

const roleOf = (caller: Caller): Role | undefined =>
  caller === 'coordinator' || caller === 'team-lead' || caller === 'commissioner' ? caller : caller === 'provider-own' || caller === 'provider-other' ? 'provider' : undefined;

/** The expected answer, from the route definition and the scope rules only. */
function expectedFor(row: Row, caller: Caller): Expected {
  if (row.route.roles === 'public') return 'ok';
  const role = roleOf(caller);
  if (!role) return 401;
  if (!row.route.roles.includes(role)) return 403;
  if (row.command && row.route.path.startsWith('/allocations/') && !(LIFECYCLE[row.command].actors as readonly string[]).includes(role)) return 403;
  if (caller === 'provider-other' && row.route.path.includes('{allocationId}')) return 404;
  if (caller === 'provider-other' && row.route.path.includes('{providerId}')) return 403;
  return 'ok';
}

const ALL_ROWS = rows();
let s: SecurityStack;
/** The provider holding the fixture allocation ("own"), and another one. */
let own: string;
let other: string;
const fixture = { planId: '', allocationId: '', serviceId: '', subscriptionId: 'sub_0123456789abcdef01234567', deliveryId: '', contactAllocationId: '', contactHolder: '' };
/** The provider read of her contact details needs an accepted allocation and consent covering them: its own fixture. */
const isContactRead = (row: Row) => row.route.path === '/allocations/{allocationId}/participant';
const holderFor = (row: Row) => (isContactRead(row) ? fixture.contactHolder : own);
const strangerFor = (row: Row) => s.stack.directory.organizations.map((o) => o.id).find((id) => id !== holderFor(row)) as string;
const results = new Map<string, Map<Caller, number>>();
const commissionerAnswers: { label: string; status: number; text: string }[] = [];
const forged = new Map<string, string>();

beforeAll(async () => {
  s = await startSecurityStack();
  // A plan for the /plans/{planId} routes (coordinator commands get an empty body: refused as 400, nothing changes).
  const referred = await s.call('POST', '/plans', { token: s.coordinator, body: referralBody() });
  fixture.planId = referred.json.planId;
  // A plan in allocating with an offer, for the allocation routes.
  const second = await s.call('POST', '/plans', { token: s.coordinator, body: referralBody() });
  const planB = second.json.planId as string;
  await s.call('POST', `/plans/${planB}/record-consent`, { token: s.coordinator, body: { scope: { shareWithProviders: true, dataCategories: ['needs'] }, givenAt: s.today(), method: 'written' } });
  const assessed = await s.call('POST', `/plans/${planB}/submit-assessment`, {
    token: s.coordinator,
    body: { needs: [{ domain: 'mental-health', level: 'high', priority: true }, { domain: 'accommodation', level: 'medium', priority: false }] },
  });
  if (assessed.status !== 200) throw new Error(assessed.text);
  const offer = (assessed.json.allocations as { allocationId: string; providerId: string; serviceId: string }[])[0];
  if (!offer) throw new Error(`no offer: ${assessed.text}`);
  fixture.allocationId = offer.allocationId;
  fixture.serviceId = offer.serviceId;
  fixture.deliveryId = `dl_${planB.slice(3)}_1`;
  own = offer.providerId;
  other = s.stack.directory.organizations.map((o) => o.id).find((id) => id !== own) as string;
  // An accepted allocation on a plan whose consent covers contact details, for the provider's read of them.
  const third = await s.call('POST', '/plans', { token: s.coordinator, body: referralBody() });
  const planC = third.json.planId as string;
  await s.call('POST', `/plans/${planC}/record-consent`, { token: s.coordinator, body: { scope: { shareWithProviders: true, dataCategories: ['needs', 'contact-details'] }, givenAt: s.today(), method: 'written' } });
  const assessedC = await s.call('POST', `/plans/${planC}/submit-assessment`, { token: s.coordinator, body: { needs: [{ domain: 'mental-health', level: 'high', priority: true }] } });
  const offerC = (assessedC.json.allocations as { allocationId: string; providerId: string }[] | undefined)?.[0];
  if (!offerC) throw new Error(`no offer: ${assessedC.text}`);
  const accepted = await s.call('POST', `/allocations/${offerC.allocationId}/accept`, { token: s.provider(offerC.providerId), body: {} });
  if (accepted.status !== 200) throw new Error(`accept: ${accepted.status} ${accepted.text}`);
  fixture.contactAllocationId = offerC.allocationId;
  fixture.contactHolder = offerC.providerId;
});
afterAll(async () => {
  await s?.stop();
});

async function tokenFor(row: Row, caller: Caller): Promise<string | undefined> {
  switch (caller) {
    case 'no-token':
      return undefined;
    case 'coordinator':
      return s.coordinator;
    case 'team-lead':
      return s.teamLead;
    case 'commissioner':
      return s.commissioner;
    case 'provider-own':
      return s.provider(holderFor(row));
    case 'provider-other':
      // On an allocation route, another provider's token; on a {providerId} route, our token on their id.
      return row.route.path.includes('{allocationId}') ? s.provider(strangerFor(row)) : s.provider(own);
    default: {
      // A bad token for a role the route allows: the signature, not the role, is what fails.
      const role: Role = row.route.roles === 'public' ? 'coordinator' : (row.route.roles[0] as Role);
      const key = `${caller}:${role}`;
      if (!forged.has(key)) forged.set(key, await badToken(s.stack, caller as BadToken, role, role === 'provider' ? own : undefined));
      return forged.get(key);
    }
  }
}

function pathFor(row: Row, caller: Caller): string {
  const providerId = caller === 'provider-other' && !row.route.path.includes('{allocationId}') ? other : own;
  const values: Record<string, string> = {
    planId: fixture.planId,
    command: row.segment ?? '',
    allocationId: isContactRead(row) ? fixture.contactAllocationId : fixture.allocationId,
    providerId,
    serviceId: fixture.serviceId,
    subscriptionId: fixture.subscriptionId,
    deliveryId: fixture.deliveryId,
  };
  return row.route.path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`the matrix has no value for {${name}} in ${row.route.path}: add one`);
    return value;
  });
}

/** A body each allowed caller could send for real (valid where cheap, so scope checks are reached). */
function bodyFor(row: Row): unknown {
  if (row.route.method === 'GET' || row.route.method === 'DELETE') return undefined;
  if (row.route.path === '/plans') return referralBody();
  if (row.route.path.endsWith('/erase-identity')) return { reason: 'recorded-in-error' };
  if (row.route.path.endsWith('/escalations/acknowledge')) return { kind: 'assessment-overdue' };
  if (row.route.path === '/plans/{planId}/participant') return { contact: { phone: '07700 900321', preferredMethod: 'phone-call', safeToLeaveVoicemail: false } };
  if (row.route.path === '/providers/{providerId}/subscriptions') return { url: 'http://127.0.0.1:9/matrix-hook' };
  switch (row.command) {
    case 'accept-offer':
      return {};
    case 'decline-offer':
      return { reason: 'capacity' };
    case 'record-contact':
      return { date: s.today(), kind: 'attended' };
    case 'correct-contact':
      return { session: 1, withdrawn: true, reason: 'recorded-twice' };
    case 'end-allocation':
      return { outcome: 'completed' };
    default:
      return {};
  }
}

const show = (expected: Expected) => (expected === 'ok' ? 'ok' : String(expected));

describe('authorisation matrix: every route × every caller', () => {
  it('covers every route of ROUTES and every command segment', () => {
    const plain = ROUTES.filter((r) => !r.path.endsWith('/{command}')).length;
    const planSegments = Object.values(LIFECYCLE).filter((r) => r.target === 'plan' && !(r.actors as readonly string[]).includes('team-lead')).length;
    expect(ALL_ROWS.map((r) => r.label)).toContain('POST /plans/{planId}/escalations/acknowledge');
    const allocationSegments = Object.values(LIFECYCLE).filter((r) => r.target === 'allocation').length;
    expect(ALL_ROWS).toHaveLength(plain + planSegments + allocationSegments);
    expect(ALL_ROWS.filter((r) => r.command && r.route.path.startsWith('/allocations/{allocationId}/')).map((r) => r.segment)).toEqual(['accept', 'decline', 'record-contact', 'correct-contact', 'end']);
  });

  it.each(ALL_ROWS.map((row) => [row.label, row] as const))('%s', async (_label, row) => {
    const answers = new Map<Caller, number>();
    results.set(row.label, answers);
    for (const caller of CALLERS) {
      const token = await tokenFor(row, caller);
      const body = bodyFor(row);
      const res: CallResult = await s.call(row.route.method, pathFor(row, caller), { ...(token ? { token } : {}), ...(body !== undefined ? { body } : {}) });
      answers.set(caller, res.status);
      if (row.route.path === '/providers/{providerId}/subscriptions' && row.route.method === 'POST' && res.status === 201) fixture.subscriptionId = res.json.subscriptionId;
      if (caller === 'commissioner' && row.route.roles !== 'public') commissionerAnswers.push({ label: row.label, status: res.status, text: res.text });
      const expected = expectedFor(row, caller);
      const cell = `${row.label} as ${caller}: ${res.status} ${res.text.slice(0, 200)}`;
      if (expected === 'ok') {
        expect.soft([401, 403], cell).not.toContain(res.status);
        expect.soft(res.status, cell).toBeLessThan(500);
      } else {
        expect.soft(res.status, cell).toBe(expected);
        if (expected === 401) expect.soft(res.headers.get('www-authenticate'), cell).toBe('Bearer');
      }
    }
  });

  it('prints the matrix (expected / actual) and every cell was asserted', () => {
    const width = Math.max(...ALL_ROWS.map((r) => r.label.length));
    const head = `${'route'.padEnd(width)} | ${CALLERS.map((c) => c.padEnd(14)).join(' | ')}`;
    const lines = [head, '-'.repeat(head.length)];
    let cells = 0;
    let mismatches = 0;
    for (const row of ALL_ROWS) {
      const answers = results.get(row.label);
      const cellsOfRow = CALLERS.map((caller) => {
        const expected = expectedFor(row, caller);
        const actual = answers?.get(caller);
        cells += actual === undefined ? 0 : 1;
        const good = actual !== undefined && (expected === 'ok' ? actual !== 401 && actual !== 403 && actual < 500 : actual === expected);
        if (!good) mismatches += 1;
        return `${show(expected)}/${actual ?? '—'}${good ? '' : ' ✗'}`.padEnd(14);
      });
      lines.push(`${row.label.padEnd(width)} | ${cellsOfRow.join(' | ')}`);
    }
    lines.push('', `${ALL_ROWS.length} routes × ${CALLERS.length} callers = ${cells} cells; ${mismatches} not as expected. Cell: expected/actual (ok = anything but 401/403/5xx).`);
    console.log(lines.join('\n'));
    expect(cells).toBe(ALL_ROWS.length * CALLERS.length);
    expect(mismatches).toBe(0);
  });

  it('gives commissioners only the /metrics routes (and public ones), never a plan, a name or a reference', () => {
    const forCommissioners = ALL_ROWS.filter((r) => r.route.roles !== 'public' && expectedFor(r, 'commissioner') === 'ok').map((r) => r.route.path);
    expect(forCommissioners.length).toBeGreaterThan(0);
    for (const path of forCommissioners) expect(path).toMatch(/^\/metrics(\.csv)?$/);
    for (const row of ALL_ROWS.filter((r) => r.route.roles !== 'public' && !r.route.path.startsWith('/metrics'))) expect(results.get(row.label)?.get('commissioner'), row.label).toBe(403);
    expect(commissionerAnswers.length).toBeGreaterThan(0);
    expect(commissionerAnswers.filter((a) => a.status === 200).map((a) => a.label)).toEqual(['GET /metrics', 'GET /metrics.csv']);
    for (const { label, status, text } of commissionerAnswers) {
      // A refusal echoes the caller's own path as its `instance`; nothing else in it may name a plan.
      const told = status === 200 ? text : JSON.stringify({ ...(JSON.parse(text) as object), instance: undefined });
      for (const secret of [fixture.planId, fixture.allocationId, SECRET_PARTICIPANT.givenName, SECRET_PARTICIPANT.familyName, 'pl_', 'al_', 'pt_', 'planRef', 'participantId'])
        expect(told, `${label} tells a commissioner ${secret}`).not.toContain(secret);
    }
  });

  it("refuses a provider on another provider's allocation (404, as an unknown one), feed, subscriptions, offers and deliveries (403)", () => {
    const notFound = [
      'GET /allocations/{allocationId}',
      'GET /allocations/{allocationId}/participant',
      'POST /allocations/{allocationId}/accept',
      'POST /allocations/{allocationId}/decline',
      'POST /allocations/{allocationId}/record-contact',
      'POST /allocations/{allocationId}/end',
    ];
    for (const wanted of notFound) {
      const row = ALL_ROWS.find((r) => r.label === wanted);
      expect(row, wanted).toBeDefined();
      expect(results.get(row?.label as string)?.get('provider-other'), wanted).toBe(404);
    }
    const mustRefuse = [
      'GET /providers/{providerId}/offers',
      'GET /providers/{providerId}/allocations',
      'GET /providers/{providerId}/feed',
      'GET /providers/{providerId}/subscriptions',
      'GET /providers/{providerId}/deliveries',
      'POST /providers/{providerId}/deliveries/{deliveryId}/replay',
    ];
    for (const wanted of mustRefuse) {
      const row = ALL_ROWS.find((r) => r.label === wanted);
      expect(row, wanted).toBeDefined();
      expect(results.get(row?.label as string)?.get('provider-other'), wanted).toBe(403);
    }
  });
});

describe('tokens: algorithm pinned, issuer, audience and expiry checked', () => {
  const HOUR = 3600;
  /** A coordinator token signed with the stack's own secret, with exactly the time claims and sub given. */
  async function signed(claims: { sub?: string; iat?: number; exp?: number }): Promise<string> {
    const jwt = new SignJWT({ name: 'Signed coordinator', 'cognito:groups': [GROUP_OF_ROLE.coordinator], ...(claims.iat !== undefined ? { iat: claims.iat } : {}) })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(LOCAL_ISSUER)
      .setAudience(LOCAL_AUDIENCE);
    if (claims.sub !== undefined) jwt.setSubject(claims.sub);
    if (claims.exp !== undefined) jwt.setExpirationTime(claims.exp);
    return jwt.sign(s.stack.tokens.secret);
  }
  const now = () => Math.floor(Date.now() / 1000);

  it('accepts a token with sub, iat and exp issued less than a day ago (the control)', async () => {
    for (const claims of [
      { sub: 'coordinator-fresh', iat: now(), exp: now() + HOUR },
      { sub: 'coordinator-23h', iat: now() - 23 * HOUR, exp: now() + HOUR },
    ]) {
      const token = await signed(claims);
      expect(await s.stack.tokens.verify(token), JSON.stringify(claims)).toMatchObject({ sub: claims.sub });
      expect((await s.call('GET', `/plans/${fixture.planId}`, { token })).status, JSON.stringify(claims)).toBe(200);
    }
  });

  it.each([
    ['without exp', () => ({ sub: 'coordinator-no-exp', iat: now() })],
    ['without iat', () => ({ sub: 'coordinator-no-iat', exp: now() + HOUR })],
    ['without sub', () => ({ iat: now(), exp: now() + HOUR })],
    ['issued 25 hours ago, valid for a century', () => ({ sub: 'coordinator-old', iat: now() - 25 * HOUR, exp: now() + 100 * 365 * 24 * HOUR })],
    ['issued a year ago, not yet expired', () => ({ sub: 'coordinator-year', iat: now() - 365 * 24 * HOUR, exp: now() + HOUR })],
    ['issued an hour in the future', () => ({ sub: 'coordinator-future', iat: now() + HOUR, exp: now() + 2 * HOUR })],
  ])('refuses a token %s, signed with the right secret (401, and verify() gives nothing)', async (_what, claims) => {
    const token = await signed(claims());
    expect(await s.stack.tokens.verify(token)).toBeUndefined();
    const res = await s.call('GET', `/plans/${fixture.planId}`, { token });
    expect(res.status, res.text).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    expect(res.text).not.toContain(SECRET_PARTICIPANT.familyName);
  });
});

describe('scope before anything else on allocation commands', () => {
  /** A plan with an allocation, then exited: its allocation commands can only be refused. */
  let exited: { allocationId: string; holder: string; stranger: string };

  beforeAll(async () => {
    const referred = await s.call('POST', '/plans', { token: s.coordinator, body: referralBody() });
    const planId = referred.json.planId as string;
    await s.call('POST', `/plans/${planId}/record-consent`, { token: s.coordinator, body: { scope: { shareWithProviders: true, dataCategories: ['needs'] }, givenAt: s.today(), method: 'written' } });
    const assessed = await s.call('POST', `/plans/${planId}/submit-assessment`, { token: s.coordinator, body: { needs: [{ domain: 'mental-health', level: 'high', priority: true }] } });
    const offer = (assessed.json.allocations as { allocationId: string; providerId: string }[] | undefined)?.[0];
    if (!offer) throw new Error(`no offer: ${assessed.text}`);
    const exit = await s.call('POST', `/plans/${planId}/exit`, { token: s.coordinator, body: { reason: 'completed' } });
    if (exit.status !== 200 || exit.json.stage !== 'exited') throw new Error(`exit: ${exit.status} ${exit.text}`);
    exited = { allocationId: offer.allocationId, holder: offer.providerId, stranger: s.stack.directory.organizations.map((o) => o.id).find((id) => id !== offer.providerId) as string };
  });

  const VALID: Record<string, unknown> = {
    accept: {},
    decline: { reason: 'capacity' },
    'record-contact': { date: '2026-03-02', kind: 'attended' },
    'correct-contact': { session: 1, withdrawn: true, reason: 'recorded-twice' },
    end: { outcome: 'completed' },
  };
  const INVALID = { unexpected: true, date: 'not a date' };
  const SEGMENTS = ['accept', 'decline', 'record-contact', 'correct-contact', 'end'] as const;

  /** The answer less its `instance` (the caller's own path), with the allocation id put back as ID: the same for any two unknown ids. */
  const answerOf = (res: CallResult, allocationId: string) => JSON.stringify({ ...(res.json as object), instance: undefined }).replaceAll(allocationId, 'ID');

  it("answers a provider on another provider's allocation 404 whatever the plan's stage, as an unknown one", async () => {
    const unknownId = exited.allocationId.replace(/_\d+$/, '_99');
    for (const segment of SEGMENTS) {
      const path = `/allocations/${exited.allocationId}/${segment}`;
      const stranger = await s.call('POST', path, { token: s.provider(exited.stranger), body: VALID[segment] });
      expect(stranger.status, `${segment} by another provider: ${stranger.text}`).toBe(404);
      const unknown = await s.call('POST', `/allocations/${unknownId}/${segment}`, { token: s.provider(exited.stranger), body: VALID[segment] });
      expect(unknown.status).toBe(404);
      expect(answerOf(stranger, exited.allocationId)).toBe(answerOf(unknown, unknownId));
      expect(stranger.text).not.toContain('exited');
      // The control: the holder is told the plan has moved on, so a stranger's 409 would have said so too.
      const holder = await s.call('POST', path, { token: s.provider(exited.holder), body: VALID[segment] });
      expect(holder.status, `${segment} by the holder: ${holder.text}`).toBe(409);
    }
  });

  it("answers a provider on another provider's allocation 404 whatever the body", async () => {
    for (const segment of SEGMENTS) {
      const path = `/allocations/${fixture.allocationId}/${segment}`;
      for (const body of [INVALID, 'not json at all']) {
        const stranger = await s.call('POST', path, { token: s.provider(other), body });
        expect(stranger.status, `${segment} by another provider with ${JSON.stringify(body)}: ${stranger.text}`).toBe(404);
        expect(stranger.text).not.toMatch(/unexpected|date|JSON/i);
        // The control: the holder's own bad body is a 400.
        expect((await s.call('POST', path, { token: s.provider(own), body })).status, `${segment} by the holder with ${JSON.stringify(body)}`).toBe(400);
      }
    }
  });

  it('answers a provider 404 for an allocation that does not exist, whatever the body', async () => {
    const planSuffix = fixture.allocationId.replace(/^al_/, '').replace(/_\d+$/, '');
    for (const allocationId of [`al_${planSuffix}_99`, 'al_zzzzzzzzzzzzzzzzzzzzzzzz_1']) {
      for (const body of [INVALID, VALID.accept]) {
        const res = await s.call('POST', `/allocations/${allocationId}/accept`, { token: s.provider(own), body });
        expect(res.status, `${allocationId} with ${JSON.stringify(body)}: ${res.text}`).toBe(404);
      }
    }
  });
});
