import { GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { PlanRepository } from '../../lib/adapters/dynamodb/plan-repository.ts';
import { keys } from '../../lib/adapters/dynamodb/keys.ts';
import { markerFields, moveStepMarker } from './step-marker.ts';

/** Where the pass has got to: stored under keys.openOfferIndexMarker(). */
export interface OpenOfferIndexMarker {
  /** Every offered view carries its open-offer key: offers are read from the index (PlanRepository.openOffersIndexed). */
  done: boolean;
  /** The pass walks nothing before this time (see settleMs). */
  walkFrom: string;
  /** The key the walk goes on after (the scan's LastEvaluatedKey); none before its first page, and once done. */
  cursor?: Record<string, unknown>;
  /** Items read so far, and offered views given their key. */
  scanned: number;
  indexed: number;
  /** Bumped on every move: the condition that keeps two sweeps from moving the marker at once. */
  step: number;
  startedAt: string;
  doneAt?: string;
}

export interface OpenOfferIndexReport {
  /** Items read this run, and offered views of an older release given their open-offer key. */
  scanned: number;
  indexed: number;
  /** The index holds every open offer: later runs read nothing (the repository keeps the marker once done). */
  finished: boolean;
}

export interface OpenOfferIndexOptions {
  /**
   * How long after the pass is first seen it starts walking. On AWS, containers of the release before may
   * still be finishing a few invocations, each able to store an offered view without the key behind the
   * walk's cursor; an hour is far past any function's timeout. The embedded stack is the only writer of
   * its store, so it need not wait.
   */
  settleMs?: number;
  /** Items read per page of the walk; the marker moves after each. */
  pageSize?: number;
  /** At most this many items read per run. */
  maxItems?: number;
}

/**
 * Provider allocation views stored before the open-offer key (keys.openOfferIndex) lack it: read through
 * the index alone, such an offer would vanish from the provider's inbox and expire unanswered. So open
 * offers are read the old way (every record of the provider, filtered) until a marker says the index is
 * complete. A new table is complete from the start (the embedded store marks it when it makes it); an
 * older table (a deployed one, an older data directory) is made complete here: each sweeper run walks a
 * bounded share of the table and gives each offered view without the key its key (a conditional update:
 * only if the view is still the one read and offered), and when the whole table is walked, marks it done.
 * The walk is a Scan in key order with a filter, so the sweeper sees only the offered views' keys.
 *
 * Per run while walking: one marker read, at most `maxItems` (default 10,000) items read in pages of
 * `pageSize` (default 1,000) with one conditional marker write per page, and one update per old offered
 * view (a handful: offers are answered or expire within days). Idempotent: a page walked again after a
 * failed run finds nothing left to key. Once done, a run costs nothing (the repository keeps the marker).
 */
export async function indexOpenOffers(deps: { plans: PlanRepository }, now: string, options: OpenOfferIndexOptions = {}): Promise<OpenOfferIndexReport> {
  const report: OpenOfferIndexReport = { scanned: 0, indexed: 0, finished: true };
  if (await deps.plans.openOffersIndexed()) return report;
  const pageSize = options.pageSize ?? 1000;
  const maxItems = options.maxItems ?? 10_000;
  const { client, tableName } = deps.plans;
  const stored = (await client.send(new GetCommand({ TableName: tableName, Key: keys.openOfferIndexMarker(), ConsistentRead: true }))).Item;
  if (!stored) {
    // First seen: say when the walk may start, and start it then.
    const first: OpenOfferIndexMarker = { done: false, walkFrom: new Date(new Date(now).getTime() + (options.settleMs ?? 0)).toISOString(), scanned: 0, indexed: 0, step: 0, startedAt: now };
    if (!(await moveMarker(deps.plans, undefined, first))) return { ...report, finished: false };
    return (options.settleMs ?? 0) > 0 ? { ...report, finished: false } : walk(deps.plans, first, now, pageSize, maxItems);
  }
  const position = markerFields<OpenOfferIndexMarker>(stored);
  if (position.done) return report;
  if (now < position.walkFrom) return { ...report, finished: false };
  return walk(deps.plans, position, now, pageSize, maxItems);
}

async function walk(plans: PlanRepository, from: OpenOfferIndexMarker, now: string, pageSize: number, maxItems: number): Promise<OpenOfferIndexReport> {
  const report: OpenOfferIndexReport = { scanned: 0, indexed: 0, finished: false };
  let position = from;
  while (!position.done && report.scanned < maxItems) {
    const page = await plans.client.send(
      new ScanCommand({
        TableName: plans.tableName,
        Limit: Math.min(pageSize, maxItems - report.scanned),
        ...(position.cursor ? { ExclusiveStartKey: position.cursor } : {}),
        FilterExpression: '#type = :view AND #status = :offered AND attribute_not_exists(pendingPk)',
        ProjectionExpression: 'providerId, allocationId, #sequence',
        ExpressionAttributeNames: { '#type': 'type', '#status': 'status', '#sequence': 'sequence' },
        ExpressionAttributeValues: { ':view': 'provider-allocation', ':offered': 'offered' },
      }),
    );
    let indexed = 0;
    for (const view of page.Items ?? []) {
      if (typeof view.providerId !== 'string' || typeof view.allocationId !== 'string' || typeof view.sequence !== 'number') continue;
      if (await plans.indexOpenOffer(view.providerId, view.allocationId, view.sequence)) indexed += 1;
    }
    const scanned = page.ScannedCount ?? 0;
    report.scanned += scanned;
    report.indexed += indexed;
    const { cursor: _cursor, ...rest } = position;
    const next: OpenOfferIndexMarker = {
      ...rest,
      ...(page.LastEvaluatedKey ? { cursor: page.LastEvaluatedKey } : { done: true, doneAt: now }),
      scanned: position.scanned + scanned,
      indexed: position.indexed + indexed,
      step: position.step + 1,
    };
    // Another sweep moved the marker meanwhile: leave the rest to it (what this page did is idempotent).
    if (!(await moveMarker(plans, position.step, next))) return report;
    position = next;
  }
  return { ...report, finished: position.done };
}

/** The open-offer marker moved a step, only while not done (a done marker is never walked again). */
const moveMarker = (plans: PlanRepository, previousStep: number | undefined, next: OpenOfferIndexMarker) =>
  moveStepMarker(plans, { ...keys.openOfferIndexMarker(), type: 'maintenance-marker', ...next }, previousStep, { whileNotDone: true });
