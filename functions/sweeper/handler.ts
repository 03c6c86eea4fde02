import { deliverOutbox, type PublishDeps } from '../publish-events/handler.ts';
import { isAllowedIn } from '../../lib/domain/lifecycle.ts';
import { addDays, retentionCutoff, retentionOf, retentionWords, type RetentionPeriod } from '../../lib/domain/calendar.ts';
import type { PlanRepository } from '../../lib/adapters/dynamodb/plan-repository.ts';
import type { WorkflowStarter } from '../../workflows/plan-command/state.ts';
import { awsDeps, awsSubscriptionCleanup } from '../../lib/runtime/aws.ts';
import { readFunctionConfig } from '../../lib/config.ts';
import { recordSweep } from '../../lib/runtime/observability.ts';
import { FactStore } from '../../lib/metrics/fact-store.ts';
import { factsWriter } from '../../lib/metrics/index.ts';
import { eraseIdentity, type ErasureDeps } from '../../lib/runtime/erasure.ts';
import type { DynamoAuditLog } from '../../lib/adapters/dynamodb/audit-log.ts';
import { backfillFacts, type FactsBackfillReport } from './facts-backfill.ts';
import { redactErasedPlans } from './erased-redaction.ts';
import { removeAwsSubscriptions, type AwsSubscriptionCleanupDeps } from './aws-subscription-cleanup.ts';
import { indexOpenOffers } from './open-offer-index.ts';

export interface SweeperDeps extends PublishDeps {
  plans: PlanRepository;
  workflow: WorkflowStarter;
  clock: () => string;
  /** Outbox entries younger than this are still being published by their own execution. */
  outboxGraceMs?: number;
  /** Whether this sweep also checks capacity holds against their plans (hourly is plenty). */
  shouldReconcile?: (now: string) => boolean;
  /** Closed and withdrawn plans have their identity erased this many days after they ended. */
  retention?: RetentionPeriod & ErasureDeps;
  /**
   * On AWS: rebuild a bounded share of the plans' metric facts while the metrics marker is of an older
   * schema (facts-backfill.ts). The embedded stack rebuilds them itself when it starts.
   */
  factsBackfill?: (now: string) => Promise<FactsBackfillReport | undefined>;
  /** On AWS: the audit log's by-plan index marker (audit-log.ts), set once where there is none: the old marker's day, else two days ahead. */
  auditPlanIndex?: Pick<DynamoAuditLog, 'planIndexMarkers' | 'markPlanIndexFrom'>;
  /** On AWS only: remove the webhook subscriptions an older release left there (aws-subscription-cleanup.ts). The embedded stack signs with its own. */
  awsSubscriptionCleanup?: AwsSubscriptionCleanupDeps;
  /**
   * How long after it is first seen the pass that keys older offered views for the open-offer index starts
   * walking the table (open-offer-index.ts): an hour on AWS, where an older release's containers may still
   * be writing; none (the default) in the embedded stack, the only writer of its store.
   */
  openOfferIndexSettleMs?: number;
}

export interface SweepReport {
  timersSent: number;
  timersRefused: number;
  plansRedelivered: number;
  redeliveryFailures: number;
  holdsReleased: number;
  /** Plans past their retention period that this run anonymised (their identity no longer shown, their free text redacted). */
  plansAnonymised: number;
  /**
   * Identity records this run deleted. Fewer than plansAnonymised when her record stays: another plan of
   * hers still uses it, or a referral of her took her person record over while the anonymisation ran.
   */
  identitiesErased: number;
  /** Plans erased before free text was redacted at erasure whose free text this run replaced (erased-redaction.ts). */
  erasedPlansRedacted: number;
  /** On AWS: webhook subscription records (each with its secrets) left by an older release that this run removed. */
  awsSubscriptionsRemoved?: number;
  /** Plans whose metric facts this run rebuilt (after a facts schema change). */
  factsRebuilt: number;
  /** Offered allocation views stored before the open-offer index key that this run gave it (open-offer-index.ts). */
  openOffersIndexed?: number;
  /** The steps that threw this run (each logged); the steps after them still ran. */
  failedSteps: FailedStep[];
}

