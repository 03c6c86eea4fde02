import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { storageError, TransientStorageError } from './client.ts';

/** DynamoDB takes at most 25 requests in one BatchWriteItem. */
export const BATCH_WRITE_LIMIT = 25;

export interface BatchPutOptions {
  /** Sends of one chunk before its unprocessed items are given up as a transient failure. */
  maxAttempts?: number;
  /** First backoff before resending unprocessed items; doubled each time, with full jitter. */
  baseDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Put `items` (plain, unconditional puts) in BatchWriteItem requests of 25, resending what DynamoDB
 * hands back as UnprocessedItems with exponential backoff, as AWS asks. Only for items whose key
 * makes a repeated put harmless: a failure part-way is retried by writing the whole set again.
 * Unprocessed items that never go through end as a TransientStorageError (the step or sweeper retries).
 * Keys must be distinct within a call (DynamoDB refuses a batch that names one key twice).
 */
export async function batchPut(client: DynamoDBDocumentClient, tableName: string, items: readonly Record<string, unknown>[], options: BatchPutOptions = {}): Promise<void> {
  const maxAttempts = options.maxAttempts ?? 8;
  const baseDelayMs = options.baseDelayMs ?? 20;
  const sleep = options.sleep ?? wait;
  const random = options.random ?? Math.random;
  for (let i = 0; i < items.length; i += BATCH_WRITE_LIMIT) {
    let requests: unknown[] = items.slice(i, i + BATCH_WRITE_LIMIT).map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 1; ; attempt += 1) {
      let out: { UnprocessedItems?: Record<string, unknown[]> };
      try {
        out = (await client.send(new BatchWriteCommand({ RequestItems: { [tableName]: requests as never } }))) as typeof out;
      } catch (error) {
        throw storageError(error);
      }
      requests = out.UnprocessedItems?.[tableName] ?? [];
      if (requests.length === 0) break;
      if (attempt >= maxAttempts) throw new TransientStorageError(new Error(`${requests.length} of a batch write stayed unprocessed after ${attempt} attempts`));
      await sleep(Math.round(random() * baseDelayMs * 2 ** (attempt - 1)));
    }
  }
}
