/**
 * After a deploy that changes FACTS_SCHEMA_VERSION, on AWS: the stored facts are of the older schema
 * (the metrics loader skips them), and a plan no command touches again (a closed one) would stay out of
 * the commissioner figures. Against a real dynalite: the sweeper rebuilds a few plans' facts per run,
 * resuming from the marker, until the figures equal the oracle's over every plan; meanwhile GET /metrics
 * says the figures are incomplete; a plan saved during the rebuild keeps its newer facts; and Publish
 * events writes the facts of a command that changed no figure while the stored ones may be older.
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeHandler as makeMetricsApi } from '../../functions/api-metrics/handler.ts';
import { makeHandler as makeLoadPlan } from '../../functions/load-plan/handler.ts';
import { makeHandler as makePublish } from '../../functions/publish-events/handler.ts';
import { backfillFacts } from '../../functions/sweeper/facts-backfill.ts';
import { sweep, type SweeperDeps } from '../../functions/sweeper/handler.ts';
import { makeDocumentClient } from '../../lib/adapters/dynamodb/client.ts';
import { PlanRepository } from '../../lib/adapters/dynamodb/plan-repository.ts';
import { planToItem } from '../../lib/adapters/dynamodb/plan-item.ts';
import { addDays } from '../../lib/domain/calendar.ts';
import type { Stage } from '../../lib/domain/lifecycle.ts';
import { FACTS_SCHEMA_VERSION, planFacts, type PlanFacts } from '../../lib/domain/metrics/facts.ts';
import { DEFAULT_METRICS_CONFIG, metricsPeriodRules, type MetricsQuery } from '../../lib/domain/metrics/query.ts';
import type { Plan } from '../../lib/domain/schemas.ts';
import { LOCAL_AWS, startLocalStore, type LocalStore } from '../../lib/local/dynalite-server.ts';
import { FactStore, metricsKeys } from '../../lib/metrics/fact-store.ts';
import { factsWriter, StoredFactsSource } from '../../lib/metrics/index.ts';
import { makeContext, NOW, PARTNERS, planInStage, PLAN_ID, run, validCommand } from '../support/domain-fixtures.ts';
import { referenceComputeMetrics } from '../support/metrics-reference.ts';
import { CLAIMS, lambdaEvent } from '../support/lambda-event.ts';

const TABLE = 'wraparound-facts-backfill-test';
const OLDER_SCHEMA = FACTS_SCHEMA_VERSION - 1;
const QUERY: MetricsQuery = { from: '2026-01-01', to: '2027-12-31', groupBy: ['provider', 'localAuthority', 'needDomain', 'month'] };

let store: LocalStore;
let client: ReturnType<typeof makeDocumentClient>;
let plans: PlanRepository;
let facts: FactStore;

// A fresh table for each test: the rebuild walks every plan in it.
beforeEach(async () => {
  store = await startLocalStore({ inMemory: true, tableName: TABLE });
  client = makeDocumentClient({ ...LOCAL_AWS, endpoint: store.endpoint, maxAttempts: 3 });
  plans = new PlanRepository(client, TABLE);
  facts = new FactStore(client, TABLE);
});
afterEach(async () => {
  client?.destroy();
  await store?.close();
});

const put = (item: Record<string, unknown>) => client.send(new PutCommand({ TableName: TABLE, Item: item }));
const factsItem = async (planId: string) => (await client.send(new GetCommand({ TableName: TABLE, Key: metricsKeys.facts(planId), ConsistentRead: true }))).Item;

/**
 * Plans as an older release left them: plan items, facts items of the older schema (one plan's missing),
 * the marker at the older schema. The facts are placeholders the current figures cannot come from, unless
 * `readable` (a release at the older schema reads them back).
 */
async function olderRelease(options: { readable?: boolean } = {}): Promise<Plan[]> {
  const stages: Stage[] = ['referred', 'assessment', 'allocating', 'active', 'active', 'exited', 'closed', 'closed', 'withdrawn', 'active', 'referred'];
  const saved: Plan[] = [];
  for (const [i, stage] of stages.entries()) {
    const { plan } = planInStage(stage, { ctx: makeContext({ now: addDays(NOW, i * 9) }) });
    if (!plan) throw new Error(`no plan in ${stage}`);
    const planId = i === 3 ? PLAN_ID : `pl_backfill${String(i).padStart(6, '0')}`;
    const stored: Plan = { ...plan, planId, outbox: [] };
    await put(planToItem(stored));
    if (i !== 2) await put({ ...metricsKeys.facts(planId), type: 'metrics-facts', schema: OLDER_SCHEMA, version: stored.version, facts: JSON.stringify(options.readable ? planFacts(stored) : { version: stored.version, referred: 0 }) });
    saved.push(stored);
  }
  await put({ ...metricsKeys.marker(), type: 'metrics-marker', schema: OLDER_SCHEMA, builtAt: NOW });
  return saved;
}

