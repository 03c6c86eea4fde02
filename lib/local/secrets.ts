import { randomBytes } from 'node:crypto';
import { access, link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';

/** A secret file that is there but is not 32 bytes in hex (emptied by a full disk, edited by hand). */
export class DamagedSecret extends Error {
  override name = 'DamagedSecret';
}

const SECRET_HEX = /^[0-9a-f]{64}$/i;

/**
 * A 32-byte secret of the embedded stack, kept in the data directory (mode 600) so it survives
 * restarts, or random for an in-memory stack. On AWS the same secrets live in Secrets Manager.
 * Made only when the file is not there: a file that cannot be read, or reads as something other than a
 * secret, refuses the start rather than being replaced (a new identity-key would no longer link her
 * plans across referrals; a new jwt-secret would turn away every token already handed out).
 */
export async function localSecret(dataDir: string | undefined, name: string): Promise<Buffer> {
  if (!dataDir) return randomBytes(32);
  const file = `${dataDir}/${name}`;
  let text: string;
  try {
    text = (await readFile(file, 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    await mkdir(dataDir, { recursive: true });
    const secret = randomBytes(32);
    // Written whole under a name of its own, then linked to its name: link() makes the name appear with
    // every byte in it, or fails if it is there. Created in place (flag wx), another process (a `token`
    // beside the first `start`) could read it in the instant between its creation and its write, empty,
    // and refuse it as damaged.
    const written = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
    await writeFile(written, secret.toString('hex'), { mode: 0o600, flag: 'wx' });
    try {
      await link(written, file);
    } catch (linking) {
      // Another process made it first: theirs is the one.
      if ((linking as NodeJS.ErrnoException).code === 'EEXIST') return localSecret(dataDir, name);
      throw linking;
    } finally {
      await rm(written, { force: true });
    }
    return secret;
  }
  if (!SECRET_HEX.test(text))
    throw new DamagedSecret(`${file} is not a secret this stack wrote (64 hexadecimal characters; it holds ${text.length}). Restore it from a backup of the data directory; nothing was changed.`);
  return Buffer.from(text, 'hex');
}

/** Whether the data directory holds that secret yet (a stack has started on it, or a token was minted for it). */
export async function hasLocalSecret(dataDir: string, name: string): Promise<boolean> {
  return access(`${dataDir}/${name}`).then(
    () => true,
    () => false,
  );
}
