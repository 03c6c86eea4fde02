/**
 * The team lead picks up an escalation from the Escalations page in Chromium: "I'm picking this up"
 * records it and the row then says who picked it up and when (as the plan page does); when the
 * escalation was resolved meanwhile, the API's refusal is shown in the form, next to the field it names.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeScan, describeViolations, screenshot, signIn, startHarness, type Harness } from './support.ts';

let h: Harness;
const plans: string[] = [];

beforeAll(async () => {
  h = await startHarness();
  const coordinator = h.token('coordinator');
  for (let i = 0; i < 2; i++) {
    const res = await h.call('POST', '/plans', coordinator, {
      participant: { givenName: 'Marisol', familyName: 'Featherstonehaugh', dateOfBirth: `1985-0${i + 1}-11` },
      referral: { source: 'custody-diversion', localAuthority: 'sandwell', urgency: 'routine' },
    });
    expect(res.status, res.text).toBe(201);
    plans.push(res.json.planId);
  }
  // Three weeks on, no assessment: both are escalated.
  const advance = await h.call('POST', '/_local/clock/advance', coordinator, { days: 21 });
  expect(advance.status, advance.text).toBe(200);
}, 120_000);

afterAll(async () => {
  await h?.stop();
});

describe('escalations page: I’m picking this up', () => {
  it('records who picked it up and when, and shows the API’s refusal next to the field when it was resolved meanwhile', async () => {
    const [first, second] = plans as [string, string];
    const { page, errors } = await h.page();
    await signIn(h, page, 'Demo team-lead');
    await page.getByRole('link', { name: 'Escalations' }).click();
    await page.getByRole('heading', { level: 1, name: 'Escalations' }).waitFor();

    const form = (planId: string) => page.getByRole('form', { name: `Pick up: Assessment overdue, plan ${planId}` });
    await form(first).getByRole('button', { name: 'I’m picking this up' }).click();
    const item = page.getByRole('listitem').filter({ has: page.getByRole('link', { name: `Plan ${first}` }) });
    await item.getByText(/^Picked up by Demo team-lead at /).waitFor();
    expect(await form(first).count()).toBe(0);
    const listed = await h.call('GET', '/escalations?limit=100', h.token('team-lead'));
    const mine = listed.json.items.find((p: { planId: string }) => p.planId === first).escalations[0];
    expect(mine.acknowledged).toMatchObject({ byName: 'Demo team-lead' });

    // The coordinator assesses the second plan while the page is open: its escalation is resolved.
    const coordinator = h.token('coordinator');
    const today = (await h.call('GET', '/_local/clock', coordinator)).json.now.slice(0, 10);
    expect((await h.call('POST', `/plans/${second}/record-consent`, coordinator, { scope: { shareWithProviders: true, dataCategories: ['needs'] }, givenAt: today, method: 'written' })).status).toBe(200);
    expect((await h.call('POST', `/plans/${second}/submit-assessment`, coordinator, { needs: [{ domain: 'mental-health', level: 'high', priority: true }] })).status).toBe(200);
    await form(second).getByRole('button', { name: 'I’m picking this up' }).click();
    await form(second).getByRole('alert').waitFor();
    await form(second).locator('.field-error').filter({ hasText: 'no open assessment-overdue escalation on this plan' }).waitFor();
    expect(await form(second).getByRole('button', { name: 'I’m picking this up' }).count()).toBe(1);

    await screenshot(page, 'team-lead-escalations-pick-up');
    const violations = await axeScan(page);
    expect(violations, describeViolations(violations)).toEqual([]);
    expect(errors).toEqual([]);
  });
});
