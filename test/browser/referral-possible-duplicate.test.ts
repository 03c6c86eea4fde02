/**
 * The referral form warned of a possible duplicate, in Chromium: a coordinator refers "Jo Smithers" born
 * the day "Joanne Smithers", whose plan is open, was born. The form says, in words, which plan may be hers
 * (its stage and referral day, a link to check it) and changes nothing; confirming she is a different woman
 * sends the referral again with notDuplicateOf, and her new plan opens.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeScan, describeViolations, screenshot, signIn, startHarness, type Harness } from './support.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

const dayWords = (instant: string) => new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', day: 'numeric', month: 'short', year: 'numeric' }).format(new Date(instant));

describe('referral form: a possible duplicate', () => {
  it('says which open plan may be hers, and refers her once the coordinator confirms she is a different woman', async () => {
    const coordinator = h.token('coordinator');
    const joanne = await h.call('POST', '/plans', coordinator, {
      participant: { givenName: 'Joanne', familyName: 'Smithers', dateOfBirth: '1990-03-04' },
      referral: { source: 'custody-diversion', localAuthority: 'sandwell', urgency: 'routine' },
    });
    expect(joanne.status, joanne.text).toBe(201);
    const openPlanId = joanne.json.planId as string;

    const { page, errors } = await h.page();
    await signIn(h, page, 'Demo coordinator', '/referrals/new');
    await page.getByRole('heading', { level: 1, name: 'New referral' }).waitFor();
    await page.getByLabel('Given name').fill('Jo');
    await page.getByLabel('Family name').fill('Smithers');
    await page.getByLabel('Date of birth').fill('1990-03-04');
    await page.getByLabel('Referred by').selectOption('probation');
    await page.getByLabel('Local authority').selectOption('sandwell');
    await page.getByRole('button', { name: 'Create the plan' }).click();

    const warning = page.getByRole('alert').filter({ hasText: 'A plan may already be open for this woman' });
    await warning.waitFor();
    expect(await warning.locator('p').first().textContent()).toBe(
      `A plan may already be open for this woman: plan ${openPlanId} (Referred, referred on ${dayWords(joanne.json.createdAt)}). Check it; if she is a different woman, confirm and refer.`,
    );
    // The plan to check opens in a new tab, so what she typed stays in the form.
    const link = warning.getByRole('link', { name: `plan ${openPlanId}` });
    expect(await link.getAttribute('href')).toBe(`/plan/${openPlanId}`);
    expect(await link.getAttribute('target')).toBe('_blank');
    expect(page.url()).toContain('/referrals/new');
    expect(await page.getByLabel('Given name').inputValue()).toBe('Jo');
    const violations = await axeScan(page);
    expect(violations, describeViolations(violations)).toEqual([]);
    await screenshot(page, 'referral-possible-duplicate-desktop');

    // Nothing recorded yet: Joanne's is the only plan.
    const before = await h.call('GET', '/plans?stage=referred', coordinator);
    expect(before.json.items.map((p: { planId: string }) => p.planId)).toEqual([openPlanId]);

    await warning.getByRole('button', { name: 'She is a different woman: confirm and refer' }).click();
    await page.waitForURL(/\/plan\/pl_/);
    const newPlanId = new URL(page.url()).pathname.split('/')[2] as string;
    expect(newPlanId).not.toBe(openPlanId);
    await page.getByText('Referral recorded').waitFor();

    const plan = await h.call('GET', `/plans/${newPlanId}`, coordinator);
    expect(plan.json.participant).toMatchObject({ givenName: 'Jo', familyName: 'Smithers', dateOfBirth: '1990-03-04' });
    expect(plan.json.previousPlanIds).toEqual([]);
    const day = new Date(joanne.json.createdAt as string).toISOString().slice(0, 10);
    const audit = await h.call('GET', `/audit?from=${day}&to=${day}&planId=${newPlanId}`, h.token('team-lead'));
    expect(audit.json.items.find((r: { action: string }) => r.action.startsWith('refer'))).toMatchObject({ action: 'refer-confirmed-different-woman', notDuplicateOf: [openPlanId] });
    expect(errors).toEqual([]);

    // The team lead's audit log says so, and which plan she was confirmed not to be the woman of.
    const lead = await h.page();
    await signIn(h, lead.page, 'Demo team-lead', `/audit-log?plan=${newPlanId}`);
    const row = lead.page.getByRole('row').filter({ hasText: 'after confirming she is a different woman' });
    await row.waitFor();
    expect(await row.textContent()).toContain(`Confirmed a different woman from plan ${openPlanId}`);
    // And the warning before it, which showed the coordinator Joanne's plan for the name she typed.
    await lead.page.goto(`${h.url}/audit-log`);
    const warned = lead.page.getByRole('row').filter({ hasText: 'warned that the open plans named may be hers' });
    await warned.waitFor();
    expect(await warned.textContent()).toContain(`Shown as possibly hers: plan ${openPlanId}`);
    expect(await warned.textContent()).toContain('Refused');
    expect(lead.errors).toEqual([]);
  });
});
