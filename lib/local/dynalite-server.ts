import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { createTableInput } from '../adapters/dynamodb/table-definition.ts';

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
    await client.send(new DescribeTableCommand({ TableName: options.tableName }));
  } catch (error) {
    if ((error as Error).name !== 'ResourceNotFoundException') throw error;
    await client.send(new CreateTableCommand(createTableInput(options.tableName)));
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
