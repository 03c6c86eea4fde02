/**
 * What each request would be billed on AWS, counted on the embedded stack (bench only). Reads ask
 * dynalite for their consumed capacity (it sizes reads as DynamoDB does: 4 KB units, half for
 * eventually consistent reads). Writes are sized here, because dynalite leaves out the indexes:
 * the item is read before and after each write (through a separate client, so those reads are not
 * counted), and every global secondary index the old or the new item is in costs write units too,
 * by the size of its entry as that index's projection in the table definition makes it (ALL: the
 * item; KEYS_ONLY: the table's and the index's keys; INCLUDE: those and the named attributes). A
 * changed index key is a delete plus a put; an entry whose key and projected attributes are unchanged
 * is not written. A write refused by its condition costs its base units only.
 */
import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { makeDocumentClient } from '../../lib/adapters/dynamodb/client.ts';
import { TABLE_KEYS } from '../../lib/adapters/dynamodb/keys.ts';
import { TABLE_DEFINITION } from '../../lib/adapters/dynamodb/table-definition.ts';
import { LOCAL_AWS } from '../../lib/local/dynalite-server.ts';

type Item = Record<string, unknown>;

/** DynamoDB's item size: attribute names plus values (numbers ~1 byte per 2 digits, 3 bytes per map or list, 1 per element). */
export function itemBytes(value: unknown): number {
  if (value === null || value === undefined || typeof value === 'boolean') return 1;
  if (typeof value === 'string') return Buffer.byteLength(value);
  if (typeof value === 'number') return Math.ceil(String(Math.abs(value)).replace(/[.-]|e.*$/g, '').replace(/^0+/, '').length / 2) + 1;
  if (Array.isArray(value)) return 3 + value.reduce((sum: number, v) => sum + 1 + itemBytes(v), 0);
  if (value instanceof Uint8Array) return value.byteLength;
  return 3 + Object.entries(value as Item).reduce((sum, [k, v]) => sum + Buffer.byteLength(k) + 1 + itemBytes(v), 0);
}

const topLevelBytes = (item: Item) => Object.entries(item).reduce((sum, [k, v]) => sum + Buffer.byteLength(k) + itemBytes(v), 0);
const writeUnits = (bytes: number) => Math.max(1, Math.ceil(bytes / 1024));

export interface WriteCost {
  base: number;
  indexes: number;
  bytes: number;
}

export function writeCost(before: Item | undefined, after: Item | undefined, failed: boolean): WriteCost {
  const oldBytes = before ? topLevelBytes(before) : 0;
  const newBytes = after ? topLevelBytes(after) : 0;
  const base = writeUnits(Math.max(oldBytes, newBytes));
  if (failed) return { base, indexes: 0, bytes: 0 };
  let indexes = 0;
  for (const { partitionKey, sortKey, projection } of TABLE_DEFINITION.indexes) {
    const inOld = before !== undefined && before[partitionKey] !== undefined && before[sortKey] !== undefined;
    const inNew = after !== undefined && after[partitionKey] !== undefined && after[sortKey] !== undefined;
    // The index entry of an item: all of it, or its keys and the projected attributes.
    const entry = (item: Item): Item =>
      projection.type === 'ALL'
        ? item
        : Object.fromEntries(
            [TABLE_KEYS.partitionKey, TABLE_KEYS.sortKey, partitionKey, sortKey, ...(projection.type === 'INCLUDE' ? projection.nonKeyAttributes : [])].flatMap((a) => (item[a] === undefined ? [] : [[a, item[a]]])),
          );
    const oldEntry = inOld ? entry(before) : undefined;
    const newEntry = inNew ? entry(after) : undefined;
    const oldEntryBytes = oldEntry ? topLevelBytes(oldEntry) : 0;
    const newEntryBytes = newEntry ? topLevelBytes(newEntry) : 0;
    if (oldEntry && newEntry) {
      const sameKey = oldEntry[partitionKey] === newEntry[partitionKey] && oldEntry[sortKey] === newEntry[sortKey];
      // ALL: any write changes the entry (counted as before); otherwise only a changed projected attribute does.
      const unchanged = projection.type !== 'ALL' && JSON.stringify(oldEntry) === JSON.stringify(newEntry);
      indexes += sameKey ? (unchanged ? 0 : writeUnits(Math.max(oldEntryBytes, newEntryBytes))) : writeUnits(oldEntryBytes) + writeUnits(newEntryBytes);
    } else if (newEntry) indexes += writeUnits(newEntryBytes);
    else if (oldEntry) indexes += writeUnits(oldEntryBytes);
  }
  return { base, indexes, bytes: newBytes };
}

