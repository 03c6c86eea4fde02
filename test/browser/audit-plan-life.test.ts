/**
 * A plan's "Who has seen this plan" covers the plan's life, not the last week: a provider read her
 * contact details 40 days ago, and the team lead who follows the link from the plan's page finds that
 * read, with who and why, in one view. Before, the link showed the last 7 days and the API allowed
 * 31 days at a time, so the read could not be found without typing ranges month by month. The About
 * column names the provider as Who does (it gave its id, "bcwa").
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planActive, screenshot, signIn, startHarness, type Harness, type Json } from './support.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

describe("a plan's audit log over its life", () => {
  it("shows a read of her contact details from 40 days ago through 'Who has seen this plan'", async () => {
    const plan = await planActive(h, { needs: [{ domain: 'domestic-abuse', level: 'high', priority: true }], share: ['needs', 'contact-details'] });
    const allocation = plan.allocations.find((a: Json) => a.status === 'accepted');
    const provider = h.token('provider', allocation.providerId);
    const read = await h.call('GET', `/allocations/${allocation.allocationId}/participant`, provider);
    expect(read.status, read.text).toBe(200);
    await h.stack.advanceClock(40 * 86_400_000);

    const { page, errors } = await h.page();
    await signIn(h, page, 'Demo team-lead', `/plan/${plan.planId}`);
    await page.getByRole('link', { name: 'Who has seen this plan' }).click();
    await page.getByRole('heading', { level: 1, name: 'Audit log' }).waitFor();
    const records = page.getByRole('region', { name: /records shown/ });
    await records.waitFor();
    const contactRead = records.getByRole('row').filter({ hasText: 'Read her contact details' });
    await expect.poll(() => contactRead.count()).toBe(1);
    expect(await contactRead.getByRole('cell').last().innerText()).toBe('Contacting the participant');
    // The provider it was about is named as Who names it, not by its id.
    const organisation = h.stack.demoUsers.find((u) => u.token === provider)?.name ?? '';
    await expect.poll(async () => (await contactRead.getByRole('cell').nth(5).innerText()).split('\n')).toContain(`Provider ${organisation}`);
    // The range asked for is said, and the hint says how far one plan's range may go.
    expect(await page.getByText(/^UTC days \d{4}-\d{2}-\d{2} to \d{4}-\d{2}-\d{2}, about plan/).count()).toBe(1);
    expect(await page.getByText('about one plan, at most 1,096 (three years)').count()).toBe(1);
    await screenshot(page, 'audit-plan-life');
    expect(errors).toEqual([]);
  });
});
