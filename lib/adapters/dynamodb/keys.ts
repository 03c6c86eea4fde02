import { createHash } from 'node:crypto';

/**
 * Every key of the single table is built here and nowhere else.
 *
 *   item                      pk                      sk
 *   plan                      PLAN#<planId>           PLAN
 *   plan history event        PLAN#<planId>           EVENT#<sequence, 10 digits>
 *   participant identity      PARTICIPANT#<id>        IDENTITY
 *   person match              PERSON#<keyed hash>     PERSON        links a woman's plans (re-referral)
 *   near match                NEAR#<keyed hash>       NEAR          plans filed under one near-match key (possible duplicate referral; lib/adapters/near-match.ts)
 *   audit record              AUDIT#<day>             <at>#<auditId>   append-only
 *   its outcome               AUDIT#<day>             <at>#<auditId>#outcome   append-only; a change's succeeded/refused, right after its record
 *   provider allocation view  PROVIDER#<providerId>   ALLOCATION#<allocationId>
 *   provider feed entry       PROVIDER#<providerId>   FEED#<written at>#<eventId>
 *   service state             DIRECTORY               SERVICE#<serviceId>   capacity, status, holds (capacity in use)
 *   first response to a key   IDEMPOTENCY#<scope>     RESPONSE#<sha256 of the key>   expires (TTL) after 7 days
 *   webhook subscription      PROVIDER#<providerId>   SUBSCRIPTION#<subscriptionId>   url, secret, active|disabled
 *   active subscription slot  PROVIDER#<providerId>   SUBSCRIPTION-ACTIVE   which one is active (claimed conditionally: one per provider)
 *   webhook delivery          PROVIDER#<providerId>   DELIVERY#<planId>#<sequence, 10 digits>   one per (provider, event): pending|delivered|dead
 *
 * Indexes (all sparse: an item is in an index only when it has that index's attributes):
 *   byStage   stagePk = STAGE#<stage>, stageSk = <updatedAt, closedAt when closed>#<planId>   worklists by stage
 *   byDue     duePk = DUE#<shard>, dueAt                                      the sweeper's deadlines
 *   byOutbox  outboxPk = OUTBOX#<shard>, outboxSince                          undelivered events
 *   byAlert   alertPk = ALERT#<shard>, alertSince                             open escalations (overdue worklist)
 *   byWork    workPk = WORK#<shard>, workAt                                   the next thing due on a plan (today / this week)
 *   byPending pendingPk = PENDING#<providerId>, pendingSk = <planId>#<seq>   pending webhook deliveries, in lanes (embedded delivery loop)
 *             pendingPk = OFFERED#<providerId>, pendingSk = ALLOCATION#<allocationId>   a provider's open offers (on its
 *                                                                       allocation view while its status is offered; see openOfferIndex)
 *   byAuditPlan auditPlanPk = PLAN#<planId>, sk = <at>#<auditId>          audit records about a plan (GET /audit?planId=)
 *
 *   audit-by-plan marker      AUDIT#META              BY-PLAN       indexedFrom: the first UTC day whose records all carry auditPlanPk;
 *                                                                       append-only like the records (never a day: no reader asks for it by day)
 *   its key before 2026-11-28 AUDIT-INDEX#META        BY-PLAN       read only while AUDIT#META is missing; the sweeper copies its day over
 *   open-offer index marker   MAINTENANCE#OPEN-OFFER-INDEX  META    done: every offered allocation view carries its byPending key
 *                                                                       (a new table from the start; an older one once the sweeper's pass
 *                                                                       has walked it, functions/sweeper/open-offer-index.ts)
 */
export const TABLE_KEYS = { partitionKey: 'pk', sortKey: 'sk' } as const;
/** Items with this attribute (epoch seconds) are removed by DynamoDB's TTL after that time. */
export const TTL_ATTRIBUTE = 'expiresAt';

