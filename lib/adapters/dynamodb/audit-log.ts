import { randomUUID } from 'node:crypto';
import { PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { keys } from './keys.ts';
import { storageError } from './client.ts';
import type { GroupPut } from './group-put.ts';
import type { AuditEntry, AuditRecord } from './audit-record.ts';

/**
 * The audit log: who read or wrote identity or plan detail, in which role, what, when and why.
 * Append-only: records are only ever created (never overwritten: the write is conditional) and no
 * route updates or deletes them. On AWS the table's resource policy denies UpdateItem, DeleteItem and
 * BatchWriteItem on AUDIT# keys to everyone, and PutItem to all but the audit writers.
 */
export interface AuditLog {
  record(entry: AuditEntry): Promise<void>;
}

export class DynamoAuditLog implements AuditLog {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  /**
   * The embedded stack group-commits records with other requests' puts. A batched put carries no
   * condition; the record's key holds a random UUID, so it still never meets an existing record.
   */
  private readonly groupPut: GroupPut | undefined;
  constructor(client: DynamoDBDocumentClient, tableName: string, options: { groupPut?: GroupPut } = {}) {
    this.client = client;
    this.tableName = tableName;
    this.groupPut = options.groupPut;
  }

  /** Resolves once the record is stored: only then may the action it records go ahead. */
  async record(entry: AuditEntry): Promise<void> {
    const auditId = randomUUID();
    const item = { ...keys.audit(entry.at.slice(0, 10), entry.at, auditId), type: 'audit', auditId, ...entry };
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
   */
  async query(from: string, to: string, options: { planId?: string; limit?: number; cursor?: string } = {}): Promise<AuditPage> {
    const limit = options.limit ?? 500;
    const after = options.cursor === undefined ? undefined : decodeAuditCursor(options.cursor, from, to);
    // One record past the limit tells whether a cursor is needed: the last page carries none.
    const found: { record: AuditRecord; sk: string }[] = [];
    for (let day = after ? after.slice(0, 10) : from; day <= to && found.length <= limit; day = nextDay(day)) {
      const { pk } = keys.audit(day, '', '');
      let start: Record<string, unknown> | undefined = after && after.startsWith(day) ? { pk, sk: after } : undefined;
      do {
        const out = await this.client
          .send(
            new QueryCommand({
              TableName: this.tableName,
              KeyConditionExpression: 'pk = :pk',
              ...(options.planId ? { FilterExpression: 'planId = :plan' } : {}),
              ExpressionAttributeValues: { ':pk': pk, ...(options.planId ? { ':plan': options.planId } : {}) },
              ExclusiveStartKey: start,
            }),
          )
          .catch((error: unknown) => {
            throw storageError(error);
          });
        for (const item of out.Items ?? []) {
          const { pk: _pk, sk, type: _type, ...rest } = item;
          found.push({ record: rest as AuditRecord, sk: sk as string });
        }
        start = out.LastEvaluatedKey;
      } while (start && found.length <= limit);
    }
    const page = found.slice(0, limit);
    const last = page.at(-1);
    return { items: page.map((f) => f.record), ...(found.length > limit && last ? { nextCursor: encodeAuditCursor(last.sk) } : {}) };
  }
}

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

function nextDay(day: string): string {
  const d = new Date(`${day}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}
