/**
 * The plan indexes hold keys only: every query over them fetches the plans with BatchGetItem. These
 * are the AWS adapter's unit tests (aws-sdk-client-mock); the queries themselves run against dynalite
 * in test/integration, test/functions and test/faults.
 */
import { BatchGetCommand, DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { batchGet } from '../../lib/adapters/dynamodb/batch-get.ts';
import { makeDocumentClient, TransientStorageError } from '../../lib/adapters/dynamodb/client.ts';
import { keys } from '../../lib/adapters/dynamodb/keys.ts';
import { PlanRepository } from '../../lib/adapters/dynamodb/plan-repository.ts';
import { planToItem } from '../../lib/adapters/dynamodb/plan-item.ts';
import type { Plan } from '../../lib/domain/schemas.ts';
import { planInStage } from '../support/domain-fixtures.ts';

const TABLE = 'wraparound-test';
const ddb = mockClient(DynamoDBDocumentClient);
const client = () => makeDocumentClient({ region: 'eu-west-2' });

type Key = { pk: string; sk: string };
type Item = Record<string, unknown>;
type BatchGetInput = { RequestItems: Record<string, { Keys: Key[]; ConsistentRead?: boolean }> };

/** A table of items answering BatchGetItem in reverse order (DynamoDB promises none), optionally holding some keys back. */
function serve(items: Item[], holdBack: (keys: Key[], call: number) => Key[] = () => []) {
  const byKey = new Map(items.map((i) => [`${String(i.pk)}|${String(i.sk)}`, i]));
  let call = 0;
  ddb.on(BatchGetCommand).callsFake((input: BatchGetInput) => {
    const asked = input.RequestItems[TABLE]!.Keys;
    const unprocessed = holdBack(asked, call++);
    const answered = asked.filter((k) => !unprocessed.includes(k)).flatMap((k) => byKey.get(`${k.pk}|${k.sk}`) ?? []);
    return { Responses: { [TABLE]: [...answered].reverse() }, ...(unprocessed.length ? { UnprocessedKeys: { [TABLE]: { Keys: unprocessed } } } : {}) };
  });
}
const requests = () => ddb.commandCalls(BatchGetCommand).map((c) => (c.args[0].input as BatchGetInput).RequestItems[TABLE]!);
const itemsFor = (n: number): Item[] => Array.from({ length: n }, (_, i) => ({ pk: `PLAN#p${String(i).padStart(3, '0')}`, sk: 'PLAN', n: i }));
const keyOf = (item: Item): Key => ({ pk: String(item.pk), sk: String(item.sk) });
const noWait = { sleep: async () => {}, random: () => 1 };

beforeEach(() => ddb.reset());
afterAll(() => ddb.restore());

describe('batchGet', () => {
  it('fetches more than 100 keys in requests of at most 100, and answers in the order of the keys', async () => {
    const items = itemsFor(250);
    serve(items);
    const order = [...items].sort((a, b) => ((a.n as number) % 7) - ((b.n as number) % 7) || (a.n as number) - (b.n as number));
    const got = await batchGet(client(), TABLE, order.map(keyOf));
    expect(requests().map((r) => r.Keys.length)).toEqual([100, 100, 50]);
    expect(got.map((i) => i.n)).toEqual(order.map((i) => i.n));
  });

  it('leaves out a key whose item no longer exists, keeping the others in order', async () => {
    const items = itemsFor(5);
    serve(items.filter((i) => i.n !== 2));
    expect((await batchGet(client(), TABLE, items.map(keyOf))).map((i) => i.n)).toEqual([0, 1, 3, 4]);
  });

  it('resends the UnprocessedKeys after a growing backoff until none are left', async () => {
    const items = itemsFor(120);
    // The first chunk comes back with all but 10 keys unprocessed, then all but 1, then done.
    serve(items, (asked, call) => (call === 0 ? asked.slice(10) : call === 1 ? asked.slice(1) : []));
    const delays: number[] = [];
    const got = await batchGet(client(), TABLE, items.map(keyOf), { baseDelayMs: 20, sleep: async (ms) => void delays.push(ms), random: () => 1 });
    expect(got.map((i) => i.n)).toEqual(items.map((i) => i.n));
    expect(requests().map((r) => r.Keys.length)).toEqual([100, 90, 89, 20]);
    expect(delays).toEqual([20, 40]);
  });

  it('gives up on keys that stay unprocessed with a TransientStorageError (the caller retries)', async () => {
    serve(itemsFor(3), (asked) => asked);
    await expect(batchGet(client(), TABLE, itemsFor(3).map(keyOf), { ...noWait, maxAttempts: 3 })).rejects.toBeInstanceOf(TransientStorageError);
    expect(requests()).toHaveLength(3);
  });

  it('asks for consistent reads only when told to, and each key once per request', async () => {
    const items = itemsFor(2);
    serve(items);
    await batchGet(client(), TABLE, [...items, items[0]!].map(keyOf), { consistent: true });
    await batchGet(client(), TABLE, items.map(keyOf));
    expect(requests().map((r) => [r.Keys.length, r.ConsistentRead])).toEqual([
      [2, true],
      [2, undefined],
    ]);
  });

  it('sends nothing for no keys', async () => {
    expect(await batchGet(client(), TABLE, [])).toEqual([]);
    expect(requests()).toHaveLength(0);
  });
});

/** What a keys-only index entry of an item holds. */
const entryOf = (item: Item, ...indexKeys: string[]) => Object.fromEntries(['pk', 'sk', ...indexKeys].map((k) => [k, item[k]]));

function escalated(planId: string, raisedAt: string): Plan {
  const { plan } = planInStage('referred');
  if (!plan) throw new Error('no plan');
  return { ...plan, planId, escalations: [{ escalationId: `es_${planId}`, kind: 'assessment-overdue', raisedAt } as Plan['escalations'][number]] };
}

describe('PlanRepository index queries (keys-only indexes, plans fetched from the table)', () => {
  const repository = () => new PlanRepository(client(), TABLE, { batch: noWait });

  it('worklistPage (the overdue list): the oldest open escalations across shards, fetched eventually consistent, plans gone or no longer alerted left out', async () => {
    const plans = ['pl_aaaaaaaaaaaa', 'pl_bbbbbbbbbbbb', 'pl_cccccccccccc', 'pl_dddddddddddd'].map((id, i) => escalated(id, `2026-01-0${4 - i}T00:00:00.000Z`));
    const items = plans.map((plan) => planToItem(plan));
    ddb.on(QueryCommand).callsFake((input: { ExpressionAttributeValues: Record<string, string> }) => ({
      // A shard's entries in index order: the oldest escalation first.
      Items: items
        .filter((i) => i.alertPk === input.ExpressionAttributeValues[':pk'])
        .map((i) => entryOf(i, 'alertPk', 'alertSince'))
        .sort((a, b) => String(a.alertSince).localeCompare(String(b.alertSince))),
    }));
    // Since the index was read: plan b was deleted, plan c's escalation was resolved.
    const { alertPk: _pk, alertSince: _since, ...resolved } = items[2]!;
    serve([items[0]!, resolved, items[3]!]);
    const got = (await repository().worklistPage('overdue', undefined, 3)).items;
    // Only the oldest three entries are fetched (d, c, b by raisedAt), never a fourth: of those, d is left.
    expect(got.map((p) => p.planId)).toEqual(['pl_dddddddddddd']);
    expect(requests()).toEqual([{ Keys: [keys.plan('pl_dddddddddddd'), keys.plan('pl_cccccccccccc'), keys.plan('pl_bbbbbbbbbbbb')] }]);
  });

  it('dueBefore and pendingOutbox read the plans consistently (the sweeper acts on them); countAlerted fetches nothing', async () => {
    const plan = planInStage('allocating').plan!;
    const item = planToItem(plan);
    expect(item.duePk).toBeDefined();
    expect(item.outboxPk).toBeDefined();
    ddb.on(QueryCommand).callsFake((input: { IndexName: string; ExpressionAttributeValues: Record<string, string>; Select?: string }) => {
      if (input.Select === 'COUNT') return { Count: 1 };
      const [pkName, skName] = input.IndexName === 'byDue' ? ['duePk', 'dueAt'] : ['outboxPk', 'outboxSince'];
      return { Items: item[pkName] === input.ExpressionAttributeValues[':pk'] ? [entryOf(item, pkName, skName)] : [] };
    });
    serve([item]);
    expect((await repository().dueBefore('9999')).map((p) => p.planId)).toEqual([plan.planId]);
    expect((await repository().pendingOutbox('9999')).map((p) => p.planId)).toEqual([plan.planId]);
    expect(requests().map((r) => r.ConsistentRead)).toEqual([true, true]);
    expect(await repository().countAlerted()).toBe(4);
    expect(requests()).toHaveLength(2);
  });

  it('listByStage keeps the index order (newest first) and the index cursor', async () => {
    const plans = ['pl_aaaaaaaaaaaa', 'pl_bbbbbbbbbbbb', 'pl_cccccccccccc'].map((planId, i) => ({ ...planInStage('referred').plan!, planId, updatedAt: `2026-01-0${i + 1}T00:00:00.000Z` }));
    const items = plans.map((plan) => planToItem(plan)).reverse();
    const last = entryOf(items[1]!, 'stagePk', 'stageSk');
    ddb.on(QueryCommand).resolves({ Items: items.slice(0, 2).map((i) => entryOf(i, 'stagePk', 'stageSk')), LastEvaluatedKey: last });
    serve(items);
    const page = await repository().listByStage('referred', 2);
    expect(page.items.map((p) => p.planId)).toEqual(['pl_cccccccccccc', 'pl_bbbbbbbbbbbb']);
    expect(JSON.parse(Buffer.from(page.nextCursor!, 'base64url').toString('utf8'))).toEqual(last);
  });
});
