import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { IdentityCorrection, Participant } from '../../domain/schemas.ts';
import { storageError } from './client.ts';
import { keys } from './keys.ts';
import { identityOfItem } from './plan-repository.ts';

/**
 * Correct the parts of a stored identity that change over time. Only an identity that still exists
 * is changed (an erased one stays erased: the write is conditional), and the whole correction is one
 * write, so a failure leaves the record as it was. Every correction adds one to the record's
 * `revision`. With `seenRevision`, the write also requires the record to be still at the revision the
 * caller read (0: a record from before revisions, or never changed), so a correction checked against
 * what was held cannot land on top of another that changed it meanwhile.
 *
 * Returns her identity as now stored, or undefined when there is no identity at that revision
 * (erased, or changed since `seenRevision`: read it again to tell which).
 */
export async function correctIdentity(
  store: { client: DynamoDBDocumentClient; tableName: string },
  participantId: string,
  correction: IdentityCorrection,
  now: string,
  seenRevision?: number,
): Promise<Participant | undefined> {
  const set: string[] = ['#correctedAt = :now', '#revision = if_not_exists(#revision, :zero) + :one'];
  const remove: string[] = [];
  const names: Record<string, string> = { '#correctedAt': 'correctedAt', '#revision': 'revision' };
  const values: Record<string, unknown> = { ':now': now, ':zero': 0, ':one': 1 };
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
  let condition = 'attribute_exists(pk)';
  if (seenRevision === 0) condition += ' AND attribute_not_exists(#revision)';
  else if (seenRevision !== undefined) {
    condition += ' AND #revision = :seen';
    values[':seen'] = seenRevision;
  }
  try {
    const out = await store.client.send(
      new UpdateCommand({
        TableName: store.tableName,
        Key: keys.identity(participantId),
        UpdateExpression: `SET ${set.join(', ')}${remove.length > 0 ? ` REMOVE ${remove.join(', ')}` : ''}`,
        ConditionExpression: condition,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_NEW',
      }),
    );
    return identityOfItem(out.Attributes ?? {});
  } catch (error) {
    if ((error as Error).name === 'ConditionalCheckFailedException') return undefined;
    throw storageError(error);
  }
}
