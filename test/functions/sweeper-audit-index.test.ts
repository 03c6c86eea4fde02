/**
 * The sweeper on AWS marks the audit log's by-plan index on a table that gained it with a deploy: two UTC
 * days ahead, once, and never over a marker that is there. Records
 * written before the marked day without the index key are still found by a plan query.
 */
import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoAuditLog } from '../../lib/adapters/dynamodb/audit-log.ts';
import { makeDocumentClient } from '../../lib/adapters/dynamodb/client.ts';
import { keys } from '../../lib/adapters/dynamodb/keys.ts';
import { LOCAL_AWS, startLocalStore, type LocalStore } from '../../lib/local/dynalite-server.ts';
import { markAuditPlanIndex } from '../../functions/sweeper/handler.ts';

const TABLE = 'wraparound-sweeper-audit-index-test';
const PLAN = 'pl_marked000000001';

let store: LocalStore;
let client: ReturnType<typeof makeDocumentClient>;

beforeAll(async () => {
  store = await startLocalStore({ inMemory: true, tableName: TABLE, process: 'in-process' });
  client = makeDocumentClient({ ...LOCAL_AWS, endpoint: store.endpoint });
});
afterAll(async () => {
  client.destroy();
  await store.close();
});
beforeEach(async () => {
  await client.send(new DeleteCommand({ TableName: TABLE, Key: keys.auditPlanIndexMarker() }));
});

const marker = async () => (await client.send(new GetCommand({ TableName: TABLE, Key: keys.auditPlanIndexMarker(), ConsistentRead: true }))).Item?.indexedFrom;

describe('the sweeper and the audit by-plan index marker', () => {
  it('marks a table without one from the day after tomorrow (UTC), once', async () => {
    expect(await markAuditPlanIndex({ auditPlanIndex: new DynamoAuditLog(client, TABLE) }, '2026-03-02T23:30:00.000Z')).toBe(true);
    expect(await marker()).toBe('2026-03-04');
    // A later sweep (another container: no cached marker) changes nothing.
    expect(await markAuditPlanIndex({ auditPlanIndex: new DynamoAuditLog(client, TABLE) }, '2026-03-05T10:00:00.000Z')).toBe(false);
    expect(await marker()).toBe('2026-03-04');
  });

  it('leaves a marker that is there alone (a table made with the index: from the start)', async () => {
    await new DynamoAuditLog(client, TABLE).markPlanIndexFrom('0000-01-01');
    expect(await markAuditPlanIndex({ auditPlanIndex: new DynamoAuditLog(client, TABLE) }, '2026-03-02T10:00:00.000Z')).toBe(false);
    expect(await marker()).toBe('0000-01-01');
  });

  it('still finds, after marking, a record about the plan that an older release wrote without the index key', async () => {
    // As a release before byAuditPlan wrote it: no auditPlanPk.
    const old = { who: 'coordinator-1', role: 'coordinator', action: 'read-plan', planId: PLAN, participantId: 'pt_marked000000001', why: 'case-management', at: '2026-03-02T09:00:00.000Z', auditId: 'au_old' };
    await client.send(new PutCommand({ TableName: TABLE, Item: { ...keys.audit('2026-03-02', old.at, old.auditId), type: 'audit', ...old } }));
    await markAuditPlanIndex({ auditPlanIndex: new DynamoAuditLog(client, TABLE) }, '2026-03-02T10:00:00.000Z');
    const log = new DynamoAuditLog(client, TABLE);
    await log.record({ who: 'coordinator-2', role: 'coordinator', action: 'read-history', planId: PLAN, participantId: 'pt_marked000000001', why: 'case-management', at: '2026-03-05T09:00:00.000Z' });
    const page = await log.query('2026-03-01', '2026-03-06', { planId: PLAN, limit: 10 });
    expect(page.items.map((r) => r.at)).toEqual(['2026-03-02T09:00:00.000Z', '2026-03-05T09:00:00.000Z']);
  });
});
