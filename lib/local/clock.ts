import { readFile, writeFile, mkdir } from 'node:fs/promises';

/**
 * The embedded stack's clock. `system` is wall time. `simulated` starts at wall time (or where it
 * was left, when a data directory remembers it) and moves only when told, so a 12-month plan with
 * its reviews, reminders and follow-ups can be driven in seconds.
 */
export interface Clock {
  readonly kind: 'system' | 'simulated';
  now(): string;
}

export const systemClock: Clock = { kind: 'system', now: () => new Date().toISOString() };

export class SimulatedClock implements Clock {
  readonly kind = 'simulated' as const;
  private current: number;
  private readonly file: string | undefined;
  constructor(startAt: string, file?: string) {
    this.current = new Date(startAt).getTime();
    this.file = file;
  }

  static async forDataDir(dataDir: string | undefined, startAt = new Date().toISOString()): Promise<SimulatedClock> {
    if (!dataDir) return new SimulatedClock(startAt);
    const file = `${dataDir}/simulated-clock.json`;
    try {
      const saved = JSON.parse(await readFile(file, 'utf8')) as { now?: string };
      if (saved.now && !Number.isNaN(Date.parse(saved.now))) return new SimulatedClock(saved.now, file);
    } catch {
      // first start on this data dir
    }
    await mkdir(dataDir, { recursive: true });
    return new SimulatedClock(startAt, file);
  }

  now(): string {
    return new Date(this.current).toISOString();
  }

  /** Move forward (never back: deadlines already fired cannot un-fire). */
  async advance(ms: number): Promise<string> {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError('the clock only moves forward');
    this.current += ms;
    if (this.file) await writeFile(this.file, JSON.stringify({ now: this.now() }));
    return this.now();
  }
}
