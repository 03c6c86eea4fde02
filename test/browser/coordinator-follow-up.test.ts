/**
 * A coordinator after exit, with the simulated clock: the follow-up is offered once it can be
 * recorded (whether she reoffended within six months is known only after them), not before.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planActive, signIn, startHarness, type Harness } from './support.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

describe('coordinator follow-up', () => {
  it('says when the 6-month follow-up can be recorded, and takes it once that day comes', async () => {
    const plan = await planActive(h, { needs: [{ domain: 'domestic-abuse', level: 'high', priority: true }] });
    const coordinator = h.token('coordinator');
    const exited = await h.call('POST', `/plans/${plan.planId}/exit`, coordinator, { reason: 'completed' });
    expect(exited.status, exited.text).toBe(200);

    const { page, errors } = await h.page();
    await signIn(h, page, 'Demo coordinator', `/plan/${plan.planId}`);
    const followUp = page.getByRole('region', { name: 'Follow-up' });
    await expect.poll(() => followUp.textContent()).toMatch(/The 6-month follow-up can be recorded from \d+ \w+ \d{4} \(in 18\d days\)/);
    expect(await followUp.getByRole('button', { name: 'Record the follow-up' }).count()).toBe(0);

    expect((await h.call('POST', '/_local/clock/advance', coordinator, { days: 184 })).status).toBe(200);
    await page.getByRole('button', { name: 'Refresh' }).click();
    const form = page.getByRole('form', { name: 'Follow-up' });
    // Follow-ups nobody records lapse 18 months after her exit (b8f0467): the form says when, and what then.
    await expect.poll(() => form.textContent()).toMatch(/Any not recorded by \d{1,2} \w+ \d{4} is then recorded as unknown, and the plan closes\./);
    await form.getByLabel('No', { exact: true }).check();
    await form.getByRole('button', { name: 'Record the follow-up' }).click();
    await page.getByRole('status').filter({ hasText: '6-month follow-up recorded.' }).waitFor();
    expect((await h.call('GET', `/plans/${plan.planId}`, coordinator)).json.followUps).toMatchObject([{ month: 6, reoffended: 'no' }]);
    // The 12-month one is half a year away again.
    await expect.poll(() => followUp.textContent()).toContain('The 12-month follow-up can be recorded from');
    expect(errors).toEqual([]);
  });
});
