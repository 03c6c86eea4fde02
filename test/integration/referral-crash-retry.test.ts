/**
 * A referral whose process dies at any point, retried with the same Idempotency-Key, ends where a first
 * attempt would: one plan, one identity record holding what the referral gave, her person record listing
 * the plan, the plan filed under each of her near-match keys, an answer stored for the key, and an answer
 * whose participant and participantRevision are what is held (a correction sent with that revision as
 * If-Match is saved, not refused).
 *
 * The command handler runs here over its own storage client on the embedded stack's store (and the stack's
 * state machine runner): the "process" dies right after one step landed (the claim of her person record,
 * her identity, the note of the referral, the plan's save, her details, the link, the near-match filing,
 * the stored answer), so every later request of that process fails, as a killed Lambda's would. Then a
 * new process retries the same request.
 */
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeHandler } from '../../functions/api-commands/handler.ts';
import { DynamoAuditLog } from '../../lib/adapters/dynamodb/audit-log.ts';
import { makeDocumentClient } from '../../lib/adapters/dynamodb/client.ts';
import { keys } from '../../lib/adapters/dynamodb/keys.ts';
import { identityOfItem, PlanRepository } from '../../lib/adapters/dynamodb/plan-repository.ts';
import { TABLE_NAME_DEFAULT } from '../../lib/adapters/dynamodb/table-definition.ts';
import { identityEntityTag } from '../../lib/api/if-match.ts';
import { identityMatchKey } from '../../lib/adapters/identity-match.ts';
import { nearMatchKeys } from '../../lib/adapters/near-match.ts';
import type { Participant } from '../../lib/domain/schemas.ts';
import { LOCAL_AWS } from '../../lib/local/dynalite-server.ts';
import { startEmbeddedStack, type EmbeddedStack } from '../../lib/local/embedded-stack.ts';
import type { WorkflowStarter } from '../../workflows/plan-command/state.ts';
import type { Json } from '../support/http.ts';

let stack: EmbeddedStack;
const SECRET = new Uint8Array(32).fill(7);

beforeAll(async () => {
  stack = await startEmbeddedStack({ inMemory: true, port: 0, sweepIntervalMs: 0, webhooks: { intervalMs: 0 }, webDistDir: false });
});
afterAll(async () => {
  await stack?.stop();
});

type Input = { Key?: { pk?: string }; Item?: { pk?: string }; UpdateExpression?: string };
/** A step of the referral, told by the storage request that completes it. */
type Step = { name: string; landed?: (input: Input) => boolean; afterRun?: boolean };
const pkOf = (input: Input) => String(input.Key?.pk ?? input.Item?.pk ?? '');
const STEPS: Record<string, Step> = {
  claim: { name: 'the claim of her person record', landed: (i) => pkOf(i).startsWith('PERSON#') && Boolean(i.UpdateExpression?.includes('#claim = :claim')) },
  identity: { name: 'her identity record put', landed: (i) => pkOf(i).startsWith('PARTICIPANT#') && i.Item !== undefined },
  note: { name: 'the note of the referral on her record', landed: (i) => pkOf(i).startsWith('PARTICIPANT#') && Boolean(i.UpdateExpression?.includes('#pending = :plan')) },
  plan: { name: 'the plan saved', afterRun: true },
  details: { name: "the referral's details written", landed: (i) => pkOf(i).startsWith('PARTICIPANT#') && Boolean(i.UpdateExpression?.includes('#outcome = :outcome')) },
  link: { name: 'the link on her person record', landed: (i) => pkOf(i).startsWith('PERSON#') && Boolean(i.UpdateExpression?.includes('list_append')) },
  near: { name: 'the near-match filing', landed: (i) => pkOf(i).startsWith('NEAR#') },
  answer: { name: 'the answer stored', landed: (i) => pkOf(i).startsWith('IDEMPOTENCY#') && i.Item !== undefined },
};

