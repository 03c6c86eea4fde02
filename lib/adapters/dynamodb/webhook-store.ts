import { randomBytes } from 'node:crypto';
import * as z from 'zod';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ALLOCATION_STATUSES, type PlanEvent } from '../../domain/schemas.ts';
import { ROTATION_OVERLAP_HOURS, ROTATION_OVERLAP_RULE } from '../../api/webhook-rotation-limits.ts';
import { keys } from './keys.ts';
import { conditionFailed, storageError } from './client.ts';
import { eventOfItem } from './plan-item.ts';

/**
 * Webhook subscriptions, the webhook delivery queue and the provider pull feed, in the single table.
 *
 * One active subscription per provider: a slot item (keys.activeSubscription) names it and is
 * claimed with a conditional write, so two team leads subscribing at once get one 201 and one 409.
 * The slot is written before the subscription record and freed after it, so a crash in between
 * leaves a slot pointing at a record that is missing or no longer active, which reads as free.
 *
 * One delivery item per (provider, event), keyed by plan and sequence: enqueueing is a conditional
 * put, so a republished event (the sweeper redelivers outboxes) never queues twice. Pending items
 * carry the sparse byPending index, ordered by plan then sequence, which gives the delivery loop
 * every lane (provider, plan) in order: the first pending item of a plan is the only one it may send.
 */

export type SubscriptionStatus = 'active' | 'disabled';

export interface Subscription {
  subscriptionId: string;
  providerId: string;
  url: string;
  status: SubscriptionStatus;
  createdAt: string;
  createdBy: string;
  disabledAt?: string;
  disabledReason?: string;
  /** When the secret was last rotated (the stack's clock), and by whom. */
  rotatedAt?: string;
  rotatedBy?: string;
  /**
   * While a rotation's overlap lasts: when it ends (the stack's clock). Until then every delivery is
   * signed with the previous secret as well; after it the previous secret is removed.
   */
  overlapEndsAt?: string;
}

/**
 * The request that made a subscription's current secret (subscribing or rotating with an
 * Idempotency-Key): `key` is its route's scope and the key hashed with its caller, `fingerprint` the
 * request's. Written with the secret, in the same write, so a retry of that request can be shown the
 * secret even when its stored answer was never written; no other request matches it.
 */
export interface SecretRequest {
  key: string;
  fingerprint: string;
}

/** A subscription with its signing secret(s): read by the delivery loop only, never returned by a GET. */
export interface SubscriptionWithSecret extends Subscription {
  secret: string;
  /** The secret before the last rotation, kept only until `overlapEndsAt`. */
  previousSecret?: string;
  /** Absent when the secret was made by a request without an Idempotency-Key. */
  secretRequest?: SecretRequest;
}

/** The secrets that sign a delivery made at `at`: the current one, and the previous one while the overlap lasts. */
export function signingSecrets(subscription: SubscriptionWithSecret, at: string): string[] {
  const overlapping = subscription.previousSecret !== undefined && subscription.overlapEndsAt !== undefined && at < subscription.overlapEndsAt;
  return overlapping ? [subscription.secret, subscription.previousSecret as string] : [subscription.secret];
}

export type DeliveryStatus = 'pending' | 'delivered' | 'dead';
export const DELIVERY_STATUSES = ['pending', 'delivered', 'dead'] as const;

export interface DeliveryAttempt {
  at: string;
  subscriptionId: string;
  /** delivered: 2xx; failed: anything else (retried); gone: 410, the subscription was disabled. */
  outcome: 'delivered' | 'failed' | 'gone';
  statusCode?: number;
  error?: string;
  durationMs: number;
}

export interface Delivery {
  deliveryId: string;
  providerId: string;
  planId: string;
  sequence: number;
  eventId: string;
  eventType: string;
  /** The exact bytes sent (a CloudEvent in structured JSON), so every attempt signs the same payload. */
  body: string;
  status: DeliveryStatus;
  /** Attempts since the delivery was queued or last replayed: indexes the retry schedule. */
  attempts: number;
  replays: number;
  createdAt: string;
  /** While pending: when the loop may try next. */
  nextAttemptAt?: string;
  lastAttemptAt?: string;
  lastStatusCode?: number;
  lastError?: string;
  deliveredAt?: string;
  deadAt?: string;
  /** The most recent attempts, newest last (capped). */
  log: DeliveryAttempt[];
}

/** How many attempts each delivery item remembers. */
export const ATTEMPT_LOG_SIZE = 20;

