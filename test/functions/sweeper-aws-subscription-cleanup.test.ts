/**
 * On AWS nothing has used webhook subscriptions since 2026-11-28, and the API can no longer remove them:
 * the records an older release made there, each holding a `whsec_` secret, are removed by the sweeper,
 * a bounded number a run. Against a real dynalite table, with the sweeper's handler given the deps its
 * Lambda entry gives it (lib/runtime/aws.ts awsSubscriptionCleanup); and the embedded stack's sweep,
 * whose deliveries are signed with those secrets, keeps them.
 */
import { PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RECHECK_AFTER_MS, removeAwsSubscriptions } from '../../functions/sweeper/aws-subscription-cleanup.ts';
import { makeHandler, type SweeperDeps } from '../../functions/sweeper/handler.ts';
import { makeDocumentClient } from '../../lib/adapters/dynamodb/client.ts';
import { keys } from '../../lib/adapters/dynamodb/keys.ts';
import { PlanRepository } from '../../lib/adapters/dynamodb/plan-repository.ts';
import { newSubscriptionId, newWebhookSecret, WebhookStore } from '../../lib/adapters/dynamodb/webhook-store.ts';
import { seedDirectory } from '../../lib/directory/load.ts';
import { LOCAL_AWS, startLocalStore, type LocalStore } from '../../lib/local/dynalite-server.ts';
import { startEmbeddedStack } from '../../lib/local/embedded-stack.ts';
import { awsSubscriptionCleanup } from '../../lib/runtime/aws.ts';

const TABLE = 'wraparound-aws-subscription-cleanup-test';
// Not at a whole hour, nor a fifth minute: the sweep's hourly steps and the overdue gauge stay out of it.
const NOW = '2026-11-29T10:07:00.000Z';
const PROVIDERS = seedDirectory().organizations.map((o) => o.id);

let store: LocalStore;
let client: ReturnType<typeof makeDocumentClient>;
let plans: PlanRepository;
let webhooks: WebhookStore;

beforeEach(async () => {
  store = await startLocalStore({ inMemory: true, tableName: TABLE });
  client = makeDocumentClient({ ...LOCAL_AWS, endpoint: store.endpoint, maxAttempts: 3 });
  plans = new PlanRepository(client, TABLE);
  webhooks = new WebhookStore(client, TABLE);
});
afterEach(async () => {
  client?.destroy();
  await store?.close();
});

async function everyItem(): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await client.send(new ScanCommand({ TableName: TABLE, ConsistentRead: true, ExclusiveStartKey: start }));
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  return items.sort((a, b) => `${String(a.pk)} ${String(a.sk)}`.localeCompare(`${String(b.pk)} ${String(b.sk)}`));
}
/** Subscription records (SUBSCRIPTION#<id>) and the active-subscription slots (SUBSCRIPTION-ACTIVE). */
const subscriptionItems = async () => (await everyItem()).filter((item) => String(item.sk).startsWith('SUBSCRIPTION'));
const subscriptionRecords = async () => (await everyItem()).filter((item) => String(item.sk).startsWith('SUBSCRIPTION#'));

/**
 * What a release before 2026-11-28 left on AWS: for each provider `disabled` subscriptions a receiver
 * turned away (410) and one active, rotated, with its previous secret and the mark of the request that
 * made it; beside them the provider's allocation view, which stays.
 */
async function olderRelease(disabled: number): Promise<number> {
  let made = 0;
  for (const providerId of PROVIDERS) {
    for (let i = 0; i <= disabled; i += 1) {
      const subscriptionId = newSubscriptionId();
      await webhooks.createSubscription({
        subscriptionId,
        providerId,
        url: `https://${providerId}.example.org/hooks`,
        status: 'active',
        createdAt: `2026-10-0${1 + (i % 9)}T09:00:00.000Z`,
        createdBy: 'team-lead-sub',
        secret: newWebhookSecret(),
        secretRequest: { key: `subscribe#${providerId}#${i}`, fingerprint: 'f'.repeat(64) },
      });
      made += 1;
      if (i < disabled) await webhooks.disableSubscription(providerId, subscriptionId, 'the receiver answered 410 Gone', '2026-10-20T09:00:00.000Z');
      else await webhooks.rotateSecret(providerId, subscriptionId, { secret: newWebhookSecret(), at: '2026-11-01T09:00:00.000Z', overlapEndsAt: '2026-11-02T09:00:00.000Z', by: 'team-lead-sub' });
    }
    await client.send(new PutCommand({ TableName: TABLE, Item: { ...keys.providerAllocation(providerId, 'al_cleanup000001_1'), type: 'provider-allocation', status: 'accepted' } }));
  }
  return made;
}

/** The sweeper as its Lambda entry builds it, on the test's table; nothing is due, so no workflow is started. */
function awsSweeper() {
  const deps: SweeperDeps = {
    plans,
    workflow: {
      startSync: async () => {
        throw new Error('no deadline is due in this table');
      },
    },
    publisher: { publish: async () => undefined },
    clock: () => NOW,
    awsSubscriptionCleanup: awsSubscriptionCleanup({ plans, baseDirectory: seedDirectory() }),
  };
  return makeHandler(deps);
}

