/**
 * GET /audit?planId= reads that plan's records only: audit records about a plan carry its byAuditPlan
 * key, and a plan query reads the days from the marker's first indexed day on through that index, a
 * page at a time. Days before it (records an older release wrote without the key, as a deployed table
 * holds them) are read whole and filtered, as before. Against a real dynalite, with a client middleware
 * counting the items every Query read (its ScannedCount).
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { makeDocumentClient } from '../../lib/adapters/dynamodb/client.ts';
import { DynamoAuditLog } from '../../lib/adapters/dynamodb/audit-log.ts';
import type { AuditEntry, AuditRecord } from '../../lib/adapters/dynamodb/audit-record.ts';
import { keys } from '../../lib/adapters/dynamodb/keys.ts';
import { createTableInput } from '../../lib/adapters/dynamodb/table-definition.ts';
import { closeDynalite, DYNALITE_TIMINGS } from '../../lib/local/dynalite-child-protocol.js';
import { LOCAL_AWS, startLocalStore, type LocalStore } from '../../lib/local/dynalite-server.ts';

const TABLE = 'wraparound-audit-by-plan-test';
const FROM = '2026-10-01';
const TO = '2026-10-31';
const PLAN = 'pl_audited00000001';
const OTHER_PLANS = Array.from({ length: 12 }, (_, i) => `pl_other${String(i).padStart(10, '0')}`);

let store: LocalStore;
let client: ReturnType<typeof makeDocumentClient>;
let log: DynamoAuditLog;
/** Items read by the Queries sent since the last reset, and how many Queries. */
const reads = { items: 0, queries: 0 };

const day = (n: number) => `2026-10-${String(n).padStart(2, '0')}`;
const sortKeyOf = (r: AuditRecord) => `${r.at}#${r.auditId}`;
const entry = (planId: string | undefined, at: string, i: number): AuditEntry => ({
  who: `coordinator-${i % 3}`,
  role: 'coordinator',
  action: i % 2 ? 'read-plan' : 'read-history',
  ...(planId ? { planId, participantId: `pt_${planId.slice(3)}` } : { providerId: 'bcwa' }),
  why: 'case-management',
  at,
});

/** Every stored audit record of the days, as the log reads them whole (the expected answer). */
async function storedRecords(planId: string): Promise<AuditRecord[]> {
  const all = await log.query(FROM, TO, { limit: 100_000 });
  return all.items.filter((r) => r.planId === planId).sort((a, b) => sortKeyOf(a).localeCompare(sortKeyOf(b)));
}

/** Follow nextCursor from the first page to the last; the items read by each page. */
async function pages(planId: string, limit: number, from = FROM, to = TO, on: DynamoAuditLog = log) {
  const items: AuditRecord[] = [];
  const readPerPage: number[] = [];
  let cursor: string | undefined;
  do {
    reads.items = 0;
    const page = await on.query(from, to, { planId, limit, ...(cursor ? { cursor } : {}) });
    readPerPage.push(reads.items);
    expect(page.items.length).toBeLessThanOrEqual(limit);
    if (page.nextCursor) expect(page.items).toHaveLength(limit);
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor && readPerPage.length < 500);
  expect(cursor, 'the last page has no cursor').toBeUndefined();
  return { items, readPerPage };
}

async function recordAll(entries: AuditEntry[], write: (e: AuditEntry) => Promise<unknown> = (e) => log.record(e)) {
  for (let i = 0; i < entries.length; i += 50) await Promise.all(entries.slice(i, i + 50).map(write));
}

