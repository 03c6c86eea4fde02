import { PutCommand, type DynamoDBDocumentClient, type PutCommandInput } from '@aws-sdk/lib-dynamodb';
import { conditionFailed, storageError } from '../../lib/adapters/dynamodb/client.ts';

/**
 * The marker of a maintenance pass that walks the table a bounded share per sweeper run (erased-plan
 * redaction, the open-offer index): where the walk has got to, moved one `step` at a time.
 */

/** The marker's own fields, without its key or item type. */
export function markerFields<T>(item: Record<string, unknown>): T {
  const { pk: _pk, sk: _sk, type: _type, ...marker } = item;
  return marker as unknown as T;
}

/**
 * Write the marker `item` if the stored one is still at `previousStep` (or there is none, when undefined),
 * and, with `whileNotDone`, not yet done. False if another sweep moved it first: the caller leaves the
 * rest of the walk to that sweep (a page walked twice is idempotent in every pass).
 */
export async function moveStepMarker(
  store: { client: DynamoDBDocumentClient; tableName: string },
  item: Record<string, unknown> & { step: number },
  previousStep: number | undefined,
  options: { whileNotDone?: boolean } = {},
): Promise<boolean> {
  const stillAt: Pick<PutCommandInput, 'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'> =
    previousStep === undefined
      ? { ConditionExpression: 'attribute_not_exists(pk)' }
      : options.whileNotDone
        ? { ConditionExpression: '#step = :step AND #done = :false', ExpressionAttributeNames: { '#step': 'step', '#done': 'done' }, ExpressionAttributeValues: { ':step': previousStep, ':false': false } }
        : { ConditionExpression: '#step = :step', ExpressionAttributeNames: { '#step': 'step' }, ExpressionAttributeValues: { ':step': previousStep } };
  try {
    await store.client.send(new PutCommand({ TableName: store.tableName, Item: item, ...stillAt }));
    return true;
  } catch (error) {
    if (conditionFailed(error)) return false;
    throw storageError(error);
  }
}
