/**
 * Group commit of unconditional puts (audit records, history and feed entries, stored responses in the
 * embedded stack) against a real dynalite: puts arriving while a batch is in flight go together in
 * the next BatchWriteItem, a lone put goes at once, each caller is answered when its own items are
 * stored, and a failed batch fails exactly its callers. A client middleware counts, fails, holds
 * back or partly processes batches.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDocumentClient } from '../../lib/adapters/dynamodb/client.ts';
import { GroupPut } from '../../lib/adapters/dynamodb/group-put.ts';
import { LOCAL_AWS, startLocalStore, type LocalStore } from '../../lib/local/dynalite-server.ts';

const TABLE = 'wraparound-group-put-test';

let store: LocalStore;
let client: ReturnType<typeof makeDocumentClient>;
/** Items of each BatchWriteItem sent, by pk. */
const batches: string[][] = [];
let failBatchNumber: number | undefined;
let unprocessNextBatch = false;
let holdNextBatch: Promise<void> | undefined;

beforeAll(async () => {
  store = await startLocalStore({ inMemory: true, tableName: TABLE });
  client = makeDocumentClient({ ...LOCAL_AWS, endpoint: store.endpoint, maxAttempts: 1 });
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if ((context as { commandName?: string }).commandName !== 'BatchWriteItemCommand') return next(args);
      const input = (args as { input: { RequestItems: Record<string, { PutRequest: { Item: { pk: string } } }[]> } }).input;
      const requests = input.RequestItems[TABLE] ?? [];
      batches.push(requests.map((r) => r.PutRequest.Item.pk));
      if (failBatchNumber === batches.length) throw Object.assign(new Error('injected: throttled'), { name: 'ThrottlingException', $fault: 'client' });
      const hold = holdNextBatch;
      holdNextBatch = undefined;
      if (unprocessNextBatch && requests.length > 1) {
        unprocessNextBatch = false;
        const out = (await next({ ...args, input: { RequestItems: { [TABLE]: requests.slice(0, 1) } } } as never)) as { output: object };
        return { ...out, output: { ...out.output, UnprocessedItems: { [TABLE]: requests.slice(1) } } } as never;
      }
      const out = await next(args);
      await hold;
      return out;
    },
    { step: 'initialize', name: 'groupPutTestFaults', priority: 'high' },
  );
});
afterAll(async () => {
  client?.destroy();
  await store?.close();
});

let n = 0;
const item = (label: string) => ({ pk: `GROUP#${(n += 1)}#${label}`, sk: 'ITEM', label });
const stored = async (pk: string) => (await client.send(new GetCommand({ TableName: TABLE, Key: { pk, sk: 'ITEM' }, ConsistentRead: true }))).Item;
const fresh = () => {
  batches.length = 0;
  failBatchNumber = undefined;
  return new GroupPut(client, TABLE, { sleep: async () => {} });
};

describe('group commit of unconditional puts', () => {
  it('sends a lone put at once, and puts that arrive while it is in flight together in the next batch', async () => {
    const group = fresh();
    let release!: () => void;
    holdNextBatch = new Promise<void>((resolve) => (release = resolve));
    const first = item('first');
    const firstDone = group.put([first]);
    expect(batches).toEqual([[first.pk]]); // sent before put() returned: no waiting when idle
    const later = Array.from({ length: 8 }, (_, i) => item(`later-${i}`));
    const laterDone = later.map((it) => group.put([it]));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(batches).toHaveLength(1); // the eight wait for the batch in flight
    release();
    await Promise.all([firstDone, ...laterDone]);
    expect(batches).toEqual([[first.pk], later.map((it) => it.pk)]);
    for (const it of [first, ...later]) expect(await stored(it.pk)).toMatchObject({ label: it.label });
  });

  it('answers a caller only once its own item is stored', async () => {
    const group = fresh();
    let release!: () => void;
    holdNextBatch = new Promise<void>((resolve) => (release = resolve));
    const it1 = item('held');
    let answered = false;
    const done = group.put([it1]).then(() => (answered = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(answered).toBe(false);
    release();
    await done;
    expect(answered).toBe(true);
    expect(await stored(it1.pk)).toBeDefined();
  });

  it('fails exactly the callers whose items were in a failed batch', async () => {
    const group = fresh();
    let release!: () => void;
    holdNextBatch = new Promise<void>((resolve) => (release = resolve));
    failBatchNumber = 2;
    const ok = item('ok');
    const okDone = group.put([ok]);
    const unlucky = [item('unlucky-a'), item('unlucky-b')];
    const unluckyDone = unlucky.map((it) => group.put([it]).then(() => 'stored', (error: Error) => error.name));
    release();
    await okDone;
    expect(await Promise.all(unluckyDone)).toEqual(['TransientStorageError', 'TransientStorageError']);
    expect(await stored(ok.pk)).toBeDefined();
    for (const it of unlucky) expect(await stored(it.pk)).toBeUndefined();
    // The lane is free again.
    const after = item('after');
    await group.put([after]);
    expect(await stored(after.pk)).toBeDefined();
  });

  it('resends what comes back unprocessed, and answers the caller when all of it is stored', async () => {
    const group = fresh();
    unprocessNextBatch = true;
    const items = Array.from({ length: 4 }, (_, i) => item(`part-${i}`));
    await group.put(items);
    expect(batches.map((b) => b.length)).toEqual([4, 3]);
    for (const it of items) expect(await stored(it.pk)).toBeDefined();
  });

  it('splits more than 25 items, and never puts one key twice in a batch', async () => {
    const group = fresh();
    let release!: () => void;
    holdNextBatch = new Promise<void>((resolve) => (release = resolve));
    const many = Array.from({ length: 30 }, (_, i) => item(`many-${i}`));
    const blocker = group.put([item('blocker')]);
    const twice = item('twice');
    const results = [group.put(many), group.put([twice]), group.put([{ ...twice, label: 'again' }])];
    release();
    await Promise.all([blocker, ...results]);
    expect(batches.slice(1).map((b) => b.length)).toEqual([25, 6, 1]);
    for (const batch of batches) expect(new Set(batch).size).toBe(batch.length);
    expect(await stored(twice.pk)).toMatchObject({ label: 'again' });
  });
});
