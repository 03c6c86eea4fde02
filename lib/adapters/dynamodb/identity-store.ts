import { DeleteCommand, GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { IdentityCorrection, Participant } from '../../domain/schemas.ts';
import { conditionFailed, storageError } from './client.ts';
import { keys } from './keys.ts';
import { identityOfItem, REFERRALS_NOTED } from './plan-repository.ts';

type Store = { client: DynamoDBDocumentClient; tableName: string };
export type CorrectableField = keyof IdentityCorrection;
export const CORRECTABLE_FIELDS = Object.keys(IdentityCorrection.shape) as CorrectableField[];

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

/**
 * Bookkeeping of the referral whose details are still to be written (see `noteReferral`): its plan,
 * the revision her record was at when it was noted, the fields corrected since (a string set every
 * correction adds the fields it names to), and, once it was dealt with, what became of its details.
 */
const PENDING = { planId: 'referralPending', revision: 'referralPendingRevision', correctedSince: 'correctedSinceNote', outcome: 'referralDetailsOutcome' } as const;

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
  guard: { condition?: string; names?: Record<string, string>; values?: Record<string, unknown>; alsoSet?: string[]; alsoRemove?: string[]; stamp?: boolean } = {},
): Promise<{ identity: Participant; revision: number } | undefined> {
  const { set: changes, remove: removals } = correctionEffects(correction);
  const named = [...changes.map(([f]) => f), ...removals];
  const set = ['#correctedAt = :now', '#revision = if_not_exists(#revision, :zero) + :one', ...changes.map(([field]) => `#${field} = :${field}`), ...(guard.alsoSet ?? [])];
  const remove = [...removals.map((field) => `#${field}`), ...(guard.alsoRemove ?? [])];
  // Which fields were corrected since a referral was noted: what lets that referral still write the others.
  const stamp = guard.stamp !== false && named.length > 0;
  const names: Record<string, string> = { '#correctedAt': 'correctedAt', '#revision': 'revision', ...Object.fromEntries(named.map((f) => [`#${f}`, f])), ...(stamp ? { '#correctedSince': PENDING.correctedSince } : {}), ...guard.names };
  const values: Record<string, unknown> = { ':now': now, ':zero': 0, ':one': 1, ...Object.fromEntries(changes.map(([field, value]) => [`:${field}`, value])), ...(stamp ? { ':corrected': new Set(named) } : {}), ...guard.values };
  try {
    const out = await store.client.send(
      new UpdateCommand({
        TableName: store.tableName,
        Key: keys.identity(participantId),
        UpdateExpression: `SET ${set.join(', ')}${remove.length > 0 ? ` REMOVE ${remove.join(', ')}` : ''}${stamp ? ' ADD #correctedSince :corrected' : ''}`,
        ConditionExpression: ['attribute_exists(pk)', ...(guard.condition ? [guard.condition] : [])].join(' AND '),
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_NEW',
      }),
    );
    const item = out.Attributes ?? {};
    return { identity: identityOfItem(item), revision: revisionOf(item) };
  } catch (error) {
    if (conditionFailed(error)) return undefined;
    throw storageError(error);
  }
}

const revisionOf = (item: Record<string, unknown>) => (typeof item.revision === 'number' ? item.revision : 0);

/** The condition that her record is at `revision` (0: a record from before revisions, or never changed). */
const atRevision = (revision: number) =>
  revision === 0 ? { condition: 'attribute_not_exists(#revision)', values: {} } : { condition: '#revision = :seen', values: { ':seen': revision } };

/**
 * Correct the parts of a stored identity that change over time. Only an identity that still exists
 * is changed (an erased one stays erased: the write is conditional), and the whole correction is one
 * write, so a failure leaves the record as it was. Every correction adds one to the record's
 * `revision`. With `seenRevision`, the write also requires the record to be still at the revision the
 * caller read (0: a record from before revisions, or never changed), so a correction checked against
 * what was held cannot land on top of another that changed it meanwhile.
 *
 * Returns her identity as now stored (at `seenRevision` + 1), or undefined when there is no identity at
 * that revision (erased, or changed since `seenRevision`: read it again to tell which).
 */
export async function correctIdentity(store: Store, participantId: string, correction: IdentityCorrection, now: string, seenRevision?: number): Promise<Participant | undefined> {
  return (await writeCorrection(store, participantId, correction, now, seenRevision === undefined ? {} : atRevision(seenRevision)))?.identity;
}

