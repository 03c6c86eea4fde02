/**
 * A provider's worker, on the allocation page: recording the same session again is questioned first
 * (the usual slip), and a session recorded twice anyway is withdrawn with "Correct": it stays in the
 * list, struck through and marked withdrawn, and counts nowhere; a wrong kind is corrected.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeScan, planAllocating, screenshot, signIn, startHarness, visit, type Harness, type Json } from './support.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

describe('correcting a session', () => {
  it('warns before a second identical session, then withdraws one recorded twice and corrects a kind', async () => {
    const plan = await planAllocating(h, { needs: [{ domain: 'domestic-abuse', level: 'high', priority: true }] });
    const offer = plan.allocations.find((a: Json) => a.providerId === 'bcwa').allocationId as string;
    const token = h.token('provider', 'bcwa');
    expect((await h.call('POST', `/allocations/${offer}/accept`, token, {})).status).toBe(200);

    const { page, errors } = await h.page();
    await signIn(h, page, "Black Country Women's Aid");
    await visit(h, page, `/caseload/${offer}`);
    const contact = page.getByRole('form', { name: 'Record a session' });
    await contact.getByLabel('Attended').check();
    await contact.getByRole('button', { name: 'Record the session' }).click();
    await page.getByText(/Session on .* recorded\./).waitFor();

    // The same again: a warning first, nothing recorded until asked again.
    await contact.getByLabel('Attended').check();
    await contact.getByRole('button', { name: 'Record the session' }).click();
    await contact.getByText(/Session 1 is already recorded for .*: Attended/).waitFor();
    const sessions = () => h.call('GET', `/allocations/${offer}`, token).then((r) => r.json.contacts as Json[]);
    expect(await sessions()).toHaveLength(1);
    await contact.getByRole('button', { name: 'Record a second session' }).click();
    await expect.poll(async () => (await sessions()).length).toBe(2);

    // Session 2 was a slip: withdraw it.
    const list = page.getByRole('region', { name: 'Sessions' });
    await list.getByRole('button', { name: 'Correct session 2' }).click();
    const correct = page.getByRole('form', { name: 'Correct session 2' });
    await correct.getByLabel('It was recorded twice: withdraw this one').check();
    expect(await axeScan(page)).toEqual([]);
    await correct.getByRole('button', { name: 'Withdraw the session' }).click();
    await page.getByText('Session 2 withdrawn: it no longer counts.').waitFor();
    await list.getByText(/withdrawn .*; it counts nowhere/).waitFor();
    expect((await sessions())[1]).toMatchObject({ session: 2, withdrawnAt: expect.any(String) });
    expect(await list.getByRole('button', { name: 'Correct session 2' }).count()).toBe(0);

    // Session 1 was missed, not attended.
    await list.getByRole('button', { name: 'Correct session 1' }).click();
    const first = page.getByRole('form', { name: 'Correct session 1' });
    await first.getByLabel('What happened is wrong').check();
    await first.getByRole('group', { name: 'What really happened' }).getByLabel('Missed').check();
    await first.getByRole('button', { name: 'Correct the session' }).click();
    await page.getByText('Session 1 corrected.').waitFor();
    expect((await sessions())[0]).toMatchObject({ session: 1, kind: 'missed', corrected: true });
    await screenshot(page, 'provider-session-corrected');

    // Her part ends; the last session turns out to have been cancelled: it can still be corrected for 28 days.
    expect((await h.call('POST', `/allocations/${offer}/end`, token, { outcome: 'completed' })).status).toBe(200);
    await page.reload();
    await page.getByText('Ended').first().waitFor();
    await list.getByText(/A session held on or before .+, the day it ended, can still be recorded, and its sessions corrected, until .* \(28 days after it ended\)\./).waitFor();
    await list.getByRole('button', { name: 'Correct session 1' }).click();
    const afterEnd = page.getByRole('form', { name: 'Correct session 1' });
    await afterEnd.getByLabel('What happened is wrong').check();
    await afterEnd.getByRole('group', { name: 'What really happened' }).getByLabel('Cancelled').check();
    await afterEnd.getByRole('button', { name: 'Correct the session' }).click();
    await page.getByText('Session 1 corrected.').waitFor();
    expect((await sessions())[0]).toMatchObject({ session: 1, kind: 'cancelled', corrected: true });

    // A session held before it ended, not yet recorded, can still be: the form offers the day it ended.
    const late = page.getByRole('form', { name: 'Record a session' });
    await late.getByRole('group', { name: 'What happened' }).getByLabel('Attended').check();
    await late.getByRole('button', { name: 'Record the session' }).click();
    await page.getByText(/Session on .+ recorded\./).waitFor();
    expect((await sessions()).at(-1)).toMatchObject({ kind: 'attended' });
    expect(errors).toEqual([]);
  });
});
