import { ConditionalCheckFailedException, DynamoDBClient, ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { makeDocumentClient, TransientStorageError } from '../../lib/adapters/dynamodb/client.ts';
import { keys, shardOf } from '../../lib/adapters/dynamodb/keys.ts';
import { correctedIdentity, correctIdentity } from '../../lib/adapters/dynamodb/identity-store.ts';
import { PlanRepository, RESPONSE_TTL_SECONDS } from '../../lib/adapters/dynamodb/plan-repository.ts';
import { itemToPlan, planToItem } from '../../lib/adapters/dynamodb/plan-item.ts';
import { DomainError } from '../../lib/domain/errors.ts';
import type { Plan, PlanEvent } from '../../lib/domain/schemas.ts';
import { NOW, PARTICIPANT, PARTICIPANT_ID, planInStage, PLAN_ID, run, validCommand } from '../support/domain-fixtures.ts';

const TABLE = 'wraparound-test';
const ddb = mockClient(DynamoDBDocumentClient);

beforeEach(() => {
  ddb.reset();
  // After a failed condition the repository reads the plan back to tell its own landed write from another's.
  ddb.on(GetCommand).resolves({});
});
afterAll(() => ddb.restore());

const repository = () => new PlanRepository(makeDocumentClient({ region: 'eu-west-2' }), TABLE);

function planIn(stage: Parameters<typeof planInStage>[0]): Plan {
  const { plan } = planInStage(stage);
  if (!plan) throw new Error(`no plan in ${stage}`);
  return plan;
}

/** A referred plan whose assessment deadline has fired: it has an open escalation. */
function escalatedPlan(): Plan {
  const { plan, ctx } = planInStage('referred');
  const timer = validCommand('assessment-overdue', plan, ctx);
  const escalated = run(plan, timer.command, timer.ctx).plan;
  expect(escalated.escalations.some((e) => !e.resolvedAt)).toBe(true);
  return escalated;
}

const throttled = (name: string) => Object.assign(new Error(`${name}: slow down`), { name, $metadata: {} });

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the promise to reject');
}

