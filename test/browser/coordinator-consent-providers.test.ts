/**
 * A coordinator records consent that leaves out a provider she named, and later narrows it: the
 * form names the directory's organisations, the API's errors show on the field, no offer goes to a
 * provider left out, the page says her consent in words (and the consent it replaced), the change form
 * warns by name before ending an allocation, and after withdrawal the coordinator's note is on the
 * page (and marked as removed once her identity is erased). Real Chromium against the embedded stack.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatDate } from '../../web/src/format.ts';
import { axeScan, describeViolations, screenshot, signIn, startHarness, type Harness, type Json } from './support.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

const NOTE = 'She asked us to stop: she is moving in with her sister';
const live = (plan: Json) => (plan.allocations as Json[]).filter((a) => a.status === 'offered' || a.status === 'accepted');

describe('consent scoped to named providers', () => {
  it('records consent with all but one provider, narrows it with a named warning, and shows the withdrawal note', async () => {
    const coordinator = h.token('coordinator');
    const referred = await h.call('POST', '/plans', coordinator, {
      participant: { givenName: 'Ana', familyName: `Scoped${process.pid}`, dateOfBirth: '1991-05-06' },
      referral: { source: 'custody-diversion', localAuthority: 'sandwell', urgency: 'routine' },
    });
    expect(referred.status, referred.text).toBe(201);
    const planId = referred.json.planId as string;

    const { page, errors } = await h.page();
    await signIn(h, page, 'Demo coordinator', `/plan/${planId}`);
    const consent = page.getByRole('form', { name: 'Record consent' });
    await consent.waitFor();
    // All but the providers she names: with none ticked, the API's error is on the list of providers.
    await consent.getByRole('group', { name: 'Which providers may be told' }).getByLabel('Every provider except those she named').check();
    const named = consent.getByRole('group', { name: 'The providers she does not want told' });
    await named.getByLabel('Changing Lives').waitFor();
    expect(await named.getByRole('checkbox').count()).toBe(4);
    await consent.getByLabel('Written').check();
    await consent.getByRole('button', { name: 'Record consent' }).click();
    await expect.poll(() => consent.locator('#f-scope-providers-providerIds-error').textContent()).toContain('Choose at least one');
    expect(await named.getAttribute('aria-describedby')).toContain('f-scope-providers-providerIds-error');
    await expect.poll(() => page.getByRole('alert').first().textContent()).toContain('The providers she does not want told: Choose at least one');
    // Her scope contradicting itself reads in the form's words, not the API's field names.
    const categories = consent.getByRole('group', { name: 'What providers may know' });
    await categories.getByLabel('Needs').uncheck();
    await consent.getByRole('button', { name: 'Record consent' }).click();
    await expect.poll(() => consent.locator('#f-scope-dataCategories-error').textContent()).toContain('Choose at least one, or untick that she agrees providers may be told');
    expect(await consent.textContent()).not.toContain('shareWithProviders');
    await categories.getByLabel('Needs').check();
    for (const box of await named.getByRole('checkbox').all()) await box.check();
    await consent.getByRole('button', { name: 'Record consent' }).click();
    await expect.poll(() => consent.locator('#f-scope-providers-providerIds-error').textContent()).toContain('Every provider is ticked, so nobody could be told');
    expect(await consent.textContent()).not.toContain('shareWithProviders');
    for (const box of await named.getByRole('checkbox').all()) await box.uncheck();
    // With the keyboard, as anyone may: the box named by its label, ticked with the space bar.
    await named.getByLabel('Changing Lives').focus();
    await page.keyboard.press('Space');
    expect(await named.getByLabel('Changing Lives').isChecked()).toBe(true);
    await consent.getByRole('button', { name: 'Record consent' }).click();
    await page.getByRole('status').filter({ hasText: 'Consent recorded' }).waitFor();
    expect((await h.call('GET', `/plans/${planId}`, coordinator)).json.consent.scope).toEqual({
      shareWithProviders: true,
      dataCategories: ['needs'],
      providers: { kind: 'all-except', providerIds: ['changing-lives'] },
    });
    const herConsent = page.getByRole('region', { name: 'Her consent' });
    await expect.poll(() => herConsent.textContent()).toContain('Every provider except Changing Lives');

    // Assessed (through the API): accommodation goes to the other housing provider, never Changing Lives.
    const assessed = await h.call('POST', `/plans/${planId}/submit-assessment`, coordinator, {
      needs: [
        { domain: 'accommodation', level: 'high', priority: true },
        { domain: 'domestic-abuse', level: 'high', priority: true },
      ],
    });
    expect(assessed.status, assessed.text).toBe(200);
    expect(live(assessed.json).map((a: Json) => a.providerId).sort()).toEqual(['bcwa', 'green-square-accord']);
    for (const a of live(assessed.json)) expect((await h.call('POST', `/allocations/${a.allocationId}/accept`, h.token('provider', a.providerId), {})).status).toBe(200);

    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.getByRole('region', { name: 'Record a review' }).waitFor();
    const allocations = page.getByRole('region', { name: 'Allocations' });
    await expect.poll(() => allocations.locator('.allocation').allTextContents()).toHaveLength(2);
    expect((await allocations.locator('.allocation').allTextContents()).join(' ')).toContain('Green Square Accord');
    expect((await allocations.locator('.allocation').allTextContents()).join(' ')).not.toContain('Changing Lives');
    // Nor can one be offered by hand: its services are not listed, and the hint says why.
    await allocations.getByText('Offer a need to another service').click();
    const manual = allocations.getByRole('form', { name: 'Manual offer' });
    expect(await manual.getByLabel('Service').textContent()).not.toContain('Changing Lives');
    expect(await manual.textContent()).toContain('Not listed, as her consent does not cover them: Changing Lives.');

    // Narrowed further: the change form warns, by name, that Green Square Accord's allocation ends.
    await herConsent.getByText('Change her consent').click();
    const change = page.getByRole('form', { name: 'Change consent' });
    const except = change.getByRole('group', { name: 'The providers she does not want told' });
    expect(await except.getByLabel('Changing Lives').isChecked()).toBe(true);
    expect(await change.getByText('Before you save').count()).toBe(0);
    await except.getByLabel('Green Square Accord').check();
    const warning = change.locator('#change-consent-warning');
    await expect.poll(() => warning.textContent()).toContain(
      'Her consent would no longer cover Green Square Accord. Saving this change ends the allocation held by Green Square Accord (accommodation); it is told to stop and delete what it holds about her',
    );
    expect(await warning.getAttribute('aria-live')).toBe('polite');
    await change.getByLabel('Verbal').check();
    await change.getByLabel('Note (optional, kept on the plan)').fill('She knows someone at the housing office');
    expect(describeViolations(await axeScan(page))).toBe('');
    await screenshot(page, 'plan-change-consent-warning-desktop');
    await change.getByRole('button', { name: 'Change consent' }).click();
    await page.getByRole('status').filter({ hasText: 'Consent changed: Green Square Accord was told to stop and delete what it holds about her.' }).waitFor();

    // The allocation ended, the need a gap in words, the consent in words with the one it replaced.
    const after = (await h.call('GET', `/plans/${planId}`, coordinator)).json;
    expect(after.allocations.find((a: Json) => a.providerId === 'green-square-accord')).toMatchObject({ status: 'ended', outcome: 'consent-withdrawn' });
    expect(after.gaps).toMatchObject([{ domain: 'accommodation', reason: 'outside-consent' }]);
    // Nobody her consent covers could meet accommodation: a gap of her choosing, so the plan stays active (5ac2aa7).
    expect(after.stage).toBe('active');
    const proposal = page.getByRole('region', { name: 'Allocations' });
    await expect.poll(() => proposal.textContent()).toContain('Only providers her consent does not cover could meet it');
    await proposal.getByRole('button', { name: /Show all/ }).click();
    await expect.poll(() => proposal.locator('.allocation').filter({ hasText: 'Green Square Accord' }).textContent()).toContain('Ended: Consent withdrawn');
    const consentText = (await herConsent.textContent()) ?? '';
    expect(consentText).toContain('Every provider except Changing Lives and Green Square Accord');
    expect(consentText).toContain('She knows someone at the housing office');
    expect(consentText).toContain('Consents it replaced');
    expect(consentText).toContain('Providers: every provider except Changing Lives before, every provider except Changing Lives and Green Square Accord now');
    await page.getByRole('region', { name: 'Timeline' }).getByText('Consent changed').waitFor();

    // Given again through the same form, nothing typed: the last change's note is not sent again as this one's.
    expect(await change.getByLabel('Note (optional, kept on the plan)').inputValue()).toBe('');
    await change.getByLabel('Written').check();
    await change.getByRole('button', { name: 'Change consent' }).click();
    await page.getByRole('status').filter({ hasText: 'Consent given again: nothing changed.' }).waitFor();
    const givenAgain = (await h.call('GET', `/plans/${planId}`, coordinator)).json.consent;
    expect(givenAgain.reconfirmedAt).toBeDefined();
    expect(givenAgain.reconfirmedNote).toBeUndefined();
    // How she gave it again is kept with its date, and read where the date is.
    expect(givenAgain.reconfirmedMethod).toBe('written');
    await expect.poll(() => herConsent.textContent()).toMatch(/Given again, unchanged[^(]*\(written\)/);

    // Consent withdrawn, with a note: the coordinator reads it on the plan page.
    await page.getByRole('region', { name: 'End or withdraw' }).getByText('Consent withdrawn').click();
    const withdraw = page.getByRole('form', { name: 'Consent withdrawn' });
    await withdraw.getByLabel('Note (optional)').fill(NOTE);
    await withdraw.getByRole('button', { name: 'Record that consent is withdrawn' }).click();
    await page.getByRole('status').filter({ hasText: 'Consent withdrawn: support has ended' }).waitFor();
    await expect.poll(() => herConsent.textContent()).toContain(NOTE);
    expect(await herConsent.getByRole('heading', { name: 'Withdrawn' }).count()).toBe(1);
    // Nothing is shared any more, said plainly; what she had agreed to is history, not a "Shares with providers: Yes" still standing.
    expect(await herConsent.textContent()).toContain('nothing about her is shared with providers any more');
    expect(await herConsent.locator('dt', { hasText: 'Shares with providers' }).count()).toBe(0);
    const history = herConsent.locator('.consent-as-agreed');
    expect(await history.getByRole('heading', { name: 'What she had agreed to before' }).count()).toBe(1);
    expect(await history.locator('dt', { hasText: 'Shared with providers' }).locator('xpath=following-sibling::dd[1]').textContent()).toBe('Yes, until it was withdrawn');
    expect(await history.textContent()).toContain('Every provider except Changing Lives and Green Square Accord');
    const withdrawnAt = (await h.call('GET', `/plans/${planId}`, coordinator)).json.consent.withdrawnAt as string;
    const consentLine = page.getByRole('region', { name: 'Plan details' }).locator('dt', { hasText: 'Consent' }).locator('xpath=following-sibling::dd[1]');
    expect(await consentLine.textContent()).toContain(`; withdrawn ${formatDate(withdrawnAt)}`);
    expect(await page.getByRole('form', { name: 'Change consent' }).count()).toBe(0);
    await screenshot(page, 'plan-consent-withdrawn-desktop');
    expect(describeViolations(await axeScan(page))).toBe('');

    // A team lead reads the plan page too (case supervision): her consent and the note, and no form to change it.
    const lead = await h.page();
    await signIn(h, lead.page, 'Demo team-lead', `/plan/${planId}`);
    const leadConsent = lead.page.getByRole('region', { name: 'Her consent' });
    await expect.poll(() => leadConsent.textContent()).toContain(NOTE);
    expect(await leadConsent.textContent()).toContain('Every provider except Changing Lives and Green Square Accord');
    expect(await lead.page.getByText('Change her consent').count()).toBe(0);
    expect(lead.errors).toEqual([]);

    // Not for providers: BCWA's own view of its allocation does not carry it.
    const bcwa = after.allocations.find((a: Json) => a.providerId === 'bcwa');
    const providerView = await h.call('GET', `/allocations/${bcwa.allocationId}`, h.token('provider', 'bcwa'));
    expect(providerView.text).not.toContain('moving in with her sister');

    // Her identity erased: the note is shown as removed, like her other words.
    expect((await h.call('POST', `/plans/${planId}/erase-identity`, coordinator, { reason: 'her-request' })).status).toBe(200);
    await page.getByRole('button', { name: 'Refresh' }).click();
    await expect.poll(() => herConsent.textContent()).toContain('[removed at erasure]');
    expect(await herConsent.textContent()).not.toContain('moving in with her sister');
    expect(errors).toEqual([]);
  });

  it('never turns a provider she refused into one she agreed to when the kind of list changes, and names any provider a change newly covers', async () => {
    const coordinator = h.token('coordinator');
    const referred = await h.call('POST', '/plans', coordinator, {
      participant: { givenName: 'Bea', familyName: `Refused${process.pid}`, dateOfBirth: '1988-02-03' },
      referral: { source: 'court', localAuthority: 'sandwell', urgency: 'routine' },
    });
    expect(referred.status, referred.text).toBe(201);
    const planId = referred.json.planId as string;
    const { page, errors } = await h.page();
    await signIn(h, page, 'Demo coordinator', `/plan/${planId}`);

    // Record consent: a tick under "only" is not carried to "every provider except" (nor back).
    const consent = page.getByRole('form', { name: 'Record consent' });
    const kinds = (form: typeof consent) => form.getByRole('group', { name: 'Which providers may be told' });
    await kinds(consent).getByLabel('Only the providers she named').check();
    await consent.getByRole('group', { name: 'The providers she agrees may be told' }).getByLabel("Black Country Women's Aid").check();
    await kinds(consent).getByLabel('Every provider except those she named').check();
    const refusing = consent.getByRole('group', { name: 'The providers she does not want told' });
    expect(await refusing.getByLabel("Black Country Women's Aid").isChecked()).toBe(false);
    await refusing.getByLabel("Black Country Women's Aid").check();
    await consent.getByLabel('Written').check();
    await consent.getByRole('button', { name: 'Record consent' }).click();
    await page.getByRole('status').filter({ hasText: 'Consent recorded' }).waitFor();
    expect((await h.call('GET', `/plans/${planId}`, coordinator)).json.consent.scope.providers).toEqual({ kind: 'all-except', providerIds: ['bcwa'] });

    // Her domestic-abuse need only BCWA could meet: outside her consent, so no offer to BCWA.
    const assessed = await h.call('POST', `/plans/${planId}/submit-assessment`, coordinator, {
      needs: [
        { domain: 'domestic-abuse', level: 'high', priority: true },
        { domain: 'accommodation', level: 'medium', priority: true },
      ],
    });
    expect(assessed.status, assessed.text).toBe(200);
    expect(assessed.json.allocations.some((a: Json) => a.providerId === 'bcwa')).toBe(false);

    // The auditor's sequence: Change consent, "Only the providers she named", tick Green Square Accord.
    await page.getByRole('button', { name: 'Refresh' }).click();
    const herConsent = page.getByRole('region', { name: 'Her consent' });
    await herConsent.getByText('Change her consent').click();
    const change = page.getByRole('form', { name: 'Change consent' });
    expect(await change.getByRole('group', { name: 'The providers she does not want told' }).getByLabel("Black Country Women's Aid").isChecked()).toBe(true);
    await kinds(change).getByLabel('Only the providers she named').check();
    const agreeing = change.getByRole('group', { name: 'The providers she agrees may be told' });
    // The provider she refused is not ticked as one she agrees to.
    expect(await agreeing.getByLabel("Black Country Women's Aid").isChecked()).toBe(false);
    await agreeing.getByLabel('Green Square Accord').check();
    const warning = change.locator('#change-consent-warning');
    expect(await warning.textContent()).not.toContain("Black Country Women's Aid");

    // A change that would let BCWA be told is never silent: ticked here, or any provider chosen.
    await agreeing.getByLabel("Black Country Women's Aid").check();
    await expect.poll(() => warning.textContent()).toContain(
      "Black Country Women's Aid will now be told about her plan: her consent would cover it, so it may be offered support for her needs and read what she agreed providers may know.",
    );
    await agreeing.getByLabel("Black Country Women's Aid").uncheck();
    await expect.poll(() => warning.textContent()).not.toContain("Black Country Women's Aid");
    await kinds(change).getByLabel('Any provider in the directory').check();
    await expect.poll(() => warning.textContent()).toContain("Black Country Women's Aid will now be told about her plan");
    // Her refusal is still there under its own kind, and the providers she agreed to under theirs.
    await kinds(change).getByLabel('Every provider except those she named').check();
    expect(await change.getByRole('group', { name: 'The providers she does not want told' }).getByLabel("Black Country Women's Aid").isChecked()).toBe(true);
    await kinds(change).getByLabel('Only the providers she named').check();
    expect(await agreeing.getByLabel('Green Square Accord').isChecked()).toBe(true);
    expect(await agreeing.getByLabel("Black Country Women's Aid").isChecked()).toBe(false);
    expect(await warning.textContent()).not.toContain("Black Country Women's Aid");
    expect(describeViolations(await axeScan(page))).toBe('');

    await change.getByLabel('Verbal').check();
    await change.getByRole('button', { name: 'Change consent' }).click();
    await page.getByRole('status').filter({ hasText: 'Consent changed' }).waitFor();
    const after = (await h.call('GET', `/plans/${planId}`, coordinator)).json;
    expect(after.consent.scope.providers).toEqual({ kind: 'only', providerIds: ['green-square-accord'] });
    expect(after.allocations.filter((a: Json) => a.providerId === 'bcwa')).toEqual([]);
    expect(after.gaps).toContainEqual(expect.objectContaining({ domain: 'domestic-abuse', reason: 'outside-consent' }));
    await expect.poll(() => herConsent.textContent()).toContain('Only Green Square Accord');

    // Given again, unchanged, twice: a date on the consent standing, not two more consents replaced.
    const today = h.stack.clock.now().slice(0, 10);
    for (const note of ['Asked again at her review', 'Asked again by phone']) {
      const again = await h.call('POST', `/plans/${planId}/change-consent`, coordinator, { scope: after.consent.scope, givenAt: today, method: 'verbal', note });
      expect(again.status, again.text).toBe(200);
    }
    await page.getByRole('button', { name: 'Refresh' }).click();
    await expect.poll(() => herConsent.textContent()).toContain('Asked again by phone');
    const givenAgain = herConsent.locator('dt', { hasText: 'Given again, unchanged' }).locator('xpath=following-sibling::dd[1]');
    // The latest re-confirmation's note is the one the plan keeps; the day she gave it again is shown once, with how she gave it.
    expect(await givenAgain.textContent()).toBe(`${formatDate(today)} (verbal)Note: Asked again by phone`);
    expect(await herConsent.locator('.replaced-consents > li').count()).toBe(1);
    expect(await herConsent.locator('.replaced-consents').textContent()).not.toContain('Given again');
    // The timeline says which providers her recorded consent covered, as it does for a change.
    const timeline = page.getByRole('region', { name: 'Timeline' });
    await expect.poll(() => timeline.textContent()).toContain('Written; providers may know: needs; every provider except 1 provider she named');
    expect(describeViolations(await axeScan(page))).toBe('');
    await screenshot(page, 'plan-consent-given-again-desktop');

    // Two more changes, a note on the first: that note says why the consent it gave was given, next to it, not under what the next change changed.
    const why = 'She met the Anawim worker at court';
    const widened = await h.call('POST', `/plans/${planId}/change-consent`, coordinator, { scope: { ...after.consent.scope, providers: { kind: 'only', providerIds: ['anawim', 'green-square-accord'] } }, givenAt: today, method: 'verbal', note: why });
    expect(widened.status, widened.text).toBe(200);
    const narrowed = await h.call('POST', `/plans/${planId}/change-consent`, coordinator, { scope: after.consent.scope, givenAt: today, method: 'written' });
    expect(narrowed.status, narrowed.text).toBe(200);
    await page.getByRole('button', { name: 'Refresh' }).click();
    const entries = herConsent.locator('.replaced-consents > li');
    await expect.poll(() => entries.count()).toBe(3);
    expect(await entries.nth(0).locator('strong + p').textContent()).toBe(`Why it was given: ${why}`);
    expect(await entries.nth(0).textContent()).toContain('Providers: only Anawim and Green Square Accord before, only Green Square Accord now');
    expect(await entries.nth(1).textContent()).not.toContain(why);
    expect(errors).toEqual([]);
  });

  it('says a plan withdrawn before consent was recorded is withdrawn in its details too, as its consent section does', async () => {
    const coordinator = h.token('coordinator');
    const referred = await h.call('POST', '/plans', coordinator, {
      participant: { givenName: 'Cai', familyName: `Early${process.pid}`, dateOfBirth: '1993-07-08' },
      referral: { source: 'court', localAuthority: 'sandwell', urgency: 'routine' },
    });
    expect(referred.status, referred.text).toBe(201);
    const planId = referred.json.planId as string;
    const withdrawn = await h.call('POST', `/plans/${planId}/withdraw-consent`, coordinator, {});
    expect(withdrawn.status, withdrawn.text).toBe(200);
    // No consent to mark: only the exit says why (consentWithdrawnAt).
    expect(withdrawn.json.consent).toBeUndefined();
    const exitedAt = withdrawn.json.exit.exitedAt as string;
    const { page, errors } = await h.page();
    await signIn(h, page, 'Demo coordinator', `/plan/${planId}`);
    const herConsent = page.getByRole('region', { name: 'Her consent' });
    await expect.poll(() => herConsent.textContent()).toContain('No consent was recorded before it was withdrawn.');
    expect(await herConsent.textContent()).toContain(`Her consent was withdrawn on ${formatDate(exitedAt)}`);
    const consentLine = page.getByRole('region', { name: 'Plan details' }).locator('dt', { hasText: 'Consent' }).locator('xpath=following-sibling::dd[1]');
    expect(await consentLine.textContent()).toBe(`Not recorded; withdrawn ${formatDate(exitedAt)}`);
    expect(errors).toEqual([]);
  });

  it('names a provider that held an earlier offer when a change of her consent drops it, as the API tells it to delete what it holds', async () => {
    const coordinator = h.token('coordinator');
    const referred = await h.call('POST', '/plans', coordinator, {
      participant: { givenName: 'Dee', familyName: `Declined${process.pid}`, dateOfBirth: '1990-09-10' },
      referral: { source: 'court', localAuthority: 'sandwell', urgency: 'routine' },
    });
    expect(referred.status, referred.text).toBe(201);
    const planId = referred.json.planId as string;
    const today = h.stack.clock.now().slice(0, 10);
    const recorded = await h.call('POST', `/plans/${planId}/record-consent`, coordinator, { scope: { shareWithProviders: true, dataCategories: ['needs'], providers: { kind: 'all' } }, givenAt: today, method: 'written' });
    expect(recorded.status, recorded.text).toBe(200);
    const assessed = await h.call('POST', `/plans/${planId}/submit-assessment`, coordinator, { needs: [{ domain: 'domestic-abuse', level: 'high', priority: true }] });
    expect(assessed.status, assessed.text).toBe(200);
    // BCWA declines its offer: a past offer, but it was told about her, so dropping it from her consent tells it to delete what it holds.
    const offer = live(assessed.json).find((a: Json) => a.providerId === 'bcwa');
    expect(offer).toBeDefined();
    expect((await h.call('POST', `/allocations/${offer.allocationId}/decline`, h.token('provider', 'bcwa'), { reason: 'capacity' })).status).toBe(200);

    const { page, errors } = await h.page();
    await signIn(h, page, 'Demo coordinator', `/plan/${planId}`);
    const herConsent = page.getByRole('region', { name: 'Her consent' });
    await herConsent.getByText('Change her consent').click();
    const change = page.getByRole('form', { name: 'Change consent' });
    await change.getByRole('group', { name: 'Which providers may be told' }).getByLabel('Every provider except those she named').check();
    await change.getByRole('group', { name: 'The providers she does not want told' }).getByLabel("Black Country Women's Aid").check();
    const warning = change.locator('#change-consent-warning');
    await expect.poll(() => warning.textContent()).toContain(
      "Her consent would no longer cover Black Country Women's Aid. Saving this change tells Black Country Women's Aid, which held an earlier offer, to stop and delete what it holds about her.",
    );
    await change.getByLabel('Verbal').check();
    await change.getByRole('button', { name: 'Change consent' }).click();
    await page.getByRole('status').filter({ hasText: "Consent changed: Black Country Women's Aid was told to stop and delete what it holds about her." }).waitFor();
    // What the page said is what the API did: BCWA's declined offer was told to stop and purge.
    // The feed is written as the events are delivered, after the command's answer (here a few seconds on a busy machine): a bound on the wait, not on speed.
    const toldBcwa = async () => ((await h.call('GET', '/providers/bcwa/feed?limit=500', h.token('provider', 'bcwa'))).json.items as Json[]).filter((e) => e.subject === planId).map((e) => e.type);
    await expect.poll(toldBcwa, { timeout: 30_000 }).toContain('plan.consent-withdrawn.v1');
    expect(errors).toEqual([]);
  });
});
