/**
 * The team lead's audit log page in Chromium: she filters by a plan, finds the provider's read of
 * the woman's contact details with who and why, reads on past the first page with Show more, and
 * a range the API refuses is explained next to the field it names. A plan's page links here.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planActive, signIn, startHarness, type Harness, type Json } from './support.ts';

let h: Harness;
let plan: Json;
/** The demo provider's name: her token's name claim, which the log shows as who (her organisation's name too, so not repeated). */
let providerName: string;
/** The coordinator's reads of the plan, as the API counts them in one answer. */
let coordinatorReads: number;
const COORDINATOR_READS = 55;

beforeAll(async () => {
  h = await startHarness();
  const firstDay = h.stack.clock.now().slice(0, 10);
  plan = await planActive(h, { needs: [{ domain: 'domestic-abuse', level: 'high', priority: true }], share: ['needs', 'contact-details'] });
  const allocation = plan.allocations.find((a: Json) => a.status === 'accepted');
  const provider = h.token('provider', allocation.providerId);
  providerName = h.stack.demoUsers.find((u) => u.token === provider)?.name ?? '';
  const contact = await h.call('GET', `/allocations/${allocation.allocationId}/participant`, provider);
  expect(contact.status, contact.text).toBe(200);
  // The simulated clock stands still: a minute on, so the reads below come after hers in the log.
  await h.stack.advanceClock(60_000);
  // More records about the plan than one page of the log (50) holds.
  for (let i = 0; i < COORDINATOR_READS; i++) expect((await h.call('GET', `/plans/${plan.planId}`, h.token('coordinator'))).status).toBe(200);
  // A record about another plan, which the plan filter leaves out.
  await planActive(h, { needs: [{ domain: 'mental-health', level: 'medium', priority: true }] });
  const all = await h.call('GET', `/audit?from=${firstDay}&to=${h.stack.clock.now().slice(0, 10)}&planId=${plan.planId}&limit=1000`, h.token('team-lead'));
  expect(all.json.nextCursor).toBeUndefined();
  coordinatorReads = all.json.items.filter((r: Json) => r.action === 'read-plan-and-identity' && r.role === 'coordinator').length;
  expect(coordinatorReads).toBeGreaterThanOrEqual(COORDINATOR_READS);
}, 60_000);

afterAll(async () => {
  await h?.stop();
});

describe('audit log page (team lead)', () => {
  it('filters by a plan, shows who read her contact details and why, and reads on with Show more', async () => {
    const { page, errors } = await h.page();
    await signIn(h, page, 'Demo team-lead');
    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.getByRole('heading', { level: 1, name: 'Audit log' }).waitFor();

    await page.getByLabel('Plan id (optional)').fill(plan.planId);
    await page.getByRole('button', { name: 'Show records' }).click();
    await checkPage(page, plan.planId);
    expect(errors).toEqual([]);
  });

  it("is a plan's 'Who has seen this plan', filtered by it", async () => {
    const { page, errors } = await h.page();
    await signIn(h, page, 'Demo team-lead', `/plan/${plan.planId}`);
    await page.getByRole('link', { name: 'Who has seen this plan' }).click();
    await page.getByRole('heading', { level: 1, name: 'Audit log' }).waitFor();
    expect(await page.getByLabel('Plan id (optional)').inputValue()).toBe(plan.planId);
    await checkPage(page, plan.planId);
    expect(errors).toEqual([]);
  });

  async function checkPage(page: Page, planId: string) {
    const records = page.getByRole('region', { name: /records shown/ });
    await expect.poll(() => records.getAttribute('aria-label')).toBe('50 records shown, more to show');
    expect(new URL(page.url()).searchParams.get('plan')).toBe(planId);

    const contactRead = records.getByRole('row').filter({ hasText: 'Read her contact details' });
    await expect.poll(() => contactRead.count()).toBe(1);
    // Polled: the organisation's name comes from the directory, which the app reads at start.
    await expect.poll(async () => (await contactRead.getByRole('cell').allInnerTexts())[1]).toBe(providerName);
    const cells = await contactRead.getByRole('cell').allInnerTexts();
    // A read has no outcome: it is recorded as the data is given out.
    expect(cells.slice(1)).toEqual([providerName, 'Provider', 'Read her contact details', '', expect.stringContaining(`Plan ${planId}`), 'Contacting the participant']);
    // Only this plan's records.
    const about = await records.locator('tbody tr td:nth-child(6)').allInnerTexts();
    expect(about.every((text) => text.includes(planId))).toBe(true);

    await page.getByRole('button', { name: 'Show more records' }).click();
    await expect.poll(() => records.getAttribute('aria-label')).toMatch(/^\d+ records shown$/);
    await expect.poll(() => page.getByRole('button', { name: 'Show more records' }).count()).toBe(0);
    // Every coordinator read exactly once over the two pages (the log's own reads come on top).
    expect(await records.getByRole('row').filter({ hasText: 'Read the plan and who she is' }).filter({ hasText: 'Coordinator' }).count()).toBe(coordinatorReads);
    expect(await contactRead.count()).toBe(1);
  }

  it('forgets a failed Show more when another range is asked for', async () => {
    const { page, errors } = await h.page();
    await signIn(h, page, 'Demo team-lead', `/audit-log?plan=${plan.planId}`);
    const records = page.getByRole('region', { name: /records shown/ });
    await expect.poll(() => records.getAttribute('aria-label')).toBe('50 records shown, more to show');
    // The next page's read fails (the network drops it).
    await page.route(/\/audit\?.*cursor=/, (route) => route.abort());
    await page.getByRole('button', { name: 'Show more records' }).click();
    const failed = page.getByRole('alert').filter({ hasText: 'Could not load more records' });
    await failed.waitFor();
    // Another range: its records, and no word of the earlier range's failure.
    const to = await page.getByLabel('To (UTC day)').inputValue();
    await page.getByLabel('From (UTC day)').fill(to);
    await page.getByRole('button', { name: 'Show records' }).click();
    await page.getByText(`UTC days ${to} to ${to}`).waitFor();
    await expect.poll(() => records.getAttribute('aria-label')).toMatch(/records shown/);
    expect(await failed.count()).toBe(0);
    expect(errors.filter((e) => !/Failed to load resource|ERR_FAILED/.test(e))).toEqual([]);
  });

  it('shows a range the API refuses next to the field it names', async () => {
    const { page, errors } = await h.page();
    await signIn(h, page, 'Demo team-lead', '/audit-log');
    await page.getByRole('heading', { level: 1, name: 'Audit log' }).waitFor();
    const to = await page.getByLabel('To (UTC day)').inputValue();
    const later = new Date(Date.parse(`${to}T12:00:00Z`) + 3 * 86_400_000).toISOString().slice(0, 10);
    await page.getByLabel('From (UTC day)').fill(later);
    await page.getByRole('button', { name: 'Show records' }).click();
    await page.locator('.error-summary').waitFor();
    expect(await page.locator('.field-invalid').filter({ has: page.getByLabel('From (UTC day)') }).locator('.field-error').innerText()).toContain('must not be after to');
    expect(await page.getByRole('region', { name: /records shown/ }).count()).toBe(0);
    expect(errors).toEqual([]);
  });
});