/**
 * Note on the record of a woman referred before, ahead of running a referral that brings new contact
 * details, address or preferred name, that this referral's are to be written once it is accepted, and
 * the revision her record is at now. Once per referral (`referralsNoted`, which also holds the
 * referral that created the record): a retry of it, even after her record changed, leaves the note as
 * the first attempt left it, so the retry can tell what changed since. Every correction from then on
 * adds the fields it names to `correctedSinceNote` (cleared here), so the write can keep those and
 * still write the rest; a later referral's note replaces this one. No record (erased since): nothing
 * to note.
 */
export async function noteReferral(store: Store, participantId: string, planId: string): Promise<void> {
  try {
    await store.client.send(
      new UpdateCommand({
        TableName: store.tableName,
        Key: keys.identity(participantId),
        UpdateExpression: 'SET #pending = :plan, #pendingRevision = if_not_exists(#revision, :zero) REMOVE #correctedSince, #outcome ADD #noted :plans',
        ConditionExpression: 'attribute_exists(pk) AND NOT contains(#noted, :plan)',
        ExpressionAttributeNames: {
          '#pending': PENDING.planId,
          '#pendingRevision': PENDING.revision,
          '#correctedSince': PENDING.correctedSince,
          '#outcome': PENDING.outcome,
          '#revision': 'revision',
          '#noted': REFERRALS_NOTED,
        },
        ExpressionAttributeValues: { ':plan': planId, ':zero': 0, ':plans': new Set([planId]) },
      }),
    );
  } catch (error) {
    if (!conditionFailed(error)) throw storageError(error);
  }
}

/** What became of an accepted referral's contact details, address and preferred name. */
export interface ReferralDetailsOutcome {
  /** Written over what was held. */
  applied: CorrectableField[];
  /** Not written: what is held was corrected after the referral was noted (or her record is gone). */
  notApplied: CorrectableField[];
  /**
   * With `corrected-since`: those of `notApplied` that were corrected. The others were not written
   * because, without them, they would not make a whole identity with what is held (letters and an address).
   */
  corrected?: CorrectableField[];
  /**
   * `corrected-since`: those fields were corrected while the referral was being recorded; `not-held`:
   * her record is gone (erased); `not-noted`: there was no note of this referral to go by (the
   * record was made by it, or its details were dealt with before the note was kept).
   */
  why?: 'corrected-since' | 'not-held' | 'not-noted';
  /** Her identity as now stored, and its revision. */
  record?: { identity: Participant; revision: number };
}

/** How often the write of a referral's details is tried again when her record changed between its read and its write. */
const REFERRAL_DETAILS_ATTEMPTS = 3;

/**
 * Write an accepted referral's contact details, address and preferred name over the ones held (only
 * the fields it gives) once, field by field: a field is written unless a correction named it after
 * the referral was noted (`noteReferral`), since that correction is the newer word on it (an old
 * number may be unsafe, and the coordinator may know the new one). The fields nobody touched since
 * take the referral's values, which are then the newest. If what would be held then is not an
 * identity a referral would be accepted with (letters with no address: the parts depend on each
 * other), none is written. A record noted before fields were tracked, and changed since, keeps all.
 *
 * Read, decided and written in one conditional write on the revision read (and the note still being
 * this referral's), so a correction landing in between makes it read again. Clears the note and keeps
 * what it decided on the record (field names only), so a retry after a crash once written (its
 * answer lost) reports the same thing, and never writes them twice.
 */
