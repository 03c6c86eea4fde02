/**
 * The embedded stack's plan cache (PlanRepository with `soleWriterPlanCache`) against a real dynalite:
 * every read answers what a consistent read of the store answers at that moment, and reads of plans it
 * wrote itself send no request. The store's answers can be lost after a write landed, and held back
 * so that a read and a write overlap, by a middleware on the client (as test/faults does).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDocumentClient } from '../../lib/adapters/dynamodb/client.ts';
import { PlanRepository } from '../../lib/adapters/dynamodb/plan-repository.ts';
import { keys } from '../../lib/adapters/dynamodb/keys.ts';
import type { Plan } from '../../lib/domain/schemas.ts';
import { LOCAL_AWS, startLocalStore, type LocalStore } from '../../lib/local/dynalite-server.ts';
import { planInStage } from '../support/domain-fixtures.ts';

const TABLE = 'wraparound-plan-cache-test';

let store: LocalStore;
let client: ReturnType<typeof makeDocumentClient>;
/** Reads the store itself, with no cache: the reference every cached answer is compared with. */
let direct: PlanRepository;

/** What the next request of a kind does: lose its answer after it lands, or wait for a gate. */
const sent: string[] = [];
let loseNextAnswerOf: string | undefined;
let holdNextAnswerOf: { command: string; gate: Promise<void>; arrived: () => void } | undefined;

beforeAll(async () => {
  store = await startLocalStore({ inMemory: true, tableName: TABLE });
  client = makeDocumentClient({ ...LOCAL_AWS, endpoint: store.endpoint, maxAttempts: 1 });
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = String((context as { commandName?: string }).commandName);
      sent.push(command);
      const out = await next(args);
      if (loseNextAnswerOf === command) {
        loseNextAnswerOf = undefined;
        throw Object.assign(new Error('injected: answer lost after the write'), { name: 'InternalServerError', $fault: 'server' });
      }
      if (holdNextAnswerOf?.command === command) {
        const hold = holdNextAnswerOf;
        holdNextAnswerOf = undefined;
        hold.arrived();
        await hold.gate;
      }
      return out;
    },
    { step: 'initialize', name: 'planCacheTestFaults', priority: 'high' },
  );
  direct = new PlanRepository(makeDocumentClient({ ...LOCAL_AWS, endpoint: store.endpoint }), TABLE);
});
afterAll(async () => {
  client?.destroy();
  direct?.client.destroy();
  await store?.close();
});

let n = 0;
/** A plan with events in its outbox, under an id of its own. */
function freshPlan(): Plan {
  n += 1;
  const plan = planInStage('assessment').plan as Plan;
  return { ...plan, planId: `pl_cache${String(n).padStart(12, '0')}`, version: 1, outbox: plan.outbox.map((e) => ({ ...e, planId: `pl_cache${String(n).padStart(12, '0')}` })) };
}
const next = (plan: Plan, change: Partial<Plan> = {}): Plan => ({ ...plan, version: plan.version + 1, ...change });
const cached = (maxPlans = 100) => new PlanRepository(client, TABLE, { soleWriterPlanCache: { maxPlans } });

/** Hold the next answer of `command` until released; resolves `arrived` once the store has answered. */
function holdNext(command: string) {
  let release!: () => void;
  let arrived!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const reached = new Promise<void>((resolve) => (arrived = resolve));
  holdNextAnswerOf = { command, gate, arrived };
  return { release, arrived: reached };
}

/** Requests sent while `work` ran. */
async function requestsOf(work: () => Promise<unknown>): Promise<string[]> {
  const from = sent.length;
  await work();
  return sent.slice(from);
}

