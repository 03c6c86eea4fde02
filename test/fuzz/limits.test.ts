/**
 * Every limit, at its edge, over real HTTP: the request body (64 KiB, with a Content-Length and
 * chunked), string lengths, array sizes, page sizes and numeric ranges. At the limit the request
 * goes through; one past it is a 4xx application/problem+json naming the field, and the store is
 * exactly as it was.
 */
import { connect } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES } from '../../lib/api/http.ts';
import { MAX_SERVICE_CAPACITY } from '../../lib/domain/vocabulary.ts';
import { NEED_DOMAINS } from '../../lib/domain/taxonomy.ts';
import { ADJUSTMENTS, DATA_CATEGORIES } from '../../lib/domain/schemas.ts';
import { startEmbeddedStack, type EmbeddedStack } from '../../lib/local/embedded-stack.ts';
import { ROUTES } from '../../lib/api/routes.ts';
import { anotherParticipant, consent, referral, type Json, type PlanJson, type TestStack } from '../support/http.ts';
import { RawClient, type RawResponse } from './raw-http.ts';
import { diff, describeDiff, snapshot } from './store.ts';
import { roomyProvidersFile, testView } from './targets.ts';
import { addDaysToDate, addMonthsToDate, firstOfQuarter } from '../../lib/domain/metrics/dates.ts';