/** One process of the command API: its own storage client, which stops for good right after `crashAfter` landed. */
function commandProcess(crashAfter?: Step, options: { auditRefused?: boolean } = {}) {
  const client = makeDocumentClient({ ...LOCAL_AWS, endpoint: stack.store.endpoint, maxAttempts: 1 }, { localStore: true });
  let dead = false;
  const died = () => Object.assign(new Error('the process died'), { name: 'ProcessDied' });
  client.middlewareStack.add(
    (next) => async (args) => {
      if (dead) throw died();
      if (options.auditRefused && pkOf((args as { input: Input }).input).startsWith('AUDIT#')) throw Object.assign(new Error('the audit log refused the write'), { name: 'InternalServerError', $fault: 'server' });
      const out = await next(args);
      if (crashAfter?.landed?.((args as { input: Input }).input)) {
        dead = true;
        throw died();
      }
      return out;
    },
    { step: 'initialize', name: 'dieAfterStep', priority: 'high' },
  );
  const workflow: WorkflowStarter = {
    startSync: async (input) => {
      if (dead) throw died();
      const outcome = await stack.workflow.startSync(input);
      if (crashAfter?.afterRun) {
        dead = true;
        throw died();
      }
      return outcome;
    },
  };
  const plans = new PlanRepository(client, TABLE_NAME_DEFAULT);
  const handler = makeHandler({
    plans,
    workflow,
    clock: () => stack.clock.now(),
    audit: new DynamoAuditLog(client, TABLE_NAME_DEFAULT),
    identityKey: async () => SECRET,
    logger: { error: () => undefined },
  });
  return { handler, plans, client, died: () => dead };
}

function apiEvent(routeKey: string, rawPath: string, body: unknown, headers: Record<string, string> = {}, pathParameters?: Record<string, string>): APIGatewayProxyEventV2 {
  const [method] = routeKey.split(' ');
  return {
    version: '2.0',
    routeKey,
    rawPath,
    rawQueryString: '',
    headers: { 'content-type': 'application/json', ...headers },
    ...(pathParameters ? { pathParameters } : {}),
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'api.example.org',
      domainPrefix: 'api',
      http: { method: method!, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: 'vitest' },
      requestId: 'req-1',
      routeKey,
      stage: '$default',
      time: '29/Nov/2026:07:00:00 +0000',
      timeEpoch: Date.now(),
      authorizer: { jwt: { claims: { sub: 'coordinator-crash', 'cognito:groups': '[coordinators]' }, scopes: [] } },
    },
    body: JSON.stringify(body),
    isBase64Encoded: false,
  } as APIGatewayProxyEventV2;
}

type Answer = { statusCode: number; headers: Record<string, string>; json: Json };
async function send(process: ReturnType<typeof commandProcess>, event: APIGatewayProxyEventV2): Promise<Answer> {
  const result = await process.handler(event, {} as Context);
  return { statusCode: result.statusCode, headers: (result.headers ?? {}) as Record<string, string>, json: result.body ? JSON.parse(result.body) : undefined };
}

/** A date of birth of her own for each woman, so that no two are near matches of each other (lib/adapters/near-match.ts). */
let women = 0;
const dateOfBirth = () => `${1960 + (women += 1)}-03-${String(10 + women).padStart(2, '0')}`;
const referral = { source: 'custody-diversion', localAuthority: 'sandwell', urgency: 'routine' };
const phone = (n: string) => ({ phone: `07700 900${n}`, preferredMethod: 'phone-call', safeToLeaveVoicemail: false });
const refer = (participant: Record<string, unknown>, key: string) => apiEvent('POST /plans', '/plans', { participant, referral }, { 'idempotency-key': key });