/**
 * Erase the identity of plans whose retention period has ended; the pseudonymous plan stays for the
 * figures. Counts the plans anonymised and, apart, the identity records actually deleted.
 */
export async function applyRetention(deps: Pick<SweeperDeps, 'plans' | 'retention'>, now: string): Promise<{ plansAnonymised: number; identitiesErased: number }> {
  const retention = deps.retention;
  if (!retention) return { plansAnonymised: 0, identitiesErased: 0 };
  const before = retentionCutoff(now, retention);
  let anonymised = 0;
  let erased = 0;
  let waiting = 0;
  for (const stage of ['closed', 'withdrawn'] as const) {
    for (const plan of await deps.plans.endedBefore(stage, before)) {
      const outcome = await eraseIdentity(retention, plan, { who: 'sweeper', role: 'system', why: `retention period of ${retentionWords(retention)} after the plan ended`, action: 'anonymise' }, now);
      if (outcome.done) {
        anonymised += 1;
        if (outcome.identityErased) erased += 1;
      } else if (outcome.waitingForIdentityKey) waiting += 1;
    }
  }
  if (waiting > 0) console.warn(`retention: ${waiting} plan(s) past their retention period not anonymised: the identity key is not available, so her other plans cannot be found`);
  return { plansAnonymised: anonymised, identitiesErased: erased };
}

/** Holds younger than this may belong to an execution still running. */
const HOLD_MIN_AGE_MS = 10 * 60_000;

/**
 * Give back capacity held by allocations that are no longer offered or accepted, or that no saved
 * plan has (an execution that reserved places and then died before saving or compensating).
 */
export async function reconcileHolds(deps: Pick<SweeperDeps, 'plans' | 'services'>, now: string): Promise<number> {
  if (!deps.services) return 0;
  let released = 0;
  const cutoff = new Date(new Date(now).getTime() - HOLD_MIN_AGE_MS).toISOString();
  for (const state of await deps.services.states()) {
    for (const [allocationId, hold] of Object.entries(state.holds ?? {})) {
      if (hold.since > cutoff) continue;
      const plan = await deps.plans.getPlan(hold.planId);
      const allocation = plan?.allocations.find((a) => a.allocationId === allocationId && a.serviceId === state.serviceId);
      if (allocation && (allocation.status === 'offered' || allocation.status === 'accepted')) continue;
      await deps.services.release(state.serviceId, allocationId);
      released += 1;
    }
  }
  return released;
}

/**
 * Plan queries of the audit log read through its by-plan index only from the day its marker names:
 * before it, records written by a release without the index key may exist. A table made with the index
 * was marked when it was created; a deployed table that gained it is marked here with the day after
 * tomorrow (UTC, as audit days are), by when no container of an older release is still writing and the
 * new index has long finished building. A table marked by a release before 2026-11-28, at the old key
 * that no table policy protects, gets the protected marker with that marker's day: plan queries already
 * read by that day, so none answers differently, and records from then on stay read through the index
 * (two days ahead would have every plan query of the days between read all their records, not the
 * plan's: correct, but many times the reads). From then on the old marker is never read. The marker is
 * then as fixed as a record: rolling back to a release without the index means lifting the table policy
 * to remove it (docs/deploy.md). Not in the embedded stack: dynalite cannot add an index to a table, so
 * an older data directory never has it, and one with it is marked (again, at the new key) when it starts.
 */
export async function markAuditPlanIndex(deps: Pick<SweeperDeps, 'auditPlanIndex'>, now: string): Promise<boolean> {
  if (!deps.auditPlanIndex) return false;
  const markers = await deps.auditPlanIndex.planIndexMarkers();
  if (markers.marked) return false;
  return deps.auditPlanIndex.markPlanIndexFrom(markers.indexedFrom ?? addDays(now, 2).slice(0, 10));
}

