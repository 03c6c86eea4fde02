import { gunzipSync, gzipSync } from 'node:zlib';
import { nextDueAt } from '../../domain/decide.ts';
import { nextActionAt } from '../../domain/views.ts';
import type { Allocation, Plan, PlanEvent } from '../../domain/schemas.ts';
import { keys } from './keys.ts';

/**
 * How a plan is stored in its item.
 *
 *   attribute         holds
 *   pk, sk, type      the plan's key (keys.plan) and 'plan'
 *   <index keys>      stagePk/stageSk, duePk/dueAt, outboxPk/outboxSince, alertPk/alertSince, workPk/workAt
 *   version           the plan's version: the condition of every save (`#version = :previous`)
 *   identityErasedAt  when her identity was erased, if it was: set on its own by an update
 *                     (markIdentityErased) and projected into the byStage index, so not in the body
 *   outbox            undelivered events, a map from event id to the event as JSON text, so delivered
 *                     events are removed one by one (`REMOVE outbox.#id`) without reading the plan
 *   planGzip          everything else of the plan: its JSON, gzipped (binary)
 *
 * Why one binary attribute rather than the plan as nested maps: the store's work on an item grows with
 * its number of attributes, not its bytes. A plan of ~4.5 kB is a few hundred attributes; dynalite spent
 * ~1.0–1.2 ms of CPU on a PutItem of it as nested maps against ~0.3–0.4 ms as one attribute, and the SDK's
 * marshalling (~40 µs each way) goes too. gzip makes it ~3 times smaller, and DynamoDB bills writes by
 * the kilobyte of the whole item, twice per command (the save and the outbox clear): README, Benchmarks.
 *
 * Items written as nested maps (before this format) are still read: `itemToPlan` tells them by the absence
 * of `planGzip`, and the plan's next save rewrites it in this format.
 *
 * A release from before this format cannot read it. So a deployed stack upgrading from one writes the
 * nested format first (`PLAN_ITEM_FORMAT=nested`, from the stage's `planItemFormat`), reading both, until
 * no function of the older release is left; then the default, `gzip` (docs/deploy.md).
 */
export const PLAN_BODY_ATTRIBUTE = 'planGzip';

/** How plan items, outbox events and history/feed events are written; both are always read. */
export const PLAN_ITEM_FORMATS = ['gzip', 'nested'] as const;
export type PlanItemFormat = (typeof PLAN_ITEM_FORMATS)[number];

/** Attributes that exist only for the table's keys and indexes, never part of the plan. */
const KEY_ATTRIBUTES = ['pk', 'sk', 'type', 'stagePk', 'stageSk', 'duePk', 'dueAt', 'outboxPk', 'outboxSince', 'alertPk', 'alertSince', 'workPk', 'workAt'] as const;

type Item = Record<string, unknown>;

/** A plan's item, and the plan as a read of that item gives it back (without unzipping what was just zipped). */
interface EncodedPlan {
  item: Item;
  stored: () => Plan;
}

export function encodePlan(plan: Plan, format: PlanItemFormat = 'gzip'): EncodedPlan {
  const dueAt = nextDueAt(plan);
  const oldestPending = plan.outbox.map((e) => e.time).sort()[0];
  const openAlert = plan.escalations.filter((e) => !e.resolvedAt).map((e) => e.raisedAt).sort()[0];
  const workAt = nextActionAt(plan);
  const indexes: Item = {
    ...keys.plan(plan.planId),
    type: 'plan',
    // A closed plan sits in the stage index at the day it closed, not its last change: a corrected
    // follow-up changes it later, and the retention period (the sweeper, endedBefore) counts from closure.
    ...keys.stageIndex(plan.stage, plan.stage === 'closed' ? (plan.closedAt ?? plan.updatedAt) : plan.updatedAt, plan.planId),
    ...(dueAt ? keys.dueIndex(plan.planId, dueAt) : {}),
    ...(oldestPending ? keys.outboxIndex(plan.planId, oldestPending) : {}),
    ...(openAlert ? keys.alertIndex(plan.planId, openAlert) : {}),
    ...(workAt ? keys.workIndex(plan.planId, workAt) : {}),
  };
  if (format === 'nested') {
    const { outbox, ...fields } = plan;
    const item = { ...indexes, ...fields, outbox: Object.fromEntries(outbox.map((e) => [e.id, e])) };
    return { item, stored: () => nestedItemToPlan(item) };
  }
  const { outbox, version, identityErasedAt, ...rest } = plan;
  const body = JSON.stringify(rest);
  const item: Item = {
    ...indexes,
    version,
    ...(identityErasedAt === undefined ? {} : { identityErasedAt }),
    outbox: Object.fromEntries(outbox.map((e) => [e.id, JSON.stringify(e)])),
    [PLAN_BODY_ATTRIBUTE]: gzipSync(body, { level: 1 }),
  };
  return { item, stored: () => planOf(item, body) };
}

