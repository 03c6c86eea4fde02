/**
 * A commissioner in the browser, after a small cohort driven through the API: headline figures,
 * the five charts with their data, suppressed cells marked and explained, the filters (an invalid
 * period named next to its field), and the CSV download.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planActive, planAllocating, screenshot, signIn, startHarness, type Harness, type Json } from './support.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

const COHORT = 6;
/** Shown counts as published by default: the nearest multiple of 5 (7 referrals read 5, 6 activated read 5). */
const rounded = (count: number) => Math.round(count / 5) * 5;

async function cohort() {
  const coordinator = h.token('coordinator');
  const areas = ['sandwell', 'birmingham', 'walsall', 'dudley'];
  const active: Json[] = [];
  for (let i = 0; i < COHORT; i += 1) {
    active.push(
      await planActive(h, {
        localAuthority: areas[i % areas.length] as string,
        needs: [
          { domain: 'domestic-abuse', level: 'high', priority: true },
          ...(i % 2 === 0 ? [{ domain: 'mental-health' as const, level: 'medium' as const, priority: false }] : []),
        ],
      }),
    );
  }
  // One referral outside every partner's area: its needs become gaps.
  await planAllocating(h, { localAuthority: 'shropshire', needs: [{ domain: 'accommodation', level: 'high', priority: true }] });
  for (const [i, plan] of active.entries()) {
    const scores = { 'domestic-abuse': 3 + (i % 3) };
    expect((await h.call('POST', `/plans/${plan.planId}/record-review`, coordinator, { scores, outcome: 'continue' })).status).toBe(200);
    // Every plan exits at its second review: five completed, one disengaged.
    const exit = await h.call('POST', `/plans/${plan.planId}/record-review`, coordinator, { scores: { 'domestic-abuse': 7 }, outcome: 'exit', exitReason: i < 5 ? 'completed' : 'disengaged' });
    expect(exit.status, exit.text).toBe(200);
  }
}

