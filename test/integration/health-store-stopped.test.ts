/**
 * /health is what a supervisor watches. When the store's process stops under the stack (dynalite exits
 * on a full disk: "IO error … No space left on device"), every request fails 500 from then on; /health
 * answered 200 {"status":"ok"} all the same. Now it is a 503 problem+json saying the store stopped.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startEmbeddedStack, type EmbeddedStack } from '../../lib/local/embedded-stack.ts';

describe('GET /health on the embedded stack', () => {
  let stack: EmbeddedStack | undefined;
  let dataDir: string | undefined;
  afterEach(async () => {
    await stack?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
    vi.restoreAllMocks();
  });

  it('is 200 while the store runs, and 503 naming the store once its process has stopped', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'health-store-'));
    stack = await startEmbeddedStack({ dataDir, port: 0, sweepIntervalMs: 0, webDistDir: false, webhooks: { intervalMs: 0 }, storeProcess: 'child' });
    const before = await fetch(`${stack.url}/health`);
    expect(before.status).toBe(200);
    expect(await before.json()).toEqual({ status: 'ok' });

    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    const exited = new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (logged.mock.calls.some(([message]) => String(message).includes('stopped unexpectedly'))) {
          clearInterval(poll);
          resolve();
        }
      }, 10);
    });
    process.kill(stack.store.pid, 'SIGKILL');
    await exited;

    const after = await fetch(`${stack.url}/health`);
    expect(after.status).toBe(503);
    expect(after.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const body = (await after.json()) as { status: number; detail: string };
    expect(body.status).toBe(503);
    expect(body.detail).toContain(`The local store (dynalite, pid ${stack.store.pid}) stopped unexpectedly (SIGKILL)`);
  });

  // The store can stop serving without exiting: hung, or stopped by a signal. /health reads it to know.
  it('is 503 while the store process is there but does not answer, and 200 again once it does', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'health-store-'));
    stack = await startEmbeddedStack({ dataDir, port: 0, sweepIntervalMs: 0, webDistDir: false, webhooks: { intervalMs: 0 }, storeProcess: 'child' });
    expect((await fetch(`${stack.url}/health`)).status).toBe(200);

    process.kill(stack.store.pid, 'SIGSTOP');
    try {
      const hung = await fetch(`${stack.url}/health`);
      expect(hung.status).toBe(503);
      expect(hung.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(((await hung.json()) as { detail: string }).detail).toContain('The local store did not answer a read within 2 seconds');
    } finally {
      process.kill(stack.store.pid, 'SIGCONT');
    }
    const back = await fetch(`${stack.url}/health`);
    expect(back.status).toBe(200);
    expect(await back.json()).toEqual({ status: 'ok' });
  });
});