function getMetrics(handler: ReturnType<typeof makeMetricsApi>) {
  const query = `from=${QUERY.from}&to=${QUERY.to}&groupBy=${QUERY.groupBy.join(',')}`;
  const event = lambdaEvent({ routeKey: 'GET /metrics', rawPath: '/metrics', query, claims: CLAIMS.commissioner });
  return handler(event, {} as Context).then((result) => {
    expect(result.statusCode).toBe(200);
    return JSON.parse(result.body as string) as Record<string, unknown>;
  });
}

const ASKED_AT = '2028-01-15T12:00:00.000Z';
/** The oracle's answer over these plans' facts, as GET /metrics gives it (JSON, with the deployment's period rules). */
const oracle = (of: readonly Plan[]): Record<string, unknown> => ({
  ...(JSON.parse(JSON.stringify(referenceComputeMetrics(of.map(planFacts), QUERY, { suppressionThreshold: 1, roundCountsTo: 1, asOf: ASKED_AT, providers: PARTNERS }))) as Record<string, unknown>),
  periodRules: metricsPeriodRules(DEFAULT_METRICS_CONFIG),
});

/** The sweeper as deployed, minus what these plans do not need (no deadline is due at its clock). */
function sweeperDeps(options: { pageSize: number; maxPlans: number; verifyAfterMs?: number }): SweeperDeps {
  return {
    plans,
    publisher: { publish: async () => undefined },
    workflow: { startSync: async () => ({ status: 'FAILED' }) } as unknown as SweeperDeps['workflow'],
    // Before any deadline of these plans: the sweep has nothing else to do.
    clock: () => '2025-01-01T00:00:00.000Z',
    factsBackfill: (now) => backfillFacts({ plans, facts }, now, options),
  };
}