let dir: string;
let stack: EmbeddedStack;
let t: TestStack;
let raw: RawClient;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wraparound-limits-'));
  stack = await startEmbeddedStack({ inMemory: true, port: 0, sweepIntervalMs: 0, clockMode: 'simulated', providersFile: await roomyProvidersFile(dir), webhooks: { intervalMs: 0 } });
  t = testView(stack);
  raw = new RawClient(stack.url, 2);
});
afterAll(async () => {
  raw?.close();
  await stack?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const today = () => stack.clock.now().slice(0, 10);

async function post(path: string, token: string, body: unknown, status: number, headers: Record<string, string> = {}): Promise<Json> {
  const res = await t.call('POST', path, { token, body, headers });
  expect(res.status, `${path}: ${res.text.slice(0, 300)}`).toBe(status);
  return res.json;
}
const referred = async (): Promise<PlanJson> => post('/plans', t.coordinator, referral({ participant: anotherParticipant() }), 201);
const inAssessment = async (): Promise<PlanJson> => {
  const plan = await referred();
  return post(`/plans/${plan.planId}/record-consent`, t.coordinator, consent(today()), 200);
};
const active = async (): Promise<PlanJson> => {
  const plan = await inAssessment();
  const allocating = await post(`/plans/${plan.planId}/submit-assessment`, t.coordinator, { needs: [{ domain: 'mental-health', level: 'high', priority: true }] }, 200);
  const offer = allocating.allocations.find((a: Json) => a.status === 'offered');
  await post(`/allocations/${offer.allocationId}/accept`, t.provider(offer.providerId), {}, 200);
  return (await t.call('GET', `/plans/${plan.planId}`, { token: t.coordinator })).json;
};

function checkProblem(res: { status: number; headers: { get(name: string): string | null } | Record<string, unknown>; text: string }, status: number, label: string) {
  expect(res.status, `${label}: ${res.text.slice(0, 300)}`).toBe(status);
  const type = 'get' in res.headers && typeof res.headers.get === 'function' ? res.headers.get('content-type') : (res.headers as Record<string, unknown>)['content-type'];
  expect(type, label).toBe('application/problem+json');
  const body = JSON.parse(res.text) as Json;
  expect(body.status, label).toBe(status);
  expect(String(body.detail).length, label).toBeGreaterThan(0);
  return body;
}

/** One past a limit: refused with `status`, naming `field`, and nothing in the table changed. */
async function refused(method: string, path: string, token: string | undefined, body: unknown, field: string | undefined, status = 400, headers: Record<string, string> = {}) {
  const before = await snapshot(stack);
  const res = await t.call(method, path, { ...(token ? { token } : {}), ...(body !== undefined ? { body } : {}), headers });
  const problem = checkProblem(res, status, `${method} ${path}`);
  if (field) expect((problem.errors ?? []).map((e: Json) => e.path), `${method} ${path}: ${res.text.slice(0, 300)}`).toContain(field);
  const d = diff(before, await snapshot(stack));
  expect(d && describeDiff(d), `${method} ${path} changed the store`).toBeUndefined();
  return problem;
}

/** At a limit: not refused for that field (and, for these requests, accepted). */
async function accepted(method: string, path: string, token: string, body: unknown, status = 200, headers: Record<string, string> = {}) {
  const res = await t.call(method, path, { token, ...(body !== undefined ? { body } : {}), headers });
  expect(res.status, `${method} ${path}: ${res.text.slice(0, 300)}`).toBe(status);
  return res.json as Json;
}

const text = (n: number, unit = 'x') => unit.repeat(n);

// ---------------------------------------------------------------------------------------------

describe(`request body: ${MAX_BODY_BYTES} bytes`, () => {
  /** A valid withdraw body padded with spaces to exactly `size` bytes. */
  const padded = (size: number) => {
    const body = JSON.stringify({ reason: 'other', note: 'Padded to the limit.' });
    return Buffer.concat([Buffer.from(body), Buffer.alloc(size - body.length, 0x20)]);
  };
  const headers = (token: string): [string, string][] => [
    ['authorization', `Bearer ${token}`],
    ['content-type', 'application/json'],
  ];

  it('takes a body of exactly the limit, with a Content-Length and chunked', async () => {
    for (const chunked of [false, true]) {
      const plan = await referred();
      const res = await raw.send({ method: 'POST', path: `/plans/${plan.planId}/withdraw`, headers: headers(t.coordinator), body: padded(MAX_BODY_BYTES), chunked, label: 'at the limit' });
      expect(res.status, res.text).toBe(200);
      expect(JSON.parse(res.text).stage).toBe('withdrawn');
    }
  });

  it('refuses one byte more with 413 problem+json, on every route that takes a body, and changes nothing', async () => {
    const plan = await referred();
    const bodied = ROUTES.filter((r) => r.method === 'POST' || r.method === 'PATCH');
    expect(bodied.length).toBeGreaterThan(5);
    for (const route of bodied) {
      const path = route.path.replace('{planId}', plan.planId).replace('{command}', 'withdraw').replace('{allocationId}', 'al_abcdefghijkl_1').replace('{providerId}', 'anawim').replace('{serviceId}', 'anawim-womens-centre').replace('{deliveryId}', 'dl_abcdefghijkl_1');
      for (const chunked of [false, true]) {
        const before = await snapshot(stack);
        const res = await raw.send({ method: route.method, path, headers: headers(t.coordinator), body: padded(MAX_BODY_BYTES + 1), chunked, label: 'over' });
        const problem = checkProblem(res as RawResponse & { headers: Record<string, unknown> }, 413, `${route.method} ${path}${chunked ? ' chunked' : ''}`);
        expect(problem.detail).toContain(String(MAX_BODY_BYTES));
        expect(diff(before, await snapshot(stack))).toBeUndefined();
      }
    }
  });

  it('refuses a declared Content-Length over the limit before reading any of it', async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(stack.port, '127.0.0.1');
      let got = '';
      socket.on('data', (d) => {
        got += d.toString('latin1');
        if (got.includes('\r\n\r\n') && got.includes('}')) socket.destroy();
      });
      socket.on('close', () => resolve(got));
      socket.on('error', reject);
      socket.write(`POST /plans HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${t.coordinator}\r\nContent-Type: application/json\r\nContent-Length: 10737418240\r\n\r\n{`);
      setTimeout(() => socket.destroy(), 5_000);
    });
    expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 413 Payload Too Large');
    expect(answer.toLowerCase()).toContain('content-type: application/problem+json');
  });

  it('refuses 1 MiB sent in chunks as soon as it passes the limit, without waiting for the body to end', async () => {
    const res = await raw.send({ method: 'POST', path: '/plans', headers: headers(t.coordinator), body: Buffer.alloc(1024 * 1024, 0x20), chunked: true, label: '1 MiB' });
    expect(res.status).toBe(413);
    // A chunked body that never ends: a server waiting for its end would never answer.
    const answer = await new Promise<string>((resolve) => {
      const socket = connect(stack.port, '127.0.0.1');
      let got = '';
      const giveUp = setTimeout(() => socket.destroy(), 10_000);
      socket.on('data', (d) => (got += d.toString('latin1')));
      socket.on('close', () => {
        clearTimeout(giveUp);
        resolve(got);
      });
      // Closing with our unread chunks still queued, the server may reset the connection: the answer read counts.
      socket.on('error', () => undefined);
      socket.write(`POST /plans HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${t.coordinator}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`);
      const chunk = Buffer.alloc(16 * 1024, 0x20);
      for (let i = 0; i < 8; i++) socket.write(Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]));
    });
    expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 413 Payload Too Large');
    expect(answer.toLowerCase()).toContain('connection: close');
  });

  it('closes the connection after a 413, so the next request of a keep-alive client is answered on a fresh one', async () => {
    // One socket only: were the refused request's connection kept open, the next request would be
    // sent on it, with the rest of the refused body still in the way, and never be answered.
    const single = new RawClient(stack.url, 1);
    try {
      for (const chunked of [true, false, true]) {
        const over = await single.send({ method: 'POST', path: '/plans', headers: headers(t.coordinator), body: Buffer.alloc(MAX_BODY_BYTES + 1, 0x20), chunked, label: chunked ? 'chunked over' : 'over' });
        expect(over.status, over.error ?? over.text).toBe(413);
        expect(over.headers.connection).toBe('close');
        const next = await single.send({ method: 'GET', path: '/health', headers: [], label: 'health after 413' });
        expect(next.error).toBeUndefined();
        expect(next.status).toBe(200);
      }
    } finally {
      single.close();
    }
  });
});

