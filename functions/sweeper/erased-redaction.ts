import { GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { PlanRepository } from '../../lib/adapters/dynamodb/plan-repository.ts';
import { keys } from '../../lib/adapters/dynamodb/keys.ts';
import { markerFields, moveStepMarker } from './step-marker.ts';
import { redactAnswerText, redactEvent, redactPlan } from '../../lib/domain/redaction.ts';

/** A plan item's key: `pk` is the plan's partition (PLAN#<planId>), `sk` the plan item's own sort key. */
const PLAN_KEY = keys.plan('');

/** Where the pass has got to: stored under keys.erasedRedactionMarker(). */
export interface ErasedRedactionMarker {
  /**
   * What the pass walks: 'table', every item of the table in key order. A marker without it was left by
   * the stage-by-stage walk of releases before 2026-11-29, which a plan moving back to a stage it had
   * already walked (active to allocating, after a review's 'adjust' or an allocation ended) escaped with
   * her words kept: on reading one, the pass starts again from the beginning of the table.
   */
  walk: 'table';
  /** The key the walk goes on after (the scan's LastEvaluatedKey); none before its first page, and once done. */
  cursor?: Record<string, unknown>;
  done: boolean;
  /** Items read so far; of those, erased plans looked at, and of those, plans whose free text was still there. */
  scanned: number;
  examined: number;
  redacted: number;
  /** Bumped on every move: the condition that keeps two sweeps from moving the marker at once. */
  step: number;
  startedAt: string;
  doneAt?: string;
}

export interface ErasedRedactionReport {
  /** Items read this run (the bound), erased plans among them, and those whose free text this run replaced. */
  scanned: number;
  examined: number;
  redacted: number;
  /** The whole table has been walked: later runs only read the marker. */
  finished: boolean;
}

export interface ErasedRedactionOptions {
  /** Items read per page of the walk; the marker moves after each. */
  pageSize?: number;
  /** At most this many items read per run. */
  maxItems?: number;
}

/**
 * Plans whose identity was erased or anonymised before free text was redacted at erasure (releases
 * before 2026-11-28) still hold her notes, goals and words: the retention sweep skips plans already
 * marked erased, so nothing else would ever remove them. Each sweeper run (AWS and the embedded stack)
 * walks a bounded share of the table, redacts the erased plans that still hold free text (the plan, its
 * history, the answers kept for its Idempotency-Keys: what erasure does today, through the same
 * repository writes), and records where it got to in a marker; when the whole table is walked the
 * marker says done, and from then a run costs one read of the marker.
 *
 * It walks the table itself (a Scan, in key order), not the plans stage by stage: a plan's key never
 * changes, so a plan that changes stage while the pass walks (even back to a stage already walked) is
 * still ahead of the cursor or already behind it redacted, never skipped. The cost is reading every item
 * once (history, audit records and the rest as well as plans); the filter keeps all but the erased plan
 * items' keys in the store, so nothing of an identity record or an audit record reaches the sweeper.
 *
 * Per run while walking: one marker read, at most `maxItems` (default 10,000) items read in pages of
 * `pageSize` (default 1,000; DynamoDB also ends a page at 1 MB) with one conditional marker write per page, and for each erased plan a
 * consistent read of it, one history query and one stored-answers query, and writes only for what still
 * holds free text (a plan already redacted is not rewritten). Idempotent: a page redone after a failed
 * run finds nothing left to change. Plans erased from this release on are redacted by the erasure itself.
 */
export async function redactErasedPlans(deps: { plans: PlanRepository }, now: string, options: ErasedRedactionOptions = {}): Promise<ErasedRedactionReport> {
  const pageSize = options.pageSize ?? 1000;
  const maxItems = options.maxItems ?? 10_000;
  const { client, tableName } = deps.plans;
  const stored = (await client.send(new GetCommand({ TableName: tableName, Key: keys.erasedRedactionMarker(), ConsistentRead: true }))).Item;
  const previousWalk = stored?.walk === 'table' ? markerFields<ErasedRedactionMarker>(stored) : undefined;
  // A marker of the stage-by-stage walk (or none): start from the beginning, moving it on from its step.
  let position: ErasedRedactionMarker = previousWalk ?? { walk: 'table', done: false, scanned: 0, examined: 0, redacted: 0, step: typeof stored?.step === 'number' ? stored.step : 0, startedAt: now };
  let previousStep: number | undefined = stored ? position.step : undefined;
  const report: ErasedRedactionReport = { scanned: 0, examined: 0, redacted: 0, finished: position.done };
  while (!position.done && report.scanned < maxItems) {
    const page = await client.send(
      new ScanCommand({
        TableName: tableName,
        Limit: Math.min(pageSize, maxItems - report.scanned),
        ...(position.cursor ? { ExclusiveStartKey: position.cursor } : {}),
        FilterExpression: 'sk = :planSk AND attribute_exists(identityErasedAt)',
        ProjectionExpression: 'pk',
        ExpressionAttributeValues: { ':planSk': PLAN_KEY.sk },
      }),
    );
    let examined = 0;
    let redacted = 0;
    for (const item of page.Items ?? []) {
      const plan = await deps.plans.getPlan(String(item.pk).slice(PLAN_KEY.pk.length));
      if (!plan?.identityErasedAt) continue;
      examined += 1;
      const history = await deps.plans.redactHistory(plan.planId, redactEvent);
      const answers = await deps.plans.redactStoredResponses(plan.planId, redactAnswerText);
      const planHoldsText = JSON.stringify(redactPlan(plan)) !== JSON.stringify(plan);
      if (planHoldsText) await deps.plans.redactPlanAndMarkErased(plan.planId, redactPlan, plan.identityErasedAt);
      if (history > 0 || answers > 0 || planHoldsText) redacted += 1;
    }
    const scanned = page.ScannedCount ?? 0;
    report.scanned += scanned;
    report.examined += examined;
    report.redacted += redacted;
    const { cursor: _cursor, ...rest } = position;
    const next: ErasedRedactionMarker = {
      ...rest,
      ...(page.LastEvaluatedKey ? { cursor: page.LastEvaluatedKey } : { done: true, doneAt: now }),
      scanned: position.scanned + scanned,
      examined: position.examined + examined,
      redacted: position.redacted + redacted,
      step: position.step + 1,
    };
    // Another sweep moved the marker meanwhile: leave the rest to it (what this page did is idempotent).
    if (!(await moveMarker(deps.plans, previousStep, next))) return report;
    position = next;
    previousStep = next.step;
  }
  return { ...report, finished: position.done };
}

const moveMarker = (plans: PlanRepository, previousStep: number | undefined, next: ErasedRedactionMarker) => moveStepMarker(plans, { ...keys.erasedRedactionMarker(), ...next }, previousStep);
