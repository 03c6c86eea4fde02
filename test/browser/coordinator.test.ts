/**
 * A coordinator in the browser: a referral taken to an active plan (consent, the holistic
 * assessment, the proposal with its reasons; providers accept through the API), errors shown next to
 * the fields the API names, and a review with scores drawn across reviews.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planActive, screenshot, signIn, startHarness, type Harness } from './support.ts';
import { scanTable } from '../support/http.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

describe('coordinator', () => {
  it('takes a referral through consent and assessment to an active plan', async () => {
    const { page, errors } = await h.page();
    await signIn(h, page, 'Demo coordinator');
    await expect.poll(() => page.url()).toContain('/worklist');
    await page.getByRole('link', { name: 'New referral' }).first().click();
    await page.getByRole('heading', { level: 1, name: 'New referral' }).waitFor();

    // A date of birth in the future: the API's error appears next to that field, and in the summary.
    await page.getByLabel('Given name').fill('Jo');
    await page.getByLabel('Family name').fill('Example');
    await page.getByLabel('Date of birth').fill('2999-01-01');
    await page.getByLabel('Referred by').selectOption('custody-diversion');
    await page.getByLabel('Local authority').selectOption('sandwell');
    await page.getByRole('button', { name: 'Create the plan' }).click();
    const dobError = page.locator('#f-participant-dateOfBirth-error');
    await expect.poll(() => dobError.textContent()).toContain('must not be in the future');
    expect(await page.getByLabel('Date of birth').getAttribute('aria-invalid')).toBe('true');
    await expect.poll(() => page.getByRole('alert').first().textContent()).toContain('Date of birth: must not be in the future');
    await screenshot(page, 'referral-error-desktop');

    await page.getByLabel('Date of birth').fill('1990-04-01');
    // How to reach her safely, and an address whose postcode is not one: its error is next to it.
    await page.getByLabel('Phone (optional)').fill('07700 900456');
    await page.getByLabel('How she wants to be contacted (optional)').selectOption('text-message');
    await page.getByRole('group', { name: 'Safe to leave a voicemail?' }).getByLabel('No', { exact: true }).check();
    await page.getByLabel('Address line 1').fill('1 Example Street');
    await page.getByLabel('Postcode (optional)').fill('B1 1AAA');
    await page.getByRole('button', { name: 'Create the plan' }).click();
    await expect.poll(() => page.locator('#f-participant-address-postcode-error').textContent()).toContain('must be a UK postcode');
    expect(await page.getByLabel('Postcode (optional)').getAttribute('aria-invalid')).toBe('true');
    await page.getByLabel('Postcode (optional)').fill('b1 1aa');
    await page.getByRole('button', { name: 'Create the plan' }).click();
    await page.waitForURL(/\/plan\/pl_/);
    const planId = new URL(page.url()).pathname.split('/')[2] as string;
    await page.getByText('Referral recorded').waitFor();
    // Her contact details on the plan page, the safety answer first.
    const contactDetails = page.getByRole('region', { name: 'Contact details' });
    await contactDetails.getByText('07700 900456').waitFor();
    expect(await contactDetails.textContent()).toContain('Never leave a voicemail');
    expect(await contactDetails.textContent()).toContain('1 Example Street, B1 1AA');
    // She has a new number: the coordinator corrects it on the plan page, the rest stays as it was.
    await contactDetails.getByText('Change her contact details').click();
    const correction = page.getByRole('form', { name: 'Change her contact details' });
    await correction.getByLabel('Phone (optional)').fill('0121 496 0000');
    await correction.getByRole('button', { name: 'Save the contact details' }).click();
    await page.getByText('Contact details saved.').waitFor();
    await contactDetails.getByText('0121 496 0000').waitFor();
    expect(await contactDetails.textContent()).toContain('Never leave a voicemail');

    // Consent: shared needs by default; the method is left to choose.
    const consent = page.getByRole('form', { name: 'Record consent' });
    await consent.getByRole('button', { name: 'Record consent' }).click();
    await expect.poll(() => consent.locator('#f-method-error').textContent()).toMatch(/Choose one of the options|is required/);
    await consent.getByLabel('Written').check();
    await consent.getByRole('button', { name: 'Record consent' }).click();
    // The notice (the timeline may say it too once the history is read again).
    await page.getByRole('status').filter({ hasText: 'Consent recorded' }).waitFor();

    // The holistic assessment: three needs, two of them priorities, a goal, a risk and an adjustment.
    const assessment = page.getByRole('form', { name: 'Holistic needs assessment' });
    await assessment.getByLabel('Domestic abuse', { exact: true }).check();
    await assessment.getByRole('group', { name: 'Domestic abuse: level' }).getByLabel('High').check();
    await assessment.locator('#f-needs-domestic-abuse-priority').check();
    await assessment.getByLabel('Domestic abuse: goals').fill('Feel safe at home\nKnow where to get help');
    await assessment.getByLabel('Accommodation', { exact: true }).check();
    await assessment.locator('#f-needs-accommodation-priority').check();
    await assessment.getByLabel('Trauma', { exact: true }).check();
    await assessment.getByRole('group', { name: 'Trauma: level' }).getByLabel('Low').check();
    await assessment.getByLabel('Domestic abuse risk').selectOption('medium');
    await assessment.getByRole('group', { name: 'Risk of self-harm' }).getByLabel('No').check();
    await assessment.getByRole('group', { name: 'Children at risk (safeguarding)' }).getByLabel('No').check();
    await assessment.getByLabel('Female worker').check();
    // Accommodation has no level yet: the error lands on that need's row.
    await assessment.getByRole('button', { name: 'Submit the assessment' }).click();
    await expect.poll(() => assessment.locator('#f-needs-accommodation-level-error').textContent()).toMatch(/Choose one of the options|is required/);
    await assessment.getByRole('group', { name: 'Accommodation: level' }).getByLabel('Medium').check();
    await assessment.getByRole('button', { name: 'Submit the assessment' }).click();

    // The proposal, with why each provider was chosen.
    const proposal = page.getByRole('region', { name: 'Allocation proposal' });
    await proposal.waitFor();
    await expect.poll(() => proposal.locator('.allocation').count()).toBe(2);
    const text = (await proposal.textContent()) ?? '';
    expect(text).toContain("Black Country Women's Aid");
    expect(text).toContain('Changing Lives');
    expect(text).toMatch(/Why: Covers domestic abuse \(priority\)/);
    expect(text).toContain('Answer due');
    await screenshot(page, 'plan-allocating-desktop');

    // The providers accept (through the API: the provider's own screens are tested apart).
    const plan = (await h.call('GET', `/plans/${planId}`, h.token('coordinator'))).json;
    expect(plan.stage).toBe('allocating');
    expect(plan.needs.find((n: { domain: string }) => n.domain === 'domestic-abuse').goals).toEqual(['Feel safe at home', 'Know where to get help']);
    for (const a of plan.allocations) expect((await h.call('POST', `/allocations/${a.allocationId}/accept`, h.token('provider', a.providerId), {})).status).toBe(200);

    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.getByRole('region', { name: 'Record a review' }).waitFor();
    expect(await page.locator('.page-head .badge').textContent()).toBe('Active');
    const timeline = (await page.getByRole('region', { name: 'Timeline' }).textContent()) ?? '';
    for (const step of ['Referred', 'Consent recorded', 'Assessment recorded', 'Providers proposed', "Black Country Women's Aid accepted", 'Plan active']) expect(timeline).toContain(step);
    await screenshot(page, 'plan-active-desktop');
    expect(errors).toEqual([]);
  });

  it('records a review with scores and draws each need across reviews', async () => {
    const plan = await planActive(h, {
      needs: [
        { domain: 'domestic-abuse', level: 'high', priority: true },
        { domain: 'accommodation', level: 'medium', priority: true },
      ],
    });
    const first = await h.call('POST', `/plans/${plan.planId}/record-review`, h.token('coordinator'), { scores: { 'domestic-abuse': 3, accommodation: 5 }, outcome: 'continue' });
    expect(first.status, first.text).toBe(200);

    const { page, errors } = await h.page();
    await signIn(h, page, 'Demo coordinator', `/plan/${plan.planId}`);
    const review = page.getByRole('form', { name: 'Review 2' });
    await review.waitFor();
    // Nothing scored: the API's error shows on the scores.
    await review.getByRole('button', { name: 'Record review 2' }).click();
    await expect.poll(() => review.locator('#f-scores-error').textContent()).toContain('score at least one need domain');

    await review.getByLabel('Domestic abuse').selectOption('6');
    await review.getByLabel('Accommodation').selectOption('7');
    await review.getByLabel('In her own words (optional)').fill('Feeling safer, and the flat is sorted.');
    await review.getByRole('button', { name: 'Record review 2' }).click();
    await page.getByText('Review 2 recorded.').waitFor();

    const after = (await h.call('GET', `/plans/${plan.planId}`, h.token('coordinator'))).json;
    expect(after.reviews.map((r: { scores: object }) => r.scores)).toEqual([
      { 'domestic-abuse': 3, accommodation: 5 },
      { 'domestic-abuse': 6, accommodation: 7 },
    ]);
    expect(after.reviews[1].participantWords).toBe('Feeling safer, and the flat is sorted.');

    const chart = page.getByRole('img', { name: /Scores by need across reviews/ });
    expect(await chart.getAttribute('aria-label')).toContain('Domestic abuse: 3, 6');
    await page.getByText('Show the data of “Scores by need across reviews”').click();
    const table = page.getByRole('region', { name: 'Scores by need across reviews: data' });
    expect(await table.getByRole('row').count()).toBe(3);
    await screenshot(page, 'plan-review-desktop');
    expect(errors).toEqual([]);
  });

  it("keeps another coordinator's correction of her contact details: only what changed is sent, and not over a newer change", async () => {
    const coordinator = h.token('coordinator');
    const referred = await h.call('POST', '/plans', coordinator, {
      participant: { givenName: 'Dee', familyName: `Twotabs${process.pid}`, dateOfBirth: '1988-03-04', contact: { phone: '07700 900111', preferredMethod: 'text-message' } },
      referral: { source: 'custody-diversion', localAuthority: 'sandwell', urgency: 'routine' },
    });
    expect(referred.status, referred.text).toBe(201);
    const planId = referred.json.planId as string;
    // Three tabs on her plan, all read before anyone saves.
    const tabs = [];
    for (let i = 0; i < 3; i += 1) {
      const { page, errors } = await h.page();
      await signIn(h, page, 'Demo coordinator', `/plan/${planId}`);
      const form = page.getByRole('form', { name: 'Change her contact details' });
      await page.getByRole('region', { name: 'Contact details' }).getByText('Change her contact details').click();
      await form.getByLabel('Phone (optional)').waitFor();
      tabs.push({ page, errors, form });
    }
    const [first, second, third] = tabs as [(typeof tabs)[number], (typeof tabs)[number], (typeof tabs)[number]];
    const held = async () => (await h.call('GET', `/plans/${planId}`, coordinator)).json.participant;

    // The first adds a safety note.
    await first.form.getByLabel('Anything else about contacting her safely (optional)').fill('Her partner reads her texts after 6pm');
    await first.form.getByRole('button', { name: 'Save the contact details' }).click();
    await first.page.getByText('Contact details saved.').waitFor();

    // The second, still showing her details without the note, changes the phone: refused (412), nothing lost.
    await second.form.getByLabel('Phone (optional)').fill('0121 496 0000');
    await second.form.getByRole('button', { name: 'Save the contact details' }).click();
    await expect.poll(() => second.page.getByRole('alert').first().textContent()).toContain('Someone else changed her contact details while you were editing: nothing was saved');
    expect((await held()).contact).toEqual({ phone: '07700 900111', preferredMethod: 'text-message', safetyNote: 'Her partner reads her texts after 6pm' });
    // Her details as held now are shown; what she typed is still in the form.
    await expect.poll(() => second.page.getByRole('region', { name: 'Contact details' }).locator('dl').first().textContent()).toContain('Her partner reads her texts after 6pm');
    expect(await second.form.getByLabel('Phone (optional)').inputValue()).toBe('0121 496 0000');

    // The third changes only her address: the note landed on another part, so it is saved on top of it, and the note stays.
    await third.form.getByLabel('Address line 1').fill('2 New Road');
    await third.form.getByLabel('Postcode (optional)').fill('B70 1AA');
    await third.form.getByRole('button', { name: 'Save the contact details' }).click();
    await third.page.getByText('Contact details saved. Someone else changed her contact details meanwhile: that change is kept too.').waitFor();
    const after = await held();
    expect(after.address).toEqual({ lines: ['2 New Road'], postcode: 'B70 1AA' });
    expect(after.contact.safetyNote).toBe('Her partner reads her texts after 6pm');
    await expect.poll(() => third.page.getByRole('region', { name: 'Contact details' }).textContent()).toContain('Her partner reads her texts after 6pm');
    // Its form now shows the note too, so its next correction (the postcode again) cannot send her contact details back without it.
    expect(await third.form.getByLabel('Anything else about contacting her safely (optional)').inputValue()).toBe('Her partner reads her texts after 6pm');
    await third.form.getByLabel('Postcode (optional)').fill('B70 1AB');
    await third.form.getByRole('button', { name: 'Save the contact details' }).click();
    await third.page.getByText('Contact details saved.', { exact: true }).waitFor();
    const later = await held();
    expect(later.address).toEqual({ lines: ['2 New Road'], postcode: 'B70 1AB' });
    expect(later.contact).toEqual({ phone: '07700 900111', preferredMethod: 'text-message', safetyNote: 'Her partner reads her texts after 6pm' });
    for (const tab of tabs) expect(tab.errors).toEqual([]);
  });

  it('offers the change of her contact details only where the API accepts it: on an exited plan (its follow-ups still ask her), not on a withdrawn one', async () => {
    const coordinator = h.token('coordinator');
    const refer = async (familyName: string) => {
      const res = await h.call('POST', '/plans', coordinator, {
        participant: { givenName: 'Ines', familyName, dateOfBirth: '1984-07-08', contact: { phone: '07700 900141', preferredMethod: 'phone-call' } },
        referral: { source: 'custody-diversion', localAuthority: 'sandwell', urgency: 'routine' },
      });
      expect(res.status, res.text).toBe(201);
      return res.json.planId as string;
    };
    const withdrawn = await refer(`Ended${process.pid}`);
    expect((await h.call('POST', `/plans/${withdrawn}/withdraw`, coordinator, { reason: 'unreachable' })).status).toBe(200);
    const exited = await refer(`Followed${process.pid}`);
    const today = h.stack.clock.now().slice(0, 10);
    expect((await h.call('POST', `/plans/${exited}/record-consent`, coordinator, { scope: { shareWithProviders: true, dataCategories: ['needs'] }, givenAt: today, method: 'written' })).status).toBe(200);
    expect((await h.call('POST', `/plans/${exited}/exit`, coordinator, { reason: 'disengaged' })).status).toBe(200);

    const { page, errors } = await h.page();
    await signIn(h, page, 'Demo coordinator', `/plan/${withdrawn}`);
    const region = page.getByRole('region', { name: 'Contact details' });
    await region.getByText('nobody contacts her about it any more').waitFor();
    expect(await region.getByText('Change her contact details').count()).toBe(0);
    // As the API says: refused, nothing saved.
    const refused = await h.call('PATCH', `/plans/${withdrawn}/participant`, coordinator, { preferredName: 'Nes' });
    expect(refused.status, refused.text).toBe(409);
    expect(refused.json.detail).toContain('is withdrawn: nobody contacts her about it any more');

    await page.goto(`${h.url}/plan/${exited}`);
    await region.getByText('Change her contact details').waitFor();
    expect(await region.getByText('nobody contacts her about it any more').count()).toBe(0);
    expect(errors).toEqual([]);
  });

  it('tells her plainly when another correction lands while hers is on its way, shows the details as now held and keeps what she typed', async () => {
    const coordinator = h.token('coordinator');
    const referred = await h.call('POST', '/plans', coordinator, {
      participant: { givenName: 'Fen', familyName: `Narrow${process.pid}`, dateOfBirth: '1986-05-06', contact: { phone: '07700 900121', preferredMethod: 'phone-call' } },
      referral: { source: 'custody-diversion', localAuthority: 'sandwell', urgency: 'routine' },
    });
    expect(referred.status, referred.text).toBe(201);
    const planId = referred.json.planId as string;
    const { page, errors } = await h.page();
    await signIn(h, page, 'Demo coordinator', `/plan/${planId}`);
    const region = page.getByRole('region', { name: 'Contact details' });
    await region.getByText('Change her contact details').click();
    const form = page.getByRole('form', { name: 'Change her contact details' });
    await form.getByLabel('Phone (optional)').waitFor();
    // Her correction leaves the page; just before it reaches the API, another coordinator's lands.
    let raced = false;
    await page.route('**/participant', async (route) => {
      if (route.request().method() === 'PATCH' && !raced) {
        raced = true;
        const other = await h.call('PATCH', `/plans/${planId}/participant`, coordinator, { contact: { phone: '07700 900999', preferredMethod: 'text-message', safeToText: true } });
        expect(other.status, other.text).toBe(200);
      }
      await route.continue();
    });
    await form.getByLabel('Anything else about contacting her safely (optional)').fill('Use the code word Bluebell');
    await form.getByRole('button', { name: 'Save the contact details' }).click();
    await expect.poll(() => page.getByRole('alert').first().textContent()).toContain('Someone else changed her contact details while you were editing: nothing was saved');
    expect(raced).toBe(true);
    // Nothing of hers overwrote theirs.
    expect((await h.call('GET', `/plans/${planId}`, coordinator)).json.participant.contact).toEqual({ phone: '07700 900999', preferredMethod: 'text-message', safeToText: true });
    // The page shows the details as held now, and the form still holds what she typed.
    await expect.poll(() => region.locator('dl').first().textContent()).toContain('07700 900999');
    expect(await form.getByLabel('Anything else about contacting her safely (optional)').inputValue()).toBe('Use the code word Bluebell');
    await screenshot(page, 'correction-changed-elsewhere-desktop');
    expect(errors).toEqual([]);
  });

  it("says on the new plan which of a re-referral's details were not written, when her record was corrected meanwhile", async () => {
    const coordinator = h.token('coordinator');
    const woman = { givenName: 'Gail', familyName: `Kept${process.pid}`, dateOfBirth: '1989-09-10' };
    const first = await h.call('POST', '/plans', coordinator, { participant: { ...woman, contact: { phone: '07700 900131' } }, referral: { source: 'custody-diversion', localAuthority: 'sandwell', urgency: 'routine' } });
    expect(first.status, first.text).toBe(201);
    expect((await h.call('POST', `/plans/${first.json.planId}/withdraw`, coordinator, { reason: 'unreachable' })).status).toBe(200);
    // While the new referral is being recorded, just before her new details are written, another coordinator corrects her preferred name
    // on the new plan, saved by then (her earlier plan, withdrawn, contacts her no more: her details are not changed on it).
    let corrected: { status: number; text: string } | undefined;
    const planInUse = async () =>
      (await scanTable(h.stack))
        .filter((i) => i.sk === 'PLAN')
        .map((i) => ({ ...i, ...((i['planGzip (unzipped)'] as Record<string, unknown> | undefined) ?? {}) }))
        .find((p) => p.participantId === first.json.participantId && p.planId !== first.json.planId)?.planId;
    const participantKey = `PARTICIPANT#${first.json.participantId as string}`;
    h.stack.plans.client.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { Key?: { pk?: unknown }; UpdateExpression?: unknown };
        if (!corrected && /^Update(Item)?Command$/.test(String(context.commandName)) && input.Key?.pk === participantKey && /#address =/.test(String(input.UpdateExpression)))
          corrected = await h.call('PATCH', `/plans/${String(await planInUse())}/participant`, coordinator, { preferredName: 'Gee' });
        return next(args);
      },
      { step: 'initialize', name: 'preferredNameCorrectedMeanwhile' },
    );
    try {
      const { page, errors } = await h.page();
      await signIn(h, page, 'Demo coordinator', '/referrals/new');
      await page.getByRole('heading', { level: 1, name: 'New referral' }).waitFor();
      await page.getByLabel('Given name').fill(woman.givenName);
      await page.getByLabel('Family name').fill(woman.familyName);
      await page.getByLabel('Date of birth').fill(woman.dateOfBirth);
      await page.getByLabel('Preferred name (optional)').fill('Gaily');
      await page.getByLabel('Phone (optional)').fill('07700 900132');
      await page.getByLabel('Address line 1').fill('Refuge, address withheld');
      await page.getByLabel('Postcode (optional)').fill('B70 1AD');
      await page.getByLabel('Referred by').selectOption('custody-diversion');
      await page.getByLabel('Local authority').selectOption('sandwell');
      await page.getByRole('button', { name: 'Create the plan' }).click();
      await page.waitForURL(/\/plan\/pl_/);
      expect(corrected?.status, corrected?.text).toBe(200);
      await page.getByText('Referral recorded').waitFor();
      const notice = page.getByText('The preferred name given in this referral was not written to her record');
      await notice.waitFor();
      expect(await notice.textContent()).toContain('a correction of her record made while the referral was being recorded is kept instead. Her contact details and address from this referral are now held.');
      expect(await page.getByRole('link', { name: 'Check her contact details' }).getAttribute('href')).toBe('#contact-details');
      // Shown as held: the correction's preferred name, the referral's number.
      const region = page.getByRole('region', { name: 'Contact details' });
      await expect.poll(() => region.locator('dl').first().textContent()).toContain('Gee');
      expect(await region.locator('dl').first().textContent()).toContain('07700 900132');
      // Field names in the address bar, never her details.
      expect(page.url()).not.toMatch(/Gaily|Gee|07700|Refuge/);
      await screenshot(page, 'rereferral-details-kept-desktop');
      expect(errors).toEqual([]);
    } finally {
      h.stack.plans.client.middlewareStack.remove('preferredNameCorrectedMeanwhile');
    }
  });

  it('links a re-referral to her earlier plan, and erases her identity on request once confirmed and none of her plans is open', async () => {
    const coordinator = h.token('coordinator');
    const participant = { givenName: 'Eve', familyName: `Erase${process.pid}`, dateOfBirth: '1991-07-08', contact: { phone: '07700 900222' } };
    const referral = { source: 'custody-diversion', localAuthority: 'sandwell', urgency: 'routine' };
    const first = await h.call('POST', '/plans', coordinator, { participant, referral });
    expect(first.status, first.text).toBe(201);
    expect((await h.call('POST', `/plans/${first.json.planId}/withdraw`, coordinator, { reason: 'unreachable' })).status).toBe(200);
    const again = await h.call('POST', '/plans', coordinator, { participant, referral });
    expect(again.status, again.text).toBe(201);
    const planId = again.json.planId as string;

    const { page, errors } = await h.page();
    await signIn(h, page, 'Demo coordinator', `/plan/${planId}`);
    await page.getByRole('heading', { level: 1, name: /Eve Erase/ }).waitFor();
    // Her earlier plan is one click away.
    await page.getByRole('link', { name: first.json.planId }).click();
    await expect.poll(() => new URL(page.url()).pathname).toBe(`/plan/${first.json.planId}`);
    await page.getByRole('heading', { level: 1, name: new RegExp(first.json.planId) }).waitFor();
    await page.goBack();
    await page.getByRole('heading', { level: 1, name: new RegExp(planId) }).waitFor();

    // She asks for her details to be erased: not without a reason and a confirmation.
    await page.locator('summary').filter({ hasText: 'Erase her identity' }).click();
    const erase = page.getByRole('form', { name: 'Erase her identity' });
    await erase.getByRole('button', { name: 'Erase her identity' }).click();
    await expect.poll(() => erase.locator('#erase-f-confirm-error').textContent()).toContain('cannot be undone');
    expect((await h.call('GET', `/plans/${planId}`, coordinator)).json.participant).toBeDefined();
    await erase.getByLabel('I understand this cannot be undone').check();
    await erase.getByRole('button', { name: 'Erase her identity' }).click();
    await expect.poll(() => erase.locator('#erase-f-reason-error').textContent()).toContain('must be one of');
    await erase.getByLabel('Why').selectOption('her-request');
    // Not while this plan of hers is open: the form says so and what to do first, and nothing is erased.
    await erase.getByRole('button', { name: 'Erase her identity' }).click();
    const refusal = erase.getByRole('alert');
    await expect.poll(() => refusal.textContent()).toContain('This could not be done now');
    expect(await refusal.textContent()).toContain('Her identity cannot be erased while a plan of hers is open. This plan (stage referred): withdraw the referral or record her consent withdrawn first, then ask again.');
    expect((await h.call('GET', `/plans/${planId}`, coordinator)).json.participant).toBeDefined();
    await screenshot(page, 'plan-erase-refused-desktop');
    expect((await h.call('POST', `/plans/${planId}/withdraw`, coordinator, { reason: 'declined-support' })).status).toBe(200);
    await erase.getByRole('button', { name: 'Erase her identity' }).click();
    await page.getByRole('status').filter({ hasText: 'Her identity is erased' }).waitFor();
    const erased = page.getByRole('region', { name: 'Her identity' });
    await expect.poll(() => erased.textContent()).toContain('Erased on');
    expect(await page.getByRole('region', { name: 'Contact details' }).count()).toBe(0);
    expect(await page.locator('body').textContent()).not.toContain('Eve');
    for (const id of [planId, first.json.planId]) {
      const held = (await h.call('GET', `/plans/${id}`, coordinator)).json;
      expect(held.participant).toBeUndefined();
      expect(held.identityErasedAt).toBeDefined();
    }
    await screenshot(page, 'plan-identity-erased-desktop');
    expect(errors).toEqual([]);
  });

  it('refuses a second referral while her plan is open, with a link to that plan', async () => {
    const referred = await h.call('POST', '/plans', h.token('coordinator'), {
      participant: { givenName: 'Fay', familyName: `Again${process.pid}`, dateOfBirth: '1979-09-10' },
      referral: { source: 'custody-diversion', localAuthority: 'dudley', urgency: 'routine' },
    });
    expect(referred.status, referred.text).toBe(201);
    const { page, errors } = await h.page();
    await signIn(h, page, 'Demo coordinator', '/referrals/new');
    await page.getByLabel('Given name').fill('Fay');
    await page.getByLabel('Family name').fill(`Again${process.pid}`);
    await page.getByLabel('Date of birth').fill('1979-09-10');
    await page.getByLabel('Referred by').selectOption('custody-diversion');
    await page.getByLabel('Local authority').selectOption('dudley');
    await page.getByRole('button', { name: 'Create the plan' }).click();
    await page.getByRole('link', { name: `open her plan ${referred.json.planId}` }).click();
    await expect.poll(() => new URL(page.url()).pathname).toBe(`/plan/${referred.json.planId}`);
    await page.getByRole('heading', { level: 1, name: /Fay Again/ }).waitFor();
    expect(errors).toEqual([]);
  });

  it('pages through a stage with more plans than one page holds, and says when a list may leave plans out', async () => {
    const coordinator = h.token('coordinator');
    for (let i = 0; i < 101; i += 1) {
      const r = await h.call('POST', '/plans', coordinator, {
        // Her names tell the 101 women apart (letters: the match on her identity ignores digits), both of them:
        // a given name shared with the same date of birth would be warned of as a possible duplicate.
        participant: { givenName: `Many${String.fromCharCode(97 + Math.floor(i / 26), 97 + (i % 26))}`, familyName: `Pages${String.fromCharCode(97 + Math.floor(i / 26), 97 + (i % 26))}`, dateOfBirth: '1985-05-05' },
        referral: { source: 'custody-diversion', localAuthority: 'walsall', urgency: 'routine' },
      });
      expect(r.status, r.text).toBe(201);
    }
    let referred = 0;
    for (let cursor: string | null = null, first = true; first || cursor; first = false) {
      const page: { json: { items: unknown[]; nextCursor: string | null } } = await h.call('GET', `/plans?stage=referred&limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, coordinator);
      referred += page.json.items.length;
      cursor = page.json.nextCursor;
    }
    expect(referred).toBeGreaterThan(100);

    const { page, errors } = await h.page();
    await signIn(h, page, 'Demo coordinator', '/worklist?view=all&stage=referred');
    const list = page.locator('ul.plan-list > li');
    await expect.poll(() => list.count()).toBe(100);
    await page.getByRole('button', { name: 'Show more plans' }).click();
    await expect.poll(() => list.count()).toBe(referred);
    expect(await page.getByRole('button', { name: 'Show more plans' }).count()).toBe(0);

    // Every open stage at once comes in one page: the list says it may not be all.
    await page.getByRole('combobox', { name: 'Stage' }).selectOption('');
    await expect.poll(() => page.getByRole('note').first().textContent()).toContain('Showing the 100 plans changed most recently; there may be more');
    expect(errors).toEqual([]);
  });

  it('says next to the address why one is needed when she asks for letters', async () => {
    const referred = await h.call('POST', '/plans', h.token('coordinator'), {
      participant: { givenName: 'Ivy', familyName: `Letters${process.pid}`, dateOfBirth: '1975-01-02' },
      referral: { source: 'custody-diversion', localAuthority: 'birmingham', urgency: 'routine' },
    });
    expect(referred.status, referred.text).toBe(201);
    const { page, errors } = await h.page();
    await signIn(h, page, 'Demo coordinator', `/plan/${referred.json.planId}`);
    await page.getByRole('region', { name: 'Contact details' }).getByText('Change her contact details').click();
    const correction = page.getByRole('form', { name: 'Change her contact details' });
    await correction.getByLabel('How she wants to be contacted (optional)').selectOption('letter');
    await correction.getByRole('button', { name: 'Save the contact details' }).click();
    await expect.poll(() => correction.locator('#correct-f-address-lines-0-error').textContent()).toContain('required when the preferred method is letter');
    expect(await correction.getByLabel('Address line 1').getAttribute('aria-invalid')).toBe('true');
    expect(errors).toEqual([]);
  });
});
