import type { PlanRepository } from '../adapters/dynamodb/plan-repository.ts';
import { STAGES } from '../domain/lifecycle.ts';
import { FactTable } from '../domain/metrics/fact-table.ts';
import { planFacts, type PlanFacts } from '../domain/metrics/facts.ts';
import type { MetricsIncomplete } from '../domain/metrics/report-schema.ts';
import type { Plan } from '../domain/schemas.ts';
import type { FactStore } from './fact-store.ts';
import type { FactSnapshotFile, SnapshotRead } from './snapshot.ts';

/**
 * Where the metrics API reads facts from: every plan's facts, as fresh as the source keeps them.
 * `generation` changes whenever the facts do, so an answer worked out from one generation may be
 * given again until it changes.
 */
export interface MetricsSource {
  /** `incomplete`: the facts leave some plans out (a rebuild after a facts schema change is still running). */
  snapshot(): Promise<{ facts: Iterable<PlanFacts>; providers: readonly string[]; generation?: number; incomplete?: MetricsIncomplete }>;
}

export interface LoadResult {
  loaded: number;
  /** Where the facts came from: the snapshot file, the stored fact items, the plans (a rebuild), or nothing to load. */
  from: 'snapshot' | 'fact-items' | 'plans' | 'nothing';
  /** Why a snapshot the marker named was not used. */
  snapshotRefused?: string;
}

/**
 * The embedded stack's metrics projection: every plan's facts in memory, held compactly in columns
 * (FactTable, ~0.2 kB a plan), loaded once at start and updated in place on every plan save (the
 * Publish events step calls onPlanSaved), so an answer is one pass over typed arrays with no I/O.
 * Facts are also written to the table, so a restart reads back small fact items instead of every
 * plan, one modest page at a time straight into the columns; when they are missing or of an older
 * schema they are rebuilt from the plans, a page of plans at a time.
 *
 * With a snapshot file (a data directory), a clean stop saves the columns to it and names its token in
 * the table's metrics marker; the next start loads that file instead of every fact item, and removes
 * the token before anything is written, so after a crash (or with a file that does not match, is of
 * another format or is damaged) the start reads the fact items as before. This relies on every fact
 * write going through onPlanSaved, as it does in the embedded stack (the stack is the only writer of its
 * data directory); anything writing fact items behind its back must run the stack without a snapshot.
 */
export class MetricsIndex implements MetricsSource {
  private facts = new FactTable();
  private readonly store: FactStore | undefined;
  private readonly snapshotFile: FactSnapshotFile | undefined;
  private readonly useSnapshot: boolean;
  private readonly newToken: () => string;
  /** Plan saves begun so far, and those not finished: a snapshot is named only if none began while it was written. */
  private savesBegun = 0;
  private savesRunning = 0;
  /** Whether the marker names a snapshot this index wrote (a later save must remove the name first). */
  private named = false;
  private readonly plans: PlanRepository | undefined;
  private readonly providers: readonly string[];
  private readonly clock: () => string;
  private loading: Promise<LoadResult> | undefined;
  private generation = 0;

  constructor(deps: { store?: FactStore; plans?: PlanRepository; providers?: readonly string[]; clock?: () => string; snapshotFile?: FactSnapshotFile; useSnapshot?: boolean; newToken?: () => string } = {}) {
    this.store = deps.store;
    this.snapshotFile = deps.snapshotFile;
    // useSnapshot false: neither load nor save one, but still forget one the marker names (this index writes facts).
    this.useSnapshot = deps.useSnapshot ?? true;
    this.newToken = deps.newToken ?? (() => crypto.randomUUID());
    this.plans = deps.plans;
    this.providers = deps.providers ?? [];
    this.clock = deps.clock ?? (() => new Date().toISOString());
  }

  get size(): number {
    return this.facts.size;
  }

  /** Load every plan's facts (once; later calls return the same promise). */
  start(): Promise<LoadResult> {
    this.loading ??= this.load();
    return this.loading;
  }

  private async load(): Promise<LoadResult> {
    if (!this.store) return { loaded: 0, from: 'nothing' };
    let snapshotRefused: string | undefined;
    // One read for both questions: forgetting the snapshot below leaves the marker's schema as it is.
    const marker = await this.store.marker();
    if (this.snapshotFile) {
      const token = marker.snapshot;
      if (token !== undefined) {
        const read: SnapshotRead = this.useSnapshot ? await this.snapshotFile.read(token) : { refused: 'snapshots not used by this stack' };
        // Whatever the file held, the facts are about to change: only a clean stop names a snapshot again.
        await this.store.forgetSnapshot();
        if ('facts' in read) {
          this.facts = read.facts;
          this.generation += 1;
          return { loaded: this.facts.size, from: 'snapshot' };
        }
        snapshotRefused = read.refused;
      }
    }
    const refused = snapshotRefused === undefined ? {} : { snapshotRefused };
    if (marker.complete) {
      const { loaded, stale, unreadable } = await this.store.loadEach((planId, f) => this.apply(planId, f));
      if (stale === 0 && unreadable.length === 0) return { loaded, from: 'fact-items', ...refused };
      // Facts of another schema, or damaged ones: every plan's are worked out again below, and written.
      this.facts.clear();
      this.generation += 1;
    }
    if (!this.plans) return { loaded: 0, from: 'nothing', ...refused };
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
    return { loaded: rebuilt, from: 'plans', ...refused };
  }

