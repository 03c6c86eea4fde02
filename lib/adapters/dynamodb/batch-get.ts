import { BatchGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { storageError } from './client.ts';
import { sendUntilProcessed, type BatchPutOptions } from './batch.ts';

/** DynamoDB takes at most 100 keys in one BatchGetItem. */
export const BATCH_GET_LIMIT = 100;

type Key = { pk: string; sk: string };
type Item = Record<string, unknown>;

/** The resend options of batchPut (unprocessed keys resent the same way). */
export interface BatchGetOptions extends BatchPutOptions {
  /** Strongly consistent reads (twice the read units): for callers that act on what they read. */
  consistent?: boolean;
}
const idOf = (key: Key) => JSON.stringify([key.pk, key.sk]);

/**
 * The items of `keys`, in the order of `keys` (the order of the index they came from); a key whose
 * item no longer exists (deleted since the index was read) is left out. BatchGetItem answers in no
 * particular order and takes 100 keys at most, each once, so keys go in chunks of distinct keys and
 * what DynamoDB hands back as UnprocessedKeys is resent with exponential backoff, as AWS asks. Keys
 * still unprocessed after `maxAttempts` sends end as a TransientStorageError (the caller retries).
 */
export async function batchGet(client: DynamoDBDocumentClient, tableName: string, keys: readonly Key[], options: BatchGetOptions = {}): Promise<Item[]> {
  const distinct = [...new Map(keys.map((k) => [idOf(k), { pk: k.pk, sk: k.sk }])).values()];
  const found = new Map<string, Item>();
  for (let i = 0; i < distinct.length; i += BATCH_GET_LIMIT) {
    await sendUntilProcessed(
      distinct.slice(i, i + BATCH_GET_LIMIT),
      async (wanted) => {
        let out: { Responses?: Record<string, Item[]>; UnprocessedKeys?: Record<string, { Keys?: Item[] }> };
        try {
          out = (await client.send(new BatchGetCommand({ RequestItems: { [tableName]: { Keys: wanted, ...(options.consistent ? { ConsistentRead: true } : {}) } } }))) as typeof out;
        } catch (error) {
          throw storageError(error);
        }
        for (const item of out.Responses?.[tableName] ?? []) found.set(idOf(item as Key), item);
        return (out.UnprocessedKeys?.[tableName]?.Keys ?? []) as Key[];
      },
      'keys of a batch get',
      options,
    );
  }
  return keys.flatMap((k) => {
    const item = found.get(idOf(k));
    return item ? [item] : [];
  });
}
