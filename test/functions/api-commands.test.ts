import { createHash } from 'node:crypto';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { makeHandler, type CommandApiDeps } from '../../functions/api-commands/handler.ts';
import type { StoredResponse } from '../../lib/adapters/dynamodb/plan-repository.ts';
import type { Command } from '../../lib/domain/decide.ts';
import { DomainError, type DomainErrorName } from '../../lib/domain/errors.ts';
import type { Participant, Plan } from '../../lib/domain/schemas.ts';
import type { ExecutionOutcome, PlanCommandInput, WorkflowStarter } from '../../workflows/plan-command/state.ts';
import { AGE_AT_REFERRAL, ASSESSMENT_PAYLOAD, consentPayload, IDENTIFYING_STRINGS, makeContext, NOW, PARTICIPANT, planInStage, PLAN_ID, run } from '../support/domain-fixtures.ts';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

// ---------------------------------------------------------------------------------------------
// Fakes

type Outcome = (input: PlanCommandInput, plans: FakePlans) => ExecutionOutcome;

/**
 * Records every input; answers with the canned outcome, or as the state machine would: Load plan
 * (a key already applied to the plan is replayed, or refused if the request differs), the domain,
 * and Save plan (a second plan under the same id is a VersionConflict).
 */
class FakeWorkflow implements WorkflowStarter {
  readonly inputs: PlanCommandInput[] = [];
  readonly store: FakePlans;
  outcome: Outcome | undefined;
  constructor(store: FakePlans, outcome?: Outcome) {
    this.store = store;
    this.outcome = outcome;
  }
  async startSync(input: PlanCommandInput): Promise<ExecutionOutcome> {
    this.inputs.push(structuredClone(input));
    if (this.outcome) return this.outcome(input, this.store);
    const { command } = input;
    const stored = this.store.plans.get(command.planId);
    const applied = command.idempotency ? stored?.applied.find((a) => a.key === command.idempotency?.key) : undefined;
    if (stored && applied) {
      if (applied.fingerprint !== command.idempotency?.fingerprint) return failed('IdempotencyKeyReused', `Idempotency-Key "${applied.key}" was already used for a different ${applied.command} request.`);
      return { status: 'SUCCEEDED', output: { ...input, plan: stored, replay: { status: applied.status, version: applied.version } } };
    }
    if (command.name === 'refer' && stored) return failed('VersionConflict', `Plan ${command.planId} already exists.`);
    const existing = command.name === 'refer' ? undefined : (stored ?? planInStage('referred').plan);
    try {
      const step = run(existing, command, makeContext({ now: input.now }));
      this.store.plans.set(step.plan.planId, step.plan);
      return { status: 'SUCCEEDED', output: { ...input, plan: step.plan, changed: true, status: step.decision.status } };
    } catch (error) {
      if (error instanceof DomainError) return { status: 'FAILED', error: error.name, cause: error.toCause() };
      throw error;
    }
  }
  get commands(): Command[] {
    return this.inputs.map((i) => i.command);
  }
}

const failed = (name: DomainErrorName, detail: string): ExecutionOutcome => ({ status: 'FAILED', error: name, cause: new DomainError(name, detail).toCause() });

/** The parts of PlanRepository the command API uses, over maps, recording every write. */
class FakePlans {
  readonly plans = new Map<string, Plan>();
  readonly identities = new Map<string, Participant>();
  readonly responses = new Map<string, StoredResponse>();
  readonly putIdentityCalls: { participantId: string; identity: Participant; now: string }[] = [];
  readonly deleteIdentityCalls: string[] = [];
  readonly saveResponseCalls: { scope: string; keyHash: string; response: StoredResponse; now: string }[] = [];
  readonly getPlanCalls: string[] = [];
  async getPlan(planId: string): Promise<Plan | undefined> {
    this.getPlanCalls.push(planId);
    return this.plans.get(planId);
  }
  /** As the real one: never overwrites, false when the record exists. */
  async putIdentity(participantId: string, identity: Participant, now: string): Promise<boolean> {
    this.putIdentityCalls.push({ participantId, identity, now });
    if (this.identities.has(participantId)) return false;
    this.identities.set(participantId, identity);
    return true;
  }
  async deleteIdentity(participantId: string): Promise<void> {
    this.deleteIdentityCalls.push(participantId);
    this.identities.delete(participantId);
  }
  async getIdentity(participantId: string): Promise<Participant | undefined> {
    return this.identities.get(participantId);
  }
  async getIdentityRecord(participantId: string): Promise<{ identity: Participant; revision: number } | undefined> {
    const identity = this.identities.get(participantId);
    return identity ? { identity, revision: 0 } : undefined;
  }
  async saveResponse(scope: string, keyHash: string, response: StoredResponse, now: string): Promise<void> {
    this.saveResponseCalls.push({ scope, keyHash, response: structuredClone(response), now });
    this.responses.set(`${scope}|${keyHash}`, response);
  }
  async getResponse(scope: string, keyHash: string): Promise<StoredResponse | undefined> {
    return this.responses.get(`${scope}|${keyHash}`);
  }
}