beforeAll(async () => {
  store = await startLocalStore({ inMemory: true, tableName: TABLE });
  client = makeDocumentClient({ ...LOCAL_AWS, endpoint: store.endpoint, maxAttempts: 1 });
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const out = await next(args);
      if ((context as { commandName?: string }).commandName === 'QueryCommand') {
        reads.queries += 1;
        reads.items += (out.output as { ScannedCount?: number }).ScannedCount ?? 0;
      }
      return out;
    },
    { step: 'initialize', name: 'countItemsRead' },
  );
  log = new DynamoAuditLog(client, TABLE);
  // A month of every plan's records: 12 other plans, 4 records each a day, and 2 a day without a plan;
  // the plan asked about has 1 record on every third day, 3 on the 31st.
  const entries: AuditEntry[] = [];
  for (let d = 1; d <= 31; d += 1) {
    for (const [p, planId] of OTHER_PLANS.entries()) for (let k = 0; k < 4; k += 1) entries.push(entry(planId, `${day(d)}T${String(8 + k).padStart(2, '0')}:${String(p).padStart(2, '0')}:00.000Z`, k));
    entries.push(entry(undefined, `${day(d)}T12:00:00.000Z`, d), entry(undefined, `${day(d)}T13:00:00.000Z`, d));
    if (d % 3 === 1) entries.push(entry(PLAN, `${day(d)}T09:30:00.000Z`, d));
  }
  // Three at the same instant: their record ids order them, in the index as in the day.
  for (let k = 0; k < 3; k += 1) entries.push(entry(PLAN, `${day(31)}T23:59:59.999Z`, k));
  await recordAll(entries);
}, 60_000);
afterAll(async () => {
  client?.destroy();
  await store?.close();
});
beforeEach(() => {
  reads.items = 0;
  reads.queries = 0;
});

