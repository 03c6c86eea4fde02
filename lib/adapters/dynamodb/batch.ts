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
 * Send `requests` with `send`, which answers with what DynamoDB handed back unprocessed, and resend
 * that with exponential backoff and full jitter, as AWS asks, until nothing is left; what is still
 * unprocessed after `maxAttempts` sends ends as a TransientStorageError (the caller retries).
 * One loop for BatchWriteItem and BatchGetItem.
 */
export async function sendUntilProcessed<T>(requests: T[], send: (requests: T[]) => Promise<T[]>, what: string, options: BatchPutOptions): Promise<void> {
  const maxAttempts = options.maxAttempts ?? 8;
  const baseDelayMs = options.baseDelayMs ?? 20;
  const sleep = options.sleep ?? wait;
  const random = options.random ?? Math.random;
  let pending = requests;
  for (let attempt = 1; ; attempt += 1) {
    pending = await send(pending);
    if (pending.length === 0) return;
    if (attempt >= maxAttempts) throw new TransientStorageError(new Error(`${pending.length} ${what} stayed unprocessed after ${attempt} attempts`));
    await sleep(Math.round(random() * baseDelayMs * 2 ** (attempt - 1)));
  }
}

/**
 * Put `items` (plain, unconditional puts) in BatchWriteItem requests of 25, resending what DynamoDB
 * hands back as UnprocessedItems (sendUntilProcessed). Only for items whose key
 * makes a repeated put harmless: a failure part-way is retried by writing the whole set again.
 * Unprocessed items that never go through end as a TransientStorageError (the step or sweeper retries).
 * Keys must be distinct within a call (DynamoDB refuses a batch that names one key twice).
 */
export async function batchPut(client: DynamoDBDocumentClient, tableName: string, items: readonly Record<string, unknown>[], options: BatchPutOptions = {}): Promise<void> {
  for (let i = 0; i < items.length; i += BATCH_WRITE_LIMIT) {
    const requests: unknown[] = items.slice(i, i + BATCH_WRITE_LIMIT).map((Item) => ({ PutRequest: { Item } }));
    await sendUntilProcessed(
      requests,
      async (pending) => {
        let out: { UnprocessedItems?: Record<string, unknown[]> };
        try {
          out = (await client.send(new BatchWriteCommand({ RequestItems: { [tableName]: pending as never } }))) as typeof out;
        } catch (error) {
          throw storageError(error);
        }
        return out.UnprocessedItems?.[tableName] ?? [];
      },
      'of a batch write',
      options,
    );
  }
}
