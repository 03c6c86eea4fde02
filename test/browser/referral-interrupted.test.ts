/**
 * A referral of her interrupted before it finished (its plan write and the release of its claim on
 * her person record both failed, as when a process stops), in Chromium: the coordinator referring her
 * is told, next to the form, that a referral of her is in progress or was interrupted and from when
 * she can be referred again (in London time, and in how many minutes); and the coordinator whose own
 * referral was interrupted gets it recorded by sending the form again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { londonDateTimeWords } from '../../lib/domain/calendar.ts';
import type { Page } from 'playwright-core';
import { injectFaults, type FaultInjector } from '../security/support.ts';
import { signIn, startHarness, type Harness } from './support.ts';

let h: Harness;
let faults: FaultInjector;

beforeAll(async () => {
  h = await startHarness();
  faults = injectFaults(h.stack);
}, 60_000);

afterAll(async () => {
  await h?.stop();
});

const pkOf = (input: Record<string, unknown>) => String((input.Item as { pk?: unknown } | undefined)?.pk ?? (input.Key as { pk?: unknown } | undefined)?.pk ?? '');
/** The referral's plan write fails, and so does the release of its claim: it dies holding her person record. */
const diesHoldingClaim = (name: string, input: Record<string, unknown>) =>
  (name.startsWith('Put') && pkOf(input).startsWith('PLAN#')) || (name.startsWith('Update') && pkOf(input).startsWith('PERSON#') && input.UpdateExpression === 'REMOVE claim');

const woman = (givenName: string, dateOfBirth: string) => ({ givenName, familyName: `Interrupted${process.pid}`, dateOfBirth });

async function fillReferral(page: Page, participant: { givenName: string; familyName: string; dateOfBirth: string }) {
  await page.getByRole('heading', { level: 1, name: 'New referral' }).waitFor();
  await page.getByLabel('Given name').fill(participant.givenName);
  await page.getByLabel('Family name').fill(participant.familyName);
  await page.getByLabel('Date of birth').fill(participant.dateOfBirth);
  await page.getByLabel('Referred by').selectOption('custody-diversion');
  await page.getByLabel('Local authority').selectOption('sandwell');
}

describe('a referral of her interrupted before it finished', () => {
  it('tells the coordinator referring her when a new referral of her is possible', async () => {
    const participant = woman('Rhian', '1987-06-23');
    faults.set(diesHoldingClaim);
    const claimedAt = h.stack.clock.now();
    const died = await h.call('POST', '/plans', h.token('coordinator'), { participant, referral: { source: 'custody-diversion', localAuthority: 'sandwell', urgency: 'routine' } });
    faults.clear();
    expect(died.status, died.text).toBeGreaterThanOrEqual(500);

    const { page, errors } = await h.page();
    await signIn(h, page, 'Demo coordinator', '/referrals/new');
    await fillReferral(page, participant);
    await page.getByRole('button', { name: 'Create the plan' }).click();
    const summary = page.locator('.error-summary');
    await summary.waitFor();
    // Six minutes after the claim, its minute rounded up (the simulated clock stands still).
    const possibleAt = londonDateTimeWords(new Date(Math.ceil((Date.parse(claimedAt) + 6 * 60_000) / 60_000) * 60_000).toISOString());
    const text = await summary.innerText();
    expect(text).toContain('This could not be done now');
    expect(text).toContain('A referral of this person is in progress, or was interrupted before it finished');
    expect(text).toContain(`A new referral of her will be possible from ${possibleAt} (London time, in 6 minutes)`);
    // The refusal is about her, not a field: named by the group's legend, and its link lands on the group.
    const link = summary.getByRole('link');
    expect(await link.innerText()).toMatch(/^The woman referred: /);
    await link.click();
    expect(await page.locator(':focus > legend').innerText()).toBe('The woman referred');
    expect(new URL(page.url()).pathname).toBe('/referrals/new');
    expect(errors).toEqual([]);
  });

  it("records the coordinator's own interrupted referral when she sends the form again", async () => {
    const participant = woman('Sian', '1991-09-17');
    const { page, errors } = await h.page();
    await signIn(h, page, 'Demo coordinator', '/referrals/new');
    await fillReferral(page, participant);
    faults.set(diesHoldingClaim);
    await page.getByRole('button', { name: 'Create the plan' }).click();
    await page.locator('.error-summary').waitFor();
    faults.clear();

    // Sent again (as the error invites): the same referral, so it finishes rather than being refused for six minutes.
    await page.getByRole('button', { name: 'Create the plan' }).click();
    await page.waitForURL(/\/plan\/pl_/);
    await page.getByText('Referral recorded').waitFor();
    expect(errors).toEqual([]);
  });
});
