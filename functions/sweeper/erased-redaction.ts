import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { PlanRepository } from '../../lib/adapters/dynamodb/plan-repository.ts';
import { keys } from '../../lib/adapters/dynamodb/keys.ts';
import { STAGES } from '../../lib/domain/lifecycle.ts';
import { redactAnswerText, redactEvent, redactPlan } from '../../lib/domain/redaction.ts';

/**
 * Stages in the order a plan moves through them (a plan that changes stage while the pass walks mostly
 * moves to one not walked yet). Every stage: before 2026-11-28 an erasure request was allowed on an
 * open plan too.
 */
const WALKED_STAGES: readonly string[] = STAGES.filter((stage) => stage !== 'none');

/** Where the pass has got to: stored under keys.erasedRedactionMarker(). */
export interface ErasedRedactionMarker {
  /** The stage being walked, or 'done'. */
  stage: string;
  /** The page of that stage to read next (listByStage's cursor). */
  cursor?: string;
  /** Plans looked at so far, and of those, plans whose free text was still there. */
  examined: number;
  redacted: number;
  /** Bumped on every move: the condition that keeps two sweeps from moving the marker at once. */
  step: number;
  startedAt: string;
  doneAt?: string;
}

export interface ErasedRedactionReport {
  /** Plans read this run (the bound), and erased plans among them whose free text this run replaced. */
  examined: number;
  redacted: number;
  /** The whole table has been walked: later runs only read the marker. */
  finished: boolean;
}

export interface ErasedRedactionOptions {
  /** Plans per page; the marker moves after each. */
  pageSize?: number;
  /** At most this many plans read per run. */
  maxPlans?: number;
}

/**
 * Plans whose identity was erased or anonymised before free text was redacted at erasure (releases
 * before 2026-11-28) still hold her notes, goals and words: the retention sweep skips plans already
 * marked erased, so nothing else would ever remove them. Each sweeper run (AWS and the embedded stack)
 * walks a bounded share of the plans stage by stage, redacts the erased ones that still hold free text
 * (the plan, its history, the answers kept for its Idempotency-Keys: what erasure does today, through
 * the same repository writes), and records where it got to in a marker; when every stage is walked the
 * marker says done, and from then a run costs one read of the marker.
 *
 * Per run while walking: one marker read, at most `maxPlans` (default 100) plans read in pages of
 * `pageSize` (a byStage query and a batch read each) with one conditional marker write per page, and for
 * each erased plan one history query and one stored-answers query, and writes only for what still holds
 * free text (a plan already redacted is not rewritten). Idempotent: a page redone after a failed run
 * finds nothing left to change. Plans erased from this release on are redacted by the erasure itself.
 */
export async function redactErasedPlans(deps: { plans: PlanRepository }, now: string, options: ErasedRedactionOptions = {}): Promise<ErasedRedactionReport> {
  const pageSize = options.pageSize ?? 50;
  const maxPlans = options.maxPlans ?? 100;
  const { client, tableName } = deps.plans;
  const key = keys.erasedRedactionMarker();
  const stored = (await client.send(new GetCommand({ TableName: tableName, Key: key, ConsistentRead: true }))).Item;
  let position: ErasedRedactionMarker = stored ? markerOf(stored) : { stage: WALKED_STAGES[0] as string, examined: 0, redacted: 0, step: 0, startedAt: now };
  const report: ErasedRedactionReport = { examined: 0, redacted: 0, finished: position.stage === 'done' };
  let previousStep: number | undefined = stored ? position.step : undefined;
  while (position.stage !== 'done' && report.examined < maxPlans) {
    // Oldest first: an erased plan changed while the pass walks its stage (a follow-up recorded on an exited
    // plan) moves ahead of the cursor, not behind it.
    const page = await deps.plans.listByStage(position.stage, Math.min(pageSize, maxPlans - report.examined), position.cursor, 'oldest-first');
    let redacted = 0;
    for (const plan of page.items) {
      if (!plan.identityErasedAt) continue;
      const history = await deps.plans.redactHistory(plan.planId, redactEvent);
      const answers = await deps.plans.redactStoredResponses(plan.planId, redactAnswerText);
      const planHoldsText = JSON.stringify(redactPlan(plan)) !== JSON.stringify(plan);
      if (planHoldsText) await deps.plans.redactPlanAndMarkErased(plan.planId, redactPlan, plan.identityErasedAt);
      if (history > 0 || answers > 0 || planHoldsText) redacted += 1;
    }
    report.examined += page.items.length;
    report.redacted += redacted;
    const { cursor: _cursor, ...rest } = position;
    const nextStage = WALKED_STAGES[WALKED_STAGES.indexOf(position.stage) + 1] ?? 'done';
    const next: ErasedRedactionMarker = {
      ...rest,
      ...(page.nextCursor ? { cursor: page.nextCursor } : { stage: nextStage }),
      examined: position.examined + page.items.length,
      redacted: position.redacted + redacted,
      step: position.step + 1,
      ...(!page.nextCursor && nextStage === 'done' ? { doneAt: now } : {}),
    };
    // Another sweep moved the marker meanwhile: leave the rest to it (what this page did is idempotent).
    if (!(await moveMarker(deps.plans, previousStep, next))) return report;
    position = next;
    previousStep = next.step;
  }
  return { ...report, finished: position.stage === 'done' };
}

function markerOf(item: Record<string, unknown>): ErasedRedactionMarker {
  const { pk: _pk, sk: _sk, ...marker } = item;
  return marker as unknown as ErasedRedactionMarker;
}

async function moveMarker(plans: PlanRepository, previousStep: number | undefined, next: ErasedRedactionMarker): Promise<boolean> {
  try {
    await plans.client.send(
      new PutCommand({
        TableName: plans.tableName,
        Item: { ...keys.erasedRedactionMarker(), ...next },
        ...(previousStep === undefined ? { ConditionExpression: 'attribute_not_exists(pk)' } : { ConditionExpression: '#step = :step', ExpressionAttributeNames: { '#step': 'step' }, ExpressionAttributeValues: { ':step': previousStep } }),
      }),
    );
    return true;
  } catch (error) {
    if ((error as Error).name === 'ConditionalCheckFailedException') return false;
    throw error;
  }
}
