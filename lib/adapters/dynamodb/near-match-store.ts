import { DeleteCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { MAX_POSSIBLE_DUPLICATES } from '../../domain/vocabulary.ts';
import type { NearMatchKeys } from '../near-match.ts';
import { batchGet } from './batch-get.ts';
import { conditionFailed, storageError } from './client.ts';
import { keys } from './keys.ts';

type Store = { client: DynamoDBDocumentClient; tableName: string };

/**
 * Near-match items (keys.nearMatch): under each filed near-match key of a woman (lib/adapters/near-match.ts),
 * the string set `planIds` of the plans referred with that key. Plan ids only, which are pseudonymous:
 * nothing of her name or date of birth is in the item, and its key is an HMAC. Written with each
 * accepted referral, one UpdateItem per key (ADD to the set: no read, no transaction, and a retry adds
 * nothing twice); read by a referral in the one BatchGetItem below; deleted with her identity (erasure).
 *
 * Women referred before these items existed have none, so a referral differing from theirs in one name
 * is not warned of their plans until they are referred again; the slip keys (day and month swapped, names
 * transposed) read the person records every referral has always written, so those are found from the
 * start. No backfill is run: it is possible (her identity record holds her name and date of birth as
 * attributes, encrypted at rest by the table's key, not per woman, so the sweeper could read each record,
 * find her plans through her person record and file the open ones), but it would read every identity
 * record in one pass, and the warnings it would add fade anyway as those plans end.
 */

/** At most this many plans are read after the lookup, the most a refusal names and notDuplicateOf lists. */
const MOST_PLANS_READ = MAX_POSSIBLE_DUPLICATES;

/**
 * The plans filed under any of `near`'s keys: the near-match items of its filed keys and the person
 * records of its slip keys, in one BatchGetItem (eventually consistent: a warning, not a lock).
 * Plan ids only; which are open, and whose, is for the caller to read.
 */
export async function plansNearMatching(store: Store, near: NearMatchKeys): Promise<string[]> {
  const wanted = [...near.filed.map((f) => keys.nearMatch(f.key)), ...near.slips.map((s) => keys.person(s.key))];
  if (wanted.length === 0) return [];
  const items = await batchGet(store.client, store.tableName, wanted);
  const ids = new Set<string>();
  for (const item of items) {
    const planIds = item.planIds;
    for (const id of planIds instanceof Set ? (planIds as Set<string>) : Array.isArray(planIds) ? (planIds as string[]) : []) if (typeof id === 'string') ids.add(id);
  }
  return [...ids].slice(0, MOST_PLANS_READ);
}

/** File an accepted referral's plan under her near-match keys (each its own write; repeating it adds nothing). */
export async function fileNearMatches(store: Store, near: NearMatchKeys, planId: string): Promise<void> {
  await Promise.all(
    near.filed.map(async ({ key }) => {
      try {
        await store.client.send(
          new UpdateCommand({
            TableName: store.tableName,
            Key: keys.nearMatch(key),
            UpdateExpression: 'SET #type = :type ADD #planIds :plan',
            ExpressionAttributeNames: { '#type': 'type', '#planIds': 'planIds' },
            ExpressionAttributeValues: { ':type': 'near-match', ':plan': new Set([planId]) },
          }),
        );
      } catch (error) {
        throw storageError(error);
      }
    }),
  );
}


/**
 * Take `planIds` (her plans) out of her near-match items, and delete an item left with no plan. The
 * delete holds only while the item is still empty, so a referral of another woman filed under the same
 * key meanwhile keeps hers. Before her identity record goes: the keys are worked out from it.
 */
export async function forgetNearMatches(store: Store, near: NearMatchKeys, planIds: readonly string[]): Promise<void> {
  if (planIds.length === 0) return;
  await Promise.all(
    near.filed.map(async ({ key }) => {
      let left: Record<string, unknown> | undefined;
      try {
        const out = await store.client.send(
          new UpdateCommand({
            TableName: store.tableName,
            Key: keys.nearMatch(key),
            UpdateExpression: 'DELETE #planIds :plans',
            ConditionExpression: 'attribute_exists(pk)',
            ExpressionAttributeNames: { '#planIds': 'planIds' },
            ExpressionAttributeValues: { ':plans': new Set(planIds) },
            ReturnValues: 'ALL_NEW',
          }),
        );
        left = out.Attributes;
      } catch (error) {
        if (conditionFailed(error)) return;
        throw storageError(error);
      }
      if (left && left.planIds !== undefined) return;
      try {
        await store.client.send(new DeleteCommand({ TableName: store.tableName, Key: keys.nearMatch(key), ConditionExpression: 'attribute_not_exists(#planIds)', ExpressionAttributeNames: { '#planIds': 'planIds' } }));
      } catch (error) {
        if (!conditionFailed(error)) throw storageError(error);
      }
    }),
  );
}
