import { readFileSync } from 'node:fs';

/** Small statistics helpers: every figure the bench reports is a median of runs or a ratio. */

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Nearest-rank percentile of unsorted values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] as number;
}

export const round = (value: number, decimals = 2) => (Number.isFinite(value) ? Math.round(value * 10 ** decimals) / 10 ** decimals : value);

export async function sleep(ms: number) {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Resident memory of this process now and at its peak (VmHWM), and what it is now: anonymous memory
 * (heaps, malloc) and file-backed pages (LevelDB reads its table files through mmap, so the pages it
 * has read count as resident until the kernel wants them back). Linux; elsewhere RSS only.
 */
export function residentMemory(): { rss: number; peak: number; anon: number | undefined; file: number | undefined } {
  const rss = process.memoryUsage.rss();
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const kb = (name: string) => {
      const match = new RegExp(`${name}:\\s+(\\d+) kB`).exec(status);
      return match ? Number(match[1]) * 1024 : undefined;
    };
    return { rss, peak: kb('VmHWM') ?? rss, anon: kb('RssAnon'), file: kb('RssFile') };
  } catch {
    return { rss, peak: rss, anon: undefined, file: undefined };
  }
}

/**
 * Resident memory of another process (the stack's dynalite child) from /proc/<pid>/status: now, its
 * peak (VmHWM), anonymous and file-backed. Undefined when it cannot be read (gone, or not Linux).
 */
export function processMemory(pid: number): { rss: number; peak: number; anon: number; file: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024;
    return { rss: kb('VmRSS'), peak: kb('VmHWM'), anon: kb('RssAnon'), file: kb('RssFile') };
  } catch {
    return undefined;
  }
}

/**
 * Proportional set size of a process (/proc/<pid>/smaps_rollup): its resident memory with every page it
 * shares (the Node executable's code, mapped by the stack and its dynalite child alike) divided among the
 * processes sharing it, so the PSS of two processes add up to the memory they really hold.
 */
export function proportionalMemory(pid: number | 'self'): number | undefined {
  try {
    const match = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** CPU time (user + system, ms) another process has used so far, from /proc/<pid>/stat (10 ms resolution). */
export function processCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The fields after the command name (which may hold spaces) start at state, field 3; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticksPerSecond = 100; // USER_HZ: 100 on every Linux this runs on
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond;
  } catch {
    return undefined;
  }
}

/**
 * Sample memory every `everyMs`: peak RSS (for systems without VmHWM) and what it was made of at its
 * peaks; once told of the stack's dynalite process (`watchChild`), that process's RSS and the peak of the sum.
 */
export function rssSampler(everyMs = 100) {
  let childPid: number | undefined;
  const peaks = { rss: 0, heapTotal: 0, heapUsed: 0, external: 0, anon: 0, file: 0, childRss: 0, childAnon: 0, childFile: 0, totalRss: 0, totalPss: 0 };
  let samples = 0;
  const sample = () => {
    // PSS walks every mapping in the kernel: every 10th sample is often enough.
    if (samples++ % 10 === 0) peaks.totalPss = Math.max(peaks.totalPss, (proportionalMemory('self') ?? 0) + (childPid === undefined ? 0 : (proportionalMemory(childPid) ?? 0)));
    const u = process.memoryUsage();
    const r = residentMemory();
    const c = childPid === undefined ? undefined : processMemory(childPid);
    peaks.anon = Math.max(peaks.anon, r.anon ?? 0);
    peaks.file = Math.max(peaks.file, r.file ?? 0);
    peaks.rss = Math.max(peaks.rss, u.rss);
    peaks.heapTotal = Math.max(peaks.heapTotal, u.heapTotal);
    peaks.heapUsed = Math.max(peaks.heapUsed, u.heapUsed);
    peaks.external = Math.max(peaks.external, u.external);
    peaks.childRss = Math.max(peaks.childRss, c?.rss ?? 0);
    peaks.childAnon = Math.max(peaks.childAnon, c?.anon ?? 0);
    peaks.childFile = Math.max(peaks.childFile, c?.file ?? 0);
    peaks.totalRss = Math.max(peaks.totalRss, u.rss + (c?.rss ?? 0));
  };
  sample();
  const timer = setInterval(sample, everyMs);
  timer.unref();
  return {
    get peak() {
      sample();
      return peaks.rss;
    },
    get peaks() {
      sample();
      return { ...peaks };
    },
    watchChild: (pid: number) => {
      childPid = pid;
      sample();
    },
    stop: () => clearInterval(timer),
  };
}

export const MB = 1024 * 1024;
