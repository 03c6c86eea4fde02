/**
 * How a plan is stored (lib/adapters/dynamodb/plan-item.ts): its body as one gzipped JSON attribute, the
 * outbox's events as JSON text, and plan items of the nested format written before still read, saved,
 * cleared and erased. Against dynalite, which validates items as DynamoDB does.
 */
import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDocumentClient } from '../../lib/adapters/dynamodb/client.ts';
import { keys } from '../../lib/adapters/dynamodb/keys.ts';
import { itemToPlan, PLAN_BODY_ATTRIBUTE, planToItem, readablePlanItem } from '../../lib/adapters/dynamodb/plan-item.ts';
import { PlanRepository } from '../../lib/adapters/dynamodb/plan-repository.ts';
import { LOCAL_AWS, startLocalStore, type LocalStore } from '../../lib/local/dynalite-server.ts';
import { readFunctionConfig } from '../../lib/config.ts';
import type { Plan } from '../../lib/domain/schemas.ts';
import type { Stage } from '../../lib/domain/lifecycle.ts';
import { IDENTIFYING_STRINGS, planInStage } from '../support/domain-fixtures.ts';

const TABLE = 'wraparound-plan-item-test';
const STAGES: Stage[] = ['referred', 'assessment', 'allocating', 'active', 'exited', 'closed', 'withdrawn'];

let store: LocalStore;
let client: ReturnType<typeof makeDocumentClient>;
let repository: PlanRepository;

beforeAll(async () => {
  store = await startLocalStore({ inMemory: true, tableName: TABLE, process: 'in-process' });
  client = makeDocumentClient({ ...LOCAL_AWS, endpoint: store.endpoint });
  repository = new PlanRepository(client, TABLE);
});
afterAll(async () => {
  client.destroy();
  await store.close();
});

function planIn(stage: Stage, id: string): Plan {
  const { plan } = planInStage(stage);
  if (!plan) throw new Error(`no plan in ${stage}`);
  return { ...plan, planId: id };
}

/** A plan item as Wraparound wrote it before `planGzip`: every plan field an attribute, outbox events as maps. */
function nestedItem(plan: Plan): Record<string, unknown> {
  const { [PLAN_BODY_ATTRIBUTE]: _body, outbox: _outbox, ...rest } = planToItem(plan);
  const { outbox, ...fields } = plan;
  return { ...rest, ...fields, outbox: Object.fromEntries(outbox.map((e) => [e.id, e])) };
}

const stored = async (planId: string) => (await client.send(new GetCommand({ TableName: TABLE, Key: keys.plan(planId), ConsistentRead: true }))).Item!;