/** The n-th random id the handler is given (hex, 24 characters). */
const randomIdNo = (n: number) => `abcdef0123456789abcd${n.toString(16).padStart(4, '0')}`;

function setup(outcome?: Outcome) {
  const plans = new FakePlans();
  const workflow = new FakeWorkflow(plans, outcome);
  let n = 0;
  const deps: CommandApiDeps = { plans: plans as unknown as CommandApiDeps['plans'], workflow, clock: () => NOW, randomId: () => randomIdNo(++n), audit: { record: async () => undefined } };
  return { workflow, plans, handler: makeHandler(deps) };
}

// ---------------------------------------------------------------------------------------------
// Events

const COORDINATOR_CLAIMS = { sub: 'coordinator-1', 'cognito:groups': '[coordinators]' };
const PROVIDER_CLAIMS = { sub: 'anawim-worker', 'cognito:groups': '[providers]', 'custom:providerId': 'anawim' };

interface Request {
  routeKey: string;
  rawPath: string;
  body?: unknown;
  headers?: Record<string, string>;
  claims?: Record<string, unknown>;
  pathParameters?: Record<string, string>;
}

function apiEvent(r: Request): APIGatewayProxyEventV2 {
  const [method] = r.routeKey.split(' ');
  return {
    version: '2.0',
    routeKey: r.routeKey,
    rawPath: r.rawPath,
    rawQueryString: '',
    headers: { 'content-type': 'application/json', ...r.headers },
    ...(r.pathParameters ? { pathParameters: r.pathParameters } : {}),
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'api.example.org',
      domainPrefix: 'api',
      http: { method: method!, path: r.rawPath, protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: 'vitest' },
      requestId: 'req-1',
      routeKey: r.routeKey,
      stage: '$default',
      time: '02/Mar/2026:10:00:00 +0000',
      timeEpoch: Date.parse(NOW),
      ...(r.claims ? { authorizer: { jwt: { claims: r.claims, scopes: [] } } } : {}),
    },
    body: r.body === undefined ? undefined : typeof r.body === 'string' ? r.body : JSON.stringify(r.body),
    isBase64Encoded: false,
  } as APIGatewayProxyEventV2;
}

const CONTEXT = {} as Context;

async function call(handler: ReturnType<typeof makeHandler>, r: Request) {
  const result = await handler(apiEvent(r), CONTEXT);
  return { ...result, json: result.body ? (JSON.parse(result.body) as Record<string, unknown>) : undefined };
}

const REFERRAL = {
  participant: { ...PARTICIPANT },
  referral: { source: 'custody-diversion', localAuthority: 'birmingham', urgency: 'routine' },
};

const refer = (overrides: Partial<Request> = {}): Request => ({
  routeKey: 'POST /plans',
  rawPath: '/plans',
  body: REFERRAL,
  claims: COORDINATOR_CLAIMS,
  ...overrides,
});

const keyed = (key: string, overrides: Partial<Request> = {}) => refer({ ...overrides, headers: { 'idempotency-key': key, ...overrides.headers } });
const OTHER_PERSON: Participant = { givenName: 'Clarabel', familyName: 'Venn-Ashworth', dateOfBirth: '1979-11-02' };
const KEY_REUSED = [{ path: 'Idempotency-Key', message: 'already used for a different request' }];

