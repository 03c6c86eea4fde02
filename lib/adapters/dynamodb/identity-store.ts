import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { IdentityCorrection } from '../../domain/schemas.ts';
import { storageError } from './client.ts';
import { keys } from './keys.ts';

/**
 * Correct the parts of a stored identity that change over time. Only an identity that still exists
 * is changed (an erased one stays erased: the write is conditional), and the whole correction is one
 * write, so a failure leaves the record as it was. Returns false when there is no identity to correct.
 */
export async function correctIdentity(
  store: { client: DynamoDBDocumentClient; tableName: string },
  participantId: string,
  correction: IdentityCorrection,
  now: string,
): Promise<boolean> {
  const set: string[] = ['#correctedAt = :now'];
  const remove: string[] = [];
  const names: Record<string, string> = { '#correctedAt': 'correctedAt' };
  const values: Record<string, unknown> = { ':now': now };
  for (const field of ['preferredName', 'contact', 'address'] as const) {
    const value = correction[field];
    if (value === undefined) continue;
    names[`#${field}`] = field;
    if (value === null) remove.push(`#${field}`);
    else {
      set.push(`#${field} = :${field}`);
      values[`:${field}`] = value;
    }
  }
  try {
    await store.client.send(
      new UpdateCommand({
        TableName: store.tableName,
        Key: keys.identity(participantId),
        UpdateExpression: `SET ${set.join(', ')}${remove.length > 0 ? ` REMOVE ${remove.join(', ')}` : ''}`,
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
    return true;
  } catch (error) {
    if ((error as Error).name === 'ConditionalCheckFailedException') return false;
    throw storageError(error);
  }
}
