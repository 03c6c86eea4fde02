import { DeleteCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { OPEN_STAGES } from '../../domain/lifecycle.ts';
import type { Plan } from '../../domain/schemas.ts';
import { MAX_POSSIBLE_DUPLICATES } from '../../domain/vocabulary.ts';
import type { NearMatchKeys } from '../near-match.ts';
import { batchGet } from './batch-get.ts';
import { conditionFailed, storageError } from './client.ts';
import { keys } from './keys.ts';
import { itemToPlan } from './plan-item.ts';

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

/**
 * At most this many of the plans found are read, in BatchGetItems of 100 (10 requests, each answer a few
 * hundred kB at most: a plan item's body is gzipped). What bounds the plans found is the near-match items'
 * sets: a plan stays filed until her identity is erased or the plan is deleted at the end of retention
 * (six years after it closed), so a key gathers every plan referred under it in that time, closed ones
 * too, up to an item's 400 KB (some 14,000 plan ids); a person record of a slip key lists one woman's
 * plans. Women sharing a family name (or a given name) and a birthday number a handful even over six years
 * (lib/adapters/near-match.ts), so 1,000 is far past any real key, and holds a key gone wrong (test data,
 * a placeholder name) to 10 requests per referral. Beyond it the ids read are the first in the items'
 * order, and an open plan among the rest would not be warned of.
 */
export const MOST_PLANS_READ = 1_000;

const OPEN_STAGE_SET: ReadonlySet<string> = new Set(OPEN_STAGES);

/**
 * Open, as a referral judges a plan: in one of the lifecycle's open stages, and not erased. The one rule
 * for both what a referral does about such a plan: refused when it is hers ('already has an open plan'),
 * warned of when it is another woman's near match (openPlansNearMatching).
 */
export const openForReferral = (plan: Pick<Plan, 'stage' | 'identityErasedAt'>): boolean => OPEN_STAGE_SET.has(plan.stage) && !plan.identityErasedAt;

/**
 * The ids of the plans filed under any of `near`'s keys: the near-match items of its filed keys and the
 * person records of its slip keys, in one BatchGetItem (eventually consistent: a warning, not a lock).
 * Plan ids only, of open and closed plans alike, in the items' order; at most MOST_PLANS_READ.
 */
async function plansNearMatching(store: Store, near: NearMatchKeys): Promise<string[]> {
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

/**
 * The open plans of other women filed under `near`'s keys, oldest referral first, at most
 * MAX_POSSIBLE_DUPLICATES (the most a refusal names and notDuplicateOf lists). Every plan found is read
 * (BatchGetItem, eventually consistent) before any is left out: closed plans stay filed, so capping the
 * ids first could leave an open plan out behind 50 closed ones. `notHers`: her own plans (her person
 * record's, and the one being referred) and her participant id, which are not another woman's.
 */
export async function openPlansNearMatching(store: Store, near: NearMatchKeys, notHers: { planIds: readonly string[]; participantId?: string | undefined }): Promise<Plan[]> {
  const own = new Set(notHers.planIds);
  const ids = (await plansNearMatching(store, near)).filter((id) => !own.has(id));
  if (ids.length === 0) return [];
  const items = await batchGet(store.client, store.tableName, ids.map((id) => keys.plan(id)));
  return items
    .filter((item) => item.type === 'plan')
    .map(itemToPlan)
    .filter((p) => openForReferral(p) && (notHers.participantId === undefined || p.participantId !== notHers.participantId))
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt))
    .slice(0, MAX_POSSIBLE_DUPLICATES);
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
