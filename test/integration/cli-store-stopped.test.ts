/**
 * `wraparound start` whose store (the dynalite child) has died under it, then stopped with Ctrl-C: the
 * last line said "stopped; every plan is kept in <dir>", though everything sent after the store died
 * was refused. Now it says the store had stopped and that only what was saved before is kept.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

describe('wraparound start, stopped after its store died', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('does not say every plan is kept', async () => {
    dir = mkdtempSync(join(tmpdir(), 'cli-store-stopped-'));
    const stack = spawn(process.execPath, ['bin/wraparound.ts', 'start', '--port', '0', '--data-dir', dir], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const seen = (what: () => string, text: string) =>
      new Promise<void>((resolveSeen, reject) => {
        const check = () => {
          if (what().includes(text)) resolveSeen();
          else if (stack.exitCode !== null) reject(new Error(`exited before "${text}": ${stdout}\n${stderr}`));
          else setTimeout(check, 20);
        };
        check();
      });
    stack.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    stack.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolveExit) => stack.once('exit', (code) => resolveExit(code)));
    try {
      await seen(() => stdout, 'Demo users');
      const storePid = Number(execFileSync('pgrep', ['-P', String(stack.pid)], { encoding: 'utf8' }).trim().split('\n')[0]);
      process.kill(storePid, 'SIGKILL');
      await seen(() => stderr, 'stopped unexpectedly');
      stack.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(stdout).toContain(`stopped. The store had stopped before (see above): what was sent after that was refused, not saved; what was saved before is kept in ${dir}.`);
      expect(stdout).not.toContain('every plan is kept');
    } finally {
      if (stack.exitCode === null) stack.kill('SIGKILL');
    }
  }, 60_000);
});