describe('savePlan', () => {
  it('creates version 1 only where no item exists', async () => {
    ddb.on(PutCommand).resolves({});
    const plan = planIn('referred');
    expect(plan.version).toBe(1);
    await repository().savePlan(plan);

    const calls = ddb.commandCalls(PutCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]!.args[0].input;
    expect(input.TableName).toBe(TABLE);
    expect(input.ConditionExpression).toBe('attribute_not_exists(pk)');
    expect(input.ExpressionAttributeValues).toBeUndefined();
    expect(input.Item).toEqual(planToItem(plan));
    expect(input.Item).toMatchObject({ pk: `PLAN#${PLAN_ID}`, sk: 'PLAN', type: 'plan' });
  });

  it('replaces a later version only if the stored one is the previous version', async () => {
    ddb.on(PutCommand).resolves({});
    const plan = planIn('allocating');
    expect(plan.version).toBeGreaterThan(1);
    await repository().savePlan(plan);

    const input = ddb.commandCalls(PutCommand)[0]!.args[0].input;
    // ...and holds no identity erasure mark this plan does not (a save must not drop one it never saw).
    expect(input.ConditionExpression).toBe('#version = :previous AND attribute_not_exists(#erased)');
    expect(input.ExpressionAttributeNames).toEqual({ '#version': 'version', '#erased': 'identityErasedAt' });
    expect(input.ExpressionAttributeValues).toEqual({ ':previous': plan.version - 1 });
  });

  it('checks only the version when the plan in hand carries the erasure mark', async () => {
    ddb.on(PutCommand).resolves({});
    const plan = { ...planIn('closed'), identityErasedAt: NOW };
    await repository().savePlan(plan);
    const input = ddb.commandCalls(PutCommand)[0]!.args[0].input;
    expect(input.ConditionExpression).toBe('#version = :previous');
    expect(input.Item?.identityErasedAt).toBe(NOW);
  });

  it('turns a failed condition into a VersionConflict domain error', async () => {
    ddb.on(PutCommand).rejects(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }));
    const error = await rejection(repository().savePlan(planIn('assessment')));
    expect(error).toBeInstanceOf(DomainError);
    expect(error.name).toBe('VersionConflict');
    expect((error as DomainError).status).toBe(409);
    expect(error.message).toContain(PLAN_ID);
  });

  it('treats a failed condition as success when the stored plan is this very write (a retried save whose answer was lost)', async () => {
    const plan = { ...planIn('assessment'), writtenBy: 'execution-1' };
    ddb.on(PutCommand).rejects(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }));
    ddb.on(GetCommand).resolves({ Item: planToItem(plan) });
    await expect(repository().savePlan(plan)).resolves.toBeUndefined();
    // Another execution's write at the same version is still a conflict.
    ddb.on(GetCommand).resolves({ Item: planToItem({ ...plan, writtenBy: 'execution-2' }) });
    expect((await rejection(repository().savePlan(plan))).name).toBe('VersionConflict');
  });

  it('turns a failed condition on version 1 into a VersionConflict saying the plan exists', async () => {
    ddb.on(PutCommand).rejects(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }));
    const error = await rejection(repository().savePlan(planIn('referred')));
    expect(error.name).toBe('VersionConflict');
    expect(error.message).toMatch(/already exists/);
  });

  it('recognises a failed condition by name too (an error from another copy of the SDK)', async () => {
    ddb.on(PutCommand).rejects(Object.assign(new Error('The conditional request failed'), { name: 'ConditionalCheckFailedException' }));
    const error = await rejection(repository().savePlan(planIn('assessment')));
    expect(error.name).toBe('VersionConflict');
  });

  it.each(['ThrottlingException', 'ProvisionedThroughputExceededException'])('turns %s into a TransientStorageError the state machine retries', async (name) => {
    const cause =
      name === 'ProvisionedThroughputExceededException' ? new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: {} }) : throttled(name);
    ddb.on(PutCommand).rejects(cause);
    const error = await rejection(repository().savePlan(planIn('assessment')));
    expect(error).toBeInstanceOf(TransientStorageError);
    expect(error.name).toBe('TransientStorageError');
    expect(error.cause).toBe(cause);
  });

  it('passes any other storage error on as it is', async () => {
    const cause = Object.assign(new Error('One or more parameter values were invalid'), { name: 'ValidationException' });
    ddb.on(PutCommand).rejects(cause);
    const error = await rejection(repository().savePlan(planIn('assessment')));
    expect(error).toBe(cause);
  });
});

