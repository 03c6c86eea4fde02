/**
 * The embedded stack's DynamoDB client leaves out the request steps that only speak to AWS (user-agent
 * headers, Lambda's X-Ray recursion header) and still reads and writes its dynalite; a client for AWS
 * keeps them.
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDocumentClient } from '../../lib/adapters/dynamodb/client.ts';
import { LOCAL_AWS, startLocalStore, type LocalStore } from '../../lib/local/dynalite-server.ts';

const TABLE = 'wraparound-local-client-test';
let store: LocalStore;

beforeAll(async () => {
  store = await startLocalStore({ inMemory: true, tableName: TABLE });
});
afterAll(async () => {
  await store?.close();
});

/** The headers of each request the client sends, as they leave it. */
function headersSent(client: ReturnType<typeof makeDocumentClient>) {
  const sent: Record<string, string>[] = [];
  client.middlewareStack.add(
    (next) => async (args) => {
      sent.push({ ...((args.request as { headers?: Record<string, string> }).headers ?? {}) });
      return next(args);
    },
    { step: 'finalizeRequest', name: 'captureHeaders', priority: 'low' },
  );
  return sent;
}

describe('makeDocumentClient', () => {
  it('for the local store sends no user-agent or trace headers, and works', async () => {
    const client = makeDocumentClient({ ...LOCAL_AWS, endpoint: store.endpoint }, { localStore: true });
    const sent = headersSent(client);
    await client.send(new PutCommand({ TableName: TABLE, Item: { pk: 'LOCAL#1', sk: 'ITEM', n: 1 } }));
    expect((await client.send(new GetCommand({ TableName: TABLE, Key: { pk: 'LOCAL#1', sk: 'ITEM' } }))).Item).toEqual({ pk: 'LOCAL#1', sk: 'ITEM', n: 1 });
    expect(sent).toHaveLength(2);
    for (const headers of sent) expect(Object.keys(headers).filter((h) => /user-agent|x-amzn-trace-id/i.test(h))).toEqual([]);
    client.destroy();
  });

  it('for AWS keeps its user-agent headers', async () => {
    const client = makeDocumentClient({ ...LOCAL_AWS, endpoint: store.endpoint });
    const sent = headersSent(client);
    await client.send(new GetCommand({ TableName: TABLE, Key: { pk: 'LOCAL#1', sk: 'ITEM' } }));
    expect(Object.keys(sent[0] ?? {}).some((h) => /user-agent/i.test(h))).toBe(true);
    client.destroy();
  });
});
