import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Readable } from 'node:stream';

/**
 * `localStore`: the store is the embedded stack's own dynalite, so the request steps that only speak
 * to AWS are left out: the user-agent headers (built and escaped on every request: ~2 % of the stack's
 * thread at 8 clients) and the X-Ray trace header of Lambda's recursion detection. Two costs per
 * request of the SDK itself are cut too: its answers are read by `collectResponseBody`, and the document
 * client sends with its settings in a fast-properties copy (`withFastSettings`). The rest (middlewares,
 * retries and their strategy, serialization, NodeHttpHandler with its timeouts) is the SDK's own.
 */
export function makeDocumentClient(config: DynamoDBClientConfig = {}, options: { localStore?: boolean } = {}): DynamoDBDocumentClient {
  const client = new DynamoDBClient(options.localStore ? { streamCollector: collectResponseBody, ...config } : config);
  if (options.localStore) {
    client.middlewareStack.remove('getUserAgentMiddleware');
    client.middlewareStack.remove('recursionDetectionMiddleware');
  }
  const documentClient = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
    unmarshallOptions: { wrapNumbers: false },
  });
  return options.localStore ? withFastSettings(documentClient) : documentClient;
}

/**
 * A response's body as bytes, gathered from its 'data' events. The SDK's default collector pipes the
 * response into a Writable of its own and joins the chunks on its 'finish': a second stream's
 * machinery per request, 40–70 µs of the ~370 µs of CPU a request to dynalite cost the stack's
 * thread (Node 24, 8 at once). An answer from the local store is a few kB, most often one chunk, returned as
 * it came. A failed or cut answer rejects, as with the default, and the SDK retries it.
 */
function collectResponseBody(body: unknown): Promise<Uint8Array> {
  const stream = body as Readable;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.once('end', () => resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)));
    stream.once('error', reject);
  });
}

/**
 * The SDK copies the client's whole resolved configuration (about 50 settings) into a new object three
 * times per request (`{ ...config, ...context }` in the serializer and deserializer middlewares,
 * `{ ...config }` in the endpoint middleware). The configuration is built by a chain of
 * Object.assign and defineProperty steps that leave it in V8's dictionary mode, and copying a
 * dictionary-mode object costs ~6 µs against ~1.3 µs for the same settings in a fast-properties object
 * (Node 24, with a canned answer: the SDK's own CPU per request ~80 → ~74 µs).
 * The document client, whose `config` every `send` reads, gets such a copy: the same values and the
 * same accessors (the credentials getter still reads the original), copied once. The middlewares the
 * client was built with keep the original object; the one setting the SDK changes later, the clock
 * offset its SigV4 signer takes from answers' Date headers, is read by that signer from the original.
 */
function withFastSettings(documentClient: DynamoDBDocumentClient): DynamoDBDocumentClient {
  const settings = Object.defineProperties({}, Object.getOwnPropertyDescriptors(documentClient.config)) as DynamoDBDocumentClient['config'];
  (documentClient as { config: DynamoDBDocumentClient['config'] }).config = settings;
  return documentClient;
}

const TRANSIENT = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'TransactionConflictException',
]);

/** Storage errors a retry can cure carry one name, so the state machine's Retry can match them. */
export class TransientStorageError extends Error {
  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.name = 'TransientStorageError';
  }
}

export function isTransient(error: unknown): boolean {
  const name = (error as { name?: string } | undefined)?.name ?? '';
  const code = (error as { code?: string } | undefined)?.code ?? '';
  return TRANSIENT.has(name) || ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT'].includes(code) || name === 'TimeoutError';
}

/** A conditional write refused because its condition did not hold (the expected outcome of a race, not a fault). */
export const conditionFailed = (error: unknown): boolean => (error as Error).name === 'ConditionalCheckFailedException';

/** Rethrow transient storage failures under one retryable name; anything else as it is. */
export function storageError(error: unknown): Error {
  return isTransient(error) ? new TransientStorageError(error) : (error as Error);
}
