/**
 * The sweeper's maintenance steps do not skip each other: against a real dynalite, a redaction pass that
 * throws (its scan refused, as a throttled table would) is named in the run's report, and the facts
 * rebuild and the audit by-plan index marker after it still run. On AWS the run then fails, so the
 * sweeper's errors alarm fires.
 */
import { DeleteCommand, GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeHandler, sweep, SweepStepsFailed, type SweeperDeps } from '../../functions/sweeper/handler.ts';
import { DynamoAuditLog } from '../../lib/adapters/dynamodb/audit-log.ts';
import { makeDocumentClient } from '../../lib/adapters/dynamodb/client.ts';
import { keys } from '../../lib/adapters/dynamodb/keys.ts';
import { PlanRepository } from '../../lib/adapters/dynamodb/plan-repository.ts';
import { LOCAL_AWS, startLocalStore, type LocalStore } from '../../lib/local/dynalite-server.ts';

const TABLE = 'wraparound-sweeper-steps-test';

let store: LocalStore;
let client: ReturnType<typeof makeDocumentClient>;

beforeAll(async () => {
  store = await startLocalStore({ inMemory: true, tableName: TABLE, process: 'in-process' });
  client = makeDocumentClient({ ...LOCAL_AWS, endpoint: store.endpoint });
  // A table made with the index is marked when created; as a deployed table that gained it, it has none.
  await client.send(new DeleteCommand({ TableName: TABLE, Key: keys.auditPlanIndexMarker() }));
});
afterAll(async () => {
  client.destroy();
  await store.close();
});

/** The store refuses the scan the erased-plan redaction pass walks the table by; every other request works. */
const scanRefused = (documents: typeof client) =>
  new Proxy(documents, {
    get: (target, name, receiver) =>
      name === 'send'
        ? (command: Parameters<typeof documents.send>[0]) =>
            command instanceof ScanCommand ? Promise.reject(new Error('ProvisionedThroughputExceededException: the scan was throttled')) : target.send(command)
        : Reflect.get(target, name, receiver),
  });

const marker = async () => (await client.send(new GetCommand({ TableName: TABLE, Key: keys.auditPlanIndexMarker(), ConsistentRead: true }))).Item?.indexedFrom;

function deps(factsRuns: string[]): SweeperDeps {
  const plans = new PlanRepository(scanRefused(client), TABLE);
  const audit = new DynamoAuditLog(client, TABLE);
  return {
    plans,
    publisher: { publish: async () => undefined },
    workflow: { startSync: async () => ({ status: 'FAILED' }) } as unknown as SweeperDeps['workflow'],
    clock: () => '2026-03-02T00:00:00.000Z',
    shouldReconcile: () => true,
    retention: { days: 30, plans, audit },
    factsBackfill: async (now) => {
      factsRuns.push(now);
      return { plans: 2, finished: false };
    },
    auditPlanIndex: audit,
  };
}

describe('a sweeper step that throws', () => {
  it('is in the report, and the facts rebuild and the audit index marker after it still run', async () => {
    const factsRuns: string[] = [];
    const report = await sweep(deps(factsRuns));
    expect(report.failedSteps).toEqual([{ step: 'erased-redaction', error: expect.stringContaining('ProvisionedThroughputExceededException') }]);
    expect(factsRuns).toEqual(['2026-03-02T00:00:00.000Z']);
    expect(report.factsRebuilt).toBe(2);
    expect(await marker()).toBe('2026-03-04');
  });

  it('fails the Lambda run after every step ran, so the sweeper errors alarm fires', async () => {
    const factsRuns: string[] = [];
    const run = makeHandler(deps(factsRuns))();
    await expect(run).rejects.toThrow(SweepStepsFailed);
    await expect(run).rejects.toThrow(/erased-redaction/);
    expect(factsRuns).toHaveLength(1);
  });
});
