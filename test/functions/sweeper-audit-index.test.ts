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
  // dynalite has no table policy: the test removes what on AWS nobody could.
  await client.send(new DeleteCommand({ TableName: TABLE, Key: keys.auditPlanIndexMarker() }));
  await client.send(new DeleteCommand({ TableName: TABLE, Key: keys.oldAuditPlanIndexMarker() }));
});

const marker = async () => (await client.send(new GetCommand({ TableName: TABLE, Key: keys.auditPlanIndexMarker(), ConsistentRead: true }))).Item?.indexedFrom;
/** The marker as a release before 2026-11-28 wrote it, at the key no table policy protects. */
const putOldMarker = (day: string) => client.send(new PutCommand({ TableName: TABLE, Item: { ...keys.oldAuditPlanIndexMarker(), type: 'audit-index-marker', indexedFrom: day } }));
/** A record as a release before byAuditPlan wrote it: no auditPlanPk. */
const writtenWithoutIndexKey = (at: string, who: string) =>
  client.send(new PutCommand({ TableName: TABLE, Item: { ...keys.audit(at.slice(0, 10), at, `au_${who}`), type: 'audit', who, role: 'coordinator', action: 'read-plan', planId: PLAN, participantId: 'pt_marked000000001', why: 'case-management', at, auditId: `au_${who}` } }));
const seenBy = async (log: DynamoAuditLog, from: string, to: string) => (await log.query(from, to, { planId: PLAN, limit: 100 })).items.map((r) => r.who);

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

  it('will not move a marker once written: a second write with an earlier day changes nothing', async () => {
    const log = new DynamoAuditLog(client, TABLE);
    expect(await log.markPlanIndexFrom('2026-03-04')).toBe(true);
    expect(await new DynamoAuditLog(client, TABLE).markPlanIndexFrom('2026-01-01')).toBe(false);
    expect(await marker()).toBe('2026-03-04');
    expect(await new DynamoAuditLog(client, TABLE).planIndexFrom()).toBe('2026-03-04');
  });
});

describe('a deployed table marked by a release before 2026-11-28 (the marker at the old, unprotected key)', () => {
  const PLAN_DAYS = { from: '2026-04-01', to: '2026-04-10' };
  beforeAll(async () => {
    // Before the old marker's day an older release wrote records without the index key; from it on, with it.
    await writtenWithoutIndexKey('2026-04-02T09:00:00.000Z', 'before-marker');
    await new DynamoAuditLog(client, TABLE).record({ who: 'after-marker', role: 'coordinator', action: 'read-plan', planId: PLAN, participantId: 'pt_marked000000001', why: 'case-management', at: '2026-04-06T09:00:00.000Z' });
  });
  beforeEach(() => putOldMarker('2026-04-05'));

  it('keeps answering who has seen the plan by the old marker until the sweeper has run', async () => {
    expect(await marker()).toBeUndefined();
    const log = new DynamoAuditLog(client, TABLE);
    expect(await log.planIndexFrom()).toBe('2026-04-05');
    expect(await seenBy(log, PLAN_DAYS.from, PLAN_DAYS.to)).toEqual(['before-marker', 'after-marker']);
  });

  it("gets the protected marker with the old marker's day from the sweeper, and from then on the old marker is not read", async () => {
    expect(await markAuditPlanIndex({ auditPlanIndex: new DynamoAuditLog(client, TABLE) }, '2026-11-28T12:00:00.000Z')).toBe(true);
    expect(await marker()).toBe('2026-04-05');
    const log = new DynamoAuditLog(client, TABLE);
    expect(await seenBy(log, PLAN_DAYS.from, PLAN_DAYS.to)).toEqual(['before-marker', 'after-marker']);

    // Whoever can still write the old key moves it earlier: were it read, the record of 2 April would be
    // read only through the index, which it is not in.
    await putOldMarker('2026-04-01');
    const fresh = new DynamoAuditLog(client, TABLE);
    expect(await fresh.planIndexFrom()).toBe('2026-04-05');
    expect(await seenBy(fresh, PLAN_DAYS.from, PLAN_DAYS.to)).toEqual(['before-marker', 'after-marker']);
    // A later sweep changes nothing either.
    expect(await markAuditPlanIndex({ auditPlanIndex: new DynamoAuditLog(client, TABLE) }, '2026-11-29T12:00:00.000Z')).toBe(false);
    expect(await marker()).toBe('2026-04-05');
  });

  it('is read again by a container that read the old marker before the migration: after it, the protected one governs', async () => {
    const log = new DynamoAuditLog(client, TABLE);
    expect(await seenBy(log, PLAN_DAYS.from, PLAN_DAYS.to)).toEqual(['before-marker', 'after-marker']);
    // The old key's day is not kept: it is read again, until the protected marker exists.
    await putOldMarker('2026-04-03');
    expect(await log.planIndexFrom()).toBe('2026-04-03');
    await putOldMarker('2026-04-05');
    await markAuditPlanIndex({ auditPlanIndex: new DynamoAuditLog(client, TABLE) }, '2026-11-28T12:00:00.000Z');
    await putOldMarker('2026-04-01');
    expect(await log.planIndexFrom()).toBe('2026-04-05');
    expect(await seenBy(log, PLAN_DAYS.from, PLAN_DAYS.to)).toEqual(['before-marker', 'after-marker']);
  });
});
