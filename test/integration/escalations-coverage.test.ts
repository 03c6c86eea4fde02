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
    const planId = await assessed(false, 'mental-health');
    expect(await listed(planId)).toEqual([{ kind: 'coverage-gap', ref: 'mental-health' }]);
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
