/**
 * The modules outside web/ that the web app's bundle carries: every file reached by relative imports
 * from web/src that lies outside web/. Read as text (the import lines), nothing is run.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
const WEB = join(REPO, 'web');

/** The specifiers of a source file's static and dynamic imports and its re-exports. */
export function importsOf(source: string): string[] {
  const specifiers: string[] = [];
  for (const match of source.matchAll(/^\s*(?:import|export)\b[^'"]*?\bfrom\s*['"]([^'"]+)['"]|^\s*import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/gm)) {
    specifiers.push((match[1] ?? match[2] ?? match[3]) as string);
  }
  return specifiers;
}

function sourcesBelow(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourcesBelow(join(dir, entry.name)) : /\.tsx?$/.test(entry.name) ? [join(dir, entry.name)] : [],
  );
}

/**
 * The specifiers of the imports that can put code in a bundle: importsOf without `import type` and
 * `export type` statements, which are erased whole (verbatimModuleSyntax; an inline `{ type X }` is not).
 */
export function valueImportsOf(source: string): string[] {
  return importsOf(source.replace(/^\s*(?:import|export)\s+type\b[^'"]*?\bfrom\s*['"][^'"]+['"]/gm, ''));
}

/** Paths (relative to the repository) of the files outside web/ whose code the web app's bundle carries: reached from web/src by value imports, directly or not. */
export function sharedModulesOfWebApp(): string[] {
  const seen = new Set<string>();
  const shared = new Set<string>();
  const queue = sourcesBelow(join(WEB, 'src'));
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    if (!file.startsWith(WEB)) shared.add(relative(REPO, file));
    for (const specifier of valueImportsOf(readFileSync(file, 'utf8'))) {
      if (specifier.startsWith('.')) queue.push(resolve(dirname(file), specifier));
    }
  }
  return [...shared].sort();
}
