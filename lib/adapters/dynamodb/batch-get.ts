import { BatchGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { storageError, TransientStorageError } from './client.ts';

/** DynamoDB takes at most 100 keys in one BatchGetItem. */
export const BATCH_GET_LIMIT = 100;

type Key = { pk: string; sk: string };
type Item = Record<string, unknown>;

export interface BatchGetOptions {
  /** Strongly consistent reads (twice the read units): for callers that act on what they read. */
  consistent?: boolean;
  /** Sends of one chunk before its unprocessed keys are given up as a transient failure. */
  maxAttempts?: number;
  /** First backoff before resending unprocessed keys; doubled each time, with full jitter. */
  baseDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const idOf = (key: Key) => JSON.stringify([key.pk, key.sk]);

/**
 * The items of `keys`, in the order of `keys` (the order of the index they came from); a key whose
 * item no longer exists (deleted since the index was read) is left out. BatchGetItem answers in no
 * particular order and takes 100 keys at most, each once, so keys go in chunks of distinct keys and
 * what DynamoDB hands back as UnprocessedKeys is resent with exponential backoff, as AWS asks. Keys
 * still unprocessed after `maxAttempts` sends end as a TransientStorageError (the caller retries).
 */
export async function batchGet(client: DynamoDBDocumentClient, tableName: string, keys: readonly Key[], options: BatchGetOptions = {}): Promise<Item[]> {
  const maxAttempts = options.maxAttempts ?? 8;
  const baseDelayMs = options.baseDelayMs ?? 20;
  const sleep = options.sleep ?? wait;
  const random = options.random ?? Math.random;
  const distinct = [...new Map(keys.map((k) => [idOf(k), { pk: k.pk, sk: k.sk }])).values()];
  const found = new Map<string, Item>();
  for (let i = 0; i < distinct.length; i += BATCH_GET_LIMIT) {
    let wanted: Key[] = distinct.slice(i, i + BATCH_GET_LIMIT);
    for (let attempt = 1; ; attempt += 1) {
      let out: { Responses?: Record<string, Item[]>; UnprocessedKeys?: Record<string, { Keys?: Item[] }> };
      try {
        out = (await client.send(new BatchGetCommand({ RequestItems: { [tableName]: { Keys: wanted, ...(options.consistent ? { ConsistentRead: true } : {}) } } }))) as typeof out;
      } catch (error) {
        throw storageError(error);
      }
      for (const item of out.Responses?.[tableName] ?? []) found.set(idOf(item as Key), item);
      wanted = (out.UnprocessedKeys?.[tableName]?.Keys ?? []) as Key[];
      if (wanted.length === 0) break;
      if (attempt >= maxAttempts) throw new TransientStorageError(new Error(`${wanted.length} keys of a batch get stayed unprocessed after ${attempt} attempts`));
      await sleep(Math.round(random() * baseDelayMs * 2 ** (attempt - 1)));
    }
  }
  return keys.flatMap((k) => {
    const item = found.get(idOf(k));
    return item ? [item] : [];
  });
}
