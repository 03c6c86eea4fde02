import type { PlanRepository } from '../adapters/dynamodb/plan-repository.ts';
import { STAGES } from '../domain/lifecycle.ts';
import { FactTable } from '../domain/metrics/fact-table.ts';
import { planFacts, type PlanFacts } from '../domain/metrics/facts.ts';
import type { MetricsIncomplete } from '../domain/metrics/report-schema.ts';
import type { Plan } from '../domain/schemas.ts';
import type { FactStore } from './fact-store.ts';
import { ChangeJournal, type FactSnapshotFile, type JournalWriter, type OpenJournal, type RemoveFile, type SnapshotRead } from './snapshot.ts';

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
  /** From a snapshot: the plans its change journal named, whose stored facts were read over it. */
  changedSince?: number;
}

/** Snapshots taken while the stack runs, so that a start after a crash also reads one file (and the few plans changed since). */
export interface PeriodicSnapshots {
  /** How often a snapshot is taken while the facts change; 0: never (default 5 minutes). */
  everyMs?: number;
  /** A snapshot is taken early once its journal holds this many saves, bounding what a start after a crash reads back (default 5,000: measured at 100,000 plans, ~2.2 s on top of the file's 0.1 s). */
  maxChanges?: number;
  /** The timer: calls `tick` every `everyMs` until the function it returns is called (default: setInterval, not keeping the process alive). */
  schedule?: (tick: () => Promise<boolean>, everyMs: number) => () => void;
}

/**
 * The embedded stack's metrics projection: every plan's facts in memory, held compactly in columns
 * (FactTable, ~0.2 kB a plan), loaded once at start and updated in place on every plan save (the
 * Publish events step calls onPlanSaved), so an answer is one pass over typed arrays with no I/O.
 * Facts are also written to the table, so a restart reads back small fact items instead of every
 * plan, one modest page at a time straight into the columns; when they are missing or of an older
 * schema they are rebuilt from the plans, a page of plans at a time.
 *
 * With a snapshot file (a data directory), the columns are saved to it now and then while the facts
 * change (startPeriodicSnapshots) and at a clean stop, and its token named in the table's metrics
 * marker. Each snapshot has a change journal (ChangeJournal), opened before the columns are taken and
 * holding the plans whose fact items may differ from them then (saves in flight, writes that failed);
 * every save after that puts its plan id in it before it writes the fact item. So the file plus the
 * stored facts of the plans its journal names are exactly the stored facts, whenever the process
 * stops: the next start loads the file, reads those plans' fact items over it, and removes the token
 * before anything is written. A journal that cannot be written forgets the snapshot; a file or journal
 * that does not match, is of another format or is damaged means the fact items are read as before.
 * This relies on every fact write going through onPlanSaved, as it does in the embedded stack (the
 * stack is the only writer of its data directory); anything writing fact items behind its back must
 * run the stack without a snapshot.
 */
export class MetricsIndex implements MetricsSource {
  private facts = new FactTable();
  private readonly store: FactStore | undefined;
  private readonly snapshotFile: FactSnapshotFile | undefined;
  /** Removes change journal files (ChangeJournal's default, fs.promises.rm, unless one is passed). */
  private readonly removeFile: RemoveFile | undefined;
  /** Opens a snapshot's change journal (a ChangeJournal on disk, unless one is passed). */
  private readonly openJournal: OpenJournal;
  private readonly useSnapshot: boolean;
  private readonly newToken: () => string;
  /** Plans whose save is running (a count each): their fact items may not be written yet. */
  private readonly inFlight = new Map<string, number>();
  /** The saves running, so that a clean stop can let them finish before the last snapshot (settled). */
  private readonly saves = new Set<Promise<void>>();
  /** Set by close(), once the store is closed: no save can write a fact item any more. */
  private closed = false;
  /** Plans whose fact item could not be written: the table holds older facts than the columns. */
  private readonly unsynced = new Set<string>();
  /** The open change journals, the newest last: every save appends its plan to each before writing its fact item. */
  private journals: JournalWriter[] = [];
  /** Whether the marker names a snapshot this index wrote. */
  private named = false;
  /** The generation of the facts the named snapshot holds (a periodic snapshot is skipped while it is current). */
  private snapshotGeneration: number | undefined;
  /** The snapshot being taken, if one is: they are taken one at a time. */
  private snapshotting: Promise<boolean> | undefined;
  private stopTimer: (() => void) | undefined;
  private maxChanges = 5_000;
  /** Saves since the columns of the named snapshot were taken (or since the start, before one is named). */
  private savesSinceSnapshot = 0;
  private readonly warn: (message: string) => void;
  private readonly plans: PlanRepository | undefined;
  private readonly providers: readonly string[];
  private readonly clock: () => string;
  private loading: Promise<LoadResult> | undefined;
  private generation = 0;

