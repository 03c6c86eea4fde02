import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { missingStackSettings, STACK_PROCESS } from '../../lib/local/process-settings.ts';

describe('the settings `wraparound start` re-executes itself with', () => {
  it('adds the heap limits and MALLOC_ARENA_MAX to a plain start', () => {
    expect(missingStackSettings([], {})).toEqual({ nodeFlags: ['--max-old-space-size=1024', '--max-semi-space-size=32'], env: { MALLOC_ARENA_MAX: '2' } });
  });

  it('adds nothing once they are there, so the re-executed process does not re-execute again', () => {
    expect(missingStackSettings([...STACK_PROCESS.nodeFlags], { ...STACK_PROCESS.env })).toEqual({ nodeFlags: [], env: {} });
  });

  it("keeps a heap limit or arena count the user chose", () => {
    expect(missingStackSettings(['--max-old-space-size=4096', '--enable-source-maps'], { MALLOC_ARENA_MAX: '8' })).toEqual({ nodeFlags: ['--max-semi-space-size=32'], env: {} });
    expect(missingStackSettings(['--max-old-space-size=4096', '--max-semi-space-size=8'], {})).toEqual({ nodeFlags: [], env: { MALLOC_ARENA_MAX: '2' } });
  });

  it.runIf(process.platform === 'linux')('reexecWithStackSettings replaces the process with one that has them: same pid, same arguments', () => {
    const script = join(mkdtempSync(join(tmpdir(), 'process-settings-')), 'reexec.ts');
    writeFileSync(
      script,
      `import { reexecWithStackSettings } from ${JSON.stringify(resolve('lib/local/process-settings.ts'))};
reexecWithStackSettings();
console.log(JSON.stringify({ pid: process.pid, execArgv: process.execArgv, arena: process.env.MALLOC_ARENA_MAX, args: process.argv.slice(2) }));`,
    );
    const { MALLOC_ARENA_MAX: _arena, ...env } = process.env;
    const run = spawnSync(process.execPath, [script, 'an-argument'], { env, encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    const seen = JSON.parse(run.stdout) as { pid: number; execArgv: string[]; arena?: string; args: string[] };
    expect(seen).toEqual({ pid: run.pid, execArgv: expect.arrayContaining([...STACK_PROCESS.nodeFlags]) as unknown as string[], arena: STACK_PROCESS.env.MALLOC_ARENA_MAX, args: ['an-argument'] });
  });
});