describe('string lengths', () => {
  it('referral: participant names 200 characters, note 500', async () => {
    const base = () => referral({ participant: anotherParticipant() }) as Json;
    const long = base();
    long.participant.givenName = text(200, 'é');
    long.participant.familyName = text(200);
    long.referral.note = text(500);
    await accepted('POST', '/plans', t.coordinator, long, 201);
    for (const [field, set] of [
      ['participant.givenName', (b: Json) => (b.participant.givenName = text(201))],
      ['participant.familyName', (b: Json) => (b.participant.familyName = text(201))],
      ['referral.note', (b: Json) => (b.referral.note = text(501))],
    ] as const) {
      const body = base();
      set(body);
      await refused('POST', '/plans', t.coordinator, body, field);
    }
  });

  it('notes and reasons 500, goals 200, the participant\u2019s words 2000', async () => {
    const plan = await referred();
    await refused('POST', `/plans/${plan.planId}/withdraw`, t.coordinator, { reason: 'other', note: text(501) }, 'note');
    await accepted('POST', `/plans/${plan.planId}/withdraw`, t.coordinator, { reason: 'other', note: text(500) });

    const assessing = await inAssessment();
    const goals = (n: number) => ({ needs: [{ domain: 'mental-health', level: 'high', priority: true, goals: [text(n)] }] });
    await refused('POST', `/plans/${assessing.planId}/submit-assessment`, t.coordinator, goals(201), 'needs.0.goals.0');
    const allocating = await accepted('POST', `/plans/${assessing.planId}/submit-assessment`, t.coordinator, goals(200));
    await refused('POST', `/plans/${allocating.planId}/activate`, t.coordinator, { reason: text(501) }, 'reason');
    await accepted('POST', `/plans/${allocating.planId}/activate`, t.coordinator, { reason: text(500) });

    const working = await active();
    const review = (words: number) => ({ scores: { 'mental-health': 5 }, outcome: 'continue', participantWords: text(words) });
    await refused('POST', `/plans/${working.planId}/record-review`, t.coordinator, review(2001), 'participantWords');
    await accepted('POST', `/plans/${working.planId}/record-review`, t.coordinator, review(2000));
  });

  it('a string of 64 KiB less a little is refused for its length (400), not for the body size', async () => {
    const plan = await referred();
    await refused('POST', `/plans/${plan.planId}/withdraw`, t.coordinator, { reason: 'other', note: text(MAX_BODY_BYTES - 100) }, 'note');
  });

  it('Idempotency-Key 200 visible ASCII characters', async () => {
    const plan = await referred();
    await refused('POST', `/plans/${plan.planId}/withdraw`, t.coordinator, { reason: 'other' }, 'Idempotency-Key', 400, { 'idempotency-key': text(201, 'k') });
    await accepted('POST', `/plans/${plan.planId}/withdraw`, t.coordinator, { reason: 'other' }, 200, { 'idempotency-key': text(200, 'k') });
  });

  it('webhook url 2048', async () => {
    const url = (n: number) => `http://127.0.0.1:9/${text(n - 'http://127.0.0.1:9/'.length)}`;
    await refused('POST', '/providers/anawim/subscriptions', t.teamLead, { url: url(2049) }, 'url');
    const created = await accepted('POST', '/providers/anawim/subscriptions', t.teamLead, { url: url(2048) }, 201);
    await accepted('DELETE', `/providers/anawim/subscriptions/${created.subscriptionId}`, t.teamLead, undefined);
  });

  it('query strings: cursor 2000, feed position 500, directory filters 100, metrics breakdowns 200', async () => {
    await refused('GET', `/plans?stage=active&cursor=${text(2001, 'A')}`, t.coordinator, undefined, 'cursor');
    await refused('GET', `/providers/anawim/feed?after=${text(501, 'A')}`, t.provider('anawim'), undefined, 'after');
    await refused('GET', `/providers/anawim/deliveries?cursor=${text(2001, 'A')}`, t.teamLead, undefined, 'cursor');
    await refused('GET', `/directory/services?taxonomy_term_id=${text(101)}`, undefined, undefined, 'taxonomy_term_id');
    await refused('GET', `/directory/services?organization_id=${text(101)}`, undefined, undefined, 'organization_id');
    await refused('GET', `/metrics?groupBy=${text(201, 'p')}`, t.commissioner, undefined, 'groupBy');
    // At the limit they are read as what they are (not a cursor this API returned, not a term): still named.
    const res = await t.call('GET', `/plans?stage=active&cursor=${text(2000, 'A')}`, { token: t.coordinator });
    expect(res.status).toBe(400);
    expect(res.json.detail).toMatch(/not a cursor this API returned/);
  });
});