describe('planToItem / itemToPlan', () => {
  it.each(['referred', 'assessment', 'allocating', 'active', 'exited', 'closed', 'withdrawn'] as const)('round-trips a %s plan', (stage) => {
    const plan = planIn(stage);
    expect(itemToPlan(planToItem(plan))).toEqual(plan);
  });

  it('round-trips a plan with an open escalation and an empty outbox', () => {
    const plan = { ...escalatedPlan(), outbox: [] };
    expect(itemToPlan(planToItem(plan))).toEqual(plan);
  });

  it('stores the outbox as a map keyed by event id (each event as JSON text) and reads it back in sequence order', () => {
    const plan = planIn('active');
    expect(plan.outbox.length).toBeGreaterThan(1);
    const item = planToItem(plan);
    const outbox = item.outbox as Record<string, string>;
    expect(Array.isArray(outbox)).toBe(false);
    expect(Object.keys(outbox).sort()).toEqual(plan.outbox.map((e) => e.id).sort());
    for (const event of plan.outbox) expect(JSON.parse(outbox[event.id]!)).toEqual(event);

    // The map's own order does not matter: reversed, it still reads back by sequence.
    const reversed = Object.fromEntries(Object.entries(outbox).reverse());
    expect(itemToPlan({ ...item, outbox: reversed }).outbox.map((e) => e.sequence)).toEqual(plan.outbox.map((e) => e.sequence));
  });

  it('reads an item without an outbox attribute as an empty outbox', () => {
    const { outbox: _outbox, ...item } = planToItem(planIn('referred'));
    expect(itemToPlan(item).outbox).toEqual([]);
  });

  it('strips every key and index attribute when reading an item', () => {
    const plan = escalatedPlan();
    const item = planToItem(plan);
    for (const k of ['pk', 'sk', 'type', 'stagePk', 'stageSk', 'duePk', 'dueAt', 'outboxPk', 'outboxSince', 'alertPk', 'alertSince']) expect(item).toHaveProperty(k);
    const read = itemToPlan(item) as unknown as Record<string, unknown>;
    for (const k of ['pk', 'sk', 'type', 'stagePk', 'stageSk', 'duePk', 'dueAt', 'outboxPk', 'outboxSince', 'alertPk', 'alertSince']) expect(read).not.toHaveProperty(k);
  });

  it('indexes the plan by stage and last update', () => {
    const plan = planIn('allocating');
    expect(planToItem(plan)).toMatchObject({ stagePk: 'STAGE#allocating', stageSk: `${plan.updatedAt}#${plan.planId}` });
  });

  it('puts the earliest deadline allowed in the stage on the due index', () => {
    const plan = planIn('allocating');
    const earliest = plan.deadlines.map((d) => d.dueAt).sort()[0];
    expect(planToItem(plan)).toMatchObject({ duePk: `DUE#${shardOf(plan.planId)}`, dueAt: earliest });
  });

  it('ignores deadlines not allowed in the plan’s stage', () => {
    const plan = planIn('referred');
    const allowed = plan.deadlines[0]!.dueAt;
    // A review reminder cannot fire while the plan is referred, even though it is earlier.
    const stale: Plan = { ...plan, deadlines: [...plan.deadlines, { deadlineId: 'review-due:1', command: 'review-due', dueAt: '2026-03-03T09:00:00.000Z', ref: '1' }] };
    expect(planToItem(stale).dueAt).toBe(allowed);

    const onlyStale: Plan = { ...stale, deadlines: stale.deadlines.filter((d) => d.command === 'review-due') };
    const item = planToItem(onlyStale);
    expect(item).not.toHaveProperty('dueAt');
    expect(item).not.toHaveProperty('duePk');
  });

  it('leaves a plan with no deadlines off the due index', () => {
    const item = planToItem(planIn('closed'));
    expect(item).not.toHaveProperty('dueAt');
    expect(item).not.toHaveProperty('duePk');
  });

  it('puts the plan on the outbox index only while its outbox holds events, since the oldest one', () => {
    const plan = planIn('allocating');
    const oldest = plan.outbox.map((e) => e.time).sort()[0];
    expect(planToItem(plan)).toMatchObject({ outboxPk: `OUTBOX#${shardOf(plan.planId)}`, outboxSince: oldest });

    const delivered = planToItem({ ...plan, outbox: [] });
    expect(delivered).not.toHaveProperty('outboxPk');
    expect(delivered).not.toHaveProperty('outboxSince');
    expect(delivered.outbox).toEqual({});
  });

  it('puts the plan on the alert index only with an open escalation', () => {
    const plan = escalatedPlan();
    const open = plan.escalations.find((e) => !e.resolvedAt)!;
    expect(planToItem(plan)).toMatchObject({ alertPk: `ALERT#${shardOf(plan.planId)}`, alertSince: open.raisedAt });

    const resolved: Plan = { ...plan, escalations: plan.escalations.map((e) => ({ ...e, resolvedAt: '2026-03-20T10:00:00.000Z' })) };
    const item = planToItem(resolved);
    expect(item).not.toHaveProperty('alertPk');
    expect(item).not.toHaveProperty('alertSince');

    const never = planToItem(planIn('active'));
    expect(never).not.toHaveProperty('alertPk');
  });
});