/** Delivery ids name their key: dl_<plan suffix>_<sequence>, like allocation ids name their plan. */
export function deliveryIdOf(planId: string, sequence: number): string {
  return `dl_${planId.replace(/^pl_/, '')}_${sequence}`;
}
export const DELIVERY_ID_PATTERN = /^dl_([a-z0-9]{10,40})_([1-9][0-9]{0,9})$/;
export function parseDeliveryId(deliveryId: string): { planId: string; sequence: number } | undefined {
  const match = DELIVERY_ID_PATTERN.exec(deliveryId);
  return match ? { planId: `pl_${match[1]}`, sequence: Number(match[2]) } : undefined;
}

export const SUBSCRIPTION_ID_PATTERN = /^sub_[a-f0-9]{24}$/;
export const newSubscriptionId = () => `sub_${randomBytes(12).toString('hex')}`;
/** A Standard Webhooks secret: `whsec_` and base64 of 32 random bytes (the spec asks for 24 to 64). */
export const newWebhookSecret = () => `whsec_${randomBytes(32).toString('base64')}`;

// ---------------------------------------------------------------------------------------------
// Request shapes of the provider API, shared by its handler and the OpenAPI document

export const SubscriptionId = z.string().regex(SUBSCRIPTION_ID_PATTERN, 'must be a subscription id like sub_…');
export const DeliveryId = z.string().regex(DELIVERY_ID_PATTERN, 'must be a delivery id like dl_…_<sequence>');
export const SubscribeRequest = z.strictObject({
  url: z.string().min(1).max(2048).describe('Where to POST events: https (plain http only to localhost on the embedded stack)'),
});
export const RotateSecretRequest = z.strictObject({
  overlapHours: z
    .number({ error: ROTATION_OVERLAP_RULE })
    .int({ error: ROTATION_OVERLAP_RULE })
    .min(ROTATION_OVERLAP_HOURS.min, { error: ROTATION_OVERLAP_RULE })
    .max(ROTATION_OVERLAP_HOURS.max, { error: ROTATION_OVERLAP_RULE })
    .default(ROTATION_OVERLAP_HOURS.default)
    .describe(
      `How long every delivery is also signed with the old secret, so the receiver can switch without dropping one (hours, ${ROTATION_OVERLAP_HOURS.min}-${ROTATION_OVERLAP_HOURS.max}; default ${ROTATION_OVERLAP_HOURS.default})`,
    ),
});
export const FeedQuery = z.strictObject({
  after: z.string().max(500).optional().describe("`cursor` of the previous page of this feed (another provider's is refused); absent to start from the beginning"),
  limit: z.coerce.number().int().min(1).max(500).default(100).describe('Page size'),
});
export const DeliveryListQuery = z.strictObject({
  status: z.enum(DELIVERY_STATUSES).optional().describe('Only deliveries in this state'),
  limit: z.coerce.number().int().min(1).max(200).default(50).describe('Page size'),
  cursor: z.string().max(2000).optional().describe("nextCursor of the previous page, with the same status (another provider's, or another status's, is refused)"),
});
export const AllocationListQuery = z.strictObject({
  status: z.enum(ALLOCATION_STATUSES).optional().describe('Only allocations in this state'),
  limit: z.coerce.number().int().min(1).max(200).default(50).describe('Page size'),
  cursor: z.string().max(2000).optional().describe('nextCursor of the previous page'),
});

/**
 * Why a rotation was refused: no such subscription, not active, the last rotation's overlap still
 * running, or (`repeated`) the current secret was made by this very request (its SecretRequest key).
 */
export class RotationRefused extends Error {
  readonly reason: 'not-found' | 'not-active' | 'overlapping' | 'repeated';
  readonly subscription: Subscription | undefined;
  constructor(reason: RotationRefused['reason'], subscription?: Subscription) {
    super(reason);
    this.name = 'RotationRefused';
    this.reason = reason;
    this.subscription = subscription;
  }
}

export class SubscriptionConflict extends Error {
  readonly activeSubscriptionId: string | undefined;
  constructor(activeSubscriptionId: string | undefined) {
    super(activeSubscriptionId ? `subscription ${activeSubscriptionId} is active` : 'another subscription was created at the same time');
    this.name = 'SubscriptionConflict';
    this.activeSubscriptionId = activeSubscriptionId;
  }
}

