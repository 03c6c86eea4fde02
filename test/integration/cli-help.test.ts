/**
 * Every `wraparound` command answers --help with its usage (exit 0), and a bad option with one plain
 * line naming it and where the usage is (exit 2), never a Node stack trace: `wraparound start --help`
 * crashed with ERR_PARSE_ARGS_UNKNOWN_OPTION.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

function wraparound(...args: string[]) {
  const run = spawnSync(process.execPath, ['bin/wraparound.ts', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

const NODE_TRACE = /\n\s+at |ERR_PARSE_ARGS|node:internal/;

describe('wraparound <command> --help', () => {
  it.each([
    ['start', 'wraparound start [--port 3000]'],
    ['token', 'wraparound token --role coordinator'],
    ['simulate', 'wraparound simulate --plans N'],
  ])('%s --help prints its usage and exits 0', (command, usage) => {
    const run = wraparound(command, '--help');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(usage);
    // Its own usage, not every command's.
    expect(run.stdout.match(/^ {2}wraparound \w+/gm)).toHaveLength(1);
  });

  it('token --help says what --name is for', () => {
    expect(wraparound('token', '-h').stdout).toContain('--name "Full Name"');
  });

  it('token --name gives the token the name the audit log shows; without it, none', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'wraparound-token-'));
    try {
      const claims = (...args: string[]) => {
        const run = wraparound('token', '--role', 'team-lead', '--data-dir', dataDir, ...args);
        expect(run.code, run.stderr).toBe(0);
        return JSON.parse(Buffer.from(run.stdout.trim().split('.')[1] as string, 'base64url').toString('utf8')) as { name?: string; sub: string };
      };
      expect(claims('--name', 'Dana Okafor')).toMatchObject({ name: 'Dana Okafor', sub: 'demo-team-lead' });
      expect(claims()).not.toHaveProperty('name');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('--help alone lists every command', () => {
    const run = wraparound('--help');
    expect(run.code).toBe(0);
    for (const command of ['start', 'token', 'simulate']) expect(run.stdout).toContain(`wraparound ${command}`);
  });
});

describe('a bad option or command', () => {
  it.each([
    [['start', '--bogus'], /^wraparound start: Unknown option '--bogus'.*\(wraparound start --help shows the options\)$/],
    [['token', '--role'], /^wraparound token: Option '--role <value>' argument missing.*\(wraparound token --help shows the options\)$/],
    [['token', '--role', 'coordinator', '--frobnicate'], /^wraparound token: Unknown option '--frobnicate'/],
    [['simulate', '--plans', '5', '--bogus'], /^wraparound simulate: Unknown option '--bogus'/],
    [['token', '--role', 'mayor'], /^wraparound token: --role must be one of coordinator, /],
    [['launch'], /^wraparound: unknown command "launch"; the commands are start, token, simulate \(wraparound --help shows the options\)$/],
    // A name every object inherits is no command either (it printed a function's source and exited 0).
    [['toString', '--help'], /^wraparound: unknown command "toString"; the commands are start, token, simulate/],
  ])('%j: one plain line, exit 2', (args, line) => {
    const run = wraparound(...args);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).not.toMatch(NODE_TRACE);
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(run.stderr.trimEnd()).toMatch(line);
  });
});