/** What is stored about her after the referral of `planId`: her identity record, her person record, her near-match items. */
async function heldFor(plans: PlanRepository, participant: Record<string, unknown>, planId: string) {
  const plan = await plans.getPlan(planId);
  const identity = plan ? await plans.getIdentityRecord(plan.participantId) : undefined;
  const person = await plans.findPerson(identityMatchKey(SECRET, participant as Participant));
  const near = nearMatchKeys(SECRET, participant as Participant).filed;
  const filed = await Promise.all(
    near.map(async ({ key }) => {
      const item = (await plans.client.send(new GetCommand({ TableName: TABLE_NAME_DEFAULT, Key: keys.nearMatch(key), ConsistentRead: true }))).Item;
      return [...((item?.planIds as Set<string> | undefined) ?? [])].includes(planId);
    }),
  );
  return { plan, identity, person, filed };
}

/** Every identity record in the table whose identity is hers (by name and date of birth). */
async function identityRecordsOf(participant: Record<string, unknown>) {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await stack.plans.client.send(new ScanCommand({ TableName: TABLE_NAME_DEFAULT, ConsistentRead: true, ExclusiveStartKey: start }));
    items.push(...((out.Items ?? []) as Record<string, unknown>[]));
    start = out.LastEvaluatedKey;
  } while (start);
  return items.filter((i) => String(i.pk).startsWith('PARTICIPANT#') && identityOfItem(i).familyName === participant.familyName);
}

/** Where a referral must end, crashed and retried or not. */
async function expectRecorded(answer: Answer, participant: Record<string, unknown>, expected: { planIds: number; revision: number; applied: string[] }) {
  expect(answer.statusCode, JSON.stringify(answer.json)).toBe(201);
  const planId = answer.json.planId as string;
  const checker = commandProcess();
  const held = await heldFor(checker.plans, participant, planId);
  expect(held.plan?.stage).toBe('referred');
  expect(await identityRecordsOf(participant)).toHaveLength(1);
  expect(held.identity?.identity.contact).toEqual(participant.contact);
  expect(held.identity?.revision).toBe(expected.revision);
  // The answer gives what is held, its revision included.
  expect(answer.json.participant).toEqual(held.identity?.identity);
  expect(answer.json.participantRevision).toBe(held.identity?.revision);
  expect(answer.json.referralDetails).toEqual({ applied: expected.applied, notApplied: [] });
  expect(held.person?.participantId).toBe(held.plan?.participantId);
  expect(held.person?.planIds).toHaveLength(expected.planIds);
  expect(held.person?.planIds).toContain(planId);
  expect(held.filed.every(Boolean)).toBe(true);
  return { planId, checker };
}

describe('a first referral of her, its process dying after each step, retried with the same key', () => {
  for (const step of ['claim', 'identity', 'plan', 'link', 'near', 'answer'] as const) {
    it(`ends where a first attempt would (died after ${STEPS[step]!.name})`, async () => {
      const participant = { givenName: `Morwenna${step}`, familyName: `Crashfirst${step}`, dateOfBirth: dateOfBirth(), contact: phone('123') };
      const key = `crash-first-${step}`;
      const dying = commandProcess(STEPS[step]);
      const first = await send(dying, refer(participant, key));
      expect(dying.died(), `the process did not reach ${STEPS[step]!.name}: ${JSON.stringify(first.json)}`).toBe(true);
      expect(first.statusCode).toBeGreaterThanOrEqual(500);

      const retried = await send(commandProcess(), refer(participant, key));
      const { planId, checker } = await expectRecorded(retried, participant, { planIds: 1, revision: 0, applied: ['contact'] });
      const replay = await send(checker, refer(participant, key));
      expect(replay.statusCode).toBe(201);
      expect(replay.headers['idempotent-replayed']).toBe('true');
      expect(replay.json.planId).toBe(planId);
      expect(replay.json.participantRevision).toBe(retried.json.participantRevision);

      // The revision answered is the one a correction goes through with.
      const corrected = await send(
        checker,
        apiEvent('PATCH /plans/{planId}/participant', `/plans/${planId}/participant`, { contact: phone('999') }, { 'if-match': identityEntityTag(retried.json.participantRevision) }, { planId }),
      );
      expect(corrected.statusCode, JSON.stringify(corrected.json)).toBe(200);
    });
  }
});

