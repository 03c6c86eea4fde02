import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { makeHandler, type CommandApiDeps } from '../../functions/api-commands/handler.ts';
import type { Command } from '../../lib/domain/decide.ts';
import { DomainError, type DomainErrorName } from '../../lib/domain/errors.ts';
import type { Participant, Plan } from '../../lib/domain/schemas.ts';
import type { ExecutionOutcome, PlanCommandInput, WorkflowStarter } from '../../workflows/plan-command/state.ts';
import { AGE_AT_REFERRAL, consentPayload, IDENTIFYING_STRINGS, makeContext, NOW, PARTICIPANT, planInStage, PLAN_ID, run } from '../support/domain-fixtures.ts';

// ---------------------------------------------------------------------------------------------
// Fakes

/** Records every input; answers with the canned outcome, or by running the domain as the state machine would. */
class FakeWorkflow implements WorkflowStarter {
  readonly inputs: PlanCommandInput[] = [];
  outcome: ((input: PlanCommandInput) => ExecutionOutcome) | undefined;
  constructor(outcome?: (input: PlanCommandInput) => ExecutionOutcome) {
    this.outcome = outcome;
  }
  async startSync(input: PlanCommandInput): Promise<ExecutionOutcome> {
    this.inputs.push(structuredClone(input));
    if (this.outcome) return this.outcome(input);
    const existing = input.command.name === 'refer' ? undefined : planInStage('referred').plan;
    const step = run(existing, input.command, makeContext({ now: input.now }));
    return { status: 'SUCCEEDED', output: { ...input, plan: step.plan, changed: true, status: step.decision.status } };
  }
  get commands(): Command[] {
    return this.inputs.map((i) => i.command);
  }
}

class FakePlans {
  readonly identities = new Map<string, Participant>();
  readonly putIdentityCalls: { participantId: string; identity: Participant; now: string }[] = [];
  readonly getPlanCalls: string[] = [];
  stored: Plan | undefined;
  async getPlan(planId: string): Promise<Plan | undefined> {
    this.getPlanCalls.push(planId);
    return this.stored?.planId === planId ? this.stored : undefined;
  }
  async putIdentity(participantId: string, identity: Participant, now: string): Promise<void> {
    this.putIdentityCalls.push({ participantId, identity, now });
    this.identities.set(participantId, identity);
  }
  async getIdentity(participantId: string): Promise<Participant | undefined> {
    return this.identities.get(participantId);
  }
}

