import { randomUUID } from 'node:crypto';
import { GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient, type QueryCommandInput, type QueryCommandOutput } from '@aws-sdk/lib-dynamodb';
import { addCalendarDays } from '../../domain/calendar.ts';
import { MAX_AUDIT_DAYS } from '../../domain/vocabulary.ts';
import { keys } from './keys.ts';
import { conditionFailed, storageError } from './client.ts';
import type { GroupPut } from './group-put.ts';
import type { AuditEntry, AuditOutcome, AuditRecord, AuditRecordRef } from './audit-record.ts';

/**
 * The audit log: who read or wrote identity or plan detail, in which role, what, when and why.
 * Append-only: records are only ever created (never overwritten: the write is conditional) and no
 * route updates or deletes them. On AWS the table's resource policy denies UpdateItem, DeleteItem and
 * BatchWriteItem on AUDIT# keys to everyone, and PutItem to all but the audit writers.
 */
export interface AuditLog {
  /** Resolves once the record is stored, with where it is (a log that keeps no outcomes may give nothing). */
  record(entry: AuditEntry): Promise<AuditRecordRef | void>;
  /** File how the change a stored record is the attempt of ended; its reader shows it on that record. */
  recordOutcome?(attempt: AuditRecordRef, outcome: AuditOutcome): Promise<void>;
}

export class DynamoAuditLog implements AuditLog {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  /**
   * The embedded stack group-commits records with other requests' puts. A batched put carries no
   * condition; the record's key holds a random UUID, so it still never meets an existing record.
   */
  private readonly groupPut: GroupPut | undefined;
  /** The marker's first indexed day once read at its protected key (it never changes once written), else undefined. */
  private indexedFrom: string | undefined;
  constructor(client: DynamoDBDocumentClient, tableName: string, options: { groupPut?: GroupPut } = {}) {
    this.client = client;
    this.tableName = tableName;
    this.groupPut = options.groupPut;
  }

  /**
   * Resolves once the record is stored: only then may the action it records go ahead. A record about a
   * plan carries that plan's byAuditPlan key, written with it (records are never updated afterwards).
   */
  async record(entry: AuditEntry): Promise<AuditRecordRef> {
    const auditId = randomUUID();
    const item = { ...keys.audit(entry.at.slice(0, 10), entry.at, auditId), ...(entry.planId ? keys.auditPlanIndex(entry.planId) : {}), type: 'audit', auditId, ...entry };
    await this.put(item);
    return { auditId, at: entry.at, ...(entry.planId ? { planId: entry.planId } : {}) };
  }

  /**
   * How the change a record is the attempt of ended. Records are never updated, so the outcome is an item
   * of its own, at the record's key plus `#outcome` (it sorts right after the record, in its day and in
   * byAuditPlan), created once like a record; query() gives it out on the record it belongs to.
   */
  async recordOutcome(attempt: AuditRecordRef, outcome: AuditOutcome): Promise<void> {
    await this.put({
      ...keys.auditOutcome(attempt.at.slice(0, 10), attempt.at, attempt.auditId),
      // With the record's plan and index key, so a plan's query (filtered or through the index) meets it too.
      ...(attempt.planId ? { ...keys.auditPlanIndex(attempt.planId), planId: attempt.planId } : {}),
      type: 'audit-outcome',
      outcome,
    });
  }

  private async put(item: Record<string, unknown>): Promise<void> {
    if (this.groupPut) return this.groupPut.put([item]);
    try {
      await this.client.send(new PutCommand({ TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }));
    } catch (error) {
      throw storageError(error);
    }
  }

