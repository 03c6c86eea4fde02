import { describe, expect, it } from 'vitest';
import { missingStackSettings, STACK_PROCESS } from '../../lib/local/process-settings.ts';

describe('the settings `wraparound start` re-executes itself with', () => {
  it('adds the heap limit and MALLOC_ARENA_MAX to a plain start', () => {
    expect(missingStackSettings([], {})).toEqual({ nodeFlags: ['--max-old-space-size=1024'], env: { MALLOC_ARENA_MAX: '2' } });
  });

  it('adds nothing once they are there, so the re-executed process does not re-execute again', () => {
    expect(missingStackSettings([...STACK_PROCESS.nodeFlags], { ...STACK_PROCESS.env })).toEqual({ nodeFlags: [], env: {} });
  });

  it("keeps a heap limit or arena count the user chose", () => {
    expect(missingStackSettings(['--max-old-space-size=4096', '--enable-source-maps'], { MALLOC_ARENA_MAX: '8' })).toEqual({ nodeFlags: [], env: {} });
  });
});