function setup(outcome?: (input: PlanCommandInput) => ExecutionOutcome) {
  const workflow = new FakeWorkflow(outcome);
  const plans = new FakePlans();
  const deps: CommandApiDeps = { plans: plans as unknown as CommandApiDeps['plans'], workflow, clock: () => NOW, randomId: () => 'abcdef0123456789abcdef01' };
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

// ---------------------------------------------------------------------------------------------

describe('POST /plans', () => {
  it('stores the identity apart and starts the workflow with only its pseudonymous id', async () => {
    const { handler, workflow, plans } = setup();
    const res = await call(handler, refer({ headers: { 'idempotency-key': 'ref-001' } }));
    expect(res.statusCode).toBe(201);

    expect(plans.putIdentityCalls).toHaveLength(1);
    const stored = plans.putIdentityCalls[0]!;
    expect(stored.identity).toEqual(PARTICIPANT);
    expect(stored.now).toBe(NOW);
    expect(stored.participantId).toMatch(/^pt_[a-f0-9]{24}$/);

    expect(workflow.inputs).toHaveLength(1);
    const input = workflow.inputs[0]!;
    expect(input.now).toBe(NOW);
    expect(input.command).toMatchObject({
      name: 'refer',
      planId: expect.stringMatching(/^pl_[a-f0-9]{24}$/),
      payload: { participantId: stored.participantId, ageAtReferral: AGE_AT_REFERRAL, referral: REFERRAL.referral },
      actor: { role: 'coordinator', sub: 'coordinator-1' },
      idempotency: { key: 'ref-001', fingerprint: expect.any(String) },
    });
    const sent = JSON.stringify(input);
    for (const s of IDENTIFYING_STRINGS) expect(sent).not.toContain(s);
    expect(sent).not.toContain('givenName');
    expect(sent).not.toContain('dateOfBirth');
  });

  it('answers 201 with the plan, its location and the identity read back apart', async () => {
    const { handler, workflow } = setup();
    const res = await call(handler, refer());
    const planId = workflow.commands[0]!.planId;
    expect(res.statusCode).toBe(201);
    expect(res.headers?.location).toBe(`/plans/${planId}`);
    expect(res.headers?.['content-type']).toBe('application/json');
    expect(res.json).toMatchObject({ planId, stage: 'referred', version: 1, participant: PARTICIPANT, ageAtReferral: AGE_AT_REFERRAL });
    expect(res.json).not.toHaveProperty('outbox');
    expect(res.json).not.toHaveProperty('applied');
  });

  it('derives the same plan id for the same Idempotency-Key and caller, and another for another', async () => {
    const { handler, workflow } = setup();
    await call(handler, refer({ headers: { 'idempotency-key': 'ref-001' } }));
    await call(handler, refer({ headers: { 'idempotency-key': 'ref-001' } }));
    await call(handler, refer({ headers: { 'idempotency-key': 'ref-002' } }));
    await call(handler, refer({ headers: { 'idempotency-key': 'ref-001' }, claims: { ...COORDINATOR_CLAIMS, sub: 'coordinator-2' } }));
    const [first, again, otherKey, otherCaller] = workflow.commands;
    expect(again!.planId).toBe(first!.planId);
    expect((again!.payload as { participantId: string }).participantId).toBe((first!.payload as { participantId: string }).participantId);
    expect(again!.idempotency).toEqual(first!.idempotency);
    expect(otherKey!.planId).not.toBe(first!.planId);
    expect(otherCaller!.planId).not.toBe(first!.planId);
    expect(new Set(workflow.commands.map((c) => c.planId)).size).toBe(3);
  });

  // BUG (functions/api-commands/handler.ts, idempotencyOf): the refer fingerprint is a bare sha256 of
  // the whole request body, participant name and date of birth included, and decide() keeps it in
  // plan.applied (and it travels in the execution input). Every other field of that body is stored in
  // the plan, so anyone who can read the plan can test a guessed name + date of birth with one hash.
  // Fix: fingerprint the refer body without `participant` (compare identity against the stored
  // identity record on replay instead), or key the fingerprint with a server secret (HMAC).
  it.todo('the refer fingerprint on the plan does not let a reader confirm a guessed identity');

  it('uses a random plan id without an Idempotency-Key', async () => {
    const { handler, workflow, plans } = setup();
    await call(handler, refer());
    expect(workflow.commands[0]!.planId).toBe('pl_abcdef0123456789abcdef01');
    expect(workflow.commands[0]).not.toHaveProperty('idempotency');
    expect(plans.getPlanCalls).toEqual([]);
  });

  it('does not rewrite the identity when the keyed plan already exists (a retried referral)', async () => {
    const { handler, workflow, plans } = setup();
    await call(handler, refer({ headers: { 'idempotency-key': 'ref-001' } }));
    const planId = workflow.commands[0]!.planId;
    plans.stored = { ...planInStage('referred').plan!, planId };
    await call(handler, refer({ headers: { 'idempotency-key': 'ref-001' } }));
    expect(plans.getPlanCalls).toEqual([planId, planId]);
    expect(plans.putIdentityCalls).toHaveLength(1);
    expect(workflow.inputs).toHaveLength(2);
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
    const future = await call(handler, refer({ body: { ...REFERRAL, participant: { ...PARTICIPANT, dateOfBirth: '2030-01-01' } } }));
    expect(future.statusCode).toBe(400);
    expect(future.json!.errors).toEqual([{ path: 'participant.dateOfBirth', message: 'must not be in the future' }]);
    const garbled = await call(handler, refer({ body: '{"participant":' }));
    expect(garbled.statusCode).toBe(400);
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

  it('maps a failed referral the same way', async () => {
    const { handler } = setup(domainFailure('IdempotencyKeyReused', 'Idempotency-Key "ref-001" was already used for a different refer request.'));
    const res = await call(handler, refer({ headers: { 'idempotency-key': 'ref-001' } }));
    expect(res.statusCode).toBe(422);
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
});