export interface FeedEntry {
  /** Where this entry sits in the feed; pass the last one back as `after` to resume. */
  position: FeedPosition;
  event: PlanEvent;
}
/** writtenAt, planId, sequence, eventId: the feed's order (write time, then each plan's own order). */
export type FeedPosition = readonly [string, string, number, string];

export interface DeliveryPage {
  items: Delivery[];
  nextCursor?: string;
}

type Item = Record<string, unknown>;

/** A new secret for a subscription, and the request that made it (see SecretRequest). */
export interface Rotation {
  secret: string;
  at: string;
  overlapEndsAt: string;
  by: string;
  request?: SecretRequest;
}

const SUBSCRIPTION_FIELDS = ['subscriptionId', 'providerId', 'url', 'status', 'createdAt', 'createdBy', 'disabledAt', 'disabledReason', 'rotatedAt', 'rotatedBy', 'overlapEndsAt'] as const;
function toSubscription(item: Item): Subscription {
  return Object.fromEntries(SUBSCRIPTION_FIELDS.filter((k) => item[k] !== undefined).map((k) => [k, item[k]])) as unknown as Subscription;
}
function withSecrets(item: Item): SubscriptionWithSecret {
  return {
    ...toSubscription(item),
    secret: String(item.secret),
    ...(typeof item.previousSecret === 'string' ? { previousSecret: item.previousSecret } : {}),
    ...(typeof item.secretRequestKey === 'string' ? { secretRequest: { key: item.secretRequestKey, fingerprint: String(item.secretRequestFingerprint) } } : {}),
  };
}
/** A SecretRequest as the subscription item keeps it: two plain attributes, so a condition can compare the key. */
const secretRequestAttributes = (request: SecretRequest | undefined): Item => (request ? { secretRequestKey: request.key, secretRequestFingerprint: request.fingerprint } : {});

function toDelivery(item: Item): Delivery {
  const { pk: _pk, sk: _sk, type: _type, pendingPk: _ppk, pendingSk: _psk, ...rest } = item;
  return { log: [], replays: 0, ...rest } as unknown as Delivery;
}

function deliveryItem(delivery: Delivery): Item {
  return {
    ...keys.delivery(delivery.providerId, delivery.planId, delivery.sequence),
    type: 'delivery',
    ...(delivery.status === 'pending' ? keys.pendingIndex(delivery.providerId, delivery.planId, delivery.sequence) : {}),
    ...delivery,
    ...(delivery.status === 'pending' ? {} : { nextAttemptAt: undefined }),
  };
}

const encodeCursor = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
function decodeCursor(cursor: string): unknown {
  return JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
}
/** A cursor refused: `message` says why, for the 400 that names the parameter. */
export class BadCursor extends Error {
  constructor(message = 'is not a cursor this API returned') {
    super(message);
    this.name = 'BadCursor';
  }
}

/**
 * A feed cursor is the position of the last entry given, and the provider whose feed gave it: read on
 * another provider's feed it would be a place in another list, so it is refused saying whose it is, as
 * the worklists' cursors are (worklist-cursor.ts), not taken silently.
 */
export function encodeFeedPosition(position: FeedPosition, providerId: string): string {
  return encodeCursor([...position, providerId]);
}
/**
 * The position a feed cursor of `providerId`'s feed stands for. One given before cursors named their
 * feed (four members) is taken as it always was: a consumer keeps its cursor between polls, and whose
 * it is cannot be told.
 */
export function decodeFeedPosition(cursor: string, providerId: string): FeedPosition {
  let value: unknown;
  try {
    value = decodeCursor(cursor);
  } catch {
    throw new BadCursor('is not a cursor this feed returned');
  }
  if (
    !Array.isArray(value) ||
    (value.length !== 4 && !(value.length === 5 && typeof value[4] === 'string')) ||
    typeof value[0] !== 'string' ||
    typeof value[1] !== 'string' ||
    typeof value[2] !== 'number' ||
    !Number.isInteger(value[2]) ||
    typeof value[3] !== 'string'
  )
    throw new BadCursor('is not a cursor this feed returned');
  const [writtenAt, planId, sequence, id, of] = value as [string, string, number, string, string | undefined];
  if (of !== undefined && of !== providerId)
    throw new BadCursor(`belongs to another provider's feed (GET /providers/${of}/feed), not ${providerId}'s: a cursor reads on only the feed that gave it; leave it out to start from the beginning`);
  return [writtenAt, planId, sequence, id];
}

