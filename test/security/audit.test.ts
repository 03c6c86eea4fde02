/**
 * The audit log over real HTTP: after a whole lifecycle on the simulated clock, GET /audit (team
 * leads only) shows who read or wrote identity or plan detail, in which role, what, when and why;
 * no route changes or deletes a record; when the audit record cannot be written, nothing is
 * disclosed or changed; replays and a provider's offer and allocation lists are recorded too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { base64url } from 'jose';
import { ROUTES } from '../../lib/api/routes.ts';
import { ACCESS_PURPOSES } from '../../lib/domain/vocabulary.ts';
import type { AuditRecord } from '../../lib/adapters/dynamodb/audit-record.ts';
import {
  CONTACT_SECRETS,
  DAY_MS,
  injectFaults,
  putsAuditRecord,
  referralBody,
  runFullLifecycle,
  scanTable,
  SECRET_GOAL,
  SECRET_NOTE,
  SECRET_PARTICIPANT,
  startSecurityStack,
  type FaultInjector,
  type Lifecycle,
  type SecurityStack,
} from './support.ts';

let s: SecurityStack;
let faults: FaultInjector;
let life: Lifecycle;
let startDay: string;

const subOf = (token: string) => (JSON.parse(new TextDecoder().decode(base64url.decode(token.split('.')[1] as string))) as { sub: string }).sub;
const addDays = (day: string, n: number) => new Date(Date.parse(`${day}T12:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10);

/** Every audit record from `from` to `to`, read in the 31-day windows GET /audit allows. */
async function readAudit(from: string, to: string, planId?: string): Promise<AuditRecord[]> {
  const items: AuditRecord[] = [];
  for (let day = from; day <= to; day = addDays(day, 32)) {
    const end = addDays(day, 31) < to ? addDays(day, 31) : to;
    const res = await s.call('GET', `/audit?from=${day}&to=${end}${planId ? `&planId=${planId}` : ''}&limit=1000`, { token: s.teamLead });
    if (res.status !== 200) throw new Error(`GET /audit: ${res.status} ${res.text}`);
    items.push(...(res.json.items as AuditRecord[]));
  }
  return items;
}

const failAudit = putsAuditRecord;
const consent = () => ({ scope: { shareWithProviders: true, dataCategories: ['needs'] }, givenAt: s.today(), method: 'written' });

/** A refused answer: a 4xx or 5xx that holds neither the identity nor any plan detail. */
function expectNothingDisclosed(res: { status: number; text: string }, what: string) {
  expect(res.status, `${what}: ${res.text}`).toBeGreaterThanOrEqual(400);
  for (const secret of [SECRET_PARTICIPANT.givenName, SECRET_PARTICIPANT.familyName, life.participant.dateOfBirth, ...CONTACT_SECRETS, SECRET_GOAL, SECRET_NOTE, '"stage"', '"needs"', '"items"', 'auditId'])
    expect(res.text, `${what} discloses ${secret}`).not.toContain(secret);
}

beforeAll(async () => {
  s = await startSecurityStack();
  faults = injectFaults(s.stack);
  startDay = s.today();
  life = await runFullLifecycle(s);
}, 60_000);
afterAll(async () => {
  await s?.stop();
});