describe('clearOutbox', () => {
  const failedCondition = () => new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

  it('removes the delivered events and the outbox index entry in one update when they are all the outbox holds', async () => {
    ddb.on(UpdateCommand).resolves({});
    await repository().clearOutbox(PLAN_ID, ['ev_00001', 'ev_00002']);

    const calls = ddb.commandCalls(UpdateCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input).toEqual({
      TableName: TABLE,
      Key: keys.plan(PLAN_ID),
      UpdateExpression: 'REMOVE outbox.#e0, outbox.#e1, outboxPk, outboxSince',
      ConditionExpression: 'size(outbox) = :count AND attribute_exists(outbox.#e0) AND attribute_exists(outbox.#e1)',
      ExpressionAttributeNames: { '#e0': 'ev_00001', '#e1': 'ev_00002' },
      ExpressionAttributeValues: { ':count': 2 },
    });
  });

  it('sends nothing for no ids', async () => {
    await repository().clearOutbox(PLAN_ID, []);
    expect(ddb.calls()).toHaveLength(0);
  });

  it('when the outbox holds more (a later save) or less, removes the events by id, then the index entry only if nothing is left', async () => {
    ddb.on(UpdateCommand).rejectsOnce(failedCondition()).resolvesOnce({}).rejectsOnce(failedCondition());
    await expect(repository().clearOutbox(PLAN_ID, ['ev_00001'])).resolves.toBeUndefined();

    const [whole, byId, unindex] = ddb.commandCalls(UpdateCommand).map((c) => c.args[0].input);
    expect(whole?.UpdateExpression).toBe('REMOVE outbox.#e0, outboxPk, outboxSince');
    expect(byId).toEqual({ TableName: TABLE, Key: keys.plan(PLAN_ID), UpdateExpression: 'REMOVE outbox.#e0', ConditionExpression: 'attribute_exists(pk)', ExpressionAttributeNames: { '#e0': 'ev_00001' } });
    expect(unindex).toEqual({
      TableName: TABLE,
      Key: keys.plan(PLAN_ID),
      UpdateExpression: 'REMOVE outboxPk, outboxSince',
      ConditionExpression: 'attribute_exists(outboxPk) AND size(outbox) = :zero',
      ExpressionAttributeValues: { ':zero': 0 },
    });
  });

  it('is content when the plan is gone (both conditions fail) and stops there', async () => {
    ddb.on(UpdateCommand).rejects(failedCondition());
    await expect(repository().clearOutbox(PLAN_ID, ['ev_00001'])).resolves.toBeUndefined();
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(2);
  });

  it('rethrows throttling as a TransientStorageError', async () => {
    ddb.on(UpdateCommand).rejects(throttled('ThrottlingException'));
    const error = await rejection(repository().clearOutbox(PLAN_ID, ['ev_00001']));
    expect(error.name).toBe('TransientStorageError');
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(1);
  });
});

