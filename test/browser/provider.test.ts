/**
 * A provider in the browser: two offers in its inbox with their deadlines, one accepted and one
 * declined with a reason (the missing reason shown next to its field first); then the accepted one in
 * its caseload, a session recorded and its part ended. Her contact details: shown only after
 * acceptance, and only when her consent covers them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planAllocating, screenshot, signIn, startHarness, visit, type Harness, type Json } from './support.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

/**
 * `count` dead-lettered deliveries to `providerId`, queued straight into the store (as a long outage
 * leaves them): plan ids from `planBase` on, event ids in the `eventGroup` group of a v4 UUID.
 */
async function queueDeadDeliveries(providerId: string, count: number, planBase: number, eventGroup: string) {
  const at = h.stack.clock.now();
  for (let i = 0; i < count; i += 1) {
    const planId = `pl_${(planBase + i).toString(16).padStart(24, '0')}`;
    const queued = await h.stack.webhooks.store.enqueue({
      deliveryId: `dl_${planId.slice(3)}_5`,
      providerId,
      planId,
      sequence: 5,
      eventId: `00000000-0000-4000-${eventGroup}-${String(i).padStart(12, '0')}`,
      // An event of references only: one carrying her needs, of a plan not stored, is withheld and cannot be replayed.
      eventType: 'allocation.withdrawn.v1',
      body: '{}',
      status: 'dead',
      attempts: 6,
      replays: 0,
      createdAt: at,
      deadAt: at,
      lastError: 'the receiver answered 503',
      log: [],
    });
    expect(queued).toBe(true);
  }
}