describe('after a full lifecycle, GET /audit shows every read and write of identity or plan detail', () => {
  it('has one record per audited step: who, role, action, plan, why (the route default) and when', async () => {
    const records = await readAudit(startDay, s.today(), life.planId);
    const unmatched = [...records];
    const audited = life.steps.filter((step) => step.audited).map((step) => ({ step, at: step.at }));
    expect(audited.length).toBeGreaterThanOrEqual(12);
    for (const { step, at } of audited) {
      const token = step.role === 'provider' ? s.provider(life.providerId) : step.role === 'team-lead' ? s.teamLead : s.coordinator;
      const i = unmatched.findIndex((r) => r.action === step.audited && r.role === step.role && r.who === subOf(token) && r.at === at);
      expect(i, `no audit record for ${step.method} ${step.path} as ${step.role} (${step.audited} at ${at}) in ${JSON.stringify(records.map((r) => [r.action, r.role, r.at]))}`).toBeGreaterThanOrEqual(0);
      const record = unmatched.splice(i, 1)[0] as AuditRecord;
      expect(record.planId).toBe(life.planId);
      const routeWhy: Record<string, string> = { 'refer-and-record-identity': 'referral', 'read-participant-contact': 'contacting-the-participant', 'correct-identity': 'keeping-contact-details-right' };
      // A team lead's purpose is oversight on every route; the others' is the route's.
      expect(record.why).toBe(step.role === 'team-lead' ? 'oversight' : (routeWhy[step.audited as string] ?? (step.role === 'provider' ? 'delivering-the-allocated-service' : 'support-planning')));
      expect(record.auditId).toMatch(/^[0-9a-f-]{36}$/);
      if (step.role === 'provider') expect(record.providerId).toBe(life.providerId);
      if (step.audited?.includes('identity') || step.audited === 'read-participant-contact') expect(record.participantId).toBe(life.participantId);
    }
    // Nothing else touched this plan (timers are the system's own, not reads or writes by a person);
    // reading the log is itself recorded.
    expect(unmatched.filter((r) => r.action !== 'read-audit')).toEqual([]);
  });

  it('never puts the identity or the free text in an audit record', async () => {
    const text = JSON.stringify(await readAudit(startDay, s.today()));
    for (const secret of [SECRET_PARTICIPANT.givenName, SECRET_PARTICIPANT.familyName, life.participant.dateOfBirth, ...CONTACT_SECRETS, SECRET_GOAL]) expect(text).not.toContain(secret);
  });

  it('records the X-Purpose code the caller gives, and refuses anything else (400 naming the header and listing the codes) without disclosing anything', async () => {
    const purpose = 'safeguarding';
    const read = await s.call('GET', `/plans/${life.planId}`, { token: s.coordinator, headers: { 'x-purpose': purpose } });
    expect(read.status).toBe(200);
    const records = await readAudit(s.today(), s.today(), life.planId);
    expect(records.filter((r) => r.why === purpose)).toEqual([expect.objectContaining({ action: 'read-plan-and-identity', role: 'coordinator', who: subOf(s.coordinator), why: purpose, at: s.now() })]);

    const notAuditReads = async () => (await readAudit(s.today(), s.today(), life.planId)).filter((r) => r.action !== 'read-audit').length;
    const before = await notAuditReads();
    // Free text is refused even when short and sensible: it is where a name or a number would be typed.
    for (const bad of [`Strategy meeting about ${SECRET_PARTICIPANT.familyName}`, 'Safeguarding', 'safeguarding, ref SG-2291', 'x'.repeat(201), '   ']) {
      for (const [path, token] of [[`/plans/${life.planId}`, s.coordinator], [`/plans/${life.planId}/history`, s.coordinator], [`/allocations/${life.allocationId}`, s.provider(life.providerId)]] as const) {
        const res = await s.call('GET', path, { token, headers: { 'x-purpose': bad } });
        expect(res.status, `${path} with X-Purpose "${bad.slice(0, 40)}": ${res.text}`).toBe(400);
        expect(res.headers.get('content-type')).toBe('application/problem+json');
        expect(res.json.errors).toEqual([{ path: 'X-Purpose', message: `must be one of ${ACCESS_PURPOSES.join(', ')}` }]);
        for (const secret of [SECRET_PARTICIPANT.familyName, SECRET_GOAL, '"stage"', '"needs"']) expect(res.text).not.toContain(secret);
      }
      const command = await s.call('POST', `/plans/${life.planId}/exit`, { token: s.coordinator, body: { reason: 'other' }, headers: { 'x-purpose': bad } });
      expect(command.status).toBeGreaterThanOrEqual(400);
      expect(command.status).toBeLessThan(500);
    }
    expect(await notAuditReads()).toBe(before);
  });

  it('is for team leads only: coordinators, providers and commissioners get 403', async () => {
    const q = `/audit?from=${startDay}&to=${addDays(startDay, 30)}`;
    for (const token of [s.coordinator, s.provider(life.providerId), s.provider('bcwa'), s.commissioner]) {
      const res = await s.call('GET', q, { token });
      expect(res.status).toBe(403);
      expect(res.text).not.toContain('auditId');
    }
    expect((await s.call('GET', q)).status).toBe(401);
    expect((await s.call('GET', q, { token: s.teamLead })).status).toBe(200);
  });
});

