/**
 * The embedded stack's secrets (jwt-secret, identity-key) are made once and never replaced: a new
 * identity-key would no longer link her plans across referrals, a new jwt-secret would turn away every
 * token handed out. Before, any read error made a new one, and processes making it at once (a `token`
 * beside the first `start`) each kept a different one.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DamagedSecret, localSecret } from '../../lib/local/secrets.ts';

describe('localSecret', () => {
  let dir: string;
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('made by several callers at once is one secret, the one on disk', async () => {
    dir = await mkdtemp(join(tmpdir(), 'local-secret-'));
    const secrets = await Promise.all(Array.from({ length: 8 }, () => localSecret(dir, 'identity-key')));
    const onDisk = (await readFile(join(dir, 'identity-key'), 'utf8')).trim();
    for (const secret of secrets) expect(secret.toString('hex')).toBe(onDisk);
  });

  it('kept across calls', async () => {
    dir = await mkdtemp(join(tmpdir(), 'local-secret-'));
    const first = await localSecret(dir, 'jwt-secret');
    expect((await localSecret(dir, 'jwt-secret')).equals(first)).toBe(true);
    expect(first).toHaveLength(32);
  });

  it('an empty file is refused, naming it, not read as an empty key', async () => {
    dir = await mkdtemp(join(tmpdir(), 'local-secret-'));
    await writeFile(join(dir, 'identity-key'), '');
    await expect(localSecret(dir, 'identity-key')).rejects.toThrow(DamagedSecret);
    await expect(localSecret(dir, 'identity-key')).rejects.toThrow(`${dir}/identity-key is not a secret this stack wrote`);
    expect(await readFile(join(dir, 'identity-key'), 'utf8')).toBe('');
  });

  it('a file that cannot be read is an error, and is not replaced', async () => {
    dir = await mkdtemp(join(tmpdir(), 'local-secret-'));
    await mkdir(join(dir, 'jwt-secret'));
    await expect(localSecret(dir, 'jwt-secret')).rejects.toMatchObject({ code: 'EISDIR' });
  });
});
