/**
 * GET /audit about one plan on a table given its plan index (byAuditPlan) after records were written:
 * the days before the index's start (the AUDIT#META BY-PLAN marker) are read whole, a day at a time,
 * so they are bounded as every whole-day read is (MAX_AUDIT_DAYS). A three-year range reaching before
 * the marker would be ~1,000 Queries and time the function out (a 5xx); it is refused with a 400
 * naming `from`, the day the index starts and the earliest `from` read in one go, before the read is
 * recorded. From that day on the same query is answered, records before the marker and after alike.
 * Over real HTTP on the embedded stack (dynalite), its marker moved into the past as an upgraded AWS
 * table's would be.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { startEmbeddedStack, type EmbeddedStack } from '../../lib/local/embedded-stack.ts';
import { makeDocumentClient } from '../../lib/adapters/dynamodb/client.ts';
import { keys } from '../../lib/adapters/dynamodb/keys.ts';
import { wholeDaysTooLong } from '../../lib/adapters/dynamodb/audit-log.ts';
import { TABLE_NAME_DEFAULT } from '../../lib/adapters/dynamodb/table-definition.ts';
import { LOCAL_AWS } from '../../lib/local/dynalite-server.ts';
import { addCalendarDays } from '../../lib/domain/calendar.ts';
import { MAX_AUDIT_DAYS, MAX_AUDIT_DAYS_ONE_PLAN } from '../../lib/domain/vocabulary.ts';
import { anotherParticipant, makeCall, referral, type Call, type Json } from '../support/http.ts';

let stack: EmbeddedStack;
let call: Call;
const user = (role: string) => stack.demoUsers.find((u) => u.role === role)!.token;

beforeAll(async () => {
  stack = await startEmbeddedStack({ inMemory: true, port: 0, sweepIntervalMs: 0, clockMode: 'simulated', publisher: { publish: async () => undefined } });
  call = makeCall(stack.url);
});
afterAll(async () => stack?.stop());

describe("the audit log about one plan, before the plan index's start", () => {
  it('refuses a range reaching more than a month before the index starts, naming from and the day, and answers from that day', async () => {
    const coordinator = user('coordinator');
    const lead = user('team-lead');
    const referredOn = stack.clock.now().slice(0, 10);
    const created = await call('POST', '/plans', { token: coordinator, body: referral({ participant: anotherParticipant() }) });
    expect(created.status, created.text).toBe(201);
    const planId = created.json.planId as string;
    await stack.advanceClock(60 * 86_400_000);
    const seen = await call('GET', `/plans/${planId}`, { token: coordinator });
    expect(seen.status, seen.text).toBe(200);
    const today = stack.clock.now().slice(0, 10);

    // As on a table that gained byAuditPlan 20 days after the referral (the marker is written once; it
    // is moved here by hand, before any plan query has read it).
    const indexedFrom = addCalendarDays(referredOn, 20);
    const client = makeDocumentClient({ ...LOCAL_AWS, endpoint: stack.store.endpoint, maxAttempts: 1 }, { localStore: true });
    try {
      await client.send(new DeleteCommand({ TableName: TABLE_NAME_DEFAULT, Key: keys.auditPlanIndexMarker() }));
      await client.send(new PutCommand({ TableName: TABLE_NAME_DEFAULT, Item: { ...keys.auditPlanIndexMarker(), type: 'audit-index-marker', indexedFrom } }));
    } finally {
      client.destroy();
    }

    const earliestFrom = addCalendarDays(indexedFrom, -MAX_AUDIT_DAYS - 1);
    const auditReads = async () => ((await call('GET', `/audit?from=${today}&to=${today}&limit=1000`, { token: lead })).json.items as Json[]).filter((r) => r.action === 'read-audit').length;
    const readsBefore = await auditReads();
    const threeYears = await call('GET', `/audit?from=${addCalendarDays(today, -MAX_AUDIT_DAYS_ONE_PLAN)}&to=${today}&planId=${planId}`, { token: lead });
    expect(threeYears.status, threeYears.text).toBe(400);
    expect(threeYears.headers.get('content-type')).toContain('application/problem+json');
    const message = `at most ${MAX_AUDIT_DAYS} days before ${indexedFrom} about one plan (its records before that day, when the plan index starts, are read a day at a time): from ${earliestFrom} at the earliest, and the days before it a month at a time`;
    expect(threeYears.json.errors).toEqual([{ path: 'from', message }]);
    expect(threeYears.json.earliestFrom).toBe(earliestFrom);
    expect(threeYears.json.planIndexFrom).toBe(indexedFrom);
    // Refused before anything was recorded: the one read counted is the counting read itself.
    expect(await auditReads()).toBe(readsBefore + 1);

    // From the day it names, the same query is answered: the referral's records, read from their whole
    // days before the marker, and today's read of the plan, through the index.
    const answered = await call('GET', `/audit?from=${earliestFrom}&to=${today}&planId=${planId}&limit=1000`, { token: lead });
    expect(answered.status, answered.text).toBe(200);
    const days = (answered.json.items as Json[]).map((r) => (r.at as string).slice(0, 10));
    expect(days).toContain(referredOn);
    expect(days).toContain(today);
    // A range from the index's start on is not bounded by it (40 days, more than over everyone's records).
    const afterIndex = await call('GET', `/audit?from=${indexedFrom}&to=${today}&planId=${planId}`, { token: lead });
    expect(afterIndex.status, afterIndex.text).toBe(200);
  });
});

describe('wholeDaysTooLong', () => {
  it('bounds the days before the index start, all of a range wholly before it, and every day while there is no marker', () => {
    // A range wholly from the index's start on: no bound but the API's.
    expect(wholeDaysTooLong('2026-01-01', '2028-12-31', '2025-06-01')).toBeUndefined();
    expect(wholeDaysTooLong('2025-06-01', '2028-05-31', '2025-06-01')).toBeUndefined();
    // Reaching back before it: 32 whole days (31 after from, as over everyone's records), no more.
    expect(wholeDaysTooLong('2025-04-30', '2028-05-31', '2025-06-01')).toBeUndefined();
    expect(wholeDaysTooLong('2025-04-29', '2028-05-31', '2025-06-01')).toEqual({ earliestFrom: '2025-04-30', planIndexFrom: '2025-06-01' });
    // Wholly before it: the range itself is the whole days.
    expect(wholeDaysTooLong('2025-01-01', '2025-02-01', '2025-06-01')).toBeUndefined();
    expect(wholeDaysTooLong('2024-12-31', '2025-02-01', '2025-06-01')).toEqual({ earliestFrom: '2025-01-01', planIndexFrom: '2025-06-01' });
    // No marker (an AWS table before the sweeper marks it): every day is read whole.
    expect(wholeDaysTooLong('2024-12-31', '2025-02-01', undefined)).toEqual({ earliestFrom: '2025-01-01' });
    // The embedded stack's marker, from the start: never bounded.
    expect(wholeDaysTooLong('2024-01-01', '2026-12-31', '0000-01-01')).toBeUndefined();
  });
});