export async function applyReferralDetails(store: Store, participantId: string, planId: string, details: Pick<Participant, CorrectableField>, now: string): Promise<ReferralDetailsOutcome> {
  const given = CORRECTABLE_FIELDS.filter((field) => details[field] !== undefined);
  for (let attempt = 1; attempt <= REFERRAL_DETAILS_ATTEMPTS; attempt += 1) {
    let item: Record<string, unknown> | undefined;
    try {
      item = (await store.client.send(new GetCommand({ TableName: store.tableName, Key: keys.identity(participantId), ConsistentRead: true }))).Item;
    } catch (error) {
      throw storageError(error);
    }
    if (!item) return { applied: [], notApplied: given, why: 'not-held' };
    const identity = identityOfItem(item);
    const revision = revisionOf(item);
    const record = { identity, revision };
    if (item[PENDING.planId] !== planId) {
      const outcome = item[PENDING.outcome] as { planId?: string; applied?: CorrectableField[]; notApplied?: CorrectableField[]; corrected?: CorrectableField[] } | undefined;
      if (outcome?.planId === planId) {
        const notApplied = outcome.notApplied ?? [];
        return { applied: outcome.applied ?? [], notApplied, ...(notApplied.length > 0 ? { why: 'corrected-since' as const, corrected: outcome.corrected ?? notApplied } : {}), record };
      }
      return { applied: [], notApplied: given, why: 'not-noted', record };
    }
    const stamped = item[PENDING.correctedSince];
    const correctedSince = new Set<string>(stamped instanceof Set ? [...(stamped as Set<string>)] : revision === item[PENDING.revision] ? [] : given);
    let applied = given.filter((field) => !correctedSince.has(field));
    const written = Object.fromEntries(applied.map((field) => [field, details[field]])) as IdentityCorrection;
    if (applied.length > 0 && !Participant.safeParse(correctedIdentity(identity, written)).success) applied = [];
    const notApplied = given.filter((field) => !applied.includes(field));
    const corrected = notApplied.filter((field) => correctedSince.has(field));
    const names = { '#pending': PENDING.planId, '#pendingRevision': PENDING.revision, '#correctedSince': PENDING.correctedSince, '#outcome': PENDING.outcome };
    const values = { ':plan': planId, ':outcome': { planId, applied, notApplied, corrected } };
    const clearNote = { alsoSet: ['#outcome = :outcome'], alsoRemove: ['#pending', '#pendingRevision', '#correctedSince'] };
    const why = notApplied.length > 0 ? { why: 'corrected-since' as const, corrected } : {};
    if (applied.length > 0) {
      const seen = atRevision(revision);
      const stored = await writeCorrection(store, participantId, written, now, {
        condition: `#pending = :plan AND ${seen.condition}`,
        names,
        values: { ...values, ...seen.values },
        ...clearNote,
        stamp: false,
      });
      if (stored) return { applied, notApplied, ...why, record: stored };
      continue;
    }
    // Nothing of hers to write: the note is cleared without a new revision (her record did not change).
    try {
      await store.client.send(
        new UpdateCommand({
          TableName: store.tableName,
          Key: keys.identity(participantId),
          UpdateExpression: 'SET #outcome = :outcome REMOVE #pending, #pendingRevision, #correctedSince',
          ConditionExpression: '#pending = :plan',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
      return { applied, notApplied, ...why, record };
    } catch (error) {
      if (!conditionFailed(error)) throw storageError(error);
    }
  }
  // Her record changed under every try: nothing written, the note kept, so a retry of the referral can still write them.
  return { applied: [], notApplied: given, why: 'corrected-since' };
}

/*
 * Her person record (keys.person: the keyed hash of her identity, her participant id, her plans) is the
 * one item both a referral of her and an erasure of her write, so it is where the two are kept apart,
 * each with one conditional write (no transaction is needed, and none would span containers):
 *   - a referral claims it (`claimPerson`) only while no erasure's mark is on it, or the mark is stale;
 *   - an erasure marks it (`markErasing`) only while the claim on it is the one it judged not to be in
 *     flight (no newer referral claimed her since it looked), and no other erasure's live mark is there;
 *   - the erasure deletes it (`forgetMarkedPerson`) only while its own mark is still there, before her
 *     identity record goes, so a referral that claimed her after a stale mark was cleared keeps her record.
 * The rules for "in flight" and "stale" are the runtime's (lib/runtime/erasure.ts); here are the writes.
 */

/** An erasure of her under way, on her person record: its id (only its own erasure deletes the record) and when it began. */
export interface ErasureMark {
  id: string;
  at: string;
}


/**
 * Claim her person record for one referral (`planId`), a compare-and-set: refused (false) while
 * another referral's claim is on it (unless it is `seen`, the claim read before and judged stale, or
 * this referral's own, a retry), while an erasure's mark is on it that is not older than
 * `erasureStaleBefore`, and, when the referral read her record (`participantId` of an earlier
 * referral), once the record is gone or another: her identity was erased meanwhile, so this referral
 * must not link her to the erased plans. A claim clears a stale mark (an erasure that died), so her
 * record is never blocked for good.
 */
export async function claimPerson(
  store: Store,
  matchKey: string,
  claim: { planId: string; participantId: string; seen?: string; known: boolean },
  now: string,
  erasureStaleBefore: string,
): Promise<boolean> {
  const claimFree = claim.seen ? '(attribute_not_exists(#claim) OR #claim.#planId = :seen OR #claim.#planId = :me)' : '(attribute_not_exists(#claim) OR #claim.#planId = :me)';
  const noErasure = '(attribute_not_exists(#erasing) OR #erasing.#at < :stale)';
  const sameRecord = claim.known ? ' AND attribute_exists(pk) AND #participantId = :pid' : '';
  try {
    await store.client.send(
      new UpdateCommand({
        TableName: store.tableName,
        Key: keys.person(matchKey),
        UpdateExpression: 'SET #type = :type, #participantId = if_not_exists(#participantId, :pid), #planIds = if_not_exists(#planIds, :empty), #claim = :claim REMOVE #erasing',
        ConditionExpression: `${claimFree} AND ${noErasure}${sameRecord}`,
        ExpressionAttributeNames: { '#type': 'type', '#participantId': 'participantId', '#planIds': 'planIds', '#claim': 'claim', '#planId': 'planId', '#erasing': 'erasing', '#at': 'at' },
        ExpressionAttributeValues: {
          ':type': 'person',
          ':pid': claim.participantId,
          ':empty': [],
          ':claim': { planId: claim.planId, at: now },
          ':me': claim.planId,
          ':stale': erasureStaleBefore,
          ...(claim.seen ? { ':seen': claim.seen } : {}),
        },
      }),
    );
    return true;
  } catch (error) {
    if (conditionFailed(error)) return false;
    throw storageError(error);
  }
}

/**
 * Mark her person record as being erased, before anything of hers is deleted: written only if the
 * record is still hers (`participantId`), the claim on it is still `claim` as read (none, or the same
 * referral at the same time: a referral that claimed her since is not overlooked), and no other
 * erasure's mark newer than `erasureStaleBefore` is on it. False when any of that changed: read again.
 */
export async function markErasing(
  store: Store,
  matchKey: string,
  held: { participantId: string; claim?: { planId: string; at: string } },
  mark: ErasureMark,
  erasureStaleBefore: string,
): Promise<boolean> {
  const claimAsRead = held.claim ? '#claim.#planId = :claimPlan AND #claim.#at = :claimAt' : 'attribute_not_exists(#claim)';
  try {
    await store.client.send(
      new UpdateCommand({
        TableName: store.tableName,
        Key: keys.person(matchKey),
        UpdateExpression: 'SET #erasing = :mark',
        ConditionExpression: `attribute_exists(pk) AND #participantId = :pid AND ${claimAsRead} AND (attribute_not_exists(#erasing) OR #erasing.#at < :stale)`,
        ExpressionAttributeNames: { '#participantId': 'participantId', '#claim': 'claim', '#at': 'at', '#erasing': 'erasing', ...(held.claim ? { '#planId': 'planId' } : {}) },
        ExpressionAttributeValues: {
          ':pid': held.participantId,
          ':mark': mark,
          ':stale': erasureStaleBefore,
          ...(held.claim ? { ':claimPlan': held.claim.planId, ':claimAt': held.claim.at } : {}),
        },
      }),
    );
    return true;
  } catch (error) {
    if (conditionFailed(error)) return false;
    throw storageError(error);
  }
}

/** Take an erasure's own mark off her person record again (the erasure could not go ahead); another's mark stays. */
export async function clearErasingMark(store: Store, matchKey: string, markId: string): Promise<void> {
  try {
    await store.client.send(
      new UpdateCommand({
        TableName: store.tableName,
        Key: keys.person(matchKey),
        UpdateExpression: 'REMOVE #erasing',
        ConditionExpression: '#erasing.#id = :id',
        ExpressionAttributeNames: { '#erasing': 'erasing', '#id': 'id' },
        ExpressionAttributeValues: { ':id': markId },
      }),
    );
  } catch (error) {
    if (!conditionFailed(error)) throw storageError(error);
  }
}

/**
 * Delete her person record (the keyed link between her plans) while the erasure's own mark is still on
 * it. False when it is not: a referral claimed her after the mark went stale (or the record is gone).
 */
export async function forgetMarkedPerson(store: Store, matchKey: string, markId: string): Promise<boolean> {
  try {
    await store.client.send(
      new DeleteCommand({
        TableName: store.tableName,
        Key: keys.person(matchKey),
        ConditionExpression: '#erasing.#id = :id',
        ExpressionAttributeNames: { '#erasing': 'erasing', '#id': 'id' },
        ExpressionAttributeValues: { ':id': markId },
      }),
    );
    return true;
  } catch (error) {
    if (conditionFailed(error)) return false;
    throw storageError(error);
  }
}

/**
 * Delete the person record under `matchKey` while it is still participant `participantId`'s: a record
 * under a key no referral makes any more (identityMatchKeyBeforeOtherScripts), so nothing claims or
 * marks it, and the erasure of her identity takes the link between her plans of then with it.
 */
export async function forgetPersonOf(store: Store, matchKey: string, participantId: string): Promise<void> {
  try {
    await store.client.send(new DeleteCommand({ TableName: store.tableName, Key: keys.person(matchKey), ConditionExpression: 'participantId = :pid', ExpressionAttributeValues: { ':pid': participantId } }));
  } catch (error) {
    if (!conditionFailed(error)) throw storageError(error);
  }
}