  /**
   * Records of the UTC days from `from` to `to` (inclusive), optionally about one plan, oldest first,
   * at most `limit` of them. `nextCursor` is there whenever more records follow: pass it as `cursor`
   * (with the same from, to and plan) to read on after the last record returned. It holds that
   * record's key, not DynamoDB's page position, so a page that ends inside a DynamoDB page skips and
   * repeats nothing. Throws BadAuditCursor for a cursor this method did not return for these days.
   *
   * About one plan, the days from the marker's first indexed day on are read through byAuditPlan (that
   * plan's records only, at most one past the limit); earlier days, whose records may predate the
   * index key, are read whole and filtered, as every day is without a plan or without a marker. Those
   * days are at most MAX_AUDIT_DAYS past the first (AuditRangeTooLong otherwise: see wholeDaysTooLong).
   */
  async query(from: string, to: string, options: { planId?: string; limit?: number; cursor?: string } = {}): Promise<AuditPage> {
    const limit = options.limit ?? 500;
    const after = options.cursor === undefined ? undefined : decodeAuditCursor(options.cursor, from, to);
    const { planId } = options;
    const indexedFrom = planId ? await this.planIndexFrom() : undefined;
    const tooLong = planId ? wholeDaysTooLong(from, to, indexedFrom) : undefined;
    if (tooLong) throw new AuditRangeTooLong(tooLong);
    // One record past the limit tells whether a cursor is needed: the last page carries none.
    const found: { record: AuditRecord; sk: string }[] = [];
    for (let day = after ? after.slice(0, 10) : from; day <= to && (indexedFrom === undefined || day < indexedFrom) && found.length <= limit; day = addCalendarDays(day, 1)) {
      const { pk } = keys.audit(day, '', '');
      let start: Record<string, unknown> | undefined = after && after.startsWith(day) ? { pk, sk: after } : undefined;
      do {
        const out = await this.queryPage({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ...(planId ? { FilterExpression: 'planId = :plan' } : {}),
          ExpressionAttributeValues: { ':pk': pk, ...(planId ? { ':plan': planId } : {}) },
          ExclusiveStartKey: start,
        });
        for (const item of out.Items ?? []) take(found, item);
        start = out.LastEvaluatedKey;
      } while (start && found.length <= limit);
    }
    const first = indexedFrom !== undefined && indexedFrom > from ? indexedFrom : from;
    if (planId && indexedFrom !== undefined && first <= to && found.length <= limit) {
      const auditPlanPk = keys.auditPlanPartition(planId);
      // '~' sorts after 'T': every `<to>T…#<auditId>` key is below it.
      let start: Record<string, unknown> | undefined = after && after >= first ? { auditPlanPk, pk: keys.audit(after.slice(0, 10), '', '').pk, sk: after } : undefined;
      do {
        const out = await this.queryPage({
          TableName: this.tableName,
          IndexName: 'byAuditPlan',
          KeyConditionExpression: 'auditPlanPk = :pk AND sk BETWEEN :first AND :last',
          ExpressionAttributeValues: { ':pk': auditPlanPk, ':first': first, ':last': `${to}~` },
          ExclusiveStartKey: start,
          Limit: limit + 1 - found.length,
        });
        for (const item of out.Items ?? []) take(found, item);
        start = out.LastEvaluatedKey;
      } while (start && found.length <= limit);
    }
    const page = found.slice(0, limit);
    const last = page.at(-1);
    return { items: page.map((f) => f.record), ...(found.length > limit && last ? { nextCursor: encodeAuditCursor(last.sk) } : {}) };
  }

  /**
   * Say that every record about a plan from `day` (a UTC day) on carries its byAuditPlan key, so that
   * plan queries read those days through the index. Written once, at a key under AUDIT# (keys.ts), so
   * nobody moves it afterwards: the put is create-only like a record's, and on AWS the table's policy
   * denies every principal the update, delete or batch write of it. A later call changes nothing (the
   * answer says whether this one wrote it). Only what writes every record with the key may say so:
   * the embedded stack when it creates its table; on AWS, the sweeper (see markAuditPlanIndex there).
   */
  async markPlanIndexFrom(day: string): Promise<boolean> {
    try {
      await this.client.send(new PutCommand({ TableName: this.tableName, Item: planIndexMarkerItem(day), ConditionExpression: 'attribute_not_exists(pk)' }));
      return true;
    } catch (error) {
      if (conditionFailed(error)) return false;
      throw storageError(error);
    }
  }

  /** The first day plan queries read through byAuditPlan, or undefined (no marker: every day is read whole). */
  async planIndexFrom(): Promise<string | undefined> {
    if (this.indexedFrom !== undefined) return this.indexedFrom;
    const markers = await this.planIndexMarkers();
    // Only the protected marker is kept: the old one may still be copied over, or (unprotected) changed.
    if (markers.marked) this.indexedFrom = markers.indexedFrom;
    return markers.indexedFrom;
  }

  /**
   * The marker that governs plan queries. `marked`: the marker is at its protected key, and `indexedFrom`
   * is its day (undefined if it holds no day: then every day is read whole). Otherwise `indexedFrom` is the
   * day of the marker releases before 2026-11-28 wrote at the old key, if there is one: trusted only
   * until the protected marker exists, which the sweeper writes with the same day (so no answer changes).
   */
  async planIndexMarkers(): Promise<{ marked: boolean; indexedFrom: string | undefined }> {
    const marker = await this.markerItem(keys.auditPlanIndexMarker());
    if (marker) return { marked: true, indexedFrom: dayOf(marker) };
    return { marked: false, indexedFrom: dayOf(await this.markerItem(keys.oldAuditPlanIndexMarker())) };
  }

  private markerItem(key: { pk: string; sk: string }): Promise<Record<string, unknown> | undefined> {
    return this.client.send(new GetCommand({ TableName: this.tableName, Key: key })).then(
      (out) => out.Item,
      (error: unknown) => {
        throw storageError(error);
      },
    );
  }

  private queryPage(input: QueryCommandInput): Promise<QueryCommandOutput> {
    return this.client.send(new QueryCommand(input)).catch((error: unknown) => {
      throw storageError(error);
    });
  }
}

/**
 * Why a plan query whose days before the index's start (all of them, without a marker) span more than
 * MAX_AUDIT_DAYS past the first is refused, not read: each such day is read whole, one Query or more a
 * day, so three years of them on a table given byAuditPlan after records were written would be ~1,000
 * Queries, past the API function's timeout (a 5xx for a valid-looking request). Refused, not cut short,
 * because an audit answer that silently leaves days out would read as "nobody looked"; the refusal
 * names the earliest `from` that is read in one go (with this `to`), so a client can ask again from
 * there and read the days before it a month at a time, as every day is read over everyone's records.
 * Undefined when the query is within bounds.
 */