describe('a plan in its item', () => {
  it('reads back equal to the plan saved, in every stage, through the store', async () => {
    for (const stage of STAGES) {
      const plan = planIn(stage, `pl_roundtrip_${stage}`);
      await client.send(new PutCommand({ TableName: TABLE, Item: planToItem(plan) }));
      expect(await repository.getPlan(plan.planId), stage).toEqual(plan);
    }
  });

  it('is a handful of attributes, its body gzipped binary, and smaller than the plan as JSON', async () => {
    const plan = planIn('active', 'pl_small_active');
    await client.send(new PutCommand({ TableName: TABLE, Item: planToItem(plan) }));
    const item = await stored(plan.planId);
    expect(item[PLAN_BODY_ATTRIBUTE]).toBeInstanceOf(Uint8Array);
    expect(Object.keys(item).length).toBeLessThanOrEqual(18);
    expect((item[PLAN_BODY_ATTRIBUTE] as Uint8Array).byteLength).toBeLessThan(JSON.stringify(plan).length / 2);
    // What the body holds is still the plan, and no identity: the store's readable view shows it.
    const readable = JSON.stringify(readablePlanItem(item));
    expect(readable).toContain(plan.needs[0]!.domain);
    for (const text of IDENTIFYING_STRINGS) expect(readable).not.toContain(text);
  });

  it('keeps her identity erasure outside the body, so the update that marks it is read, survives a save and is in the stage index', async () => {
    const plan = planIn('active', 'pl_erased_active');
    await repository.savePlan({ ...plan, version: 1 });
    await repository.markIdentityErased(plan.planId, '2026-03-05T09:00:00.000Z');
    const read = await repository.getPlan(plan.planId);
    expect(read?.identityErasedAt).toBe('2026-03-05T09:00:00.000Z');
    await repository.savePlan({ ...read!, version: 2 });
    expect((await repository.getPlan(plan.planId))?.identityErasedAt).toBe('2026-03-05T09:00:00.000Z');
    const page = await repository.listByStage('active', 100);
    expect(page.items.find((p) => p.planId === plan.planId)?.identityErasedAt).toBe('2026-03-05T09:00:00.000Z');
    const entry = await client.send(
      new QueryCommand({ TableName: TABLE, IndexName: 'byStage', KeyConditionExpression: 'stagePk = :pk', ExpressionAttributeValues: { ':pk': 'STAGE#active' } }),
    );
    expect(entry.Items?.find((i) => i.pk === keys.plan(plan.planId).pk)?.identityErasedAt).toBe('2026-03-05T09:00:00.000Z');
  });

  it('is not saved over by a command that read the plan before her identity was erased: a conflict, and the mark stays', async () => {
    const plan = planIn('active', 'pl_erased_in_between');
    await repository.savePlan({ ...plan, version: 1 });
    const readBefore = (await repository.getPlan(plan.planId))!;
    await repository.markIdentityErased(plan.planId, '2026-03-05T09:00:00.000Z');
    await expect(repository.savePlan({ ...readBefore, version: 2, updatedAt: '2026-03-05T10:00:00.000Z' })).rejects.toMatchObject({ name: 'VersionConflict' });
    const after = await repository.getPlan(plan.planId);
    expect(after?.identityErasedAt).toBe('2026-03-05T09:00:00.000Z');
    expect(after?.version).toBe(1);
    // Read again, the command saves, and the mark goes with it.
    await repository.savePlan({ ...after!, version: 2 });
    expect((await repository.getPlan(plan.planId))?.identityErasedAt).toBe('2026-03-05T09:00:00.000Z');
  });

  it('clears delivered events from the outbox without touching the body', async () => {
    const plan = planIn('active', 'pl_outbox_active');
    expect(plan.outbox.length).toBeGreaterThan(1);
    await repository.savePlan({ ...plan, version: 1 });
    const before = await stored(plan.planId);
    await repository.clearOutbox(plan.planId, [plan.outbox[0]!.id]);
    const after = await stored(plan.planId);
    expect(after[PLAN_BODY_ATTRIBUTE]).toEqual(before[PLAN_BODY_ATTRIBUTE]);
    expect((await repository.getPlan(plan.planId))?.outbox).toEqual(plan.outbox.slice(1));
    await repository.clearOutbox(plan.planId, plan.outbox.slice(1).map((e) => e.id));
    const emptied = await stored(plan.planId);
    expect(emptied.outboxPk).toBeUndefined();
    expect((await repository.getPlan(plan.planId))?.outbox).toEqual([]);
  });
});

describe('an expired offer stored before expiredAt', () => {
  it('reads its lapse as expiredAt, not as a response, in both formats; answered offers keep respondedAt', async () => {
    const plan = planIn('allocating', 'pl_expired_as_responded');
    const [{ respondedAt: _firstAnswered, ...first }, second] = plan.allocations as [Plan['allocations'][number], Plan['allocations'][number]];
    const lapsed = '2026-03-06T17:00:00.000Z';
    const answered = '2026-03-05T09:00:00.000Z';
    // As an older release stored them: the expiry written as respondedAt.
    const before: Plan = { ...plan, allocations: [{ ...first, status: 'expired', respondedAt: lapsed }, { ...second, status: 'declined', respondedAt: answered }, ...plan.allocations.slice(2)] };
    const read = { ...before, allocations: [{ ...first, status: 'expired' as const, expiredAt: lapsed }, { ...second, status: 'declined' as const, respondedAt: answered }, ...plan.allocations.slice(2)] };
    await client.send(new PutCommand({ TableName: TABLE, Item: planToItem(before) }));
    expect(await repository.getPlan(plan.planId)).toEqual(read);
    expect(itemToPlan(nestedItem(before))).toEqual(read);
  });
});

