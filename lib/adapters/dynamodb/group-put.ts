import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchPut, BATCH_WRITE_LIMIT, type BatchPutOptions } from './batch.ts';

type Item = Record<string, unknown>;

interface Caller {
  /** Items of this caller not yet stored. */
  remaining: number;
  failed: boolean;
  resolve: () => void;
  reject: (error: unknown) => void;
}

interface Pending {
  item: Item;
  key: string;
  caller: Caller;
}

/**
 * Group commit of plain, unconditional puts (items whose key makes a repeated put harmless) from
 * concurrent requests. The first put when nothing is in flight is sent at once (no added latency
 * when idle); puts arriving while a batch is in flight wait and go together in the next
 * BatchWriteItem (up to 25 items, distinct keys; UnprocessedItems resent with backoff by batchPut).
 * A caller is answered only once every item it gave is stored, and a failed batch fails exactly the
 * callers with an item in it (their other items still waiting are dropped: they retry the whole set).
 *
 * Only where the puts may go as a BatchWriteItem: in the embedded stack. On AWS the table's resource
 * policy refuses BatchWriteItem on audit keys.
 */
export class GroupPut {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  private readonly options: BatchPutOptions;
  private queue: Pending[] = [];
  private flushing = false;

  constructor(client: DynamoDBDocumentClient, tableName: string, options: BatchPutOptions = {}) {
    this.client = client;
    this.tableName = tableName;
    this.options = options;
  }

  /** Store `items`; resolves when all of them are stored. Keys may repeat across calls, not within one. */
  put(items: readonly Item[]): Promise<void> {
    if (items.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const caller: Caller = { remaining: items.length, failed: false, resolve, reject };
      for (const item of items) this.queue.push({ item, key: `${String(item.pk)}\u0000${String(item.sk)}`, caller });
      if (!this.flushing) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.take();
        try {
          await batchPut(this.client, this.tableName, batch.map((p) => p.item), this.options);
        } catch (error) {
          for (const { caller } of batch) this.fail(caller, error);
          continue;
        }
        for (const { caller } of batch) {
          caller.remaining -= 1;
          if (caller.remaining === 0 && !caller.failed) caller.resolve();
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  /** The next batch: queued items in order, at most 25, no key twice (a repeated key waits for the next). */
  private take(): Pending[] {
    const batch: Pending[] = [];
    const keys = new Set<string>();
    const rest: Pending[] = [];
    for (const pending of this.queue) {
      if (batch.length < BATCH_WRITE_LIMIT && !keys.has(pending.key)) {
        batch.push(pending);
        keys.add(pending.key);
      } else rest.push(pending);
    }
    this.queue = rest;
    return batch;
  }

  private fail(caller: Caller, error: unknown): void {
    if (caller.failed) return;
    caller.failed = true;
    this.queue = this.queue.filter((p) => p.caller !== caller);
    caller.reject(error);
  }
}
