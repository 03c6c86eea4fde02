/**
 * A stack that cannot start (its port is taken) leaves nothing running behind it: its local store
 * (dynalite, a child process for a store on disk, holding the data directory's LevelDB lock) is
 * closed, so the same data directory starts at once on another port, and no timer of its runs on.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startEmbeddedStack } from '../../lib/local/embedded-stack.ts';

describe('a stack that fails to start', () => {
  it('closes its store, so the data directory can be used again at once', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'wraparound-failed-start-'));
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      // Nor a metrics snapshot timer, which would go on writing through the closed store.
      let snapshotTimers = 0;
      const metricsSnapshots = { schedule: () => ((snapshotTimers += 1), () => {}) };
      await expect(startEmbeddedStack({ dataDir, port, host: '127.0.0.1', webDistDir: false, sweepIntervalMs: 0, metricsSnapshots })).rejects.toMatchObject({ code: 'EADDRINUSE' });
      expect(snapshotTimers).toBe(0);
      const stack = await startEmbeddedStack({ dataDir, port: 0, host: '127.0.0.1', webDistDir: false, sweepIntervalMs: 0 });
      try {
        expect((await fetch(`${stack.url}/health`)).status).toBe(200);
      } finally {
        await stack.stop();
      }
    } finally {
      taken.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
