import { fork, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createTableInput } from '../adapters/dynamodb/table-definition.ts';
import type { IndexName } from '../adapters/dynamodb/keys.ts';
import { AUDIT_PLAN_INDEX_FROM_THE_START, DynamoAuditLog } from '../adapters/dynamodb/audit-log.ts';
import { PlanRepository } from '../adapters/dynamodb/plan-repository.ts';
import { closeDynalite, closeIteratorsWhenDynaliteReturnsThem, DYNALITE_TIMINGS, type ChildMessage, type DynaliteChildOptions, type ParentMessage } from './dynalite-child-protocol.js';

/** Another stack (or program) holds the data directory's store: LevelDB allows one process at a time. */
export class DataDirectoryInUse extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataDirectoryInUse';
  }
}

/**
 * The store cannot open or write its data directory (not a directory, not writable, the disk full): the
 * message names the directory and the system's reason, so the start is refused in one plain line.
 */
export class DataDirectoryUnusable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataDirectoryUnusable';
  }
}

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

/**
 * Indexes the code reads only where the table says it has them: the audit log reads byAuditPlan only once
 * the marker written with a new table is there, so a data directory from before it keeps its table and
 * reads a plan's audit records day by day, as it did.
 */
const INDEXES_READ_ONLY_WHERE_MARKED: ReadonlySet<string> = new Set<IndexName>(['byAuditPlan']);

/**
 * A table that has byAuditPlan was made by code that writes the key on every audit record about a plan,
 * so plan queries may read every day through it: its marker says so (put once; a start after a crash
 * between creating the table and putting it puts it then).
 */
async function markAuditPlanIndex(client: DynamoDBClient, tableName: string) {
  await new DynamoAuditLog(DynamoDBDocumentClient.from(client), tableName).markPlanIndexFrom(AUDIT_PLAN_INDEX_FROM_THE_START);
}

/** Create the table if it is missing and wait until it is active; refuse a table from an older definition. */
async function ensureTable(client: DynamoDBClient, tableName: string) {
  const wanted = createTableInput(tableName);
  const table = await tableStatus(client, tableName);
  if (!table) {
    await client.send(new CreateTableCommand(wanted));
    await untilActive(client, tableName);
    await markAuditPlanIndex(client, tableName);
    // Every allocation view this table will hold is written with its open-offer key. Only here: a table
    // that was already there may hold views of an older release, which the sweeper keys first.
    await new PlanRepository(DynamoDBDocumentClient.from(client), tableName).markOpenOffersIndexedFromTheStart(new Date().toISOString());
    return;
  }
  const have = new Set((table.GlobalSecondaryIndexes ?? []).map((g) => g.IndexName));
  const missing = wanted.GlobalSecondaryIndexes.filter((g) => !have.has(g.IndexName) && !INDEXES_READ_ONLY_WHERE_MARKED.has(g.IndexName)).map((g) => g.IndexName);
  // dynalite cannot add an index to an existing table, so an older data directory is refused plainly.
  if (missing.length > 0)
    throw new DataDirectoryTooOld(`The data directory was made by an older Wraparound (its table lacks the ${missing.join(', ')} index${missing.length > 1 ? 'es' : ''}). Move it aside or pass another --data-dir; nothing was changed.`);
  await untilActive(client, tableName);
  if (have.has('byAuditPlan')) await markAuditPlanIndex(client, tableName);
}

/** Where dynalite runs: a forked Node process of its own, or on the stack's thread. */
export type StoreProcess = 'child' | 'in-process';

export interface LocalStore {
  endpoint: string;
  process: StoreProcess;
  /** The dynalite process (this process's pid when in process). */
  pid: number;
  /**
   * Why the store stopped when nobody stopped it (a dynalite child that exited: a full disk, a damaged
   * file), or undefined while it runs: every storage request fails from then on, so /health says so.
   */
  stoppedUnexpectedly(): string | undefined;
  close(): Promise<void>;
}