describe('array sizes', () => {
  const need = (domain: string) => ({ domain, level: 'medium', priority: false });

  it('needs: every one of the 14 domains at once, not 15 entries; goals 10 per need', async () => {
    const plan = await inAssessment();
    const all = NEED_DOMAINS.map((d, i) => ({ ...need(d), priority: i === 0 }));
    expect(all).toHaveLength(14);
    await refused('POST', `/plans/${plan.planId}/submit-assessment`, t.coordinator, { needs: [...all, need('trauma')] }, 'needs');
    await refused('POST', `/plans/${plan.planId}/submit-assessment`, t.coordinator, { needs: [{ ...need('trauma'), goals: Array.from({ length: 11 }, (_, i) => `goal ${i}`) }] }, 'needs.0.goals');
    await accepted('POST', `/plans/${plan.planId}/submit-assessment`, t.coordinator, { needs: [{ ...all[0], goals: Array.from({ length: 10 }, (_, i) => `goal ${i}`) }, ...all.slice(1)] });
  });

  it('consent categories, adjustments, review attendees, manual offer needs, needs closed at a review', async () => {
    const plan = await referred();
    await refused('POST', `/plans/${plan.planId}/record-consent`, t.coordinator, { scope: { shareWithProviders: true, dataCategories: [...DATA_CATEGORIES, 'needs'] }, givenAt: today(), method: 'written' }, 'scope.dataCategories');
    await accepted('POST', `/plans/${plan.planId}/record-consent`, t.coordinator, { scope: { shareWithProviders: true, dataCategories: [...DATA_CATEGORIES] }, givenAt: today(), method: 'written' });
    const mh = [need('mental-health')];
    await refused('POST', `/plans/${plan.planId}/submit-assessment`, t.coordinator, { needs: mh, adjustments: [...ADJUSTMENTS, 'language'] }, 'adjustments');
    await accepted('POST', `/plans/${plan.planId}/submit-assessment`, t.coordinator, { needs: [{ ...need('mental-health'), priority: true }], adjustments: [...ADJUSTMENTS] });
    await refused('POST', `/plans/${plan.planId}/offer-manually`, t.coordinator, { serviceId: 'anawim-womens-centre', needs: [...NEED_DOMAINS, 'trauma'], reason: 'x' }, 'needs');

    const working = await active();
    const attendees = (n: number) => [{ role: 'participant' }, ...Array.from({ length: n - 1 }, () => ({ role: 'coordinator' }))];
    await refused('POST', `/plans/${working.planId}/record-review`, t.coordinator, { scores: { 'mental-health': 5 }, outcome: 'continue', attendees: attendees(21) }, 'attendees');
    await accepted('POST', `/plans/${working.planId}/record-review`, t.coordinator, { scores: { 'mental-health': 5 }, outcome: 'continue', attendees: attendees(20) });
    await refused('POST', `/plans/${working.planId}/record-review`, t.coordinator, { scores: { 'mental-health': 5 }, outcome: 'adjust', closeNeeds: [...NEED_DOMAINS, 'trauma'] }, 'closeNeeds');
  });

  it('an array of 10,000 items that fits in the body is a 400 naming the field, not a 413 or a 5xx', async () => {
    const plan = await inAssessment();
    await refused('POST', `/plans/${plan.planId}/submit-assessment`, t.coordinator, { needs: Array.from({ length: 10_000 }, () => 0) }, 'needs');
    await refused('POST', `/plans/${plan.planId}/submit-assessment`, t.coordinator, { needs: [{ ...need('mental-health'), goals: Array.from({ length: 10_000 }, () => 'g') }] }, 'needs.0.goals');
    const body = JSON.stringify({ needs: Array.from({ length: 10_000 }, () => need('trauma')) });
    expect(body.length).toBeGreaterThan(MAX_BODY_BYTES);
    await refused('POST', `/plans/${plan.planId}/submit-assessment`, t.coordinator, body, undefined, 413);
  });

  it('a body nested 1,000 and 30,000 deep is a 400 (bodies may nest at most 32 levels)', async () => {
    const plan = await referred();
    const deep = (n: number) => `{"reason":"other","note":${'['.repeat(n)}${']'.repeat(n)}}`;
    await refused('POST', `/plans/${plan.planId}/withdraw`, t.coordinator, deep(1_000), '(body)');
    await refused('POST', `/plans/${plan.planId}/withdraw`, t.coordinator, deep(30_000), '(body)');
  });

  it('a body nested 5,000 deep sent with an Idempotency-Key is a 400, not a stack overflow', async () => {
    const plan = await referred();
    const deep = `{"reason":"other","note":${'['.repeat(5_000)}${']'.repeat(5_000)}}`;
    await refused('POST', `/plans/${plan.planId}/withdraw`, t.coordinator, deep, '(body)', 400, { 'idempotency-key': 'deep-body-1' });
  });
});

