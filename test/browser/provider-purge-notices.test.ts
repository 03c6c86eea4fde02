/**
 * A provider's staff who use only the web app are told to delete what they hold about her, as the
 * events tell consumers (plan.consent-withdrawn.v1, plan.consent-narrowed.v1): on the allocation page,
 * in the caseload and on an open offer. Her contact details taken out of her consent on an allocation
 * with sessions: the page says to delete them, not to ask the coordinator to arrange a first contact.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planActive, planAllocating, signIn, startHarness, visit, type Harness, type Json } from './support.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

const domesticAbuse = [{ domain: 'domestic-abuse', level: 'high' as const, priority: true, goals: ['Feel safe at home'] }];
const bcwaAllocation = (plan: Json) => plan.allocations.find((a: Json) => a.providerId === 'bcwa').allocationId as string;

async function changeConsent(planId: string, dataCategories: string[]) {
  const changed = await h.call('POST', `/plans/${planId}/change-consent`, h.token('coordinator'), {
    scope: { shareWithProviders: true, dataCategories },
    givenAt: h.stack.clock.now().slice(0, 10),
    method: 'verbal',
  });
  expect(changed.status, changed.text).toBe(200);
}

describe('provider: told to delete what it holds', () => {
  it('her contact details taken out of her consent: the allocation, its caseload line and the contact section say to delete them', async () => {
    const plan = await planActive(h, { needs: domesticAbuse, share: ['needs', 'contact-details'] });
    const allocationId = bcwaAllocation(plan);
    const bcwa = h.token('provider', 'bcwa');
    const session = await h.call('POST', `/allocations/${allocationId}/record-contact`, bcwa, { date: h.stack.clock.now().slice(0, 10), kind: 'attended' });
    expect(session.status, session.text).toBe(200);
    await changeConsent(plan.planId, ['needs']);

    // The API carries the instruction as the event did: the categories, no note, nothing of other providers.
    const view = await h.call('GET', `/allocations/${allocationId}`, bcwa);
    expect(view.json.purgeInstructions).toEqual([{ instruction: 'purge-withdrawn-categories', withdrawnCategories: ['contact-details'], at: expect.any(String) }]);
    const listed = await h.call('GET', '/providers/bcwa/allocations?status=accepted', bcwa);
    expect(listed.json.items.find((a: Json) => a.allocationId === allocationId).purgeInstructions).toEqual(view.json.purgeInstructions);

    const { page, errors } = await h.page();
    await signIn(h, page, "Black Country Women's Aid");
    await visit(h, page, '/caseload');
    const line = page.locator('li.plan-item', { has: page.locator(`a[href="/caseload/${allocationId}"]`) });
    await expect.poll(() => line.textContent()).toContain('She no longer agrees to share her contact details with you');

    await visit(h, page, `/caseload/${allocationId}`);
    const notice = page.locator('.purge-notice');
    await expect.poll(() => notice.textContent()).toMatch(/She no longer agrees to share her contact details with you \(since .+\): delete what you hold of her contact details\. The allocation goes on\./);
    await page.getByRole('button', { name: 'Show her contact details' }).click();
    const refusal = page.locator('#participant .notice');
    await expect.poll(() => refusal.textContent()).toMatch(/She no longer agrees to share her contact details with you \(since \d{1,2} [A-Z][a-z]+ \d{4}\): delete any you hold of hers/);
    expect(await page.locator('#participant').textContent()).not.toContain('arrange the first contact');
    expect(errors).toEqual([]);
  });

  it('her consent withdrawn: the ended allocation says to delete what is held about her, on its page and in the caseload', async () => {
    const plan = await planActive(h, { needs: domesticAbuse });
    const allocationId = bcwaAllocation(plan);
    const withdrawn = await h.call('POST', `/plans/${plan.planId}/withdraw-consent`, h.token('coordinator'), { note: 'She asked us to stop.' });
    expect(withdrawn.status, withdrawn.text).toBe(200);

    const view = await h.call('GET', `/allocations/${allocationId}`, h.token('provider', 'bcwa'));
    expect(view.json.purgeInstructions).toEqual([{ instruction: 'stop-processing-and-purge', at: expect.any(String) }]);
    expect(JSON.stringify(view.json)).not.toContain('She asked us to stop');

    const { page, errors } = await h.page();
    await signIn(h, page, "Black Country Women's Aid");
    await visit(h, page, '/caseload?status=ended');
    const line = page.locator('li.plan-item', { has: page.locator(`a[href="/caseload/${allocationId}"]`) });
    await expect.poll(() => line.textContent()).toContain('Her consent to share with your organisation was withdrawn on');

    await visit(h, page, `/caseload/${allocationId}`);
    await expect
      .poll(() => page.locator('.purge-notice').textContent())
      .toMatch(/Her consent to share with your organisation was withdrawn on .+: delete what you hold about her from this allocation, and record nothing more about her\./);
    expect(errors).toEqual([]);
  });

  it('an open offer whose risks were taken out of her consent says so in the offers list', async () => {
    const plan = await planAllocating(h, { needs: domesticAbuse, share: ['needs', 'risks'] });
    const allocationId = bcwaAllocation(plan);
    await changeConsent(plan.planId, ['needs']);
    const offers = await h.call('GET', '/providers/bcwa/offers', h.token('provider', 'bcwa'));
    const offer = offers.json.items.find((o: Json) => o.allocationId === allocationId);
    // Still open, with its deadline: the narrowing changes the view, not the offer.
    expect(offer.status).toBe('offered');
    expect(offer.respondBy).toBe(plan.allocations.find((a: Json) => a.allocationId === allocationId).respondBy);

    const { page, errors } = await h.page();
    await signIn(h, page, "Black Country Women's Aid");
    await expect.poll(() => page.url()).toContain('/inbox');
    const card = page.locator('li.offer', { has: page.getByText(`Details of offer ${allocationId}`) });
    await expect.poll(() => card.textContent()).toContain('She no longer agrees to share her risks with you');
    expect(errors).toEqual([]);
  });
});