/** A maintenance step of one sweep that threw: the other steps still ran. */
export interface FailedStep {
  step: SweepStep;
  /** The error's name and message (codes and ids; the steps put no words of hers in their errors). */
  error: string;
}

export type SweepStep = 'timers' | 'redelivery' | 'holds' | 'retention' | 'erased-redaction' | 'aws-subscription-cleanup' | 'open-offer-index' | 'facts-rebuild' | 'audit-index-marker';

/** A sweep in which at least one step failed: thrown on AWS after the run, so the sweeper's error alarm fires. */
export class SweepStepsFailed extends Error {
  readonly report: SweepReport;
  constructor(report: SweepReport) {
    super(`sweeper: ${report.failedSteps.length} step(s) failed: ${report.failedSteps.map((f) => `${f.step} (${f.error})`).join('; ')}`);
    this.name = 'SweepStepsFailed';
    this.report = report;
  }
}

/**
 * Every minute: turn due deadlines into timer commands (through the same state machine as any
 * other command) and redeliver outbox events that their own execution failed to publish.
 *
 * Each step runs whatever the steps before it did: a step that throws is logged and named in the
 * report's `failedSteps`, and the next one runs (a broken redaction pass must not stop the facts
 * rebuild or the audit marker, nor a failed read of due deadlines the redelivery). The order stays
 * where it matters: deadlines and redeliveries first, the facts rebuild and the marker last.
 */
export async function sweep(deps: SweeperDeps): Promise<SweepReport> {
  const now = deps.clock();
  const report: SweepReport = { timersSent: 0, timersRefused: 0, plansRedelivered: 0, redeliveryFailures: 0, holdsReleased: 0, plansAnonymised: 0, identitiesErased: 0, erasedPlansRedacted: 0, factsRebuilt: 0, failedSteps: [] };
  const step = async (name: SweepStep, run: () => Promise<void>) => {
    try {
      await run();
    } catch (thrown) {
      const error = thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : String(thrown);
      report.failedSteps.push({ step: name, error });
      console.error(`sweeper: the ${name} step failed; the other steps still run:`, error);
    }
  };
  await step('timers', async () => {
    for (const plan of await deps.plans.dueBefore(now)) {
      for (const deadline of plan.deadlines.filter((d) => d.dueAt <= now && isAllowedIn(d.command, plan.stage))) {
        const outcome = await deps.workflow.startSync({
          now,
          command: {
            name: deadline.command,
            planId: plan.planId,
            payload: { deadlineId: deadline.deadlineId },
            actor: { role: 'timer', sub: 'sweeper' },
            idempotency: { key: `timer:${deadline.deadlineId}:${deadline.dueAt}`, fingerprint: `${deadline.deadlineId}@${deadline.dueAt}` },
          },
        });
        if (outcome.status === 'SUCCEEDED') report.timersSent += 1;
        else report.timersRefused += 1; // a concurrent change won the race; the next sweep looks again
      }
    }
  });
  await step('redelivery', async () => {
    const graceMs = deps.outboxGraceMs ?? 30_000;
    const olderThan = new Date(new Date(now).getTime() - graceMs).toISOString();
    for (const plan of await deps.plans.pendingOutbox(olderThan)) {
      try {
        await deliverOutbox(deps, plan);
        report.plansRedelivered += 1;
      } catch {
        report.redeliveryFailures += 1;
      }
    }
  });
  const reconciling = deps.shouldReconcile?.(now) ?? false;
  if (reconciling) {
    await step('holds', async () => {
      report.holdsReleased = await reconcileHolds(deps, now);
    });
    await step('retention', async () => {
      const retained = await applyRetention(deps, now);
      report.plansAnonymised = retained.plansAnonymised;
      report.identitiesErased = retained.identitiesErased;
    });
  }
  // Wherever plans are anonymised, plans erased by a release before free text went with her identity
  // are redacted too, a bounded share per run; once all are, a run reads only the pass's marker.
  if (deps.retention)
    await step('erased-redaction', async () => {
      report.erasedPlansRedacted = (await redactErasedPlans(deps, now)).redacted;
    });
  const subscriptionCleanup = deps.awsSubscriptionCleanup;
  if (subscriptionCleanup)
    await step('aws-subscription-cleanup', async () => {
      report.awsSubscriptionsRemoved = (await removeAwsSubscriptions(subscriptionCleanup, now)).removed;
    });
  // A bounded share of the table per run until every offered view is keyed; then nothing (the marker is kept).
  await step('open-offer-index', async () => {
    const indexed = (await indexOpenOffers(deps, now, deps.openOfferIndexSettleMs !== undefined ? { settleMs: deps.openOfferIndexSettleMs } : {})).indexed;
    if (indexed > 0) report.openOffersIndexed = indexed;
  });
  // Last, so deadlines and redeliveries never wait behind it.
  await step('facts-rebuild', async () => {
    report.factsRebuilt = (await deps.factsBackfill?.(now))?.plans ?? 0;
  });
  // After everything else, so a failure to read or write the marker holds back nothing but itself.
  if (reconciling)
    await step('audit-index-marker', async () => {
      await markAuditPlanIndex(deps, now);
    });
  return report;
}

