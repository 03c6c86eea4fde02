/**
 * `wraparound start` as a person runs it: what it says when stopped matches where the plans were.
 * An --in-memory stack must not claim its plans are kept in a data directory: they are gone.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

/** Start the CLI, wait for its banner, send SIGINT, and give back everything it printed. */
function startThenInterrupt(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, failed) => {
    const child = spawn(process.execPath, ['bin/wraparound.ts', 'start', '--port', '0', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let interrupted = false;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (!interrupted && stdout.includes('Demo users')) {
        interrupted = true;
        child.kill('SIGINT');
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', failed);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

describe('wraparound start, stopped with Ctrl-C', () => {
  it('with --in-memory says the plans are gone, not that they are kept', async () => {
    const run = await startThenInterrupt(['--in-memory']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('stopped;');
    expect(run.stdout).not.toContain('kept in');
    expect(run.stdout).toContain('in memory only and are gone');
  }, 60_000);

  it('with a data directory names the directory the plans are kept in', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'wraparound-cli-'));
    try {
      const run = await startThenInterrupt(['--data-dir', dataDir]);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toContain(`stopped; every plan is kept in ${dataDir}.`);
      // The clean stop saved the metrics columns, so the next start need not read every fact item.
      expect(existsSync(join(dataDir, 'metrics-facts.snapshot'))).toBe(true);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
