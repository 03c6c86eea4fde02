/**
 * A change's outcome is an item of its own next to its audit record (records are never updated), and
 * the log gives it out on that record: on every page size, through the day partitions and through the
 * by-plan index alike, never as a record of its own and never on another record. Against a real dynalite.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDocumentClient } from '../../lib/adapters/dynamodb/client.ts';
import { DynamoAuditLog } from '../../lib/adapters/dynamodb/audit-log.ts';
import type { AuditOutcome, AuditRecord } from '../../lib/adapters/dynamodb/audit-record.ts';
import { LOCAL_AWS, startLocalStore, type LocalStore } from '../../lib/local/dynalite-server.ts';

const TABLE = 'wraparound-audit-outcome-test';
const PLAN = 'pl_outcomes00000001';
// Day 1 is read whole and filtered (before the marker's day), day 2 through byAuditPlan.
const DAYS = ['2026-10-01', '2026-10-02'];

let store: LocalStore;
let log: DynamoAuditLog;
/** The outcome each record was given, by its id (records without one are absent). */
const outcomes = new Map<string, AuditOutcome>();

async function allPages(limit: number, planId?: string): Promise<AuditRecord[]> {
  const items: AuditRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await log.query(DAYS[0] as string, DAYS[1] as string, { limit, ...(planId ? { planId } : {}), ...(cursor ? { cursor } : {}) });
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return items;
}

beforeAll(async () => {
  store = await startLocalStore({ inMemory: true, tableName: TABLE });
  log = new DynamoAuditLog(makeDocumentClient({ ...LOCAL_AWS, endpoint: store.endpoint, maxAttempts: 1 }), TABLE);
  await log.markPlanIndexFrom(DAYS[1] as string);
  for (const day of DAYS) {
    for (let i = 0; i < 12; i += 1) {
      // Every third record about another plan or none, so the plan's pages skip some; two of three with an outcome.
      const planId = i % 3 === 2 ? (i % 2 ? undefined : 'pl_another000000001') : PLAN;
      const at = `${day}T10:${String(i).padStart(2, '0')}:00.000Z`;
      const ref = await log.record({ who: 'lead-1', role: 'team-lead', action: 'command:acknowledge-escalation', ...(planId ? { planId } : {}), why: 'oversight', at });
      if (i % 3 === 1) continue;
      const outcome: AuditOutcome = i % 2 ? { result: 'succeeded', status: 200 } : { result: 'refused', status: 400 + i, problem: `Problem ${day} ${i}` };
      await log.recordOutcome(ref, outcome);
      outcomes.set(ref.auditId, outcome);
    }
  }
}, 60_000);
afterAll(async () => {
  await store?.close();
});

describe('outcomes on the records they belong to', () => {
  for (const limit of [1, 2, 3, 5, 100]) {
    it(`pages of ${limit}: every record once, each with its own outcome or none`, async () => {
      for (const planId of [undefined, PLAN]) {
        const items = await allPages(limit, planId);
        expect(items).toHaveLength(planId ? 16 : 24);
        expect(new Set(items.map((r) => r.auditId)).size).toBe(items.length);
        for (const record of items) expect(record.outcome, `${record.at} ${planId ?? 'all'}`).toEqual(outcomes.get(record.auditId));
      }
    });
  }
});
