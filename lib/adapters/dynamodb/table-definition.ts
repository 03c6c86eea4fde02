import { INDEXES, TABLE_KEYS, TTL_ATTRIBUTE, type IndexName } from './keys.ts';

/**
 * The one definition of the table. The CDK stack builds the DynamoDB table from it and the embedded
 * stack creates the dynalite table from it, so the two cannot drift apart.
 */
export const TABLE_NAME_DEFAULT = 'wraparound';

/** What an index holds besides its own and the table's keys. */
export type IndexProjection = { type: 'ALL' } | { type: 'KEYS_ONLY' } | { type: 'INCLUDE'; nonKeyAttributes: string[] };

export interface IndexDefinition {
  name: string;
  partitionKey: string;
  sortKey: string;
  projection: IndexProjection;
}

export interface TableDefinition {
  partitionKey: string;
  sortKey: string;
  timeToLiveAttribute: string;
  indexes: IndexDefinition[];
}

/**
 * A plan item is 10–25 KB and every plan write would rewrite it whole into each index that projects
 * ALL of it (most of the table's write cost). So the plan indexes hold keys only and their queries
 * fetch the plans themselves (lib/adapters/dynamodb/batch-get.ts); an index entry whose keys did not
 * change then costs no write at all. byStage also carries `identityErasedAt`, the one attribute its
 * retention query filters on. byPending keeps ALL: webhook deliveries are small and read from it, and so
 * are the provider allocation views it also holds while they are open offers (keys.openOfferIndex).
 * byAuditPlan keeps ALL too: it holds audit records only (a few hundred bytes, written once and never
 * changed), the audit page shows every attribute of one, and keys only would add a read of each record
 * from the table to every page for no write saved.
 */
const INDEX_PROJECTIONS: Record<IndexName, IndexProjection> = {
  byStage: { type: 'INCLUDE', nonKeyAttributes: ['identityErasedAt'] },
  byDue: { type: 'KEYS_ONLY' },
  byOutbox: { type: 'KEYS_ONLY' },
  byAlert: { type: 'KEYS_ONLY' },
  byPending: { type: 'ALL' },
  byWork: { type: 'KEYS_ONLY' },
  byAuditPlan: { type: 'ALL' },
};

export const TABLE_DEFINITION: TableDefinition = {
  partitionKey: TABLE_KEYS.partitionKey,
  sortKey: TABLE_KEYS.sortKey,
  timeToLiveAttribute: TTL_ATTRIBUTE,
  indexes: (Object.keys(INDEXES) as IndexName[]).map((name) => ({ name, ...INDEXES[name], projection: INDEX_PROJECTIONS[name] })),
};

/** DynamoDB's Projection of an index (the CreateTable shape). */
function projectionOf(projection: IndexProjection) {
  return projection.type === 'INCLUDE' ? { ProjectionType: 'INCLUDE' as const, NonKeyAttributes: [...projection.nonKeyAttributes] } : { ProjectionType: projection.type };
}

/**
 * The CreateTable request for the embedded store (and for tests), on-demand like the real table.
 * A data directory made before the plan indexes held keys only keeps its ALL indexes: every query
 * over them fetches the plans from the table, which works with either projection.
 */
export function createTableInput(tableName: string) {
  const attributes = new Set([TABLE_DEFINITION.partitionKey, TABLE_DEFINITION.sortKey, ...TABLE_DEFINITION.indexes.flatMap((i) => [i.partitionKey, i.sortKey])]);
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST' as const,
    AttributeDefinitions: [...attributes].map((name) => ({ AttributeName: name, AttributeType: 'S' as const })),
    KeySchema: [
      { AttributeName: TABLE_DEFINITION.partitionKey, KeyType: 'HASH' as const },
      { AttributeName: TABLE_DEFINITION.sortKey, KeyType: 'RANGE' as const },
    ],
    GlobalSecondaryIndexes: TABLE_DEFINITION.indexes.map((index) => ({
      IndexName: index.name,
      KeySchema: [
        { AttributeName: index.partitionKey, KeyType: 'HASH' as const },
        { AttributeName: index.sortKey, KeyType: 'RANGE' as const },
      ],
      Projection: projectionOf(index.projection),
    })),
  };
}