describe('recordEvents', () => {
  const event = (sequence: number, providerId?: string): PlanEvent => ({
    id: `ev_${String(sequence).padStart(5, '0')}`,
    planId: PLAN_ID,
    sequence,
    type: providerId ? 'allocation.offered.v1' : 'plan.referred.v1',
    time: NOW,
    data: {},
    ...(providerId ? { providerId } : {}),
  }) as PlanEvent;
  const WRITTEN_AT = '2026-11-28T12:00:00.000Z';
  const noWait = { batch: { sleep: async () => undefined, random: () => 0.5 } };
  const putKeys = (input: { RequestItems?: Record<string, unknown[]> }) =>
    (input.RequestItems?.[TABLE] ?? []).map((r) => {
      const item = (r as { PutRequest: { Item: Record<string, unknown> } }).PutRequest.Item;
      return `${item.pk} ${item.sk}`;
    });

  it('writes a history entry per event and a feed entry per provider event in one batch', async () => {
    ddb.on(BatchWriteCommand).resolves({});
    await new PlanRepository(makeDocumentClient({ region: 'eu-west-2' }), TABLE).recordEvents([event(1), event(2, 'bcwa')], WRITTEN_AT);

    const calls = ddb.commandCalls(BatchWriteCommand);
    expect(calls).toHaveLength(1);
    expect(putKeys(calls[0]!.args[0].input)).toEqual([
      `PLAN#${PLAN_ID} EVENT#0000000001`,
      `PLAN#${PLAN_ID} EVENT#0000000002`,
      `PROVIDER#bcwa FEED#${WRITTEN_AT}#ev_00002`,
    ]);
  });

  it('splits more than 25 items into batches of 25', async () => {
    ddb.on(BatchWriteCommand).resolves({});
    await new PlanRepository(makeDocumentClient({ region: 'eu-west-2' }), TABLE).recordEvents(Array.from({ length: 30 }, (_, i) => event(i + 1)), WRITTEN_AT);
    expect(ddb.commandCalls(BatchWriteCommand).map((c) => putKeys(c.args[0].input).length)).toEqual([25, 5]);
  });

  it('resends the UnprocessedItems DynamoDB hands back, after a backoff, until none are left', async () => {
    const delays: number[] = [];
    const items = [event(1), event(2), event(3)];
    ddb
      .on(BatchWriteCommand)
      .callsFakeOnce((input: { RequestItems: Record<string, unknown[]> }) => ({ UnprocessedItems: { [TABLE]: input.RequestItems[TABLE]!.slice(1) } }))
      .callsFakeOnce((input: { RequestItems: Record<string, unknown[]> }) => ({ UnprocessedItems: { [TABLE]: input.RequestItems[TABLE]!.slice(1) } }))
      .resolves({ UnprocessedItems: {} });
    const repo = new PlanRepository(makeDocumentClient({ region: 'eu-west-2' }), TABLE, { batch: { sleep: async (ms) => void delays.push(ms), random: () => 1, baseDelayMs: 10 } });
    await repo.recordEvents(items, WRITTEN_AT);

    const sent = ddb.commandCalls(BatchWriteCommand).map((c) => putKeys(c.args[0].input));
    expect(sent).toEqual([
      [`PLAN#${PLAN_ID} EVENT#0000000001`, `PLAN#${PLAN_ID} EVENT#0000000002`, `PLAN#${PLAN_ID} EVENT#0000000003`],
      [`PLAN#${PLAN_ID} EVENT#0000000002`, `PLAN#${PLAN_ID} EVENT#0000000003`],
      [`PLAN#${PLAN_ID} EVENT#0000000003`],
    ]);
    expect(delays).toEqual([10, 20]);
  });

  it('gives up on items that stay unprocessed with a TransientStorageError, so the step or the sweeper tries again', async () => {
    ddb.on(BatchWriteCommand).callsFake((input: { RequestItems: Record<string, unknown[]> }) => ({ UnprocessedItems: input.RequestItems }));
    const error = await rejection(new PlanRepository(makeDocumentClient({ region: 'eu-west-2' }), TABLE, { batch: { ...noWait.batch, maxAttempts: 4 } }).recordEvents([event(1)], WRITTEN_AT));
    expect(error).toBeInstanceOf(TransientStorageError);
    expect(ddb.commandCalls(BatchWriteCommand)).toHaveLength(4);
  });

  it('rethrows throttling of the whole batch as a TransientStorageError', async () => {
    ddb.on(BatchWriteCommand).rejects(throttled('ProvisionedThroughputExceededException'));
    const error = await rejection(new PlanRepository(makeDocumentClient({ region: 'eu-west-2' }), TABLE, noWait).recordEvents([event(1)], WRITTEN_AT));
    expect(error.name).toBe('TransientStorageError');
  });
});

