/**
 * A data category taken out of her consent is purged by every provider ever given it for the plan,
 * whatever its allocation's status now, over real HTTP on the embedded stack: a provider that read her
 * contact details while it held the allocation accepted, and then ended it, is told to delete them in its
 * feed and on its allocation; a provider that only held an offer (never her contact details) is told to
 * delete only what an offer showed it (her risks), and nothing about contact details it never had.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anotherParticipant, referral, startTestStack, type AllocationJson, type Json, type TestStack } from '../support/http.ts';

let t: TestStack;

beforeAll(async () => {
  t = await startTestStack({ feedSettleMs: 0, webDistDir: false });
});
afterAll(async () => {
  await t?.stop();
});

async function ok(method: string, path: string, body?: unknown, token = t.coordinator): Promise<Json> {
  const res = await t.call(method, path, { token, ...(body !== undefined ? { body } : {}) });
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
  return res.json;
}

const consentBody = (dataCategories: string[]) => ({ scope: { shareWithProviders: true, dataCategories }, givenAt: t.clock.today(), method: 'written' });
const live = (plan: Json): AllocationJson[] => plan.allocations.filter((a: AllocationJson) => a.status === 'offered' || a.status === 'accepted');

async function assessedPlan(): Promise<Json> {
  const created = await ok('POST', '/plans', referral({ participant: anotherParticipant() }));
  await ok('POST', `/plans/${created.planId}/record-consent`, consentBody(['needs', 'risks', 'contact-details']));
  return ok('POST', `/plans/${created.planId}/submit-assessment`, {
    needs: [
      { domain: 'domestic-abuse', level: 'high', priority: true },
      { domain: 'mental-health', level: 'high', priority: true },
    ],
    risks: { domesticAbuse: 'high' },
  });
}

/** The purge instructions in the allocation's provider's feed about that allocation. */
const narrowedIn = async (a: AllocationJson) =>
  (await ok('GET', `/providers/${a.providerId}/feed?limit=500`, undefined, t.provider(a.providerId))).items.filter((e: Json) => e.data.allocationId === a.allocationId && e.type === 'plan.consent-narrowed.v1');

describe('a category taken out of her consent, after an allocation ended', () => {
  it('the provider that read her contact details while it held the allocation, then ended it, is told to delete them', async () => {
    const assessed = await assessedPlan();
    for (const offer of live(assessed)) await ok('POST', `/allocations/${offer.allocationId}/accept`, {}, t.provider(offer.providerId));
    const [first] = live(await ok('GET', `/plans/${assessed.planId}`));
    const token = t.provider(first!.providerId);
    const read = await t.call('GET', `/allocations/${first!.allocationId}/participant`, { token });
    expect(read.status, read.text).toBe(200);
    expect(read.json.givenName).toBeTruthy();
    await ok('POST', `/allocations/${first!.allocationId}/end`, { outcome: 'completed' }, token);

    t.clock.advanceDays(1);
    const changed = await ok('POST', `/plans/${assessed.planId}/change-consent`, consentBody(['needs', 'risks']));
    const instruction = { instruction: 'purge-withdrawn-categories', withdrawnCategories: ['contact-details'] };

    const feed = await narrowedIn(first!);
    expect(feed.map((e: Json) => e.data)).toEqual([{ planRef: assessed.planId, allocationId: first!.allocationId, ...instruction }]);
    const view = await ok('GET', `/allocations/${first!.allocationId}`, undefined, token);
    expect(view.status).toBe('ended');
    expect(view.purgeInstructions).toEqual([{ ...instruction, at: changed.updatedAt }]);
    expect(t.published.filter((e) => e.type === 'plan.consent-narrowed.v1' && e.data.planRef === assessed.planId && e.providerId === first!.providerId)).toHaveLength(1);
  });

  it('a provider that declined an offer is told to delete her risks it was shown, not contact details it never had', async () => {
    const assessed = await assessedPlan();
    const [offer] = live(assessed);
    const token = t.provider(offer!.providerId);
    expect((await ok('GET', `/allocations/${offer!.allocationId}`, undefined, token)).risks).toEqual({ domesticAbuse: 'high' });
    await ok('POST', `/allocations/${offer!.allocationId}/decline`, { reason: 'capacity' }, token);

    t.clock.advanceDays(1);
    await ok('POST', `/plans/${assessed.planId}/change-consent`, consentBody(['needs', 'risks']));
    const declined = (await ok('GET', `/plans/${assessed.planId}`)).allocations.find((a: AllocationJson) => a.allocationId === offer!.allocationId);
    expect(declined.purgeInstructions).toBeUndefined();
    expect(await narrowedIn(offer!)).toEqual([]);

    t.clock.advanceDays(1);
    await ok('POST', `/plans/${assessed.planId}/change-consent`, consentBody(['needs']));
    const feed = await narrowedIn(offer!);
    expect(feed.map((e: Json) => e.data)).toEqual([{ planRef: assessed.planId, allocationId: offer!.allocationId, withdrawnCategories: ['risks'], instruction: 'purge-withdrawn-categories' }]);
  });
});
