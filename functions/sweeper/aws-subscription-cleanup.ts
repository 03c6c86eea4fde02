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
  webhooks: Pick<WebhookStore, 'removeSubscriptionRecords'>;
  providerIds: readonly string[];
}

export interface AwsSubscriptionCleanupReport {
  /** Subscription records (each with its secrets) this run removed. */
  removed: number;
  /** No provider has a record left, as far as this run read. */
  finished: boolean;
}

/**
 * At most `maxPerRun` (default 25) records removed a run, a provider at a time in the directory's order.
 * A run reads one keys-only query per provider looked at, so once every record is gone a run costs one
 * query per provider that returns nothing. Idempotent: a record already gone is not counted, and a run
 * after a failed one carries on where the table says. Kept running (no marker saying done) so a record
 * written by a container of the older release still serving while the deploy swaps code, or after a
 * rollback and a deploy again, goes at the next run.
 */
export async function removeAwsSubscriptions(deps: AwsSubscriptionCleanupDeps, options: { maxPerRun?: number } = {}): Promise<AwsSubscriptionCleanupReport> {
  const maxPerRun = options.maxPerRun ?? 25;
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
  // Counts only: no URL, secret or subscription id reaches the log.
  if (removed > 0) console.info(`sweeper: removed ${removed} webhook subscription record(s) left on AWS by a release before 2026-11-28${finished ? '; none left' : '; more next run'}`);
  return { removed, finished };
}
