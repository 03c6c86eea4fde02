/**
 * Not assessed is not none. A provider whose consent covers risks, on an allocation of a plan assessed
 * through the API without risks, reads "Not assessed" for each, not "None" / "No"; and so does her
 * coordinator on the plan page, which read "Self-harm: No" and left the domestic-abuse risk blank.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planAllocating, signIn, startHarness, visit, type Harness, type Json } from './support.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

const domesticAbuse = [{ domain: 'domestic-abuse', level: 'high' as const, priority: true, goals: [] }];

/** The fact a page's Details show under `term`. */
const fact = (page: Awaited<ReturnType<Harness['page']>>['page'], term: string) => page.locator('dl.facts > div', { has: page.locator('dt', { hasText: term }) }).locator('dd');

describe('risks nobody assessed', () => {
  it('the provider’s allocation page says "Not assessed", not "None"', async () => {
    const plan = await planAllocating(h, { needs: domesticAbuse, share: ['needs', 'risks'] });
    const allocationId = plan.allocations.find((a: Json) => a.providerId === 'bcwa').allocationId as string;
    const { page, errors } = await h.page();
    await signIn(h, page, "Black Country Women's Aid");
    await visit(h, page, `/caseload/${allocationId}`);
    await expect.poll(() => fact(page, 'Domestic abuse risk').textContent()).toBe('Not assessed');
    expect(await fact(page, 'Self-harm risk').textContent()).toBe('Not assessed');
    expect(await fact(page, 'Children at risk').textContent()).toBe('Not assessed');
    expect(errors).toEqual([]);
  });

  it("the coordinator's plan page says 'Not assessed' for each risk too", async () => {
    const plan = await planAllocating(h, { needs: domesticAbuse });
    const { page, errors } = await h.page();
    await signIn(h, page, 'Demo coordinator', `/plan/${plan.planId}`);
    const needs = page.getByRole('region', { name: 'Needs' });
    const riskFact = (term: string) => needs.locator('dl.facts > div', { has: page.locator('dt', { hasText: term }) }).locator('dd');
    await expect.poll(() => riskFact('Domestic abuse risk').textContent()).toBe('Not assessed');
    expect(await riskFact('Self-harm').textContent()).toBe('Not assessed');
    expect(await riskFact('Safeguarding children').textContent()).toBe('Not assessed');
    expect(errors).toEqual([]);
  });
});
