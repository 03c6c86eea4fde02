/**
 * Not assessed is not none. An assessment sent through the API without risks, or with only some of
 * them, keeps only what was said: the provider whose consent covers risks reads the missing ones as
 * missing (not assessed), never as "none" or false, and the coordinator's plan holds no risks it was
 * not told. Over real HTTP on the embedded stack.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anotherParticipant, referral, startTestStack, type Json, type TestStack } from '../support/http.ts';

let t: TestStack;
beforeAll(async () => {
  t = await startTestStack();
});
afterAll(async () => {
  await t?.stop();
});

/** A plan whose consent shares needs and risks with every provider, assessed with a high domestic-abuse need and `risks` as given. */
async function assessed(risks?: Json): Promise<{ planId: string; bcwaAllocation: string }> {
  const created = await t.call('POST', '/plans', { token: t.coordinator, body: referral({ participant: anotherParticipant() }) });
  expect(created.status, created.text).toBe(201);
  const planId = created.json.planId as string;
  const consented = await t.call('POST', `/plans/${planId}/record-consent`, {
    token: t.coordinator,
    body: { scope: { shareWithProviders: true, dataCategories: ['needs', 'risks'] }, givenAt: t.clock.today(), method: 'written' },
  });
  expect(consented.status, consented.text).toBe(200);
  const body = { needs: [{ domain: 'domestic-abuse', level: 'high', priority: true }], ...(risks ? { risks } : {}) };
  const submitted = await t.call('POST', `/plans/${planId}/submit-assessment`, { token: t.coordinator, body });
  expect(submitted.status, submitted.text).toBe(200);
  const offer = (submitted.json.allocations as Json[]).find((a) => a.providerId === 'bcwa');
  expect(offer, 'an offer to bcwa').toBeTruthy();
  return { planId, bcwaAllocation: offer.allocationId as string };
}

describe('risks an assessment left out', () => {
  it('no risks sent: the provider reads none of them assessed, not "none" and not "no"', async () => {
    const { planId, bcwaAllocation } = await assessed();
    const view = await t.call('GET', `/allocations/${bcwaAllocation}`, { token: t.provider('bcwa') });
    expect(view.status, view.text).toBe(200);
    // Consent covers risks, so the provider is shown them: as assessed, which here is nothing.
    expect(view.json.risks).toEqual({});
    expect(JSON.stringify(view.json.risks)).not.toMatch(/none|false/);
    const plan = await t.call('GET', `/plans/${planId}`, { token: t.coordinator });
    expect(plan.json).not.toHaveProperty('risks');
  });

  it('some risks sent: only those are kept, the others stay not assessed', async () => {
    const { planId, bcwaAllocation } = await assessed({ domesticAbuse: 'high' });
    const view = await t.call('GET', `/allocations/${bcwaAllocation}`, { token: t.provider('bcwa') });
    expect(view.json.risks).toEqual({ domesticAbuse: 'high' });
    const plan = await t.call('GET', `/plans/${planId}`, { token: t.coordinator });
    expect(plan.json.risks).toEqual({ domesticAbuse: 'high' });
  });

  it('every risk answered, none among them: kept as said', async () => {
    const risks = { domesticAbuse: 'none', selfHarm: false, safeguardingChildren: false };
    const { bcwaAllocation } = await assessed(risks);
    const view = await t.call('GET', `/allocations/${bcwaAllocation}`, { token: t.provider('bcwa') });
    expect(view.json.risks).toEqual(risks);
  });

  it('on the worklist, a plan whose risks nobody assessed does not sort below one assessed at standard risk', async () => {
    const standard = await assessed({ domesticAbuse: 'standard', selfHarm: false, safeguardingChildren: false });
    const unassessed = await assessed();
    const list = await t.call('GET', '/plans?stage=allocating&limit=100', { token: t.coordinator });
    expect(list.status, list.text).toBe(200);
    const risk = (planId: string) => (list.json.items as Json[]).find((p) => p.planId === planId)?.risk as number;
    expect(risk(standard.planId)).toBe(1);
    expect(risk(unassessed.planId)).toBeGreaterThan(risk(standard.planId));
  });

  it('on the worklist, a plan assessed without risks is said to be not assessed, not higher risk; a known high one is', async () => {
    const unassessed = await assessed();
    const high = await assessed({ domesticAbuse: 'high', selfHarm: false, safeguardingChildren: false });
    const partial = await assessed({ domesticAbuse: 'high' });
    const list = await t.call('GET', '/plans?stage=allocating&limit=100', { token: t.coordinator });
    expect(list.status, list.text).toBe(200);
    const line = (planId: string) => (list.json.items as Json[]).find((p) => p.planId === planId) as Json;
    // Sorted alike, said differently.
    expect(line(unassessed.planId).risk).toBe(line(high.planId).risk);
    expect(line(unassessed.planId)).toMatchObject({ higherRisk: false, risksNotAssessed: ['domesticAbuse', 'selfHarm', 'safeguardingChildren'] });
    expect(line(high.planId)).toMatchObject({ higherRisk: true, risksNotAssessed: [] });
    expect(line(partial.planId)).toMatchObject({ higherRisk: true, risksNotAssessed: ['selfHarm', 'safeguardingChildren'] });
  });
});