describe('a referral of her after a withdrawn plan, bringing new contact details, its process dying after each step', () => {
  for (const step of ['claim', 'note', 'plan', 'details', 'link', 'near', 'answer'] as const) {
    it(`ends where a first attempt would (died after ${STEPS[step]!.name})`, async () => {
      const before = { givenName: `Tamsin${step}`, familyName: `Crashagain${step}`, dateOfBirth: dateOfBirth(), contact: phone('123') };
      const clean = commandProcess();
      const earlier = await send(clean, refer(before, `earlier-${step}`));
      expect(earlier.statusCode, JSON.stringify(earlier.json)).toBe(201);
      const withdrawn = await send(
        clean,
        apiEvent('POST /plans/{planId}/{command}', `/plans/${earlier.json.planId}/withdraw`, { reason: 'unreachable' }, {}, { planId: earlier.json.planId, command: 'withdraw' }),
      );
      expect(withdrawn.statusCode, JSON.stringify(withdrawn.json)).toBe(200);

      const participant = { ...before, contact: phone('456') };
      const key = `crash-again-${step}`;
      const dying = commandProcess(STEPS[step]);
      const first = await send(dying, refer(participant, key));
      expect(dying.died(), `the process did not reach ${STEPS[step]!.name}: ${JSON.stringify(first.json)}`).toBe(true);
      expect(first.statusCode).toBeGreaterThanOrEqual(500);

      const retried = await send(commandProcess(), refer(participant, key));
      const { planId, checker } = await expectRecorded(retried, participant, { planIds: 2, revision: 1, applied: ['contact'] });
      expect(retried.json.previousPlanIds).toEqual([earlier.json.planId]);
      const replay = await send(checker, refer(participant, key));
      expect(replay.statusCode).toBe(201);
      expect(replay.json.planId).toBe(planId);
      expect(replay.json.participant).toEqual(retried.json.participant);
      expect(replay.json.participantRevision).toBe(retried.json.participantRevision);
    });
  }
});

describe('a retry answered from the store while the audit record cannot be written', () => {
  it('gives nothing out: not the plan a command answered with, not her identity a referral answered with', async () => {
    const participant = { givenName: 'Ysolde', familyName: 'Auditrefused', dateOfBirth: dateOfBirth(), contact: phone('321') };
    const clean = commandProcess();
    const referred = await send(clean, refer(participant, 'audit-refused-referral'));
    expect(referred.statusCode, JSON.stringify(referred.json)).toBe(201);
    const planId = referred.json.planId as string;
    const withdraw = () => apiEvent('POST /plans/{planId}/{command}', `/plans/${planId}/withdraw`, { reason: 'unreachable' }, { 'idempotency-key': 'audit-refused-withdraw' }, { planId, command: 'withdraw' });
    const withdrawn = await send(clean, withdraw());
    expect(withdrawn.statusCode, JSON.stringify(withdrawn.json)).toBe(200);

    const unaudited = commandProcess(undefined, { auditRefused: true });
    const command = await send(unaudited, withdraw());
    expect(command.statusCode).toBeGreaterThanOrEqual(500);
    expect(command.json.stage).toBeUndefined();
    expect(JSON.stringify(command.json)).not.toContain('withdrawn');
    const referral = await send(unaudited, refer(participant, 'audit-refused-referral'));
    expect(referral.statusCode).toBeGreaterThanOrEqual(500);
    expect(JSON.stringify(referral.json)).not.toMatch(/Ysolde|Auditrefused|900321/);
    expect(referral.json.planId).toBeUndefined();

    // With the audit log back, the same retries get their stored answers.
    expect((await send(clean, withdraw())).json.stage).toBe('withdrawn');
    expect((await send(clean, refer(participant, 'audit-refused-referral'))).json.participant).toEqual(referred.json.participant);
  });
});
