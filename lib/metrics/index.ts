import type { PlanRepository } from '../adapters/dynamodb/plan-repository.ts';
import { STAGES } from '../domain/lifecycle.ts';
import { FactTable } from '../domain/metrics/fact-table.ts';
import { planFacts, type PlanFacts } from '../domain/metrics/facts.ts';
import type { Plan } from '../domain/schemas.ts';
import type { FactStore } from './fact-store.ts';

/**
 * Where the metrics API reads facts from: every plan's facts, as fresh as the source keeps them.
 * `generation` changes whenever the facts do, so an answer worked out from one generation may be
 * given again until it changes.
 */
export interface MetricsSource {
  snapshot(): Promise<{ facts: Iterable<PlanFacts>; providers: readonly string[]; generation?: number }>;
}

/**
 * The embedded stack's metrics projection: every plan's facts in memory, held compactly in columns
 * (FactTable, ~0.2 kB a plan), loaded once at start and updated in place on every plan save (the
 * Publish events step calls onPlanSaved), so an answer is one pass over typed arrays with no I/O.
 * Facts are also written to the table, so a restart reads back small fact items instead of every
 * plan, one modest page at a time straight into the columns; when they are missing or of an older
 * schema they are rebuilt from the plans, a page of plans at a time.
 */
export class MetricsIndex implements MetricsSource {
  private readonly facts = new FactTable();
  private readonly store: FactStore | undefined;
  private readonly plans: PlanRepository | undefined;
  private readonly providers: readonly string[];
  private readonly clock: () => string;
  private loading: Promise<{ loaded: number; rebuilt: boolean }> | undefined;
  private generation = 0;

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
      const { loaded, stale } = await this.store.loadEach((planId, f) => this.apply(planId, f));
      if (stale === 0) return { loaded, rebuilt: false };
      // Facts of another schema: every plan's are worked out again below.
      this.facts.clear();
      this.generation += 1;
    }
    if (!this.plans) return { loaded: 0, rebuilt: false };
    let rebuilt = 0;
    for (const stage of STAGES) {
      if (stage === 'none') continue;
      let cursor: string | undefined;
      do {
        const page = await this.plans.listByStage(stage, 500, cursor);
        const entries = page.items.map((plan): [string, PlanFacts] => [plan.planId, planFacts(plan)]);
        await this.store.putMany(entries);
        for (const [planId, f] of entries) this.apply(planId, f);
        rebuilt += entries.length;
        cursor = page.nextCursor;
      } while (cursor);
    }
    await this.store.markComplete(this.clock());
    return { loaded: rebuilt, rebuilt: true };
  }

  /** Keep `next` unless the facts held come from a later plan version. */
  private apply(planId: string, next: PlanFacts): void {
    if (this.facts.update(planId, next)) this.generation += 1;
  }

  /** The Publish events hook: a saved plan's facts replace its older ones, in memory and in the table. */
  readonly onPlanSaved = async (plan: Plan): Promise<void> => {
    const next = planFacts(plan);
    this.apply(plan.planId, next);
    await this.store?.put(plan.planId, next);
  };

  async snapshot(): Promise<{ facts: FactTable; providers: readonly string[]; generation: number }> {
    await this.start();
    return { facts: this.facts, providers: this.providers, generation: this.generation };
  }
}

/**
 * The metrics source of a Lambda container: the stored facts, read in full (into columns) on first
 * use and again once they are older than `maxAgeMs`, so answers are at most that stale (a minute at
 * most by default on top of the write in Publish events). Reading every fact item is fine at tens of
 * thousands of plans; past that, load a periodically rebuilt snapshot and only the facts changed
 * since (see the README).
 */
export class StoredFactsSource implements MetricsSource {
  private readonly store: FactStore;
  private readonly providers: readonly string[];
  private readonly maxAgeMs: number;
  private readonly now: () => number;
  private cached: { facts: FactTable; at: number; generation: number } | undefined;
  private reading: Promise<FactTable> | undefined;
  private reads = 0;

  constructor(store: FactStore, providers: readonly string[], maxAgeMs = 30_000, now: () => number = Date.now) {
    this.store = store;
    this.providers = providers;
    this.maxAgeMs = maxAgeMs;
    this.now = now;
  }

  async snapshot(): Promise<{ facts: FactTable; providers: readonly string[]; generation: number }> {
    if (!this.cached || this.now() - this.cached.at > this.maxAgeMs) {
      const at = this.now();
      this.reading ??= this.read().finally(() => (this.reading = undefined));
      const facts = await this.reading;
      this.cached = { facts, at, generation: this.cached?.facts === facts ? this.cached.generation : (this.reads += 1) };
    }
    return { facts: this.cached.facts, providers: this.providers, generation: this.cached.generation };
  }

  private async read(): Promise<FactTable> {
    const facts = new FactTable();
    await this.store.loadEach((planId, f) => facts.update(planId, f));
    return facts;
  }
}

/** The Publish events hook on AWS: store the saved plan's facts. */
export function factsWriter(store: FactStore): (plan: Plan) => Promise<void> {
  return (plan) => store.put(plan.planId, planFacts(plan));
}
