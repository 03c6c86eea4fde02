/**
 * A plan driven over real HTTP, from referral to closed, the way a coordinator and the providers
 * would: the embedded stack (dynalite, the PlanCommand state machine, the API) in one process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consent, PARTICIPANT, planInStage, referral, startTestStack, type AllocationJson, type DeadlineJson, type GapJson, type HistoryItemJson, type OfferJson, type PlanJson, type PlanSummaryJson, type TestStack } from '../support/http.ts';

let t: TestStack;

beforeAll(async () => {
  t = await startTestStack();
});
afterAll(async () => {
  await t?.stop();
});

/** Nothing a provider sees may identify the participant: no name, no date of birth. */
function expectNoIdentity(value: unknown, where: string) {
  const text = JSON.stringify(value);
  for (const secret of [PARTICIPANT.givenName, PARTICIPANT.familyName, PARTICIPANT.dateOfBirth, 'givenName', 'familyName', 'dateOfBirth'])
    expect(text, `${where} mentions ${secret}`).not.toContain(secret);
}

const allocationFor = (plan: PlanJson, domain: string, status?: string): AllocationJson =>
  plan.allocations.find((a) => a.needs.includes(domain as never) && (status === undefined || a.status === status)) as AllocationJson;

describe('a plan from referral to closed', () => {
  let planId: string;
  const providerResponses: unknown[] = [];
  let mentalHealth: AllocationJson; // the offer holding the mental-health need
  let substance: AllocationJson;
  let accommodation: AllocationJson;
  let followUpDue: Record<string, string> = {};

  it('refers a participant: 201, stage referred, Location of the new plan, identity kept apart', async () => {
    const res = await t.call('POST', '/plans', { token: t.coordinator, body: referral() });
    expect(res.status).toBe(201);
    expect(res.json.stage).toBe('referred');
    expect(res.json.version).toBe(1);
    planId = res.json.planId;
    expect(planId).toMatch(/^pl_/);
    expect(res.headers.get('location')).toBe(`/plans/${planId}`);
    // The coordinator sees who she is working with...
    expect(res.json.participant).toEqual(PARTICIPANT);
    // ...but the plan itself holds only a pseudonymous reference: the identity record lives apart.
    expect(res.json.participantId).toMatch(/^pt_/);
    const followed = await t.call('GET', res.headers.get('location') as string, { token: t.coordinator });
    expect(followed.status).toBe(200);
    expect(followed.json.planId).toBe(planId);
    expect(followed.json.stage).toBe('referred');
    // The assessment has a deadline from the start: no wait is unbounded.
    expect(followed.json.deadlines.map((d: DeadlineJson) => d.command)).toContain('assessment-overdue');
  });

  it('records consent: the plan moves to assessment', async () => {
    const res = await t.call('POST', `/plans/${planId}/record-consent`, { token: t.coordinator, body: consent(t.clock.today()) });
    expect(res.status).toBe(200);
    expect(res.json.stage).toBe('assessment');
    expect(res.json.version).toBe(2);
    expect(res.json.consent.scope.shareWithProviders).toBe(true);
  });

  it('submits the assessment: offers for priority and other needs, each with a why, and the postcode gap explained', async () => {
    const res = await t.call('POST', `/plans/${planId}/submit-assessment`, {
      token: t.coordinator,
      body: {
        needs: [
          { domain: 'mental-health', level: 'high', priority: true, goals: ['sleep through the night'] },
          { domain: 'substance-misuse', level: 'medium', priority: true },
          { domain: 'accommodation', level: 'medium', priority: false },
          { domain: 'children-families', level: 'low', priority: false },
          // Only a Black Country service offers this; it does not cover Birmingham.
          { domain: 'thinking-behaviour', level: 'low', priority: false },
        ],
        risks: { domesticAbuse: 'standard', selfHarm: false, safeguardingChildren: false },
      },
    });
    expect(res.status).toBe(200);
    const plan = res.json;
    expect(plan.stage).toBe('allocating');
    expect(plan.version).toBe(3);

    const offers = plan.allocations as AllocationJson[];
    expect(offers.length).toBeGreaterThan(0);
    for (const offer of offers) {
      expect(offer.status).toBe('offered');
      expect(typeof offer.why).toBe('string');
      expect(offer.why.length).toBeGreaterThan(20);
      expect(offer.why).toContain('Birmingham');
      expect(offer.respondBy > t.clock()).toBe(true);
    }
    // Every coverable need is offered exactly once; priority needs are marked as such in the why.
    for (const domain of ['mental-health', 'substance-misuse', 'accommodation', 'children-families'])
      expect(offers.filter((o) => o.needs.includes(domain as never)), domain).toHaveLength(1);
    mentalHealth = allocationFor(plan, 'mental-health');
    substance = allocationFor(plan, 'substance-misuse');
    accommodation = allocationFor(plan, 'accommodation');
    expect(mentalHealth.why).toContain('mental health (priority)');
    // Priority needs go to the fewest providers: one organisation holds both.
    expect(mentalHealth.providerId).toBe(substance.providerId);
    // The key worker is the provider with the most needs.
    expect(offers.filter((o) => o.lead).every((o) => o.providerId === mentalHealth.providerId)).toBe(true);
    expect(accommodation.providerId).not.toBe(mentalHealth.providerId);

    // The need nobody in Birmingham can meet is a gap with its reason, not silently dropped.
    expect(offers.some((o) => o.needs.includes('thinking-behaviour'))).toBe(false);
    const gap = (plan.gaps as GapJson[]).find((g) => g.domain === 'thinking-behaviour');
    expect(gap).toMatchObject({ reason: 'no-coverage-in-area' });
    expect(gap?.explanation).toContain('Birmingham');
  });

  it("shows each provider only its own open offers, without the participant's identity", async () => {
    const lead = mentalHealth.providerId as string;
    const other = accommodation.providerId as string;
    const mine = await t.call('GET', `/providers/${lead}/offers`, { token: t.provider(lead) });
    expect(mine.status).toBe(200);
    providerResponses.push(mine.json);
    const ids = (mine.json.items as OfferJson[]).map((i) => i.allocationId).sort();
    expect(ids).toEqual([mentalHealth.allocationId, substance.allocationId].sort());
    for (const item of mine.json.items) {
      expect(item.providerId).toBe(lead);
      expect(item.status).toBe('offered');
      expect(item.planRef).toBe(planId);
    }
    // The offer is thin; goals are in the allocation's detail, shared because consent covers needs.
    const mh = (mine.json.items as OfferJson[]).find((i) => i.allocationId === mentalHealth.allocationId);
    expect(mh?.needs).toContainEqual({ domain: 'mental-health', level: 'high' });
    const detail = await t.call('GET', `/allocations/${mentalHealth.allocationId}`, { token: t.provider(lead) });
    expect(detail.status).toBe(200);
    providerResponses.push(detail.json);
    expect(detail.json.needs).toContainEqual(expect.objectContaining({ domain: 'mental-health', level: 'high', goals: ['sleep through the night'] }));

    const theirs = await t.call('GET', `/providers/${other}/offers`, { token: t.provider(other) });
    expect(theirs.status).toBe(200);
    providerResponses.push(theirs.json);
    expect((theirs.json.items as OfferJson[]).map((i) => i.allocationId)).toEqual([accommodation.allocationId]);

    // A partner with nothing offered sees an empty list.
    const none = ['anawim', 'bcwa', 'changing-lives', 'green-square-accord'].find((p) => p !== lead && p !== other) as string;
    const empty = await t.call('GET', `/providers/${none}/offers`, { token: t.provider(none) });
    expect(empty.status).toBe(200);
    expect(empty.json.items).toEqual([]);
  });

  it('a decline sends the need to the next candidate: a new offer to a different service', async () => {
    const decliner = accommodation.providerId as string;
    const res = await t.call('POST', `/allocations/${accommodation.allocationId}/decline`, {
      token: t.provider(decliner),
      body: { reason: 'capacity', note: 'No housing worker free this month' },
    });
    expect(res.status).toBe(200);
    providerResponses.push(res.json);
    expect(res.json).toMatchObject({ allocationId: accommodation.allocationId, status: 'declined' });

    const plan = (await t.call('GET', `/plans/${planId}`, { token: t.coordinator })).json;
    expect(plan.stage).toBe('allocating');
    expect(plan.allocations.find((a: AllocationJson) => a.allocationId === accommodation.allocationId)).toMatchObject({ status: 'declined', declineReason: 'capacity' });
    const next = allocationFor(plan, 'accommodation', 'offered');
    expect(next).toBeDefined();
    expect(next.allocationId).not.toBe(accommodation.allocationId);
    expect(next.serviceId).not.toBe(accommodation.serviceId);
    expect(next.providerId).not.toBe(decliner);
    expect(next.why).toContain('accommodation');

    const decliners = await t.call('GET', `/providers/${decliner}/offers`, { token: t.provider(decliner) });
    expect(decliners.json.items).toEqual([]);
    const nextOffers = await t.call('GET', `/providers/${next.providerId}/offers`, { token: t.provider(next.providerId) });
    providerResponses.push(nextOffers.json);
    expect((nextOffers.json.items as OfferJson[]).map((i) => i.allocationId)).toContain(next.allocationId);
    accommodation = next;
  });

  it('activates only when every priority need has an accepted allocation', async () => {
    const lead = mentalHealth.providerId as string;
    const first = await t.call('POST', `/allocations/${mentalHealth.allocationId}/accept`, { token: t.provider(lead), body: { note: 'Key worker: Sam' } });
    expect(first.status).toBe(200);
    providerResponses.push(first.json);
    expect(first.json).toMatchObject({ allocationId: mentalHealth.allocationId, status: 'accepted', planRef: planId });
    // Substance misuse is a priority need too, and still only offered.
    let plan = (await t.call('GET', `/plans/${planId}`, { token: t.coordinator })).json;
    expect(plan.stage).toBe('allocating');
    expect(plan.activatedAt).toBeUndefined();

    const second = await t.call('POST', `/allocations/${substance.allocationId}/accept`, { token: t.provider(lead), body: {} });
    expect(second.status).toBe(200);
    providerResponses.push(second.json);
    plan = (await t.call('GET', `/plans/${planId}`, { token: t.coordinator })).json;
    expect(plan.stage).toBe('active');
    expect(plan.activatedAt).toBe(t.clock());
    // A review is scheduled from activation.
    expect(plan.nextReview).toMatchObject({ reviewNumber: 1 });
    // The accommodation offer is still open with its new provider: activation does not wait for it.
    expect(allocationFor(plan, 'accommodation', 'offered')?.allocationId).toBe(accommodation.allocationId);

    const openOffers = await t.call('GET', `/providers/${lead}/offers`, { token: t.provider(lead) });
    expect(openOffers.json.items).toEqual([]);
  });

  it('records a contact from the provider', async () => {
    t.clock.advanceDays(7);
    const lead = mentalHealth.providerId as string;
    const res = await t.call('POST', `/allocations/${mentalHealth.allocationId}/record-contact`, { token: t.provider(lead), body: { date: t.clock.today(), kind: 'attended' } });
    expect(res.status).toBe(200);
    providerResponses.push(res.json);
    expect(res.json.contacts).toEqual([{ session: 1, date: t.clock.today(), kind: 'attended' }]);
    const plan = (await t.call('GET', `/plans/${planId}`, { token: t.coordinator })).json;
    expect(plan.contacts).toHaveLength(1);
    expect(plan.contacts[0]).toMatchObject({ allocationId: mentalHealth.allocationId, providerId: lead, kind: 'attended' });
  });

  it('records a review that continues the plan', async () => {
    t.clock.advanceDays(21);
    const res = await t.call('POST', `/plans/${planId}/record-review`, {
      token: t.coordinator,
      body: { scores: { 'mental-health': 4, 'substance-misuse': 3 }, outcome: 'continue', participantWords: 'I am sleeping better.' },
    });
    expect(res.status).toBe(200);
    expect(res.json.stage).toBe('active');
    expect(res.json.reviews).toHaveLength(1);
    expect(res.json.reviews[0]).toMatchObject({ reviewNumber: 1, outcome: 'continue', date: t.clock.today(), attendance: { attended: 1, missed: 0, cancelled: 0 } });
    expect(res.json.nextReview).toMatchObject({ reviewNumber: 2 });
  });

  it('exits with a reason: accepted allocations end, open offers are withdrawn, follow-ups are scheduled', async () => {
    t.clock.advanceDays(60);
    const res = await t.call('POST', `/plans/${planId}/exit`, { token: t.coordinator, body: { reason: 'completed', note: 'Goals met' } });
    expect(res.status).toBe(200);
    expect(res.json.stage).toBe('exited');
    expect(res.json.exit).toMatchObject({ reason: 'completed' });
    const statuses = Object.fromEntries((res.json.allocations as AllocationJson[]).map((a) => [a.allocationId, a.status]));
    expect(statuses[mentalHealth.allocationId]).toBe('ended');
    expect(statuses[substance.allocationId]).toBe('ended');
    expect(statuses[accommodation.allocationId]).toBe('withdrawn');
    expect(res.json.exitSummary).toMatchObject({ reason: 'completed', sessions: { attended: 1, missed: 0, cancelled: 0 } });
    const followUps = (res.json.deadlines as DeadlineJson[]).filter((d) => d.command === 'follow-up-due');
    expect(followUps.map((d) => d.ref).sort()).toEqual(['12', '6']);
    followUpDue = Object.fromEntries(followUps.map((d) => [d.ref, d.dueAt]));
    expect(String(followUpDue['6']) > t.clock()).toBe(true);
    // The withdrawn offer disappears from its provider's list.
    const offers = await t.call('GET', `/providers/${accommodation.providerId}/offers`, { token: t.provider(accommodation.providerId) });
    expect(offers.json.items).toEqual([]);
  });

  it('records the 6-month follow-up (still exited) and the 12-month one (closed)', async () => {
    t.clock.set(followUpDue['6'] as string);
    const six = await t.call('POST', `/plans/${planId}/record-follow-up`, { token: t.coordinator, body: { month: 6, reoffended: 'no' } });
    expect(six.status, six.text).toBe(200);
    expect(six.json.stage).toBe('exited');
    expect(six.json.followUps).toHaveLength(1);

    t.clock.set(followUpDue['12'] as string);
    const twelve = await t.call('POST', `/plans/${planId}/record-follow-up`, { token: t.coordinator, body: { month: 12, reoffended: 'unknown' } });
    expect(twelve.status).toBe(200);
    expect(twelve.json.stage).toBe('closed');
    expect(twelve.json.closedAt).toBe(t.clock());
    expect(twelve.json.deadlines).toEqual([]);

    // A closed plan takes no more commands.
    const more = await t.call('POST', `/plans/${planId}/exit`, { token: t.coordinator, body: { reason: 'other' } });
    expect(more.status).toBe(409);
  });

  it('keeps the whole story in the history, in strictly increasing sequence', async () => {
    const res = await t.call('GET', `/plans/${planId}/history`, { token: t.coordinator });
    expect(res.status).toBe(200);
    const items = res.json.items as HistoryItemJson[];
    const sequences = items.map((e) => e.sequence);
    for (let i = 1; i < sequences.length; i += 1) expect(sequences[i], `sequence at ${i}`).toBeGreaterThan(sequences[i - 1] as number);
    // No event is lost either: 1..n without holes.
    expect(sequences).toEqual(Array.from({ length: items.length }, (_, i) => i + 1));
    const types = items.map((e) => e.type);
    expect(types[0]).toBe('plan.referred.v1');
    expect(types.at(-1)).toBe('plan.closed.v1');
    for (const type of [
      'plan.consent-recorded.v1',
      'plan.assessment-submitted.v1',
      'plan.allocation-proposed.v1',
      'allocation.offered.v1',
      'allocation.declined.v1',
      'allocation.accepted.v1',
      'plan.activated.v1',
      'contact.recorded.v1',
      'review.recorded.v1',
      'allocation.ended.v1',
      'allocation.withdrawn.v1',
      'plan.exited.v1',
      'follow-up.recorded.v1',
    ])
      expect(types, type).toContain(type);
    // The order reads as the lifecycle.
    const at = (type: string) => types.indexOf(type);
    expect(at('plan.consent-recorded.v1')).toBeLessThan(at('plan.assessment-submitted.v1'));
    expect(at('plan.assessment-submitted.v1')).toBeLessThan(at('allocation.offered.v1'));
    expect(at('allocation.declined.v1')).toBeLessThan(at('plan.activated.v1'));
    expect(at('plan.activated.v1')).toBeLessThan(at('review.recorded.v1'));
    expect(at('review.recorded.v1')).toBeLessThan(at('plan.exited.v1'));
    expect(types.filter((x) => x === 'follow-up.recorded.v1')).toHaveLength(2);
    expectNoIdentity(items, 'history');
  });

  it("never gives a provider, or any event, the participant's identity", async () => {
    expect(providerResponses.length).toBeGreaterThanOrEqual(7);
    for (const [i, response] of providerResponses.entries()) expectNoIdentity(response, `provider response ${i}`);
    const events = t.published.filter((e) => e.planId === planId);
    expect(events.length).toBeGreaterThan(10);
    expectNoIdentity(events, 'published events');
    // Events addressed to providers are thin: a reference, never the pseudonymous participant id either.
    const forProviders = events.filter((e) => e.providerId);
    expect(forProviders.length).toBeGreaterThan(0);
    for (const e of forProviders) {
      expect(e.data.planRef).toBe(planId);
      expect(JSON.stringify(e)).not.toContain('pt_');
    }
  });
});

