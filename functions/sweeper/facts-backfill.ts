import type { PlanRepository } from '../../lib/adapters/dynamodb/plan-repository.ts';
import { ALL_SHARDS } from '../../lib/adapters/dynamodb/keys.ts';
import { STAGES } from '../../lib/domain/lifecycle.ts';
import { planFacts } from '../../lib/domain/metrics/facts.ts';
import type { Plan } from '../../lib/domain/schemas.ts';
import type { FactStore, FactsRebuild } from '../../lib/metrics/fact-store.ts';

/** Every stage a saved plan can be in, in the order the rebuild walks them. */
const PLAN_STAGES: readonly string[] = STAGES.filter((stage) => stage !== 'none');
/** Then every facts shard, for facts of another schema written while the plans were walked. */
const VERIFY_STAGES: readonly string[] = ALL_SHARDS.map((shard) => `verify-${shard}`);
/** The rebuild's stages in order; after the last, 'done'. */
const REBUILD_STAGES: readonly string[] = [...PLAN_STAGES, ...VERIFY_STAGES];

/** The position after a page of `count` plans at `position`: on to `nextCursor`, or else to the next stage's start. */
function advanced(position: FactsRebuild, count: number, nextCursor: string | undefined): FactsRebuild {
  const { cursor: _cursor, ...rest } = position;
  const moved = { ...rest, step: position.step + 1, plans: position.plans + count };
  return nextCursor ? { ...moved, cursor: nextCursor } : { ...moved, stage: REBUILD_STAGES[REBUILD_STAGES.indexOf(position.stage) + 1] ?? 'done' };
}
/**
 * How long after the rebuild began the verification waits: Lambda containers of the release before may
 * still be running for a while after a deploy (a function runs at most 15 minutes), and what they write
 * is facts of the older schema, replacing ones this rebuild wrote.
 */
const OLD_CODE_GONE_MS = 15 * 60_000;

/**
 * Work out each plan's facts and offer them to the store, `concurrency` writes in flight at once; a plan
 * named by its id is read first (and skipped if it is gone).
 */
async function rebuildFactsOf(deps: { plans: PlanRepository; facts: FactStore }, plans: readonly (Plan | string)[], concurrency: number): Promise<void> {
  for (let i = 0; i < plans.length; i += concurrency) {
    await Promise.all(
      plans.slice(i, i + concurrency).map(async (entry) => {
        const plan = typeof entry === 'string' ? await deps.plans.getPlan(entry) : entry;
        if (plan) await deps.facts.put(plan.planId, planFacts(plan));
      }),
    );
  }
}

export interface FactsBackfillOptions {
  /** Plans read (and facts written) per page; the marker records the position after each page. */
  pageSize?: number;
  /** At most this many plans per run. */
  maxPlans?: number;
  /** Whether another page fits in this run (the Lambda's remaining time); asked before each page. */
  hasTime?: () => boolean;
  /** Fact writes in flight at once. */
  concurrency?: number;
  /** How long after it began the rebuild verifies the facts shards (default 15 minutes; see OLD_CODE_GONE_MS). */
  verifyAfterMs?: number;
}

export interface FactsBackfillReport {
  /** Plans whose facts this run worked out and offered to the store (a newer stored one is kept). */
  plans: number;
  /** The rebuild finished in this run: the marker now says every plan's facts are of this schema. */
  finished: boolean;
}