// ---------------------------------------------------------------------------------------------

describe('POST /plans', () => {
  it('stores the identity apart and starts the workflow with only its pseudonymous id', async () => {
    const { handler, workflow, plans } = setup();
    const res = await call(handler, keyed('ref-001'));
    expect(res.statusCode).toBe(201);

    expect(plans.putIdentityCalls).toHaveLength(1);
    const stored = plans.putIdentityCalls[0]!;
    expect(stored.identity).toEqual(PARTICIPANT);
    expect(stored.now).toBe(NOW);
    // Random, not derived from the plan id or the key: two referrals racing on one key never share one.
    expect(stored.participantId).toBe(`pt_${randomIdNo(1)}`);
    expect(plans.identities).toEqual(new Map([[stored.participantId, PARTICIPANT]]));
    expect(plans.deleteIdentityCalls).toEqual([]);

    expect(workflow.inputs).toHaveLength(1);
    const input = workflow.inputs[0]!;
    expect(input.now).toBe(NOW);
    // The key is scoped to the caller; the plan id follows from the scoped key.
    const keyHash = sha256('coordinator-1:ref-001');
    expect(input.command).toMatchObject({
      name: 'refer',
      planId: `pl_${keyHash.slice(0, 24)}`,
      payload: { participantId: stored.participantId, ageAtReferral: AGE_AT_REFERRAL, referral: REFERRAL.referral },
      actor: { role: 'coordinator', sub: 'coordinator-1' },
      idempotency: { key: 'coordinator-1:ref-001', fingerprint: expect.stringMatching(/^[a-f0-9]{64}$/), keyHash },
    });
    const sent = JSON.stringify(input);
    for (const s of IDENTIFYING_STRINGS) expect(sent).not.toContain(s);
    expect(sent).not.toContain('givenName');
    expect(sent).not.toContain('dateOfBirth');
  });

  it('answers 201 with the plan, its location and the identity read back apart', async () => {
    const { handler, workflow, plans } = setup();
    const res = await call(handler, refer());
    const planId = workflow.commands[0]!.planId;
    expect(res.statusCode).toBe(201);
    expect(res.headers?.location).toBe(`/plans/${planId}`);
    expect(res.headers?.['content-type']).toBe('application/json');
    expect(res.headers).not.toHaveProperty('idempotent-replayed');
    expect(res.json).toMatchObject({ planId, stage: 'referred', version: 1, participant: PARTICIPANT, ageAtReferral: AGE_AT_REFERRAL });
    expect(res.json).not.toHaveProperty('outbox');
    expect(res.json).not.toHaveProperty('applied');
    // Without a key there is nothing to remember the response under.
    expect(plans.saveResponseCalls).toEqual([]);
  });

  it('keeps the first response to a key, without the identity, and answers a retry with exactly it', async () => {
    const { handler, workflow, plans } = setup();
    const first = await call(handler, keyed('ref-001'));
    expect(first.statusCode).toBe(201);
    const command = workflow.commands[0]!;
    const keyHash = sha256('coordinator-1:ref-001');

    expect(plans.saveResponseCalls).toHaveLength(1);
    const saved = plans.saveResponseCalls[0]!;
    expect(saved).toMatchObject({ scope: command.planId, keyHash, now: NOW, response: { fingerprint: command.idempotency!.fingerprint, status: 201 } });
    // The stored body is the plan view; the identity is added back on each answer, never stored with it.
    const { participant, participantRevision: _revision, ...view } = first.json!;
    expect(participant).toEqual(PARTICIPANT);
    expect(JSON.parse(saved.response.body)).toEqual(view);
    for (const s of IDENTIFYING_STRINGS) expect(saved.response.body).not.toContain(s);

    const retry = await call(handler, keyed('ref-001'));
    expect(retry.statusCode).toBe(201);
    expect(retry.headers?.['idempotent-replayed']).toBe('true');
    expect(retry.headers?.['content-type']).toBe('application/json');
    expect(retry.json).toEqual(first.json);
    // Nothing ran and nothing was written for the retry.
    expect(workflow.inputs).toHaveLength(1);
    expect(plans.putIdentityCalls).toHaveLength(1);
    expect(plans.saveResponseCalls).toHaveLength(1);
    expect(plans.deleteIdentityCalls).toEqual([]);
  });

  it('derives the same plan id for the same Idempotency-Key and caller, and another for another', async () => {
    const { handler, workflow } = setup();
    const first = await call(handler, keyed('ref-001'));
    const again = await call(handler, keyed('ref-001'));
    const otherKey = await call(handler, keyed('ref-002'));
    const otherCaller = await call(handler, keyed('ref-001', { claims: { ...COORDINATOR_CLAIMS, sub: 'coordinator-2' } }));
    for (const res of [first, otherKey, otherCaller]) {
      expect(res.statusCode).toBe(201);
      expect(res.headers).not.toHaveProperty('idempotent-replayed');
    }
    expect(again.statusCode).toBe(201);
    expect(again.headers?.['idempotent-replayed']).toBe('true');
    expect(first.json!.planId).toBe(`pl_${sha256('coordinator-1:ref-001').slice(0, 24)}`);
    expect(again.json!.planId).toBe(first.json!.planId);
    expect(again.json!.participantId).toBe(first.json!.participantId);
    expect(otherKey.json!.planId).toBe(`pl_${sha256('coordinator-1:ref-002').slice(0, 24)}`);
    // The same key from another caller is another key.
    expect(otherCaller.json!.planId).toBe(`pl_${sha256('coordinator-2:ref-001').slice(0, 24)}`);
    expect(new Set([first, otherKey, otherCaller].map((r) => r.json!.planId)).size).toBe(3);
    // The retry was answered from the stored response: three executions, not four.
    expect(workflow.commands.map((c) => c.idempotency?.key)).toEqual(['coordinator-1:ref-001', 'coordinator-1:ref-002', 'coordinator-2:ref-001']);
  });

  it('the refer fingerprint on the plan does not let a reader confirm a guessed identity', async () => {
    /** Refer on a fresh store with one key; the fingerprint sent, kept on the plan and stored with the response. */
    const fingerprintsFor = async (participant: Participant, referral: Record<string, unknown> = REFERRAL.referral) => {
      const { handler, workflow, plans } = setup();
      const res = await call(handler, keyed('ref-001', { body: { participant, referral } }));
      expect(res.statusCode).toBe(201);
      const plan = [...plans.plans.values()][0]!;
      return { sent: workflow.commands[0]!.idempotency!.fingerprint, onPlan: plan.applied.map((a) => a.fingerprint), stored: plans.saveResponseCalls.map((c) => c.response.fingerprint) };
    };
    const jasmine = await fingerprintsFor(PARTICIPANT);
    expect(jasmine.onPlan).toEqual([jasmine.sent]);
    expect(jasmine.stored).toEqual([jasmine.sent]);
    // Whoever was referred, the fingerprint is the same: it carries nothing about her...
    expect(await fingerprintsFor(OTHER_PERSON)).toEqual(jasmine);
    expect(await fingerprintsFor({ ...PARTICIPANT, dateOfBirth: '1991-07-15' })).toEqual(jasmine);
    // ...while the rest of the request is still fingerprinted.
    expect((await fingerprintsFor(PARTICIPANT, { ...REFERRAL.referral, localAuthority: 'coventry' })).sent).not.toBe(jasmine.sent);
  });

  it('refuses a retry with the same key but another participant with 422, compared with the stored identity', async () => {
    const { handler, workflow, plans } = setup();
    const first = await call(handler, keyed('ref-001'));
    expect(first.statusCode).toBe(201);
    const res = await call(handler, keyed('ref-001', { body: { ...REFERRAL, participant: OTHER_PERSON } }));
    expect(res.statusCode).toBe(422);
    expect(res.headers?.['content-type']).toBe('application/problem+json');
    expect(res.json!.errors).toEqual(KEY_REUSED);
    expect(res.body).not.toContain(PARTICIPANT.familyName);
    // Refused from the stored response: no identity written, nothing started.
    expect(workflow.inputs).toHaveLength(1);
    expect(plans.putIdentityCalls).toHaveLength(1);
    expect(plans.identities).toEqual(new Map([[first.json!.participantId as string, PARTICIPANT]]));
  });

  it('refuses another participant with 422 also when the first response was never stored, removing the identity it wrote', async () => {
    const { handler, workflow, plans } = setup();
    const first = await call(handler, keyed('ref-001'));
    plans.responses.clear(); // applied, but the process stopped before the answer was kept
    const res = await call(handler, keyed('ref-001', { body: { ...REFERRAL, participant: OTHER_PERSON } }));
    expect(res.statusCode).toBe(422);
    expect(res.json!.errors).toEqual(KEY_REUSED);
    expect(res.body).not.toContain(PARTICIPANT.familyName);
    // The plan replayed its first result; the retry's own identity record is gone again, the plan's is intact.
    expect(workflow.inputs).toHaveLength(2);
    expect(plans.putIdentityCalls.map((c) => c.participantId)).toEqual([`pt_${randomIdNo(1)}`, `pt_${randomIdNo(2)}`]);
    expect(plans.deleteIdentityCalls).toEqual([`pt_${randomIdNo(2)}`]);
    expect(plans.identities).toEqual(new Map([[first.json!.participantId as string, PARTICIPANT]]));
    expect(plans.saveResponseCalls).toHaveLength(1); // the first answer's, none for the refusal
  });

  it('does not rewrite the identity when the keyed plan already exists (a retried referral whose answer was lost)', async () => {
    const { handler, workflow, plans } = setup();
    const first = await call(handler, keyed('ref-001'));
    const planId = workflow.commands[0]!.planId;
    plans.responses.clear();
    plans.saveResponseCalls.length = 0;
    const retry = await call(handler, keyed('ref-001'));
    expect(retry.statusCode).toBe(201);
    expect(retry.headers?.['idempotent-replayed']).toBe('true');
    expect(retry.headers?.location).toBe(`/plans/${planId}`);
    expect(retry.json).toEqual(first.json);
    // Each attempt writes its own record under a new id (never over another); the retry's is removed.
    expect(plans.putIdentityCalls.map((c) => c.participantId)).toEqual([`pt_${randomIdNo(1)}`, `pt_${randomIdNo(2)}`]);
    expect(plans.deleteIdentityCalls).toEqual([`pt_${randomIdNo(2)}`]);
    expect(plans.identities).toEqual(new Map([[plans.plans.get(planId)!.participantId, PARTICIPANT]]));
    expect(plans.plans.get(planId)!.participantId).toBe(`pt_${randomIdNo(1)}`);
    // A replayed answer is not stored again.
    expect(plans.saveResponseCalls).toEqual([]);
  });

  it('uses a random plan id without an Idempotency-Key', async () => {
    const { handler, workflow, plans } = setup();
    await call(handler, refer());
    expect(workflow.commands[0]!.planId).toBe(`pl_${randomIdNo(1)}`);
    expect((workflow.commands[0]!.payload as { participantId: string }).participantId).toBe(`pt_${randomIdNo(2)}`);
    expect(workflow.commands[0]).not.toHaveProperty('idempotency');
    expect(plans.getPlanCalls).toEqual([]);
    expect(plans.saveResponseCalls).toEqual([]);
  });

  it('refuses a body with a wrong type as 400 problem+json, starting nothing and storing nothing', async () => {
    const { handler, workflow, plans } = setup();
    const res = await call(handler, refer({ body: { ...REFERRAL, participant: { ...PARTICIPANT, dateOfBirth: 19910714 } } }));
    expect(res.statusCode).toBe(400);
    expect(res.headers?.['content-type']).toBe('application/problem+json');
    expect(res.json).toMatchObject({ status: 400, title: 'Bad request', instance: '/plans' });
    expect(res.json!.errors).toEqual([expect.objectContaining({ path: 'participant.dateOfBirth' })]);
    expect(workflow.inputs).toHaveLength(0);
    expect(plans.putIdentityCalls).toHaveLength(0);
  });

  it('refuses unknown fields, a future date of birth and malformed JSON before anything happens', async () => {
    const { handler, workflow, plans } = setup();
    const extra = await call(handler, refer({ body: { ...REFERRAL, participant: { ...PARTICIPANT, nhsNumber: '123' } } }));
    expect(extra.statusCode).toBe(400);
    expect(extra.json!.errors).toEqual([{ path: 'participant.nhsNumber', message: 'is not a known field' }]);
    const future = await call(handler, refer({ body: { ...REFERRAL, participant: { ...PARTICIPANT, dateOfBirth: '2030-01-01' } } }));
    expect(future.statusCode).toBe(400);
    expect(future.json!.errors).toEqual([{ path: 'participant.dateOfBirth', message: 'must not be in the future' }]);
    const garbled = await call(handler, refer({ body: '{"participant":' }));
    expect(garbled.statusCode).toBe(400);
    const badKey = await call(handler, keyed('has space'));
    expect(badKey.statusCode).toBe(400);
    expect(badKey.json!.errors).toEqual([{ path: 'Idempotency-Key', message: expect.any(String) }]);
    expect(workflow.inputs).toHaveLength(0);
    expect(plans.putIdentityCalls).toHaveLength(0);
  });

  it('refuses a provider token with 403', async () => {
    const { handler, workflow, plans } = setup();
    const res = await call(handler, refer({ claims: PROVIDER_CLAIMS }));
    expect(res.statusCode).toBe(403);
    expect(res.headers?.['content-type']).toBe('application/problem+json');
    expect(workflow.inputs).toHaveLength(0);
    expect(plans.putIdentityCalls).toHaveLength(0);
  });

  it('lets someone in several groups refer in the role the route allows, and refuses one with none of them', async () => {
    const { handler, workflow, plans } = setup();
    const res = await call(handler, refer({ claims: { sub: 'lead-1', 'cognito:groups': '[team-leads coordinators]' } }));
    expect(res.statusCode).toBe(201);
    expect(workflow.commands[0]!.actor).toEqual({ role: 'coordinator', sub: 'lead-1' });
    const neither = await call(handler, refer({ claims: { sub: 'lead-2', 'cognito:groups': '[team-leads commissioners]' } }));
    expect(neither.statusCode).toBe(403);
    expect(neither.json!.detail).toContain('team-lead or commissioner');
    expect(workflow.inputs).toHaveLength(1);
    expect(plans.putIdentityCalls).toHaveLength(1);
  });

  it('refuses a request without a token with 401', async () => {
    const { handler, workflow } = setup();
    const res = await call(handler, refer({ claims: undefined }));
    expect(res.statusCode).toBe(401);
    expect(res.headers?.['www-authenticate']).toBe('Bearer');
    expect(workflow.inputs).toHaveLength(0);
  });
});