  /**
   * At a clean stop, once no more saves come: write the columns to the snapshot file and name it in the
   * marker. Skipped (false) without a file, before a finished load, or when a save is running or began
   * meanwhile (its fact item could land after the file was written).
   */
  async saveSnapshot(): Promise<boolean> {
    if (!this.snapshotFile || !this.useSnapshot || !this.store || !this.loading) return false;
    if (!(await this.loading.then(() => true, () => false))) return false;
    const before = this.savesBegun;
    if (this.savesRunning > 0) return false;
    const token = this.newToken();
    await this.snapshotFile.write(this.facts, token);
    if (this.savesBegun !== before || !(await this.store.nameSnapshot(token))) return false;
    if (this.savesBegun !== before) {
      await this.store.forgetSnapshot();
      return false;
    }
    this.named = true;
    return true;
  }

  /** Keep `next` unless the facts held come from a later plan version. */
  private apply(planId: string, next: PlanFacts): void {
    if (this.facts.update(planId, next)) this.generation += 1;
  }

  /** The Publish events hook: a saved plan's facts replace its older ones, in memory and in the table. */
  readonly onPlanSaved = async (plan: Plan): Promise<void> => {
    this.savesBegun += 1;
    this.savesRunning += 1;
    try {
      if (this.named) {
        this.named = false;
        await this.store?.forgetSnapshot();
      }
      const next = planFacts(plan);
      this.apply(plan.planId, next);
      await this.store?.put(plan.planId, next);
    } finally {
      this.savesRunning -= 1;
    }
  };

  async snapshot(): Promise<{ facts: FactTable; providers: readonly string[]; generation: number }> {
    await this.start();
    return { facts: this.facts, providers: this.providers, generation: this.generation };
  }
}

interface StoredFacts {
  facts: FactTable;
  incomplete?: MetricsIncomplete;
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
  private cached: { read: StoredFacts; at: number; generation: number } | undefined;
  private reading: Promise<StoredFacts> | undefined;
  private reads = 0;
  private readonly warn: (message: string, details: Record<string, unknown>) => void;

  /**
   * `maxAgeMs`: how old the facts read may get before the next answer reads them again (default 30 s);
   * `warn`: where the plans with damaged facts are named for the service's operators (the Lambda's log).
   */
  constructor(store: FactStore, providers: readonly string[], options: { maxAgeMs?: number; now?: () => number; warn?: (message: string, details: Record<string, unknown>) => void } = {}) {
    this.store = store;
    this.providers = providers;
    this.maxAgeMs = options.maxAgeMs ?? 30_000;
    this.now = options.now ?? Date.now;
    this.warn = options.warn ?? (() => {});
  }

  async snapshot(): Promise<{ facts: FactTable; providers: readonly string[]; generation: number; incomplete?: MetricsIncomplete }> {
    if (!this.cached || this.now() - this.cached.at > this.maxAgeMs) {
      const at = this.now();
      this.reading ??= this.read().finally(() => (this.reading = undefined));
      const read = await this.reading;
      this.cached = { read, at, generation: this.cached?.read === read ? this.cached.generation : (this.reads += 1) };
    }
    const { facts, incomplete } = this.cached.read;
    return { facts, providers: this.providers, generation: this.cached.generation, ...(incomplete ? { incomplete } : {}) };
  }

  private async read(): Promise<StoredFacts> {
    const facts = new FactTable();
    // The marker first: facts a rebuild finishes writing meanwhile are then read, and at worst called incomplete.
    const complete = await this.store.isComplete();
    const { stale, unreadable } = await this.store.loadEach((planId, f) => facts.update(planId, f));
    if (unreadable.length > 0) this.warn('metrics: stored facts that cannot be read are left out of the figures', { plans: unreadable.length, planIds: unreadable.slice(0, 50) });
    if (complete && stale === 0 && unreadable.length === 0) return { facts };
    const reasons = [
      ...(!complete || stale > 0 ? ['The way plan facts are worked out changed with a recent deploy, and the facts of some plans have not been rebuilt yet: those plans are left out of these figures until the sweeper has rebuilt them.'] : []),
      ...(unreadable.length > 0 ? [`The stored facts of ${unreadable.length === 1 ? 'one plan' : `${unreadable.length} plans`} could not be read, so ${unreadable.length === 1 ? 'it is' : 'they are'} left out of these figures; the service's log names ${unreadable.length === 1 ? 'it' : 'them'} for its operators.`] : []),
    ];
    return { facts, incomplete: { reason: reasons.join(' '), staleFacts: stale + unreadable.length } };
  }
}

/** The Publish events hook on AWS: store the saved plan's facts. */
export function factsWriter(store: FactStore): (plan: Plan) => Promise<void> {
  return (plan) => store.put(plan.planId, planFacts(plan));
}