describe('page sizes and numeric ranges', () => {
  it('worklist limit 1..100', async () => {
    await accepted('GET', '/plans?stage=referred&limit=100', t.coordinator, undefined);
    for (const limit of ['101', '0', '-1', '1.5', 'abc', '1e3']) await refused('GET', `/plans?stage=referred&limit=${limit}`, t.coordinator, undefined, 'limit');
  });

  it('directory per_page 1..100, page from 1 to the last', async () => {
    await accepted('GET', '/directory/services?per_page=100', t.coordinator, undefined);
    for (const perPage of ['101', '0', '-5', '2.5']) await refused('GET', `/directory/services?per_page=${perPage}`, undefined, undefined, 'per_page');
    await refused('GET', '/directory/services?page=0', undefined, undefined, 'page');
    await refused('GET', '/directory/services?page=999', undefined, undefined, 'page');
  });

  it('provider feed limit 1..500, delivery log limit 1..200', async () => {
    await accepted('GET', '/providers/anawim/feed?limit=500', t.provider('anawim'), undefined);
    await refused('GET', '/providers/anawim/feed?limit=501', t.provider('anawim'), undefined, 'limit');
    await refused('GET', '/providers/anawim/feed?limit=0', t.provider('anawim'), undefined, 'limit');
    await accepted('GET', '/providers/anawim/deliveries?limit=200', t.teamLead, undefined);
    await refused('GET', '/providers/anawim/deliveries?limit=201', t.teamLead, undefined, 'limit');
  });

  it('metrics period at most 36 months (12 whole quarters), counted on the complete quarters answered', async () => {
    const lastComplete = addDaysToDate(firstOfQuarter(today()), -1);
    const from = (monthsBack: number) => firstOfQuarter(addMonthsToDate(lastComplete, -monthsBack));
    await accepted('GET', `/metrics?from=${from(35)}&to=${lastComplete}`, t.commissioner, undefined);
    await refused('GET', `/metrics?from=${from(38)}&to=${lastComplete}`, t.commissioner, undefined, 'to');
    // A `to` years ahead is cut to the last complete quarter first: 36 months from the start, not more.
    await accepted('GET', `/metrics?from=${from(35)}&to=2099-12-31`, t.commissioner, undefined);
  });

  it(`numbers: review cadence 7..91 days, capacity 0..${MAX_SERVICE_CAPACITY}, scores 1..10, expectedVersion from 1`, async () => {
    for (const days of [6, 92, 7.5]) await refused('POST', '/plans', t.coordinator, referral({ participant: anotherParticipant(), reviewEveryDays: days }), 'reviewEveryDays');
    await accepted('PATCH', '/directory/services/anawim-womens-centre', t.teamLead, { capacity: MAX_SERVICE_CAPACITY });
    for (const capacity of [MAX_SERVICE_CAPACITY + 1, 100_000, -1, 1.5]) await refused('PATCH', '/directory/services/anawim-womens-centre', t.teamLead, { capacity }, 'capacity');
    const working = await active();
    for (const score of [0, 11, 5.5]) await refused('POST', `/plans/${working.planId}/record-review`, t.coordinator, { scores: { 'mental-health': score }, outcome: 'continue' }, 'scores.mental-health');
    await refused('POST', `/plans/${working.planId}/exit`, t.coordinator, { reason: 'completed', expectedVersion: 0 }, 'expectedVersion');
  });
});

