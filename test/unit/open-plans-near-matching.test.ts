/**
 * openPlansNearMatching, the AWS adapter's unit test (aws-sdk-client-mock): the plans filed under a
 * referral's near-match keys are read in BatchGetItems of at most 100 keys, at most MOST_PLANS_READ of
 * them, and only then are the open plans of other women kept, oldest referral first, and capped at the
 * most a refusal names. The refusal itself, over HTTP on dynalite: integration/possible-duplicate-behind-closed-plans.
 */
import { BatchGetCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, expect, it } from 'vitest';
import { makeDocumentClient } from '../../lib/adapters/dynamodb/client.ts';
import { keys } from '../../lib/adapters/dynamodb/keys.ts';
import { MOST_PLANS_READ, openPlansNearMatching } from '../../lib/adapters/dynamodb/near-match-store.ts';
import { planToItem } from '../../lib/adapters/dynamodb/plan-item.ts';
import type { NearMatchKeys } from '../../lib/adapters/near-match.ts';
import type { Plan } from '../../lib/domain/schemas.ts';
import { MAX_POSSIBLE_DUPLICATES } from '../../lib/domain/vocabulary.ts';
import { planInStage } from '../support/domain-fixtures.ts';

const TABLE = 'wraparound-test';
const ddb = mockClient(DynamoDBDocumentClient);
const store = () => ({ client: makeDocumentClient({ region: 'eu-west-2' }), tableName: TABLE });
type Key = { pk: string; sk: string };
type Item = Record<string, unknown>;
type BatchGetInput = { RequestItems: Record<string, { Keys: Key[] }> };

const near: NearMatchKeys = { filed: [{ kind: 'family-name-and-birth-date', key: 'f'.repeat(40) }], slips: [{ kind: 'names-transposed', key: 'e'.repeat(40) }] };
const base = planInStage('referred').plan as Plan;
const planId = (i: number) => `pl_${String(i).padStart(24, '0')}`;
/** Plan i, referred i minutes after the first (so the later the id, the later the referral). */
const planItem = (i: number, changes: Partial<Plan> = {}) =>
  planToItem({ ...base, planId: planId(i), participantId: `pt_${i}`, createdAt: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(), ...changes });

/** The table: the near-match item and person record filing `filed`, and the plan items given. */
function serve(filed: string[], plans: Item[]) {
  const byKey = new Map<string, Item>([
    [`${keys.nearMatch(near.filed[0]!.key).pk}|NEAR`, { ...keys.nearMatch(near.filed[0]!.key), type: 'near-match', planIds: new Set(filed.slice(1)) }],
    [`${keys.person(near.slips[0]!.key).pk}|PERSON`, { ...keys.person(near.slips[0]!.key), type: 'person', planIds: filed.slice(0, 1) }],
    ...plans.map((p) => [`${String(p.pk)}|${String(p.sk)}`, p] as [string, Item]),
  ]);
  ddb.on(BatchGetCommand).callsFake((input: BatchGetInput) => ({ Responses: { [TABLE]: input.RequestItems[TABLE]!.Keys.flatMap((k) => byKey.get(`${k.pk}|${k.sk}`) ?? []) } }));
}
const planKeysRead = () =>
  ddb
    .commandCalls(BatchGetCommand)
    .map((c) => (c.args[0].input as BatchGetInput).RequestItems[TABLE]!.Keys)
    .filter((ks) => ks.every((k) => k.sk === 'PLAN'));

beforeEach(() => ddb.reset());
afterAll(() => ddb.restore());

it(`reads at most ${MOST_PLANS_READ} of the plans filed, 100 a request, and keeps the ${MAX_POSSIBLE_DUPLICATES} oldest open plans of other women`, async () => {
  // The person record (a slip key) files plan 0; the near-match item 1 to 1,199, read first.
  const filed = Array.from({ length: MOST_PLANS_READ + 200 }, (_, i) => planId(i));
  // Plans 0-899 ended; 900 on open, among them one erased, one of hers by her participant id and one by its id.
  const plans = filed.map((_, i) =>
    i < 900 ? planItem(i, { stage: i % 2 ? 'withdrawn' : 'closed' }) : i === 905 ? planItem(i, { identityErasedAt: '2026-02-01T00:00:00.000Z' }) : i === 906 ? planItem(i, { participantId: 'pt_her' }) : planItem(i),
  );
  serve(filed, plans);
  const open = await openPlansNearMatching(store(), near, { planIds: [planId(907)], participantId: 'pt_her' });

  // The first 1,000 ids found (1 to 1,000), less her own plan 907: 999 plans in 10 requests.
  expect(planKeysRead().map((ks) => ks.length)).toEqual([100, 100, 100, 100, 100, 100, 100, 100, 100, 99]);
  const read = new Set(planKeysRead().flat().map((k) => k.pk));
  expect(read.has(keys.plan(planId(1_000)).pk) && !read.has(keys.plan(planId(1_001)).pk) && !read.has(keys.plan(planId(0)).pk)).toBe(true);
  const expected = filed.slice(900, 1_001).filter((id) => ![planId(905), planId(906), planId(907)].includes(id));
  expect(open.map((p) => p.planId)).toEqual(expected.slice(0, MAX_POSSIBLE_DUPLICATES));
});

it('names the open plans oldest referral first, whatever the order they were filed in', async () => {
  // Read as 3, 0, 2 (the near-match item) then 1 (the person record).
  const filed = [planId(1), planId(3), planId(0), planId(2)];
  serve(filed, [planItem(0, { stage: 'closed' }), planItem(1), planItem(2, { stage: 'assessment' }), planItem(3)]);
  const open = await openPlansNearMatching(store(), near, { planIds: [] });
  expect(open.map((p) => [p.planId, p.stage])).toEqual([
    [planId(1), 'referred'],
    [planId(2), 'assessment'],
    [planId(3), 'referred'],
  ]);
});

it('reads no plan when nothing is filed, or only her own plans', async () => {
  serve([planId(0)], [planItem(0)]);
  expect(await openPlansNearMatching(store(), near, { planIds: [planId(0)] })).toEqual([]);
  expect(planKeysRead()).toEqual([]);
});
