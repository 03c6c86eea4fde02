/**
 * What an operator meets when the data directory is not what it should be, from the command line:
 * one plain line (exit 2) naming the directory and the reason, never a Node stack trace, and nothing
 * in it replaced. Before: `start --data-dir <a file>` and a full disk were stack traces; a damaged
 * jwt-secret or identity-key was silently replaced (or read as an empty key); and `token` for a
 * directory no stack had run on made a new secret without a word, so the running stack answered 401.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const NODE_TRACE = /\n\s+at |node:internal/;

function wraparound(...args: string[]) {
  const run = spawnSync(process.execPath, ['bin/wraparound.ts', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('wraparound and its data directory', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('start on a data directory that is a file is one plain line naming it, exit 2', () => {
    dir = mkdtempSync(join(tmpdir(), 'cli-data-dir-'));
    const file = join(dir, 'not-a-directory');
    writeFileSync(file, '');
    const run = wraparound('start', '--port', '0', '--data-dir', file);
    expect(run.stderr).not.toMatch(NODE_TRACE);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain(`wraparound start: The data directory ${file} cannot be used: ENOTDIR`);
  });

  it('start with a damaged identity-key refuses, naming the file, and leaves it as it was', () => {
    dir = mkdtempSync(join(tmpdir(), 'cli-data-dir-'));
    writeFileSync(join(dir, 'identity-key'), '');
    const run = wraparound('start', '--port', '0', '--data-dir', dir);
    expect(run.stderr).not.toMatch(NODE_TRACE);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`${dir}/identity-key is not a secret this stack wrote`);
    expect(readFileSync(join(dir, 'identity-key'), 'utf8')).toBe('');
  });

  it('token for a directory no stack has run on says so on stderr, and still prints the token', () => {
    dir = mkdtempSync(join(tmpdir(), 'cli-data-dir-'));
    const first = wraparound('token', '--role', 'coordinator', '--data-dir', dir);
    expect(first.code).toBe(0);
    expect(first.stdout.trim()).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(first.stderr).toContain(`no stack has run on the data directory ${dir}`);
    // The second finds the secret the first made: nothing to warn about.
    const second = wraparound('token', '--role', 'coordinator', '--data-dir', dir);
    expect(second.code).toBe(0);
    expect(second.stderr).toBe('');
  });

  it('token with a damaged jwt-secret refuses, and does not replace it', () => {
    dir = mkdtempSync(join(tmpdir(), 'cli-data-dir-'));
    writeFileSync(join(dir, 'jwt-secret'), 'not hex\n');
    const run = wraparound('token', '--role', 'coordinator', '--data-dir', dir);
    expect(run.stderr).not.toMatch(NODE_TRACE);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`${dir}/jwt-secret is not a secret this stack wrote`);
    expect(readFileSync(join(dir, 'jwt-secret'), 'utf8')).toBe('not hex\n');
  });
});
