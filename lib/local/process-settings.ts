/**
 * How `wraparound start` runs the stack's own process; the bench's memory measurement starts it the same
 * way. Both settings must be in place when the process starts, so `start` re-executes itself once with
 * them (bin/wraparound.ts). dynalite's child process gets its own in lib/local/dynalite-server.ts.
 */
export const STACK_PROCESS = {
  // glibc gives every thread that mallocs an arena of its own (up to 8 per core) and keeps what they
  // held; two arenas keep the stack's resident memory down (README, Benchmarks).
  env: { MALLOC_ARENA_MAX: '2' },
  // A heap limit, far above what the stack keeps live (~40-80 MB at 100,000 plans; the metrics columns
  // live outside the heap), changes how V8 paces its collections: with V8's default here (~4 GB) the
  // ArrayBuffers of a start-up that reads every fact item were freed late, and the stack's peak at
  // 100,000 plans on such a start was 286-318 MB over seven runs against 268-277 MB over six with a
  // limit of 256 MB to 1 GB (README, Benchmarks).
  // The young generation's bound. Under this heap limit V8 lets each of its two semi-spaces grow to 64 MB
  // (Node has no pointer compression), doubling them once the bytes that outlived collections since the
  // last doubling pass their size. A start that reads every fact item at 100,000 plans takes them to
  // 32 MB and most of the way to the next doubling, so whether that doubling (+64 MB reserved, soon
  // resident) fell during the first queries or later was timing: the stack peaked at 333-349 MB in five
  // recovery starts on one data directory and 284 MB in a sixth; with this bound, 282-286 MB in six.
  // 32 MB is what every such start reached anyway; 16 MB saved ~35 MB more but cost more collection time.
  nodeFlags: ['--max-old-space-size=1024', '--max-semi-space-size=32'],
} as const;

/** The flags and environment `start` still has to add to a process started with `execArgv` and `env`. */
export function missingStackSettings(execArgv: readonly string[], env: NodeJS.ProcessEnv): { nodeFlags: string[]; env: Record<string, string> } {
  const option = (flag: string) => flag.split('=')[0] as string;
  // A flag the user gave (say a larger heap) is theirs to keep.
  const nodeFlags = STACK_PROCESS.nodeFlags.filter((flag) => !execArgv.some((given) => option(given) === option(flag)));
  const missingEnv = Object.fromEntries(Object.entries(STACK_PROCESS.env).filter(([name]) => env[name] === undefined));
  return { nodeFlags, env: missingEnv };
}

/**
 * Replace this process (same pid, same arguments) with one started with the stack's settings, unless it
 * already has them; returns only when it does (or where execve is not available: the settings then go
 * without, as they only lower memory).
 */
export function reexecWithStackSettings(): void {
  if (process.platform !== 'linux' || typeof process.execve !== 'function') return;
  const missing = missingStackSettings(process.execArgv, process.env);
  if (missing.nodeFlags.length === 0 && Object.keys(missing.env).length === 0) return;
  process.execve(process.execPath, [process.execPath, ...process.execArgv, ...missing.nodeFlags, ...process.argv.slice(1)], { ...process.env, ...missing.env });
}