export const INDEXES = {
  byStage: { partitionKey: 'stagePk', sortKey: 'stageSk' },
  byDue: { partitionKey: 'duePk', sortKey: 'dueAt' },
  byOutbox: { partitionKey: 'outboxPk', sortKey: 'outboxSince' },
  byAlert: { partitionKey: 'alertPk', sortKey: 'alertSince' },
  byPending: { partitionKey: 'pendingPk', sortKey: 'pendingSk' },
  byWork: { partitionKey: 'workPk', sortKey: 'workAt' },
  // The audit record's own sort key (<at>#<auditId>) orders the plan's records by time, as the day partitions do.
  byAuditPlan: { partitionKey: 'auditPlanPk', sortKey: 'sk' },
} as const;
export type IndexName = keyof typeof INDEXES;

/** Deadline and outbox indexes are spread over a few partitions so no single one runs hot. */
export const SHARDS = 4;
export const ALL_SHARDS = Array.from({ length: SHARDS }, (_, i) => i);

export function shardOf(id: string): number {
  return createHash('sha256').update(id).digest()[0]! % SHARDS;
}

export const keys = {
  plan: (planId: string) => ({ pk: `PLAN#${planId}`, sk: 'PLAN' }),
  historyEvent: (planId: string, sequence: number) => ({ pk: `PLAN#${planId}`, sk: `EVENT#${String(sequence).padStart(10, '0')}` }),
  historyPrefix: (planId: string) => ({ pk: `PLAN#${planId}`, skPrefix: 'EVENT#' }),
  audit: (day: string, at: string, auditId: string) => ({ pk: `AUDIT#${day}`, sk: `${at}#${auditId}` }),
  /**
   * The outcome of the change an audit record is the attempt of: the record's own key with `#outcome`
   * after it, so it sorts right after its record, in the day partition and in byAuditPlan alike.
   */
  auditOutcome: (day: string, at: string, auditId: string) => ({ pk: `AUDIT#${day}`, sk: `${at}#${auditId}#outcome` }),
  person: (matchKey: string) => ({ pk: `PERSON#${matchKey}`, sk: 'PERSON' }),
  nearMatch: (nearKey: string) => ({ pk: `NEAR#${nearKey}`, sk: 'NEAR' }),
  identity: (participantId: string) => ({ pk: `PARTICIPANT#${participantId}`, sk: 'IDENTITY' }),
  providerAllocation: (providerId: string, allocationId: string) => ({ pk: `PROVIDER#${providerId}`, sk: `ALLOCATION#${allocationId}` }),
  providerAllocationsPrefix: (providerId: string) => ({ pk: `PROVIDER#${providerId}`, skPrefix: 'ALLOCATION#' }),
  feedEntry: (providerId: string, writtenAt: string, eventId: string) => ({ pk: `PROVIDER#${providerId}`, sk: `FEED#${writtenAt}#${eventId}` }),
  feedPrefix: (providerId: string) => ({ pk: `PROVIDER#${providerId}`, skPrefix: 'FEED#' }),
  idempotentResponse: (scope: string, keyHash: string) => ({ pk: `IDEMPOTENCY#${scope}`, sk: `RESPONSE#${keyHash}` }),
  serviceState: (serviceId: string) => ({ pk: 'DIRECTORY', sk: `SERVICE#${serviceId}` }),
  serviceStatePrefix: () => ({ pk: 'DIRECTORY', skPrefix: 'SERVICE#' }),
  stageIndex: (stage: string, updatedAt: string, planId: string) => ({ stagePk: `STAGE#${stage}`, stageSk: `${updatedAt}#${planId}` }),
  stagePartition: (stage: string) => `STAGE#${stage}`,
  dueIndex: (planId: string, dueAt: string) => ({ duePk: `DUE#${shardOf(planId)}`, dueAt }),
  duePartition: (shard: number) => `DUE#${shard}`,
  outboxIndex: (planId: string, since: string) => ({ outboxPk: `OUTBOX#${shardOf(planId)}`, outboxSince: since }),
  outboxPartition: (shard: number) => `OUTBOX#${shard}`,
  alertIndex: (planId: string, since: string) => ({ alertPk: `ALERT#${shardOf(planId)}`, alertSince: since }),
  alertPartition: (shard: number) => `ALERT#${shard}`,
  workIndex: (planId: string, at: string) => ({ workPk: `WORK#${shardOf(planId)}`, workAt: at }),
  workPartition: (shard: number) => `WORK#${shard}`,
  webhookSubscription: (providerId: string, subscriptionId: string) => ({ pk: `PROVIDER#${providerId}`, sk: `SUBSCRIPTION#${subscriptionId}` }),
  webhookSubscriptionsPrefix: (providerId: string) => ({ pk: `PROVIDER#${providerId}`, skPrefix: 'SUBSCRIPTION#' }),
  activeSubscription: (providerId: string) => ({ pk: `PROVIDER#${providerId}`, sk: 'SUBSCRIPTION-ACTIVE' }),
  delivery: (providerId: string, planId: string, sequence: number) => ({ pk: `PROVIDER#${providerId}`, sk: `DELIVERY#${planId}#${String(sequence).padStart(10, '0')}` }),
  deliveriesPrefix: (providerId: string) => ({ pk: `PROVIDER#${providerId}`, skPrefix: 'DELIVERY#' }),
  pendingIndex: (providerId: string, planId: string, sequence: number) => ({ pendingPk: `PENDING#${providerId}`, pendingSk: `${planId}#${String(sequence).padStart(10, '0')}` }),
  pendingPartition: (providerId: string) => `PENDING#${providerId}`,
  /**
   * On a provider's allocation view while its status is `offered`, and on no other: GET /providers/{id}/offers
   * reads the provider's open offers (a handful) instead of every allocation it ever had (never deleted).
   * byPending is overloaded rather than a new index added: it is sparse, projects ALL (a view is a few
   * hundred bytes and is read whole, so no BatchGetItem after it), and a distinct partition prefix
   * (OFFERED#, never PENDING#) keeps webhook lanes and offers apart; a data directory's dynalite table
   * cannot gain an index, and on AWS a new one would be another GSI to build and pay for. The sort key is
   * the view's own sort key, so offers come in allocation order, as the table's own query gives them,
   * and an allocation page's cursor (its sort key) means the same in both.
   */
  openOfferIndex: (providerId: string, allocationId: string) => ({ pendingPk: `OFFERED#${providerId}`, pendingSk: `ALLOCATION#${allocationId}` }),
  openOfferPartition: (providerId: string) => `OFFERED#${providerId}`,
  /** On an audit record about a plan (the plan id is pseudonymous; nothing of her identity is in a key). */
  auditPlanIndex: (planId: string) => ({ auditPlanPk: `PLAN#${planId}` }),
  auditPlanPartition: (planId: string) => `PLAN#${planId}`,
  /**
   * Under AUDIT#, so the table policy that keeps audit records append-only keeps it too: moved earlier, it
   * would hide older records (read only through the index, which they are not in) from plan queries.
   * `META` is no day, so the day-by-day reader (AUDIT#<yyyy-mm-dd>) never meets it.
   */
  auditPlanIndexMarker: () => ({ pk: 'AUDIT#META', sk: 'BY-PLAN' }),
  /** Where releases before 2026-11-28 kept the marker, outside the policy's reach: trusted only while the one above is missing. */
  oldAuditPlanIndexMarker: () => ({ pk: 'AUDIT-INDEX#META', sk: 'BY-PLAN' }),
  /** How far the sweeper's redaction of plans erased before free text was redacted at erasure has got (functions/sweeper/erased-redaction.ts). */
  erasedRedactionMarker: () => ({ pk: 'MAINTENANCE#ERASED-REDACTION', sk: 'META' }),
  /** Whether every offered allocation view carries its byPending key (functions/sweeper/open-offer-index.ts). */
  openOfferIndexMarker: () => ({ pk: 'MAINTENANCE#OPEN-OFFER-INDEX', sk: 'META' }),
  /** When the AWS sweeper last found no webhook subscription record left (functions/sweeper/aws-subscription-cleanup.ts). */
  awsSubscriptionCleanupMarker: () => ({ pk: 'MAINTENANCE#AWS-SUBSCRIPTION-CLEANUP', sk: 'META' }),
};

/** Pull a plan id back out of an allocation id (al_<plan suffix>_<n>): provider commands need no lookup. */
export function planIdOfAllocation(allocationId: string): string | undefined {
  const match = /^al_([a-z0-9]{10,40})_[0-9]{1,4}$/.exec(allocationId);
  return match ? `pl_${match[1]}` : undefined;
}
