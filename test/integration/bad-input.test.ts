/**
 * Bad input and bad callers, over real HTTP. Every refusal is a 4xx application/problem+json that
 * says what is wrong (naming the field where there is one), and leaves the store exactly as it was:
 * the whole table is scanned before and after each request.
 */
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anotherParticipant, consent, planInStage, referral, scanTable, startTestStack, type CallOptions, type AllocationJson, type CallResult, type OfferJson, type PlanJson, type TestStack } from '../support/http.ts';

let t: TestStack;
let referred: PlanJson;
let assessment: PlanJson;
let allocating: PlanJson;
let active: PlanJson;
let offered: { allocationId: string; providerId: string };
let accepted: { allocationId: string; providerId: string };
let stranger: string; // a provider holding nothing on these plans

beforeAll(async () => {
  t = await startTestStack();
  referred = await planInStage(t, 'referred');
  assessment = await planInStage(t, 'assessment');
  allocating = await planInStage(t, 'allocating', [{ domain: 'mental-health', level: 'high', priority: true }]);
  offered = allocating.allocations[0] as AllocationJson;
  active = await planInStage(t, 'allocating', [{ domain: 'mental-health', level: 'high', priority: true }]);
  accepted = active.allocations[0] as AllocationJson;
  const res = await t.call('POST', `/allocations/${accepted.allocationId}/accept`, { token: t.provider(accepted.providerId), body: {} });
  if (res.status !== 200) throw new Error(`accept: ${res.text}`);
  active = (await t.call('GET', `/plans/${active.planId}`, { token: t.coordinator })).json;
  if (active.stage !== 'active') throw new Error(`expected an active plan, got ${active.stage}`);
  stranger = ['anawim', 'bcwa', 'changing-lives', 'green-square-accord'].find((p) => p !== offered.providerId && p !== accepted.providerId) as string;
});
afterAll(async () => {
  await t?.stop();
});

interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: { path: string; message: string }[];
}

/** Send a request that must be refused: check the status and problem shape, and that nothing in the table changed. */
async function refused(status: number, method: string, path: string, options: CallOptions = {}): Promise<CallResult<Problem>> {
  const before = await scanTable(t.stack);
  const res = await t.call<Problem>(method, path, options);
  const label = `${method} ${path} ${JSON.stringify(options.body)?.slice(0, 120)}`;
  expect(res.status, `${label}: ${res.text}`).toBe(status);
  expect(res.headers.get('content-type'), label).toBe('application/problem+json');
  expect(res.json.status, label).toBe(status);
  expect(res.json.title.length, label).toBeGreaterThan(0);
  expect(res.json.detail.length, label).toBeGreaterThan(0);
  expect(await scanTable(t.stack), `${label} changed the store`).toEqual(before);
  return res;
}

const errorPaths = (res: CallResult<Problem>) => (res.json.errors ?? []).map((e) => e.path);

/** Refused with 400, naming `field` among the errors. */
async function invalidField(field: string, method: string, path: string, options: CallOptions) {
  const res = await refused(400, method, path, options);
  expect(errorPaths(res), `${path} ${JSON.stringify(options.body)?.slice(0, 160)}`).toContain(field);
  return res;
}

const participant = referral().participant;
const referralPart = referral().referral;

