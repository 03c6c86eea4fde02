/**
 * Two coordinators on one plan: the second to record a review is told, in words from the plan's
 * history, that a review was just recorded, not "the plan is at version 15, not 14"; reading the plan
 * again clears the refusal and the review form (what she entered was for the review just recorded),
 * so one more click cannot record the same meeting twice. A change that is not a review (a provider's
 * session) keeps what she entered. The API's 409 names expectedVersion.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planActive, screenshot, signIn, startHarness, type Harness, type Json } from './support.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
}, 120_000);
afterAll(async () => {
  await h?.stop();
});

const NEEDS: { domain: string; level: 'high' | 'medium'; priority: boolean }[] = [
  { domain: 'domestic-abuse', level: 'high', priority: true },
  { domain: 'accommodation', level: 'medium', priority: true },
];

async function openReview(planId: string, number: number): Promise<Page> {
  const { page } = await h.page();
  await signIn(h, page, 'Demo coordinator', `/plan/${planId}`);
  await page.getByRole('form', { name: `Review ${number}` }).waitFor();
  return page;
}

describe('a plan changed in another tab', () => {
  it('says a review was just recorded, and reading the plan again clears the refusal and the form', async () => {
    const plan: Json = await planActive(h, { needs: NEEDS });
    const tabA = await openReview(plan.planId, 1);
    const tabB = await openReview(plan.planId, 1);

    const formA = tabA.getByRole('form', { name: 'Review 1' });
    await formA.getByLabel('Domestic abuse').selectOption('4');
    await formA.getByRole('button', { name: 'Record review 1' }).click();
    await tabA.getByText('Review 1 recorded.').waitFor();

    const formB = tabB.getByRole('form', { name: 'Review 1' });
    await formB.getByLabel('Domestic abuse').selectOption('5');
    await formB.getByLabel('In her own words (optional)').fill('Things are calmer.');
    await formB.getByRole('button', { name: 'Record review 1' }).click();
    const alert = formB.getByRole('alert');
    await expect.poll(() => alert.textContent()).toContain('Review 1 was just recorded by someone else');
    const refusal = (await alert.textContent()) ?? '';
    expect(refusal).toMatch(/Review 1 recorded: continue, at \d+ \w+ \d{4}, \d\d:\d\d/);
    expect(refusal).toContain('check it before recording another');
    expect(refusal).not.toMatch(/version \d+/);
    expect(refusal).not.toContain('expectedVersion');
    await screenshot(tabB, 'plan-conflict-review');

    await formB.getByRole('button', { name: 'Read the plan again' }).click();
    const next = tabB.getByRole('form', { name: 'Review 2' });
    await next.waitFor();
    expect(await next.getByRole('alert').count()).toBe(0);
    expect(await next.getByLabel('Domestic abuse').inputValue()).toBe('');
    expect(await next.getByLabel('In her own words (optional)').inputValue()).toBe('');
    await tabB.getByText('You read the plan again: it now shows Review 1 recorded: continue').waitFor();
    expect(await tabB.getByRole('region', { name: 'Reviews' }).textContent()).toContain('Review 1,');

    const after = (await h.call('GET', `/plans/${plan.planId}`, h.token('coordinator'))).json;
    expect(after.reviews.map((r: Json) => r.scores)).toEqual([{ 'domestic-abuse': 4 }]);
  });

  it('keeps what she entered when the change was not a review', async () => {
    const plan: Json = await planActive(h, { needs: NEEDS });
    const tab = await openReview(plan.planId, 1);
    const form = tab.getByRole('form', { name: 'Review 1' });
    await form.getByLabel('Accommodation').selectOption('6');

    const allocation = plan.allocations.find((a: Json) => a.status === 'accepted');
    const session = await h.call('POST', `/allocations/${allocation.allocationId}/record-contact`, h.token('provider', allocation.providerId), { date: h.stack.clock.now().slice(0, 10), kind: 'attended' });
    expect(session.status, session.text).toBe(200);

    await form.getByRole('button', { name: 'Record review 1' }).click();
    await expect.poll(() => form.getByRole('alert').textContent()).toContain('Session attended, at');
    await form.getByRole('button', { name: 'Read the plan again' }).click();
    await tab.getByText('What you entered in the form is kept').waitFor();
    expect(await form.getByRole('alert').count()).toBe(0);
    expect(await form.getByLabel('Accommodation').inputValue()).toBe('6');
    await form.getByRole('button', { name: 'Record review 1' }).click();
    await tab.getByText('Review 1 recorded.').waitFor();
    const after = (await h.call('GET', `/plans/${plan.planId}`, h.token('coordinator'))).json;
    expect(after.reviews.map((r: Json) => r.scores)).toEqual([{ accommodation: 6 }]);
  });

  it('names expectedVersion in the 409', async () => {
    const plan: Json = await planActive(h, { needs: NEEDS });
    const stale = await h.call('POST', `/plans/${plan.planId}/record-review`, h.token('coordinator'), { scores: { accommodation: 5 }, outcome: 'continue', expectedVersion: plan.version - 1 });
    expect(stale.status, stale.text).toBe(409);
    expect(stale.json.errors).toEqual([{ path: 'expectedVersion', message: `is ${plan.version - 1}, but the plan has changed since and is at version ${plan.version}` }]);
  });
});
