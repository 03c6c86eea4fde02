/**
 * The team lead's escalations page in Chromium with more escalated plans than one page (50) holds:
 * the first page says how many it shows and that there are more, "Show more plans" adds the rest
 * below, each plan once, until the page says it shows them all.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { screenshot, signIn, startHarness, type Harness } from './support.ts';

const PLANS = 53;
let h: Harness;
let escalated: string[];

beforeAll(async () => {
  h = await startHarness();
  const coordinator = h.token('coordinator');
  for (let i = 0; i < PLANS; i++) {
    // The 15th of a month: one name with dates whose day could be a month (04/05 against 05/04) would be
    // warned of as a possible duplicate of each other.
    const dateOfBirth = new Date(Date.UTC(1980, i, 15)).toISOString().slice(0, 10);
    const res = await h.call('POST', '/plans', coordinator, {
      participant: { givenName: 'Siobhan', familyName: 'Okonkwo-Lindqvist', dateOfBirth },
      referral: { source: 'out-of-court-disposal', localAuthority: 'birmingham', urgency: i % 5 === 0 ? 'urgent' : 'routine' },
    });
    expect(res.status, res.text).toBe(201);
  }
  // Three weeks on, no assessment: every referral's assessment is overdue and escalated.
  const advance = await h.call('POST', '/_local/clock/advance', coordinator, { days: 21 });
  expect(advance.status, advance.text).toBe(200);
  const all = await h.call('GET', '/escalations?limit=100', h.token('team-lead'));
  escalated = all.json.items.map((p: { planId: string }) => p.planId);
  expect(escalated).toHaveLength(PLANS);
  expect(all.json.nextCursor).toBeNull();
}, 120_000);

afterAll(async () => {
  await h?.stop();
});

describe('escalations page (team lead)', () => {
  it('shows the first 50, says there are more, and Show more adds the rest, each plan once', async () => {
    const { page, errors } = await h.page();
    await signIn(h, page, 'Demo team-lead');
    await page.getByRole('link', { name: 'Escalations' }).click();
    await page.getByRole('heading', { level: 1, name: 'Escalations' }).waitFor();

    const planLinks = page.getByRole('link', { name: /^Plan pl_/ });
    await page.getByRole('status').filter({ hasText: 'Showing 50 plans; there are more.' }).waitFor();
    expect(await planLinks.count()).toBe(50);

    await page.getByRole('button', { name: 'Show more plans' }).click();
    await page.getByRole('status').filter({ hasText: `Showing all ${PLANS} plans.` }).waitFor();
    const shown = (await planLinks.allTextContents()).map((text) => text.replace(/^Plan /, ''));
    expect(shown).toHaveLength(PLANS);
    expect([...shown].sort()).toEqual([...escalated].sort());
    expect(await page.getByRole('button', { name: 'Show more plans' }).count()).toBe(0);
    await screenshot(page, 'team-lead-escalations-show-more');
    expect(errors).toEqual([]);
  });
});
