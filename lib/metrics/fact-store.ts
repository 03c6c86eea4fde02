import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ALL_SHARDS, shardOf } from '../adapters/dynamodb/keys.ts';
import { batchPut } from '../adapters/dynamodb/batch.ts';
import { batchGet } from '../adapters/dynamodb/batch-get.ts';
import { conditionFailed, storageError } from '../adapters/dynamodb/client.ts';
import { FACTS_SCHEMA_VERSION, type PlanFacts } from '../domain/metrics/facts.ts';

/**
 * The metrics projection in the single table: one small item per plan holding its facts as a JSON
 * string (cheap to read back in bulk), spread over the same shards as the other indexes.
 *
 *   item                 pk                         sk
 *   plan facts           METRICS#FACTS#<shard>      PLAN#<planId>      schema, version (plan version), facts (JSON)
 *   projection marker    METRICS#META               FACTS              schema, builtAt: every plan has facts of this schema;
 *                                                                          snapshot: the token of the columns file that holds
 *                                                                          exactly these facts (lib/metrics/snapshot.ts), if any;
 *                                                                          rebuild: on AWS, where the sweeper's rebuild of every
 *                                                                          plan's facts at its release's schema has got to
 *                                                                          (FactsRebuild); while there is one the marker has no
 *                                                                          schema: no release's facts are all there
 *
 * (These keys belong with the others in lib/adapters/dynamodb/keys.ts; they are here until that
 * module takes them.) The plan id stays in the key, for updates; it never leaves through the API.
 */
export const metricsKeys = {
  facts: (planId: string) => ({ pk: metricsKeys.factsPartition(shardOf(planId)), sk: `PLAN#${planId}` }),
  factsPartition: (shard: number) => `METRICS#FACTS#${shard}`,
  marker: () => ({ pk: 'METRICS#META', sk: 'FACTS' }),
};

/**
 * How far the AWS rebuild of every plan's facts at `schema` has got (functions/sweeper/facts-backfill.ts):
 * the plans of the stages before `stage` are done, and those of `stage` up to `cursor` (a listByStage
 * cursor; none: from its start). `step` counts the advances, so a run that read an older position
 * cannot move it (a conditional update on it).
 */
export interface FactsRebuild {
  schema: number;
  stage: string;
  cursor?: string;
  step: number;
  plans: number;
  startedAt: string;
}

export interface FactsMarker {
  /** Every plan has stored facts of this store's schema. */
  complete: boolean;
  /** The token of the snapshot file that holds exactly the stored facts, if the (complete) marker names one. */
  snapshot?: string;
  rebuild?: FactsRebuild;
}

export class FactStore {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  /**
   * The facts schema this code writes and reads: FACTS_SCHEMA_VERSION; another only in tests that play
   * two releases against one table (a deploy, its rollback and the deploy again).
   */
  readonly schema: number;
  constructor(client: DynamoDBDocumentClient, tableName: string, schema: number = FACTS_SCHEMA_VERSION) {
    this.client = client;
    this.tableName = tableName;
    this.schema = schema;
  }

  private item(planId: string, facts: PlanFacts) {
    return { ...metricsKeys.facts(planId), type: 'metrics-facts', schema: this.schema, version: facts.version, facts: JSON.stringify(facts) };
  }