describe('facts of an older schema on AWS', () => {
  it('are rebuilt by the sweeper a few plans a run, closed plans included, until the figures equal the oracle; until then GET /metrics says they are incomplete', async () => {
    const saved = await olderRelease();
    const api = makeMetricsApi({ source: new StoredFactsSource(facts, PARTNERS, { maxAgeMs: 0 }), clock: () => ASKED_AT, config: { suppressionThreshold: 1, roundCountsTo: 1 } });

    const before = await getMetrics(api);
    expect(before.incomplete).toMatchObject({ staleFacts: saved.length - 1 });
    // Every plan is left out: not the figures over them.
    expect(before.overall).not.toEqual(oracle(saved).overall);

    // The sweeper's clock stands still here, so the verification does not wait for the release before to be gone.
    const deps = sweeperDeps({ pageSize: 2, maxPlans: 3, verifyAfterMs: 0 });
    const rebuilt: number[] = [];
    for (let run = 0; run < 20 && !(await facts.isComplete()); run += 1) {
      rebuilt.push((await sweep(deps)).factsRebuilt);
      const marker = await facts.marker();
      if (!marker.complete) {
        // Resumable: the marker holds where the rebuild got to, and the answer still says it is not done.
        expect(marker.rebuild).toMatchObject({ schema: FACTS_SCHEMA_VERSION, plans: rebuilt.reduce((a, b) => a + b, 0) });
        expect((await getMetrics(api)).incomplete).toBeDefined();
      }
    }
    expect(await facts.isComplete()).toBe(true);
    expect(rebuilt.length).toBeGreaterThan(3);
    expect(Math.max(...rebuilt)).toBeLessThanOrEqual(3);
    expect(rebuilt.reduce((a, b) => a + b, 0)).toBe(saved.length);
    expect((await facts.marker()).rebuild).toBeUndefined();

    for (const plan of saved) expect(await factsItem(plan.planId), plan.stage).toMatchObject({ schema: FACTS_SCHEMA_VERSION, version: plan.version });
    const after = await getMetrics(api);
    expect(after.incomplete).toBeUndefined();
    expect(after).toEqual(oracle(saved));
    expect((after.overall as { referrals: number }).referrals).toBe(saved.length);

    // Done: later sweeps leave the facts alone.
    expect((await sweep(deps)).factsRebuilt).toBe(0);
  });

  it('once the release before can no longer be running, redoes facts it wrote in the older schema over rebuilt ones, then finishes', async () => {
    const saved = await olderRelease();
    const started = '2028-01-15T12:00:00.000Z';
    const later = (minutes: number) => new Date(Date.parse(started) + minutes * 60_000).toISOString();
    // Every plan walked in the first run; the verification waits.
    expect(await backfillFacts({ plans, facts }, started, { pageSize: 100, maxPlans: 1000 })).toEqual({ plans: saved.length, finished: false });
    expect((await facts.marker()).rebuild?.stage).toBe('verify-0');
    // Meanwhile a Publish events of the release before saves a plan's next version in the older schema,
    // over the facts the rebuild wrote (its condition lets a newer version replace whatever the schema).
    const victim = saved[4] as Plan;
    await put({ ...metricsKeys.facts(victim.planId), type: 'metrics-facts', schema: OLDER_SCHEMA, version: victim.version + 1, facts: JSON.stringify({ version: victim.version + 1, referred: 0 }) });
    await put(planToItem({ ...victim, version: victim.version + 1 }));
    // Ten minutes in, that release may still be running: nothing is verified and the rebuild is not done.
    expect(await backfillFacts({ plans, facts }, later(10), { pageSize: 100, maxPlans: 1000 })).toEqual({ plans: 0, finished: false });
    expect(await facts.isComplete()).toBe(false);
    // Fifteen minutes in, it is gone: the shards are read, the victim redone from its plan, the marker complete.
    expect(await backfillFacts({ plans, facts }, later(15), { pageSize: 2, maxPlans: 1000 })).toEqual({ plans: 1, finished: true });
    expect(await factsItem(victim.planId)).toMatchObject({ schema: FACTS_SCHEMA_VERSION, version: victim.version + 1 });
    const api = makeMetricsApi({ source: new StoredFactsSource(facts, PARTNERS, { maxAgeMs: 0 }), clock: () => ASKED_AT, config: { suppressionThreshold: 1, roundCountsTo: 1 } });
    const after = await getMetrics(api);
    expect(after.incomplete).toBeUndefined();
    expect((after.overall as { referrals: number }).referrals).toBe(saved.length);
  });

  it('never replaces the newer facts of a plan saved while its page is being rebuilt', async () => {
    const saved = await olderRelease();
    // An active plan: a review changes its facts and keeps it in the stage whose page was read, so the rebuild does not come back to it.
    const target = saved.find((p) => p.planId === PLAN_ID && p.stage === 'active') as Plan;
    const publish = makePublish({ plans, publisher: { publish: async () => undefined }, onPlanSaved: factsWriter(facts), factsComplete: facts.completeness(0) });
    let newer: Plan | undefined;
    // The rebuild reads a page holding the plan; before it writes, a command saves the plan and Publish events writes its facts.
    const racing = Object.create(plans) as PlanRepository;
    racing.listByStage = async (stage, limit, cursor) => {
      const page = await plans.listByStage(stage, limit, cursor);
      if (!newer && page.items.some((p) => p.planId === PLAN_ID)) {
        const ctx = makeContext({ now: addDays(target.updatedAt, 1) });
        const review = validCommand('record-review', target, ctx);
        expect(review.feasible).toBe(true);
        newer = run(target, review.command, review.ctx).plan;
        expect(newer.stage).toBe('active');
        await plans.savePlan(newer);
        await publish({ command: review.command, now: ctx.now, plan: newer });
      }
      return page;
    };
    while ((await backfillFacts({ plans: racing, facts }, NOW, { pageSize: 4, verifyAfterMs: 0 }))?.finished === false);
    expect(await facts.isComplete()).toBe(true);
    expect(newer).toBeDefined();
    const stored = await factsItem(PLAN_ID);
    expect(stored).toMatchObject({ schema: FACTS_SCHEMA_VERSION, version: newer?.version });
    expect(JSON.parse(String(stored?.facts)) as PlanFacts).toEqual(planFacts(newer as Plan));
    expect((JSON.parse(String(stored?.facts)) as PlanFacts).reviews.length).toBeGreaterThan(planFacts(target).reviews.length);
  });

  it('Publish events writes the facts of a command that changed no figure while the marker is older, and skips them once it is current', async () => {
    const { plan: active, ctx } = planInStage('active');
    const loaded: Plan = { ...(active as Plan), outbox: [] };
    await put(planToItem(loaded));
    await put({ ...metricsKeys.facts(PLAN_ID), type: 'metrics-facts', schema: OLDER_SCHEMA, version: loaded.version, facts: '{}' });
    await put({ ...metricsKeys.marker(), type: 'metrics-marker', schema: OLDER_SCHEMA, builtAt: NOW });
    const publish = makePublish({ plans, publisher: { publish: async () => undefined }, onPlanSaved: factsWriter(facts), factsComplete: facts.completeness(0) });

    const contact = async (from: Plan, at: string) => {
      const cmd = validCommand('record-contact', from, { ...ctx, now: at });
      const state = await makeLoadPlan({ plans })({ command: cmd.command, now: at });
      // The digest says no figure changed.
      expect(state.factsBefore).toBeDefined();
      const saved = run(state.plan, cmd.command, cmd.ctx).plan;
      await plans.savePlan(saved);
      await publish({ ...state, plan: saved });
      return saved;
    };

    const first = await contact(loaded, addDays(ctx.now, 1));
    expect(await factsItem(PLAN_ID)).toMatchObject({ schema: FACTS_SCHEMA_VERSION, version: first.version });

    // The rebuild finishes; from then on the digest is trusted again (no write for a contact).
    while ((await backfillFacts({ plans, facts }, NOW, { verifyAfterMs: 0 }))?.finished === false);
    expect(await facts.isComplete()).toBe(true);
    const second = await contact(first, addDays(ctx.now, 2));
    expect(second.version).toBeGreaterThan(first.version);
    expect(await factsItem(PLAN_ID)).toMatchObject({ schema: FACTS_SCHEMA_VERSION, version: first.version });
  });
});

