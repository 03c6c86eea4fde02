import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { createTableInput } from '../adapters/dynamodb/table-definition.ts';

export class DataDirectoryTooOld extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataDirectoryTooOld';
  }
}

async function tableStatus(client: DynamoDBClient, tableName: string) {
  try {
    return (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table;
  } catch (error) {
    if ((error as Error).name === 'ResourceNotFoundException') return undefined;
    throw error;
  }
}

async function untilActive(client: DynamoDBClient, tableName: string) {
  for (let i = 0; i < 200; i += 1) {
    const table = await tableStatus(client, tableName);
    if (table?.TableStatus === 'ACTIVE' && (table.GlobalSecondaryIndexes ?? []).every((g) => g.IndexStatus === 'ACTIVE')) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`table ${tableName} did not become active`);
}

/** Create the table if it is missing and wait until it is active; refuse a table from an older definition. */
async function ensureTable(client: DynamoDBClient, tableName: string) {
  const wanted = createTableInput(tableName);
  const table = await tableStatus(client, tableName);
  if (!table) {
    await client.send(new CreateTableCommand(wanted));
    await untilActive(client, tableName);
    return;
  }
  const have = new Set((table.GlobalSecondaryIndexes ?? []).map((g) => g.IndexName));
  const missing = wanted.GlobalSecondaryIndexes.filter((g) => !have.has(g.IndexName)).map((g) => g.IndexName);
  // dynalite cannot add an index to an existing table, so an older data directory is refused plainly.
  if (missing.length > 0)
    throw new DataDirectoryTooOld(`The data directory was made by an older Wraparound (its table lacks the ${missing.join(', ')} index${missing.length > 1 ? 'es' : ''}). Move it aside or pass another --data-dir; nothing was changed.`);
  await untilActive(client, tableName);
}

export interface LocalStore {
  endpoint: string;
  close(): Promise<void>;
}

/** Fixed credentials: dynalite checks that a request is signed, not by whom. */
export const LOCAL_AWS = { region: 'eu-west-2', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } as const;

/**
 * dynalite on a free loopback port: persistent under `<dataDir>/dynalite` (LevelDB), or in memory.
 * The table is created from the same definition the CDK stack uses, if it is not there yet.
 */
export async function startLocalStore(options: { dataDir?: string; inMemory: boolean; tableName: string }): Promise<LocalStore> {
  let path: string | undefined;
  if (!options.inMemory) {
    path = `${options.dataDir ?? './.data'}/dynalite`;
    await mkdir(path, { recursive: true });
  }
  const server = dynalite({ ...(path ? { path } : {}), createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({ ...LOCAL_AWS, endpoint });
  try {
    await ensureTable(client, options.tableName);
  } finally {
    client.destroy();
  }
  return {
    endpoint,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // dynalite keeps its LevelDB open until the server closes; force idle sockets shut.
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  };
}