describe('failed executions', () => {
  const failing = (error: string, cause: string) => () => ({ status: 'FAILED', error, cause }) as ExecutionOutcome;
  const domainFailure = (name: DomainErrorName, detail: string) => failing(name, new DomainError(name, detail).toCause());

  const consent = (): Request => ({
    routeKey: 'POST /plans/{planId}/{command}',
    rawPath: `/plans/${PLAN_ID}/record-consent`,
    pathParameters: { planId: PLAN_ID, command: 'record-consent' },
    body: consentPayload(makeContext()),
    claims: COORDINATOR_CLAIMS,
  });

  it.each([
    ['NotAllowedInStage', 409],
    ['NotFound', 404],
    ['VersionConflict', 409],
    ['IdempotencyKeyReused', 422],
    ['InvalidCommand', 400],
    ['Forbidden', 403],
  ] as const)('maps %s to %i', async (name, status) => {
    const { handler } = setup(domainFailure(name, `refused: ${name}`));
    const res = await call(handler, consent());
    expect(res.statusCode).toBe(status);
    expect(res.headers?.['content-type']).toBe('application/problem+json');
    expect(res.json).toMatchObject({ status, detail: `refused: ${name}` });
  });

  it('maps a failed referral the same way, and removes the identity it wrote', async () => {
    const detail = 'Idempotency-Key "ref-001" was already used for a different refer request.';
    const { handler, plans } = setup(domainFailure('IdempotencyKeyReused', detail));
    const res = await call(handler, keyed('ref-001'));
    expect(res.statusCode).toBe(422);
    expect(res.json).toMatchObject({ status: 422, detail });
    expect(plans.putIdentityCalls).toHaveLength(1);
    expect(plans.deleteIdentityCalls).toEqual([plans.putIdentityCalls[0]!.participantId]);
    expect(plans.identities.size).toBe(0);
    expect(plans.saveResponseCalls).toEqual([]);
  });

  it.each([
    ['VersionConflict', 409],
    ['States.Timeout', 500],
  ] as const)('removes the identity of a referral that failed with %s, unless its plan was saved after all', async (error, status) => {
    const failedRefer = setup(failing(error, error === 'VersionConflict' ? new DomainError('VersionConflict', 'already exists').toCause() : ''));
    expect((await call(failedRefer.handler, refer())).statusCode).toBe(status);
    expect(failedRefer.plans.deleteIdentityCalls).toEqual([`pt_${randomIdNo(2)}`]);
    expect(failedRefer.plans.identities.size).toBe(0);

    // The plan was saved before the execution was reported failed: it references the identity, which stays.
    const savedAnyway = setup((input, plans) => {
      const { participantId } = input.command.payload as { participantId: string };
      plans.plans.set(input.command.planId, { ...planInStage('referred').plan!, planId: input.command.planId, participantId });
      return { status: 'FAILED', error, cause: '' };
    });
    expect((await call(savedAnyway.handler, refer())).statusCode).toBe(status);
    expect(savedAnyway.plans.deleteIdentityCalls).toEqual([]);
    expect(savedAnyway.plans.identities).toEqual(new Map([[`pt_${randomIdNo(2)}`, PARTICIPANT]]));
  });

  it("keeps the Guard's plain-text refusal as the detail", async () => {
    const { handler } = setup(failing('NotAllowedInStage', 'record-consent is not allowed while the plan is active.'));
    const res = await call(handler, consent());
    expect(res.statusCode).toBe(409);
    expect(res.json!.detail).toBe('record-consent is not allowed while the plan is active.');
  });

  it('reads field errors from a cause wrapped by Lambda', async () => {
    const refusal = new DomainError('InvalidCommand', 'The record-consent request is not valid', [{ path: 'givenAt', message: 'must not be in the future' }]);
    const { handler } = setup(failing('InvalidCommand', JSON.stringify({ errorType: 'InvalidCommand', errorMessage: refusal.toCause() })));
    const res = await call(handler, consent());
    expect(res.statusCode).toBe(400);
    expect(res.json!.errors).toEqual(refusal.errors);
  });

  it('maps a timeout or an unknown error to 500', async () => {
    const { handler } = setup(failing('States.Timeout', ''));
    expect((await call(handler, consent())).statusCode).toBe(500);
  });
});

