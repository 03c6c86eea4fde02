import type { PlanRepository } from '../adapters/dynamodb/plan-repository.ts';
import { STAGES } from '../domain/lifecycle.ts';
import { planFacts, type PlanFacts } from '../domain/metrics/facts.ts';
import type { Plan } from '../domain/schemas.ts';
import type { FactStore } from './fact-store.ts';

/** Where the metrics API reads facts from: every plan's facts, as fresh as the source keeps them. */
export interface MetricsSource {
  snapshot(): Promise<{ facts: Iterable<PlanFacts>; providers: readonly string[] }>;
}

/** Keep `next` unless the facts already held come from a later plan version. */
function newer(held: PlanFacts | undefined, next: PlanFacts): boolean {
  return held === undefined || held.version <= next.version;
}

/**
 * The embedded stack's metrics projection: every plan's facts in memory, loaded once at start and
 * updated on every plan save (the Publish events step calls onPlanSaved), so an answer is one pass
 * over an array-like map with no I/O. Facts are also written to the table, so a restart reads back
 * small fact items instead of every plan; when they are missing or of an older schema they are
 * rebuilt from the plans.
 */
export class MetricsIndex implements MetricsSource {
  private readonly facts = new Map<string, PlanFacts>();
  private readonly store: FactStore | undefined;
  private readonly plans: PlanRepository | undefined;
  private readonly providers: readonly string[];
  private readonly clock: () => string;
  private loading: Promise<{ loaded: number; rebuilt: boolean }> | undefined;

  constructor(deps: { store?: FactStore; plans?: PlanRepository; providers?: readonly string[]; clock?: () => string } = {}) {
    this.store = deps.store;
    this.plans = deps.plans;
    this.providers = deps.providers ?? [];
    this.clock = deps.clock ?? (() => new Date().toISOString());
  }

  get size(): number {
    return this.facts.size;
  }

  /** Load every plan's facts (once; later calls return the same promise). */
  start(): Promise<{ loaded: number; rebuilt: boolean }> {
    this.loading ??= this.load();
    return this.loading;
  }

  private async load(): Promise<{ loaded: number; rebuilt: boolean }> {
    if (!this.store) return { loaded: 0, rebuilt: false };
    if (await this.store.isComplete()) {
      const { facts, stale } = await this.store.loadAll();
      if (stale === 0) {
        for (const [planId, f] of facts) this.apply(planId, f);
        return { loaded: facts.size, rebuilt: false };
      }
    }
    if (!this.plans) return { loaded: 0, rebuilt: false };
    const rebuilt: [string, PlanFacts][] = [];
    for (const stage of STAGES) {
      if (stage === 'none') continue;
      let cursor: string | undefined;
      do {
        const page = await this.plans.listByStage(stage, 500, cursor);
        for (const plan of page.items) rebuilt.push([plan.planId, planFacts(plan)]);
        cursor = page.nextCursor;
      } while (cursor);
    }
    await this.store.putMany(rebuilt);
    await this.store.markComplete(this.clock());
    for (const [planId, f] of rebuilt) this.apply(planId, f);
    return { loaded: rebuilt.length, rebuilt: true };
  }

  private apply(planId: string, next: PlanFacts): void {
    if (newer(this.facts.get(planId), next)) this.facts.set(planId, next);
  }

  /** The Publish events hook: a saved plan's facts replace its older ones, in memory and in the table. */
  readonly onPlanSaved = async (plan: Plan): Promise<void> => {
    const next = planFacts(plan);
    this.apply(plan.planId, next);
    await this.store?.put(plan.planId, next);
  };

  async snapshot(): Promise<{ facts: Iterable<PlanFacts>; providers: readonly string[] }> {
    await this.start();
    return { facts: this.facts.values(), providers: this.providers };
  }
}

/**
 * The metrics source of a Lambda container: the stored facts, read in full on first use and again
 * once they are older than `maxAgeMs`, so answers are at most that stale (a minute at most by default
 * on top of the write in Publish events). Reading every fact item is fine at tens of thousands of plans;
 * past that, load a periodically rebuilt snapshot and only the facts changed since (see the README).
 */
export class StoredFactsSource implements MetricsSource {
  private readonly store: FactStore;
  private readonly providers: readonly string[];
  private readonly maxAgeMs: number;
  private readonly now: () => number;
  private cached: { facts: PlanFacts[]; at: number } | undefined;
  private reading: Promise<PlanFacts[]> | undefined;

  constructor(store: FactStore, providers: readonly string[], maxAgeMs = 30_000, now: () => number = Date.now) {
    this.store = store;
    this.providers = providers;
    this.maxAgeMs = maxAgeMs;
    this.now = now;
  }

  async snapshot(): Promise<{ facts: Iterable<PlanFacts>; providers: readonly string[] }> {
    if (!this.cached || this.now() - this.cached.at > this.maxAgeMs) {
      const at = this.now();
      this.reading ??= this.store
        .loadAll()
        .then(({ facts }) => [...facts.values()])
        .finally(() => (this.reading = undefined));
      this.cached = { facts: await this.reading, at };
    }
    return { facts: this.cached.facts, providers: this.providers };
  }
}

/** The Publish events hook on AWS: store the saved plan's facts. */
export function factsWriter(store: FactStore): (plan: Plan) => Promise<void> {
  return (plan) => store.put(plan.planId, planFacts(plan));
}
