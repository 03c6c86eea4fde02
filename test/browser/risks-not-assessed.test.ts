/**
 * Not assessed is not none. A provider whose consent covers risks, on an allocation of a plan assessed
 * through the API without risks, reads "Not assessed" for each, not "None" / "No"; and so does her
 * coordinator on the plan page, which read "Self-harm: No" and left the domestic-abuse risk blank.
 * The coordinator's assessment form preselects no risk: the domestic-abuse risk left at "Choose…", or
 * self-harm or children at risk left unanswered, it refuses to send, naming the field, and nothing is
 * recorded (the API still takes absence, as not assessed).
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

  it('the coordinator’s assessment form makes her choose each risk: left empty, it names the field and sends nothing', async () => {
    const coordinator = h.token('coordinator');
    const referred = await h.call('POST', '/plans', coordinator, {
      participant: { givenName: 'Risk', familyName: `Unchosen${process.pid}`, dateOfBirth: '1988-02-14' },
      referral: { source: 'custody-diversion', localAuthority: 'sandwell', urgency: 'routine' },
    });
    expect(referred.status, referred.text).toBe(201);
    const planId = referred.json.planId as string;
    const consented = await h.call('POST', `/plans/${planId}/record-consent`, coordinator, { scope: { shareWithProviders: true, dataCategories: ['needs'] }, givenAt: h.stack.clock.now().slice(0, 10), method: 'written' });
    expect(consented.status, consented.text).toBe(200);

    const { page, errors } = await h.page();
    await signIn(h, page, 'Demo coordinator', `/plan/${planId}`);
    const assessment = page.getByRole('form', { name: 'Holistic needs assessment' });
    await assessment.getByLabel('Domestic abuse', { exact: true }).check();
    await assessment.getByRole('group', { name: 'Domestic abuse: level' }).getByLabel('High').check();
    await assessment.locator('#f-needs-domestic-abuse-priority').check();
    expect(await assessment.getByLabel('Domestic abuse risk').inputValue()).toBe('');
    // Self-harm and children at risk are not preselected 'No' either (they were unticked checkboxes, sent as false).
    for (const risk of ['Risk of self-harm', 'Children at risk (safeguarding)']) expect(await assessment.getByRole('group', { name: risk }).getByRole('radio', { checked: true }).count()).toBe(0);
    await assessment.getByRole('button', { name: 'Submit the assessment' }).click();
    await expect.poll(() => assessment.locator('#f-risks-domesticAbuse-error').textContent()).toMatch(/is required/);
    await expect.poll(() => page.locator('.error-summary').textContent()).toContain('Domestic abuse risk: is required');
    expect(await page.locator('.error-summary').textContent()).toContain('Risk of self-harm: is required');
    expect(await page.locator('.error-summary').textContent()).toContain('Children at risk (safeguarding): is required');
    expect((await h.call('GET', `/plans/${planId}`, coordinator)).json.stage).toBe('assessment');

    // Assessed as none: said so, and kept so.
    await assessment.getByRole('group', { name: 'Risk of self-harm' }).getByLabel('No').check();
    await assessment.getByRole('group', { name: 'Children at risk (safeguarding)' }).getByLabel('No').check();
    await assessment.getByLabel('Domestic abuse risk').selectOption('none');
    await assessment.getByRole('button', { name: 'Submit the assessment' }).click();
    await expect.poll(async () => (await h.call('GET', `/plans/${planId}`, coordinator)).json.stage).toBe('allocating');
    expect((await h.call('GET', `/plans/${planId}`, coordinator)).json.risks).toEqual({ domesticAbuse: 'none', selfHarm: false, safeguardingChildren: false });
    expect(errors).toEqual([]);
  });

  it('the worklist says "Risks not assessed" of a plan assessed without risks, and "Higher risk" only of a known high one', async () => {
    const unassessed = await planAllocating(h, { needs: domesticAbuse });
    const coordinator = h.token('coordinator');
    const referred = await h.call('POST', '/plans', coordinator, {
      participant: { givenName: 'Risk', familyName: `Known${process.pid}`, dateOfBirth: '1983-06-21' },
      referral: { source: 'custody-diversion', localAuthority: 'sandwell', urgency: 'routine' },
    });
    expect(referred.status, referred.text).toBe(201);
    const high = referred.json.planId as string;
    const consented = await h.call('POST', `/plans/${high}/record-consent`, coordinator, { scope: { shareWithProviders: true, dataCategories: ['needs'] }, givenAt: h.stack.clock.now().slice(0, 10), method: 'written' });
    expect(consented.status, consented.text).toBe(200);
    const submitted = await h.call('POST', `/plans/${high}/submit-assessment`, coordinator, { needs: domesticAbuse, risks: { domesticAbuse: 'high', selfHarm: false, safeguardingChildren: false } });
    expect(submitted.status, submitted.text).toBe(200);

    const { page, errors } = await h.page();
    await signIn(h, page, 'Demo coordinator', '/worklist?view=all&stage=allocating');
    const item = (planId: string) => page.getByRole('listitem').filter({ has: page.getByRole('link', { name: `Plan ${planId}`, exact: true }) });
    await item(unassessed.planId).waitFor();
    await item(high).waitFor();
    const badges = async (planId: string) => (await item(planId).locator('.plan-item-head .badge').allInnerTexts()).filter((b) => /risk/i.test(b));
    expect(await badges(unassessed.planId)).toEqual(['Risks not assessed']);
    expect(await badges(high)).toEqual(['Higher risk']);
    expect(errors).toEqual([]);
  });
});