/**
 * The Lambda's run: the sweep, its metrics, then, if a step failed, the run fails, so the sweeper's
 * errors alarm (lib/infra/alarms.ts: `sweeper-errors`, on the function's Errors metric) fires for a
 * step that keeps failing. The embedded stack calls sweep() and only logs.
 */
export function makeHandler(deps: SweeperDeps) {
  return async (): Promise<SweepReport & { overduePlans?: number }> => {
    const report = await sweep(deps);
    const now = new Date(deps.clock());
    // The overdue gauge every five minutes is enough for its alarm and costs a keys-only count.
    const overduePlans = now.getUTCMinutes() % 5 === 0 ? await deps.plans.countAlerted() : undefined;
    recordSweep({ ...report, ...(overduePlans !== undefined ? { overduePlans } : {}) });
    if (report.failedSteps.length > 0) throw new SweepStepsFailed(report);
    return { ...report, ...(overduePlans !== undefined ? { overduePlans } : {}) };
  };
}

/** Time a run keeps for what follows the facts rebuild's last page (its marker update, the gauge). */
const FACTS_BACKFILL_RESERVE_MS = 20_000;

let built: ReturnType<typeof makeHandler> | undefined;
/** The Lambda context of the run under way: the facts rebuild stops taking pages when its time runs short. */
let context: { getRemainingTimeInMillis(): number } | undefined;
export const handler = (_event?: unknown, lambdaContext?: { getRemainingTimeInMillis(): number }) => {
  context = lambdaContext;
  // The sweeper runs every minute; checking holds once an hour is enough to mend a crash.
  const deps = awsDeps();
  const facts = new FactStore(deps.plans.client, deps.plans.tableName);
  built ??= makeHandler({
    ...deps,
    // Redelivered outboxes update the commissioner figures just as a first delivery does.
    onPlanSaved: factsWriter(facts),
    factsBackfill: (now) => backfillFacts({ plans: deps.plans, facts }, now, { hasTime: () => (context?.getRemainingTimeInMillis() ?? Infinity) > FACTS_BACKFILL_RESERVE_MS }),
    clock: () => new Date().toISOString(),
    shouldReconcile: (now) => new Date(now).getUTCMinutes() === 0,
    retention: { ...retentionOf(readFunctionConfig(process.env).RETENTION_DAYS), plans: deps.plans, audit: deps.audit, identityKey: deps.identityKey },
    auditPlanIndex: deps.audit,
    awsSubscriptionCleanup: awsSubscriptionCleanup(deps),
    openOfferIndexSettleMs: 3600_000,
  });
  return built();
};