describe('provider', () => {
  it('accepts one offer and declines another, then works the accepted one', async () => {
    // Domestic abuse in Sandwell goes to Black Country Women's Aid: two plans, two offers.
    const plans: Json[] = [];
    for (const goal of ['Feel safe at home', 'Rebuild confidence'])
      plans.push(await planAllocating(h, { needs: [{ domain: 'domestic-abuse', level: 'high', priority: true, goals: [goal] }] }));
    const offers = plans.map((p) => p.allocations.find((a: Json) => a.providerId === 'bcwa').allocationId as string);
    const [toAccept, toDecline] = offers as [string, string];

    const { page, errors } = await h.page();
    await signIn(h, page, "Black Country Women's Aid");
    await expect.poll(() => page.url()).toContain('/inbox');
    const list = page.getByRole('list', { name: '2 open offers' });
    await list.waitFor();
    expect(await list.textContent()).toMatch(/Answer by.*\(in \d+ days?\)/);
    await screenshot(page, 'provider-inbox-desktop');

    const acceptCard = page.locator('li.offer', { has: page.getByText(`Details of offer ${toAccept}`) });
    await acceptCard.getByRole('button', { name: 'Accept' }).click();
    await page.getByText(`Offer ${toAccept} accepted`).waitFor();

    const declineCard = page.locator('li.offer', { has: page.getByText(`Details of offer ${toDecline}`) });
    await declineCard.getByText('Decline…').click();
    await declineCard.getByRole('button', { name: 'Decline the offer' }).click();
    const reasonError = declineCard.locator(`#decline-${toDecline}-f-reason-error`);
    await expect.poll(() => reasonError.textContent()).toMatch(/Choose one of the options|is required/);
    await declineCard.getByLabel('Reason').selectOption('capacity');
    await declineCard.getByLabel('Note (optional)').fill('Caseworkers full until January.');
    await declineCard.getByRole('button', { name: 'Decline the offer' }).click();
    await page.getByText(`Offer ${toDecline} declined`).waitFor();
    await page.getByText('No open offers.').waitFor();

    const coordinator = h.token('coordinator');
    const [accepted, declined] = await Promise.all(plans.map(async (p) => (await h.call('GET', `/plans/${p.planId}`, coordinator)).json));
    expect(accepted.allocations.find((a: Json) => a.allocationId === toAccept).status).toBe('accepted');
    expect(accepted.stage).toBe('active');
    const declinedOffer = declined.allocations.find((a: Json) => a.allocationId === toDecline);
    expect(declinedOffer).toMatchObject({ status: 'declined', declineReason: 'capacity' });

    // The caseload holds the accepted allocation; open it, record a session, end the part.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Caseload' }).click();
    await page.getByRole('link', { name: 'Domestic abuse' }).click();
    await page.waitForURL(new RegExp(`/caseload/${toAccept}$`));
    await page.getByText('Feel safe at home').waitFor();
    const contact = page.getByRole('form', { name: 'Record a session' });
    await contact.getByLabel('Attended').check();
    await contact.getByRole('button', { name: 'Record the session' }).click();
    await page.getByText(/Session on .* recorded/).waitFor();
    expect(await page.getByRole('region', { name: 'Sessions' }).textContent()).toContain('Attended');
    await screenshot(page, 'provider-allocation-desktop');

    const end = page.getByRole('form', { name: 'End your part' });
    await end.getByLabel('Outcome').selectOption('completed');
    await end.getByRole('button', { name: 'End our part' }).click();
    await page.getByText('Your part of the plan has ended.').waitFor();
    const after = (await h.call('GET', `/plans/${accepted.planId}`, coordinator)).json;
    expect(after.allocations.find((a: Json) => a.allocationId === toAccept)).toMatchObject({ status: 'ended', outcome: 'completed' });
    expect(after.contacts).toHaveLength(1);
    expect(errors).toEqual([]);
  });

  it('sees her contact details only after accepting, and only when her consent covers them', async () => {
    const coordinator = h.token('coordinator');
    const covered = await planAllocating(h, { needs: [{ domain: 'domestic-abuse', level: 'high', priority: true }], share: ['needs', 'contact-details'] });
    const notCovered = await planAllocating(h, { needs: [{ domain: 'domestic-abuse', level: 'high', priority: true }], share: ['needs'] });
    const phone = '07700 900555';
    for (const plan of [covered, notCovered]) {
      const corrected = await h.call('PATCH', `/plans/${plan.planId}/participant`, coordinator, { contact: { phone, preferredMethod: 'text-message', safeToLeaveVoicemail: false } });
      expect(corrected.status, corrected.text).toBe(200);
    }
    const offerOf = (plan: Json) => plan.allocations.find((a: Json) => a.providerId === 'bcwa').allocationId as string;

    const { page, errors } = await h.page();
    await signIn(h, page, "Black Country Women's Aid");
    await visit(h, page, `/caseload/${offerOf(covered)}`);
    const section = page.getByRole('region', { name: 'Contact details' });
    // Offered, not accepted: nothing about her yet, and the page says when it will be shared.
    await section.getByText('shared once you accept the offer').waitFor();
    expect(await page.content()).not.toContain(phone);
    expect(await section.getByRole('button', { name: 'Show her contact details' }).count()).toBe(0);

    await page.getByRole('form', { name: 'Accept the offer' }).getByRole('button', { name: 'Accept' }).click();
    await page.getByText('Offer accepted.').waitFor();
    await section.getByRole('button', { name: 'Show her contact details' }).click();
    await section.getByText(phone).waitFor();
    expect(await section.textContent()).toContain('Never leave a voicemail');
    await screenshot(page, 'provider-contact-details-desktop');

    // Accepted, but her consent does not cover contact details: a plain explanation, and no number.
    const accepted = await h.call('POST', `/allocations/${offerOf(notCovered)}/accept`, h.token('provider', 'bcwa'), {});
    expect(accepted.status, accepted.text).toBe(200);
    await visit(h, page, `/caseload/${offerOf(notCovered)}`);
    await section.getByRole('button', { name: 'Show her contact details' }).click();
    await section.getByText('Her consent does not cover sharing her contact details').waitFor();
    expect(await section.textContent()).not.toContain(phone);
    expect(errors).toEqual([]);
  });

  it('once her consent is withdrawn, the open allocation page drops her contact details and the forms at the next action', async () => {
    const coordinator = h.token('coordinator');
    const plan = await planAllocating(h, { needs: [{ domain: 'domestic-abuse', level: 'high', priority: true }], share: ['needs', 'contact-details'] });
    const phone = '07700 900777';
    const corrected = await h.call('PATCH', `/plans/${plan.planId}/participant`, coordinator, { contact: { phone, preferredMethod: 'phone-call' } });
    expect(corrected.status, corrected.text).toBe(200);
    const offer = plan.allocations.find((a: Json) => a.providerId === 'bcwa').allocationId as string;
    expect((await h.call('POST', `/allocations/${offer}/accept`, h.token('provider', 'bcwa'), {})).status).toBe(200);

    const { page, errors } = await h.page();
    await signIn(h, page, "Black Country Women's Aid");
    await visit(h, page, `/caseload/${offer}`);
    const section = page.getByRole('region', { name: 'Contact details' });
    await section.getByRole('button', { name: 'Show her contact details' }).click();
    await section.getByText(phone).waitFor();

    // The coordinator records that she withdrew consent; the worker, page still open, records a session.
    const withdrawn = await h.call('POST', `/plans/${plan.planId}/withdraw-consent`, coordinator, {});
    expect(withdrawn.status, withdrawn.text).toBe(200);
    const contact = page.getByRole('form', { name: 'Record a session' });
    await contact.getByLabel('Attended').check();
    await contact.getByRole('button', { name: 'Record the session' }).click();
    // The refusal says what happened to the allocation, and that nothing more can be recorded on it.
    await page
      .getByText(`This allocation changed while the page was open: Allocation ${offer} ended on `)
      .filter({ hasText: 'when her consent to share with your organisation was withdrawn (delete what you hold about her from it): no session can be recorded on it any more.' })
      .waitFor();
    await expect.poll(() => page.getByRole('form', { name: 'Record a session' }).count()).toBe(0);
    expect(await page.getByRole('region', { name: 'Contact details' }).count()).toBe(0);
    expect(await page.content()).not.toContain(phone);
    expect(errors).toEqual([]);
  });

  it('once her consent is withdrawn, ended or exited, its sessions are not offered for correction, and the page says why', async () => {
    const coordinator = h.token('coordinator');
    const token = h.token('provider', 'bcwa');
    const { page, errors } = await h.page();
    await signIn(h, page, "Black Country Women's Aid");
    const cannot = ': no session can be recorded or corrected on it (delete what you hold about her).';
    // One allocation ended by the withdrawal itself, one whose plan had exited first (its end is the exit's; the plan then closes).
    for (const exitedFirst of [false, true]) {
      const plan = await planAllocating(h, { needs: [{ domain: 'domestic-abuse', level: 'high', priority: true }] });
      const offer = plan.allocations.find((a: Json) => a.providerId === 'bcwa').allocationId as string;
      expect((await h.call('POST', `/allocations/${offer}/accept`, token, {})).status).toBe(200);
      const today = h.stack.clock.now().slice(0, 10);
      expect((await h.call('POST', `/allocations/${offer}/record-contact`, token, { date: today, kind: 'attended' })).status).toBe(200);
      if (exitedFirst) expect((await h.call('POST', `/plans/${plan.planId}/exit`, coordinator, { reason: 'completed' })).status).toBe(200);
      const withdrawn = await h.call('POST', `/plans/${plan.planId}/withdraw-consent`, coordinator, {});
      expect(withdrawn.status, withdrawn.text).toBe(200);

      await visit(h, page, `/caseload/${offer}`);
      const sessions = page.getByRole('region', { name: 'Sessions' });
      // Ended by the withdrawal, it ended when her consent was withdrawn; ended by the exit first, it ended then, and the withdrawal came after.
      const why = exitedFirst ? /^It ended on .+; her consent to share with your organisation was withdrawn on .+$/ : /^It ended on .+, when her consent to share with your organisation was withdrawn$/;
      const words = sessions.getByText(cannot);
      await words.waitFor();
      expect((await words.innerText()).replace(cannot, '')).toMatch(why);
      expect(await sessions.getByText(/could be recorded and corrected for 28 days|can still be recorded/).count()).toBe(0);
      expect(await page.getByRole('form', { name: 'Record a session' }).count()).toBe(0);
      expect(await sessions.getByRole('button', { name: 'Correct session 1' }).count()).toBe(0);
      // The API refuses it as the page says.
      expect((await h.call('POST', `/allocations/${offer}/correct-contact`, token, { session: 1, reason: 'wrong-kind', kind: 'missed' })).status).toBe(409);
    }
    expect(errors).toEqual([]);
  });

  it('reads the whole delivery log, 50 at a time', async () => {
    await queueDeadDeliveries('bcwa', 55, 0xabc000, '8000');
    const { page, errors } = await h.page();
    await signIn(h, page, "Black Country Women's Aid");
    await visit(h, page, '/webhook?status=dead');
    await page.getByRole('list', { name: '50 deliveries shown, more to show' }).waitFor();
    await page.getByRole('button', { name: 'Show more deliveries' }).click();
    await page.getByRole('list', { name: '55 deliveries shown' }).waitFor();
    expect(await page.getByRole('button', { name: 'Show more deliveries' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Replay', exact: true }).count()).toBe(55);
    expect(errors).toEqual([]);
  });

  it("a 'Show more deliveries' that failed is not shown again once the log is refreshed", async () => {
    await queueDeadDeliveries('changing-lives', 51, 0xc1000, 'a000');
    const { page, errors } = await h.page();
    await signIn(h, page, 'Changing Lives');
    await visit(h, page, '/webhook?status=dead');
    await page.getByRole('list', { name: '50 deliveries shown, more to show' }).waitFor();
    // The second page's request fails once (the network dropped).
    await page.route(
      (url) => url.pathname === '/providers/changing-lives/deliveries' && url.searchParams.has('cursor'),
      (route) => route.fulfill({ status: 503, contentType: 'application/problem+json', body: JSON.stringify({ type: 'about:blank', title: 'Service Unavailable', status: 503, detail: 'Try again later.' }) }),
      { times: 1 },
    );
    await page.getByRole('button', { name: 'Show more deliveries' }).click();
    const failed = page.getByRole('alert').filter({ hasText: 'Could not load more deliveries' });
    await failed.waitFor();
    await page.getByRole('button', { name: 'Refresh' }).click();
    await expect.poll(() => failed.count()).toBe(0);
    await page.getByRole('button', { name: 'Show more deliveries' }).click();
    await page.getByRole('list', { name: '51 deliveries shown' }).waitFor();
    expect(errors).toEqual([]);
  });

  it('a delivery held back behind an earlier one of its plan says it waits for it, not a time already past; the log says its times are real ones', async () => {
    const at = h.stack.clock.now();
    const planId = `pl_${(0xfeed00).toString(16).padStart(24, '0')}`;
    // The plan's event 5 keeps failing (retried later); event 6 waits in its lane until 5 is delivered or dead-lettered.
    for (const [sequence, eventType, failing] of [[5, 'allocation.offered.v1', true], [6, 'allocation.withdrawn.v1', false]] as const) {
      const queued = await h.stack.webhooks.store.enqueue({
        deliveryId: `dl_${planId.slice(3)}_${sequence}`,
        providerId: 'green-square-accord',
        planId,
        sequence,
        eventId: `00000000-0000-4000-b000-00000000000${sequence}`,
        eventType,
        body: '{}',
        status: 'pending',
        attempts: failing ? 2 : 0,
        replays: 0,
        createdAt: at,
        nextAttemptAt: failing ? '2099-01-01T00:00:00.000Z' : at,
        ...(failing ? { lastAttemptAt: at, lastStatusCode: 503, lastError: 'the receiver answered 503' } : {}),
        log: [],
      });
      expect(queued).toBe(true);
    }
    const { page, errors } = await h.page();
    await signIn(h, page, 'Green Square Accord');
    await visit(h, page, '/webhook?status=pending');
    const list = page.getByRole('list', { name: '2 deliveries shown' });
    await list.waitFor();
    const waiting = list.getByRole('listitem').filter({ hasText: 'allocation.withdrawn.v1' });
    await waiting.getByText("After the allocation.offered.v1 delivery of this plan is delivered or dead-lettered: a plan's events are sent in order").waitFor();
    // The one it waits for keeps its own time.
    await list.getByRole('listitem').filter({ hasText: 'allocation.offered.v1' }).getByText('1 Jan 2099', { exact: false }).waitFor();
    // On a simulated clock the log's times are the machine's, which the simulated-time banner does not say.
    await page.getByText("Deliveries are sent, retried and timed by this machine's real clock, not the simulated time: the times below are real ones.").waitFor();
    expect(errors).toEqual([]);
  });

  it('replays every dead-lettered delivery at once, after the endpoint is subscribed again', async () => {
    const subscribed = await h.call('POST', '/providers/anawim/subscriptions', h.token('team-lead'), { url: 'http://127.0.0.1:9/anawim' });
    expect(subscribed.status, subscribed.text).toBe(201);
    await queueDeadDeliveries('anawim', 3, 0xdef000, '9000');
    const { page, errors } = await h.page();
    await signIn(h, page, 'Anawim');
    await visit(h, page, '/webhook?status=dead');
    await screenshot(page, 'provider-webhook-replay-all');
    await page.getByRole('button', { name: 'Replay all 3 dead-lettered' }).click();
    await page.getByText('3 dead-lettered deliveries queued again.').waitFor();
    await page.getByText('No dead-lettered deliveries.').waitFor();
    const log = await h.call('GET', '/providers/anawim/deliveries?status=pending', h.token('provider', 'anawim'));
    expect((log.json.items as Json[]).map((d) => d.replays)).toEqual([1, 1, 1]);
    expect(errors).toEqual([]);
  });

  it('answering an offer that expired while the page was open says so and takes it off the list', async () => {
    const plan = await planAllocating(h, { needs: [{ domain: 'domestic-abuse', level: 'high', priority: true }] });
    const offer = plan.allocations.find((a: Json) => a.providerId === 'bcwa').allocationId as string;
    const { page, errors } = await h.page();
    await signIn(h, page, "Black Country Women's Aid");
    await visit(h, page, '/inbox');
    const card = page.locator('li.offer', { has: page.getByText(`Details of offer ${offer}`) });
    await card.waitFor();
    // Past its deadline (2 working days) the sweeper expires it; the page still shows it.
    await h.stack.advanceClock(5 * 86_400_000, 86_400_000);
    await card.getByRole('button', { name: 'Accept' }).click();
    // The refusal says when it lapsed and that it can no longer be accepted (not 'it is expired, not offered').
    await page
      .getByText(`Offer ${offer} could not be answered: Offer ${offer} expired unanswered on `)
      .filter({ hasText: /expired unanswered on \d{1,2} [A-Z][a-z]+ \d{4} at \d{2}:\d{2}: it can no longer be accepted\./ })
      .waitFor();
    await expect.poll(() => card.count()).toBe(0);

    // Its page says it lapsed, not that it was answered, and why its goals are not shown.
    await visit(h, page, `/caseload/${offer}`);
    const details = page.getByRole('complementary', { name: 'About this allocation' });
    await details.getByText('Expired', { exact: true }).waitFor();
    expect(await details.getByText('Answered', { exact: true }).count()).toBe(0);
    await page.getByText('Goals and levels are shown only while the allocation is offered or accepted; it is expired.').waitFor();
    expect(errors).toEqual([]);
  });
});