/** The delivery log's filters a cursor was given for: the provider, and the status (none: every status). */
const deliveryListInWords = (providerId: string, status: string | undefined) => `GET /providers/${providerId}/deliveries${status ? `?status=${status}` : ''} (${status ? `only ${status} deliveries` : 'every status'})`;

export function compareFeedPositions(a: FeedPosition, b: FeedPosition): number {
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
  if (a[1] !== b[1]) return a[1] < b[1] ? -1 : 1;
  if (a[2] !== b[2]) return a[2] - b[2];
  return a[3] === b[3] ? 0 : a[3] < b[3] ? -1 : 1;
}

/** Longer than any feed write takes (plus clock skew between Lambda instances on AWS). */
export const DEFAULT_FEED_SETTLE_MS = 2000;

export class WebhookStore {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  /**
   * The feed shows only entries written at least this long ago. Feed entries are keyed by the wall
   * time they were written; two deliveries running at once can finish in the other order than their
   * times, so a reader that went right up to now could step past an entry that lands just behind it.
   */
  readonly feedSettleMs: number;
  private readonly subscriptionListeners = new Set<(providerId: string) => void>();
  constructor(client: DynamoDBDocumentClient, tableName: string, options: { feedSettleMs?: number } = {}) {
    this.feedSettleMs = options.feedSettleMs ?? DEFAULT_FEED_SETTLE_MS;
    this.client = client;
    this.tableName = tableName;
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  private async send<T>(command: any): Promise<T> {
    try {
      return (await this.client.send(command)) as T;
    } catch (error) {
      throw storageError(error);
    }
  }

  private async queryAll(input: Record<string, unknown>): Promise<Item[]> {
    const items: Item[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.send<{ Items?: Item[]; LastEvaluatedKey?: Record<string, unknown> }>(new QueryCommand({ TableName: this.tableName, ...input, ExclusiveStartKey: start }));
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
    } while (start);
    return items;
  }

  // -------------------------------------------------------------------------------------------
  // Subscriptions

  /**
   * Be told when a provider's subscriptions may have changed through this store object (created,
   * deleted, disabled: attempted, whether or not it went through), e.g. to drop a cached answer.
   * Returns the function that stops the notices.
   */
  onSubscriptionChange(listener: (providerId: string) => void): () => void {
    this.subscriptionListeners.add(listener);
    return () => this.subscriptionListeners.delete(listener);
  }

  private async changingSubscriptions<T>(providerId: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } finally {
      for (const listener of this.subscriptionListeners) listener(providerId);
    }
  }

  private async slot(providerId: string): Promise<string | undefined> {
    const out = await this.send<{ Item?: Item }>(new GetCommand({ TableName: this.tableName, Key: keys.activeSubscription(providerId), ConsistentRead: true }));
    return typeof out.Item?.subscriptionId === 'string' ? out.Item.subscriptionId : undefined;
  }

  private async subscriptionItem(providerId: string, subscriptionId: string): Promise<Item | undefined> {
    const out = await this.send<{ Item?: Item }>(new GetCommand({ TableName: this.tableName, Key: keys.webhookSubscription(providerId, subscriptionId), ConsistentRead: true }));
    return out.Item;
  }

  /** The provider's active subscription with its secret, or undefined when it has none. */
  async activeSubscription(providerId: string): Promise<SubscriptionWithSecret | undefined> {
    const id = await this.slot(providerId);
    if (!id) return undefined;
    const item = await this.subscriptionItem(providerId, id);
    if (!item || item.status !== 'active') return undefined;
    return withSecrets(item);
  }

  async getSubscription(providerId: string, subscriptionId: string): Promise<SubscriptionWithSecret | undefined> {
    const item = await this.subscriptionItem(providerId, subscriptionId);
    return item ? withSecrets(item) : undefined;
  }

  /**
   * Give an active subscription a new secret; the current one becomes the previous one, which signs
   * beside it until `overlapEndsAt` and is then removed. One conditional update, so of two rotations
   * at once one wins and the other is refused. Refused (RotationRefused, nothing written) when there
   * is no such subscription, it is not active, or the last rotation's overlap has not ended at `at`:
   * a second rotation would have to drop a secret a receiver may still be verifying with.
   *
   * `request` (the rotating request, when it has an Idempotency-Key) is written with the new secret;
   * a rotation by the request that made the current secret is refused as `repeated`, even after the
   * overlap, so a retry never rotates twice. Without one, the previous request's mark is removed: it
   * made a secret that is no longer current.
   */
  async rotateSecret(providerId: string, subscriptionId: string, rotation: Rotation): Promise<SubscriptionWithSecret> {
    return this.changingSubscriptions(providerId, () => this.writeRotation(providerId, subscriptionId, rotation));
  }

