import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../../lib/adapters/dynamodb/keys.ts';
import type { WebhookStore } from '../../lib/adapters/dynamodb/webhook-store.ts';

/**
 * On AWS only. Since 2026-11-28 providers get their events there through EventBridge API destinations
 * with a deploy-time API key, and the subscription routes refuse to subscribe, remove or rotate. Records
 * that team leads made on AWS before then stay in the table holding `whsec_` secrets (and the marks of
 * the requests that made them): credentials that sign nothing and that nobody can remove through the
 * API any more. The embedded stack signs its deliveries with them, so it never runs this step.
 *
 * Only providers of the deployed directory are looked at: api-providers let no other provider subscribe.
 * Delivery items were never written on AWS (only the embedded stack's delivery loop queues them), nor
 * do the stored answers of subscribing requests hold a secret, so there is nothing else to remove.
 */
export interface AwsSubscriptionCleanupDeps {
  webhooks: Pick<WebhookStore, 'removeSubscriptionRecords' | 'client' | 'tableName'>;
  providerIds: readonly string[];
}

export interface AwsSubscriptionCleanupReport {
  /** Subscription records (each with its secrets) this run removed. */
  removed: number;
  /** No provider has a record left, as far as this run read (or the marker says so). */
  finished: boolean;
  /** The marker said a recent run found none left, so this run read nothing else. */
  skipped: boolean;
}

/** What keys.awsSubscriptionCleanupMarker() holds: when a run last found no record left for any provider. */
interface CleanupMarker {
  noneLeftAt: string;
}

/**
 * How long a run that found no record left is trusted. Records can appear again, written by code that does
 * not know this marker: an older release's api-providers still serving while a deploy swaps code (the
 * sweeper may be updated first), or a rollback to such a release and a deploy again. So the marker is
 * never taken as done for good: after this long, a run queries every provider again and moves it.
 */
export const RECHECK_AFTER_MS = 24 * 3600_000;

/**
 * At most `maxPerRun` (default 25) records removed a run, a provider at a time in the directory's order,
 * with one keys-only query per provider looked at. Once a run finds none left it records when
 * (keys.awsSubscriptionCleanupMarker), and for the next RECHECK_AFTER_MS a run costs one read of that
 * marker instead of one query per provider; then one run queries every provider again, and removes
 * whatever appeared meanwhile. Idempotent: a record already gone is not counted, and a run after a failed
 * one carries on where the table says.
 */
export async function removeAwsSubscriptions(deps: AwsSubscriptionCleanupDeps, now: string, options: { maxPerRun?: number } = {}): Promise<AwsSubscriptionCleanupReport> {
  const maxPerRun = options.maxPerRun ?? 25;
  const { client, tableName } = deps.webhooks;
  const markerKey = keys.awsSubscriptionCleanupMarker();
  const marker = (await client.send(new GetCommand({ TableName: tableName, Key: markerKey, ConsistentRead: true }))).Item as CleanupMarker | undefined;
  // A clock that went back (a marker "from the future") is not trusted either.
  const sinceMarker = marker ? Date.parse(now) - Date.parse(marker.noneLeftAt) : Number.NaN;
  if (sinceMarker >= 0 && sinceMarker < RECHECK_AFTER_MS) return { removed: 0, finished: true, skipped: true };

  let removed = 0;
  let finished = true;
  for (const providerId of deps.providerIds) {
    if (removed >= maxPerRun) {
      finished = false;
      break;
    }
    const outcome = await deps.webhooks.removeSubscriptionRecords(providerId, maxPerRun - removed);
    removed += outcome.removed;
    if (outcome.more) finished = false;
  }
  if (finished) await client.send(new PutCommand({ TableName: tableName, Item: { ...markerKey, noneLeftAt: now } satisfies CleanupMarker & typeof markerKey }));
  // Counts only: no URL, secret or subscription id reaches the log.
  if (removed > 0) console.info(`sweeper: removed ${removed} webhook subscription record(s) left on AWS by a release before 2026-11-28${finished ? '; none left' : '; more next run'}`);
  return { removed, finished, skipped: false };
}