describe('GET /audit reads on past its limit', () => {
  it('gives a nextCursor while more records follow: following it yields every record exactly once, in order, and the last page has none', async () => {
    const to = addDays(startDay, 31) < s.today() ? addDays(startDay, 31) : s.today();
    const range = `/audit?from=${startDay}&to=${to}&planId=${life.planId}`;
    const whole = await s.call('GET', `${range}&limit=1000`, { token: s.teamLead });
    expect(whole.status).toBe(200);
    expect(whole.json.nextCursor).toBeUndefined();
    const all = whole.json.items as AuditRecord[];
    expect(all.length).toBeGreaterThan(7);
    expect(new Set(all.map((r) => r.at.slice(0, 10))).size, 'records of more than one day').toBeGreaterThan(1);

    const paged: AuditRecord[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const res = await s.call('GET', `${range}&limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token: s.teamLead });
      expect(res.status, res.text).toBe(200);
      expect((res.json.items as AuditRecord[]).length).toBeLessThanOrEqual(3);
      paged.push(...(res.json.items as AuditRecord[]));
      cursor = res.json.nextCursor as string | undefined;
      if (cursor) expect(res.json.items).toHaveLength(3);
      pages++;
    } while (cursor && pages < 100);
    expect(cursor, 'the last page has no cursor').toBeUndefined();
    expect(pages).toBeGreaterThan(2);
    expect(new Set(paged.map((r) => r.auditId)).size, 'no record twice').toBe(paged.length);
    // The reads while paging are themselves recorded (about this plan, today): they may follow at the end.
    const known = new Set(all.map((r) => r.auditId));
    expect(paged.filter((r) => known.has(r.auditId))).toEqual(all);
    expect(paged.slice(all.length).every((r) => r.action === 'read-audit')).toBe(true);
  });

  it('refuses a cursor it did not give, or one for other days, with a 400 naming cursor that records nothing', async () => {
    const today = s.today();
    const to = addDays(startDay, 31) < today ? addDays(startDay, 31) : today;
    const first = await s.call('GET', `/audit?from=${startDay}&to=${to}&planId=${life.planId}&limit=1`, { token: s.teamLead });
    expect(first.status, first.text).toBe(200);
    const cursor = first.json.nextCursor as string;
    expect(cursor).toEqual(expect.any(String));
    const count = async () => ((await s.call('GET', `/audit?from=${today}&to=${today}&limit=1000`, { token: s.teamLead })).json.items as AuditRecord[]).length;
    const before = await count();
    const otherDays = `from=${addDays(startDay, -20)}&to=${addDays(startDay, -10)}`;
    for (const [query, says] of [
      [`from=${startDay}&to=${to}&cursor=not-a-cursor`, 'is not a cursor this API returned'],
      [`from=${startDay}&to=${to}&cursor=${Buffer.from('{"after":"x"}').toString('base64url')}`, 'is not a cursor this API returned'],
      [`${otherDays}&cursor=${encodeURIComponent(cursor)}`, 'outside from..to'],
    ] as const) {
      const res = await s.call('GET', `/audit?${query}`, { token: s.teamLead });
      expect(res.status, res.text).toBe(400);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(res.json.errors).toEqual([{ path: 'cursor', message: expect.stringContaining(says) }]);
    }
    // The count's own read is recorded each time: one more, and nothing from the refused requests.
    expect(await count()).toBe(before + 1);
  });

  it('names from and to when they are missing, and says they are UTC days', async () => {
    const res = await s.call('GET', '/audit', { token: s.teamLead });
    expect(res.status).toBe(400);
    expect(res.json.errors).toEqual([
      { path: 'from', message: 'is required (YYYY-MM-DD, a UTC day)' },
      { path: 'to', message: 'is required (YYYY-MM-DD, a UTC day)' },
    ]);
  });

  it('names only the day that is not one: the range and the cursor are not checked against it', async () => {
    const today = s.today();
    const cursor = Buffer.from(JSON.stringify({ after: `${today}T10:00:00.000Z#${randomUUID()}` })).toString('base64url');
    const res = await s.call('GET', `/audit?from=yesterday&to=${today}&cursor=${cursor}`, { token: s.teamLead });
    expect(res.status).toBe(400);
    expect(res.json.errors).toEqual([{ path: 'from', message: 'must be a date, YYYY-MM-DD (a UTC day)' }]);
  });
});

describe('audit records cannot be changed', () => {
  it('has no route that writes, changes or deletes them', () => {
    const auditRoutes = ROUTES.filter((r) => r.path.includes('audit'));
    expect(auditRoutes.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /audit']);
  });

  it('answers 405 or 404 to every attempt, and the records read the same twice and in the table', async () => {
    const from = startDay;
    const to = s.today();
    const first = await readAudit(from, to);
    const stored = (await scanTable(s.stack, { withAudit: true })).filter((i) => String(i.pk).startsWith('AUDIT#'));
    const someId = first[0]?.auditId as string;
    const day = first[0]?.at.slice(0, 10) as string;
    const attempts: [string, string, unknown][] = [];
    for (const method of ['PUT', 'PATCH', 'DELETE', 'POST']) {
      attempts.push([method, '/audit', method === 'DELETE' ? undefined : { items: [] }]);
      attempts.push([method, `/audit?from=${day}&to=${day}`, method === 'DELETE' ? undefined : { why: 'changed' }]);
      attempts.push([method, `/audit/${someId}`, method === 'DELETE' ? undefined : { why: 'changed' }]);
      attempts.push([method, `/audit/${day}/${someId}`, method === 'DELETE' ? undefined : { why: 'changed' }]);
      attempts.push([method, `/plans/${life.planId}/audit`, method === 'DELETE' ? undefined : { why: 'changed' }]);
    }
    attempts.push(['GET', `/audit/${someId}`, undefined]);
    for (const token of [s.teamLead, s.coordinator]) {
      for (const [method, path, body] of attempts) {
        const res = await s.call(method, path, { token, ...(body !== undefined ? { body } : {}) });
        // /plans/{id}/audit is the coordinators' command route: a team lead is refused it outright, a coordinator finds no such command.
        const allowed = path.startsWith('/plans/') && token === s.teamLead ? [403, 404, 405] : [404, 405];
        expect(allowed, `${method} ${path}: ${res.status} ${res.text}`).toContain(res.status);
      }
    }
    const second = await readAudit(from, to);
    const byId = new Map(second.map((r) => [r.auditId, r]));
    for (const record of first) expect(byId.get(record.auditId), record.auditId).toEqual(record);
    // The second read added its own read-audit records, and nothing else changed in the table.
    const storedAfter = new Map((await scanTable(s.stack, { withAudit: true })).filter((i) => String(i.pk).startsWith('AUDIT#')).map((i) => [`${i.pk}|${i.sk}`, i]));
    for (const item of stored) expect(storedAfter.get(`${item.pk}|${item.sk}`)).toEqual(item);
    expect(second.filter((r) => !first.some((f) => f.auditId === r.auditId)).every((r) => r.action === 'read-audit')).toBe(true);
  });
});

describe('when the audit record cannot be written, nothing is disclosed or changed', () => {
  it('refuses reads of the plan, its history, an allocation and the audit log itself', async () => {
    faults.set(failAudit);
    try {
      const failedBefore = faults.failed;
      expectNothingDisclosed(await s.call('GET', `/plans/${life.planId}`, { token: s.coordinator }), 'GET plan (coordinator)');
      expectNothingDisclosed(await s.call('GET', `/plans/${life.planId}`, { token: s.teamLead }), 'GET plan (team lead)');
      expectNothingDisclosed(await s.call('GET', `/plans/${life.planId}/history`, { token: s.coordinator }), 'GET history');
      expectNothingDisclosed(await s.call('GET', `/allocations/${life.allocationId}`, { token: s.provider(life.providerId) }), 'GET allocation');
      expectNothingDisclosed(await s.call('GET', `/audit?from=${startDay}&to=${addDays(startDay, 31)}`, { token: s.teamLead }), 'GET audit');
      expect(faults.failed - failedBefore).toBe(5);
    } finally {
      faults.clear();
    }
  });

  it('refuses an erasure request and erases nothing', async () => {
    const open = await s.call('POST', '/plans', { token: s.coordinator, body: referralBody() });
    expect(open.status).toBe(201);
    // Ended, so the erasure would go ahead (one of an open plan is refused before the audit is written).
    expect((await s.call('POST', `/plans/${open.json.planId}/withdraw`, { token: s.coordinator, body: { reason: 'unreachable' } })).status).toBe(200);
    const before = await scanTable(s.stack);
    faults.set(failAudit);
    try {
      expectNothingDisclosed(await s.call('POST', `/plans/${open.json.planId}/erase-identity`, { token: s.coordinator, body: { reason: 'her-request' } }), 'erase-identity');
    } finally {
      faults.clear();
    }
    expect(await scanTable(s.stack)).toEqual(before);
    const plan = await s.call('GET', `/plans/${open.json.planId}`, { token: s.coordinator });
    expect(plan.json.identityErasedAt).toBeUndefined();
    expect(plan.json.participant?.familyName).toBe(SECRET_PARTICIPANT.familyName);
  });

  it('answers a referral or a command whose audit record cannot be written with an error that discloses nothing', async () => {
    const open = await s.call('POST', '/plans', { token: s.coordinator, body: referralBody() });
    expect(open.status).toBe(201);
    faults.set(failAudit);
    try {
      expectNothingDisclosed(await s.call('POST', '/plans', { token: s.coordinator, body: referralBody() }), 'refer');
      expectNothingDisclosed(await s.call('POST', `/plans/${open.json.planId}/record-consent`, { token: s.coordinator, body: { scope: { shareWithProviders: true, dataCategories: ['needs'] }, givenAt: s.today(), method: 'written' } }), 'record-consent');
    } finally {
      faults.clear();
    }
  });

  it("changes nothing when a command's audit record cannot be written, and the same key then runs as a first request", async () => {
    // A plan in allocating, with an offer a provider could answer.
    const open = await s.call('POST', '/plans', { token: s.coordinator, body: referralBody() });
    expect(open.status).toBe(201);
    const planId = open.json.planId as string;
    expect((await s.call('POST', `/plans/${planId}/record-consent`, { token: s.coordinator, body: consent() })).status).toBe(200);
    const assessed = await s.call('POST', `/plans/${planId}/submit-assessment`, { token: s.coordinator, body: { needs: [{ domain: 'mental-health', level: 'high', priority: true, goals: [SECRET_GOAL] }] } });
    expect(assessed.status, assessed.text).toBe(200);
    const offer = (assessed.json.allocations as { allocationId: string; providerId: string; status: string }[]).find((a) => a.status === 'offered');
    if (!offer) throw new Error(`no offer: ${assessed.text}`);
    const key = `security-audit-command-${randomUUID()}`;

    const before = await scanTable(s.stack);
    faults.set(failAudit);
    try {
      const failedBefore = faults.failed;
      expectNothingDisclosed(await s.call('POST', `/plans/${planId}/activate`, { token: s.coordinator, body: { reason: 'Starting before the offer is answered' } }), 'activate');
      expectNothingDisclosed(await s.call('POST', `/plans/${planId}/exit`, { token: s.coordinator, body: { reason: 'completed' }, headers: { 'idempotency-key': key } }), 'exit with an Idempotency-Key');
      expectNothingDisclosed(await s.call('POST', `/allocations/${offer.allocationId}/accept`, { token: s.provider(offer.providerId), body: { note: SECRET_NOTE } }), 'accept');
      // Each was stopped at its audit record, the first write it attempted.
      expect(faults.failed - failedBefore).toBe(3);
    } finally {
      faults.clear();
    }
    // Not a plan version, an answer kept for the key, an event, a timer or a figure more.
    expect(await scanTable(s.stack)).toEqual(before);
    const plan = await s.call('GET', `/plans/${planId}`, { token: s.coordinator });
    expect(plan.json.stage).toBe('allocating');
    expect((plan.json.allocations as { allocationId: string; status: string }[]).find((a) => a.allocationId === offer.allocationId)?.status).toBe('offered');

    // With the log back, the same key runs as a first request (nothing was kept for it), and is audited.
    const exited = await s.call('POST', `/plans/${planId}/exit`, { token: s.coordinator, body: { reason: 'completed' }, headers: { 'idempotency-key': key } });
    expect(exited.status, exited.text).toBe(200);
    expect(exited.headers.get('idempotent-replayed')).toBeNull();
    expect(exited.json.stage).toBe('exited');
    const records = (await readAudit(s.today(), s.today(), planId)).filter((r) => r.action === 'command:exit');
    expect(records).toEqual([expect.objectContaining({ who: subOf(s.coordinator), role: 'coordinator', at: s.now() })]);
  });

  it("creates no plan, identity or kept answer when a referral's audit record cannot be written, and the same key then runs as a first request", async () => {
    const referral = referralBody();
    const key = `security-audit-referral-${randomUUID()}`;
    // Person links included: the audit record comes before her keyed link is claimed.
    const withoutPeople = async () => scanTable(s.stack);
    const before = await withoutPeople();
    faults.set(failAudit);
    try {
      const failedBefore = faults.failed;
      expectNothingDisclosed(await s.call('POST', '/plans', { token: s.coordinator, body: referral, headers: { 'idempotency-key': key } }), 'refer with an Idempotency-Key');
      expect(faults.failed - failedBefore).toBe(1);
    } finally {
      faults.clear();
    }
    expect(await withoutPeople()).toEqual(before);

    const retried = await s.call('POST', '/plans', { token: s.coordinator, body: referral, headers: { 'idempotency-key': key } });
    expect(retried.status, retried.text).toBe(201);
    expect(retried.headers.get('idempotent-replayed')).toBeNull();
    const records = (await readAudit(s.today(), s.today(), retried.json.planId as string)).filter((r) => r.action !== 'read-audit');
    expect(records).toEqual([expect.objectContaining({ action: 'refer-and-record-identity', who: subOf(s.coordinator), participantId: retried.json.participantId, at: s.now() })]);
  });

  it('refuses a replayed referral or command, disclosing nothing, when its audit record cannot be written', async () => {
    const key = `security-audit-replay-refused-${randomUUID()}`;
    const referral = referralBody();
    const first = await s.call('POST', '/plans', { token: s.coordinator, body: referral, headers: { 'idempotency-key': key } });
    expect(first.status).toBe(201);
    const planId = first.json.planId as string;
    // Keys are per plan: the command gets a key of its own.
    const commandKey = `${key}-consent`;
    const consented = await s.call('POST', `/plans/${planId}/record-consent`, { token: s.coordinator, body: consent(), headers: { 'idempotency-key': commandKey } });
    expect(consented.status).toBe(200);
    faults.set(failAudit);
    try {
      expectNothingDisclosed(await s.call('POST', '/plans', { token: s.coordinator, body: referral, headers: { 'idempotency-key': key } }), 'replayed referral');
      expectNothingDisclosed(await s.call('POST', `/plans/${planId}/record-consent`, { token: s.coordinator, body: consent(), headers: { 'idempotency-key': commandKey } }), 'replayed command');
    } finally {
      faults.clear();
    }
    // The stored answers are still there for a retry once the log can be written.
    const replayed = await s.call('POST', '/plans', { token: s.coordinator, body: referral, headers: { 'idempotency-key': key } });
    expect(replayed.status).toBe(201);
    expect(replayed.headers.get('idempotent-replayed')).toBe('true');
    const command = await s.call('POST', `/plans/${planId}/record-consent`, { token: s.coordinator, body: consent(), headers: { 'idempotency-key': commandKey } });
    expect(command.status).toBe(200);
    expect(command.headers.get('idempotent-replayed')).toBe('true');
  });
});

describe('replays and provider lists are audited too', () => {
  it('records a replayed referral as replay-referral, with who, the plan, her id, why and when', async () => {
    const key = `security-audit-replay-${randomUUID()}`;
    const referral = referralBody();
    const first = await s.call('POST', '/plans', { token: s.coordinator, body: referral, headers: { 'idempotency-key': key } });
    expect(first.status).toBe(201);
    const { planId, participantId } = first.json as { planId: string; participantId: string };
    const firstAt = s.now();
    await s.advance(60_000);
    const replayed = await s.call('POST', '/plans', { token: s.coordinator, body: referral, headers: { 'idempotency-key': key, 'x-purpose': 'support-planning' } });
    expect(replayed.status).toBe(201);
    expect(replayed.headers.get('idempotent-replayed')).toBe('true');
    // The replay discloses her identity again: that is why it is recorded.
    expect(replayed.json.participant).toMatchObject(SECRET_PARTICIPANT);
    const records = (await readAudit(startDay, s.today(), planId)).filter((r) => r.action !== 'read-audit');
    expect(records).toEqual([
      expect.objectContaining({ action: 'refer-and-record-identity', who: subOf(s.coordinator), role: 'coordinator', planId, participantId, why: 'referral', at: firstAt }),
      expect.objectContaining({ action: 'replay-referral', who: subOf(s.coordinator), role: 'coordinator', planId, participantId, why: 'support-planning', at: s.now() }),
    ]);
  });

  it('records a replayed command as its command, once per answer', async () => {
    const open = await s.call('POST', '/plans', { token: s.coordinator, body: referralBody() });
    expect(open.status).toBe(201);
    const planId = open.json.planId as string;
    const key = `security-audit-replay-command-${randomUUID()}`;
    const body = consent();
    const times: string[] = [];
    for (const replay of [false, true, true]) {
      times.push(s.now());
      const res = await s.call('POST', `/plans/${planId}/record-consent`, { token: s.coordinator, body, headers: { 'idempotency-key': key } });
      expect(res.status, res.text).toBe(200);
      expect(res.headers.get('idempotent-replayed')).toBe(replay ? 'true' : null);
      expect(res.json.stage).toBe('assessment');
      await s.advance(60_000);
    }
    const records = (await readAudit(startDay, s.today(), planId)).filter((r) => r.action === 'command:record-consent');
    expect(records).toEqual(times.map((at) => expect.objectContaining({ who: subOf(s.coordinator), role: 'coordinator', planId, why: 'support-planning', at })));
  });

  it("records a provider's offers and allocations lists with its provider id, and refuses them when the record cannot be written", async () => {
    const token = s.provider(life.providerId);
    const at = s.now();
    const offers = await s.call('GET', `/providers/${life.providerId}/offers`, { token });
    expect(offers.status).toBe(200);
    const allocations = await s.call('GET', `/providers/${life.providerId}/allocations`, { token });
    expect(allocations.status).toBe(200);
    // The list names the plan and what it needs: plan detail, as GET /allocations/{id} gives.
    expect(allocations.text).toContain(life.allocationId);
    // Records of the same instant come in no set order.
    const mine = (await readAudit(s.today(), s.today())).filter((r) => r.who === subOf(token) && r.at === at).sort((a, b) => a.action.localeCompare(b.action));
    expect(mine).toEqual([
      expect.objectContaining({ action: 'read-provider-allocations', role: 'provider', providerId: life.providerId, why: 'delivering-the-allocated-service' }),
      expect.objectContaining({ action: 'read-provider-offers', role: 'provider', providerId: life.providerId, why: 'answering-offers' }),
    ]);

    faults.set(failAudit);
    try {
      const failedBefore = faults.failed;
      expectNothingDisclosed(await s.call('GET', `/providers/${life.providerId}/offers`, { token }), 'GET offers');
      expectNothingDisclosed(await s.call('GET', `/providers/${life.providerId}/allocations`, { token }), 'GET allocations');
      expect(faults.failed - failedBefore).toBe(2);
    } finally {
      faults.clear();
    }
  });
});

// On AWS, who may write audit records (api-queries needs PutItem on AUDIT# keys) and that no function
// may update or delete them (a Deny on AUDIT# leading keys) are IAM grants of the stack: they are
// tested with the infrastructure, in test/infra, not here.
