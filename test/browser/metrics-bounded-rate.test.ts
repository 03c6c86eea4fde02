/**
 * A rate whose rounded counts are equal but whose exact counts are not reads "Under 100%" on the
 * dashboard, never "100%": six of seven referrals consented, both counts shown as 5. The charts mark
 * such a rate too (drawn at 99%): five of the six who exited reoffended within six months (shown as
 * 5 of 5) in the domestic abuse cohort, while in the mental health cohort five of five did, exactly.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acceptAll, axeScan, describeViolations, planAllocating, screenshot, signIn, startHarness, type Harness } from './support.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  const coordinator = h.token('coordinator');
  const exited: { planId: string; mentalHealth: boolean }[] = [];
  for (let i = 0; i < 6; i += 1) {
    const mentalHealth = i < 5;
    const plan = await acceptAll(
      h,
      await planAllocating(h, {
        localAuthority: 'sandwell',
        needs: [{ domain: 'domestic-abuse', level: 'high', priority: true }, ...(mentalHealth ? [{ domain: 'mental-health', level: 'medium' as const, priority: false }] : [])],
      }),
    );
    expect(plan.stage).toBe('active');
    const exit = await h.call('POST', `/plans/${plan.planId}/exit`, coordinator, { reason: 'completed' });
    expect(exit.status, exit.text).toBe(200);
    exited.push({ planId: plan.planId, mentalHealth });
  }
  const notConsented = await h.call('POST', '/plans', coordinator, {
    participant: { givenName: 'Bounded', familyName: `Rate${process.pid}`, dateOfBirth: '1988-02-03' },
    referral: { source: 'custody-diversion', localAuthority: 'sandwell', urgency: 'routine' },
  });
  expect(notConsented.status, notConsented.text).toBe(201);
  // The 6-month follow-up can be recorded once six months have passed since the exit. One sweep at the
  // end (not one every 6 hours, as POST /_local/clock/advance does): no deadline is what this is about.
  const halfYear = 184 * 24 * 3600_000;
  await h.stack.advanceClock(halfYear, halfYear);
  for (const { planId, mentalHealth } of exited) {
    const followUp = await h.call('POST', `/plans/${planId}/record-follow-up`, coordinator, { month: 6, reoffended: mentalHealth ? 'yes' : 'no' });
    expect(followUp.status, followUp.text).toBe(200);
  }
});
afterAll(async () => {
  await h?.stop();
});

describe('commissioner dashboard', () => {
  it('shows a consent rate of 6 in 7 (counts shown as 5 and 5) as "Under 100%", explained, and the CSV names it', async () => {
    const { page, errors } = await h.page();
    await signIn(h, page, 'Demo commissioner');
    await expect.poll(() => page.url()).toContain('/dashboard');
    const table = page.getByRole('region', { name: 'Figures by provider' });
    await table.waitFor();
    const column = (await table.getByRole('columnheader').allTextContents()).indexOf('Consent rate') - 1;
    const overall = table.getByRole('row', { name: /^All/ });
    expect(await overall.getByRole('cell').nth(column).textContent()).toBe('‡ Under 100% (not all, though the rounded counts would read 100%)');
    const note = (await page.getByRole('note').first().textContent()) ?? '';
    expect(note).toContain('A rate reads 100% or 0% only when it exactly is');
    // The caps in words are the ones the API applies (lib/domain/metrics/rate-caps.ts), not a copy of them.
    expect(note).toContain('Charts draw these rates at 99% and 1%, marked ‡. The CSV gives them as 0.99 and 0.01 and names them in its last column.');
    await screenshot(page, 'commissioner-bounded-rate');

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download CSV' }).click()]);
    const rows = (await readFile(await download.path(), 'utf8')).trimEnd().split('\r\n');
    const header = rows[0]?.split(',') as string[];
    const overallRow = rows[1]?.split(',') as string[];
    expect(header.at(-1)).toBe('boundedRates');
    expect([overallRow[header.indexOf('referrals')], overallRow[header.indexOf('consented')], overallRow[header.indexOf('consentRate')], overallRow.at(-1)]).toEqual(['5', '5', '0.99', 'consentRate:below-all reoffendingRate6:below-all']);
    expect(note).toContain(`The CSV gives them as ${overallRow[header.indexOf('consentRate')]} and`);
    expect(errors).toEqual([]);
  });

  it('marks a capped rate on its chart, in words under it and in its data, and leaves an exact 100% unmarked', async () => {
    const { page, errors } = await h.page();
    await signIn(h, page, 'Demo commissioner');
    const title = 'Reoffending within 6 and 12 months, by need cohort';
    const chart = page.getByRole('img', { name: new RegExp(`^${title}`) });
    await chart.waitFor();
    // Under the chart, seen by everyone and given to screen readers as the chart's description.
    const describedBy = await chart.getAttribute('aria-describedby');
    expect(describedBy).toBeTruthy();
    const note = page.locator(`[id="${describedBy}"]`);
    expect(await note.isVisible()).toBe(true);
    expect(await note.textContent()).toBe('‡ Under 100% (not all, though the rounded counts would read 100%), drawn at 99%: Domestic abuse (Reoffending within 6 months).');

    await page.getByText(`Show the data of “${title}”`).click();
    const data = page.getByRole('region', { name: `${title}: data` });
    const sixMonths = (await data.getByRole('columnheader').allTextContents()).indexOf('Reoffending within 6 months') - 1;
    const cell = (cohort: string) => data.getByRole('row', { name: new RegExp(`^${cohort}`) }).getByRole('cell').nth(sixMonths);
    expect(await cell('Domestic abuse').textContent()).toBe('‡ Under 100% (not all, though the rounded counts would read 100%)');
    expect(await cell('Mental health').textContent()).toBe('100%');
    await screenshot(page, 'commissioner-bounded-rate-chart');
    const violations = await axeScan(page);
    expect(violations, describeViolations(violations)).toEqual([]);
    expect(errors).toEqual([]);
  });
});