describe('withdrawing a referral', () => {
  it('ends a referral that will not become a plan: referred -> withdrawn, and nothing more is accepted', async () => {
    const plan = await planInStage(t, 'referred');
    const res = await t.call('POST', `/plans/${plan.planId}/withdraw`, { token: t.coordinator, body: { reason: 'declined-support', note: 'Did not want support' } });
    expect(res.status).toBe(200);
    expect(res.json.stage).toBe('withdrawn');
    expect(res.json.withdrawal).toMatchObject({ reason: 'declined-support' });
    expect(res.json.deadlines).toEqual([]);

    const history = await t.call('GET', `/plans/${plan.planId}/history`, { token: t.coordinator });
    expect(history.json.items.map((e: HistoryItemJson) => e.type)).toEqual(['plan.referred.v1', 'plan.withdrawn.v1']);

    const consentAfter = await t.call('POST', `/plans/${plan.planId}/record-consent`, { token: t.coordinator, body: consent(t.clock.today()) });
    expect(consentAfter.status).toBe(409);
    expect(consentAfter.json.detail).toContain('withdrawn');
    // A withdrawn referral is not on the worklist of referrals to work.
    const worklist = await t.call('GET', '/plans?stage=referred', { token: t.coordinator });
    expect((worklist.json.items as PlanSummaryJson[]).map((p) => p.planId)).not.toContain(plan.planId);
  });
});