describe('requests the HTTP layer refuses before the gateway', () => {
  it('headers over 16 KiB, or no Host header: a 4xx and a closed connection, never a hang or a 5xx', async () => {
    const big = await raw.send({ method: 'GET', path: `/plans?stage=referred&cursor=${text(20_000, 'A')}`, headers: [['authorization', `Bearer ${t.coordinator}`]], ownConnection: true, label: 'huge url' });
    expect(big.status).toBe(431);
    const hostless = await raw.send({ method: 'GET', path: '/health', headers: [], omitHost: true, ownConnection: true, label: 'no host' });
    expect(hostless.status).toBe(400);
    // The server still answers afterwards.
    expect((await t.call('GET', '/health')).status).toBe(200);
  });

  function dechunk(framed: string): string {
    let out = '';
    for (let at = 0; ; ) {
      const lineEnd = framed.indexOf('\r\n', at);
      const size = parseInt(framed.slice(at, lineEnd), 16);
      if (!(size > 0)) return out;
      out += framed.slice(lineEnd + 2, lineEnd + 2 + size);
      at = lineEnd + 2 + size + 2;
    }
  }

  /** Bytes as they are on a socket of its own; the answer and whether the server closed the connection. */
  function exchange(request: string): Promise<{ statusLine: string; headers: Record<string, string>; body: string; closedByServer: boolean }> {
    return new Promise((resolve, reject) => {
      const socket = connect(stack.port, '127.0.0.1');
      let got = '';
      let closedByServer = false;
      // A server that kept the connection open would leave this test waiting: give up, and say so.
      const giveUp = setTimeout(() => socket.destroy(), 10_000);
      socket.on('data', (d) => (got += d.toString('utf8')));
      socket.on('end', () => (closedByServer = true));
      // A reset is the server closing too (with bytes of ours it did not read); the answer read counts.
      socket.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' ? (closedByServer = true) : reject(error)));
      socket.on('close', () => {
        clearTimeout(giveUp);
        const [head = '', ...rest] = got.split('\r\n\r\n');
        const [statusLine = '', ...lines] = head.split('\r\n');
        const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
        let body = rest.join('\r\n\r\n');
        if (headers['transfer-encoding'] === 'chunked') body = dechunk(body);
        resolve({ statusLine, headers, body, closedByServer });
      });
      socket.end(request);
    });
  }

  it.each([
    ['headers over 16 KiB', 431, `GET /plans?cursor=${text(20_000, 'A')} HTTP/1.1\r\nHost: x\r\n\r\n`, /16 KiB/],
    ['a malformed request line', 400, 'GARBAGE\r\n\r\n', /not valid HTTP\/1\.1/],
    ['an HTTP version that does not exist', 400, 'GET /health HTTP/7.5\r\nHost: x\r\n\r\n', /not valid HTTP\/1\.1/],
    ['both Content-Length and Transfer-Encoding', 400, 'POST /plans HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n{}', /not valid HTTP\/1\.1/],
    ['no Host header', 400, 'GET /health HTTP/1.1\r\n\r\n', /Host header/],
  ])('%s: a %i application/problem+json saying why, and the connection closed', async (_what, status, request, detail) => {
    const answer = await exchange(request);
    expect(answer.statusLine).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
    expect(answer.headers['content-type']).toBe('application/problem+json');
    expect(answer.headers.connection).toBe('close');
    const body = JSON.parse(answer.body) as Json;
    expect(body.status).toBe(status);
    expect(body.detail).toMatch(detail);
    expect(answer.closedByServer).toBe(true);
    expect((await t.call('GET', '/health')).status).toBe(200);
  });

  it('a path segment with malformed percent-encoding is a 404 problem naming the path, not a 500, and changes nothing', async () => {
    const plan = await referred();
    const before = await snapshot(stack);
    for (const [method, path, token] of [
      ['GET', '/plans/%FF', t.coordinator],
      ['GET', '/plans/%E0%A4%A/history', t.coordinator],
      ['POST', `/plans/${plan.planId}/%C3`, t.coordinator],
      ['POST', '/plans/%ED%A0%80/withdraw', t.coordinator],
      ['GET', '/directory/services/%E0%A4%A', undefined],
      ['PATCH', '/directory/services/%', t.teamLead],
      ['POST', '/allocations/a%2/accept', t.provider('anawim')],
      ['GET', '/providers/%zz/feed', t.provider('anawim')],
      ['DELETE', '/providers/anawim/subscriptions/%F4%90%80%80', t.teamLead],
    ] as const) {
      const res = await raw.send({ method, path, headers: [...(token ? [['authorization', `Bearer ${token}`] as [string, string]] : []), ['content-type', 'application/json']], ...(method === 'GET' || method === 'DELETE' ? {} : { body: Buffer.from(JSON.stringify({ reason: 'other' })) }), label: path });
      const problem = checkProblem(res as RawResponse & { headers: Record<string, unknown> }, 404, `${method} ${path}`);
      expect(problem.detail).toContain(path);
    }
    const d = diff(before, await snapshot(stack));
    expect(d && describeDiff(d)).toBeUndefined();
  });
});