/**
 * dynalite only checks that an Authorization header of the SigV4 shape and a date are there, never the
 * signature, so the local clients send a fixed one instead of signing every request (SigV4 signing was
 * a good part of the SDK's share of the stack's CPU).
 */
const UNSIGNED_AUTHORIZATION = 'AWS4-HMAC-SHA256 Credential=local/20260101/eu-west-2/dynamodb/aws4_request, SignedHeaders=host, Signature=local';
export const localStoreSigner = {
  sign: async <T extends { headers: Record<string, string> }>(request: T): Promise<T> => {
    request.headers.authorization = UNSIGNED_AUTHORIZATION;
    request.headers['x-amz-date'] = '20260101T000000Z';
    return request;
  },
};

/** Enough sockets for the stack's concurrent requests (the bench drives 32 clients, each command several requests). */
const LOCAL_STORE_MAX_SOCKETS = 128;

/**
 * Client settings for the local store: fixed credentials, no signing, and a keep-alive agent.
 * `requestHandler` is a getter so that every client spread from this object (`{ ...LOCAL_AWS, endpoint }`)
 * gets its own handler: `client.destroy()` destroys its handler's agent, which must not close another
 * client's sockets.
 */
export const LOCAL_AWS = {
  region: 'eu-west-2',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  signer: localStoreSigner,
  get requestHandler() {
    // Handler options, not a handler: the client builds its NodeHttpHandler from them.
    return { httpAgent: new http.Agent({ keepAlive: true, maxSockets: LOCAL_STORE_MAX_SOCKETS }) };
  },
} as const;

const CHILD_MODULE = new URL('./dynalite-child.js', import.meta.url);

/**
 * The child's environment: glibc gives every thread that mallocs its own arena (up to 8 per core), and
 * LevelDB's threads live in this process; two arenas keep their resident memory down (measured in the
 * README's Benchmarks). It has to be in the environment before the process starts, hence here.
 */
const childEnv = () => ({ ...process.env, MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2' });

/** Fork lib/local/dynalite-child.js and wait for the port it listens on. */
async function forkDynalite(options: DynaliteChildOptions): Promise<{ child: ChildProcess; port: number }> {
  // execArgv: none of ours (--expose-gc, --inspect, a test runner's loaders) belong in the store's process.
  // A 2 MB young generation: dynalite's garbage is short-lived request data, and with V8's default (16 MB
  // semi-spaces) its heap grew to ~200 MB anonymous at 100,000 plans against ~100 MB with this; its CPU per
  // request did not measurably change (README, Benchmarks). A heap limit, though far above what dynalite
  // keeps live (a request's items, a page of at most 1 MB, up to 16 MB for a BatchGetItem), makes V8
  // collect before it grows: reading every fact item at 100,000 plans took the child's anonymous memory to
  // ~90 MB without one and ~65 MB with 96, 192 or 256 MB (README, Benchmarks).
  const child = fork(CHILD_MODULE, [JSON.stringify(options)], { execArgv: ['--max-semi-space-size=2', '--max-old-space-size=256'], env: childEnv(), stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'json' });
  const port = await new Promise<number>((resolve, reject) => {
    const onMessage = (message: ChildMessage) => {
      if (message.type === 'listening') done(() => resolve(message.port));
      else if (message.type === 'failed' && message.reason === 'in-use' && options.path)
        done(() => reject(new DataDirectoryInUse(`The data directory ${dirname(options.path as string)} is in use by another Wraparound (or another program holds its store): stop that one first, or pass another --data-dir. Nothing was changed.`)));
      else if (message.type === 'failed' && options.path)
        done(() => reject(new DataDirectoryUnusable(`The data directory ${dirname(options.path as string)} cannot be used: its store could not start (${message.message}). Free space or fix its permissions, or pass another --data-dir.`)));
      else if (message.type === 'failed') done(() => reject(new Error(`the local store could not start: ${message.message}`)));
    };
    const onExit = (code: number | null, signal: string | null) => done(() => reject(new Error(`the local store exited while starting (${signal ?? `code ${code}`})`)));
    const onError = (error: Error) => done(() => reject(error));
    const done = (settle: () => void) => {
      child.off('message', onMessage).off('exit', onExit).off('error', onError);
      settle();
    };
    child.on('message', onMessage).on('exit', onExit).on('error', onError);
  });
  return { child, port };
}

function closeChild(child: ChildProcess, timeoutMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    // The child answers `closed` and exits once LevelDB is closed; the exit is what we wait for.
    child.channel?.ref();
    if (child.connected) child.send({ type: 'close' } satisfies ParentMessage);
    else child.kill('SIGTERM');
  });
}

