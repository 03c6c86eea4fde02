import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { IdentityCorrection, type Participant } from '../../domain/schemas.ts';
import { storageError } from './client.ts';
import { keys } from './keys.ts';
import { identityOfItem, REFERRALS_NOTED } from './plan-repository.ts';

type Store = { client: DynamoDBDocumentClient; tableName: string };
type CorrectableField = keyof IdentityCorrection;
const CORRECTABLE_FIELDS = Object.keys(IdentityCorrection.shape) as CorrectableField[];

/**
 * What a correction does to her record, field by field: a value replaces the one held, a null
 * removes it, a field it does not name is kept. The one statement of that rule: the merge a
 * correction is checked with (`correctedIdentity`) and the write that stores it are both read off it.
 */
function correctionEffects(correction: IdentityCorrection): { set: [CorrectableField, unknown][]; remove: CorrectableField[] } {
  const named = CORRECTABLE_FIELDS.filter((field) => correction[field] !== undefined);
  return { set: named.filter((field) => correction[field] !== null).map((field) => [field, correction[field]]), remove: named.filter((field) => correction[field] === null) };
}

/** Her identity as it would be held after the correction (to check before writing it). */
export function correctedIdentity(held: Participant, correction: IdentityCorrection): Record<string, unknown> {
  const { set, remove } = correctionEffects(correction);
  const merged: Record<string, unknown> = { ...held, ...Object.fromEntries(set) };
  for (const field of remove) delete merged[field];
  return merged;
}

/** Bookkeeping of the referral whose details are still to be written (see `noteReferral`). */
const PENDING = { planId: 'referralPending', revision: 'referralPendingRevision' } as const;

/**
 * One write of a correction: the fields it changes, `correctedAt`, one more `revision`, plus what the
 * caller adds to the update (`also`) and requires of the record (`condition`, with `attribute_exists(pk)`
 * always: an erased identity stays erased). Her identity as now stored, or undefined when the
 * condition did not hold.
 */
async function writeCorrection(
  store: Store,
  participantId: string,
  correction: IdentityCorrection,
  now: string,
  guard: { condition?: string; names?: Record<string, string>; values?: Record<string, unknown>; alsoRemove?: string[] } = {},
): Promise<Participant | undefined> {
  const { set: changes, remove: removals } = correctionEffects(correction);
  const set = ['#correctedAt = :now', '#revision = if_not_exists(#revision, :zero) + :one', ...changes.map(([field]) => `#${field} = :${field}`)];
  const remove = [...removals.map((field) => `#${field}`), ...(guard.alsoRemove ?? [])];
  const names: Record<string, string> = { '#correctedAt': 'correctedAt', '#revision': 'revision', ...Object.fromEntries([...changes.map(([f]) => f), ...removals].map((f) => [`#${f}`, f])), ...guard.names };
  const values: Record<string, unknown> = { ':now': now, ':zero': 0, ':one': 1, ...Object.fromEntries(changes.map(([field, value]) => [`:${field}`, value])), ...guard.values };
  try {
    const out = await store.client.send(
      new UpdateCommand({
        TableName: store.tableName,
        Key: keys.identity(participantId),
        UpdateExpression: `SET ${set.join(', ')}${remove.length > 0 ? ` REMOVE ${remove.join(', ')}` : ''}`,
        ConditionExpression: ['attribute_exists(pk)', ...(guard.condition ? [guard.condition] : [])].join(' AND '),
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
export async function correctIdentity(store: Store, participantId: string, correction: IdentityCorrection, now: string, seenRevision?: number): Promise<Participant | undefined> {
  if (seenRevision === undefined) return writeCorrection(store, participantId, correction, now);
  if (seenRevision === 0) return writeCorrection(store, participantId, correction, now, { condition: 'attribute_not_exists(#revision)' });
  return writeCorrection(store, participantId, correction, now, { condition: '#revision = :seen', values: { ':seen': seenRevision } });
}

/**
 * Note on the record of a woman referred before, ahead of running a referral that brings new contact
 * details, address or preferred name, that this referral's are to be written once it is accepted, and
 * the revision her record is at now. Once per referral (`referralsNoted`, which also holds the
 * referral that created the record): a retry of it, even after her record changed, leaves the note as
 * the first attempt left it, so the retry can tell that the record changed since. Any other change to
 * her record moves its revision past the note, and a later referral's note replaces this one.
 * No record (erased since): nothing to note.
 */
export async function noteReferral(store: Store, participantId: string, planId: string): Promise<void> {
  try {
    await store.client.send(
      new UpdateCommand({
        TableName: store.tableName,
        Key: keys.identity(participantId),
        UpdateExpression: 'SET #pending = :plan, #pendingRevision = if_not_exists(#revision, :zero) ADD #noted :plans',
        ConditionExpression: 'attribute_exists(pk) AND NOT contains(#noted, :plan)',
        ExpressionAttributeNames: { '#pending': PENDING.planId, '#pendingRevision': PENDING.revision, '#revision': 'revision', '#noted': REFERRALS_NOTED },
        ExpressionAttributeValues: { ':plan': planId, ':zero': 0, ':plans': new Set([planId]) },
      }),
    );
  } catch (error) {
    if ((error as Error).name !== 'ConditionalCheckFailedException') throw storageError(error);
  }
}

/**
 * Write an accepted referral's contact details, address and preferred name over the ones held (only
 * the fields it gives), if her record is as it was when the referral was noted (`noteReferral`): this
 * referral's details not written yet, and nothing changed since. So a retry after a crash between
 * acceptance and this write writes them then, but never over a coordinator's correction (or anything
 * else) made in between: that is the newer word on how to reach her. Clears the note.
 *
 * Returns her identity as now stored, or undefined when they were not written.
 */
export async function applyReferralDetails(store: Store, participantId: string, planId: string, details: Pick<Participant, CorrectableField>, now: string): Promise<Participant | undefined> {
  return writeCorrection(store, participantId, details, now, {
    condition: '#pending = :plan AND (#revision = #pendingRevision OR (attribute_not_exists(#revision) AND #pendingRevision = :zero))',
    names: { '#pending': PENDING.planId, '#pendingRevision': PENDING.revision },
    values: { ':plan': planId },
    alsoRemove: ['#pending', '#pendingRevision'],
  });
}
