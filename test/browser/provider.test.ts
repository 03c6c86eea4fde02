/**
 * A provider in the browser: two offers in its inbox with their deadlines, one accepted and one
 * declined with a reason (the missing reason shown next to its field first); then the accepted one in
 * its caseload, a session recorded and its part ended.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planAllocating, screenshot, signIn, startHarness, type Harness, type Json } from './support.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

describe('provider', () => {
  it('accepts one offer and declines another, then works the accepted one', async () => {
    // Domestic abuse in Sandwell goes to Black Country Women's Aid: two plans, two offers.
    const plans: Json[] = [];
    for (const goal of ['Feel safe at home', 'Rebuild confidence'])
      plans.push(await planAllocating(h, { needs: [{ domain: 'domestic-abuse', level: 'high', priority: true, goals: [goal] }] }));
    const offers = plans.map((p) => p.allocations.find((a: Json) => a.providerId === 'bcwa').allocationId as string);
    const [toAccept, toDecline] = offers as [string, string];

    const { page, errors } = await h.page();
    await signIn(h, page, "Black Country Women's Aid");
    await expect.poll(() => page.url()).toContain('/inbox');
    const list = page.getByRole('list', { name: '2 open offers' });
    await list.waitFor();
    expect(await list.textContent()).toMatch(/Answer by.*\(in \d+ days?\)/);
    await screenshot(page, 'provider-inbox-desktop');

    const acceptCard = page.locator('li.offer', { has: page.getByText(`Details of offer ${toAccept}`) });
    await acceptCard.getByRole('button', { name: 'Accept' }).click();
    await page.getByText(`Offer ${toAccept} accepted`).waitFor();

    const declineCard = page.locator('li.offer', { has: page.getByText(`Details of offer ${toDecline}`) });
    await declineCard.getByText('Decline…').click();
    await declineCard.getByRole('button', { name: 'Decline the offer' }).click();
    const reasonError = declineCard.locator(`#decline-${toDecline}-f-reason-error`);
    await expect.poll(() => reasonError.textContent()).toMatch(/Choose one of the options|Enter this/);
    await declineCard.getByLabel('Reason').selectOption('capacity');
    await declineCard.getByLabel('Note (optional)').fill('Caseworkers full until January.');
    await declineCard.getByRole('button', { name: 'Decline the offer' }).click();
    await page.getByText(`Offer ${toDecline} declined`).waitFor();
    await page.getByText('No open offers.').waitFor();

    const coordinator = h.token('coordinator');
    const [accepted, declined] = await Promise.all(plans.map(async (p) => (await h.call('GET', `/plans/${p.planId}`, coordinator)).json));
    expect(accepted.allocations.find((a: Json) => a.allocationId === toAccept).status).toBe('accepted');
    expect(accepted.stage).toBe('active');
    const declinedOffer = declined.allocations.find((a: Json) => a.allocationId === toDecline);
    expect(declinedOffer).toMatchObject({ status: 'declined', declineReason: 'capacity' });

    // The caseload holds the accepted allocation; open it, record a session, end the part.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Caseload' }).click();
    await page.getByRole('link', { name: 'Domestic abuse' }).click();
    await page.waitForURL(new RegExp(`/caseload/${toAccept}$`));
    await page.getByText('Feel safe at home').waitFor();
    const contact = page.getByRole('form', { name: 'Record a session' });
    await contact.getByLabel('Attended').check();
    await contact.getByRole('button', { name: 'Record the session' }).click();
    await page.getByText(/Session on .* recorded/).waitFor();
    expect(await page.getByRole('region', { name: 'Sessions' }).textContent()).toContain('Attended');
    await screenshot(page, 'provider-allocation-desktop');

    const end = page.getByRole('form', { name: 'End your part' });
    await end.getByLabel('Outcome').selectOption('completed');
    await end.getByRole('button', { name: 'End our part' }).click();
    await page.getByText('Your part of the plan has ended.').waitFor();
    const after = (await h.call('GET', `/plans/${accepted.planId}`, coordinator)).json;
    expect(after.allocations.find((a: Json) => a.allocationId === toAccept)).toMatchObject({ status: 'ended', outcome: 'completed' });
    expect(after.contacts).toHaveLength(1);
    expect(errors).toEqual([]);
  });
});
