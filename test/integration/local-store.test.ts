/**
 * The local store's process: dynalite runs in a child process of the stack (lib/local/dynalite-child.js).
 * It must never outlive the stack, close LevelDB cleanly so a data directory opens again, and a stack
 * stopped under load must let what is in flight finish: every caller gets a real answer or a refused
 * connection, never a 500 from a store closed under it.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TABLE_NAME_DEFAULT } from '../../lib/adapters/dynamodb/table-definition.ts';
import { DataDirectoryInUse, LOCAL_AWS, startLocalStore, type StoreProcess } from '../../lib/local/dynalite-server.ts';
import { startEmbeddedStack, type EmbeddedStack } from '../../lib/local/embedded-stack.ts';
import { anotherParticipant, controllableClock, makeCall, referral, START } from '../support/http.ts';

const DYNALITE_SERVER = new URL('../../lib/local/dynalite-server.ts', import.meta.url).href;

/** Whether a process is still there (a zombie waiting for its parent to reap it counts as gone). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return true;
  }
}

async function until(condition: () => boolean, what: string, waitMs = 15_000): Promise<void> {
  for (let waited = 0; !condition(); waited += 50) {
    if (waited > waitMs) throw new Error(`${what}: still not so after ${waitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * A separate Node process that starts a child-process store on `dataDir`, prints the child's pid and
 * then waits (or, with `crash`, throws an uncaught error as soon as it has printed).
 */
function parentWithStore(dataDir: string, crash = false) {
  const code = `
    const { startLocalStore } = await import(${JSON.stringify(DYNALITE_SERVER)});
    const store = await startLocalStore({ dataDir: process.env.DATA_DIR, inMemory: false, tableName: ${JSON.stringify(TABLE_NAME_DEFAULT)}, process: 'child' });
    console.log(JSON.stringify({ pid: store.pid, endpoint: store.endpoint }));
    if (process.env.CRASH) setTimeout(() => { throw new Error('the stack crashed'); }, 50);
    setInterval(() => {}, 1000);
  `;
  const parent = spawn(process.execPath, ['--input-type=module', '-e', code], { env: { ...process.env, DATA_DIR: dataDir, ...(crash ? { CRASH: '1' } : {}) }, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => parent.once('exit', () => resolve()));
  const started = new Promise<{ pid: number; endpoint: string }>((resolve, reject) => {
    let out = '';
    let err = '';
    parent.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0] as string));
    });
    parent.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    parent.once('exit', (code) => reject(new Error(`the parent exited before its store started (${code}): ${err}`)));
  });
  return { parent, started, exited };
}

async function documentClient(endpoint: string) {
  return DynamoDBDocumentClient.from(new DynamoDBClient({ ...LOCAL_AWS, endpoint }));
}

describe('the local store in a child process', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'wraparound-store-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('runs dynalite in another process, and a closed store opens again on the same directory with its data', async () => {
    const first = await startLocalStore({ dataDir, inMemory: false, tableName: TABLE_NAME_DEFAULT, process: 'child' });
    expect(first.pid).not.toBe(process.pid);
    expect(alive(first.pid)).toBe(true);
    const client = await documentClient(first.endpoint);
    await client.send(new PutCommand({ TableName: TABLE_NAME_DEFAULT, Item: { pk: 'TEST#reopen', sk: 'A', written: 'before the close' } }));
    client.destroy();
    await first.close();
    expect(alive(first.pid)).toBe(false);

    const second = await startLocalStore({ dataDir, inMemory: false, tableName: TABLE_NAME_DEFAULT, process: 'child' });
    try {
      const again = await documentClient(second.endpoint);
      const read = await again.send(new GetCommand({ TableName: TABLE_NAME_DEFAULT, Key: { pk: 'TEST#reopen', sk: 'A' } }));
      again.destroy();
      expect(read.Item?.written).toBe('before the close');
    } finally {
      await second.close();
    }
  });

  it('refuses a second store on a directory another one holds, saying it is in use, and leaves the first working', async () => {
    const first = await startLocalStore({ dataDir, inMemory: false, tableName: TABLE_NAME_DEFAULT, process: 'child' });
    try {
      const refused = startLocalStore({ dataDir, inMemory: false, tableName: TABLE_NAME_DEFAULT, process: 'child' });
      await expect(refused).rejects.toBeInstanceOf(DataDirectoryInUse);
      await expect(refused).rejects.toThrow(`The data directory ${dataDir} is in use by another Wraparound`);
      const client = await documentClient(first.endpoint);
      await client.send(new PutCommand({ TableName: TABLE_NAME_DEFAULT, Item: { pk: 'TEST#in-use', sk: 'A', written: 'after the refusal' } }));
      const read = await client.send(new GetCommand({ TableName: TABLE_NAME_DEFAULT, Key: { pk: 'TEST#in-use', sk: 'A' }, ConsistentRead: true }));
      client.destroy();
      expect(read.Item?.written).toBe('after the refusal');
    } finally {
      await first.close();
    }
  });

  for (const [how, crash] of [
    ['killed with SIGKILL', false],
    ['crashing on an uncaught error', true],
  ] as const) {
    it(`dies with the stack's process when that is ${how}, leaving LevelDB closed`, async () => {
      const { parent, started, exited } = parentWithStore(dataDir, crash);
      const { pid, endpoint } = await started;
      expect(pid).not.toBe(parent.pid);
      expect(alive(pid)).toBe(true);
      // Really serving, before the parent goes.
      const client = await documentClient(endpoint);
      await client.send(new PutCommand({ TableName: TABLE_NAME_DEFAULT, Item: { pk: `TEST#${how}`, sk: 'A' } }));
      client.destroy();
      if (!crash) parent.kill('SIGKILL');
      await exited;
      await until(() => !alive(pid), `the store process ${pid} after its parent went`);
      // The LevelDB lock was released: the directory opens again, with what was written.
      const store = await startLocalStore({ dataDir, inMemory: false, tableName: TABLE_NAME_DEFAULT, process: 'child' });
      try {
        const reader = await documentClient(store.endpoint);
        const read = await reader.send(new GetCommand({ TableName: TABLE_NAME_DEFAULT, Key: { pk: `TEST#${how}`, sk: 'A' } }));
        reader.destroy();
        expect(read.Item).toBeDefined();
      } finally {
        await store.close();
      }
    });
  }
});

