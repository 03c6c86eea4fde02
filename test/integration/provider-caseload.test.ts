/**
 * A provider's caseload (GET /providers/{id}/allocations) after an allocation stops: it keeps saying
 * which service and which needs each allocation was for, and its status is the allocation's own (as
 * GET /allocations/{id} says), over real HTTP on the embedded stack. Events that close an allocation
 * carry only its id, and a consent withdrawal is sent for every allocation the provider ever had:
 * neither may blank the caseload row or relabel a declined or ended allocation "withdrawn".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anotherParticipant, consent, referral, startTestStack, type Json, type TestStack } from '../support/http.ts';

let t: TestStack;
beforeAll(async () => {
  t = await startTestStack();
});
afterAll(async () => {
  await t?.stop();
});

/** A plan in allocating with two needs bcwa takes in Sandwell with two of its services: two offers to bcwa. */
async function twoOffersToBcwa(): Promise<{ planId: string; offers: Json[] }> {
  const created = await t.call('POST', '/plans', { token: t.coordinator, body: referral({ participant: anotherParticipant(), referral: { source: 'custody-diversion', localAuthority: 'sandwell', urgency: 'routine' } }) });
  expect(created.status, created.text).toBe(201);
  const planId = created.json.planId as string;
  expect((await t.call('POST', `/plans/${planId}/record-consent`, { token: t.coordinator, body: consent(t.clock.today()) })).status).toBe(200);
  const assessed = await t.call('POST', `/plans/${planId}/submit-assessment`, {
    token: t.coordinator,
    body: {
      needs: [
        { domain: 'domestic-abuse', level: 'high', priority: true },
        { domain: 'thinking-behaviour', level: 'low', priority: false },
      ],
    },
  });
  expect(assessed.status, assessed.text).toBe(200);
  const offers = (assessed.json.allocations as Json[]).filter((a) => a.providerId === 'bcwa');
  expect(offers).toHaveLength(2);
  return { planId, offers };
}

async function caseload(): Promise<Map<string, Json>> {
  const res = await t.call('GET', '/providers/bcwa/allocations', { token: t.provider('bcwa') });
  expect(res.status, res.text).toBe(200);
  return new Map((res.json.items as Json[]).map((i) => [i.allocationId as string, i]));
}

async function allocationStatus(allocationId: string): Promise<string> {
  const res = await t.call('GET', `/allocations/${allocationId}`, { token: t.provider('bcwa') });
  expect(res.status, res.text).toBe(200);
  return res.json.status as string;
}

const domainsOf = (needs: unknown) => (Array.isArray(needs) ? needs.map((n) => (typeof n === 'string' ? n : (n as { domain: string }).domain)) : needs);

describe("a provider's caseload after its allocations stop", () => {
  it('keeps service and needs, and the status of each allocation, after consent is withdrawn', async () => {
    const { planId, offers } = await twoOffersToBcwa();
    const [toAccept, toDecline] = offers as [Json, Json];
    const bcwa = t.provider('bcwa');
    expect((await t.call('POST', `/allocations/${toAccept.allocationId}/accept`, { token: bcwa, body: {} })).status).toBe(200);
    expect((await t.call('POST', `/allocations/${toDecline.allocationId}/decline`, { token: bcwa, body: { reason: 'capacity' } })).status).toBe(200);
    const withdrawn = await t.call('POST', `/plans/${planId}/withdraw-consent`, { token: t.coordinator, body: {} });
    expect(withdrawn.status, withdrawn.text).toBe(200);

    const rows = await caseload();
    const accepted = rows.get(toAccept.allocationId);
    const declined = rows.get(toDecline.allocationId);
    // The accepted one ended (consent withdrawn), the declined one stays declined: what the allocation itself says.
    expect(accepted).toMatchObject({ status: await allocationStatus(toAccept.allocationId), serviceId: toAccept.serviceId, lead: expect.any(Boolean) });
    expect(accepted?.status).toBe('ended');
    expect(domainsOf(accepted?.needs)).toEqual(toAccept.needs);
    expect(declined).toMatchObject({ status: 'declined', serviceId: toDecline.serviceId });
    expect(domainsOf(declined?.needs)).toEqual(toDecline.needs);
    // The accepted filter no longer lists it.
    const acceptedOnly = await t.call('GET', '/providers/bcwa/allocations?status=accepted', { token: bcwa });
    expect((acceptedOnly.json.items as Json[]).map((i) => i.allocationId)).not.toContain(toAccept.allocationId);
  });

  it('keeps service and needs of an offer that expired and of an allocation ended when the plan exited', async () => {
    const { planId, offers } = await twoOffersToBcwa();
    const [toAccept, toExpire] = offers as [Json, Json];
    expect((await t.call('POST', `/allocations/${toAccept.allocationId}/accept`, { token: t.provider('bcwa'), body: {} })).status).toBe(200);
    // Past the offer's deadline the sweeper expires the other offer; then the plan exits.
    t.clock.advanceDays(5);
    await t.stack.sweep();
    expect(await allocationStatus(toExpire.allocationId)).toBe('expired');
    expect((await t.call('POST', `/plans/${planId}/exit`, { token: t.coordinator, body: { reason: 'completed' } })).status).toBe(200);

    const rows = await caseload();
    for (const [offer, status] of [
      [toExpire, 'expired'],
      [toAccept, 'ended'],
    ] as const) {
      const row = rows.get(offer.allocationId);
      expect(row, offer.allocationId).toMatchObject({ status, serviceId: offer.serviceId });
      expect(domainsOf(row?.needs)).toEqual(offer.needs);
    }
  });
});
