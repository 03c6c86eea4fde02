/**
 * Before the browser tests: build the web app when web/dist is missing or older than its sources,
 * and check Debian's Chromium is there (`.ci/run` installs it; never downloaded by the tests).
 */
import { existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { CHROMIUM } from './support.ts';
import { REPO, sharedModulesOfWebApp } from './web-imports.ts';

const WEB = fileURLToPath(new URL('../../web/', import.meta.url));

async function newest(path: string): Promise<number> {
  const info = await stat(path);
  if (!info.isDirectory()) return info.mtimeMs;
  let latest = info.mtimeMs;
  for (const entry of await readdir(path)) latest = Math.max(latest, await newest(join(path, entry)));
  return latest;
}

export default async function setup() {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium is not at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH).`);
  const index = join(WEB, 'dist', 'index.html');
  // The app's own files and the shared modules it imports from lib/ (the API's lists).
  const inputs = [...['src', 'public', 'index.html', 'vite.config.ts'].map((p) => join(WEB, p)), ...sharedModulesOfWebApp().map((p) => join(REPO, p))];
  const sources = Math.max(...(await Promise.all(inputs.map((p) => newest(p)))));
  if (existsSync(index) && (await stat(index)).mtimeMs >= sources) return;
  const started = Date.now();
  await build({ root: WEB, configFile: join(WEB, 'vite.config.ts'), logLevel: 'warn' });
  console.log(`web app built in ${Date.now() - started} ms`);
}