/**
 * The AWS side of a facts schema change. The embedded stack rebuilds every plan's facts when it starts
 * (MetricsIndex); on AWS the loader skips stored facts of another schema, and Publish events writes a
 * plan's facts only when a command changes them, so a plan no command touches again (a closed one)
 * would stay out of the figures. Each sweeper run therefore, while the metrics marker's schema is not
 * this store's (FACTS_SCHEMA_VERSION), works out the facts of a bounded number of plans from the plan items (the
 * same planFacts the embedded stack and Publish events use), stage by stage, records where it got to in
 * the marker, then (once the release before can no longer be running) reads every facts shard for facts
 * of another schema and redoes those plans, and sets the marker's schema once all that is done.
 *
 * Rollbacks need nothing by hand. While a rebuild is under way the marker has no schema
 * (FactStore.advanceRebuild), so the release rolled back to, even one from before that rule, finds its
 * facts incomplete (some were rewritten at the newer schema) and its sweeper starts over toward its own
 * schema. A rebuild toward another schema found in the marker is another release's (rolled back to, or
 * deployed again meanwhile) that may have rewritten facts this release had rebuilt, so this one starts
 * over from the beginning too, its 15-minute wait counted from then: one conditional write, so of two
 * sweepers that read that marker one starts over and the other leaves it.
 *
 * Idempotent: a page is redone at worst (after a failed run), and every write is FactStore.put, which
 * replaces only missing facts, facts of another schema, or facts of an older plan version, so facts
 * Publish events wrote meanwhile from a later save are never replaced by these. A plan that moves to a
 * stage already walked is saved by a command, whose Publish events writes its facts: while the marker is
 * not complete Publish events writes them whatever its digest says (functions/publish-events).
 */
export async function backfillFacts(deps: { plans: PlanRepository; facts: FactStore }, now: string, options: FactsBackfillOptions = {}): Promise<FactsBackfillReport | undefined> {
  const pageSize = options.pageSize ?? 100;
  const maxPlans = options.maxPlans ?? 2000;
  const hasTime = options.hasTime ?? (() => true);
  const concurrency = options.concurrency ?? 8;
  const marker = await deps.facts.marker();
  if (marker.complete) return undefined;
  let position: FactsRebuild;
  if (marker.rebuild?.schema === deps.facts.schema) position = marker.rebuild;
  else {
    // None yet, or another release's (see above): from the beginning.
    position = { schema: deps.facts.schema, stage: PLAN_STAGES[0] as string, step: 0, plans: 0, startedAt: now };
    if (!(await deps.facts.advanceRebuild(undefined, position))) return { plans: 0, finished: false };
  }
  let plans = 0;
  while (PLAN_STAGES.includes(position.stage)) {
    if (plans >= maxPlans || !hasTime()) return { plans, finished: false };
    const page = await deps.plans.listByStage(position.stage, Math.min(pageSize, maxPlans - plans), position.cursor);
    await rebuildFactsOf(deps, page.items, concurrency);
    plans += page.items.length;
    const next = advanced(position, page.items.length, page.nextCursor);
    // Another run moved the marker (or finished): leave the rest to it.
    if (!(await deps.facts.advanceRebuild(position, next))) return { plans, finished: false };
    position = next;
  }
  // Every plan walked. Facts of the older schema may have been written meanwhile by the release before
  // (its Publish events replaces facts of a newer plan version whatever their schema), and once the marker
  // is complete nothing would rewrite them while the plan's figures stay the same: so, once that release
  // can no longer be running, each shard is read for facts of another schema and those plans redone.
  let read = 0;
  while (VERIFY_STAGES.includes(position.stage)) {
    if (Date.parse(now) - Date.parse(position.startedAt) < (options.verifyAfterMs ?? OLD_CODE_GONE_MS)) return { plans, finished: false };
    // Facts items read count against the run's bound as plans do (a read is cheaper than a rebuild).
    if (plans + read >= maxPlans || !hasTime()) return { plans, finished: false };
    const shard = Number(position.stage.slice('verify-'.length));
    const page = await deps.facts.staleFactsPage(shard, pageSize, position.cursor);
    read += page.read;
    await rebuildFactsOf(deps, page.planIds, concurrency);
    plans += page.planIds.length;
    const next = advanced(position, page.planIds.length, page.nextCursor);
    if (!(await deps.facts.advanceRebuild(position, next))) return { plans, finished: false };
    position = next;
  }
  return { plans, finished: await deps.facts.finishRebuild(position, now) };
}
