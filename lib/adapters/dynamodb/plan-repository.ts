import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { versionConflict } from '../../domain/errors.ts';
import { AllocationId, Participant, providerAllocationNeeds, type ALLOCATION_STATUSES, type Plan, type PlanEvent, type ProviderAllocationNeed, type PurgeInstruction } from '../../domain/schemas.ts';
import { ALL_SHARDS, INDEXES, keys, type IndexName } from './keys.ts';
import { decodeWorklistCursor, encodeWorklistCursor, firstPosition, isPhaseDone, mergeShards, type WorklistName, type WorklistStage } from './worklist-cursor.ts';
import { conditionFailed, storageError } from './client.ts';
import { batchPut, type BatchPutOptions } from './batch.ts';
import { batchGet } from './batch-get.ts';
import { PlanCache, type CacheUpdate, type PlanCacheOptions } from './plan-cache.ts';
import { encodePlan, eventAttribute, eventOfItem, itemToPlan, type PlanItemFormat } from './plan-item.ts';
import type { GroupPut } from './group-put.ts';

type Item = Record<string, unknown>;
type AllocationStatus = (typeof ALLOCATION_STATUSES)[number];

/** The identity's own fields only (name, date of birth, contact details, address): not the keys or bookkeeping. */
export function identityOfItem(item: Item): Participant {
  return Object.fromEntries(Object.keys(Participant.shape).flatMap((k) => (item[k] === undefined ? [] : [[k, item[k]]]))) as Participant;
}

/** On an identity record: the referrals (plan ids) whose details have been noted on it, the one that created it included. */
export const REFERRALS_NOTED = 'referralsNoted';

/** How many times the identity record was changed after it was written; records from before revisions count as 0. */
function identityRevision(item: Item): number {
  return typeof item.revision === 'number' ? item.revision : 0;
}

export interface PersonRecord {
  /**
   * Whose identity record her plans share. Absent on a record left without one (by a release before
   * linkPerson was conditional, when an erasure took the record while a referral ran): no one's, so a
   * referral of her then makes a new identity record and claims the person record for it.
   */
  participantId?: string;
  planIds: string[];
  /** The referral being recorded (or last recorded) for her. */
  claim?: { planId: string; at: string };
  /** An erasure of her under way (identity-store.ts markErasing): a referral may not claim her while it holds. */
  erasing?: { id: string; at: string };
}

export interface StoredResponse {
  fingerprint: string;
  status: number;
  body: string;
}
/** How long a first response is kept for retries; the plan's own memory of applied keys lasts longer. */
export const RESPONSE_TTL_SECONDS = 7 * 24 * 3600;

export interface PlanPage {
  items: Plan[];
  nextCursor?: string;
}

export interface ProviderAllocationRecord {
  providerId: string;
  allocationId: string;
  planRef: string;
  status: string;
  serviceId?: string;
  needs?: ProviderAllocationNeed[];
  respondBy?: string;
  lead?: boolean;
  purgeInstructions?: PurgeInstruction[];
  sequence: number;
  updatedAt: string;
}

/** Query rounds one page of a provider's allocations may take to fill itself when a status filters most records out. */
const PROVIDER_ALLOCATION_ROUNDS = 20;
/** Records a filtered round reads at least (DynamoDB's Limit counts records read, before the status filter). */
const PROVIDER_ALLOCATION_READ = 500;

function providerAllocationQuery(providerId: string, status: AllocationStatus | undefined) {
  const { pk, skPrefix } = keys.providerAllocationsPrefix(providerId);
  return {
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
    ...(status ? { FilterExpression: '#status = :status', ExpressionAttributeNames: { '#status': 'status' } } : {}),
    ExpressionAttributeValues: { ':pk': pk, ':prefix': skPrefix, ...(status ? { ':status': status } : {}) },
  };
}

/** A provider's open offers, in allocation order: its open-offer partition of byPending (keys.openOfferIndex). */
function openOfferQuery(providerId: string, after?: string): Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'> {
  const { partitionKey, sortKey } = INDEXES.byPending;
  return {
    IndexName: 'byPending' satisfies IndexName,
    KeyConditionExpression: after ? '#pk = :pk AND #sk > :after' : '#pk = :pk',
    ExpressionAttributeNames: { '#pk': partitionKey, ...(after ? { '#sk': sortKey } : {}) },
    ExpressionAttributeValues: { ':pk': keys.openOfferPartition(providerId), ...(after ? { ':after': after } : {}) },
  };
}

// The open-offer index attributes (keys.openOfferIndex) are bookkeeping, not part of the provider's view.
function providerAllocationOfItem({ pk: _pk, sk: _sk, type: _type, pendingPk: _ppk, pendingSk: _psk, needs, ...rest }: Item): ProviderAllocationRecord {
  const inOneShape = providerAllocationNeeds(needs);
  return { ...rest, ...(inOneShape ? { needs: inOneShape } : {}) } as unknown as ProviderAllocationRecord;
}

