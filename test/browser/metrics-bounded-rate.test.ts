/**
 * A rate whose rounded counts are equal but whose exact counts are not reads "Under 100%" on the
 * dashboard, never "100%": six of seven referrals consented, both counts shown as 5.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planAllocating, screenshot, signIn, startHarness, type Harness } from './support.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

describe('commissioner dashboard', () => {
  it('shows a consent rate of 6 in 7 (counts shown as 5 and 5) as "Under 100%", explained, and the CSV names it', async () => {
    for (let i = 0; i < 6; i += 1) await planAllocating(h, { localAuthority: 'sandwell', needs: [{ domain: 'domestic-abuse', level: 'high', priority: true }] });
    const notConsented = await h.call('POST', '/plans', h.token('coordinator'), {
      participant: { givenName: 'Bounded', familyName: `Rate${process.pid}`, dateOfBirth: '1988-02-03' },
      referral: { source: 'custody-diversion', localAuthority: 'sandwell', urgency: 'routine' },
    });
    expect(notConsented.status, notConsented.text).toBe(201);

    const { page, errors } = await h.page();
    await signIn(h, page, 'Demo commissioner');
    await expect.poll(() => page.url()).toContain('/dashboard');
    const table = page.getByRole('region', { name: 'Figures by provider' });
    await table.waitFor();
    const column = (await table.getByRole('columnheader').allTextContents()).indexOf('Consent rate') - 1;
    const overall = table.getByRole('row', { name: /^All/ });
    expect(await overall.getByRole('cell').nth(column).textContent()).toBe('‡ Under 100% (not all, though the rounded counts would read 100%)');
    expect(await page.getByRole('note').first().textContent()).toContain('A rate reads 100% or 0% only when it exactly is');
    await screenshot(page, 'commissioner-bounded-rate');

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download CSV' }).click()]);
    const rows = (await readFile(await download.path(), 'utf8')).trimEnd().split('\r\n');
    const header = rows[0]?.split(',') as string[];
    const overallRow = rows[1]?.split(',') as string[];
    expect(header.at(-1)).toBe('boundedRates');
    expect([overallRow[header.indexOf('referrals')], overallRow[header.indexOf('consented')], overallRow[header.indexOf('consentRate')], overallRow.at(-1)]).toEqual(['5', '5', '0.99', 'consentRate:below-all']);
    expect(errors).toEqual([]);
  });
});