describe('withdrawing consent', () => {
  it('exits at once and tells each provider only to stop and purge', async () => {
    const plan = await planInStage(t, 'allocating', [
      { domain: 'mental-health', level: 'high', priority: true, goals: ['feel safe at home'] },
      { domain: 'accommodation', level: 'medium', priority: false },
    ]);
    const planId = plan.planId as string;
    const mh = allocationFor(plan, 'mental-health', 'offered');
    const home = allocationFor(plan, 'accommodation', 'offered');
    expect(mh && home).toBeTruthy();
    const accepted = await t.call('POST', `/allocations/${mh.allocationId}/accept`, { token: t.provider(mh.providerId), body: {} });
    expect(accepted.status).toBe(200);
    const before = t.published.length;

    const res = await t.call('POST', `/plans/${planId}/withdraw-consent`, { token: t.coordinator, body: {} });
    expect(res.status).toBe(200);
    // Nothing more is done with her data: no follow-ups, so the plan closes at once.
    expect(res.json.stage).toBe('closed');
    expect(res.json.deadlines).toEqual([]);
    expect(res.json.exit.reason).toBe('consent-withdrawn');
    expect(res.json.consent.withdrawnAt).toBe(t.clock());
    expect((res.json.allocations as AllocationJson[]).every((a) => a.status === 'ended' || a.status === 'withdrawn')).toBe(true);

    const sent = t.published.slice(before).filter((e) => e.planId === planId && e.providerId);
    const notices = sent.filter((e) => e.type === 'plan.consent-withdrawn.v1');
    // One notice per provider allocation that was live, and nothing else addressed to providers.
    expect(notices.map((e) => `${e.providerId}:${e.data.allocationId}`).sort()).toEqual([`${mh.providerId}:${mh.allocationId}`, `${home.providerId}:${home.allocationId}`].sort());
    expect(sent).toHaveLength(notices.length);
    for (const notice of notices) {
      expect(Object.keys(notice.data).sort()).toEqual(['allocationId', 'instruction', 'planRef']);
      expect(notice.data).toMatchObject({ planRef: planId, instruction: 'stop-processing-and-purge' });
    }
    expectNoIdentity(t.published, 'every event published so far');
    // The history tells the same, and providers no longer see the offer.
    const history = await t.call('GET', `/plans/${planId}/history`, { token: t.coordinator });
    expect(history.json.items.filter((e: HistoryItemJson) => e.type === 'plan.consent-withdrawn.v1')).toHaveLength(2);
    const offers = await t.call('GET', `/providers/${home.providerId}/offers`, { token: t.provider(home.providerId) });
    expect((offers.json.items as OfferJson[]).map((i) => i.allocationId)).not.toContain(home.allocationId);
    // The provider can no longer act on it.
    const late = await t.call('POST', `/allocations/${home.allocationId}/accept`, { token: t.provider(home.providerId), body: {} });
    expect(late.status).toBe(409);
  });
});