describe('commissioner', () => {
  it('sees headline figures and charts after a cohort, with suppressed cells marked, and downloads the CSV', async () => {
    await cohort();
    // Figures come only from complete quarters: the first day of the next one (one sweep on the way).
    const now = Date.parse(h.stack.clock.now());
    const nextQuarter = new Date(now);
    nextQuarter.setUTCMonth(Math.floor(nextQuarter.getUTCMonth() / 3) * 3 + 3, 1);
    nextQuarter.setUTCHours(12, 0, 0, 0);
    await h.stack.advanceClock(nextQuarter.getTime() - now, nextQuarter.getTime() - now);
    const { page, errors } = await h.page();
    await signIn(h, page, 'Demo commissioner');
    await expect.poll(() => page.url()).toContain('/dashboard');
    const headlines = page.getByRole('region', { name: 'Headline figures' });
    await headlines.waitFor();
    const headline = (name: string) => headlines.locator('li').filter({ has: page.locator('.headline-label', { hasText: new RegExp(`^${name}$`) }) }).locator('.figure-big');
    expect(await headline('Referrals').textContent()).toBe(String(rounded(COHORT + 1)));
    expect(await headline('Activated').textContent()).toBe(String(rounded(COHORT)));
    // Five completed of six exits: 83% would give the sixth away (6 - 5 = 1, one woman's exit reason
    // among hidden zeros), so the rate is suppressed even though both its counts are at least 5.
    expect(await headline('Completion rate').textContent()).toContain('Suppressed');
    // One plan with unmet need: below the threshold, so suppressed, and said so.
    expect(await headline('Plans with unmet need').textContent()).toContain('Suppressed');
    expect(await page.getByRole('note').first().textContent()).toContain('any count below 5');
    expect(await page.getByRole('note').first().textContent()).toContain('Counts are rounded to the nearest 5');
    // A rate is the rate of the rounded counts, and the note says how far that can be from the true one.
    expect(await page.getByRole('note').first().textContent()).toContain('10 of 30 shown reads 33%, and the true rate may be anything from 25% (8 of 32) to 43% (12 of 28).');

    for (const title of ['Completion rate by month', 'Days from referral to active, by month', 'Offer acceptance rate by provider', 'Unmet needs and plans with unmet need, by local authority', 'Reoffending within 6 and 12 months, by need cohort'])
      await page.getByRole('img', { name: new RegExp(`^${title}`) }).waitFor();
    const acceptance = page.getByRole('img', { name: /^Offer acceptance rate by provider/ });
    expect(await acceptance.getAttribute('aria-label')).toMatch(/Suppressed \(small numbers\), so not drawn: .*Anawim/);

    // The breakdown table: by provider by default; Black Country Women's Aid had every offer and accepted
    // each: its six plans show, but 100% accepted would say no offer was declined, expired or withdrawn
    // (hidden zeros), so its acceptance rate is suppressed.
    const table = page.getByRole('region', { name: 'Figures by provider' });
    const bcwa = table.getByRole('row', { name: /Black Country Women's Aid/ });
    const column = async (name: string) => (await table.getByRole('columnheader').allTextContents()).indexOf(name) - 1;
    expect(await bcwa.getByRole('cell').nth(await column('Referrals')).textContent()).toBe(String(rounded(COHORT)));
    expect(await bcwa.getByRole('cell').nth(await column('Offer acceptance rate')).textContent()).toContain('Suppressed');
    expect(await table.getByText('Suppressed').count()).toBeGreaterThan(0);
    await screenshot(page, 'commissioner-dashboard-desktop');

    // The breakdown filter, and a period the API refuses, with the error next to its field. Periods are
    // picked as whole quarters: the latest complete one as From, the one before it as To.
    await page.getByLabel('Breakdown').selectOption('localAuthority');
    expect(await page.getByLabel('From', { exact: true }).locator('option').nth(1).textContent()).toMatch(/^Q[1-4] \d{4} \((January|April|July|October) to (March|June|September|December)\)$/);
    // The latest listed is the quarter complete on the stack's (simulated) clock, the cohort's, not the browser's.
    const cohortQuarter = new Date(Date.parse(h.stack.clock.now()) - 86_400_000 * 2);
    await expect.poll(() => page.getByLabel('From', { exact: true }).locator('option').nth(1).textContent()).toMatch(new RegExp(`^Q${Math.floor(cohortQuarter.getUTCMonth() / 3) + 1} ${cohortQuarter.getUTCFullYear()} `));
    await page.getByLabel('From', { exact: true }).selectOption({ index: 1 });
    await page.getByLabel('To', { exact: true }).selectOption({ index: 2 });
    await page.getByRole('button', { name: 'Show', exact: true }).click();
    await expect.poll(() => page.locator('#f-from-error').textContent()).toContain('must not be after to');
    await page.getByLabel('From', { exact: true }).selectOption('');
    await page.getByLabel('To', { exact: true }).selectOption('');
    await page.getByRole('button', { name: 'Show', exact: true }).click();
    await page.getByRole('region', { name: 'Figures by local authority' }).waitFor();
    expect(await page.getByRole('region', { name: 'Figures by local authority' }).getByRole('row', { name: /Sandwell/ }).count()).toBe(1);

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download CSV' }).click()]);
    expect(download.suggestedFilename()).toMatch(/^wraparound-metrics-\d{4}-\d{2}-\d{2}-to-\d{4}-\d{2}-\d{2}\.csv$/);
    const csv = await readFile(await download.path(), 'utf8');
    expect(csv.split('\r\n')[0]).toMatch(/^from,to,dimension,group,referrals,/);
    expect(csv).toContain(`overall,all,${rounded(COHORT + 1)},`);
    expect(csv).toContain('suppressed');
    expect(errors).toEqual([]);
  });

  it('is told plainly when the figures leave plans out (as on AWS while facts are rebuilt after a deploy)', async () => {
    const { page, errors } = await h.page();
    // The embedded stack always counts every plan, so the answer is the real one with `incomplete` added,
    // as api-metrics adds it on AWS while the sweeper rebuilds facts of an older schema.
    const reason = 'The way plan facts are worked out changed with a recent deploy.';
    await page.route(/\/metrics\?/, async (route) => {
      const response = await route.fetch();
      await route.fulfill({ response, json: { ...((await response.json()) as object), incomplete: { reason, staleFacts: 1234 } } });
    });
    await signIn(h, page, 'Demo commissioner');
    const warning = page.getByRole('status').filter({ hasText: 'These figures are incomplete.' });
    await warning.waitFor();
    expect(await warning.textContent()).toBe(`These figures are incomplete. ${reason} Plans not yet counted: 1,234.`);
    expect(errors).toEqual([]);
  });
});
