/**
 * The plan indexes hold keys only, and every query over them fetches the plans from the table. A data
 * directory made before that has the same indexes projecting ALL attributes; the queries must answer
 * the same from either (the embedded stack keeps such a directory rather than refusing it).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDocumentClient } from '../../lib/adapters/dynamodb/client.ts';
import { keys, shardOf } from '../../lib/adapters/dynamodb/keys.ts';
import { PlanRepository } from '../../lib/adapters/dynamodb/plan-repository.ts';
import { itemToPlan, planToItem } from '../../lib/adapters/dynamodb/plan-item.ts';
import { createTableInput } from '../../lib/adapters/dynamodb/table-definition.ts';
import { closeDynalite, DYNALITE_TIMINGS } from '../../lib/local/dynalite-child-protocol.js';
import { LOCAL_AWS, startLocalStore, type LocalStore } from '../../lib/local/dynalite-server.ts';
import type { Plan } from '../../lib/domain/schemas.ts';
import { planInStage, run, validCommand } from '../support/domain-fixtures.ts';

const TABLE = 'wraparound';
const FAR = '9999-12-31T00:00:00.000Z';

function inStage(stage: Parameters<typeof planInStage>[0], planId: string): Plan {
  const { plan } = planInStage(stage);
  if (!plan) throw new Error(`no plan in ${stage}`);
  return { ...plan, planId };
}

/** Plans on every plan index: due deadlines, undelivered events, an open escalation, ended ones. */
function cohort(): Plan[] {
  const { plan, ctx } = planInStage('referred');
  const timer = validCommand('assessment-overdue', plan!, ctx);
  const escalated = { ...run(plan, timer.command, timer.ctx).plan, planId: 'pl_escalated00001' };
  return [escalated, inStage('allocating', 'pl_allocating0001'), inStage('active', 'pl_active00000001'), inStage('closed', 'pl_closed00000001'), inStage('withdrawn', 'pl_withdrawn00001')];
}

async function answers(repository: PlanRepository) {
  const ids = (plans: Plan[]) => plans.map((p) => p.planId);
  return {
    due: ids(await repository.dueBefore(FAR)).sort(),
    // The due list with a horizon past every deadline: the escalated plans (byAlert), then the others due (byWork).
    work: ids((await repository.worklistPage('this-week', FAR, 100)).items).sort(),
    outbox: ids(await repository.pendingOutbox(FAR)).sort(),
    alerted: ids((await repository.worklistPage('overdue', undefined, 10)).items),
    alertCount: await repository.countAlerted(),
    closed: ids(await repository.endedBefore('closed', FAR)),
    withdrawn: ids(await repository.endedBefore('withdrawn', FAR)),
    allocating: ids((await repository.listByStage('allocating', 10)).items),
    plans: [...(await repository.dueBefore(FAR))].sort((a, b) => a.planId.localeCompare(b.planId)),
  };
}

describe('plan index queries on keys-only and on old ALL-projection tables', () => {
  let dataDir: string;
  let store: LocalStore | undefined;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'wraparound-projections-'));
  });
  afterAll(async () => {
    await store?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('answers alike from a new data directory and from one whose indexes project ALL attributes; the new indexes hold keys only', async () => {
    const plans = cohort();
    const results = [];
    for (const kind of ['new', 'old'] as const) {
      const dir = join(dataDir, kind);
      if (kind === 'old') {
        // A data directory as an older Wraparound made it: every index projecting ALL attributes.
        const server = dynalite({ path: join(dir, 'dynalite'), ...DYNALITE_TIMINGS });
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
        const raw = new DynamoDBClient({ ...LOCAL_AWS, endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
        const input = createTableInput(TABLE);
        await raw.send(new CreateTableCommand({ ...input, GlobalSecondaryIndexes: input.GlobalSecondaryIndexes.map((g) => ({ ...g, Projection: { ProjectionType: 'ALL' } })) }));
        // Closed only once active: a table stored while still being created never becomes active on reopening.
        while ((await raw.send(new DescribeTableCommand({ TableName: TABLE }))).Table?.TableStatus !== 'ACTIVE') await new Promise((r) => setTimeout(r, 10));
        raw.destroy();
        await closeDynalite(server);
      }
      store = await startLocalStore({ dataDir: dir, inMemory: false, tableName: TABLE, process: 'in-process' });
      const client = makeDocumentClient({ ...LOCAL_AWS, endpoint: store.endpoint });
      const repository = new PlanRepository(client, TABLE);
      // Stored as savePlan stores them (each is at a later version than a first save would accept).
      for (const plan of plans) await client.send(new PutCommand({ TableName: TABLE, Item: planToItem(plan) }));
      const answer = await answers(repository);
      // What the byDue index itself holds for a plan: all of it in the old table, keys only in the new.
      const allocating = plans[1]!;
      const entry = (await client.send(new QueryCommand({ TableName: TABLE, IndexName: 'byDue', KeyConditionExpression: 'duePk = :pk', ExpressionAttributeValues: { ':pk': keys.duePartition(shardOf(allocating.planId)) } }))).Items?.find(
        (i) => i.pk === keys.plan(allocating.planId).pk,
      );
      if (kind === 'new') expect(Object.keys(entry ?? {}).sort()).toEqual(['dueAt', 'duePk', 'pk', 'sk']);
      else expect(itemToPlan(entry ?? {})).toMatchObject({ planId: allocating.planId, stage: 'allocating' });
      results.push(answer);
      client.destroy();
      await store.close();
      store = undefined;
    }
    const [fresh, old] = results;
    expect(fresh!.alerted).toEqual(['pl_escalated00001']);
    expect(fresh!.alertCount).toBe(1);
    expect(fresh!.closed).toEqual(['pl_closed00000001']);
    expect(fresh!.withdrawn).toEqual(['pl_withdrawn00001']);
    expect(fresh!.allocating).toEqual(['pl_allocating0001']);
    expect(fresh!.due.length).toBeGreaterThan(0);
    expect(fresh!.outbox.length).toBeGreaterThan(0);
    // The plans come back whole, as saved.
    expect(fresh!.plans).toEqual(plans.filter((p) => fresh!.due.includes(p.planId)).sort((a, b) => a.planId.localeCompare(b.planId)));
    expect(old).toEqual(fresh);
  });
});