/** A provider allocation page's cursor is the sort key of the last record given: one of this provider's allocation records. */
export class BadAllocationCursor extends Error {
  constructor() {
    super('is not a cursor this API returned');
    this.name = 'BadAllocationCursor';
  }
}
/** The sort key a provider allocation page's cursor stands for; BadAllocationCursor for anything else. */
export function providerAllocationCursorKey(cursor: string): string {
  const { skPrefix } = keys.providerAllocationsPrefix('');
  let sk: unknown;
  try {
    sk = (JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { sk?: unknown } | null)?.sk;
  } catch {
    throw new BadAllocationCursor();
  }
  if (typeof sk !== 'string' || !sk.startsWith(skPrefix) || !AllocationId.safeParse(sk.slice(skPrefix.length)).success) throw new BadAllocationCursor();
  return sk;
}

const encodeCursor = (key: Record<string, unknown> | undefined) => (key ? Buffer.from(JSON.stringify(key)).toString('base64url') : undefined);
export function decodeCursor(cursor: string | undefined): Record<string, unknown> | undefined {
  if (!cursor) return undefined;
  const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('cursor is not a key');
  return parsed as Record<string, unknown>;
}

/** Plans, their history, identities and the provider projections, in the single table. */
export class PlanRepository {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  private readonly batchOptions: BatchPutOptions;
  /** Plans as this process last stored them; only when it is the table's one writer (see PlanCache). */
  readonly planCache: PlanCache | undefined;
  /** Unconditional puts (history, feed, stored responses) group-committed with other requests' (embedded stack). */
  private readonly groupPut: GroupPut | undefined;
  /** How plans and events are written (plan-item.ts); both formats are always read. */
  private readonly itemFormat: PlanItemFormat;
  /** The open-offer index marker was seen done (it never goes back): open offers are read from the index. */
  private openOfferIndexDone = false;
  constructor(
    client: DynamoDBDocumentClient,
    tableName: string,
    options: { batch?: BatchPutOptions; soleWriterPlanCache?: PlanCacheOptions; groupPut?: GroupPut; itemFormat?: PlanItemFormat } = {},
  ) {
    this.client = client;
    this.tableName = tableName;
    this.batchOptions = options.batch ?? {};
    this.planCache = options.soleWriterPlanCache ? new PlanCache(options.soleWriterPlanCache) : undefined;
    this.groupPut = options.groupPut;
    this.itemFormat = options.itemFormat ?? 'gzip';
  }