describe('POST /plans with bad input', () => {
  it('refuses malformed JSON', async () => {
    const res = await refused(400, 'POST', '/plans', { token: t.coordinator, body: '{"participant": {"givenName": "Ann"' });
    expect(errorPaths(res)).toEqual(['(body)']);
    expect(res.json.detail).toMatch(/not valid JSON/);
    await refused(400, 'POST', '/plans', { token: t.coordinator, body: '[]' });
    await refused(400, 'POST', '/plans', { token: t.coordinator, body: 'null' });
  });

  it('names each missing required field', async () => {
    const none = await refused(400, 'POST', '/plans', { token: t.coordinator });
    expect(errorPaths(none)).toEqual(expect.arrayContaining(['participant', 'referral']));
    await invalidField('participant', 'POST', '/plans', { token: t.coordinator, body: { referral: referralPart } });
    const { localAuthority: _la, ...noArea } = referralPart;
    await invalidField('referral.localAuthority', 'POST', '/plans', { token: t.coordinator, body: { participant, referral: noArea } });
    const { dateOfBirth: _dob, ...noDob } = participant;
    await invalidField('participant.dateOfBirth', 'POST', '/plans', { token: t.coordinator, body: { participant: noDob, referral: referralPart } });
  });

  it('names each field of the wrong type or out of range', async () => {
    await invalidField('participant.givenName', 'POST', '/plans', { token: t.coordinator, body: { participant: { ...participant, givenName: 42 }, referral: referralPart } });
    await invalidField('participant.givenName', 'POST', '/plans', { token: t.coordinator, body: { participant: { ...participant, givenName: '   ' }, referral: referralPart } });
    await invalidField('participant.dateOfBirth', 'POST', '/plans', { token: t.coordinator, body: { participant: { ...participant, dateOfBirth: '23/04/1988' }, referral: referralPart } });
    await invalidField('reviewEveryDays', 'POST', '/plans', { token: t.coordinator, body: referral({ reviewEveryDays: '28' }) });
    await invalidField('reviewEveryDays', 'POST', '/plans', { token: t.coordinator, body: referral({ reviewEveryDays: 3 }) });
    await invalidField('referral', 'POST', '/plans', { token: t.coordinator, body: { participant, referral: 'custody' } });
    // Semantically wrong, not just mistyped: nobody is born tomorrow.
    const future = await invalidField('participant.dateOfBirth', 'POST', '/plans', {
      token: t.coordinator,
      body: { participant: { ...participant, dateOfBirth: '2099-01-01' }, referral: referralPart },
    });
    expect(future.json.detail).toContain('future');
  });

  it('names each invalid enum value', async () => {
    await invalidField('referral.source', 'POST', '/plans', { token: t.coordinator, body: { participant, referral: { ...referralPart, source: 'police-van' } } });
    await invalidField('referral.localAuthority', 'POST', '/plans', { token: t.coordinator, body: { participant, referral: { ...referralPart, localAuthority: 'atlantis' } } });
    await invalidField('referral.urgency', 'POST', '/plans', { token: t.coordinator, body: { participant, referral: { ...referralPart, urgency: 'asap' } } });
  });

  it('refuses unknown fields, naming the field in the message', async () => {
    const top = await refused(400, 'POST', '/plans', { token: t.coordinator, body: { ...referral(), nhsNumber: '485 777 3456' } });
    expect(top.json.errors).toEqual([{ path: 'nhsNumber', message: 'is not a known field' }]);
    expect(top.json.detail).toContain('nhsNumber');
    const nested = await refused(400, 'POST', '/plans', { token: t.coordinator, body: { participant: { ...participant, ethnicity: 'x' }, referral: referralPart } });
    expect(nested.json.errors).toEqual([{ path: 'participant.ethnicity', message: 'is not a known field' }]);
    expect(nested.json.detail).toContain('participant.ethnicity');
  });

  it('names an unknown field in errors[].path, one error per field, e.g. "nhsNumber" or "participant.ethnicity"', async () => {
    const sorted = (res: CallResult<Problem>) => [...(res.json.errors ?? [])].sort((a, b) => a.path.localeCompare(b.path));
    const unknown = (path: string) => ({ path, message: 'is not a known field' });
    const several = await refused(400, 'POST', '/plans', {
      token: t.coordinator,
      body: { participant: { ...participant, nickname: 'Zee', ethnicity: 'x' }, referral: { ...referralPart, priority: 'high' }, nhsNumber: '485 777 3456', surprise: true },
    });
    expect(sorted(several)).toEqual(['nhsNumber', 'participant.ethnicity', 'participant.nickname', 'referral.priority', 'surprise'].map(unknown));
    // The same on commands, at any depth.
    const good = consent(t.clock.today());
    const onCommand = await refused(400, 'POST', `/plans/${referred.planId}/record-consent`, {
      token: t.coordinator,
      body: { ...good, sharedWithPolice: true, scope: { ...good.scope, everyone: true } },
    });
    expect(sorted(onCommand)).toEqual(['scope.everyone', 'sharedWithPolice'].map(unknown));
    const need = { domain: 'mental-health', level: 'high', priority: true };
    const inArray = await refused(400, 'POST', `/plans/${assessment.planId}/submit-assessment`, { token: t.coordinator, body: { needs: [need, { ...need, domain: 'alcohol', severity: 3 }] } });
    expect(inArray.json.errors).toEqual([unknown('needs.1.severity')]);
    const onProvider = await refused(400, 'POST', `/allocations/${accepted.allocationId}/record-contact`, {
      token: t.provider(accepted.providerId),
      body: { date: t.clock.today(), kind: 'attended', participantName: 'x' },
    });
    expect(onProvider.json.errors).toEqual([unknown('participantName')]);
  });

  it('refuses an oversized body with 413 and a wrong content type with 415', async () => {
    const huge = referral({ referral: { ...referralPart, note: 'x'.repeat(70 * 1024) } });
    await refused(413, 'POST', '/plans', { token: t.coordinator, body: huge });
    const wrongType = await refused(415, 'POST', '/plans', { token: t.coordinator, body: JSON.stringify(referral()), headers: { 'content-type': 'text/plain' } });
    expect(errorPaths(wrongType)).toEqual(['Content-Type']);
    await refused(415, 'POST', '/plans', { token: t.coordinator, body: 'participant=Ann', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  });

  it('refuses a malformed Idempotency-Key', async () => {
    const res = await refused(400, 'POST', '/plans', { token: t.coordinator, body: referral(), headers: { 'idempotency-key': 'k'.repeat(201) } });
    expect(res.json.detail).toContain('Idempotency-Key');
    expect(errorPaths(res)).toEqual(['Idempotency-Key']);
  });
});

describe('plan and allocation commands with bad input', () => {
  it('refuses malformed JSON, an oversized body and a wrong content type on a command', async () => {
    await invalidField('(body)', 'POST', `/plans/${allocating.planId}/exit`, { token: t.coordinator, body: '{"reason": "completed"' });
    await refused(413, 'POST', `/plans/${allocating.planId}/exit`, { token: t.coordinator, body: { reason: 'completed', note: 'x'.repeat(65 * 1024) } });
    await refused(415, 'POST', `/plans/${allocating.planId}/exit`, { token: t.coordinator, body: '{"reason":"completed"}', headers: { 'content-type': 'text/csv' } });
    await refused(415, 'POST', `/allocations/${accepted.allocationId}/record-contact`, {
      token: t.provider(accepted.providerId),
      body: JSON.stringify({ date: t.clock.today(), kind: 'attended' }),
      headers: { 'content-type': 'text/plain' },
    });
  });

  it('record-consent: missing, mistyped and invalid fields', async () => {
    const path = `/plans/${referred.planId}/record-consent`;
    const good = consent(t.clock.today());
    await invalidField('scope', 'POST', path, { token: t.coordinator, body: { givenAt: good.givenAt, method: 'written' } });
    await invalidField('method', 'POST', path, { token: t.coordinator, body: { ...good, method: 'telepathy' } });
    await invalidField('scope.shareWithProviders', 'POST', path, { token: t.coordinator, body: { ...good, scope: { shareWithProviders: 'yes' } } });
    await invalidField('scope.dataCategories.0', 'POST', path, { token: t.coordinator, body: { ...good, scope: { shareWithProviders: true, dataCategories: ['shoe-size'] } } });
    await invalidField('givenAt', 'POST', path, { token: t.coordinator, body: { ...good, givenAt: 'yesterday' } });
    // Checked by the domain inside the workflow, still refused before anything is saved.
    await invalidField('givenAt', 'POST', path, { token: t.coordinator, body: { ...good, givenAt: '2099-01-01' } });
    await refused(400, 'POST', path, { token: t.coordinator, body: { ...good, sharedWithPolice: true } });
  });

  it('submit-assessment: empty, duplicated and invalid needs', async () => {
    const path = `/plans/${assessment.planId}/submit-assessment`;
    const need = { domain: 'mental-health', level: 'high', priority: true };
    await invalidField('needs', 'POST', path, { token: t.coordinator, body: { needs: [] } });
    await invalidField('needs', 'POST', path, { token: t.coordinator, body: { needs: [need, { ...need, level: 'low' }] } });
    await invalidField('needs.0.domain', 'POST', path, { token: t.coordinator, body: { needs: [{ ...need, domain: 'astrology' }] } });
    await invalidField('needs.0.level', 'POST', path, { token: t.coordinator, body: { needs: [{ ...need, level: 'extreme' }] } });
    await invalidField('needs.1.priority', 'POST', path, { token: t.coordinator, body: { needs: [need, { domain: 'alcohol', level: 'low', priority: 'yes' }] } });
    await invalidField('risks.domesticAbuse', 'POST', path, { token: t.coordinator, body: { needs: [need], risks: { domesticAbuse: 'very' } } });
    await invalidField('adjustments.0', 'POST', path, { token: t.coordinator, body: { needs: [need], adjustments: ['wheelchair-please'] } });
  });

  it('exit, record-review and record-follow-up: invalid values', async () => {
    await invalidField('reason', 'POST', `/plans/${allocating.planId}/exit`, { token: t.coordinator, body: { reason: 'bored' } });
    await invalidField('reason', 'POST', `/plans/${allocating.planId}/exit`, { token: t.coordinator, body: {} });
    const review = `/plans/${active.planId}/record-review`;
    await invalidField('exitReason', 'POST', review, { token: t.coordinator, body: { scores: { 'mental-health': 5 }, outcome: 'exit' } });
    await invalidField('scores.mental-health', 'POST', review, { token: t.coordinator, body: { scores: { 'mental-health': 11 }, outcome: 'continue' } });
    await invalidField('outcome', 'POST', review, { token: t.coordinator, body: { scores: { 'mental-health': 5 }, outcome: 'carry-on' } });
    // Scoring a need the plan does not have is caught by the domain.
    await invalidField('scores.alcohol', 'POST', review, { token: t.coordinator, body: { scores: { alcohol: 5 }, outcome: 'continue' } });
    await invalidField('month', 'POST', `/plans/${active.planId}/record-follow-up`, { token: t.coordinator, body: { month: 9, reoffended: 'no' } });
  });

  it('provider commands: invalid contact and decline fields', async () => {
    const token = t.provider(accepted.providerId);
    const contact = `/allocations/${accepted.allocationId}/record-contact`;
    await invalidField('kind', 'POST', contact, { token, body: { date: t.clock.today(), kind: 'phoned' } });
    await invalidField('date', 'POST', contact, { token, body: { date: '2026-13-45', kind: 'attended' } });
    await invalidField('date', 'POST', contact, { token, body: { kind: 'attended' } });
    await invalidField('date', 'POST', contact, { token, body: { date: '2099-01-01', kind: 'attended' } });
    await invalidField('reason', 'POST', `/allocations/${offered.allocationId}/decline`, { token: t.provider(offered.providerId), body: { reason: 'too-busy' } });
  });

  it('refuses a malformed expectedVersion', async () => {
    for (const expectedVersion of ['3', 0, 1.5, null]) {
      const res = await refused(400, 'POST', `/plans/${allocating.planId}/exit`, { token: t.coordinator, body: { reason: 'completed', expectedVersion } });
      expect(res.json.detail).toContain('expectedVersion');
      expect(errorPaths(res)).toEqual(['expectedVersion']);
    }
  });
});

describe('bad paths', () => {
  it('refuses ids that are not ids with 400', async () => {
    for (const [method, path, token] of [
      ['POST', '/plans/not-a-plan/exit', () => t.coordinator],
      ['GET', '/plans/PL_UPPERCASE0000', () => t.coordinator],
      ['GET', '/plans/pl_x/history', () => t.coordinator],
      ['POST', '/allocations/bogus/accept', () => t.provider(offered.providerId)],
      ['POST', `/allocations/${offered.allocationId}x/accept`, () => t.provider(offered.providerId)],
      ['GET', '/providers/Bad_Id/offers', () => t.provider('anawim')],
    ] as const) {
      const res = await refused(400, method, path, { token: token(), ...(method === 'POST' ? { body: { reason: 'other' } } : {}) });
      expect(res.json.detail).toMatch(/id in the path/);
    }
  });

  it('names the offending path parameter, header or field in errors[].path — planId / allocationId / providerId, Idempotency-Key, expectedVersion', async () => {
    for (const [method, path, token, field] of [
      ['POST', '/plans/not-a-plan/exit', () => t.coordinator, 'planId'],
      ['GET', '/plans/PL_UPPERCASE0000', () => t.coordinator, 'planId'],
      ['GET', '/plans/pl_x/history', () => t.coordinator, 'planId'],
      ['POST', '/allocations/bogus/accept', () => t.provider(offered.providerId), 'allocationId'],
      ['POST', `/allocations/${offered.allocationId}x/accept`, () => t.provider(offered.providerId), 'allocationId'],
      ['GET', '/providers/Bad_Id/offers', () => t.provider('anawim'), 'providerId'],
    ] as const) {
      const res = await refused(400, method, path, { token: token(), ...(method === 'POST' ? { body: { reason: 'other' } } : {}) });
      expect(res.json.errors, `${method} ${path}`).toEqual([{ path: field, message: expect.any(String) }]);
    }
    const exit = `/plans/${allocating.planId}/exit`;
    for (const key of ['', 'k'.repeat(201), 'has space', 'naïve']) {
      const res = await refused(400, 'POST', exit, { token: t.coordinator, body: { reason: 'completed' }, headers: { 'idempotency-key': key } });
      // One error per rule broken ("" is both too short and not visible ASCII), each at the header.
      expect(errorPaths(res).length, JSON.stringify(key)).toBeGreaterThan(0);
      expect(new Set(errorPaths(res)), JSON.stringify(key)).toEqual(new Set(['Idempotency-Key']));
    }
    const provider = await refused(400, 'POST', `/allocations/${accepted.allocationId}/record-contact`, {
      token: t.provider(accepted.providerId),
      body: { date: t.clock.today(), kind: 'attended' },
      headers: { 'idempotency-key': 'k'.repeat(201) },
    });
    expect(errorPaths(provider)).toEqual(['Idempotency-Key']);
    const version = await refused(400, 'POST', exit, { token: t.coordinator, body: { reason: 'completed', expectedVersion: -1 } });
    expect(version.json.errors).toEqual([{ path: 'expectedVersion', message: expect.any(String) }]);
  });

  it('answers an unknown command with 404 listing the commands there are; timer commands cannot be sent from outside', async () => {
    const plan = `/plans/${allocating.planId}`;
    const teleport = await refused(404, 'POST', `${plan}/teleport`, { token: t.coordinator, body: {} });
    expect(teleport.json.detail).toContain('teleport');
    expect(teleport.json.detail).toContain('record-consent');
    // The sweeper's commands, and refer, are not plan commands a client can send.
    for (const segment of ['offer-expired', 'review-overdue', 'follow-up-due', 'refer', 'accept'])
      await refused(404, 'POST', `${plan}/${segment}`, { token: t.coordinator, body: { deadlineId: `offer-expired:${offered.allocationId}` } });
    const alloc = await refused(404, 'POST', `/allocations/${offered.allocationId}/teleport`, { token: t.provider(offered.providerId), body: {} });
    expect(alloc.json.detail).toContain('accept');
    await refused(404, 'POST', `${plan}/exit/now`, { token: t.coordinator, body: { reason: 'other' } });
    await refused(404, 'GET', '/nothing-here', { token: t.coordinator });
    const wrongMethod = await refused(405, 'PUT', '/plans', { token: t.coordinator, body: referral() });
    expect(wrongMethod.headers.get('allow')).toContain('POST');
  });
});

describe('authentication and authorisation', () => {
  const otherToken = async (claims: Record<string, unknown>, options: { secret?: Uint8Array; audience?: string } = {}) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('someone')
      .setIssuer('wraparound-local')
      .setAudience(options.audience ?? 'wraparound')
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(options.secret ?? t.stack.tokens.secret);

  it('no token, or a token that is not ours, is 401', async () => {
    const none = await refused(401, 'POST', '/plans', { body: referral() });
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    await refused(401, 'GET', `/plans/${allocating.planId}`, {});
    await refused(401, 'GET', `/plans/${allocating.planId}`, { headers: { authorization: `Basic ${Buffer.from('coordinator:secret').toString('base64')}` } });

    // A provider token rewritten to claim the coordinator group: the signature no longer matches.
    const [header, payload, signature] = t.provider(offered.providerId).split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    const forged = Buffer.from(JSON.stringify({ ...claims, 'cognito:groups': ['coordinators'] })).toString('base64url');
    await refused(401, 'POST', '/plans', { token: `${header}.${forged}.${signature}`, body: referral() });
    // A flipped signature, an unsigned token, an expired one, one for another audience, one signed with another secret.
    const flipped = `${header}.${payload}.${signature.slice(0, -2)}${signature.endsWith('AA') ? 'BB' : 'AA'}`;
    await refused(401, 'GET', `/providers/${offered.providerId}/offers`, { token: flipped });
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${forged}.`;
    await refused(401, 'GET', `/plans/${allocating.planId}`, { token: unsigned });
    await refused(401, 'GET', `/plans/${allocating.planId}`, { token: await t.stack.tokens.issue({ role: 'coordinator', ttlSeconds: -60 }) });
    await refused(401, 'GET', `/plans/${allocating.planId}`, { token: await otherToken({ 'cognito:groups': ['coordinators'] }, { audience: 'someone-else' }) });
    await refused(401, 'GET', `/plans/${allocating.planId}`, { token: await otherToken({ 'cognito:groups': ['coordinators'] }, { secret: new Uint8Array(32).fill(7) }) });
    // The same claims, properly signed, are let in: the refusals above are about the token, not the request.
    const ok = await t.call('GET', `/plans/${allocating.planId}`, { token: await otherToken({ 'cognito:groups': ['coordinators'] }) });
    expect(ok.status).toBe(200);
  });

  it('a role the route is not for is 403', async () => {
    await refused(403, 'POST', '/plans', { token: t.provider('anawim'), body: referral() });
    await refused(403, 'POST', '/plans', { token: t.teamLead, body: referral() });
    await refused(403, 'POST', `/plans/${allocating.planId}/exit`, { token: t.teamLead, body: { reason: 'other' } });
    await refused(403, 'POST', `/plans/${allocating.planId}/exit`, { token: t.provider(offered.providerId), body: { reason: 'other' } });
    await refused(403, 'GET', `/plans/${allocating.planId}`, { token: t.provider(offered.providerId) });
    await refused(403, 'GET', `/plans/${allocating.planId}/history`, { token: t.provider(offered.providerId) });
    // Commissioners see aggregates only, never a plan.
    await refused(403, 'GET', `/plans/${allocating.planId}`, { token: t.commissioner });
    await refused(403, 'GET', '/plans', { token: t.commissioner });
    await refused(403, 'GET', `/providers/${offered.providerId}/offers`, { token: t.coordinator });
    // Accepting or declining is the provider's decision, not the coordinator's.
    await refused(403, 'POST', `/allocations/${offered.allocationId}/accept`, { token: t.coordinator, body: {} });
    await refused(403, 'POST', `/allocations/${offered.allocationId}/decline`, { token: t.coordinator, body: { reason: 'capacity' } });
    // A provider token that names no provider is no provider at all.
    await refused(403, 'GET', `/providers/${offered.providerId}/offers`, { token: await t.stack.tokens.issue({ role: 'provider' }) });
  });

  it('someone in several groups acts in whichever of her roles the route allows', async () => {
    const leadAndCoordinator = await otherToken({ 'cognito:groups': ['team-leads', 'coordinators'] });
    const body = referral({ participant: anotherParticipant() });
    const created = await t.call('POST', '/plans', { token: leadAndCoordinator, body });
    expect(created.status, created.text).toBe(201);
    expect(created.json.participant).toEqual(body.participant);
    const history = await t.call('GET', `/plans/${created.json.planId}/history`, { token: t.coordinator });
    expect(history.json.items[0]).toMatchObject({ type: 'plan.referred.v1' });
    // A route for team leads only is open to her as well; one for neither of her roles is not.
    expect((await t.call('GET', '/escalations', { token: leadAndCoordinator })).status).toBe(200);
    await refused(403, 'GET', `/providers/${offered.providerId}/offers`, { token: leadAndCoordinator });
    const neither = await refused(403, 'POST', '/plans', { token: await otherToken({ 'cognito:groups': ['team-leads', 'commissioners'] }), body: referral({ participant: anotherParticipant() }) });
    expect(neither.json.detail).toContain('team-lead or commissioner');
  });

  it("a team lead sees a plan, but not the participant's identity", async () => {
    const res = await t.call('GET', `/plans/${allocating.planId}`, { token: t.teamLead });
    expect(res.status).toBe(200);
    expect(res.json.planId).toBe(allocating.planId);
    expect(res.json.participant).toBeUndefined();
    expect(res.text).not.toContain(participant.familyName);
  });

  it("a provider cannot answer, work or read another provider's allocation (404, as an unknown one) or offers", async () => {
    const other = t.provider(stranger);
    const accept = await refused(404, 'POST', `/allocations/${offered.allocationId}/accept`, { token: other, body: {} });
    expect(accept.json.detail).toBe(`No allocation ${offered.allocationId}.`);
    await refused(404, 'POST', `/allocations/${offered.allocationId}/decline`, { token: other, body: { reason: 'capacity' } });
    await refused(404, 'POST', `/allocations/${accepted.allocationId}/record-contact`, { token: other, body: { date: t.clock.today(), kind: 'attended' } });
    await refused(404, 'POST', `/allocations/${accepted.allocationId}/end`, { token: other, body: { outcome: 'completed' } });
    const read = await refused(404, 'GET', `/allocations/${accepted.allocationId}`, { token: other });
    expect(read.json.detail).toBe(`No allocation ${accepted.allocationId}.`);
    const offers = await refused(403, 'GET', `/providers/${offered.providerId}/offers`, { token: other });
    expect(offers.json.detail).toContain(stranger);
    // The offer is still there for its own provider, untouched.
    const own = await t.call('GET', `/providers/${offered.providerId}/offers`, { token: t.provider(offered.providerId) });
    expect((own.json.items as OfferJson[]).find((i) => i.allocationId === offered.allocationId)).toMatchObject({ status: 'offered' });
  });

  it('an unknown plan or allocation is 404', async () => {
    await refused(404, 'GET', '/plans/pl_doesnotexist000', { token: t.coordinator });
    await refused(404, 'GET', '/plans/pl_doesnotexist000/history', { token: t.coordinator });
    await refused(404, 'POST', '/plans/pl_doesnotexist000/exit', { token: t.coordinator, body: { reason: 'other' } });
    await refused(404, 'POST', '/allocations/al_doesnotexist000_1/accept', { token: t.provider('anawim'), body: {} });
    // A plan that exists, but not this allocation number.
    const missing = await refused(404, 'POST', `/allocations/${offered.allocationId.replace(/_\d+$/, '_99')}/accept`, { token: t.provider(offered.providerId), body: {} });
    expect(missing.json.detail).toContain('_99');
  });

  it('a command not allowed in the stage is 409, naming the stage', async () => {
    const cases: [string, string, unknown, string][] = [
      [referred.planId, 'submit-assessment', { needs: [{ domain: 'alcohol', level: 'low', priority: true }] }, 'referred'],
      [assessment.planId, 'record-follow-up', { month: 6, reoffended: 'no' }, 'assessment'],
      [allocating.planId, 'withdraw', { reason: 'unreachable' }, 'allocating'],
      [active.planId, 'record-consent', consent(t.clock.today()), 'active'],
      [referred.planId, 'record-review', { scores: { alcohol: 3 }, outcome: 'continue' }, 'referred'],
    ];
    for (const [planId, command, body, stage] of cases) {
      const res = await refused(409, 'POST', `/plans/${planId}/${command}`, { token: t.coordinator, body });
      expect(res.json.detail, command).toContain(command);
      expect(res.json.detail, command).toContain(stage);
    }
    // An allocation in the wrong state is refused the same way: a contact before the offer is accepted.
    const early = await refused(409, 'POST', `/allocations/${offered.allocationId}/record-contact`, { token: t.provider(offered.providerId), body: { date: t.clock.today(), kind: 'attended' } });
    expect(early.json.detail).toContain('offered');
  });
});