describe('a plan query on a table that had the index from its creation', () => {
  it("returns exactly the plan's records of the days, oldest first, having read only those", async () => {
    const expected = await storedRecords(PLAN);
    expect(expected).toHaveLength(14);
    reads.items = 0;
    reads.queries = 0;
    const page = await log.query(FROM, TO, { planId: PLAN, limit: 1000 });
    expect(page.items).toEqual(expected);
    expect(page.nextCursor).toBeUndefined();
    // The month holds 31 × 50 other records; the day-by-day scan read every one of them.
    expect(reads.items).toBe(expected.length);
    expect(reads.queries).toBe(1);
  });

  it('gives records as they were written: the entry, its id, and no keys', async () => {
    const [first] = (await log.query(day(1), day(1), { planId: PLAN })).items;
    expect(first).toEqual({ ...entry(PLAN, `${day(1)}T09:30:00.000Z`, 1), auditId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
  });

  it('keeps to from..to, and pages on with nextCursor: each record once, in order, each page reading at most one record past its limit', async () => {
    const expected = (await storedRecords(PLAN)).filter((r) => r.at >= day(4) && r.at < day(31));
    expect(expected.length).toBeGreaterThan(6);
    const { items, readPerPage } = await pages(PLAN, 2, day(4), day(30));
    expect(items).toEqual(expected);
    expect(Math.max(...readPerPage)).toBeLessThanOrEqual(3);
    // Across the last day's three records of one instant too.
    const lastDay = await pages(PLAN, 1, day(31), day(31));
    expect(lastDay.items).toEqual((await storedRecords(PLAN)).filter((r) => r.at >= day(31)));
  });

  it('finds nothing for a plan with no records, reading nothing', async () => {
    const page = await log.query(FROM, TO, { planId: 'pl_neverseen000001' });
    expect(page).toEqual({ items: [] });
    expect(reads.items).toBe(0);
  });

  it('puts the plan id, and nothing of her identity, in the index key; records without a plan are not in the index', async () => {
    const entries = await client.send(new QueryCommand({ TableName: TABLE, IndexName: 'byAuditPlan', KeyConditionExpression: 'auditPlanPk = :pk', ExpressionAttributeValues: { ':pk': keys.auditPlanPartition(PLAN) } }));
    expect(entries.Items?.map((i) => i.auditPlanPk)).toEqual(Array(14).fill(`PLAN#${PLAN}`));
    const dayItems = await client.send(new QueryCommand({ TableName: TABLE, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': keys.audit(day(2), '', '').pk } }));
    expect(dayItems.Items?.filter((i) => i.auditPlanPk === undefined).map((i) => i.planId)).toEqual([undefined, undefined]);
  });
});

describe('a plan query on a table whose older records lack the index key (a deployed table before its marker)', () => {
  const OLD_PLAN = 'pl_olderrecords001';
  /** A record as the release before this one wrote it: no byAuditPlan key. */
  const writtenByOlderRelease = async (e: AuditEntry) => {
    const auditId = randomUUID();
    await client.send(new PutCommand({ TableName: TABLE, Item: { ...keys.audit(e.at.slice(0, 10), e.at, auditId), type: 'audit', auditId, ...e } }));
  };
  let marker: Record<string, unknown> | undefined;
  beforeAll(async () => {
    marker = (await client.send(new GetCommand({ TableName: TABLE, Key: keys.auditPlanIndexMarker() }))).Item;
    await client.send(new DeleteCommand({ TableName: TABLE, Key: keys.auditPlanIndexMarker() }));
    // Days 1-10 by the older release, then 11-31 by this one.
    const older: AuditEntry[] = [];
    const newer: AuditEntry[] = [];
    for (let d = 1; d <= 31; d += 1) (d <= 10 ? older : newer).push(entry(OLD_PLAN, `${day(d)}T10:15:00.000Z`, d), entry(OLD_PLAN, `${day(d)}T16:45:00.000Z`, d + 1));
    await recordAll(older, writtenByOlderRelease);
    await recordAll(newer);
  });
  afterAll(async () => {
    await client.send(new DeleteCommand({ TableName: TABLE, Key: keys.auditPlanIndexMarker() }));
    if (marker) await client.send(new PutCommand({ TableName: TABLE, Item: marker }));
  });

  it('reads every day whole while there is no marker, and so still finds every record', async () => {
    const fresh = new DynamoAuditLog(client, TABLE);
    reads.items = 0;
    const page = await fresh.query(FROM, TO, { planId: OLD_PLAN, limit: 1000 });
    expect(page.items).toEqual(await storedRecords(OLD_PLAN));
    expect(page.items).toHaveLength(62);
    expect(reads.items).toBeGreaterThan(31 * 50);
  });

  it('once marked from the first day every record carries the key: the earlier days read whole, the later through the index, nothing skipped or repeated', async () => {
    const marked = new DynamoAuditLog(client, TABLE);
    expect(await marked.markPlanIndexFrom(day(11))).toBe(true);
    // Written once: a later mark changes nothing.
    expect(await marked.markPlanIndexFrom(day(20))).toBe(false);
    expect(await new DynamoAuditLog(client, TABLE).planIndexFrom()).toBe(day(11));

    const expected = await storedRecords(OLD_PLAN);
    const beforeTheMarker = (await log.query(day(1), day(10), { limit: 100_000 })).items.length;
    expect(beforeTheMarker).toBeGreaterThan(10 * 50);
    reads.items = 0;
    const whole = await marked.query(FROM, TO, { planId: OLD_PLAN, limit: 1000 });
    expect(whole.items).toEqual(expected);
    // Days 1-10 whole, then the plan's 42 records of days 11-31 through the index.
    expect(reads.items).toBe(beforeTheMarker + 42);

    const paged = await pages(OLD_PLAN, 3, FROM, TO, marked);
    expect(paged.items).toEqual(expected);
    // The pages wholly after the marker read at most one record past their limit.
    const indexedPages = paged.readPerPage.slice(Math.ceil(20 / 3) + 1);
    expect(indexedPages.length).toBeGreaterThan(10);
    expect(Math.max(...indexedPages)).toBeLessThanOrEqual(4);
  });

  it('refuses a marker that is not a day', async () => {
    await expect(log.markPlanIndexFrom('2026-10-11T00:00:00Z')).rejects.toThrow(/UTC day/);
  });
});

describe('a data directory from before the index', () => {
  it('is kept, not refused: a plan query reads its days whole and finds the records written before and after', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wraparound-audit-by-plan-'));
    try {
      // The table as the release before made it: every index but byAuditPlan, and so no marker.
      const server = dynalite({ path: join(dir, 'dynalite'), ...DYNALITE_TIMINGS });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
      const raw = new DynamoDBClient({ ...LOCAL_AWS, endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
      const input = createTableInput(TABLE);
      await raw.send(new CreateTableCommand({ ...input, GlobalSecondaryIndexes: input.GlobalSecondaryIndexes.filter((g) => g.IndexName !== 'byAuditPlan') }));
      while ((await raw.send(new DescribeTableCommand({ TableName: TABLE }))).Table?.TableStatus !== 'ACTIVE') await new Promise((r) => setTimeout(r, 10));
      const before = entry(PLAN, `${day(3)}T10:00:00.000Z`, 1);
      const auditId = randomUUID();
      await DynamoDBDocumentClient.from(raw).send(new PutCommand({ TableName: TABLE, Item: { ...keys.audit(day(3), before.at, auditId), type: 'audit', auditId, ...before } }));
      raw.destroy();
      await closeDynalite(server);

      const old = await startLocalStore({ dataDir: dir, inMemory: false, tableName: TABLE, process: 'in-process' });
      const oldClient = makeDocumentClient({ ...LOCAL_AWS, endpoint: old.endpoint, maxAttempts: 1 });
      try {
        const oldLog = new DynamoAuditLog(oldClient, TABLE);
        const after = entry(PLAN, `${day(4)}T10:00:00.000Z`, 2);
        await oldLog.record(after);
        await oldLog.record(entry(OTHER_PLANS[0], `${day(4)}T11:00:00.000Z`, 3));
        expect(await oldLog.planIndexFrom()).toBeUndefined();
        const page = await oldLog.query(day(1), day(5), { planId: PLAN });
        expect(page.items.map(({ auditId: _id, ...rest }) => rest)).toEqual([before, after]);
      } finally {
        oldClient.destroy();
        await old.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('with the index but not its marker (a crash between making the table and marking it) is marked on the next start', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wraparound-audit-by-plan-'));
    try {
      const first = await startLocalStore({ dataDir: dir, inMemory: false, tableName: TABLE, process: 'in-process' });
      const firstClient = makeDocumentClient({ ...LOCAL_AWS, endpoint: first.endpoint, maxAttempts: 1 });
      expect(await new DynamoAuditLog(firstClient, TABLE).planIndexFrom()).toBe('0000-01-01');
      await firstClient.send(new DeleteCommand({ TableName: TABLE, Key: keys.auditPlanIndexMarker() }));
      expect(await new DynamoAuditLog(firstClient, TABLE).planIndexFrom()).toBeUndefined();
      firstClient.destroy();
      await first.close();

      const again = await startLocalStore({ dataDir: dir, inMemory: false, tableName: TABLE, process: 'in-process' });
      const againClient = makeDocumentClient({ ...LOCAL_AWS, endpoint: again.endpoint, maxAttempts: 1 });
      try {
        expect(await new DynamoAuditLog(againClient, TABLE).planIndexFrom()).toBe('0000-01-01');
      } finally {
        againClient.destroy();
        await again.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('marked by a release before 2026-11-28 (at the old key) gets the marker at the protected key on the next start', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wraparound-audit-by-plan-'));
    try {
      const first = await startLocalStore({ dataDir: dir, inMemory: false, tableName: TABLE, process: 'in-process' });
      const firstClient = makeDocumentClient({ ...LOCAL_AWS, endpoint: first.endpoint, maxAttempts: 1 });
      // As that release left it: the marker at AUDIT-INDEX#META only.
      await firstClient.send(new DeleteCommand({ TableName: TABLE, Key: keys.auditPlanIndexMarker() }));
      await firstClient.send(new PutCommand({ TableName: TABLE, Item: { ...keys.oldAuditPlanIndexMarker(), type: 'audit-index-marker', indexedFrom: '0000-01-01' } }));
      expect(await new DynamoAuditLog(firstClient, TABLE).planIndexMarkers()).toEqual({ marked: false, indexedFrom: '0000-01-01' });
      firstClient.destroy();
      await first.close();

      const again = await startLocalStore({ dataDir: dir, inMemory: false, tableName: TABLE, process: 'in-process' });
      const againClient = makeDocumentClient({ ...LOCAL_AWS, endpoint: again.endpoint, maxAttempts: 1 });
      try {
        expect(await new DynamoAuditLog(againClient, TABLE).planIndexMarkers()).toEqual({ marked: true, indexedFrom: '0000-01-01' });
      } finally {
        againClient.destroy();
        await again.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