  /** Send a write of a plan item, keeping the plan cache (if any) as exact as the store. */
  private writePlanItem<T>(planId: string, send: () => Promise<T>, update: CacheUpdate = () => undefined): Promise<T> {
    return this.planCache ? this.planCache.write(planId, send, update) : send();
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  private async send<T>(command: any): Promise<T> {
    try {
      return (await this.client.send(command)) as T;
    } catch (error) {
      throw storageError(error);
    }
  }

  /** A cached plan is as fresh as a consistent read, so it answers eventually consistent reads too. */
  async getPlan(planId: string, consistent = true): Promise<Plan | undefined> {
    const read = async () => {
      const out = await this.send<{ Item?: Item }>(new GetCommand({ TableName: this.tableName, Key: keys.plan(planId), ConsistentRead: consistent || this.planCache !== undefined }));
      return out.Item && out.Item.type === 'plan' ? itemToPlan(out.Item) : undefined;
    };
    return this.planCache ? this.planCache.read(planId, read) : read();
  }

  /**
   * One conditional write per command: the plan, its deadlines and its outbox together.
   * A plan written by someone else since it was read is a VersionConflict, never a lost update.
   */
  async savePlan(plan: Plan): Promise<void> {
    const previous = plan.version - 1;
    const { item, stored } = encodePlan(plan, this.itemFormat);
    // Marking her identity erased (markIdentityErased) changes no version, so a command that read the plan
    // before the mark would pass the version check and, replacing the item, drop the mark: the save also
    // requires the item to hold no mark the plan in hand does not. A lost race is a conflict, as any other.
    const unmarked = plan.identityErasedAt === undefined;
    try {
      await this.writePlanItem(
        plan.planId,
        () =>
          this.client.send(
            new PutCommand({
              TableName: this.tableName,
              Item: item,
              ...(previous === 0
                ? { ConditionExpression: 'attribute_not_exists(pk)' }
                : {
                    ConditionExpression: unmarked ? '#version = :previous AND attribute_not_exists(#erased)' : '#version = :previous',
                    ExpressionAttributeNames: { '#version': 'version', ...(unmarked ? { '#erased': 'identityErasedAt' } : {}) },
                    ExpressionAttributeValues: { ':previous': previous },
                  }),
            }),
          ),
        stored,
      );
    } catch (error) {
      if (conditionFailed(error)) {
        // A retried save whose first attempt did land (its answer was lost) finds its own write: that is
        // success, not a conflict. `writtenBy` names the execution, so only this very write matches.
        const stored = await this.getPlan(plan.planId);
        if (plan.writtenBy && stored?.writtenBy === plan.writtenBy && stored.version === plan.version) return;
        throw versionConflict(previous === 0 ? `Plan ${plan.planId} already exists.` : `Plan ${plan.planId} was changed by another command at the same time: reload it and try again.`);
      }
      throw storageError(error);
    }
  }

  /**
   * Store identity apart from the plan, as given by the referral of plan `planId` (noted as such, so a
   * retry of that referral knows its details are the ones held: identity-store.ts noteReferral).
   * Never overwrites: returns false if the record already exists.
   */
  async putIdentity(participantId: string, identity: Participant, now: string, planId: string): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...keys.identity(participantId), type: 'identity', ...identity, recordedAt: now, [REFERRALS_NOTED]: new Set([planId]) },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if (conditionFailed(error)) return false;
      throw storageError(error);
    }
  }

  /** The plans already known for a person (by keyed hash of her identity), her participant id, and the referral in hand. */
  async findPerson(matchKey: string): Promise<PersonRecord | undefined> {
    const out = await this.send<{ Item?: Item }>(new GetCommand({ TableName: this.tableName, Key: keys.person(matchKey), ConsistentRead: true }));
    if (!out.Item) return undefined;
    return {
      ...(typeof out.Item.participantId === 'string' ? { participantId: out.Item.participantId } : {}),
      planIds: (out.Item.planIds as string[] | undefined) ?? [],
      ...(out.Item.claim ? { claim: out.Item.claim as PersonRecord['claim'] } : {}),
      ...(out.Item.erasing ? { erasing: out.Item.erasing as PersonRecord['erasing'] } : {}),
    };
  }

  /** Give up a claim whose referral failed. */
  async releasePerson(matchKey: string, planId: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({ TableName: this.tableName, Key: keys.person(matchKey), UpdateExpression: 'REMOVE claim', ConditionExpression: 'claim.planId = :me', ExpressionAttributeValues: { ':me': planId } }),
      );
    } catch (error) {
      if (!conditionFailed(error)) throw storageError(error);
    }
  }

  /**
   * Add a referred plan to her person record, only while that record is there and still hers
   * (`participantId`): an erasure of her that took the record while the referral ran (its claim judged
   * dead) must not leave a record behind with plans but no participant id, which would refuse every
   * later referral of her as 'being referred already'.
   */
  async linkPerson(matchKey: string, planId: string, participantId: string): Promise<void> {
    await this.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.person(matchKey),
        UpdateExpression: 'SET planIds = list_append(if_not_exists(planIds, :empty), :plan)',
        ConditionExpression: 'participantId = :pid AND NOT contains(planIds, :id)',
        ExpressionAttributeValues: { ':empty': [], ':plan': [planId], ':id': planId, ':pid': participantId },
      }),
    ).catch((error: Error) => {
      if (!conditionFailed(error)) throw error;
    });
  }

  /**
   * Note on the plan that its identity was erased. A maintenance write, not a lifecycle step: the
   * version is untouched so no command in flight is refused because of it.
   */
  async markIdentityErased(planId: string, at: string): Promise<void> {
    await this.writePlanItem(planId, () =>
      this.send(
        new UpdateCommand({ TableName: this.tableName, Key: keys.plan(planId), UpdateExpression: 'SET identityErasedAt = if_not_exists(identityErasedAt, :at)', ConditionExpression: 'attribute_exists(pk)', ExpressionAttributeValues: { ':at': at } }),
      ),
    );
  }

  async deleteIdentity(participantId: string): Promise<void> {
    await this.send(new DeleteCommand({ TableName: this.tableName, Key: keys.identity(participantId) }));
  }

  /** The response first given to an Idempotency-Key, so a retry gets exactly that back. */
  async saveResponse(scope: string, keyHash: string, response: StoredResponse, now: string): Promise<void> {
    const expiresAt = Math.floor(new Date(now).getTime() / 1000) + RESPONSE_TTL_SECONDS;
    const item = { ...keys.idempotentResponse(scope, keyHash), type: 'response', ...response, expiresAt };
    if (this.groupPut) await this.groupPut.put([item]);
    else await this.send(new PutCommand({ TableName: this.tableName, Item: item }));
  }

  async getResponse(scope: string, keyHash: string): Promise<StoredResponse | undefined> {
    const out = await this.send<{ Item?: Item }>(new GetCommand({ TableName: this.tableName, Key: keys.idempotentResponse(scope, keyHash), ConsistentRead: true }));
    if (!out.Item) return undefined;
    const { fingerprint, status, body } = out.Item as unknown as StoredResponse;
    return { fingerprint, status, body };
  }

  async getIdentity(participantId: string): Promise<Participant | undefined> {
    const out = await this.send<{ Item?: Item }>(new GetCommand({ TableName: this.tableName, Key: keys.identity(participantId) }));
    return out.Item ? identityOfItem(out.Item) : undefined;
  }

  /**
   * Her identity read consistently, with its revision: a correction checked against it is written
   * only if the record is still at that revision (lib/adapters/dynamodb/identity-store.ts).
   */
  async getIdentityRecord(participantId: string): Promise<{ identity: Participant; revision: number } | undefined> {
    const out = await this.send<{ Item?: Item }>(new GetCommand({ TableName: this.tableName, Key: keys.identity(participantId), ConsistentRead: true }));
    return out.Item ? { identity: identityOfItem(out.Item), revision: identityRevision(out.Item) } : undefined;
  }

  /** Every page a Query gives (one request through `send` each); a caller that stops reading stops the requests. */
  private async *queryPages(input: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'>): AsyncGenerator<{ Items?: Item[]; Count?: number }> {
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.send<{ Items?: Item[]; Count?: number; LastEvaluatedKey?: Record<string, unknown> }>(new QueryCommand({ ...input, TableName: this.tableName, ExclusiveStartKey: start }));
      yield out;
      start = out.LastEvaluatedKey;
    } while (start);
  }

  /** Every item a Query matches, a page at a time. */
  private async *queryAll(input: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'>): AsyncGenerator<Item> {
    for await (const page of this.queryPages(input)) yield* page.Items ?? [];
  }

  async history(planId: string): Promise<PlanEvent[]> {
    const { pk, skPrefix } = keys.historyPrefix(planId);
    const events: PlanEvent[] = [];
    for await (const item of this.queryAll({ KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)', ExpressionAttributeValues: { ':pk': pk, ':prefix': skPrefix } })) events.push(eventOfItem(item));
    return events;
  }

  /**
   * The history entry of every event and the feed entry of every provider event, in batches of 25.
   * Keys are (plan, sequence) and (provider, `writtenAt`, event id), so writing the same set again
   * after a partial batch or a lost answer changes nothing; the caller fixes `writtenAt` once per
   * delivery. Redelivery never duplicates history (a feed entry written at another time can repeat:
   * readers dedupe on the event id, as with webhooks).
   */
  async recordEvents(events: readonly PlanEvent[], feedWrittenAt: string): Promise<void> {
    const items: Item[] = [];
    for (const event of events) {
      const stored = eventAttribute(event, this.itemFormat);
      items.push({ ...keys.historyEvent(event.planId, event.sequence), type: 'event', event: stored });
      if (event.providerId) items.push({ ...keys.feedEntry(event.providerId, feedWrittenAt, event.id), type: 'feed', eventId: event.id, event: stored });
    }
    if (this.groupPut) await this.groupPut.put(items);
    else await batchPut(this.client, this.tableName, items, this.batchOptions);
  }

  /** Keep a provider's view of one allocation current; an older event never overwrites a newer one. */
  async projectProviderAllocation(record: ProviderAllocationRecord): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          // While offered, the view is in the provider's open-offer partition of byPending; the put replaces
          // the item whole, so the view of an answered, expired or withdrawn offer leaves it in the same write.
          Item: { ...keys.providerAllocation(record.providerId, record.allocationId), type: 'provider-allocation', ...record, ...(record.status === 'offered' ? keys.openOfferIndex(record.providerId, record.allocationId) : {}) },
          ConditionExpression: 'attribute_not_exists(pk) OR #sequence < :sequence',
          ExpressionAttributeNames: { '#sequence': 'sequence' },
          ExpressionAttributeValues: { ':sequence': record.sequence },
        }),
      );
    } catch (error) {
      if (conditionFailed(error)) return;
      throw storageError(error);
    }
  }

  /**
   * Every allocation record of a provider, optionally of one status: every page of the Query, however
   * many records the provider has had (they are never deleted, so one 1 MB page is not all of them).
   * The open offers (`offered`) are read from the provider's open-offer partition of byPending once every
   * offered view carries its key (openOffersIndexed), so they cost what the open offers are, not what
   * the provider ever had. Any other status is a filter: DynamoDB still reads the provider's every record.
   */
  async providerAllocations(providerId: string, status?: AllocationStatus): Promise<ProviderAllocationRecord[]> {
    const records: ProviderAllocationRecord[] = [];
    const query = status === 'offered' && (await this.openOffersIndexed()) ? openOfferQuery(providerId) : providerAllocationQuery(providerId, status);
    for await (const item of this.queryAll(query)) records.push(providerAllocationOfItem(item));
    // Only offered views carry the key (the put replaces a view whole), so this keeps nothing out today; it
    // keeps the answer to what it says should anything else ever write an OFFERED# key.
    return status === 'offered' ? records.filter((r) => r.status === 'offered') : records;
  }

  /**
   * Whether every offered allocation view carries its open-offer key, so the index holds every open
   * offer: a table made with the key written from the start, or one the sweeper's pass has walked
   * (functions/sweeper/open-offer-index.ts). Until then the open offers are read the old way (every
   * record, filtered), so an offer stored by an older release never drops out of an inbox. Once done is
   * seen it is kept: the marker never goes back.
   */
  async openOffersIndexed(): Promise<boolean> {
    if (this.openOfferIndexDone) return true;
    const out = await this.send<{ Item?: Item }>(new GetCommand({ TableName: this.tableName, Key: keys.openOfferIndexMarker(), ConsistentRead: true }));
    this.openOfferIndexDone = out.Item?.done === true;
    return this.openOfferIndexDone;
  }

  /** A new table: every view it will hold is written with its open-offer key, so the index is complete from the start. Written once. */
  async markOpenOffersIndexedFromTheStart(at: string): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...keys.openOfferIndexMarker(), type: 'maintenance-marker', done: true, fromTheStart: true, step: 0, startedAt: at, doneAt: at },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (!conditionFailed(error)) throw storageError(error);
    }
  }

  /**
   * Give an offered view stored by an older release (no open-offer key) its key, only while it is still
   * that view (the same sequence) and offered: a view replaced since by projectProviderAllocation carries
   * the key it should. Returns whether it was written.
   */
  async indexOpenOffer(providerId: string, allocationId: string, sequence: number): Promise<boolean> {
    const index = keys.openOfferIndex(providerId, allocationId);
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.providerAllocation(providerId, allocationId),
          UpdateExpression: 'SET pendingPk = :ppk, pendingSk = :psk',
          ConditionExpression: '#sequence = :sequence AND #status = :offered AND attribute_not_exists(pendingPk)',
          ExpressionAttributeNames: { '#sequence': 'sequence', '#status': 'status' },
          ExpressionAttributeValues: { ':ppk': index.pendingPk, ':psk': index.pendingSk, ':sequence': sequence, ':offered': 'offered' },
        }),
      );
      return true;
    } catch (error) {
      if (conditionFailed(error)) return false;
      throw storageError(error);
    }
  }

  /**
   * A page of a provider's allocation records in key order (by allocation id: plan, then the allocation's
   * number on it), optionally of one status. A page may hold fewer than `limit` when few match the
   * status; it goes on while nextCursor is set. The cursor is one this method returned; any other is a
   * BadCursor.
   */
  async providerAllocationPage(providerId: string, options: { status?: AllocationStatus; limit: number; cursor?: string }): Promise<{ items: ProviderAllocationRecord[]; nextCursor?: string }> {
    const { pk } = keys.providerAllocationsPrefix(providerId);
    if (options.status === 'offered' && (await this.openOffersIndexed())) return this.openOfferPage(providerId, options.limit, options.cursor);
    let start = options.cursor ? { pk, sk: providerAllocationCursorKey(options.cursor) } : undefined;
    const items: ProviderAllocationRecord[] = [];
    // A filtered query may read many records to find a few: it reads in rounds of at least
    // PROVIDER_ALLOCATION_READ records, a bounded number of them (the page may then be short, with a cursor).
    for (let round = 0; round < PROVIDER_ALLOCATION_ROUNDS && items.length < options.limit; round += 1) {
      const room = options.limit - items.length;
      const out = await this.send<{ Items?: Item[]; LastEvaluatedKey?: Record<string, unknown> }>(
        new QueryCommand({
          ...providerAllocationQuery(providerId, options.status),
          TableName: this.tableName,
          Limit: options.status ? Math.max(room, PROVIDER_ALLOCATION_READ) : room,
          ExclusiveStartKey: start,
        }),
      );
      const found = out.Items ?? [];
      items.push(...found.slice(0, room).map(providerAllocationOfItem));
      // More matched than the page had room for: it ends at the last one given, and the next page starts after it.
      start = found.length > room ? { pk, sk: String(found[room - 1]!.sk) } : (out.LastEvaluatedKey as { pk: string; sk: string } | undefined);
      if (!start) break;
    }
    return { items, ...(start ? { nextCursor: Buffer.from(JSON.stringify({ sk: start.sk })).toString('base64url') } : {}) };
  }

  /**
   * A page of a provider's open offers from its open-offer partition of byPending: the same order (the
   * index's sort key is the view's own), the same cursor (the last view's sort key), and a page is full
   * unless it is the last (one entry more than the page is read to know whether another follows).
   */
  private async openOfferPage(providerId: string, limit: number, cursor: string | undefined): Promise<{ items: ProviderAllocationRecord[]; nextCursor?: string }> {
    const after = cursor ? providerAllocationCursorKey(cursor) : undefined;
    const found: Item[] = [];
    for await (const page of this.queryPages({ ...openOfferQuery(providerId, after), Limit: limit + 1 })) {
      found.push(...(page.Items ?? []).filter((item) => item.status === 'offered'));
      if (found.length > limit) break;
    }
    const items = found.slice(0, limit);
    return { items: items.map(providerAllocationOfItem), ...(found.length > limit ? { nextCursor: Buffer.from(JSON.stringify({ sk: String(items.at(-1)!.sk) })).toString('base64url') } : {}) };
  }

  /**
   * Remove delivered events from a plan's outbox, and its entry in the undelivered-outbox index when
   * nothing is left. One conditional UpdateItem when the stored outbox holds exactly these events (the
   * usual case: the plan as saved is what is being delivered). Otherwise (a later command saved more
   * events, or part was cleared already) the events go by id and the index entry only if the outbox
   * is then empty: two updates, never a lost event nor an index entry dropped while events remain.
   */
  async clearOutbox(planId: string, eventIds: readonly string[]): Promise<void> {
    if (eventIds.length === 0) return;
    const names = Object.fromEntries(eventIds.map((id, i) => [`#e${i}`, id]));
    const removeEvents = eventIds.map((_, i) => `outbox.#e${i}`).join(', ');
    // Having held exactly these events, the stored outbox is now empty and the rest of the plan unchanged.
    const emptied: CacheUpdate = (cached) => {
      const before = cached();
      return before && before.outbox.length === eventIds.length && eventIds.every((id) => before.outbox.some((e) => e.id === id)) ? { ...before, outbox: [] } : undefined;
    };
    try {
      await this.writePlanItem(
        planId,
        () =>
          this.client.send(
            new UpdateCommand({
              TableName: this.tableName,
              Key: keys.plan(planId),
              UpdateExpression: `REMOVE ${removeEvents}, outboxPk, outboxSince`,
              ConditionExpression: ['size(outbox) = :count', ...eventIds.map((_, i) => `attribute_exists(outbox.#e${i})`)].join(' AND '),
              ExpressionAttributeNames: names,
              ExpressionAttributeValues: { ':count': eventIds.length },
            }),
          ),
        emptied,
      );
      return;
    } catch (error) {
      if (!conditionFailed(error)) throw storageError(error);
    }
    try {
      await this.writePlanItem(planId, () =>
        this.client.send(
          new UpdateCommand({ TableName: this.tableName, Key: keys.plan(planId), UpdateExpression: `REMOVE ${removeEvents}`, ConditionExpression: 'attribute_exists(pk)', ExpressionAttributeNames: names }),
        ),
      );
    } catch (error) {
      if (conditionFailed(error)) return; // the plan is gone
      throw storageError(error);
    }
    await this.unindexEmptyOutbox(planId);
  }

  /** Drop the undelivered-outbox index entry of a plan whose outbox is empty; nothing otherwise. */
  async unindexEmptyOutbox(planId: string): Promise<void> {
    try {
      // Index attributes only: the plan as read is unchanged.
      await this.writePlanItem(
        planId,
        () =>
          this.client.send(
            new UpdateCommand({
              TableName: this.tableName,
              Key: keys.plan(planId),
              UpdateExpression: 'REMOVE outboxPk, outboxSince',
              ConditionExpression: 'attribute_exists(outboxPk) AND size(outbox) = :zero',
              ExpressionAttributeValues: { ':zero': 0 },
            }),
          ),
        (before) => before(),
      );
    } catch (error) {
      if (!conditionFailed(error)) throw storageError(error);
    }
  }

  private async queryIndex(index: IndexName, pkValue: string, upTo: string | undefined, limit: number, exclusiveStartKey?: Record<string, unknown>) {
    const { partitionKey, sortKey } = INDEXES[index];
    return this.send<{ Items?: Item[]; LastEvaluatedKey?: Record<string, unknown> }>(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: index,
        KeyConditionExpression: upTo ? '#pk = :pk AND #sk <= :upTo' : '#pk = :pk',
        ExpressionAttributeNames: upTo ? { '#pk': partitionKey, '#sk': sortKey } : { '#pk': partitionKey },
        ExpressionAttributeValues: upTo ? { ':pk': pkValue, ':upTo': upTo } : { ':pk': pkValue },
        Limit: limit,
        ExclusiveStartKey: exclusiveStartKey,
      }),
    );
  }

  /**
   * The plans that entries of a plan index point to, in the entries' order. The plan indexes hold
   * keys only (lib/adapters/dynamodb/table-definition.ts), so every query over them ends here: the
   * plans are fetched from the table in batches. A plan deleted since the index was read, or one that
   * has left the entry's index partition since (another stage, its outbox delivered), is skipped, as
   * it would be had the index been read a moment later. `consistent` for callers that act on the plan
   * (the sweeper); worklists read as the index itself does, eventually consistent.
   */
  private async plansOf(index: IndexName, entries: readonly Item[], consistent: boolean): Promise<Plan[]> {
    const { partitionKey } = INDEXES[index];
    const items = await batchGet(this.client, this.tableName, entries.map((e) => ({ pk: String(e.pk), sk: String(e.sk) })), { ...this.batchOptions, consistent });
    const partitionOf = new Map(entries.map((e) => [String(e.pk), e[partitionKey]]));
    return items.filter((item) => item.type === 'plan' && item[partitionKey] === partitionOf.get(String(item.pk))).map(itemToPlan);
  }

  /** Every shard's entries of a plan index up to `upTo` (all of them without), at most `limit` a shard. */
  private async shardEntries(index: IndexName, partition: (shard: number) => string, upTo: string | undefined, limit: number): Promise<Item[]> {
    const pages = await Promise.all(ALL_SHARDS.map((s) => this.queryIndex(index, partition(s), upTo, limit)));
    return pages.flatMap((p) => p.Items ?? []);
  }

  /** Plans with a deadline at or before `now`, across every shard: the sweeper's work. */
  async dueBefore(now: string, limit = 100): Promise<Plan[]> {
    return this.plansOf('byDue', await this.shardEntries('byDue', keys.duePartition, now, limit), true);
  }

  /** Plans whose outbox has held events since before `olderThan`: leftovers to redeliver. */
  async pendingOutbox(olderThan: string, limit = 100): Promise<Plan[]> {
    return this.plansOf('byOutbox', await this.shardEntries('byOutbox', keys.outboxPartition, olderThan, limit), true);
  }

  /**
   * A page of the plans in `stage`, the most recently changed first (the worklist). `oldest-first` is for
   * a walk over many runs: a plan changed meanwhile moves to the end, still ahead of the cursor, where
   * newest first it would move behind it and never be read.
   */
  async listByStage(stage: string, limit: number, cursor?: string, order: 'newest-first' | 'oldest-first' = 'newest-first'): Promise<PlanPage> {
    const out = await this.send<{ Items?: Item[]; LastEvaluatedKey?: Record<string, unknown> }>(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: 'byStage',
        KeyConditionExpression: 'stagePk = :pk',
        ExpressionAttributeValues: { ':pk': keys.stagePartition(stage) },
        ScanIndexForward: order === 'oldest-first',
        Limit: limit,
        ExclusiveStartKey: decodeCursor(cursor),
      }),
    );
    return { items: await this.plansOf('byStage', out.Items ?? [], false), nextCursor: encodeCursor(out.LastEvaluatedKey) };
  }

  /**
   * Plans in a terminal stage whose last change is older than `before` and whose identity is still
   * held: the ones whose retention period has ended. A closed plan is not changed again, so its
   * place in the stage index is the day it ended. The stage index carries `identityErasedAt` for the
   * filter; the fetched plan is checked again, as the index may lag behind an erasure.
   */
  async endedBefore(stage: 'closed' | 'withdrawn', before: string, limit = 100): Promise<Plan[]> {
    const found: Plan[] = [];
    // The filter applies after DynamoDB's page limit, so keep paging past plans already erased; the plans
    // of a page are fetched together, and no page is read once there are enough.
    for await (const page of this.queryPages({
      IndexName: 'byStage',
      KeyConditionExpression: 'stagePk = :pk AND stageSk < :before',
      FilterExpression: 'attribute_not_exists(identityErasedAt)',
      ExpressionAttributeValues: { ':pk': keys.stagePartition(stage), ':before': before },
      Limit: 200,
    })) {
      found.push(...(await this.plansOf('byStage', page.Items ?? [], true)).filter((plan) => !plan.identityErasedAt));
      if (found.length >= limit) break;
    }
    return found.slice(0, limit);
  }

  /** How many plans have an open escalation (the overdue gauge); counts keys only. */
  async countAlerted(): Promise<number> {
    let total = 0;
    for (const shard of ALL_SHARDS) {
      for await (const page of this.queryPages({ IndexName: 'byAlert', KeyConditionExpression: 'alertPk = :pk', ExpressionAttributeValues: { ':pk': keys.alertPartition(shard) }, Select: 'COUNT' })) total += page.Count ?? 0;
    }
    return total;
  }

  /**
   * A page of the overdue worklist (plans with an open escalation, the longest open first) or of a
   * due worklist (`dueBy` its horizon): after the escalated plans, those with something due by then,
   * soonest first (an escalated one is left out there: it was given with the escalated). The order is
   * the indexes' own, merged over their shards (worklist-cursor.ts), so pages neither skip nor repeat
   * a plan; a page reads at most `limit` + 1 entries a shard and fetches at most `limit` plans.
   * The cursor is one this method returned for the same `stage` filter (the request schema has checked
   * it): the caller filters by stage, and the cursor records which, so it is not read with another.
   */
  async worklistPage(list: WorklistName, dueBy: string | undefined, limit: number, cursor?: string, stage?: WorklistStage): Promise<PlanPage> {
    // Without a horizon only the escalated plans (the escalations list): the overdue list's work phase is not for it.
    if (list !== 'overdue' && dueBy === undefined) throw new Error(`worklistPage: ${list} needs a horizon`);
    let position = cursor ? decodeWorklistCursor(cursor, list, stage) : firstPosition('alert');
    if (!dueBy && position.phase === 'work') return { items: [] };
    const items: Plan[] = [];
    let room = limit;
    const planPk = keys.plan('').pk;
    while (room > 0) {
      const work = position.phase === 'work';
      const index: IndexName = work ? 'byWork' : 'byAlert';
      const partition = work ? keys.workPartition : keys.alertPartition;
      const { partitionKey, sortKey } = INDEXES[index];
      const reads = await Promise.all(
        position.shards.map(async (at, shard) => {
          if (at === 'end') return undefined;
          const start = at === 'start' ? undefined : { ...keys.plan(at.planId), [partitionKey]: partition(shard), [sortKey]: at.at };
          // One entry more than the page can take: a shard read to its end says so, and no empty last page follows.
          const out = await this.queryIndex(index, partition(shard), position.upTo, room + 1, start);
          return { entries: out.Items ?? [], more: Boolean(out.LastEvaluatedKey) };
        }),
      );
      const merged = mergeShards(reads, position.shards, (entry) => ({ at: String(entry[sortKey]), planId: String(entry.pk).slice(planPk.length) }), room);
      const plans = await this.plansOf(index, merged.taken, false);
      items.push(...(work ? plans.filter((plan) => !plan.escalations.some((e) => !e.resolvedAt)) : plans));
      position = { ...position, shards: merged.positions };
      room -= merged.taken.length;
      if (!isPhaseDone(position)) {
        if (merged.taken.length === 0) break; // a shard gave nothing yet has more: read on next page
        continue;
      }
      if (work || !dueBy) return { items };
      position = firstPosition('work', dueBy);
    }
    return { items, nextCursor: encodeWorklistCursor(list, position, stage) };
  }

  /**
   * Her identity erased from this plan: the plan rewritten with `redact` applied (her free text gone,
   * lib/domain/redaction.ts) and marked erased, in one write. Like markIdentityErased a maintenance write
   * (the version stays); it is written only if the plan is still the version read and, when it was not
   * yet marked, still unmarked. So a command that read the plan before cannot save her text back: its
   * save finds the mark it did not hold and is a conflict (savePlan), and reads the redacted plan again.
   * A command that saved first makes this write miss: the plan is read and redacted again.
   * Returns false when there is no such plan.
   */
  async redactPlanAndMarkErased(planId: string, redact: (plan: Plan) => Plan, at: string): Promise<boolean> {
    for (let attempt = 1; ; attempt += 1) {
      const plan = await this.getPlan(planId);
      if (!plan) return false;
      const redacted: Plan = { ...redact(plan), identityErasedAt: plan.identityErasedAt ?? at };
      const { item, stored } = encodePlan(redacted, this.itemFormat);
      const marked = plan.identityErasedAt !== undefined;
      try {
        await this.writePlanItem(
          planId,
          () =>
            this.client.send(
              new PutCommand({
                TableName: this.tableName,
                Item: item,
                ConditionExpression: marked ? '#version = :version' : '#version = :version AND attribute_not_exists(#erased)',
                ExpressionAttributeNames: { '#version': 'version', ...(marked ? {} : { '#erased': 'identityErasedAt' }) },
                ExpressionAttributeValues: { ':version': plan.version },
              }),
            ),
          stored,
        );
        return true;
      } catch (error) {
        const lost = conditionFailed(error);
        if (!lost) throw storageError(error);
        if (attempt >= 5) throw versionConflict(`Plan ${planId} kept changing while her identity was being erased from it: try again.`);
      }
    }
  }

  /** Rewrite the history entries of a plan whose event `redact` changes (her free text gone); the others stay. */
  async redactHistory(planId: string, redact: (event: PlanEvent) => PlanEvent): Promise<number> {
    const changed: Item[] = [];
    for (const event of await this.history(planId)) {
      const redacted = redact(event);
      if (JSON.stringify(redacted) === JSON.stringify(event)) continue;
      changed.push({ ...keys.historyEvent(planId, event.sequence), type: 'event', event: eventAttribute(redacted, this.itemFormat) });
    }
    if (changed.length > 0) await batchPut(this.client, this.tableName, changed, this.batchOptions);
    return changed.length;
  }

  /**
   * Rewrite the answers kept for Idempotency-Keys under `scope` (a plan id: its commands' answers) with
   * `redact` applied to their JSON text: the same fingerprint, status and expiry, so a retry is still
   * recognised, and is answered without her free text.
   */
  async redactStoredResponses(scope: string, redact: (body: string) => string): Promise<number> {
    const { pk, sk: skPrefix } = keys.idempotentResponse(scope, '');
    let changed = 0;
    for await (const item of this.queryAll({ KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)', ExpressionAttributeValues: { ':pk': pk, ':prefix': skPrefix }, ConsistentRead: true })) {
      if (typeof item.body !== 'string') continue;
      const body = redact(item.body);
      if (body === item.body) continue;
      await this.send(new PutCommand({ TableName: this.tableName, Item: { ...item, body } }));
      changed += 1;
    }
    return changed;
  }

  /** Test and tooling helper: remove an item outright (never used by a route). */
  async deleteItem(key: { pk: string; sk: string }): Promise<void> {
    const planKey = keys.plan('');
    const send = () => this.send(new DeleteCommand({ TableName: this.tableName, Key: key }));
    if (key.sk === planKey.sk && key.pk.startsWith(planKey.pk)) await this.writePlanItem(key.pk.slice(planKey.pk.length), send);
    else await send();
  }
}
