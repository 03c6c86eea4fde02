/**
 * A coordinator corrects a mis-keyed follow-up from the plan page, with the simulated clock: the
 * reason is asked for (the error shows next to it), the answer changes, the timeline keeps the one it
 * replaced; once her consent is withdrawn the page offers no follow-up action and says why.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeScan, describeViolations, planActive, signIn, startHarness, type Harness } from './support.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

describe('coordinator corrects a follow-up', () => {
  it('changes a recorded "yes" to "no" with a reason, and the timeline shows both answers', async () => {
    const plan = await planActive(h, { needs: [{ domain: 'domestic-abuse', level: 'high', priority: true }] });
    const coordinator = h.token('coordinator');
    expect((await h.call('POST', `/plans/${plan.planId}/exit`, coordinator, { reason: 'completed' })).status).toBe(200);
    expect((await h.call('POST', '/_local/clock/advance', coordinator, { days: 184 })).status).toBe(200);
    const recorded = await h.call('POST', `/plans/${plan.planId}/record-follow-up`, coordinator, { month: 6, reoffended: 'yes' });
    expect(recorded.status, recorded.text).toBe(200);

    const { page, errors } = await h.page();
    await signIn(h, page, 'Demo coordinator', `/plan/${plan.planId}`);
    const followUp = page.getByRole('region', { name: 'Follow-up' });
    await followUp.getByText('Correct a recorded follow-up').click();
    const form = page.getByRole('form', { name: 'Correct a follow-up' });
    await expect.poll(() => form.textContent()).toContain('Recorded: 6 months (Yes)');
    await form.getByLabel('No', { exact: true }).check();
    // No reason chosen: the API's 400 names the field, shown next to it; nothing changes.
    await form.getByRole('button', { name: 'Correct the follow-up' }).click();
    await expect.poll(() => form.getByRole('combobox', { name: 'Why it is corrected' }).getAttribute('aria-invalid')).toBe('true');
    expect((await h.call('GET', `/plans/${plan.planId}`, coordinator)).json.followUps).toMatchObject([{ month: 6, reoffended: 'yes' }]);

    await form.getByRole('combobox', { name: 'Why it is corrected' }).selectOption({ label: 'Keyed in error' });
    await form.getByRole('button', { name: 'Correct the follow-up' }).click();
    await page.getByRole('status').filter({ hasText: "6-month follow-up corrected: the earlier answer stays in the plan's history." }).waitFor();
    expect((await h.call('GET', `/plans/${plan.planId}`, coordinator)).json.followUps).toMatchObject([{ month: 6, reoffended: 'no', corrections: [{ previous: 'yes', reason: 'keyed-in-error' }] }]);
    const timeline = page.getByRole('region', { name: 'Timeline' });
    await timeline.getByText('6-month follow-up corrected').waitFor();
    await expect.poll(() => timeline.textContent()).toContain('Reoffended: no (was yes); keyed in error');
    expect(describeViolations(await axeScan(page))).toBe('');
    expect(errors).toEqual([]);
  });

  it('after consent is withdrawn while the 12-month follow-up is due, offers no follow-up action and says why', async () => {
    const plan = await planActive(h, { needs: [{ domain: 'mental-health', level: 'high', priority: true }] });
    const coordinator = h.token('coordinator');
    expect((await h.call('POST', `/plans/${plan.planId}/exit`, coordinator, { reason: 'completed' })).status).toBe(200);
    expect((await h.call('POST', '/_local/clock/advance', coordinator, { days: 184 })).status).toBe(200);
    expect((await h.call('POST', `/plans/${plan.planId}/record-follow-up`, coordinator, { month: 6, reoffended: 'no' })).status).toBe(200);

    const { page, errors } = await h.page();
    await signIn(h, page, 'Demo coordinator', `/plan/${plan.planId}`);
    const followUp = page.getByRole('region', { name: 'Follow-up' });
    await followUp.getByText('Consent withdrawn').click();
    await page.getByRole('form', { name: 'Consent withdrawn' }).getByRole('button', { name: 'Record that consent is withdrawn' }).click();
    await page.getByRole('status').filter({ hasText: 'Consent withdrawn: the follow-ups still due are cancelled' }).waitFor();
    await expect.poll(() => followUp.textContent()).toContain('Her consent was withdrawn on');
    expect(await followUp.getByRole('button').count()).toBe(0);
    expect(await page.getByRole('form', { name: 'Correct a follow-up' }).count()).toBe(0);
    expect((await h.call('GET', `/plans/${plan.planId}`, coordinator)).json).toMatchObject({ stage: 'closed', deadlines: [] });
    expect(errors).toEqual([]);
  });
});
