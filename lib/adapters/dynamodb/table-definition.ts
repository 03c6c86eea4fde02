import { INDEXES, TABLE_KEYS, TTL_ATTRIBUTE } from './keys.ts';

/**
 * The one definition of the table. The CDK stack builds the DynamoDB table from it and the embedded
 * stack creates the dynalite table from it, so the two cannot drift apart.
 */
export const TABLE_NAME_DEFAULT = 'wraparound';

export interface TableDefinition {
  partitionKey: string;
  sortKey: string;
  timeToLiveAttribute: string;
  indexes: { name: string; partitionKey: string; sortKey: string }[];
}

export const TABLE_DEFINITION: TableDefinition = {
  partitionKey: TABLE_KEYS.partitionKey,
  sortKey: TABLE_KEYS.sortKey,
  timeToLiveAttribute: TTL_ATTRIBUTE,
  indexes: Object.entries(INDEXES).map(([name, k]) => ({ name, partitionKey: k.partitionKey, sortKey: k.sortKey })),
};

/** The CreateTable request for the embedded store (and for tests), on-demand like the real table. */
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
      Projection: { ProjectionType: 'ALL' as const },
    })),
  };
}
