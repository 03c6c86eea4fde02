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

/** Sample memory every `everyMs`: peak RSS (for systems without VmHWM) and what it was made of at its peaks. */
export function rssSampler(everyMs = 100) {
  const peaks = { rss: 0, heapTotal: 0, heapUsed: 0, external: 0, anon: 0, file: 0 };
  const sample = () => {
    const u = process.memoryUsage();
    const r = residentMemory();
    peaks.anon = Math.max(peaks.anon, r.anon ?? 0);
    peaks.file = Math.max(peaks.file, r.file ?? 0);
    peaks.rss = Math.max(peaks.rss, u.rss);
    peaks.heapTotal = Math.max(peaks.heapTotal, u.heapTotal);
    peaks.heapUsed = Math.max(peaks.heapUsed, u.heapUsed);
    peaks.external = Math.max(peaks.external, u.external);
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
    stop: () => clearInterval(timer),
  };
}

export const MB = 1024 * 1024;