  private async writeRotation(providerId: string, subscriptionId: string, rotation: Rotation): Promise<SubscriptionWithSecret> {
    const { request } = rotation;
    try {
      const out = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.webhookSubscription(providerId, subscriptionId),
          UpdateExpression: `SET previousSecret = secret, secret = :secret, overlapEndsAt = :end, rotatedAt = :at, rotatedBy = :by${
            request ? ', secretRequestKey = :requestKey, secretRequestFingerprint = :fingerprint' : ' REMOVE secretRequestKey, secretRequestFingerprint'
          }`,
          ConditionExpression: `#status = :active AND (attribute_not_exists(overlapEndsAt) OR overlapEndsAt <= :at)${request ? ' AND (attribute_not_exists(secretRequestKey) OR secretRequestKey <> :requestKey)' : ''}`,
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':secret': rotation.secret,
            ':end': rotation.overlapEndsAt,
            ':at': rotation.at,
            ':by': rotation.by,
            ':active': 'active',
            ...(request ? { ':requestKey': request.key, ':fingerprint': request.fingerprint } : {}),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return withSecrets(out.Attributes as Item);
    } catch (error) {
      if (!conditionFailed(error)) throw storageError(error);
    }
    const item = await this.subscriptionItem(providerId, subscriptionId);
    if (!item) throw new RotationRefused('not-found');
    if (request && item.secretRequestKey === request.key) throw new RotationRefused('repeated', toSubscription(item));
    throw new RotationRefused(item.status === 'active' ? 'overlapping' : 'not-active', toSubscription(item));
  }