  constructor(
    deps: { store?: FactStore; plans?: PlanRepository; providers?: readonly string[]; clock?: () => string; snapshotFile?: FactSnapshotFile; removeFile?: RemoveFile; openJournal?: OpenJournal; useSnapshot?: boolean; newToken?: () => string; warn?: (message: string) => void } = {},
  ) {
    this.warn = deps.warn ?? ((message) => console.error(message));
    this.store = deps.store;
    this.snapshotFile = deps.snapshotFile;
    this.removeFile = deps.removeFile;
    this.openJournal = deps.openJournal ?? ((snapshotPath, token) => new ChangeJournal(snapshotPath, token, this.removeFile).open());
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
        let read: SnapshotRead = this.useSnapshot ? await this.snapshotFile.read(token) : { refused: 'snapshots not used by this stack' };
        let changedSince = 0;
        if ('facts' in read) {
          // The plans saved after the columns were taken: their stored facts, read over the file's.
          const journal = await ChangeJournal.read(this.snapshotFile.path, token);
          const applied = 'refused' in journal ? journal.refused : await this.readChanges(read.facts, journal.planIds);
          if (applied === true && 'planIds' in journal) changedSince = journal.planIds.length;
          else read = { refused: applied === true ? 'no change journal' : applied };
        }
        // Whatever the file held, the facts are about to change: the next snapshot (periodic or at a clean stop) is named afresh.
        await this.store.forgetSnapshot();
        await ChangeJournal.removeAll(this.snapshotFile.path, undefined, this.removeFile);
        if ('facts' in read) {
          this.facts = read.facts;
          this.generation += 1;
          return { loaded: this.facts.size, from: 'snapshot', ...(changedSince > 0 ? { changedSince } : {}) };
        }
        snapshotRefused = read.refused;
      } else await ChangeJournal.removeAll(this.snapshotFile.path, undefined, this.removeFile);
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
   * Put the stored facts of `planIds` (changed after `table` was taken) over it: true, or why the
   * snapshot cannot be used (facts of another schema or damaged, which the full load rebuilds; a plan
   * the snapshot holds with no stored facts).
   */
  private async readChanges(table: FactTable, planIds: readonly string[]): Promise<true | string> {
    const store = this.store as FactStore;
    // In pages, so only one page of items is in memory at a time.
    for (let i = 0; i < planIds.length; i += 1000) {
      const page = planIds.slice(i, i + 1000);
      const stored = await store.getFactsOf(page);
      for (const planId of page) {
        const result = stored.get(planId);
        if (result && 'facts' in result) table.set(planId, result.facts);
        else if (result) return `a plan changed since the snapshot has stored ${result.unusable}`;
        else if (table.get(planId) !== undefined) return 'a plan in the snapshot has no stored facts';
      }
    }
    return true;
  }

  /**
   * Write the columns to the snapshot file and name it in the marker, with a new change journal (see
   * the class). Skipped (false) without a file, before a finished load, or when the marker cannot name
   * it. One at a time: a call while one is being taken waits for it, then takes its own.
   */
  saveSnapshot(): Promise<boolean> {
    const previous = this.snapshotting;
    const run = (async () => {
      await previous?.catch(() => false);
      return this.takeSnapshot();
    })();
    this.snapshotting = run;
    const done = () => {
      if (this.snapshotting === run) this.snapshotting = undefined;
    };
    run.then(done, done);
    return run;
  }

  private async takeSnapshot(): Promise<boolean> {
    if (!this.snapshotFile || !this.useSnapshot || !this.store || !this.loading || this.closed) return false;
    if (!(await this.loading.then(() => true, () => false))) return false;
    const token = this.newToken();
    // The journal first, with the plans whose fact items may differ from the columns about to be taken
    // (saves in flight, writes that failed); from here on every save adds its plan. Then the columns,
    // taken by write() before its first await: nothing runs in between.
    const journal = this.openJournal(this.snapshotFile.path, token);
    journal.append([...this.inFlight.keys(), ...this.unsynced]);
    this.journals.push(journal);
    const generation = this.generation;
    const savesBefore = this.savesSinceSnapshot;
    let named = false;
    try {
      await this.snapshotFile.write(this.facts, token);
      named = await this.store.nameSnapshot(token);
    } finally {
      if (!named) {
        this.journals = this.journals.filter((j) => j !== journal);
        await journal.discard();
      }
    }
    if (!named) return false;
    if (!this.journals.includes(journal)) {
      // A save could not write the journals while this snapshot was taken (abandonSnapshot closed and
      // removed this one too): the marker must not name a snapshot without its journal.
      await this.store.forgetSnapshot();
      return false;
    }
    // The older journals were for snapshots the marker no longer names. They leave this.journals before
    // they are closed: a save while their files are being removed must not meet a closed journal.
    const older = this.journals.filter((j) => j !== journal);
    this.journals = [journal];
    for (const old of older) await old.discard();
    this.named = true;
    this.snapshotGeneration = generation;
    // The saves while it was written are in its journal: they count towards the next one.
    this.savesSinceSnapshot -= savesBefore;
    return true;
  }

