/**
 * A team lead rotates a provider's webhook secret in the browser: a confirm step with the overlap
 * (a bad one named next to its field, nothing rotated), the new secret shown once with the end of
 * the overlap, a second rotation during the overlap refused in words; the provider sees when it was
 * rotated, never a secret and no way to rotate. The subscription's dates are on one clock (the stack's,
 * which ends the overlap), and once the overlap is over the page says only the new secret signs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROTATION_OVERLAP_HOURS, ROTATION_OVERLAP_RULE } from '../../lib/api/webhook-rotation-limits.ts';
import { axeScan, screenshot, signIn, startHarness, visit, type Harness } from './support.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

describe('rotating a webhook secret', () => {
  it('confirm, the new secret shown once with the end of the overlap; again during the overlap is refused', async () => {
    const subscribed = await h.call('POST', '/providers/bcwa/subscriptions', h.token('team-lead'), { url: 'http://127.0.0.1:9/bcwa' });
    expect(subscribed.status, subscribed.text).toBe(201);
    const oldSecret = subscribed.json.secret as string;

    const { page, errors } = await h.page();
    await signIn(h, page, 'Demo team-lead');
    await visit(h, page, '/webhook?provider=bcwa');
    await page.getByRole('button', { name: 'Rotate secret' }).click();
    const confirm = page.getByRole('form', { name: 'Rotate the signing secret' });
    await confirm.waitFor();
    // The API's default and bounds, as its schema has them.
    expect(await confirm.getByLabel('Overlap (hours)').inputValue()).toBe(String(ROTATION_OVERLAP_HOURS.default));
    expect(await confirm.locator('#rotate-f-overlapHours-hint').textContent()).toBe(`Whole hours, ${ROTATION_OVERLAP_HOURS.min} to ${ROTATION_OVERLAP_HOURS.max}.`);
    expect(await axeScan(page)).toEqual([]);

    // A bad overlap is named next to its field, and nothing is rotated.
    await confirm.getByLabel('Overlap (hours)').fill('0');
    await confirm.getByRole('button', { name: 'Rotate the secret now' }).click();
    await expect.poll(() => confirm.locator('#rotate-f-overlapHours-error').textContent()).toContain(ROTATION_OVERLAP_RULE);
    expect((await h.stack.webhooks.store.activeSubscription('bcwa'))?.secret).toBe(oldSecret);

    await confirm.getByLabel('Overlap (hours)').fill('48');
    await confirm.getByRole('button', { name: 'Rotate the secret now' }).click();
    const shown = page.locator('code.secret');
    await shown.waitFor();
    const newSecret = (await shown.textContent()) as string;
    const stored = await h.stack.webhooks.store.activeSubscription('bcwa');
    expect(newSecret).toBe(stored?.secret);
    expect(newSecret).not.toBe(oldSecret);
    expect(stored?.previousSecret).toBe(oldSecret);
    expect(Date.parse(stored?.overlapEndsAt as string) - Date.parse(stored?.rotatedAt as string)).toBe(48 * 3_600_000);
    await page.getByText('New signing secret (shown once):').waitFor();
    await page.getByText(/every delivery is signed with both the old and the new secret/).waitFor();
    await page.getByText('Old secret also signs until').waitFor();
    await screenshot(page, 'team-lead-webhook-secret-rotated');

    // During the overlap a second rotation is refused, in words.
    await page.getByRole('button', { name: 'Rotate secret' }).click();
    await page.getByRole('button', { name: 'Rotate the secret now' }).click();
    await page.getByRole('alert').filter({ hasText: 'This could not be done now' }).waitFor();
    expect(await page.getByRole('alert').textContent()).toContain(`until ${stored?.overlapEndsAt}`);
    expect((await h.stack.webhooks.store.activeSubscription('bcwa'))?.secret).toBe(newSecret);
    // The secret is shown only in the answer it came with: a reload does not show it again.
    await page.reload();
    await page.getByText('Old secret also signs until').waitFor();
    expect(await page.locator('code.secret').count()).toBe(0);
    expect(await page.content()).not.toContain(newSecret);
    expect(errors).toEqual([]);
  });

  it('the provider sees when its secret was rotated, never a secret, and cannot rotate it', async () => {
    const { page, errors } = await h.page();
    await signIn(h, page, "Black Country Women's Aid");
    await visit(h, page, '/webhook');
    await page.getByText('Secret rotated').waitFor();
    await page.getByText('Old secret also signs until').waitFor();
    expect(await page.getByRole('button', { name: 'Rotate secret' }).count()).toBe(0);
    expect(await page.content()).not.toContain((await h.stack.webhooks.store.activeSubscription('bcwa'))?.secret);
    expect(errors).toEqual([]);
  });

  it('its dates come from one clock, and after the overlap the page says only the new secret signs', async () => {
    // The simulated clock stands still while real time goes on: a subscription dated by the wall clock
    // read as made after the rotation that followed it ('Secret rotated 01:17', 'Since 01:18').
    const listed = await h.call('GET', '/providers/bcwa/subscriptions', h.token('provider', 'bcwa'));
    const active = listed.json.items.find((s: { status: string }) => s.status === 'active');
    expect(active.createdAt).toBe(h.stack.clock.now());
    expect(active.createdAt <= active.rotatedAt).toBe(true);
    expect(active.overlapEndsAt > active.rotatedAt).toBe(true);

    await h.stack.advanceClock(ROTATION_OVERLAP_HOURS.max * 3_600_000);
    const { page, errors } = await h.page();
    await signIn(h, page, "Black Country Women's Aid");
    await visit(h, page, '/webhook');
    await page.getByText('only the new secret signs now').waitFor();
    expect(await page.getByText('Old secret also signs until').count()).toBe(0);
    expect(errors).toEqual([]);
  });
});