  /**
   * Remove the previous secret of a subscription whose overlap ended at or before `at` (it is a
   * credential: kept no longer than it signs). True when one was removed.
   */
  async dropExpiredSecret(providerId: string, subscriptionId: string, at: string): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.webhookSubscription(providerId, subscriptionId),
          UpdateExpression: 'REMOVE previousSecret, overlapEndsAt',
          ConditionExpression: 'overlapEndsAt <= :at',
          ExpressionAttributeValues: { ':at': at },
        }),
      );
      return true;
    } catch (error) {
      if (conditionFailed(error)) return false;
      throw storageError(error);
    }
  }

  /** Every subscription the provider has (active or disabled), oldest first; never the secrets. */
  async listSubscriptions(providerId: string): Promise<Subscription[]> {
    const { pk, skPrefix } = keys.webhookSubscriptionsPrefix(providerId);
    const items = await this.queryAll({ KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)', ExpressionAttributeValues: { ':pk': pk, ':prefix': skPrefix }, ConsistentRead: true });
    return items.map(toSubscription).sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.subscriptionId.localeCompare(b.subscriptionId));
  }

  /**
   * Make `subscription` the provider's active one. Throws SubscriptionConflict when another is
   * active (or wins a race to the slot); then nothing was written. Its secretRequest is written with
   * it, so a retry of the subscribing request can find the subscription it made.
   */
  async createSubscription(subscription: SubscriptionWithSecret): Promise<void> {
    await this.changingSubscriptions(subscription.providerId, () => this.claimSlotAndCreate(subscription));
  }

  private async claimSlotAndCreate(subscription: SubscriptionWithSecret): Promise<void> {
    const { providerId, subscriptionId } = subscription;
    const current = await this.slot(providerId);
    if (current) {
      const item = await this.subscriptionItem(providerId, current);
      if (item?.status === 'active') throw new SubscriptionConflict(current);
    }
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...keys.activeSubscription(providerId), type: 'subscription-slot', subscriptionId },
          // A slot left pointing at a removed or disabled subscription is free; a changed slot is a race lost.
          ConditionExpression: current ? 'subscriptionId = :stale' : 'attribute_not_exists(pk)',
          ...(current ? { ExpressionAttributeValues: { ':stale': current } } : {}),
        }),
      );
    } catch (error) {
      if (conditionFailed(error)) throw new SubscriptionConflict(await this.slot(providerId));
      throw storageError(error);
    }
    const { secretRequest, ...fields } = subscription;
    await this.send(
      new PutCommand({ TableName: this.tableName, Item: { ...keys.webhookSubscription(providerId, subscriptionId), type: 'subscription', ...fields, ...secretRequestAttributes(secretRequest) } }),
    );
  }

  private async freeSlot(providerId: string, subscriptionId: string): Promise<void> {
    try {
      await this.client.send(
        new DeleteCommand({ TableName: this.tableName, Key: keys.activeSubscription(providerId), ConditionExpression: 'subscriptionId = :id', ExpressionAttributeValues: { ':id': subscriptionId } }),
      );
    } catch (error) {
      if (!conditionFailed(error)) throw storageError(error);
    }
  }

  /** Remove a subscription and its secret; undefined when there is no such subscription. */
  async deleteSubscription(providerId: string, subscriptionId: string): Promise<Subscription | undefined> {
    return this.changingSubscriptions(providerId, () => this.removeSubscription(providerId, subscriptionId));
  }

  private async removeSubscription(providerId: string, subscriptionId: string): Promise<Subscription | undefined> {
    let old: Item | undefined;
    try {
      const out = await this.client.send(
        new DeleteCommand({ TableName: this.tableName, Key: keys.webhookSubscription(providerId, subscriptionId), ConditionExpression: 'attribute_exists(pk)', ReturnValues: 'ALL_OLD' }),
      );
      old = out.Attributes as Item | undefined;
    } catch (error) {
      if (conditionFailed(error)) return undefined;
      throw storageError(error);
    }
    await this.freeSlot(providerId, subscriptionId);
    return old ? toSubscription(old) : undefined;
  }

  /**
   * For AWS only, where nothing has used webhook subscriptions since 2026-11-28 (deliveries go through
   * the deploy's API destinations): remove up to `limit` of the provider's subscription records, each
   * with its secrets and the mark of the request that made them, and its active-subscription slot once
   * no record is left. One keys-only query, then a delete per record; `more` when records are left.
   */
  async removeSubscriptionRecords(providerId: string, limit: number): Promise<{ removed: number; more: boolean }> {
    const { pk, skPrefix } = keys.webhookSubscriptionsPrefix(providerId);
    const slotKey = keys.activeSubscription(providerId);
    // The records (SUBSCRIPTION#<id>) sort just before the slot (SUBSCRIPTION-ACTIVE: '#' < '-'), so one
    // range reads both; one item more than `limit` shows whether records are left, or else reaches the slot.
    const out = await this.send<{ Items?: Item[] }>(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :first AND :slot',
        ExpressionAttributeValues: { ':pk': pk, ':first': skPrefix, ':slot': slotKey.sk },
        ProjectionExpression: 'sk, subscriptionId',
        ConsistentRead: true,
        Limit: limit + 1,
      }),
    );
    const items = out.Items ?? [];
    const records = items.filter((item) => String(item.sk).startsWith(skPrefix));
    let removed = 0;
    for (const record of records.slice(0, limit)) {
      if (await this.deleteSubscription(providerId, String(record.sk).slice(skPrefix.length))) removed += 1;
    }
    const more = records.length > limit;
    // A slot naming a record removed above was freed with it; one naming a record already gone (a crash
    // between the two writes of an older release) goes here.
    const slot = items.find((item) => item.sk === slotKey.sk);
    if (!more && typeof slot?.subscriptionId === 'string') await this.freeSlot(providerId, slot.subscriptionId);
    return { removed, more };
  }

  /** Disable an active subscription (the receiver answered 410 Gone). False when it was not active. */
  async disableSubscription(providerId: string, subscriptionId: string, reason: string, at: string): Promise<boolean> {
    return this.changingSubscriptions(providerId, () => this.markDisabled(providerId, subscriptionId, reason, at));
  }

  private async markDisabled(providerId: string, subscriptionId: string, reason: string, at: string): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.webhookSubscription(providerId, subscriptionId),
          UpdateExpression: 'SET #status = :disabled, disabledAt = :at, disabledReason = :reason',
          ConditionExpression: '#status = :active',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':disabled': 'disabled', ':active': 'active', ':at': at, ':reason': reason },
        }),
      );
    } catch (error) {
      if (conditionFailed(error)) return false;
      throw storageError(error);
    }
    await this.freeSlot(providerId, subscriptionId);
    return true;
  }

  // -------------------------------------------------------------------------------------------
  // Deliveries

  /** Queue a delivery unless one for that event is already queued (or done): true when queued now. */
  async enqueue(delivery: Delivery): Promise<boolean> {
    try {
      await this.client.send(new PutCommand({ TableName: this.tableName, Item: deliveryItem(delivery), ConditionExpression: 'attribute_not_exists(pk)' }));
      return true;
    } catch (error) {
      if (conditionFailed(error)) return false;
      throw storageError(error);
    }
  }

  async getDelivery(providerId: string, deliveryId: string): Promise<Delivery | undefined> {
    const parsed = parseDeliveryId(deliveryId);
    if (!parsed) return undefined;
    const out = await this.send<{ Item?: Item }>(new GetCommand({ TableName: this.tableName, Key: keys.delivery(providerId, parsed.planId, parsed.sequence), ConsistentRead: true }));
    return out.Item ? toDelivery(out.Item) : undefined;
  }

  /** Every pending delivery of the provider, by plan then sequence: the lanes of the delivery loop. */
  async pendingDeliveries(providerId: string): Promise<Delivery[]> {
    const items = await this.queryAll({ IndexName: 'byPending', KeyConditionExpression: 'pendingPk = :pk', ExpressionAttributeValues: { ':pk': keys.pendingPartition(providerId) } });
    return items.map(toDelivery);
  }

  /**
   * Write the outcome of an attempt. Guarded by the attempt count it was made at, so an attempt
   * that lost a race (a replay, a dead-lettering) changes nothing: false then.
   */
  async saveAttempt(next: Delivery, attemptsBefore: number): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: deliveryItem(next),
          ConditionExpression: '#status = :pending AND attempts = :before',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':pending': 'pending', ':before': attemptsBefore },
        }),
      );
      return true;
    } catch (error) {
      if (conditionFailed(error)) return false;
      throw storageError(error);
    }
  }

  /** Dead-letter one pending delivery without an attempt (its subscription went away). */
  async markDead(delivery: Delivery, reason: string, at: string): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.delivery(delivery.providerId, delivery.planId, delivery.sequence),
          UpdateExpression: 'SET #status = :dead, deadAt = :at, lastError = :reason REMOVE pendingPk, pendingSk, nextAttemptAt',
          ConditionExpression: '#status = :pending',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':dead': 'dead', ':pending': 'pending', ':at': at, ':reason': reason },
        }),
      );
      return true;
    } catch (error) {
      if (conditionFailed(error)) return false;
      throw storageError(error);
    }
  }

  /** Dead-letter every pending delivery of the provider; returns how many. */
  async deadLetterPending(providerId: string, reason: string, at: string): Promise<number> {
    let count = 0;
    for (const delivery of await this.pendingDeliveries(providerId)) if (await this.markDead(delivery, reason, at)) count += 1;
    return count;
  }

  /** Put a dead-lettered delivery back in its lane with a fresh retry schedule. Undefined unless it was dead. */
  async replay(providerId: string, deliveryId: string, at: string): Promise<Delivery | undefined> {
    const parsed = parseDeliveryId(deliveryId);
    if (!parsed) return undefined;
    const lane = keys.pendingIndex(providerId, parsed.planId, parsed.sequence);
    try {
      const out = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.delivery(providerId, parsed.planId, parsed.sequence),
          UpdateExpression: 'SET #status = :pending, attempts = :zero, replays = if_not_exists(replays, :zero) + :one, nextAttemptAt = :at, pendingPk = :ppk, pendingSk = :psk',
          ConditionExpression: '#status = :dead',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':pending': 'pending', ':dead': 'dead', ':zero': 0, ':one': 1, ':at': at, ':ppk': lane.pendingPk, ':psk': lane.pendingSk },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toDelivery(out.Attributes as Item);
    } catch (error) {
      if (conditionFailed(error)) return undefined;
      throw storageError(error);
    }
  }

  /**
   * The provider's delivery log, by plan then sequence, optionally of one status. A page may hold
   * fewer than `limit` items when few match; keep going while nextCursor is set.
   */
  async listDeliveries(providerId: string, options: { status?: DeliveryStatus; limit: number; cursor?: string }): Promise<DeliveryPage> {
    const { pk, skPrefix } = keys.deliveriesPrefix(providerId);
    let start: Record<string, unknown> | undefined;
    if (options.cursor) {
      let key: unknown;
      try {
        key = decodeCursor(options.cursor);
      } catch {
        throw new BadCursor();
      }
      const { sk, provider, status } = (typeof key === 'object' && key !== null ? key : {}) as { sk?: unknown; provider?: unknown; status?: unknown };
      if (typeof sk !== 'string' || !sk.startsWith(skPrefix)) throw new BadCursor();
      if (provider !== undefined && typeof provider !== 'string') throw new BadCursor();
      if (status !== undefined && !(typeof status === 'string' && (DELIVERY_STATUSES as readonly string[]).includes(status))) throw new BadCursor();
      // Another provider's log, or another status filter: its place is among other entries, and read here
      // it would skip some; refused saying whose it is. One given before cursors named their list (no
      // provider) is taken as it always was.
      if (provider !== undefined && (provider !== providerId || status !== options.status)) {
        const asked = deliveryListInWords(providerId, options.status);
        throw new BadCursor(
          provider !== providerId
            ? `belongs to another provider's delivery log (GET /providers/${provider}/deliveries), not ${asked}: a cursor pages on only the list that gave it; leave it out to start from the top`
            : `belongs to another filter, ${deliveryListInWords(provider, status as string | undefined)}, not ${asked}: read with another status it would skip deliveries; send it with the status it was given for, or leave it out to start from the top`,
        );
      }
      start = { pk, sk };
    }
    const items: Delivery[] = [];
    // A filtered query may read many items to find a few: bound the work per page.
    for (let round = 0; round < 20 && items.length < options.limit; round += 1) {
      const out = await this.send<{ Items?: Item[]; LastEvaluatedKey?: Record<string, unknown> }>(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ...(options.status ? { FilterExpression: '#status = :status', ExpressionAttributeNames: { '#status': 'status' } } : {}),
          ExpressionAttributeValues: { ':pk': pk, ':prefix': skPrefix, ...(options.status ? { ':status': options.status } : {}) },
          // Never read more than is still wanted, so the last key read is exactly where the page ends.
          Limit: options.limit - items.length,
          ExclusiveStartKey: start,
        }),
      );
      items.push(...(out.Items ?? []).map(toDelivery));
      start = out.LastEvaluatedKey;
      if (!start) break;
    }
    return { items, ...(start ? { nextCursor: encodeCursor({ sk: start.sk, provider: providerId, ...(options.status ? { status: options.status } : {}) }) } : {}) };
  }

  // -------------------------------------------------------------------------------------------
  // Pull feed (the entries PlanRepository.recordEvents writes)

  /**
   * The provider's feed after `after`, in feed order: write time, then plan and sequence, so events
   * of one plan written together come in their own order whatever their ids. Entries written at
   * the same instant are read as a group to order them; the page ends after `limit` entries.
   */
  async feedPage(providerId: string, after: FeedPosition | undefined, limit: number): Promise<{ entries: FeedEntry[]; more: boolean }> {
    const { pk, skPrefix } = keys.feedPrefix(providerId);
    const from = after ? `${skPrefix}${after[0]}#` : skPrefix;
    const collected: FeedEntry[] = [];
    let start: Record<string, unknown> | undefined;
    let lastWrittenAt = '';
    let exhausted = false;
    for (;;) {
      const out = await this.send<{ Items?: Item[]; LastEvaluatedKey?: Record<string, unknown> }>(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
          ExpressionAttributeValues: { ':pk': pk, ':from': from, ':to': `${skPrefix}${new Date(Date.now() - this.feedSettleMs).toISOString()}\uffff` },
          Limit: Math.max(limit, 100),
          ExclusiveStartKey: start,
        }),
      );
      for (const item of out.Items ?? []) {
        const writtenAt = String(item.sk).slice(skPrefix.length).split('#')[0] ?? '';
        const event = eventOfItem(item);
        const position: FeedPosition = [writtenAt, event.planId, event.sequence, event.id];
        lastWrittenAt = writtenAt;
        if (after && compareFeedPositions(position, after) <= 0) continue;
        collected.push({ position, event });
      }
      start = out.LastEvaluatedKey;
      if (!start) {
        exhausted = true;
        break;
      }
      // Done once `limit` entries are in hand and everything still unread was written later than the last of them.
      if (collected.length >= limit) {
        collected.sort((a, b) => compareFeedPositions(a.position, b.position));
        if ((collected[limit - 1] as FeedEntry).position[0] < lastWrittenAt) break;
      }
    }
    collected.sort((a, b) => compareFeedPositions(a.position, b.position));
    return { entries: collected.slice(0, limit), more: collected.length > limit || !exhausted };
  }
}
