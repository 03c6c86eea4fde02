/**
 * A secret being made by one process is never read half written by another (a `token` beside the first
 * `start` on a new data directory). Made in place, the file was there empty between its creation and its
 * write, and the other process refused it as damaged ('holds 0 characters: restore it from a backup'),
 * seen in 3 of 25 rounds of six processes. Here the first maker's write is held open between the two.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';

const gate = vi.hoisted(() => {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  let created!: () => void;
  const firstCreated = new Promise<void>((resolve) => (created = resolve));
  return { open, opened, created, firstCreated, held: false };
});

vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...fs,
    // The first write: its file is created empty, then written only once the gate opens.
    writeFile: async (...args: Parameters<typeof fs.writeFile>) => {
      if (gate.held) return fs.writeFile(...args);
      gate.held = true;
      const [path, data, options] = args;
      await fs.writeFile(path, '', options);
      gate.created();
      await gate.opened;
      return fs.writeFile(path, data);
    },
  };
});

const { localSecret } = await import('../../lib/local/secrets.ts');

describe('localSecret while another maker is writing it', () => {
  let dir: string;
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('is not read empty: both makers get the one secret on disk', async () => {
    dir = await mkdtemp(join(tmpdir(), 'local-secret-'));
    const first = localSecret(dir, 'jwt-secret');
    await gate.firstCreated;
    const second = localSecret(dir, 'jwt-secret');
    // The second maker runs its course while the first one's write is held.
    await second.then(
      () => undefined,
      () => undefined,
    );
    gate.open();
    const [a, b] = await Promise.all([first, second]);
    const onDisk = (await readFile(join(dir, 'jwt-secret'), 'utf8')).trim();
    expect(a.toString('hex')).toBe(onDisk);
    expect(b.toString('hex')).toBe(onDisk);
  });
});