/**
 * A deploy that changed the facts schema, rolled back while its rebuild runs, then deployed again: nothing
 * is done by hand. The release rolled back to is played by this code at the older schema. A release from
 * before rollbacks were handled makes the same decisions (its marker is complete only at its own schema,
 * and its sweeper starts over a rebuild toward another schema), so what it does rests on what is asserted
 * here: while a rebuild runs the marker names no schema.
 */
describe('a rollback while the facts are rebuilt', () => {
  const DEPLOYED = '2028-01-15T12:00:00.000Z';
  const at = (minutes: number) => new Date(Date.parse(DEPLOYED) + minutes * 60_000).toISOString();
  const everyPlan = { pageSize: 100, maxPlans: 1000 };
  let older: FactStore;
  beforeEach(() => {
    older = new FactStore(client, TABLE, OLDER_SCHEMA);
  });
  const markerItem = async () => (await client.send(new GetCommand({ TableName: TABLE, Key: metricsKeys.marker(), ConsistentRead: true }))).Item;
  const schemasOf = (of: readonly Plan[]) => Promise.all(of.map(async (plan) => (await factsItem(plan.planId))?.schema));
  const figures = (store: FactStore) => getMetrics(makeMetricsApi({ source: new StoredFactsSource(store, PARTNERS, { maxAgeMs: 0 }), clock: () => ASKED_AT, config: { suppressionThreshold: 1, roundCountsTo: 1 } }));
  /** A command saves the plan's next version; `release`'s Publish events writes its facts at that release's schema. */
  async function savedBy(release: FactStore, plans: Plan[], index: number): Promise<void> {
    const next = { ...(plans[index] as Plan), version: (plans[index] as Plan).version + 1 };
    await put(planToItem(next));
    await factsWriter(release)(next);
    expect(await factsItem(next.planId)).toMatchObject({ schema: release.schema, version: next.version });
    plans[index] = next;
  }

  it('the older release rebuilds every plan back to its schema, and this one, deployed again, starts over', async () => {
    const current = await olderRelease({ readable: true });
    // The deploy: this release's sweeper rebuilds three plans' facts.
    expect(await backfillFacts({ plans, facts }, at(0), { pageSize: 2, maxPlans: 3 })).toEqual({ plans: 3, finished: false });
    // While it runs the marker names no schema: neither release's facts are all there.
    expect(await markerItem()).not.toHaveProperty('schema');
    expect(await older.isComplete()).toBe(false);
    expect(await facts.isComplete()).toBe(false);

    // Rolled back 5 minutes in. The older release's Publish events writes a plan's next version over facts the rebuild had done.
    const rebuilt = (await schemasOf(current)).indexOf(FACTS_SCHEMA_VERSION);
    expect(rebuilt).toBeGreaterThanOrEqual(0);
    await savedBy(older, current, rebuilt);
    // Its sweeper finds a rebuild toward a schema it does not know, and starts over toward its own: every plan again.
    expect(await backfillFacts({ plans, facts: older }, at(5), everyPlan)).toEqual({ plans: current.length, finished: false });
    expect((await older.marker()).rebuild).toMatchObject({ schema: OLDER_SCHEMA, startedAt: at(5), plans: current.length, stage: 'verify-0' });
    expect((await figures(older)).incomplete).toBeDefined();
    // A function of the newer release still running writes facts at its schema; 15 minutes after the older rebuild began they are redone.
    await savedBy(facts, current, 5);
    expect(await backfillFacts({ plans, facts: older }, at(19), everyPlan)).toEqual({ plans: 0, finished: false });
    expect(await backfillFacts({ plans, facts: older }, at(20), everyPlan)).toEqual({ plans: 1, finished: true });
    expect(await schemasOf(current)).toEqual(current.map(() => OLDER_SCHEMA));
    const underOlder = await figures(older);
    expect(underOlder.incomplete).toBeUndefined();
    expect(underOlder).toEqual(oracle(current));

    // Deployed again an hour in: the marker is the older release's, so this one starts over from the beginning.
    expect(await backfillFacts({ plans, facts }, at(60), everyPlan)).toEqual({ plans: current.length, finished: false });
    expect((await facts.marker()).rebuild).toMatchObject({ schema: FACTS_SCHEMA_VERSION, startedAt: at(60), plans: current.length, stage: 'verify-0' });
    await savedBy(older, current, 7);
    expect(await backfillFacts({ plans, facts }, at(74), everyPlan)).toEqual({ plans: 0, finished: false });
    expect(await backfillFacts({ plans, facts }, at(75), everyPlan)).toEqual({ plans: 1, finished: true });
    expect(await schemasOf(current)).toEqual(current.map(() => FACTS_SCHEMA_VERSION));
    const after = await figures(facts);
    expect(after.incomplete).toBeUndefined();
    expect(after).toEqual(oracle(current));
  });

  it('deployed again before the older release finished, this release starts over and waits 15 minutes from then, not from its first start', async () => {
    const current = await olderRelease({ readable: true });
    // Every plan walked; then rolled back 5 minutes in, and the older release's sweeper gets three plans back to its schema.
    expect(await backfillFacts({ plans, facts }, at(0), everyPlan)).toEqual({ plans: current.length, finished: false });
    expect(await backfillFacts({ plans, facts: older }, at(5), { pageSize: 2, maxPlans: 3 })).toEqual({ plans: 3, finished: false });
    expect((await older.marker()).rebuild).toMatchObject({ schema: OLDER_SCHEMA, startedAt: at(5), plans: 3 });

    // Deployed again 30 minutes in: resuming its first rebuild would verify at once; it walks every plan again instead.
    expect(await backfillFacts({ plans, facts }, at(30), everyPlan)).toEqual({ plans: current.length, finished: false });
    expect((await facts.marker()).rebuild).toMatchObject({ schema: FACTS_SCHEMA_VERSION, startedAt: at(30), stage: 'verify-0' });
    // A function of the older release still running writes facts at its schema after that walk; they are redone 15 minutes after it began.
    await savedBy(older, current, 6);
    expect(await backfillFacts({ plans, facts }, at(44), everyPlan)).toEqual({ plans: 0, finished: false });
    expect(await backfillFacts({ plans, facts }, at(45), everyPlan)).toEqual({ plans: 1, finished: true });
    expect(await schemasOf(current)).toEqual(current.map(() => FACTS_SCHEMA_VERSION));
    const after = await figures(facts);
    expect(after.incomplete).toBeUndefined();
    expect(after).toEqual(oracle(current));
  });

  it('of two sweepers that read the same marker, one starts over and the other leaves it', async () => {
    await olderRelease({ readable: true });
    expect(await backfillFacts({ plans, facts }, at(0), { pageSize: 2, maxPlans: 3 })).toEqual({ plans: 3, finished: false });
    // Two runs of the older release both read the marker before either writes.
    const seen = await older.marker();
    const sameRead = Object.create(older) as FactStore;
    sameRead.marker = async () => seen;
    expect(await backfillFacts({ plans, facts: sameRead }, at(5), { pageSize: 2, maxPlans: 3 })).toEqual({ plans: 3, finished: false });
    expect(await backfillFacts({ plans, facts: sameRead }, at(6), { pageSize: 2, maxPlans: 3 })).toEqual({ plans: 0, finished: false });
    expect((await older.marker()).rebuild).toMatchObject({ schema: OLDER_SCHEMA, startedAt: at(5), plans: 3 });
  });
});