export function wholeDaysTooLong(from: string, to: string, indexedFrom: string | undefined): { earliestFrom: string; planIndexFrom?: string } | undefined {
  if (indexedFrom !== undefined && indexedFrom <= from) return undefined;
  const lastWholeDay = indexedFrom !== undefined && indexedFrom <= to ? addCalendarDays(indexedFrom, -1) : to;
  const earliestFrom = addCalendarDays(lastWholeDay, -MAX_AUDIT_DAYS);
  if (from >= earliestFrom) return undefined;
  return { earliestFrom, ...(indexedFrom !== undefined ? { planIndexFrom: indexedFrom } : {}) };
}

/** A plan query wholeDaysTooLong refuses: the API's 400 names `from` and the earliest day it may be. */
export class AuditRangeTooLong extends Error {
  readonly earliestFrom: string;
  /** The first day read through the plan's index; absent while the table has no marker (every day is read whole). */
  readonly planIndexFrom: string | undefined;
  constructor(bound: { earliestFrom: string; planIndexFrom?: string }) {
    super(
      bound.planIndexFrom === undefined
        ? `at most ${MAX_AUDIT_DAYS} days before to about one plan while the plan index has no start day (its records are read a day at a time): from ${bound.earliestFrom} at the earliest`
        : `at most ${MAX_AUDIT_DAYS} days before ${bound.planIndexFrom} about one plan (its records before that day, when the plan index starts, are read a day at a time): from ${bound.earliestFrom} at the earliest, and the days before it a month at a time`,
    );
    this.name = 'AuditRangeTooLong';
    this.earliestFrom = bound.earliestFrom;
    this.planIndexFrom = bound.planIndexFrom;
  }
}

/** A day before any record: the marker of a table that had byAuditPlan from its creation. */
export const AUDIT_PLAN_INDEX_FROM_THE_START = '0000-01-01';

/** The marker item saying that every record about a plan from `day` on carries its byAuditPlan key. */
function planIndexMarkerItem(day: string) {
  if (!AUDIT_DAY.test(day)) throw new Error(`the audit index marker takes a UTC day (YYYY-MM-DD), not ${day}`);
  return { ...keys.auditPlanIndexMarker(), type: 'audit-index-marker', indexedFrom: day };
}

/** A marker item's first indexed day, if it holds one. */
function dayOf(marker: Record<string, unknown> | undefined): string | undefined {
  const day = marker?.indexedFrom;
  return typeof day === 'string' && AUDIT_DAY.test(day) ? day : undefined;
}

/**
 * Add an item read in key order to the records found: a record, or the outcome of the record just
 * before it (its key is that record's plus `#outcome`), given out on that record. Only records count
 * towards a page's limit; reading one record past it has read the last record's outcome too. An outcome
 * whose record is not among those found (it ended the page before) is left: that page gave it out.
 */
function take(found: { record: AuditRecord; sk: string }[], item: Record<string, unknown>): void {
  if (item.type !== 'audit-outcome') {
    found.push(recordOf(item));
    return;
  }
  const last = found.at(-1);
  if (last && item.sk === `${last.sk}#outcome`) last.record.outcome = item.outcome as AuditOutcome;
}

/** A stored audit record as the log gives it out: without its keys, index key and item type. */
function recordOf(item: Record<string, unknown>): { record: AuditRecord; sk: string } {
  const { pk: _pk, sk, type: _type, auditPlanPk: _auditPlanPk, ...rest } = item;
  return { record: rest as unknown as AuditRecord, sk: sk as string };
}

const AUDIT_DAY = /^\d{4}-\d{2}-\d{2}$/;

export interface AuditPage {
  items: AuditRecord[];
  /** Present when more records follow; absent on the last page. */
  nextCursor?: string;
}

export class BadAuditCursor extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BadAuditCursor';
  }
}

/** A record's sort key: `<at>#<auditId>`, `at` a UTC instant whose first ten characters are its day. */
const AUDIT_SORT_KEY = /^(\d{4}-\d{2}-\d{2})T[^#]+#[0-9a-f-]{36}$/;

function encodeAuditCursor(sk: string): string {
  return Buffer.from(JSON.stringify({ after: sk })).toString('base64url');
}

/** The sort key to read on after; the cursor must be one query() returned for a day within from..to. */
export function decodeAuditCursor(cursor: string, from: string, to: string): string {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new BadAuditCursor('is not a cursor this API returned');
  }
  const after = (value as { after?: unknown } | null)?.after;
  const day = typeof after === 'string' ? AUDIT_SORT_KEY.exec(after)?.[1] : undefined;
  if (typeof after !== 'string' || !day) throw new BadAuditCursor('is not a cursor this API returned');
  if (day < from || day > to) throw new BadAuditCursor(`points at ${day}, outside from..to (${from} to ${to}): ask again with the from and to it came with`);
  return after;
}
