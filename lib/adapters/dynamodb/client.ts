import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * `localStore`: the store is the embedded stack's own dynalite, so the request steps that only speak
 * to AWS are left out: the user-agent headers (built and escaped on every request: ~2 % of the stack's
 * thread at 8 clients) and the X-Ray trace header of Lambda's recursion detection.
 */
export function makeDocumentClient(config: DynamoDBClientConfig = {}, options: { localStore?: boolean } = {}): DynamoDBDocumentClient {
  const client = new DynamoDBClient(config);
  if (options.localStore) {
    client.middlewareStack.remove('getUserAgentMiddleware');
    client.middlewareStack.remove('recursionDetectionMiddleware');
  }
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
    unmarshallOptions: { wrapNumbers: false },
  });
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

/** Rethrow transient storage failures under one retryable name; anything else as it is. */
export function storageError(error: unknown): Error {
  return isTransient(error) ? new TransientStorageError(error) : (error as Error);
}
