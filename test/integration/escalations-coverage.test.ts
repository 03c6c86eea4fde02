/**
 * The team lead hears of needs nobody covers and offers nobody answered: GET /escalations over real
 * HTTP on the embedded stack, the clock moved through POST /_local/clock/advance (the sweeper runs on
 * the way, so the offer-expired timer fires as it would).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedStack, type EmbeddedStack } from '../../lib/local/embedded-stack.ts';
import { londonDate } from '../../lib/domain/calendar.ts';
import { anotherParticipant, consent, makeCall, referral, type Call, type Json } from '../support/http.ts';

let stack: EmbeddedStack;
let call: Call;
const token = (role: string, providerId?: string) => stack.demoUsers.find((u) => u.role === role && (providerId === undefined || u.providerId === providerId))!.token;

async function ok(method: string, path: string, as: string, body?: unknown): Promise<Json> {
  const res = await call(method, path, { token: as, ...(body === undefined ? {} : { body }) });
  expect(res.status, `${method} ${path}: ${res.text}`).toBeLessThan(300);
  return res.json;
}

async function assessed(share: boolean, domain: string): Promise<string> {
  const created = await ok('POST', '/plans', token('coordinator'), referral({ participant: anotherParticipant() }));
  await ok('POST', `/plans/${created.planId}/record-consent`, token('coordinator'), consent(londonDate(stack.clock.now()), share));
  await ok('POST', `/plans/${created.planId}/submit-assessment`, token('coordinator'), { needs: [{ domain, level: 'high', priority: true }] });
  return created.planId;
}

/** The open escalations of a plan, as GET /escalations lists them ([] when the plan is not listed). */
async function listed(planId: string): Promise<{ kind: string; ref?: string }[]> {
  const page = await ok('GET', '/escalations?limit=100', token('team-lead'));
  const item = (page.items as Json[]).find((p) => p.planId === planId);
  return ((item?.escalations ?? []) as Json[]).map((e) => ({ kind: e.kind, ...(e.ref ? { ref: e.ref } : {}) }));
}

beforeAll(async () => {
  stack = await startEmbeddedStack({ inMemory: true, port: 0, sweepIntervalMs: 0, clockMode: 'simulated', publisher: { publish: async () => undefined } });
  call = makeCall(stack.url);
});
afterAll(async () => stack?.stop());

describe('GET /escalations: coverage gaps and unanswered offers', () => {
  it('lists a need with no provider as a coverage gap, and drops it when the plan exits', async () => {
    // Thinking and behaviour: no service in Birmingham takes it. (A need unmet because she shares nothing with providers is her choice, not a gap.)
    const planId = await assessed(true, 'thinking-behaviour');
    expect(await listed(planId)).toEqual([{ kind: 'coverage-gap', ref: 'thinking-behaviour' }]);
    await ok('POST', `/plans/${planId}/exit`, token('coordinator'), { reason: 'disengaged' });
    expect(await listed(planId)).toEqual([]);
  });

  it('lists an offer that expired unanswered, and the gap it left, until a provider accepts the need', async () => {
    const planId = await assessed(true, 'domestic-abuse');
    expect(await listed(planId)).toEqual([]);
    const offer = (await ok('GET', `/plans/${planId}`, token('coordinator'))).allocations[0];
    // Offers are answered within 2 working days: three days on, the sweeper has expired it.
    await ok('POST', '/_local/clock/advance', token('coordinator'), { days: 3, stepHours: 6 });
    const open = await listed(planId);
    expect(open).toEqual(expect.arrayContaining([{ kind: 'offer-unanswered', ref: offer.allocationId }, { kind: 'coverage-gap', ref: 'domestic-abuse' }]));

    const manual = await ok('POST', `/plans/${planId}/offer-manually`, token('coordinator'), { serviceId: offer.serviceId, needs: ['domestic-abuse'], reason: 'Spoke to their manager' });
    const again = (manual.allocations as Json[]).find((a) => a.status === 'offered');
    // A new offer is not yet a provider: both stay open.
    expect((await listed(planId)).map((e) => e.kind).sort()).toEqual(['coverage-gap', 'offer-unanswered']);
    await ok('POST', `/allocations/${again.allocationId}/accept`, token('provider', again.providerId), {});
    expect((await listed(planId)).filter((e) => e.kind === 'coverage-gap' || e.kind === 'offer-unanswered')).toEqual([]);
  });
});

describe('POST /plans/{planId}/escalations/acknowledge', () => {
  it('a team lead picks one up: GET /escalations and the plan say by whom and when, it is audited, a second pick-up is refused, and nobody else may send it', async () => {
    const planId = await assessed(true, 'thinking-behaviour');
    const path = `/plans/${planId}/escalations/acknowledge`;
    const body = { kind: 'coverage-gap', ref: 'thinking-behaviour' };
    for (const role of ['coordinator', 'commissioner']) expect((await call('POST', path, { token: token(role), body })).status, role).toBe(403);
    expect((await call('POST', path, { token: token('provider', 'anawim'), body })).status).toBe(403);

    // Bad input is a 400 naming the field, and changes nothing.
    const before = (await ok('GET', `/plans/${planId}`, token('team-lead'))).version;
    const bad = await call('POST', path, { token: token('team-lead'), body: { kind: 'coverage-gap', ref: 'mental-health' } });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');
    expect(bad.json.errors.map((e: Json) => e.path)).toEqual(['ref']);
    const unknown = await call('POST', path, { token: token('team-lead'), body: { kind: 'nothing-done' } });
    expect([unknown.status, unknown.json.errors.map((e: Json) => e.path)]).toEqual([400, ['kind']]);
    expect((await ok('GET', `/plans/${planId}`, token('team-lead'))).version).toBe(before);

    const picked = await ok('POST', path, token('team-lead'), body);
    const at = stack.clock.now();
    expect(picked.stage).toBe('allocating');
    const acknowledged = { by: expect.any(String), byName: 'Demo team-lead', at };
    expect(picked.openEscalations).toEqual([expect.objectContaining({ kind: 'coverage-gap', ref: 'thinking-behaviour', acknowledged })]);
    const page = await ok('GET', '/escalations?limit=100', token('team-lead'));
    expect((page.items as Json[]).find((p) => p.planId === planId).escalations).toEqual([expect.objectContaining({ kind: 'coverage-gap', acknowledged })]);
    // A second pick-up is refused, naming who has it.
    const again = await call('POST', path, { token: token('team-lead'), body });
    expect(again.status).toBe(409);
    expect(again.json.detail).toContain('Demo team-lead');

    // Audited like every write: the attempt the domain refused (the ref), the pick-up and the second one (a body the schema refuses is refused before).
    const day = at.slice(0, 10);
    const audit = await ok('GET', `/audit?from=${day}&to=${day}&planId=${planId}&limit=1000`, token('team-lead'));
    expect((audit.items as Json[]).filter((r) => r.action === 'command:acknowledge-escalation').map((r) => [r.role, r.whoName])).toEqual([
      ['team-lead', 'Demo team-lead'],
      ['team-lead', 'Demo team-lead'],
      ['team-lead', 'Demo team-lead'],
    ]);
  });
});