/**
 * dynalite on a free loopback port: persistent under `<dataDir>/dynalite` (LevelDB), or in memory; in a
 * forked child process (`process: 'child'`) or on this thread (`'in-process'`).
 * The table is created from the same definition the CDK stack uses, if it is not there yet.
 */
export async function startLocalStore(options: { dataDir?: string; inMemory: boolean; tableName: string; process?: StoreProcess }): Promise<LocalStore> {
  let path: string | undefined;
  if (!options.inMemory) {
    path = `${options.dataDir ?? './.data'}/dynalite`;
    try {
      await mkdir(path, { recursive: true });
    } catch (error) {
      throw new DataDirectoryUnusable(`The data directory ${options.dataDir ?? './.data'} cannot be used: ${(error as Error).message}. Pass a directory this user can write to with --data-dir.`);
    }
  }
  // The default: a child process for a store on disk (`npm start`, the bench, the fault and restart
  // tests), so dynalite's CPU, about a third of a command's, is on the second core; on this thread for an
  // in-memory store. In-memory stores are the tests' (a few hundred stacks, each holding a few plans):
  // for them a forked Node process per stack costs start-up CPU and memory and buys little (measured:
  // README, Benchmarks). `wraparound start` asks for a child process even with --in-memory.
  const mode = options.process ?? (options.inMemory ? 'in-process' : 'child');
  let store: LocalStore;
  if (mode === 'child') {
    const { child, port } = await forkDynalite(path ? { path } : {});
    let closing: Promise<void> | undefined;
    let stopped: string | undefined;
    child.on('exit', (code, signal) => {
      if (closing) return;
      stopped = `The local store (dynalite, pid ${child.pid}) stopped unexpectedly (${signal ?? `exit code ${code}`}); storage requests will fail until the stack is restarted.`;
      console.error(stopped);
    });
    // Neither the child nor its channel keep this process alive: a stack nobody stopped must not hang
    // its process, and when this process goes, the child sees the channel close and exits.
    child.unref();
    child.channel?.unref();
    store = { endpoint: `http://127.0.0.1:${port}`, process: 'child', pid: child.pid as number, stoppedUnexpectedly: () => stopped, close: () => (closing ??= closeChild(child)) };
  } else {
    // Imported here only: a stack whose store runs in a child process never loads dynalite (and its
    // LevelDB binding) into its own memory (~24 MB resident).
    const { default: dynalite } = await import('dynalite');
    closeIteratorsWhenDynaliteReturnsThem();
    const server = dynalite({ ...(path ? { path } : {}), ...DYNALITE_TIMINGS });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    let closing: Promise<void> | undefined;
    store = { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, process: 'in-process', pid: process.pid, stoppedUnexpectedly: () => undefined, close: () => (closing ??= closeDynalite(server)) };
  }
  const client = new DynamoDBClient({ ...LOCAL_AWS, endpoint: store.endpoint });
  try {
    await ensureTable(client, options.tableName);
  } catch (error) {
    await store.close();
    throw error;
  } finally {
    client.destroy();
  }
  return store;
}
