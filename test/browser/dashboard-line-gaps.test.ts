/**
 * A line chart of the dashboard leaves a suppressed month out, as a gap: under it the page now says
 * which values are suppressed, as a bar chart's key does, so a commissioner who sees the chart does not
 * read the gap as a 0 or as a month with nothing (before, only the canvas's text alternative said it).
 * The month rows are the real answer's with the completion rate set: one month drawn, eight suppressed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeScan, describeViolations, screenshot, signIn, startHarness, type Harness, type Json } from './support.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
}, 120_000);
afterAll(async () => {
  await h?.stop();
});

const PERIOD = 'from=2026-01-01&to=2026-09-30';
const MONTHS = ['2026-01', '2026-02', '2026-03', '2026-04', '2026-05', '2026-06', '2026-07', '2026-08', '2026-09'];

describe('dashboard line charts', () => {
  it('say under the chart that a gap in the line is a suppressed value, not a 0', async () => {
    const { page, errors } = await h.page();
    await page.route(/\/metrics\?/, async (route) => {
      const response = await route.fetch();
      expect(response.status()).toBe(200);
      const report = (await response.json()) as Json;
      report.breakdowns.month = MONTHS.map((month, i) => ({
        group: month,
        figures: { ...report.overall, completionRate: i === 3 ? 0.5 : 'suppressed', daysReferralToActiveMedian: 'suppressed', daysReferralToActiveP90: 'suppressed' },
      }));
      await route.fulfill({ response, json: report });
    });
    await signIn(h, page, 'Demo commissioner', `/dashboard?${PERIOD}`);
    const completion = page.locator('figure').filter({ has: page.getByRole('img', { name: /^Completion rate by month/ }) });
    await completion.waitFor();
    expect(await completion.locator('.chart-suppressed-key').textContent()).toBe('A gap in the line is not a 0. Suppressed (small numbers), so not drawn: Jan 2026, Feb 2026, Mar 2026, May 2026, Jun 2026, Jul 2026, Aug 2026, Sept 2026.');
    // Nothing drawn at all: the chart says so above it, and no word of gaps.
    const time = page.locator('figure').filter({ has: page.getByRole('img', { name: /^Days from referral to active, by month/ }) });
    expect(await time.getByText('Nothing to draw for this period').count()).toBe(1);
    expect(await time.locator('.chart-suppressed-key').count()).toBe(0);
    await screenshot(page, 'dashboard-line-gaps');
    const violations = await axeScan(page);
    expect(violations, describeViolations(violations)).toEqual([]);
    expect(errors).toEqual([]);
  });
});