describe.each<StoreProcess>(['child', 'in-process'])('stopping the stack under load (store %s)', (storeProcess) => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'wraparound-stop-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('answers every command in flight or refuses the connection, never a 500, and every plan it created is there after a restart', async () => {
    const clock = controllableClock(START);
    const options = { inMemory: false, dataDir, port: 0, sweepIntervalMs: 0, clock, webDistDir: false as const, webhooks: { intervalMs: 0 }, storeProcess };
    let stack: EmbeddedStack | undefined;
    let stopped: Promise<void> | undefined;
    let executions = 0;
    let succeeded = 0;
    stack = await startEmbeddedStack({
      ...options,
      // Stop while the burst is being served: some executions under way, more requests queued behind them.
      // Each execution is slowed down (a slow store, say), so the ones in flight outlast everything in
      // stop() but its wait for them.
      wrapWorkflow: (inner) => ({
        startSync: async (input) => {
          executions += 1;
          if (executions === 4) stopped = stack?.stop();
          await new Promise((resolve) => setTimeout(resolve, 1_500));
          const outcome = await inner.startSync(input);
          if (outcome.status === 'SUCCEEDED') succeeded += 1;
          return outcome;
        },
      }),
    });
    const coordinator = (stack.demoUsers.find((u) => u.role === 'coordinator') as { token: string }).token;
    const call = makeCall(stack.url);
    const burst = await Promise.all(
      Array.from({ length: 40 }, () =>
        call('POST', '/plans', { token: coordinator, body: referral({ participant: anotherParticipant() }) }).then(
          (res) => ({ status: res.status, planId: res.json?.planId as string | undefined, text: res.text }),
          (error: Error & { cause?: { code?: string } }) => ({ status: 0, planId: undefined, text: error.cause?.code ?? error.message }),
        ),
      ),
    );
    await stopped;
    expect(stopped, 'stop() was called during the burst').toBeDefined();

    const fiveHundreds = burst.filter((r) => r.status >= 500 && r.status !== 503);
    expect(fiveHundreds, JSON.stringify(fiveHundreds.slice(0, 3))).toEqual([]);
    // A 503 is the stack saying it is stopping (as problem+json); anything else must be a connection the
    // stack never took up: refused once the port is closed, or reset when the port closed while it was
    // still in the kernel's queue of connections not yet accepted (the check on executions below shows
    // that no command that ran is among them).
    for (const r of burst.filter((b) => b.status === 503)) expect(JSON.parse(r.text).detail).toMatch(/stopping/);
    expect(burst.filter((r) => r.status === 0).map((r) => r.text).filter((code) => code !== 'ECONNREFUSED' && code !== 'ECONNRESET')).toEqual([]);
    const created = burst.filter((r) => r.status === 201);
    // Not vacuous: the commands under way when stop() was called were let finish.
    expect(created.length).toBeGreaterThanOrEqual(4);
    expect(created.length + burst.filter((r) => r.status === 503 || r.status === 0).length).toBe(burst.length);
    // And no command that ran lost its answer.
    expect(created.length).toBe(succeeded);

    stack = await startEmbeddedStack(options);
    try {
      const again = makeCall(stack.url);
      const token = (stack.demoUsers.find((u) => u.role === 'coordinator') as { token: string }).token;
      for (const { planId } of created) {
        const res = await again('GET', `/plans/${planId}`, { token });
        expect(res.status, res.text).toBe(200);
        expect(res.json.stage).toBe('referred');
      }
    } finally {
      await stack.stop();
    }
  });
});