  /** Store a plan's facts unless newer ones (from a later plan version) are already there. */
  async put(planId: string, facts: PlanFacts): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: this.item(planId, facts),
          ConditionExpression: 'attribute_not_exists(pk) OR #version < :version OR #schema <> :schema',
          ExpressionAttributeNames: { '#version': 'version', '#schema': 'schema' },
          ExpressionAttributeValues: { ':version': facts.version, ':schema': this.schema },
        }),
      );
    } catch (error) {
      if (conditionFailed(error)) return;
      throw storageError(error);
    }
  }

  /** Overwrite many (a rebuild from the plans themselves). */
  async putMany(entries: readonly [string, PlanFacts][]): Promise<void> {
    await batchPut(this.client, this.tableName, entries.map(([planId, facts]) => this.item(planId, facts)));
  }

  /**
   * Hand every stored plan's facts of the current schema to `take`, one shard after another in pages
   * of `pageSize` items, so only one modest page is in memory at a time (the caller keeps the facts
   * compactly, see FactTable). `stale` counts items of another schema; `unreadable` names the plans
   * whose facts are not JSON of facts FactTable can take (damaged: only a hand edit or a bug writes that), which are left
   * out like stale ones instead of failing the whole read.
   */
  async loadEach(take: (planId: string, facts: PlanFacts) => void, pageSize = 250): Promise<{ loaded: number; stale: number; unreadable: string[] }> {
    let loaded = 0;
    let stale = 0;
    const unreadable: string[] = [];
    for (const shard of ALL_SHARDS) {
      let start: Record<string, unknown> | undefined;
      do {
        const out = await this.factsPage(shard, 'sk, #schema, facts', pageSize, start);
        for (const item of out.Items ?? []) {
          const planId = String(item.sk).slice('PLAN#'.length);
          if (item.schema !== this.schema) {
            stale += 1;
            continue;
          }
          const facts = parsedFacts(item.facts);
          if (facts) {
            take(planId, facts);
            loaded += 1;
          } else unreadable.push(planId);
        }
        start = out.LastEvaluatedKey;
      } while (start);
    }
    return { loaded, stale, unreadable };
  }

  /**
   * The stored facts of `planIds` (consistent reads, BatchGetItem: 100 a request): each plan's facts,
   * or why they cannot be used (of another schema, damaged); a plan with none stored is not in the map.
   * For a start from a snapshot, which reads back only the plans changed since.
   */
  async getFactsOf(planIds: readonly string[]): Promise<Map<string, { facts: PlanFacts } | { unusable: string }>> {
    const items = await batchGet(this.client, this.tableName, planIds.map((planId) => metricsKeys.facts(planId)), { consistent: true });
    const found = new Map<string, { facts: PlanFacts } | { unusable: string }>();
    for (const item of items) {
      const planId = String(item.sk).slice('PLAN#'.length);
      if (item.schema !== this.schema) found.set(planId, { unusable: `facts of schema ${String(item.schema)}` });
      else {
        const facts = parsedFacts(item.facts);
        found.set(planId, facts ? { facts } : { unusable: 'facts that cannot be read' });
      }
    }
    return found;
  }

  /**
   * One page of a facts shard: how many items it read, the plans whose stored facts are of another schema, and where the next
   * page starts (JSON of the last key read; absent after the last page). Only keys and schemas are read.
   */
  async staleFactsPage(shard: number, limit: number, cursor?: string): Promise<{ read: number; planIds: string[]; nextCursor?: string }> {
    const out = await this.factsPage(shard, 'sk, #schema', limit, cursor ? (JSON.parse(cursor) as Record<string, unknown>) : undefined);
    const planIds = (out.Items ?? []).filter((item) => item.schema !== this.schema).map((item) => String(item.sk).slice('PLAN#'.length));
    return { read: out.Items?.length ?? 0, planIds, ...(out.LastEvaluatedKey ? { nextCursor: JSON.stringify(out.LastEvaluatedKey) } : {}) };
  }

  /** One page of a facts shard's items, with the attributes `projection` names (`#schema` for schema). */
  private async factsPage(shard: number, projection: string, limit: number, start: Record<string, unknown> | undefined): Promise<{ Items?: Record<string, unknown>[]; LastEvaluatedKey?: Record<string, unknown> }> {
    return this.client
      .send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': metricsKeys.factsPartition(shard) },
          ProjectionExpression: projection,
          ExpressionAttributeNames: { '#schema': 'schema' },
          ExclusiveStartKey: start,
          Limit: limit,
        }),
      )
      .catch((error: unknown) => {
        throw storageError(error);
      });
  }

  /** The metrics marker item (consistent read), if there is one. */
  private async readMarker(): Promise<Record<string, unknown> | undefined> {
    const out = await this.client.send(new GetCommand({ TableName: this.tableName, Key: metricsKeys.marker(), ConsistentRead: true })).catch((error: unknown) => {
      throw storageError(error);
    });
    return out.Item;
  }

  /** Whether every plan has stored facts of this schema (a rebuild finished). */
  async isComplete(): Promise<boolean> {
    return (await this.marker()).complete;
  }

  /** Name `token` as the snapshot of the stored facts (only on a complete marker of this schema); whether it was named. */
  nameSnapshot(token: string): Promise<boolean> {
    return this.updateMarker({
      UpdateExpression: 'SET #snapshot = :token',
      ConditionExpression: '#schema = :schema',
      names: { '#snapshot': 'snapshot', '#schema': 'schema' },
      values: { ':token': token, ':schema': this.schema },
    });
  }

  /** No snapshot holds the stored facts any more (they are about to change). */
  async forgetSnapshot(): Promise<void> {
    await this.updateMarker({ UpdateExpression: 'REMOVE #snapshot', ConditionExpression: 'attribute_exists(#snapshot)', names: { '#snapshot': 'snapshot' } });
  }

  /** The marker, read once: whether it is complete, the snapshot it names, the AWS rebuild's position. */
  async marker(): Promise<FactsMarker> {
    const item = await this.readMarker();
    const complete = item?.schema === this.schema;
    const rebuild = item?.rebuild as FactsRebuild | undefined;
    return { complete, ...(complete && typeof item?.snapshot === 'string' ? { snapshot: item.snapshot } : {}), ...(rebuild ? { rebuild } : {}) };
  }

  /** A conditional update of the marker; false when its condition does not hold. */
  private async updateMarker(input: { UpdateExpression: string; ConditionExpression: string; names: Record<string, string>; values?: Record<string, unknown> }): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: metricsKeys.marker(),
          UpdateExpression: input.UpdateExpression,
          ConditionExpression: input.ConditionExpression,
          ExpressionAttributeNames: input.names,
          ExpressionAttributeValues: input.values,
        }),
      );
      return true;
    } catch (error) {
      if (conditionFailed(error)) return false;
      throw storageError(error);
    }
  }

  /**
   * Move the rebuild from `from` (undefined: none at this schema yet, so it starts, over one toward
   * another schema if there is one) to `to`; false when the marker is no longer at `from` (another run
   * moved it, or the rebuild finished), or, for a start, when a rebuild at this schema is already under way.
   *
   * The marker's schema goes (and a snapshot named with it): while facts are being rewritten no
   * release's facts are all there. So a release rolled back to, even one from before this rule, finds
   * its marker incomplete and its sweeper starts the rebuild over toward its own schema (its facts had
   * been rewritten), and this release, deployed again, finds a rebuild toward another schema and starts
   * over too (its own rebuilt facts may have been rewritten meanwhile): neither resumes over the other's writes.
   */
  advanceRebuild(from: FactsRebuild | undefined, to: FactsRebuild): Promise<boolean> {
    const schemaNotCurrent = '(attribute_not_exists(#schema) OR #schema <> :schema)';
    return this.updateMarker({
      UpdateExpression: 'SET #rebuild = :to, #type = if_not_exists(#type, :type) REMOVE #schema, #snapshot',
      ConditionExpression: from
        ? `${schemaNotCurrent} AND #rebuild.#step = :step AND #rebuild.#schema = :schema`
        : `${schemaNotCurrent} AND (attribute_not_exists(#rebuild) OR #rebuild.#schema <> :schema)`,
      names: { '#rebuild': 'rebuild', '#schema': 'schema', '#type': 'type', '#snapshot': 'snapshot', ...(from ? { '#step': 'step' } : {}) },
      values: { ':to': to, ':schema': this.schema, ':type': 'metrics-marker', ...(from ? { ':step': from.step } : {}) },
    });
  }

  /** The rebuild at `from` covered every plan: the marker says so (its schema), and no longer holds a position. */
  finishRebuild(from: FactsRebuild, builtAt: string): Promise<boolean> {
    return this.updateMarker({
      UpdateExpression: 'SET #schema = :schema, #builtAt = :builtAt REMOVE #rebuild, #snapshot',
      ConditionExpression: '#rebuild.#step = :step AND #rebuild.#schema = :schema',
      names: { '#rebuild': 'rebuild', '#schema': 'schema', '#step': 'step', '#builtAt': 'builtAt', '#snapshot': 'snapshot' },
      values: { ':schema': this.schema, ':step': from.step, ':builtAt': builtAt },
    });
  }

  /**
   * A Lambda container's view of isComplete: once the marker says every plan's facts are of this
   * schema it stays so for this code (kept for good); until then it is asked again after `recheckMs`.
   */
  completeness(recheckMs = 60_000, now: () => number = Date.now): () => Promise<boolean> {
    let complete = false;
    let checkedAt: number | undefined;
    return async () => {
      if (complete) return true;
      if (checkedAt === undefined || now() - checkedAt > recheckMs) {
        complete = await this.isComplete();
        checkedAt = now();
      }
      return complete;
    };
  }

  async markComplete(builtAt: string): Promise<void> {
    await this.client.send(new PutCommand({ TableName: this.tableName, Item: { ...metricsKeys.marker(), type: 'metrics-marker', schema: this.schema, builtAt } })).catch((error: unknown) => {
      throw storageError(error);
    });
  }
}

/** The lists FactTable walks in every plan's facts (an offer's own `needs` too). */
const FACT_LISTS = ['needs', 'providers', 'offers', 'gaps', 'reviews', 'scoreChanges'] as const;

/**
 * A fact item's `facts` as stored, or undefined when it is not JSON of an object with a numeric version
 * and the lists FactTable walks: an object without them (`{"version":3}`) would fail the whole read there.
 */
function parsedFacts(stored: unknown): PlanFacts | undefined {
  if (typeof stored !== 'string') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(stored);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const facts = value as Record<string, unknown>;
  if (typeof facts.version !== 'number' || !FACT_LISTS.every((list) => Array.isArray(facts[list]))) return undefined;
  if (!(facts.offers as unknown[]).every((offer) => typeof offer === 'object' && offer !== null && Array.isArray((offer as { needs?: unknown }).needs))) return undefined;
  return value as PlanFacts;
}
