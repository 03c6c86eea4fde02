/**
 * The dashboard's charts and suppression: the reoffending chart's text says per series what is
 * suppressed (all of the 12-month bars, ten of the 6-month ones) rather than "14 of 14 groups" while
 * four 6-month bars are drawn; a suppressed bar is drawn hatched (its grey is on the canvas), not left
 * empty like a 0% bar; and a breakdown the page does not know is said to be replaced by Provider.
 * The period is whole quarters (Q1 to Q3 2026), as GET /metrics answers; the need-cohort rows are the
 * real answer's with their reoffending figures set, so the chart has both kinds of bar.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NEED_DOMAINS, NEED_DOMAIN_LABELS } from '../../lib/domain/vocabulary.ts';
import { axeScan, describeViolations, screenshot, signIn, startHarness, type Harness, type Json } from './support.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
}, 120_000);
afterAll(async () => {
  await h?.stop();
});

const PERIOD = 'from=2026-01-01&to=2026-09-30';
const DRAWN_6 = [0, 0.25, 0.5, 0.2];
const TITLE = 'Reoffending within 6 and 12 months, by need cohort';
/** chart.tsx SUPPRESSED_COLOUR, #6b6b6b: the hatching's grey, used nowhere else on a chart. */
const HATCH = [0x6b, 0x6b, 0x6b];

/** The answer as GET /metrics gives it, with four need cohorts' 6-month rate drawn and every other reoffending rate suppressed. */
async function withCohorts(page: Page) {
  await page.route(/\/metrics\?/, async (route) => {
    const response = await route.fetch();
    expect(response.status()).toBe(200);
    const report = (await response.json()) as Json;
    report.breakdowns.needDomain = NEED_DOMAINS.map((domain, i) => ({
      group: domain,
      figures: { ...(report.breakdowns.needDomain?.[0]?.figures ?? {}), reoffendingRate6: i < DRAWN_6.length ? DRAWN_6[i] : 'suppressed', reoffendingRate12: 'suppressed', scoreChangeMean: 1 },
    }));
    await route.fulfill({ response, json: report });
  });
}

const hatchPixels = (page: Page) =>
  page.getByRole('img', { name: new RegExp(`^${TITLE}`) }).evaluate((canvas, colour) => {
    const c = canvas as unknown as { width: number; height: number; getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } };
    const { data } = c.getContext('2d').getImageData(0, 0, c.width, c.height);
    let count = 0;
    for (let i = 0; i < data.length; i += 4) if (data[i] === colour[0] && data[i + 1] === colour[1] && data[i + 2] === colour[2] && data[i + 3] === 255) count += 1;
    return count;
  }, HATCH);

describe('dashboard charts and suppression', () => {
  it('says per series what is suppressed, and draws a suppressed bar hatched, not empty', async () => {
    const { page, errors } = await h.page();
    await withCohorts(page);
    await signIn(h, page, 'Demo commissioner', `/dashboard?${PERIOD}`);
    const chart = page.getByRole('img', { name: new RegExp(`^${TITLE}`) });
    await chart.waitFor();
    const total = NEED_DOMAINS.length;
    const said = (await chart.getAttribute('aria-label')) ?? '';
    expect(said).toContain(
      `Suppressed (small numbers), shown as hatched bars marked suppressed: Reoffending within 6 months: ${total - DRAWN_6.length} of ${total} need domain groups (see the data); Reoffending within 12 months: all ${total} need domain groups.`,
    );
    expect(said).not.toContain(`${total} of ${total}`);
    // The 0% bar (the first cohort) and the suppressed ones differ on the canvas: the hatching is there.
    await expect.poll(() => hatchPixels(page)).toBeGreaterThan(200);
    expect(await page.locator('figure').filter({ has: chart }).locator('.chart-suppressed-key').textContent()).toContain('Hatched bars are suppressed (small numbers)');
    // The data under it still reads each value: 0% drawn, the rest suppressed.
    await page.getByText(`Show the data of “${TITLE}”`).click();
    const data = page.getByRole('region', { name: `${TITLE}: data` });
    const cells = async (cohort: string) => data.getByRole('row', { name: new RegExp(`^${NEED_DOMAIN_LABELS[cohort as keyof typeof NEED_DOMAIN_LABELS]}`) }).getByRole('cell').allTextContents();
    expect(await cells(NEED_DOMAINS[0])).toEqual(['0%', 'suppressed']);
    expect(await cells(NEED_DOMAINS[5] as string)).toEqual(['suppressed', 'suppressed']);
    await screenshot(page, 'dashboard-suppressed-bars');
    const violations = await axeScan(page);
    expect(violations, describeViolations(violations)).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('says a breakdown it does not know is shown by provider instead', async () => {
    const { page, errors } = await h.page();
    await signIn(h, page, 'Demo commissioner', `/dashboard?${PERIOD}&breakdown=bogus`);
    const notice = page.getByRole('status').filter({ hasText: 'There is no breakdown' });
    await notice.waitFor();
    expect(await notice.textContent()).toBe('There is no breakdown “bogus”: the table below is by provider. The breakdowns are Provider, Local authority, Need domain, Referral source, Month.');
    await page.getByRole('region', { name: 'Figures by provider' }).waitFor();
    // A breakdown it knows says nothing of the kind.
    await page.goto(`${h.url}/dashboard?${PERIOD}&breakdown=localAuthority`);
    await page.getByRole('region', { name: 'Figures by local authority' }).waitFor();
    expect(await page.getByText('There is no breakdown').count()).toBe(0);
    expect(errors).toEqual([]);
  });
});
