/**
 * Two coordinators on one plan, and the first ends it: the second, recording a review in her own tab,
 * is refused with what changed and reads the plan again. The review form is gone from an exited plan,
 * yet the notice said "What you entered in the form is kept: check it against the plan before you send
 * it". It now says the plan is exited and what she entered was not sent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planActive, screenshot, signIn, startHarness, type Harness } from './support.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

describe('a plan ended in another tab', () => {
  it('says after reading it again that what she was sending can no longer be done, not that her form is kept', async () => {
    const plan = await planActive(h, { needs: [{ domain: 'accommodation', level: 'high', priority: true }] });
    const { page, errors } = await h.page();
    await signIn(h, page, 'Demo coordinator', `/plan/${plan.planId}`);
    const form = page.getByRole('form', { name: 'Review 1' });
    await form.getByLabel('Accommodation').selectOption('6');

    // The other coordinator ends her support meanwhile.
    const exit = await h.call('POST', `/plans/${plan.planId}/exit`, h.token('coordinator'), { reason: 'completed' });
    expect(exit.status, exit.text).toBe(200);

    await form.getByRole('button', { name: 'Record review 1' }).click();
    await expect.poll(() => form.getByRole('alert').textContent()).toContain('Since you opened this plan it has changed');
    await form.getByRole('button', { name: 'Read the plan again' }).click();
    const notice = page.getByRole('status').filter({ hasText: 'You read the plan again' });
    await expect.poll(() => notice.textContent()).toContain('The plan is now exited: what you were sending can no longer be done, and what you entered was not sent.');
    expect(await notice.textContent()).not.toContain('is kept');
    expect(await page.getByRole('form', { name: 'Review 1' }).count()).toBe(0);
    await screenshot(page, 'plan-conflict-exited');
    expect(errors).toEqual([]);
  });
});
