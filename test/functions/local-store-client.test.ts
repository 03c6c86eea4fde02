/**
 * The embedded stack's DynamoDB client leaves out the request steps that only speak to AWS (user-agent
 * headers, Lambda's X-Ray recursion header) and still reads and writes its dynalite; a client for AWS
 * keeps them. It reads answers with a collector of its own (client.ts): a page of many chunks is read
 * whole, and an answer cut short, a 5xx or a throttling error is retried as the SDK retries them.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTransient, makeDocumentClient } from '../../lib/adapters/dynamodb/client.ts';
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

  it('for the local store reads an answer of many chunks whole', async () => {
    const client = makeDocumentClient({ ...LOCAL_AWS, endpoint: store.endpoint }, { localStore: true });
    const items = [1, 2, 3].map((n) => ({ pk: 'LOCAL#big', sk: `ITEM#${n}`, text: String(n).repeat(300_000) }));
    for (const Item of items) await client.send(new PutCommand({ TableName: TABLE, Item }));
    const page = await client.send(new QueryCommand({ TableName: TABLE, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': 'LOCAL#big' } }));
    expect(page.Items).toEqual(items);
    client.destroy();
  });
});

/**
 * A stand-in for the store that answers each GetItem with the next of `answers`, then with an item:
 * 'cut' sends half a body and closes the connection, a number that status with a DynamoDB error.
 */
async function flakyStore(answers: ('cut' | 500 | 'throttled')[]) {
  const item = JSON.stringify({ Item: { pk: { S: 'LOCAL#1' }, sk: { S: 'ITEM' }, n: { N: '1' } } });
  let requests = 0;
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const answer = answers[requests];
      requests += 1;
      if (answer === 'cut') {
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0', 'content-length': String(item.length) });
        res.write(item.slice(0, 20));
        setImmediate(() => res.socket?.destroy());
      } else if (answer === 500) {
        res.writeHead(500, { 'content-type': 'application/x-amz-json-1.0' }).end(JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: 'try again' }));
      } else if (answer === 'throttled') {
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' }).end(JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException', message: 'slow down' }));
      } else {
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end(item);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: () => requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('the local store client retries as the SDK does', () => {
  it.each([
    ['an answer cut short', 'cut'],
    ['a 500', 500],
    ['a throttling error', 'throttled'],
  ] as const)('%s, then answers', async (_name, failure) => {
    const flaky = await flakyStore([failure]);
    const client = makeDocumentClient({ ...LOCAL_AWS, endpoint: flaky.endpoint, maxAttempts: 3 }, { localStore: true });
    try {
      const answer = await client.send(new GetCommand({ TableName: TABLE, Key: { pk: 'LOCAL#1', sk: 'ITEM' } }));
      expect(answer.Item).toEqual({ pk: 'LOCAL#1', sk: 'ITEM', n: 1 });
      expect(answer.$metadata.attempts).toBe(2);
      expect(flaky.requests()).toBe(2);
    } finally {
      client.destroy();
      await flaky.close();
    }
  });

  it('answers cut short every time: fails after its attempts, with a retryable error', async () => {
    const flaky = await flakyStore(['cut', 'cut', 'cut']);
    const client = makeDocumentClient({ ...LOCAL_AWS, endpoint: flaky.endpoint, maxAttempts: 3 }, { localStore: true });
    try {
      const failed = await client.send(new GetCommand({ TableName: TABLE, Key: { pk: 'LOCAL#1', sk: 'ITEM' } })).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(isTransient(failed)).toBe(true);
      expect(flaky.requests()).toBe(3);
    } finally {
      client.destroy();
      await flaky.close();
    }
  });
});
