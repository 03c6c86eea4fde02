/**
 * An exited plan holds back the erasure of her identity while its follow-ups are still to be asked,
 * as an open plan does. The form said only "end an open plan first (exit it, …)", so a coordinator who
 * exited her plan as told met a refusal; it now says so on such a plan before she fills it in, and
 * once her consent is withdrawn (the follow-ups cancelled) the erasure goes ahead.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planActive, screenshot, signIn, startHarness, type Harness } from './support.ts';

let h: Harness;
let planId: string;

beforeAll(async () => {
  h = await startHarness();
  planId = (await planActive(h, { needs: [{ domain: 'accommodation', level: 'high', priority: true }] })).planId;
  const exit = await h.call('POST', `/plans/${planId}/exit`, h.token('coordinator'), { reason: 'completed' });
  expect(exit.status, exit.text).toBe(200);
});

afterAll(async () => {
  await h?.stop();
});

describe('erasing her identity while her follow-ups are to come', () => {
  it('says on the exited plan that it is waiting for its follow-ups, and erases once her consent is withdrawn', async () => {
    const { page, errors } = await h.page();
    await signIn(h, page, 'Demo coordinator', `/plan/${planId}`);
    await page.locator('summary').filter({ hasText: 'Erase her identity' }).click();
    const erase = page.getByRole('form', { name: 'Erase her identity' });
    const words = 'This plan is waiting for its follow-ups: record them, or, if she asked to be forgotten, record her consent withdrawn (which cancels them and closes the plan) first';
    expect(await erase.innerText()).toContain(`${words}.`);
    expect(await erase.innerText()).toContain('Only once none of her plans is open or waiting for its follow-ups');
    // What the form said is what the API answers.
    await erase.getByLabel('Why').selectOption('her-request');
    await erase.getByLabel('I understand this cannot be undone').check();
    await erase.getByRole('button', { name: 'Erase her identity' }).click();
    await expect.poll(() => erase.getByRole('alert').textContent()).toContain(`${words}, then ask again.`);
    await screenshot(page, 'plan-erase-waiting-for-follow-ups');

    const withdrawn = await h.call('POST', `/plans/${planId}/withdraw-consent`, h.token('coordinator'), {});
    expect(withdrawn.status, withdrawn.text).toBe(200);
    await page.reload();
    await page.locator('summary').filter({ hasText: 'Erase her identity' }).click();
    expect(await erase.innerText()).not.toContain('This plan is waiting for its follow-ups');
    await erase.getByLabel('Why').selectOption('her-request');
    await erase.getByLabel('I understand this cannot be undone').check();
    await erase.getByRole('button', { name: 'Erase her identity' }).click();
    await page.getByRole('status').filter({ hasText: 'Her identity is erased' }).waitFor();
    expect(errors).toEqual([]);
  });
});
