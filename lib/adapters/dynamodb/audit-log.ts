import { randomUUID } from 'node:crypto';
import { PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { keys } from './keys.ts';
import { storageError } from './client.ts';
import type { GroupPut } from './group-put.ts';

/**
 * The audit log: who read or wrote identity or plan detail, in which role, what, when and why.
 * Append-only: records are only ever created (never overwritten: the write is conditional) and no
 * route updates or deletes them. On AWS the table's resource policy denies UpdateItem, DeleteItem and
 * BatchWriteItem on AUDIT# keys to everyone, and PutItem to all but the audit writers.
 */
export interface AuditEntry {
  who: string;
  role: string;
  action: string;
  planId?: string;
  participantId?: string;
  allocationId?: string;
  providerId?: string;
  why: string;
  at: string;
}

export interface AuditRecord extends AuditEntry {
  auditId: string;
}

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

  /** Records of the days from `from` to `to` (inclusive), optionally about one plan, oldest first. */
  async query(from: string, to: string, filter: { planId?: string } = {}, limit = 500): Promise<AuditRecord[]> {
    const records: AuditRecord[] = [];
    for (let day = from; day <= to && records.length < limit; day = nextDay(day)) {
      let start: Record<string, unknown> | undefined;
      do {
        const { pk } = keys.audit(day, '', '');
        const out = await this.client
          .send(
            new QueryCommand({
              TableName: this.tableName,
              KeyConditionExpression: 'pk = :pk',
              ...(filter.planId ? { FilterExpression: 'planId = :plan' } : {}),
              ExpressionAttributeValues: { ':pk': pk, ...(filter.planId ? { ':plan': filter.planId } : {}) },
              ExclusiveStartKey: start,
            }),
          )
          .catch((error: unknown) => {
            throw storageError(error);
          });
        for (const item of out.Items ?? []) {
          const { pk: _pk, sk: _sk, type: _type, ...rest } = item;
          records.push(rest as AuditRecord);
        }
        start = out.LastEvaluatedKey;
      } while (start && records.length < limit);
    }
    return records.slice(0, limit);
  }
}

function nextDay(day: string): string {
  const d = new Date(`${day}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}