  /**
   * Take a snapshot every `everyMs` while the facts change, and early once its journal holds
   * `maxChanges` saves, so a start after a crash reads one file and at most a few minutes' changes.
   */
  startPeriodicSnapshots(options: PeriodicSnapshots = {}): void {
    const everyMs = options.everyMs ?? 5 * 60_000;
    if (!this.snapshotFile || !this.useSnapshot || everyMs <= 0) return;
    this.maxChanges = options.maxChanges ?? this.maxChanges;
    const schedule =
      options.schedule ??
      ((tick, ms) => {
        const timer = setInterval(() => void tick(), ms);
        timer.unref();
        return () => clearInterval(timer);
      });
    this.stopTimer?.();
    this.stopTimer = schedule(() => this.periodicSnapshot(), everyMs);
  }

  /** A snapshot unless the facts are as the named one holds them or one is being taken; a failure is only said. */
  periodicSnapshot(): Promise<boolean> {
    if (this.snapshotting || (this.named && this.generation === this.snapshotGeneration)) return Promise.resolve(false);
    return this.saveSnapshot().catch((error: Error) => {
      this.warn(`metrics snapshot not saved: ${error.message}`);
      return false;
    });
  }

  /** How many saves are running. */
  get savesInFlight(): number {
    return this.saves.size;
  }

  /** Resolves once no save is running (including those begun while it waits). */
  async settled(): Promise<void> {
    while (this.saves.size > 0) await Promise.allSettled([...this.saves]);
  }

  /**
   * At a clean stop: no more periodic snapshots, and a last one (unless the named one is current).
   * The journal stays open: a save still under way or begun after this (an execution that outlived
   * the stop's wait) puts its plan in it before writing its fact item, as any save does, so the
   * snapshot still holds the stored facts whenever that write lands. close() ends it once the store is closed.
   */
  async saveFinalSnapshot(): Promise<boolean> {
    this.stopTimer?.();
    this.stopTimer = undefined;
    await this.snapshotting?.catch(() => false);
    if (this.named && this.generation === this.snapshotGeneration) return true;
    return await this.saveSnapshot();
  }

  /**
   * Once the store is closed (no fact item can be written any more): the journals are closed, kept on
   * disk for the next start, and a save from now on is refused before it changes anything (see onPlanSaved).
   */
  close(): void {
    this.stopTimer?.();
    this.stopTimer = undefined;
    this.closed = true;
    for (const journal of this.journals) journal.close();
  }

  /** The journals cannot be written: the named snapshot no longer holds the stored facts, so the marker forgets it. */
  private async abandonSnapshot(): Promise<void> {
    const journals = this.journals;
    this.journals = [];
    this.named = false;
    await this.store?.forgetSnapshot();
    for (const journal of journals) await journal.discard().catch(() => undefined);
  }

  /** Keep `next` unless the facts held come from a later plan version. */
  private apply(planId: string, next: PlanFacts): void {
    if (this.facts.update(planId, next)) this.generation += 1;
  }

  /** The Publish events hook: a saved plan's facts replace its older ones, in memory and in the table. */
  readonly onPlanSaved = (plan: Plan): Promise<void> => {
    if (this.closed) {
      // The store is closed, so the fact item cannot be written; the plan's outbox stays, and the sweeper
      // delivers it again after the next start, writing its facts then. Nothing here changes meanwhile.
      return Promise.reject(new Error(`metrics: plan ${plan.planId} saved after the stack closed its store; its figures are updated when the sweeper delivers its events again after the next start`));
    }
    const saving = this.save(plan);
    this.saves.add(saving);
    const done = () => this.saves.delete(saving);
    saving.then(done, done);
    return saving;
  };

  private async save(plan: Plan): Promise<void> {
    const planId = plan.planId;
    this.inFlight.set(planId, (this.inFlight.get(planId) ?? 0) + 1);
    try {
      if (this.journals.length > 0) {
        try {
          for (const journal of this.journals) journal.append([planId]);
        } catch (error) {
          this.warn(
            `Metrics: a plan change could not be added to the metrics change journal (${(error as Error).message}). The saved copy of the commissioner figures (metrics-facts.snapshot) will not be used: the next start rebuilds them from every plan's stored facts, which is correct but slower (seconds per 100,000 plans). Nothing is lost.`,
          );
          await this.abandonSnapshot();
        }
      } else if (this.named) {
        this.named = false;
        await this.store?.forgetSnapshot();
      }
      const next = planFacts(plan);
      this.apply(planId, next);
      try {
        await this.store?.put(planId, next);
        this.unsynced.delete(planId);
      } catch (error) {
        this.unsynced.add(planId);
        throw error;
      }
      // Early, so a start after a crash reads back at most about maxChanges plans (none named yet counts too).
      this.savesSinceSnapshot += 1;
      if (this.stopTimer && this.savesSinceSnapshot >= this.maxChanges) void this.periodicSnapshot();
    } finally {
      const running = (this.inFlight.get(planId) ?? 1) - 1;
      if (running > 0) this.inFlight.set(planId, running);
      else this.inFlight.delete(planId);
    }
  }

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
