import type { Plan } from '../../domain/schemas.ts';

export interface PlanCacheOptions {
  /** Plans kept, least recently used dropped first. */
  maxPlans: number;
}

/**
 * What a write that ended well leaves behind: the plan as now stored (undefined: not known), given the
 * cached plan from before the write (read only when asked for: it costs a parse).
 */
export type CacheUpdate = (before: () => Plan | undefined) => Plan | undefined;

/**
 * Plans as last stored, for a process that is the only writer of its table (the embedded stack: its
 * data directory is locked). Never on AWS, where many Lambda containers write the same plans.
 *
 * It answers exactly as a consistent read would, because an entry is only ever:
 * - the plan a write of this process stored, set when that write succeeded and no other write of the
 *   same plan started or ended while it was in flight (otherwise the order they landed in is unknown);
 * - the answer of a read during which no write of that plan was in flight, started or ended.
 * Any failed write, including one whose answer was lost (it may have landed), drops the entry.
 *
 * Each write start and end stamps the plan with a tick of one counter; a read or write compares the
 * stamp with the tick it started at. Stamps are kept for a bounded number of plans: a plan whose stamp
 * was dropped counts as written at the newest dropped stamp (`floor`), which can only refuse a fill.
 * Entries are held as JSON text, so no caller can change a cached plan through the object it was given.
 */
export class PlanCache {
  private readonly maxPlans: number;
  private readonly entries = new Map<string, string>();
  private readonly stamps = new Map<string, { writes: number; tick: number }>();
  private tick = 0;
  private floor = 0;

  constructor(options: PlanCacheOptions) {
    this.maxPlans = options.maxPlans;
  }

  get size(): number {
    return this.entries.size;
  }

  /** A copy of the cached plan, or undefined; a hit makes it the most recently used. */
  get(planId: string): Plan | undefined {
    const text = this.entries.get(planId);
    if (text === undefined) return undefined;
    this.entries.delete(planId);
    this.entries.set(planId, text);
    return JSON.parse(text) as Plan;
  }

  /** Read the store through `read`, and keep its answer if no write of that plan overlapped the read. */
  async read(planId: string, read: () => Promise<Plan | undefined>): Promise<Plan | undefined> {
    const cached = this.get(planId);
    if (cached) return cached;
    const startedAt = this.tick;
    const plan = await read();
    const stamp = this.stamps.get(planId);
    const quiet = stamp ? stamp.writes === 0 && stamp.tick <= startedAt : this.floor <= startedAt;
    if (plan && quiet) this.put(planId, plan);
    return plan;
  }

  /**
   * Run a write of plan `planId`. On success `update` says what is now stored (given the entry from
   * before the write); on any failure, or when another write of the plan overlapped, the entry goes.
   */
  async write<T>(planId: string, send: () => Promise<T>, update: CacheUpdate): Promise<T> {
    const before = this.entries.get(planId);
    const startedAt = this.begin(planId);
    let result: T;
    try {
      result = await send();
    } catch (error) {
      this.end(planId);
      this.entries.delete(planId);
      throw error;
    }
    // Nothing else wrote this plan meanwhile, and no read filled it (none may while a write is in
    // flight), so the entry from before the write is what the write applied to.
    const alone = this.end(planId) === startedAt;
    const after = alone ? update(() => (before === undefined ? undefined : (JSON.parse(before) as Plan))) : undefined;
    if (after) this.put(planId, after);
    else this.entries.delete(planId);
    return result;
  }

  private put(planId: string, plan: Plan): void {
    this.entries.delete(planId);
    this.entries.set(planId, JSON.stringify(plan));
    if (this.entries.size > this.maxPlans) this.entries.delete(this.entries.keys().next().value as string);
  }

  private begin(planId: string): number {
    this.tick += 1;
    const stamp = this.stamps.get(planId) ?? { writes: 0, tick: 0 };
    stamp.writes += 1;
    stamp.tick = this.tick;
    this.stamps.delete(planId);
    this.stamps.set(planId, stamp);
    this.pruneStamps();
    return this.tick;
  }

  /** Ends a write; returns the plan's stamp as it was just before (the write's own start if nothing overlapped). */
  private end(planId: string): number {
    const stamp = this.stamps.get(planId) as { writes: number; tick: number };
    const previous = stamp.tick;
    this.tick += 1;
    stamp.writes -= 1;
    stamp.tick = this.tick;
    return previous;
  }

  private pruneStamps(): void {
    const limit = this.maxPlans * 4;
    for (const [planId, stamp] of this.stamps) {
      if (this.stamps.size <= limit) break;
      if (stamp.writes > 0) continue;
      this.stamps.delete(planId);
      this.floor = Math.max(this.floor, stamp.tick);
    }
  }
}
