import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';

/**
 * A 32-byte secret of the embedded stack, kept in the data directory (mode 600) so it survives
 * restarts, or random for an in-memory stack. On AWS the same secrets live in Secrets Manager.
 */
export async function localSecret(dataDir: string | undefined, name: string): Promise<Buffer> {
  if (!dataDir) return randomBytes(32);
  const file = `${dataDir}/${name}`;
  try {
    return Buffer.from((await readFile(file, 'utf8')).trim(), 'hex');
  } catch {
    await mkdir(dataDir, { recursive: true });
    const secret = randomBytes(32);
    await writeFile(file, secret.toString('hex'), { mode: 0o600 });
    return secret;
  }
}