describe('the AWS sweeper removes webhook subscriptions an older release left', () => {
  it('removes every record, its secrets and slot, at most 25 a run, then removes nothing and changes nothing', async () => {
    const made = await olderRelease(7);
    expect(made).toBe(PROVIDERS.length * 8);
    expect(made).toBeGreaterThan(25);
    expect(JSON.stringify(await everyItem())).toContain('whsec_');
    const run = awsSweeper();

    const first = await run();
    expect(first.awsSubscriptionsRemoved).toBe(25);
    expect(await subscriptionRecords()).toHaveLength(made - 25);

    const second = await run();
    expect(second.awsSubscriptionsRemoved).toBe(made - 25);
    expect(await subscriptionItems()).toEqual([]);
    const after = await everyItem();
    expect(JSON.stringify(after)).not.toContain('whsec_');
    expect(JSON.stringify(after)).not.toContain('secretRequest');
    // The providers' other items stay.
    expect(after.filter((item) => item.type === 'provider-allocation')).toHaveLength(PROVIDERS.length);

    const third = await run();
    expect(third.awsSubscriptionsRemoved).toBe(0);
    expect(await everyItem()).toEqual(after);
  });

  it('once none is left, a run reads only the marker; a day on, one run queries every provider again and removes a record written since', async () => {
    await olderRelease(0);
    const cleanup = awsSubscriptionCleanup({ plans, baseDirectory: seedDirectory() });
    const at = (ms: number) => new Date(Date.parse(NOW) + ms).toISOString();
    // Every request the cleanup sends to the table, by command.
    const sent: string[] = [];
    client.middlewareStack.add((next, context) => async (args) => (sent.push(String(context.commandName)), next(args)), { step: 'initialize', name: 'countRequests' });
    const run = async (now: string) => {
      sent.length = 0;
      const report = await removeAwsSubscriptions(cleanup, now);
      return { report, requests: [...sent].sort() };
    };

    expect((await run(NOW)).report).toEqual({ removed: PROVIDERS.length, finished: true, skipped: false });
    // Before the marker, a run after the last record went still queried every provider.
    expect(await run(at(60_000))).toEqual({ report: { removed: 0, finished: true, skipped: true }, requests: ['GetItemCommand'] });

    // Written after the marker by code that does not read it: an older release's api-providers still
    // serving while a deploy swaps code, or a rollback to that release and a deploy again.
    await webhooks.createSubscription({ subscriptionId: newSubscriptionId(), providerId: 'bcwa', url: 'https://bcwa.example.org/hooks', status: 'active', createdAt: at(120_000), createdBy: 'team-lead-sub', secret: newWebhookSecret() });
    expect(await run(at(RECHECK_AFTER_MS - 1))).toEqual({ report: { removed: 0, finished: true, skipped: true }, requests: ['GetItemCommand'] });
    const recheck = await run(at(RECHECK_AFTER_MS));
    expect(recheck.report).toEqual({ removed: 1, finished: true, skipped: false });
    expect(recheck.requests.filter((command) => command === 'QueryCommand')).toHaveLength(PROVIDERS.length);
    expect(await subscriptionItems()).toEqual([]);
    // And the marker moved with it: the day starts again.
    expect(await run(at(RECHECK_AFTER_MS + 60_000))).toEqual({ report: { removed: 0, finished: true, skipped: true }, requests: ['GetItemCommand'] });
  });

  it('removes a slot left naming a record already gone (a crash between the two writes of an older release)', async () => {
    await client.send(new PutCommand({ TableName: TABLE, Item: { ...keys.activeSubscription('bcwa'), type: 'subscription-slot', subscriptionId: newSubscriptionId() } }));
    const report = await awsSweeper()();
    expect(report.awsSubscriptionsRemoved).toBe(0);
    expect(await subscriptionItems()).toEqual([]);
  });
});

describe("the embedded stack's sweep", () => {
  it('keeps its subscriptions and their secrets: its deliveries are signed with them', async () => {
    const stack = await startEmbeddedStack({ inMemory: true, port: 0, sweepIntervalMs: 0, webhooks: { intervalMs: 0 }, webDistDir: false });
    try {
      const subscription = {
        subscriptionId: newSubscriptionId(),
        providerId: 'bcwa',
        url: 'http://127.0.0.1:9/hooks',
        status: 'active' as const,
        createdAt: '2026-11-01T09:00:00.000Z',
        createdBy: 'team-lead-sub',
        secret: newWebhookSecret(),
      };
      await stack.webhooks.store.createSubscription(subscription);
      const report = await stack.sweep();
      expect(report.awsSubscriptionsRemoved).toBeUndefined();
      expect(await stack.webhooks.store.activeSubscription('bcwa')).toMatchObject({ subscriptionId: subscription.subscriptionId, secret: subscription.secret });
    } finally {
      await stack.stop();
    }
  });
});