export interface Bill {
  requests: Record<string, number>;
  readUnits: number;
  writeUnits: number;
  indexWriteUnits: number;
  bytesWritten: number;
  /** Write units (base + index) by where the write was made from (api, or a step) and its operation. */
  writeUnitsByWhere: Record<string, number>;
}

export const emptyBill = (): Bill => ({ requests: {}, readUnits: 0, writeUnits: 0, indexWriteUnits: 0, bytesWritten: 0, writeUnitsByWhere: {} });

const READS = new Set(['GetItem', 'Query', 'Scan', 'BatchGetItem']);
const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem']);

export class Accounting {
  /** Bills by the label `current()` gives when each request is made (the command in flight). */
  readonly bills = new Map<string, Bill>();
  private raw: DynamoDBDocumentClient | undefined;
  private readonly current: () => string;
  private readonly where: () => string;

  /** `current`: the command in flight; `where`: the step (or the API handler) making the request. */
  constructor(current: () => string, where: () => string = () => 'api') {
    this.current = current;
    this.where = where;
  }

  bill(label = this.current()): Bill {
    let bill = this.bills.get(label);
    if (!bill) this.bills.set(label, (bill = emptyBill()));
    return bill;
  }

  async attach(client: DynamoDBDocumentClient, tableName: string): Promise<void> {
    const endpoint = await (client.config.endpoint as unknown as () => Promise<{ protocol: string; hostname: string; port?: number; path: string }>)();
    this.raw = makeDocumentClient({ ...LOCAL_AWS, endpoint: `${endpoint.protocol}//${endpoint.hostname}:${endpoint.port ?? 80}${endpoint.path}` });
    const raw = this.raw;
    const read = async (key: Item) => (await raw.send(new GetCommand({ TableName: tableName, Key: key, ConsistentRead: true }))).Item;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const op = String(context.commandName ?? 'unknown').replace(/Command$/, '');
        const bill = this.bill();
        const where = `${this.where()}:${op}`;
        bill.requests[op] = (bill.requests[op] ?? 0) + 1;
        const input = args.input as Item;
        if (READS.has(op)) {
          input.ReturnConsumedCapacity = 'TOTAL';
          const out = await next(args);
          const consumed = (out.output as { ConsumedCapacity?: { CapacityUnits?: number } | { CapacityUnits?: number }[] }).ConsumedCapacity;
          for (const c of [consumed ?? []].flat()) bill.readUnits += c.CapacityUnits ?? 0;
          return out;
        }
        if (!WRITES.has(op)) return next(args);
        const keys: Item[] =
          op === 'BatchWriteItem'
            ? ((input.RequestItems as Record<string, { PutRequest?: { Item: Item }; DeleteRequest?: { Key: Item } }[]>)[tableName] ?? []).map((r) =>
                r.PutRequest ? { pk: r.PutRequest.Item.pk, sk: r.PutRequest.Item.sk } : (r.DeleteRequest?.Key as Item),
              )
            : [input.Key ? (input.Key as Item) : { pk: (input.Item as Item).pk, sk: (input.Item as Item).sk }];
        const before = await Promise.all(keys.map(read));
        let failed = false;
        try {
          return await next(args);
        } catch (error) {
          failed = true;
          throw error;
        } finally {
          const after = await Promise.all(keys.map(read));
          keys.forEach((_, i) => {
            const cost = writeCost(before[i], after[i], failed);
            bill.writeUnits += cost.base;
            bill.indexWriteUnits += cost.indexes;
            bill.bytesWritten += cost.bytes;
            bill.writeUnitsByWhere[where] = (bill.writeUnitsByWhere[where] ?? 0) + cost.base + cost.indexes;
          });
        }
      },
      { step: 'initialize', name: 'benchAccounting', priority: 'low' },
    );
  }

  close(): void {
    this.raw?.destroy();
  }
}