export function planToItem(plan: Plan, format: PlanItemFormat = 'gzip'): Item {
  return encodePlan(plan, format).item;
}

export function itemToPlan(item: Item): Plan {
  const packed = item[PLAN_BODY_ATTRIBUTE];
  return packed === undefined ? nestedItemToPlan(item) : planOf(item, gunzipSync(packed as Uint8Array).toString('utf8'));
}

/** The plan of an item in this format whose body's JSON text is `body`. */
function planOf(item: Item, body: string): Plan {
  const rest = JSON.parse(body) as Item;
  const outbox = outboxOf(item);
  const plan: Item = { previousPlanIds: [], remindersSent: [], ...rest, version: item.version, outbox };
  if (item.identityErasedAt !== undefined) plan.identityErasedAt = item.identityErasedAt;
  return expiryAsExpiredAt(plan);
}

/**
 * Until 2026-11-29 an offer that expired was stored with when it lapsed as `respondedAt`, though nobody
 * answered it. Read as `expiredAt`, so every reader has the truthful field (and the plan's next save stores it).
 */
function expiryAsExpiredAt(plan: Item): Plan {
  const allocations = plan.allocations as Allocation[] | undefined;
  if (!allocations?.some((a) => a.status === 'expired' && a.respondedAt !== undefined)) return plan as unknown as Plan;
  const read = allocations.map(({ respondedAt, ...a }) => (a.status === 'expired' && respondedAt !== undefined ? { ...a, expiredAt: a.expiredAt ?? respondedAt } : { ...a, ...(respondedAt === undefined ? {} : { respondedAt }) }));
  return { ...plan, allocations: read } as unknown as Plan;
}

/** The outbox's events in order; written as JSON text, or as maps by the nested format. */
function outboxOf(item: Item): PlanEvent[] {
  return Object.values((item.outbox ?? {}) as Record<string, string | PlanEvent>)
    .map((e) => (typeof e === 'string' ? (JSON.parse(e) as PlanEvent) : e))
    .sort((a, b) => a.sequence - b.sequence);
}

/** A plan item written as nested maps, every plan field an attribute (the format before `planGzip`). */
function nestedItemToPlan(item: Item): Plan {
  const copy: Item = { ...item };
  for (const k of KEY_ATTRIBUTES) delete copy[k];
  const outbox = outboxOf(item);
  // Attributes added after a plan was first written read as their empty defaults.
  return expiryAsExpiredAt({ previousPlanIds: [], remindersSent: [], ...copy, outbox });
}

/**
 * For tests and tools that look inside stored items (e.g. "her name is in no plan item"): a plan item with
 * its body unzipped into attributes, as the nested format held them; any other item as it is.
 */
export function readablePlanItem(item: Item): Item {
  const packed = item[PLAN_BODY_ATTRIBUTE];
  if (packed === undefined) return item;
  const { [PLAN_BODY_ATTRIBUTE]: _body, ...rest } = item;
  return { ...(JSON.parse(gunzipSync(packed as Uint8Array).toString('utf8')) as Item), ...rest };
}

/**
 * A history or feed entry holds its event as JSON text in `event`, one attribute, for the same reason as
 * the plan's body (the event's data is tens of attributes as maps); entries written before hold a map.
 */
export const eventAttribute = (event: PlanEvent, format: PlanItemFormat = 'gzip'): string | PlanEvent => (format === 'nested' ? event : JSON.stringify(event));

export function eventOfItem(item: Item): PlanEvent {
  return (typeof item.event === 'string' ? JSON.parse(item.event) : item.event) as PlanEvent;
}