describe('unindexEmptyOutbox', () => {
  it('drops the index entry only of an indexed plan whose outbox is empty, and is content otherwise', async () => {
    ddb.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }));
    await expect(repository().unindexEmptyOutbox(PLAN_ID)).resolves.toBeUndefined();
    expect(ddb.commandCalls(UpdateCommand)[0]!.args[0].input).toMatchObject({
      UpdateExpression: 'REMOVE outboxPk, outboxSince',
      ConditionExpression: 'attribute_exists(outboxPk) AND size(outbox) = :zero',
    });
  });
});

describe('identity records', () => {
  const failedCondition = () => new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

  it('writes the identity apart from the plan, only where no record exists, noting the referral that gave it', async () => {
    ddb.on(PutCommand).resolves({});
    await expect(repository().putIdentity(PARTICIPANT_ID, PARTICIPANT, NOW, PLAN_ID)).resolves.toBe(true);
    const calls = ddb.commandCalls(PutCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input).toEqual({
      TableName: TABLE,
      Item: { pk: `PARTICIPANT#${PARTICIPANT_ID}`, sk: 'IDENTITY', type: 'identity', ...PARTICIPANT, recordedAt: NOW, referralsNoted: new Set([PLAN_ID]) },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
  });

  it('never overwrites an existing record: a failed condition is false, by class or by name', async () => {
    ddb.on(PutCommand).rejects(failedCondition());
    await expect(repository().putIdentity(PARTICIPANT_ID, PARTICIPANT, NOW, PLAN_ID)).resolves.toBe(false);
    ddb.reset();
    ddb.on(PutCommand).rejects(Object.assign(new Error('The conditional request failed'), { name: 'ConditionalCheckFailedException' }));
    await expect(repository().putIdentity(PARTICIPANT_ID, PARTICIPANT, NOW, PLAN_ID)).resolves.toBe(false);
    expect(ddb.commandCalls(PutCommand)).toHaveLength(1);
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  it('turns throttling while writing an identity into a TransientStorageError, and passes other errors on', async () => {
    ddb.on(PutCommand).rejects(throttled('ThrottlingException'));
    expect((await rejection(repository().putIdentity(PARTICIPANT_ID, PARTICIPANT, NOW, PLAN_ID))).name).toBe('TransientStorageError');
    const cause = Object.assign(new Error('One or more parameter values were invalid'), { name: 'ValidationException' });
    ddb.reset();
    ddb.on(PutCommand).rejects(cause);
    expect(await rejection(repository().putIdentity(PARTICIPANT_ID, PARTICIPANT, NOW, PLAN_ID))).toBe(cause);
  });

  it('deletes an identity record by its key', async () => {
    ddb.on(DeleteCommand).resolves({});
    await repository().deleteIdentity(PARTICIPANT_ID);
    expect(ddb.commandCalls(DeleteCommand).map((c) => c.args[0].input)).toEqual([{ TableName: TABLE, Key: { pk: `PARTICIPANT#${PARTICIPANT_ID}`, sk: 'IDENTITY' } }]);
  });

  it('reads back only the identity fields', async () => {
    ddb.on(GetCommand).resolves({ Item: { pk: `PARTICIPANT#${PARTICIPANT_ID}`, sk: 'IDENTITY', type: 'identity', ...PARTICIPANT, recordedAt: NOW } });
    await expect(repository().getIdentity(PARTICIPANT_ID)).resolves.toEqual(PARTICIPANT);
  });
});

describe('a correction of her identity', () => {
  const held = { ...PARTICIPANT, preferredName: 'Jas', contact: { phone: '07700 900123', preferredMethod: 'phone-call' as const }, address: { lines: ['1 Example Road'], postcode: 'B70 1AA' } };
  const correction = { preferredName: 'Jazz', contact: null };

  it('is checked as the merge a value replaces, a null removes, and a field left out keeps', () => {
    expect(correctedIdentity(held, correction)).toEqual({ ...PARTICIPANT, preferredName: 'Jazz', address: held.address });
  });

  it('is written as that same merge: one update setting what it gives, removing what it nulls, leaving the rest', async () => {
    const stored = correctedIdentity(held, correction);
    ddb.on(UpdateCommand).resolves({ Attributes: { ...keys.identity(PARTICIPANT_ID), type: 'identity', ...stored, revision: 4, correctedAt: NOW } });
    await expect(correctIdentity(repository(), PARTICIPANT_ID, correction, NOW, 3)).resolves.toEqual(stored);
    const input = ddb.commandCalls(UpdateCommand)[0]!.args[0].input;
    // ADD: the fields it names join those corrected since a referral was noted (identity-store.ts applyReferralDetails).
    expect(input.UpdateExpression).toBe('SET #correctedAt = :now, #revision = if_not_exists(#revision, :zero) + :one, #preferredName = :preferredName REMOVE #contact ADD #correctedSince :corrected');
    expect(input.ExpressionAttributeValues).toMatchObject({ ':preferredName': 'Jazz', ':seen': 3, ':corrected': new Set(['preferredName', 'contact']) });
    expect(input.ConditionExpression).toBe('attribute_exists(pk) AND #revision = :seen');
    expect(JSON.stringify(input)).not.toContain('address');
  });
});

describe('first responses to an Idempotency-Key', () => {
  const keyHash = 'a'.repeat(64);
  const response = { fingerprint: 'f'.repeat(64), status: 201, body: '{"planId":"pl_x"}' };

  it('keeps the response under the scope and the key hash, expiring after the TTL', async () => {
    ddb.on(PutCommand).resolves({});
    await repository().saveResponse(PLAN_ID, keyHash, response, NOW);
    const input = ddb.commandCalls(PutCommand)[0]!.args[0].input;
    expect(RESPONSE_TTL_SECONDS).toBe(7 * 24 * 3600);
    expect(input).toEqual({
      TableName: TABLE,
      Item: { pk: `IDEMPOTENCY#${PLAN_ID}`, sk: `RESPONSE#${keyHash}`, type: 'response', ...response, expiresAt: Date.parse(NOW) / 1000 + RESPONSE_TTL_SECONDS },
    });
    expect(keys.idempotentResponse(PLAN_ID, keyHash)).toEqual({ pk: input.Item!.pk, sk: input.Item!.sk });
  });

  it('reads it back consistently, without the key attributes, or undefined when there is none', async () => {
    ddb.on(GetCommand).resolves({ Item: { pk: `IDEMPOTENCY#${PLAN_ID}`, sk: `RESPONSE#${keyHash}`, type: 'response', ...response, expiresAt: 1 } });
    await expect(repository().getResponse(PLAN_ID, keyHash)).resolves.toEqual(response);
    expect(ddb.commandCalls(GetCommand)[0]!.args[0].input).toEqual({ TableName: TABLE, Key: { pk: `IDEMPOTENCY#${PLAN_ID}`, sk: `RESPONSE#${keyHash}` }, ConsistentRead: true });
    ddb.reset();
    ddb.on(GetCommand).resolves({});
    await expect(repository().getResponse(PLAN_ID, keyHash)).resolves.toBeUndefined();
  });

  it('rethrows throttling as a TransientStorageError', async () => {
    ddb.on(GetCommand).rejects(throttled('ThrottlingException'));
    expect((await rejection(repository().getResponse(PLAN_ID, keyHash))).name).toBe('TransientStorageError');
    ddb.on(PutCommand).rejects(throttled('ThrottlingException'));
    expect((await rejection(repository().saveResponse(PLAN_ID, keyHash, response, NOW))).name).toBe('TransientStorageError');
  });
});

describe('built on a plain document client', () => {
  it('works the same with DynamoDBDocumentClient.from', async () => {
    ddb.on(PutCommand).resolves({});
    const plans = new PlanRepository(DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-2' })), TABLE);
    await plans.savePlan(planIn('referred'));
    expect(ddb.commandCalls(PutCommand)).toHaveLength(1);
  });
});