describe('timers', () => {
  it('an offer not answered by its respondBy expires when the sweeper runs, and goes to the next candidate', async () => {
    const plan = await planInStage(t, 'allocating', [{ domain: 'emotional-resilience', level: 'high', priority: true }]);
    const planId = plan.planId as string;
    const first = allocationFor(plan, 'emotional-resilience', 'offered');
    expect(first).toBeDefined();
    expect(plan.allocations).toHaveLength(1);

    // Just before the deadline, nothing happens to the offer.
    t.clock.set(new Date(new Date(first.respondBy).getTime() - 60_000).toISOString());
    await t.stack.sweep();
    let now = (await t.call('GET', `/plans/${planId}`, { token: t.coordinator })).json;
    expect(now.allocations).toHaveLength(1);
    expect(now.allocations[0].status).toBe('offered');

    // Past it, the sweeper expires the offer and re-offers the need.
    t.clock.set(new Date(new Date(first.respondBy).getTime() + 60_000).toISOString());
    const report = await t.stack.sweep();
    expect(report.timersSent).toBeGreaterThanOrEqual(1);
    now = (await t.call('GET', `/plans/${planId}`, { token: t.coordinator })).json;
    expect(now.stage).toBe('allocating');
    expect(now.allocations.find((a: AllocationJson) => a.allocationId === first.allocationId).status).toBe('expired');
    const next = allocationFor(now, 'emotional-resilience', 'offered');
    expect(next).toBeDefined();
    expect(next.serviceId).not.toBe(first.serviceId);
    expect(next.providerId).not.toBe(first.providerId);
    expect(next.respondBy > t.clock()).toBe(true);

    const history = (await t.call('GET', `/plans/${planId}/history`, { token: t.coordinator })).json.items.map((e: HistoryItemJson) => e.type);
    expect(history).toContain('allocation.expired.v1');
    expect(history.lastIndexOf('allocation.offered.v1')).toBeGreaterThan(history.indexOf('allocation.expired.v1'));
    const stale = await t.call('GET', `/providers/${first.providerId}/offers`, { token: t.provider(first.providerId) });
    expect((stale.json.items as OfferJson[]).map((i) => i.allocationId)).not.toContain(first.allocationId);
    const fresh = await t.call('GET', `/providers/${next.providerId}/offers`, { token: t.provider(next.providerId) });
    expect((fresh.json.items as OfferJson[]).map((i) => i.allocationId)).toContain(next.allocationId);

    // Sweeping again changes nothing: the expired deadline is gone.
    const version = now.version;
    await t.stack.sweep();
    const again = (await t.call('GET', `/plans/${planId}`, { token: t.coordinator })).json;
    expect(again.version).toBe(version);
  });
});