describe('POST /plans/{planId}/{command}', () => {
  it('takes expectedVersion out of the body and sends the command for the plan', async () => {
    const { handler, workflow } = setup();
    const request = consent();
    const res = await call(handler, { ...request, body: { ...(request.body as object), expectedVersion: 1 } });
    expect(res.statusCode).toBe(200);
    const sent = workflow.commands[0]!;
    expect(sent).toMatchObject({ name: 'record-consent', planId: PLAN_ID, expectedVersion: 1, actor: { role: 'coordinator', sub: 'coordinator-1' } });
    expect(sent.payload).not.toHaveProperty('expectedVersion');
    expect(res.json).toMatchObject({ planId: PLAN_ID, stage: 'assessment' });
  });

  it('refuses an invalid payload before starting the workflow', async () => {
    const { handler, workflow } = setup();
    const res = await call(handler, { ...consent(), body: { scope: { shareWithProviders: 'yes' } } });
    expect(res.statusCode).toBe(400);
    expect(workflow.inputs).toHaveLength(0);
  });

  it('names the path id, expectedVersion or unknown field at fault', async () => {
    const { handler, workflow } = setup();
    const badId = await call(handler, { ...consent(), rawPath: '/plans/not-a-plan/record-consent', pathParameters: { planId: 'not-a-plan', command: 'record-consent' } });
    expect(badId.statusCode).toBe(400);
    expect(badId.json!.errors).toEqual([{ path: 'planId', message: expect.any(String) }]);
    const badVersion = await call(handler, { ...consent(), body: { ...(consent().body as object), expectedVersion: '3' } });
    expect(badVersion.statusCode).toBe(400);
    expect(badVersion.json!.errors).toEqual([{ path: 'expectedVersion', message: expect.any(String) }]);
    const unknown = await call(handler, { ...consent(), body: { ...(consent().body as object), surprise: 1, scope: { shareWithProviders: true, dataCategories: ['needs'], police: true } } });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json!.errors).toEqual(
      expect.arrayContaining([
        { path: 'surprise', message: 'is not a known field' },
        { path: 'scope.police', message: 'is not a known field' },
      ]),
    );
    expect(unknown.json!.errors).toHaveLength(2);
    expect(workflow.inputs).toHaveLength(0);
  });

  it('answers a retry with the first response, even after the plan has moved on, without starting anything', async () => {
    const { handler, workflow, plans } = setup();
    const first = await call(handler, withKey(consent(), 'consent-1'));
    expect(first.statusCode).toBe(200);
    expect(first.json).toMatchObject({ planId: PLAN_ID, stage: 'assessment', version: 2 });
    expect(plans.saveResponseCalls).toEqual([
      { scope: PLAN_ID, keyHash: sha256('coordinator-1:consent-1'), now: NOW, response: { fingerprint: workflow.commands[0]!.idempotency!.fingerprint, status: 200, body: first.body } },
    ]);
    const moved = await call(handler, { ...consent(), rawPath: `/plans/${PLAN_ID}/submit-assessment`, pathParameters: { planId: PLAN_ID, command: 'submit-assessment' }, body: ASSESSMENT_PAYLOAD });
    expect(moved.statusCode).toBe(200);
    expect(moved.json!.stage).toBe('allocating');

    const retry = await call(handler, withKey(consent(), 'consent-1'));
    expect(retry.statusCode).toBe(200);
    expect(retry.headers?.['idempotent-replayed']).toBe('true');
    expect(retry.body).toBe(first.body);
    expect(retry.json).toMatchObject({ stage: 'assessment', version: 2 });
    expect(workflow.inputs).toHaveLength(2);
    expect(plans.saveResponseCalls).toHaveLength(1);
  });

  it('refuses the same key with a different body with 422, starting nothing', async () => {
    const { handler, workflow } = setup();
    expect((await call(handler, withKey(consent(), 'consent-1'))).statusCode).toBe(200);
    const res = await call(handler, withKey({ ...consent(), body: { ...(consent().body as object), method: 'verbal' } }, 'consent-1'));
    expect(res.statusCode).toBe(422);
    expect(res.headers?.['content-type']).toBe('application/problem+json');
    expect(res.json!.errors).toEqual(KEY_REUSED);
    expect(workflow.inputs).toHaveLength(1);
  });

  it("does not replay one caller's key to another: it is a command of its own", async () => {
    const { handler, workflow } = setup();
    expect((await call(handler, withKey(consent(), 'consent-1'))).statusCode).toBe(200);
    const other = await call(handler, withKey({ ...consent(), claims: { ...COORDINATOR_CLAIMS, sub: 'coordinator-2' } }, 'consent-1'));
    // Not a replay: it ran, and consent is already recorded, so the plan refuses it.
    expect(other.headers).not.toHaveProperty('idempotent-replayed');
    expect(other.statusCode).toBe(409);
    expect(workflow.commands.map((c) => c.idempotency?.key)).toEqual(['coordinator-1:consent-1', 'coordinator-2:consent-1']);
  });

  it('answers 404 for a command that is not a plan command', async () => {
    const { handler, workflow } = setup();
    const res = await call(handler, { ...consent(), rawPath: `/plans/${PLAN_ID}/review-due`, pathParameters: { planId: PLAN_ID, command: 'review-due' } });
    expect(res.statusCode).toBe(404);
    expect(workflow.inputs).toHaveLength(0);
  });

  function consent(): Request {
    return {
      routeKey: 'POST /plans/{planId}/{command}',
      rawPath: `/plans/${PLAN_ID}/record-consent`,
      pathParameters: { planId: PLAN_ID, command: 'record-consent' },
      body: consentPayload(makeContext()),
      claims: COORDINATOR_CLAIMS,
    };
  }

  function withKey(request: Request, key: string): Request {
    return { ...request, headers: { ...request.headers, 'idempotency-key': key } };
  }
});