describe('a plan item of the nested format written before', () => {
  it('reads as the same plan, in every stage', async () => {
    for (const stage of STAGES) {
      const plan = planIn(stage, `pl_nested_${stage}`);
      await client.send(new PutCommand({ TableName: TABLE, Item: nestedItem(plan) }));
      expect(await repository.getPlan(plan.planId), stage).toEqual(plan);
      expect(itemToPlan(nestedItem(plan)), stage).toEqual(plan);
    }
  });

  it('has its outbox cleared, is saved over (in the new format) by the next version, and reads the same after', async () => {
    const plan = planIn('active', 'pl_nested_then_saved');
    await client.send(new PutCommand({ TableName: TABLE, Item: nestedItem(plan) }));
    await repository.clearOutbox(plan.planId, [plan.outbox[0]!.id]);
    const cleared = await repository.getPlan(plan.planId);
    expect(cleared?.outbox).toEqual(plan.outbox.slice(1));
    const next = { ...cleared!, version: plan.version + 1, updatedAt: '2026-03-06T10:00:00.000Z' };
    await repository.savePlan(next);
    expect((await stored(plan.planId))[PLAN_BODY_ATTRIBUTE]).toBeInstanceOf(Uint8Array);
    expect(await repository.getPlan(plan.planId)).toEqual(next);
  });

  it('keeps an identity erasure marked on it', async () => {
    const plan = planIn('closed', 'pl_nested_erased');
    await client.send(new PutCommand({ TableName: TABLE, Item: nestedItem(plan) }));
    await repository.markIdentityErased(plan.planId, '2026-03-07T09:00:00.000Z');
    expect((await repository.getPlan(plan.planId))?.identityErasedAt).toBe('2026-03-07T09:00:00.000Z');
  });
});

describe('history entries', () => {
  it('hold the event as JSON text, read back in sequence with entries written as maps before', async () => {
    const plan = planInStage('active').plan!;
    const [first, ...rest] = plan.outbox;
    expect(rest.length).toBeGreaterThan(0);
    // The first entry as the format before wrote it, the rest as recordEvents writes them now.
    await client.send(new PutCommand({ TableName: TABLE, Item: { ...keys.historyEvent(plan.planId, first!.sequence), type: 'event', event: first } }));
    await repository.recordEvents(rest, '2026-03-05T10:00:00.000Z');
    const entry = await client.send(new GetCommand({ TableName: TABLE, Key: keys.historyEvent(plan.planId, rest[0]!.sequence) }));
    expect(typeof entry.Item?.event).toBe('string');
    expect(await repository.history(plan.planId)).toEqual(plan.outbox);
  });
});

describe("a stack writing the nested format (PLAN_ITEM_FORMAT=nested, while a release from before planGzip still runs)", () => {
  it('is what PLAN_ITEM_FORMAT asks for; gzip without it; anything else fails the start naming it', () => {
    expect(readFunctionConfig({ TABLE_NAME: 't' }).PLAN_ITEM_FORMAT).toBe('gzip');
    expect(readFunctionConfig({ TABLE_NAME: 't', PLAN_ITEM_FORMAT: 'nested' }).PLAN_ITEM_FORMAT).toBe('nested');
    expect(() => readFunctionConfig({ TABLE_NAME: 't', PLAN_ITEM_FORMAT: 'json' })).toThrow(/PLAN_ITEM_FORMAT/);
  });

  it('writes plans, outbox events and history entries as that release wrote them, and reads them back', async () => {
    const nested = new PlanRepository(client, TABLE, { itemFormat: 'nested' });
    const plan = planInStage('active').plan!;
    await nested.savePlan({ ...plan, planId: 'pl_written_nested', version: 1 });
    const item = await stored('pl_written_nested');
    expect(item[PLAN_BODY_ATTRIBUTE]).toBeUndefined();
    expect(item).toEqual(nestedItem({ ...plan, planId: 'pl_written_nested', version: 1 }));
    expect(await nested.getPlan('pl_written_nested')).toEqual({ ...plan, planId: 'pl_written_nested', version: 1 });
    // A stack on the new format reads it too, and its next save rewrites it gzipped.
    expect(await repository.getPlan('pl_written_nested')).toEqual({ ...plan, planId: 'pl_written_nested', version: 1 });

    await nested.recordEvents(plan.outbox, '2026-03-05T10:00:00.000Z');
    const entry = await client.send(new GetCommand({ TableName: TABLE, Key: keys.historyEvent(plan.planId, plan.outbox[0]!.sequence) }));
    expect(entry.Item?.event).toEqual(plan.outbox[0]);
  });
});
