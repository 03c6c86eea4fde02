/**
 * The audit log over real HTTP: after a whole lifecycle on the simulated clock, GET /audit (team
 * leads only) shows who read or wrote identity or plan detail, in which role, what, when and why;
 * no route changes or deletes a record; and when the audit record cannot be written, nothing is
 * disclosed or changed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { base64url } from 'jose';
import { ROUTES } from '../../lib/api/routes.ts';
import type { AuditRecord } from '../../lib/adapters/dynamodb/audit-log.ts';
import {
  DAY_MS,
  injectFaults,
  putPk,
  referralBody,
  runFullLifecycle,
  scanTable,
  SECRET_GOAL,
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

beforeAll(async () => {
  s = await startSecurityStack();
  faults = injectFaults(s.stack);
  startDay = s.today();
  life = await runFullLifecycle(s);
});
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
      expect(record.why).toBe(step.role === 'provider' ? 'delivering the allocated service' : step.audited === 'refer-and-record-identity' ? 'referral' : 'support planning');
      expect(record.auditId).toMatch(/^[0-9a-f-]{36}$/);
      if (step.role === 'provider') expect(record.providerId).toBe(life.providerId);
      if (step.audited?.includes('identity')) expect(record.participantId).toBe(life.participantId);
    }
    // Nothing else touched this plan (timers are the system's own, not reads or writes by a person);
    // reading the log is itself recorded.
    expect(unmatched.filter((r) => r.action !== 'read-audit')).toEqual([]);
  });

  it('never puts the identity or the free text in an audit record', async () => {
    const text = JSON.stringify(await readAudit(startDay, s.today()));
    for (const secret of [SECRET_PARTICIPANT.givenName, SECRET_PARTICIPANT.familyName, life.participant.dateOfBirth, SECRET_GOAL]) expect(text).not.toContain(secret);
  });

  it('records X-Purpose when the caller gives one, and refuses a bad one (400) without disclosing anything', async () => {
    const purpose = 'Safeguarding strategy meeting, ref SG-2291';
    const read = await s.call('GET', `/plans/${life.planId}`, { token: s.coordinator, headers: { 'x-purpose': purpose } });
    expect(read.status).toBe(200);
    const records = await readAudit(s.today(), s.today(), life.planId);
    expect(records.filter((r) => r.why === purpose)).toEqual([expect.objectContaining({ action: 'read-plan-and-identity', role: 'coordinator', who: subOf(s.coordinator), why: purpose, at: s.now() })]);

    const notAuditReads = async () => (await readAudit(s.today(), s.today(), life.planId)).filter((r) => r.action !== 'read-audit').length;
    const before = await notAuditReads();
    for (const bad of ['x'.repeat(201), '   ']) {
      for (const [path, token] of [[`/plans/${life.planId}`, s.coordinator], [`/plans/${life.planId}/history`, s.coordinator], [`/allocations/${life.allocationId}`, s.provider(life.providerId)]] as const) {
        const res = await s.call('GET', path, { token, headers: { 'x-purpose': bad } });
        expect(res.status, `${path} with X-Purpose of ${bad.length} characters: ${res.text}`).toBe(400);
        expect(res.text).toContain('X-Purpose');
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
  const failAudit = (name: string, input: Record<string, unknown>) => Boolean(putPk(name, input)?.startsWith('AUDIT#'));

  /** A refused answer: a 4xx or 5xx that holds neither the identity nor any plan detail. */
  function expectNothingDisclosed(res: { status: number; text: string }, what: string) {
    expect(res.status, `${what}: ${res.text}`).toBeGreaterThanOrEqual(400);
    for (const secret of [SECRET_PARTICIPANT.givenName, SECRET_PARTICIPANT.familyName, life.participant.dateOfBirth, SECRET_GOAL, '"stage"', '"needs"', '"items"', 'auditId'])
      expect(res.text, `${what} discloses ${secret}`).not.toContain(secret);
  }

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
    const before = await scanTable(s.stack);
    faults.set(failAudit);
    try {
      expectNothingDisclosed(await s.call('POST', `/plans/${open.json.planId}/erase-identity`, { token: s.coordinator, body: { reason: 'asked to be forgotten' } }), 'erase-identity');
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

  it.todo(
    "changes nothing when a referral's or a command's audit record cannot be written — the working tree's functions/api-commands/handler.ts (uncommitted change by another session: refer() line ~167, commandResponse() line ~213) now audits writes after they are applied, so with the audit write failing the plan is created / the command applied, the caller gets a 500 saying nothing changed, and the write is never audited (an Idempotency-Key retry is a replay, which is not audited either). Fix: audit before the write as HEAD did (fail closed: the record is of the attempt, and may name a write the domain then refused), and have store-comparing tests ignore AUDIT# items",
  );
});

describe('gaps found (reported, not fixed here)', () => {
  it.todo(
    "can write audit records from api-queries on AWS: lib/infra/functions.ts gives 'api-queries' table: 'read' (GetItem, Query only, lib/infra/wraparound-stack.ts grantTable), yet every GET /plans/{id}, /history, /allocations/{id} and /audit writes an audit record first (PutItem): each would be a 500 AccessDenied. Grant api-queries dynamodb:PutItem with the condition ForAllValues:StringLike dynamodb:LeadingKeys ['AUDIT#*']",
  );
  it.todo(
    "cannot change audit records on AWS either: every 'read-write' function (api-commands, api-directory, api-providers, save-plan, publish-events, sweeper) is granted UpdateItem/DeleteItem/BatchWriteItem on the whole table, AUDIT# items included — add a Deny of dynamodb:UpdateItem, DeleteItem and BatchWriteItem with ForAnyValue:StringLike dynamodb:LeadingKeys ['AUDIT#*'] to every function role",
  );
  it.todo(
    "audits a replayed referral or command: today POST /plans with a reused Idempotency-Key returns the participant and the plan with no audit record (functions/api-commands/handler.ts: refer()'s `cached` branch and commandResponse()'s `if (cached) return cached` return before any auditAccess, and a replay through the workflow is skipped by `if (!replayed)`) — record every answer that carries identity or plan detail, replays included (e.g. action 'replay:<action>')",
  );
  it.todo(
    "audits a provider's reads of plan detail outside GET /allocations/{id}: GET /providers/{id}/offers (functions/api-queries/handler.ts offers()) and GET /providers/{id}/allocations (functions/api-providers/handler.ts allocations()) return each offer's needs and levels with its plan reference, unaudited — record read-offers / read-allocations with the providerId",
  );
});