describe('plan cache of the embedded stack', () => {
  it('serves a plan it saved, and after its outbox is cleared, exactly as the store holds it, with no request', async () => {
    const plans = cached();
    const plan = freshPlan();
    await plans.savePlan(plan);
    let read: Plan | undefined;
    expect(await requestsOf(async () => (read = await plans.getPlan(plan.planId)))).toEqual([]);
    expect(read).toEqual(await direct.getPlan(plan.planId));
    expect(read?.outbox.length).toBeGreaterThan(0);

    await plans.clearOutbox(plan.planId, plan.outbox.map((e) => e.id));
    expect(await requestsOf(async () => (read = await plans.getPlan(plan.planId, false)))).toEqual([]);
    expect(read?.outbox).toEqual([]);
    expect(read).toEqual(await direct.getPlan(plan.planId));
  });

  it('without the option, every read goes to the store', async () => {
    const plans = new PlanRepository(client, TABLE);
    const plan = freshPlan();
    await plans.savePlan(plan);
    expect(await requestsOf(() => plans.getPlan(plan.planId))).toEqual(['GetItemCommand']);
    expect(await requestsOf(() => plans.getPlan(plan.planId))).toEqual(['GetItemCommand']);
  });

  it('a plan read from the store is kept; changing the object a read returned changes nothing cached', async () => {
    const plan = freshPlan();
    await direct.savePlan(plan);
    const plans = cached();
    const first = (await plans.getPlan(plan.planId)) as Plan;
    first.stage = 'closed';
    first.needs.length = 0;
    let second: Plan | undefined;
    expect(await requestsOf(async () => (second = await plans.getPlan(plan.planId)))).toEqual([]);
    expect(second).toEqual(await direct.getPlan(plan.planId));
  });

  it('a save whose answer was lost (it landed) is read back from the store, not from before', async () => {
    const plans = cached();
    const plan = freshPlan();
    await plans.savePlan(plan);
    const later = next(plan, { stage: 'withdrawn' });
    loseNextAnswerOf = 'PutItemCommand';
    await expect(plans.savePlan(later)).rejects.toThrow(/answer lost/);
    let read: Plan | undefined;
    expect(await requestsOf(async () => (read = await plans.getPlan(plan.planId)))).toEqual(['GetItemCommand']);
    expect(read?.version).toBe(2);
    expect(read?.stage).toBe('withdrawn');
  });

  it('an outbox clear whose answer was lost is read back from the store', async () => {
    const plans = cached();
    const plan = freshPlan();
    await plans.savePlan(plan);
    loseNextAnswerOf = 'UpdateItemCommand';
    await expect(plans.clearOutbox(plan.planId, plan.outbox.map((e) => e.id))).rejects.toThrow(/answer lost/);
    expect((await plans.getPlan(plan.planId))?.outbox).toEqual([]);
  });

  it('a refused save (another version stored) leaves the cache showing what the store holds', async () => {
    const plans = cached();
    const plan = freshPlan();
    await plans.savePlan(plan);
    await direct.savePlan(next(plan, { stage: 'withdrawn' })); // written behind the cache's back, as only a test may
    await expect(plans.savePlan(next(plan))).rejects.toThrow(/changed by another command/);
    expect(await plans.getPlan(plan.planId)).toEqual(await direct.getPlan(plan.planId));
  });

  it('a read answered before a save but returning after it never puts the older plan back', async () => {
    const plan = freshPlan();
    await direct.savePlan(plan);
    const plans = cached();
    const held = holdNext('GetItemCommand');
    const slowRead = plans.getPlan(plan.planId);
    await held.arrived; // the store has answered with version 1
    await plans.savePlan(next(plan, { stage: 'withdrawn' }));
    held.release();
    expect((await slowRead)?.version).toBe(1); // a read concurrent with a write may see either
    const after = await plans.getPlan(plan.planId);
    expect(after?.version).toBe(2);
    expect(after).toEqual(await direct.getPlan(plan.planId));
  });

  it('two writes of one plan in flight together leave nothing cached (the order they landed in is unknown)', async () => {
    const plans = cached();
    const plan = freshPlan();
    await plans.savePlan(plan);
    const held = holdNext('UpdateItemCommand');
    const clearing = plans.clearOutbox(plan.planId, plan.outbox.map((e) => e.id));
    await held.arrived;
    await plans.markIdentityErased(plan.planId, '2026-03-10T10:00:00.000Z');
    held.release();
    await clearing;
    let read: Plan | undefined;
    expect(await requestsOf(async () => (read = await plans.getPlan(plan.planId)))).toEqual(['GetItemCommand']);
    expect(read).toEqual(await direct.getPlan(plan.planId));
    expect(read?.identityErasedAt).toBe('2026-03-10T10:00:00.000Z');
    expect(read?.outbox).toEqual([]);
  });

  it('holds at most maxPlans, dropping the least recently used', async () => {
    const plans = cached(2);
    const [a, b, c] = [freshPlan(), freshPlan(), freshPlan()];
    for (const plan of [a, b, c]) await plans.savePlan(plan);
    expect(plans.planCache?.size).toBe(2);
    expect(await requestsOf(() => plans.getPlan(a.planId))).toEqual(['GetItemCommand']);
    expect(await requestsOf(() => plans.getPlan(c.planId))).toEqual([]);
  });

  it('a deleted plan item is gone from the cache too', async () => {
    const plans = cached();
    const plan = freshPlan();
    await plans.savePlan(plan);
    await plans.deleteItem(keys.plan(plan.planId));
    expect(await plans.getPlan(plan.planId)).toBeUndefined();
  });
});
