import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allocatePlan } from '../../lib/domain/allocate-plan.ts';
import { addDays, addMonths, londonDate, reviewDates } from '../../lib/domain/calendar.ts';
import { decide, nextDueAt, REMEMBERED_COMMANDS, unallocatedNeeds, type Command, type DecideContext } from '../../lib/domain/decide.ts';
import { DomainError } from '../../lib/domain/errors.ts';
import { COMMAND_NAMES, isAllowedIn, LIFECYCLE, stageMoves, STAGES, TERMINAL_STAGES, type CommandName, type Stage } from '../../lib/domain/lifecycle.ts';
import { providerAllocationView } from '../../lib/domain/provider-views.ts';
import type { Plan, PlanEvent } from '../../lib/domain/schemas.ts';
import {
  allocationOf,
  ASSESSMENT_PAYLOAD,
  at,
  command,
  consentPayload,
  IDENTIFYING_STRINGS,
  makeContext,
  PARTICIPANT,
  planInStage,
  PLAN_ID,
  REFER_PAYLOAD,
  respond,
  run,
  TIMER,
  validCommand,
  refusal,
} from '../support/domain-fixtures.ts';

const paths = (error: DomainError) => error.errors.map((e) => e.path);
const types = (events: PlanEvent[]) => events.map((e) => e.type);
const forProvider = (events: PlanEvent[], providerId: string) => events.filter((e) => e.providerId === providerId);
/** The live offer holding a need; fails unless exactly one does. */
function offerFor(plan: Plan, domain: string) {
  const offers = plan.allocations.filter((a) => a.status === 'offered' && a.needs.some((n) => n === domain));
  expect(offers, `offers for ${domain}`).toHaveLength(1);
  return offers[0]!;
}

function expectNoIdentity(value: unknown) {
  const json = JSON.stringify(value);
  for (const s of IDENTIFYING_STRINGS) expect(json).not.toContain(s);
}

function expectStrictlyIncreasingSequence(events: PlanEvent[]) {
  for (let i = 1; i < events.length; i += 1) expect(events[i]!.sequence).toBeGreaterThan(events[i - 1]!.sequence);
}

describe('a plan from referral to closure', () => {
  it('refer → consent → assessment → offers → accepts → active → review → exit → follow-ups → closed', () => {
    let ctx = makeContext();
    const all: PlanEvent[] = [];
    const send = (plan: Plan | undefined, cmd: Command) => {
      const step = run(plan, cmd, ctx);
      all.push(...step.events);
      return step;
    };

    // Referral: a plan with a pseudonymous participant id and an assessment deadline 10 working days out.
    const referred = send(undefined, command('refer', REFER_PAYLOAD));
    expect(referred.decision.status).toBe(201);
    expect(referred.plan).toMatchObject({ planId: PLAN_ID, stage: 'referred', version: 1, participantId: REFER_PAYLOAD.participantId, reviewEveryDays: 28 });
    expect(referred.plan.deadlines).toEqual([{ deadlineId: 'assessment-overdue', command: 'assessment-overdue', dueAt: '2026-03-16T17:00:00.000Z' }]);
    expect(types(referred.events)).toEqual(['plan.referred.v1']);
    expect(referred.events[0]!.data).toEqual({ planRef: PLAN_ID, source: 'custody-diversion', localAuthority: 'birmingham', urgency: 'routine', rereferral: false });
    expect(referred.plan).toMatchObject({ previousPlanIds: [], remindersSent: [] });

    // Consent, next day.
    ctx = at(ctx, '2026-03-03T09:30:00.000Z');
    const consented = send(referred.plan, command('record-consent', consentPayload(ctx)));
    expect(consented.plan.stage).toBe('assessment');
    expect(consented.plan.consent).toMatchObject({ givenAt: '2026-03-03', method: 'written', scope: { shareWithProviders: true, dataCategories: ['needs'] } });

    // Assessment: offers go out to the fewest providers covering both priority needs.
    ctx = at(ctx, '2026-03-04T10:00:00.000Z');
    const assessed = send(consented.plan, command('submit-assessment', ASSESSMENT_PAYLOAD));
    expect(assessed.decision.needsAllocation).toBe(true);
    expect(assessed.plan.stage).toBe('allocating');
    expect(assessed.plan.deadlines.map((d) => d.command)).not.toContain('assessment-overdue');
    expect(assessed.plan.deadlines.find((d) => d.command === 'activation-overdue')?.dueAt).toBe('2026-03-18T17:00:00.000Z');
    expect(assessed.plan.allocations.map((a) => [a.serviceId, a.needs, a.status])).toEqual([
      ['anawim-womens-centre', ['mental-health'], 'offered'],
      ['changing-lives-housing-first', ['accommodation'], 'offered'],
      ['changing-lives-recovery', ['alcohol'], 'offered'],
      ['green-square-accord-housing', ['finance-benefit-debt'], 'offered'],
    ]);
    // Two working days to respond, by 17:00 London (GMT in March).
    for (const a of assessed.plan.allocations) expect(a.respondBy).toBe('2026-03-06T17:00:00.000Z');
    // Changing Lives holds the most needs: it is the key worker.
    expect(assessed.plan.allocations.filter((a) => a.lead).map((a) => a.providerId)).toEqual(['changing-lives', 'changing-lives']);
    const offers = assessed.events.filter((e) => e.type === 'allocation.offered.v1');
    expect(offers.map((e) => e.providerId)).toEqual(['anawim', 'changing-lives', 'changing-lives', 'green-square-accord']);
    // Each provider hears only about its own needs, and the event is thin: no goals, risks or adjustments, only a link to the detail.
    const anawimOffer = forProvider(offers, 'anawim')[0]!;
    const anawimAllocation = allocationOf(assessed.plan, 'anawim-womens-centre');
    expect(anawimOffer.data).toEqual({
      planRef: PLAN_ID,
      allocationId: anawimAllocation.allocationId,
      serviceId: 'anawim-womens-centre',
      needs: [{ domain: 'mental-health', level: 'high' }],
      lead: false,
      respondBy: '2026-03-06T17:00:00.000Z',
      detail: `/allocations/${anawimAllocation.allocationId}`,
    });
    for (const e of offers) for (const key of ['goals', 'risks', 'adjustments']) expect(JSON.stringify(e.data), key).not.toContain(`"${key}"`);
    // The detail, read through the API, has the goals (consent covers needs) but not risks or adjustments (it does not cover them).
    const anawimDetail = providerAllocationView(assessed.plan, anawimAllocation.allocationId);
    expect(anawimDetail).toHaveProperty('needs', [{ domain: 'mental-health', level: 'high', status: 'open', goals: ['See a counsellor weekly'] }]);
    expect(anawimDetail).not.toHaveProperty('risks');
    expect(anawimDetail).not.toHaveProperty('adjustments');

    // Anawim accepts: accommodation (priority) is still only offered, so the plan keeps allocating.
    ctx = at(ctx, '2026-03-05T11:00:00.000Z');
    const anawim = allocationOf(assessed.plan, 'anawim-womens-centre');
    const oneAccepted = send(assessed.plan, respond('accept-offer', anawim, { note: 'Counsellor booked' }));
    expect(oneAccepted.plan.stage).toBe('allocating');
    expect(oneAccepted.plan.deadlines.some((d) => d.ref === anawim.allocationId)).toBe(false);

    // Changing Lives accepts accommodation: every priority need is accepted, so the plan activates by itself.
    const housing = allocationOf(oneAccepted.plan, 'changing-lives-housing-first');
    const active = send(oneAccepted.plan, respond('accept-offer', housing, {}));
    expect(active.plan.stage).toBe('active');
    expect(active.plan.activatedAt).toBe(ctx.now);
    expect(types(active.events)).toEqual(['allocation.accepted.v1', 'plan.activated.v1']);
    expect(active.events[1]!.data).toMatchObject({ manual: false, firstActivation: true, unmetNeeds: [] });
    expect(active.plan.deadlines.map((d) => d.deadlineId).sort()).toEqual(
      ['no-contact', 'offer-expired:' + allocationOf(active.plan, 'changing-lives-recovery').allocationId, 'offer-expired:' + allocationOf(active.plan, 'green-square-accord-housing').allocationId, 'review-due:1', 'review-overdue:1'].sort(),
    );
    // Activated Thu 5 Mar 11:00: due Thu 2 Apr at 17:00 London (16:00Z in summer time), reminded Mon 30 Mar, escalated Tue 7 Apr, all at close of business.
    expect(active.plan.reviewDueAt).toBe('2026-04-02T16:00:00.000Z');
    expect(active.plan.deadlines.find((d) => d.deadlineId === 'review-due:1')?.dueAt).toBe('2026-03-30T16:00:00.000Z');
    expect(active.plan.deadlines.find((d) => d.deadlineId === 'review-overdue:1')?.dueAt).toBe('2026-04-07T16:00:00.000Z');

    // Contacts, then a review that counts them.
    ctx = at(ctx, '2026-03-12T15:00:00.000Z');
    const contact1 = send(active.plan, respond('record-contact', anawim, { date: '2026-03-10', kind: 'attended' }));
    const contact2 = send(contact1.plan, respond('record-contact', anawim, { date: '2026-03-12', kind: 'missed' }));
    expect(contact2.plan.deadlines.find((d) => d.deadlineId === 'no-contact')?.dueAt).toBe(addDays('2026-03-10T12:00:00.000Z', 28));
    ctx = at(ctx, '2026-04-01T10:00:00.000Z');
    const reviewed = send(contact2.plan, command('record-review', { scores: { 'mental-health': 4, accommodation: 3 }, outcome: 'continue', participantWords: 'I have somewhere safe to sleep.' }));
    expect(reviewed.plan.stage).toBe('active');
    expect(reviewed.plan.reviews).toEqual([
      expect.objectContaining({ reviewNumber: 1, date: '2026-04-01', outcome: 'continue', attendance: { attended: 1, missed: 1, cancelled: 0 } }),
    ]);
    expect(reviewed.plan.deadlines.find((d) => d.command === 'review-overdue')).toMatchObject({ deadlineId: 'review-overdue:2', dueAt: '2026-05-04T16:00:00.000Z' }); // due Wed 29 Apr; escalated 5 days on, Mon 4 May, at 17:00 London
    // The participant's words stay in the plan.
    expect(JSON.stringify(reviewed.events)).not.toContain('somewhere safe');

    // Exit: everything still open is withdrawn or ended, each provider told once per allocation.
    ctx = at(ctx, '2026-06-01T10:00:00.000Z');
    const exited = send(reviewed.plan, command('exit', { reason: 'completed' }));
    expect(exited.plan.stage).toBe('exited');
    expect(exited.plan.deadlines.map((d) => [d.deadlineId, d.dueAt])).toEqual([
      ['follow-up-due:6', addMonths(ctx.now, 6)],
      ['follow-up-due:12', addMonths(ctx.now, 12)],
    ]);

    // Follow-ups at 6 and 12 months; the plan closes after the last.
    ctx = at(ctx, '2026-12-01T10:00:00.000Z');
    const six = send(exited.plan, command('record-follow-up', { month: 6, reoffended: 'no' }));
    expect(six.plan.stage).toBe('exited');
    expect(six.plan.deadlines.map((d) => d.deadlineId)).toEqual(['follow-up-due:12']);
    ctx = at(ctx, '2027-06-01T10:00:00.000Z');
    const closed = send(six.plan, command('record-follow-up', { month: 12, reoffended: 'no' }));
    expect(closed.plan.stage).toBe('closed');
    expect(closed.plan.closedAt).toBe(ctx.now);
    expect(closed.plan.deadlines).toEqual([]);
    expect(nextDueAt(closed.plan)).toBeUndefined();
    expect(types(closed.events)).toEqual(['follow-up.recorded.v1', 'plan.closed.v1']);

    // Across the whole story: one ordered stream, never the participant's identity.
    expect(all.map((e) => e.sequence)).toEqual(all.map((_, i) => i + 1));
    expect(closed.plan.outbox.map((e) => e.id)).toEqual(all.map((e) => e.id));
    expect(new Set(all.map((e) => e.id)).size).toBe(all.length);
    expectNoIdentity(all);
    expectNoIdentity(closed.plan);
  });

  it('a Problem Solving Court referral is reviewed every 14 days', () => {
    const step = run(undefined, command('refer', { ...REFER_PAYLOAD, referral: { ...REFER_PAYLOAD.referral, source: 'problem-solving-court' } }), makeContext());
    expect(step.plan.reviewEveryDays).toBe(14);
  });

  it('identity never enters a plan command: a referral carrying the participant is refused', () => {
    const error = refusal(() => decide(undefined, command('refer', { ...REFER_PAYLOAD, participant: PARTICIPANT }), makeContext()));
    expect(error.name).toBe('InvalidCommand');
    expect(error.errors).toEqual([{ path: 'participant', message: 'is not a known field' }]);
    expect(error.message).toContain('participant');
  });

  it('a re-referral links the earlier plans and says so, without saying which', () => {
    const earlier = ['pl_earlier000000001', 'pl_earlier000000002'];
    const step = run(undefined, command('refer', { ...REFER_PAYLOAD, previousPlanIds: earlier }), makeContext());
    expect(step.plan.previousPlanIds).toEqual(earlier);
    expect(step.events.map((e) => e.data)).toEqual([{ planRef: PLAN_ID, source: 'custody-diversion', localAuthority: 'birmingham', urgency: 'routine', rereferral: true }]);
    expect(JSON.stringify(step.events)).not.toContain('pl_earlier');
  });

  it('a referral may set its own review cadence', () => {
    expect(run(undefined, command('refer', { ...REFER_PAYLOAD, reviewEveryDays: 21 }), makeContext()).plan.reviewEveryDays).toBe(21);
    expect(paths(refusal(() => decide(undefined, command('refer', { ...REFER_PAYLOAD, reviewEveryDays: 3 }), makeContext())))).toEqual(['reviewEveryDays']);
  });
});

describe('consent', () => {
  it('cannot be dated in the future, nor more than 90 days before the referral (consent given in custody or at court comes first)', () => {
    const { plan, ctx } = planInStage('referred');
    const consent = (givenAt: string) => command('record-consent', { ...consentPayload(ctx), givenAt });
    const future = refusal(() => decide(plan, consent('2026-03-03'), ctx));
    expect(future.name).toBe('InvalidCommand');
    expect(paths(future)).toEqual(['givenAt']);
    expect(paths(refusal(() => decide(plan, consent('2025-12-01'), ctx)))).toEqual(['givenAt']);
    expect(decide(plan, consent('2025-12-02'), ctx).plan.consent?.givenAt).toBe('2025-12-02');
    expect(decide(plan, consent('2026-03-02'), ctx).plan.stage).toBe('assessment');
  });

  it('without consent to share, no provider is told anything and every need is a no-consent-to-share gap', () => {
    const { plan: referred, ctx } = planInStage('referred');
    const plan = run(referred, command('record-consent', consentPayload(ctx, false)), ctx).plan;
    const step = run(plan, command('submit-assessment', ASSESSMENT_PAYLOAD), ctx);
    expect(step.plan.allocations).toEqual([]);
    expect(step.events.some((e) => e.providerId)).toBe(false);
    expect(step.plan.gaps.map((g) => [g.domain, g.reason])).toEqual(ASSESSMENT_PAYLOAD.needs.map((n) => [n.domain, 'no-consent-to-share']));
    // The coordinator can still start the plan; the gaps stay recorded.
    const active = run(step.plan, command('activate', { reason: 'Coordinator-led support only' }), ctx);
    expect(active.plan.stage).toBe('active');
    expect(active.plan.gaps).toHaveLength(4);
  });
});

describe('offers: decline, expiry, manual offers, activation', () => {
  it('a decline sends the needs to the next candidate and never back to the service that declined', () => {
    const { plan, ctx } = planInStage('allocating');
    const housingFirst = allocationOf(plan!, 'changing-lives-housing-first', 'offered');
    const declined = run(plan, respond('decline-offer', housingFirst, { reason: 'capacity', note: 'No flats this quarter' }), ctx);
    expect(declined.decision.needsAllocation).toBe(true);
    expect(declined.plan.stage).toBe('allocating');
    expect(allocationOf(declined.plan, 'changing-lives-housing-first').status).toBe('declined');
    expect(allocationOf(declined.plan, 'changing-lives-housing-first').declineReason).toBe('capacity');
    const next = offerFor(declined.plan, 'accommodation');
    expect(next).toMatchObject({ serviceId: 'green-square-accord-housing', needs: ['accommodation'] });
    expect(types(declined.events)).toEqual(['allocation.declined.v1', 'plan.allocation-proposed.v1', 'allocation.offered.v1']);
    expect(declined.events[2]).toMatchObject({ providerId: 'green-square-accord', data: { allocationId: next.allocationId } });

    // Green Square Accord declines too: nobody is left, so accommodation is a gap and the plan waits for the coordinator.
    const again = run(declined.plan, respond('decline-offer', next, { reason: 'location' }), ctx);
    expect(again.plan.gaps).toEqual([expect.objectContaining({ domain: 'accommodation', reason: 'all-candidates-declined-or-expired' })]);
    expect(again.plan.allocations.filter((a) => a.status === 'offered' && a.needs.includes('accommodation'))).toEqual([]);
    expect(again.plan.stage).toBe('allocating');

    const started = run(again.plan, command('activate', { reason: 'Housing through the council instead' }), ctx);
    expect(started.plan.stage).toBe('active');
    // The event says it was manual and what is unmet, never the coordinator's free text.
    expect(started.events.find((e) => e.type === 'plan.activated.v1')?.data).toEqual({ planRef: PLAN_ID, manual: true, firstActivation: true, unmetNeeds: ['accommodation'] });
    expect(JSON.stringify(started.events)).not.toContain('council');
    expect(started.plan.deadlines.map((d) => d.command)).not.toContain('activation-overdue');
  });

  it('an offer not answered by its deadline expires and goes to the next candidate', () => {
    const { plan, ctx } = planInStage('allocating');
    const housingFirst = allocationOf(plan!, 'changing-lives-housing-first', 'offered');
    const deadline = plan!.deadlines.find((d) => d.ref === housingFirst.allocationId)!;
    expect(deadline.command).toBe('offer-expired');
    const timer = command('offer-expired', { deadlineId: deadline.deadlineId }, { actor: TIMER });

    const early = run(plan, timer, at(ctx, addDays(deadline.dueAt, -0.01)));
    expect(early.decision.changed).toBe(false);

    const expired = run(plan, timer, at(ctx, deadline.dueAt));
    expect(allocationOf(expired.plan, 'changing-lives-housing-first').status).toBe('expired');
    // Nobody answered it: when it lapsed is its expiry, not a response.
    expect(allocationOf(expired.plan, 'changing-lives-housing-first').expiredAt).toBe(deadline.dueAt);
    expect(allocationOf(expired.plan, 'changing-lives-housing-first').respondedAt).toBeUndefined();
    expect(expired.events[0]).toMatchObject({ type: 'allocation.expired.v1', providerId: 'changing-lives' });
    expect(offerFor(expired.plan, 'accommodation').serviceId).toBe('green-square-accord-housing');
    expect(expired.plan.deadlines.some((d) => d.deadlineId === deadline.deadlineId)).toBe(false);
  });

  it.each(['completed', 'not-needed'])('ending an allocation as %s closes the needs it served, so a later decline never re-offers them', (outcome) => {
    const { plan, ctx } = planInStage('active');
    const anawim = allocationOf(plan!, 'anawim-womens-centre', 'accepted');
    const ended = run(plan, respond('end-allocation', anawim, { outcome }), ctx);
    expect(ended.decision.needsAllocation).toBe(false);
    expect(types(ended.events)).toEqual(['allocation.ended.v1']);
    expect(allocationOf(ended.plan, 'anawim-womens-centre')).toMatchObject({ status: 'ended', outcome });
    expect(ended.plan.needs.find((n) => n.domain === 'mental-health')).toMatchObject({ status: 'closed', closedAt: ctx.now });
    expect(unallocatedNeeds(ended.plan)).toEqual([]);
    // The other needs are untouched.
    expect(ended.plan.needs.filter((n) => n.status === 'open').map((n) => n.domain)).toEqual(['accommodation', 'alcohol', 'finance-benefit-debt']);

    // An unrelated decline runs Allocate providers: only finance is looked at, and mental health is offered to nobody.
    const finance = allocationOf(ended.plan, 'green-square-accord-housing', 'offered');
    const declined = run(ended.plan, respond('decline-offer', finance, { reason: 'capacity' }), ctx);
    expect(declined.decision.needsAllocation).toBe(true);
    expect(declined.plan.allocations.filter((a) => a.needs.includes('mental-health')).map((a) => a.allocationId)).toEqual([anawim.allocationId]);
    expect(forProvider(declined.events, 'anawim')).toEqual([]);
    const proposed = declined.events.find((e) => e.type === 'plan.allocation-proposed.v1')!;
    expect(proposed.data).toMatchObject({ offers: [], gaps: [expect.objectContaining({ domain: 'finance-benefit-debt' })] });
    expect(declined.plan.gaps.map((g) => g.domain)).toEqual(['finance-benefit-debt']);
  });

  it.each(['partially-completed', 'disengaged', 'other'])('ending an allocation as %s sends its needs back to allocation, never to the service that stopped', (outcome) => {
    const { plan, ctx } = planInStage('active');
    const housingFirst = allocationOf(plan!, 'changing-lives-housing-first', 'accepted');
    const ended = run(plan, respond('end-allocation', housingFirst, { outcome }), ctx);
    expect(ended.decision.needsAllocation).toBe(true);
    expect(ended.plan.needs.find((n) => n.domain === 'accommodation')).toMatchObject({ status: 'open' });
    expect(ended.plan.needs.find((n) => n.domain === 'accommodation')).not.toHaveProperty('closedAt');
    // Housing First would win the tie on provider id; having stopped, it is passed over for Green Square Accord.
    const next = offerFor(ended.plan, 'accommodation');
    expect(next).toMatchObject({ serviceId: 'green-square-accord-housing', needs: ['accommodation'] });
    expect(types(ended.events)).toEqual(['allocation.ended.v1', 'plan.allocation-proposed.v1', 'allocation.offered.v1']);
    expect(ended.events[2]).toMatchObject({ providerId: 'green-square-accord', data: { allocationId: next.allocationId } });
    expect(ended.plan.allocations.filter((a) => a.serviceId === 'changing-lives-housing-first').map((a) => a.status)).toEqual(['ended']);

    // The only mental-health service stopping leaves a gap rather than offering it to Anawim again.
    const anawim = allocationOf(plan!, 'anawim-womens-centre', 'accepted');
    const stopped = run(plan, respond('end-allocation', anawim, { outcome }), ctx);
    expect(stopped.decision.needsAllocation).toBe(true);
    expect(stopped.plan.needs.find((n) => n.domain === 'mental-health')?.status).toBe('open');
    expect(stopped.plan.allocations.filter((a) => a.serviceId === 'anawim-womens-centre').map((a) => a.status)).toEqual(['ended']);
    expect(forProvider(stopped.events, 'anawim').map((e) => e.type)).toEqual(['allocation.ended.v1']);
    expect(stopped.plan.gaps).toEqual([expect.objectContaining({ domain: 'mental-health', reason: 'all-candidates-declined-or-expired' })]);
  });

  it('a manual offer takes a need over from a pending offer, with the coordinator’s reason', () => {
    const { plan, ctx } = planInStage('allocating');
    const step = run(plan, command('offer-manually', { serviceId: 'green-square-accord-housing', needs: ['accommodation'], reason: 'Already her landlord' }), ctx);
    expect(allocationOf(step.plan, 'changing-lives-housing-first').status).toBe('withdrawn');
    const manual = step.plan.allocations.at(-1)!;
    expect(manual).toMatchObject({ serviceId: 'green-square-accord-housing', needs: ['accommodation'], status: 'offered', manualReason: 'Already her landlord' });
    expect(types(step.events)).toEqual(['allocation.withdrawn.v1', 'allocation.offered.v1']);
    expect(step.events.map((e) => e.providerId)).toEqual(['changing-lives', 'green-square-accord']);
  });

  it('a manual offer is refused naming the field: unknown service, need not in the plan, service without that need, need already accepted', () => {
    const { plan, ctx } = planInStage('allocating');
    const tryOffer = (payload: unknown) => refusal(() => decide(plan, command('offer-manually', payload), ctx));
    expect(paths(tryOffer({ serviceId: 'no-such-service', needs: ['accommodation'], reason: 'x' }))).toEqual(['serviceId']);
    expect(paths(tryOffer({ serviceId: 'bcwa-domestic-abuse', needs: ['domestic-abuse'], reason: 'x' }))).toEqual(['needs.0']);
    expect(paths(tryOffer({ serviceId: 'anawim-womens-centre', needs: ['mental-health', 'accommodation'], reason: 'x' }))).toEqual(['needs.0']);
    expect(paths(tryOffer({ serviceId: 'green-square-accord-housing', needs: ['accommodation', 'alcohol'], reason: 'x' }))).toEqual(['needs.1']);
  });
});

describe('contacts', () => {
  it('are recorded only for accepted allocations, never dated in the future, and move the no-contact deadline', () => {
    const { plan, ctx } = planInStage('active');
    const anawim = allocationOf(plan!, 'anawim-womens-centre', 'accepted');
    const future = refusal(() => decide(plan, respond('record-contact', anawim, { date: addDays(ctx.now, 1).slice(0, 10), kind: 'attended' }), ctx));
    expect(paths(future)).toEqual(['date']);
    const pending = allocationOf(plan!, 'changing-lives-recovery', 'offered');
    expect(refusal(() => decide(plan, respond('record-contact', pending, { date: londonDate(ctx.now), kind: 'attended' }), ctx)).name).toBe('NotAllowedInStage');

    const missed = run(plan, respond('record-contact', anawim, { date: londonDate(ctx.now), kind: 'missed' }), ctx);
    expect(missed.plan.deadlines.find((d) => d.deadlineId === 'no-contact')?.dueAt).toBe(plan!.deadlines.find((d) => d.deadlineId === 'no-contact')?.dueAt);
    const attended = run(missed.plan, respond('record-contact', anawim, { date: londonDate(ctx.now), kind: 'attended' }), ctx);
    expect(attended.plan.deadlines.find((d) => d.deadlineId === 'no-contact')?.dueAt).toBe(addDays(`${londonDate(ctx.now)}T12:00:00.000Z`, 28));
    expect(attended.events[0]).toMatchObject({ type: 'contact.recorded.v1', data: { kind: 'attended', providerId: 'anawim' } });
  });
});

describe('reviews', () => {
  const review = (payload: Record<string, unknown>) => {
    const { plan, ctx } = planInStage('active');
    const later = at(ctx, addDays(ctx.now, 27));
    return { plan: plan!, ctx: later, send: () => run(plan, command('record-review', payload), later) };
  };

  it('refuse scores for a domain that is not a need of the plan, naming scores.<domain>', () => {
    const { plan, ctx } = review({});
    const error = refusal(() => decide(plan, command('record-review', { scores: { 'mental-health': 5, 'domestic-abuse': 3 }, outcome: 'continue' }), ctx));
    expect(error.name).toBe('InvalidCommand');
    expect(paths(error)).toEqual(['scores.domestic-abuse']);
  });

  it('refuse a review dated in the future, or before activation', () => {
    const { plan, ctx } = review({});
    const future = refusal(() => decide(plan, command('record-review', { date: addDays(ctx.now, 1).slice(0, 10), scores: { 'mental-health': 5 }, outcome: 'continue' }), ctx));
    expect(paths(future)).toEqual(['date']);
    const early = refusal(() => decide(plan, command('record-review', { date: '2026-03-01', scores: { 'mental-health': 5 }, outcome: 'continue' }), ctx));
    expect(paths(early)).toEqual(['date']);
  });

  it('continue: records the review, keeps the plan active and re-arms the next review from its date', () => {
    const { ctx, send } = review({ scores: { 'mental-health': 5 }, outcome: 'continue' });
    const step = send();
    expect(step.plan.stage).toBe('active');
    expect(step.plan.deadlines.filter((d) => d.command.startsWith('review')).map((d) => [d.deadlineId, d.dueAt])).toEqual([
      ['review-due:2', reviewDates(ctx.calendar, londonDate(ctx.now), 28, 3, 5).remindAt],
      ['review-overdue:2', reviewDates(ctx.calendar, londonDate(ctx.now), 28, 3, 5).escalateAt],
    ]);
  });

  it('adjust adding a priority need: back to allocating and an offer for it', () => {
    const step = review({ scores: { 'mental-health': 5 }, outcome: 'adjust', addNeeds: [{ domain: 'trauma', level: 'high', priority: true }] }).send();
    expect(step.decision.needsAllocation).toBe(true);
    expect(step.plan.stage).toBe('allocating');
    expect(step.plan.deadlines.map((d) => d.command)).toContain('activation-overdue');
    // Anawim already holds mental health and also covers trauma: no extra hand-off.
    expect(step.plan.allocations.filter((a) => a.status === 'offered' && a.needs.includes('trauma')).map((a) => a.providerId)).toEqual(['anawim']);
    expect(types(step.events)).toContain('plan.adjusted.v1');
  });

  it('adjust adding only a non-priority need: stays active, the need is offered', () => {
    const step = review({ scores: { 'mental-health': 5 }, outcome: 'adjust', addNeeds: [{ domain: 'emotional-resilience', level: 'low', priority: false }] }).send();
    expect(step.plan.stage).toBe('active');
    expect(unallocatedNeeds(step.plan)).toEqual([]);
  });

  it('adjust closing a need ends the allocation that served only it and tells its provider', () => {
    const { plan, send } = review({ scores: { accommodation: 9 }, outcome: 'adjust', closeNeeds: ['accommodation'] });
    const housing = allocationOf(plan, 'changing-lives-housing-first', 'accepted');
    const step = send();
    expect(step.plan.needs.find((n) => n.domain === 'accommodation')?.status).toBe('closed');
    expect(allocationOf(step.plan, 'changing-lives-housing-first').status).toBe('ended');
    expect(step.events.find((e) => e.type === 'allocation.ended.v1')).toMatchObject({ providerId: 'changing-lives', data: { allocationId: housing.allocationId, reason: 'needs-closed' } });
    expect(allocationOf(step.plan, 'anawim-womens-centre').status).toBe('accepted');
  });

  it('adjust refuses to add a need that is already open, or close one that is not', () => {
    const { plan, ctx } = review({});
    const add = refusal(() => decide(plan, command('record-review', { scores: { 'mental-health': 5 }, outcome: 'adjust', addNeeds: [{ domain: 'alcohol', level: 'low', priority: false }] }), ctx));
    expect(paths(add)).toEqual(['addNeeds.0.domain']);
    const close = refusal(() => decide(plan, command('record-review', { scores: { 'mental-health': 5 }, outcome: 'adjust', closeNeeds: ['trauma'] }), ctx));
    expect(paths(close)).toEqual(['closeNeeds.0']);
  });

  it('adjust re-adding a need closed at an earlier review reopens it: one entry, and the offer lists it once with the new level and goals', () => {
    const { plan, ctx, send } = review({ scores: { alcohol: 7 }, outcome: 'adjust', closeNeeds: ['alcohol'] });
    const first = send();
    expect(first.plan.needs.find((n) => n.domain === 'alcohol')).toMatchObject({ status: 'closed', closedAt: ctx.now });
    expect(allocationOf(first.plan, 'changing-lives-recovery').status).toBe('withdrawn');
    const originalAddedAt = plan.needs.find((n) => n.domain === 'alcohol')!.addedAt;
    expect(originalAddedAt).not.toBe(ctx.now);

    const later = at(ctx, addDays(ctx.now, 14));
    const readded = run(
      first.plan,
      command('record-review', { scores: { 'mental-health': 5 }, outcome: 'adjust', addNeeds: [{ domain: 'alcohol', level: 'high', priority: false, goals: ['Two dry days a week'] }] }),
      later,
    );
    const alcohol = readded.plan.needs.filter((n) => n.domain === 'alcohol');
    expect(alcohol).toHaveLength(1);
    expect(alcohol[0]).toMatchObject({ status: 'open', level: 'high', priority: false, goals: ['Two dry days a week'], addedAt: later.now });
    expect(alcohol[0]!.closedAt).toBeUndefined();
    expect(readded.plan.needs.map((n) => n.domain)).toEqual(plan.needs.map((n) => n.domain));
    expect(unallocatedNeeds(readded.plan)).toEqual([]);

    const offer = offerFor(readded.plan, 'alcohol');
    const offered = readded.events.filter((e) => e.type === 'allocation.offered.v1');
    expect(offered).toHaveLength(1);
    expect(offered[0]).toMatchObject({ providerId: offer.providerId, data: { allocationId: offer.allocationId } });
    expect(offered[0]!.data.needs).toEqual([{ domain: 'alcohol', level: 'high' }]);
    // The goals are read through the detail (consent covers needs), never carried in the event.
    expect(providerAllocationView(readded.plan, offer.allocationId)).toHaveProperty('needs', [{ domain: 'alcohol', level: 'high', status: 'open', goals: ['Two dry days a week'] }]);

    // Re-added without goals, the closed need's old goals do not come back.
    const bare = run(first.plan, command('record-review', { scores: { 'mental-health': 5 }, outcome: 'adjust', addNeeds: [{ domain: 'alcohol', level: 'low', priority: false }] }), later);
    expect(bare.plan.needs.filter((n) => n.domain === 'alcohol')).toEqual([expect.objectContaining({ status: 'open', level: 'low', goals: [] })]);
    const bareOffer = bare.events.find((e) => e.type === 'allocation.offered.v1')!;
    expect(bareOffer.data.needs).toEqual([{ domain: 'alcohol', level: 'low' }]);
    expect(providerAllocationView(bare.plan, bareOffer.data.allocationId as string)).toHaveProperty('needs', [{ domain: 'alcohol', level: 'low', status: 'open', goals: [] }]);
  });

  it('a reopened need can be closed again, and the plan keeps one entry for it', () => {
    const { ctx, send } = review({ scores: { alcohol: 7 }, outcome: 'adjust', closeNeeds: ['alcohol'] });
    const later = at(ctx, addDays(ctx.now, 14));
    const readded = run(send().plan, command('record-review', { scores: { 'mental-health': 5 }, outcome: 'adjust', addNeeds: [{ domain: 'alcohol', level: 'high', priority: false }] }), later);
    const closedAgain = run(readded.plan, command('record-review', { scores: { alcohol: 8 }, outcome: 'adjust', closeNeeds: ['alcohol'] }), at(later, addDays(later.now, 14)));
    expect(closedAgain.plan.needs.filter((n) => n.domain === 'alcohol')).toEqual([expect.objectContaining({ status: 'closed', closedAt: addDays(later.now, 14) })]);
    expect(closedAgain.plan.allocations.filter((a) => a.needs.includes('alcohol')).map((a) => a.status)).toEqual(['withdrawn', 'withdrawn']);
  });

  it('exit from a review exits the plan with the given reason, and providers are told only that the plan exited', () => {
    const step = review({ scores: { 'mental-health': 8 }, outcome: 'exit', exitReason: 'moved-away' }).send();
    expect(step.plan.stage).toBe('exited');
    expect(step.plan.exit?.reason).toBe('moved-away');
    expect(step.plan.reviews).toHaveLength(1);
    const toProviders = step.events.filter((e) => e.providerId);
    expect(toProviders).toHaveLength(4);
    for (const e of toProviders) expect(e.data.reason).toBe('plan-exited');
    expect(JSON.stringify(toProviders)).not.toContain('moved-away');
  });

  it('records who attended: by default the participant and the coordinator; the event carries only roles', () => {
    const step = review({ scores: { 'mental-health': 5 }, outcome: 'continue' }).send();
    expect(step.plan.reviews[0]!.attendees).toEqual([{ role: 'participant' }, { role: 'coordinator' }]);
    expect(step.events.find((e) => e.type === 'review.recorded.v1')?.data.attendees).toEqual(['participant', 'coordinator']);

    const attendees = [{ role: 'participant' }, { role: 'provider', providerId: 'anawim' }, { role: 'provider', providerId: 'changing-lives' }, { role: 'coordinator' }];
    const named = review({ scores: { 'mental-health': 5 }, outcome: 'continue', attendees }).send();
    expect(named.plan.reviews[0]!.attendees).toEqual(attendees);
    expect(named.events.find((e) => e.type === 'review.recorded.v1')?.data.attendees).toEqual(['participant', 'provider', 'provider', 'coordinator']);
    expect(JSON.stringify(named.events.find((e) => e.type === 'review.recorded.v1'))).not.toContain('anawim');
  });

  it('a judge attends only a court-linked plan: refused naming attendees.0.role otherwise, changing nothing', () => {
    const { plan, ctx } = review({});
    const before = structuredClone(plan);
    const error = refusal(() => decide(plan, command('record-review', { scores: { 'mental-health': 5 }, outcome: 'continue', attendees: [{ role: 'judge' }, { role: 'participant' }] }), ctx));
    expect(error.name).toBe('InvalidCommand');
    expect(error.status).toBe(400);
    expect(error.errors).toEqual([{ path: 'attendees.0.role', message: expect.stringContaining('court') }]);
    expect(plan).toEqual(before);

    for (const source of ['court', 'problem-solving-court'] as const) {
      const court = planInStage('active', { refer: { referral: { ...REFER_PAYLOAD.referral, source } } });
      const attendees = [{ role: 'participant' }, { role: 'judge' }, { role: 'coordinator' }];
      const step = run(court.plan, command('record-review', { scores: { 'mental-health': 5 }, outcome: 'continue', attendees }), at(court.ctx, addDays(court.ctx.now, 7)));
      expect(step.plan.reviews[0]!.attendees, source).toEqual(attendees);
      expect(step.events.find((e) => e.type === 'review.recorded.v1')?.data.attendees, source).toEqual(['participant', 'judge', 'coordinator']);
    }
  });

  it('a provider attendee must hold an allocation in the plan (accepted or ended): refused naming attendees.<i>.providerId otherwise', () => {
    const { plan, ctx } = review({});
    const attempt = (providerId: string) => decide(plan, command('record-review', { scores: { 'mental-health': 5 }, outcome: 'continue', attendees: [{ role: 'participant' }, { role: 'provider', providerId }] }), ctx);
    // Black Country Women's Aid was never offered anything in this plan.
    const stranger = refusal(() => attempt('bcwa'));
    expect(stranger.name).toBe('InvalidCommand');
    expect(stranger.errors).toEqual([{ path: 'attendees.1.providerId', message: expect.stringContaining('bcwa') }]);
    // Green Square Accord has only an open offer: it holds nothing yet.
    expect(plan.allocations.filter((a) => a.providerId === 'green-square-accord').map((a) => a.status)).toEqual(['offered']);
    expect(paths(refusal(() => attempt('green-square-accord')))).toEqual(['attendees.1.providerId']);
    expect(attempt('anawim').plan.reviews[0]!.attendees).toEqual([{ role: 'participant' }, { role: 'provider', providerId: 'anawim' }]);
    // A provider whose allocation has ended may still attend.
    const ended = run(plan, respond('end-allocation', allocationOf(plan, 'anawim-womens-centre', 'accepted'), { outcome: 'completed' }), ctx).plan;
    const later = decide(ended, command('record-review', { scores: { accommodation: 5 }, outcome: 'continue', attendees: [{ role: 'provider', providerId: 'anawim' }] }), ctx);
    expect(later.plan.reviews[0]!.attendees).toEqual([{ role: 'provider', providerId: 'anawim' }]);
  });

  it('reviewEveryDays changes the cadence from this review on', () => {
    const { plan, ctx, send } = review({ scores: { 'mental-health': 5 }, outcome: 'continue', reviewEveryDays: 14 });
    expect(plan.reviewEveryDays).toBe(28);
    const step = send();
    expect(step.plan.reviewEveryDays).toBe(14);
    const fortnight = reviewDates(ctx.calendar, londonDate(ctx.now), 14, 3, 5);
    expect(step.plan.deadlines.filter((d) => d.command.startsWith('review')).map((d) => [d.deadlineId, d.dueAt])).toEqual([
      ['review-due:2', fortnight.remindAt],
      ['review-overdue:2', fortnight.escalateAt],
    ]);
    // Without it, the cadence stays as it was.
    const next = run(step.plan, command('record-review', { scores: { 'mental-health': 6 }, outcome: 'continue' }), at(ctx, addDays(ctx.now, 14)));
    expect(next.plan.reviewEveryDays).toBe(14);
    expect(next.plan.deadlines.find((d) => d.command === 'review-overdue')).toMatchObject({ deadlineId: 'review-overdue:3', dueAt: reviewDates(ctx.calendar, londonDate(addDays(ctx.now, 14)), 14, 3, 5).escalateAt });
  });
});

describe('exit and withdrawal of consent', () => {
  it('exit withdraws open offers and ends accepted allocations, one event to each provider per allocation', () => {
    const { plan, ctx } = planInStage('active');
    const step = run(plan, command('exit', { reason: 'custody', note: 'Remanded' }), ctx);
    expect(step.plan.allocations.map((a) => [a.serviceId, a.status])).toEqual([
      ['anawim-womens-centre', 'ended'],
      ['changing-lives-housing-first', 'ended'],
      ['changing-lives-recovery', 'withdrawn'],
      ['green-square-accord-housing', 'withdrawn'],
    ]);
    const toProviders = step.events.filter((e) => e.providerId);
    expect(toProviders.map((e) => [e.providerId, e.type, e.data.allocationId])).toEqual(plan!.allocations.map((a) => [a.providerId, a.status === 'accepted' ? 'allocation.ended.v1' : 'allocation.withdrawn.v1', a.allocationId]));
    // Providers learn that the plan ended, never why: an exit into custody is offence information.
    for (const e of toProviders) expect(e.data).toEqual({ planRef: PLAN_ID, allocationId: e.data.allocationId, reason: 'plan-exited' });
    expect(JSON.stringify(toProviders)).not.toMatch(/custody|Remanded/);
    expect(step.plan.allocations.map((a) => a.outcome)).toEqual(['plan-exited', 'plan-exited', 'plan-exited', 'plan-exited']);
    for (const a of step.plan.allocations) expect(JSON.stringify(providerAllocationView(step.plan, a.allocationId)), a.allocationId).not.toMatch(/custody|Remanded/);
    // The programme keeps the reason.
    expect(step.events.find((e) => e.type === 'plan.exited.v1')?.data).toEqual({ planRef: PLAN_ID, reason: 'custody' });
    expect(step.plan.allocations.some((a) => a.lead)).toBe(false);
    expect(step.plan.exit).toEqual({ reason: 'custody', exitedAt: ctx.now, note: 'Remanded' });
    expect(step.plan.deadlines.every((d) => d.command === 'follow-up-due')).toBe(true);
    expect(step.plan.escalations.every((e) => e.resolvedAt)).toBe(true);
  });

  it.each(['referred', 'assessment', 'allocating', 'active'] as Stage[])('withdraw-consent from %s: exits and closes at once with no follow-up due, and providers get only planRef, allocationId and the instruction', (stage) => {
    const { plan, ctx } = planInStage(stage);
    const step = run(plan, command('withdraw-consent', {}), ctx);
    expect(step.plan.stage).toBe('closed');
    expect(step.plan.exit).toEqual({ reason: 'consent-withdrawn', exitedAt: ctx.now });
    expect(step.plan.closedAt).toBe(ctx.now);
    expect(step.plan.deadlines).toEqual([]);
    expect(nextDueAt(step.plan)).toBeUndefined();
    expect(types(step.events.filter((e) => !e.providerId))).toEqual(['plan.exited.v1', 'plan.closed.v1']);
    const live = plan!.allocations.filter((a) => a.status === 'offered' || a.status === 'accepted');
    const toProviders = step.events.filter((e) => e.providerId);
    // One instruction per allocation, and at least every live one.
    expect(new Set(toProviders.map((e) => e.data.allocationId)).size).toBe(toProviders.length);
    for (const event of toProviders) {
      expect(event.type).toBe('plan.consent-withdrawn.v1');
      expect(Object.keys(event.data).sort()).toEqual(['allocationId', 'instruction', 'planRef']);
      expect(event.data).toMatchObject({ planRef: PLAN_ID, instruction: 'stop-processing-and-purge' });
    }
    for (const a of live) expect(toProviders.map((e) => e.data.allocationId)).toContain(a.allocationId);
    expect(step.plan.allocations.filter((a) => a.status === 'offered' || a.status === 'accepted')).toEqual([]);
    if (plan!.consent) expect(step.plan.consent?.withdrawnAt).toBe(ctx.now);
  });
});

describe('withdrawal of consent reaches every provider that was sent data', () => {
  it('every allocation the plan ever had (offered, accepted, declined, expired, ended, withdrawn) gets the instruction and nothing else', () => {
    let { plan, ctx } = planInStage('allocating');
    const step = (cmd: Command, when: DecideContext = ctx) => {
      const result = run(plan, cmd, when);
      plan = result.plan;
      return result;
    };
    // Withdrawn: the coordinator gives accommodation to Green Square Accord by hand.
    step(command('offer-manually', { serviceId: 'green-square-accord-housing', needs: ['accommodation'], reason: 'Already her landlord' }));
    // Declined: Changing Lives cannot take alcohol (no one else can, so it is a gap).
    step(respond('decline-offer', allocationOf(plan!, 'changing-lives-recovery', 'offered'), { reason: 'capacity' }));
    // Expired: Green Square Accord lets the finance offer lapse.
    const financeOffer = plan!.allocations.find((a) => a.status === 'offered' && a.needs.includes('finance-benefit-debt'))!;
    const financeDeadline = plan!.deadlines.find((d) => d.ref === financeOffer.allocationId)!;
    ctx = at(ctx, financeDeadline.dueAt);
    step(command('offer-expired', { deadlineId: financeDeadline.deadlineId }, { actor: TIMER }));
    // Accepted: Green Square Accord takes accommodation, and the plan activates.
    step(respond('accept-offer', allocationOf(plan!, 'green-square-accord-housing', 'offered'), {}));
    expect(plan!.stage).toBe('active');
    // Ended: Anawim completes mental health.
    step(respond('end-allocation', allocationOf(plan!, 'anawim-womens-centre', 'accepted'), { outcome: 'completed' }));
    // Offered: a review adds trauma, which Anawim (not excluded after completing) is offered.
    step(command('record-review', { scores: { accommodation: 5 }, outcome: 'adjust', addNeeds: [{ domain: 'trauma', level: 'medium', priority: false }] }));
    const before = plan!;
    expect(before.allocations.map((a) => [a.serviceId, a.status])).toEqual([
      ['anawim-womens-centre', 'ended'],
      ['changing-lives-housing-first', 'withdrawn'],
      ['changing-lives-recovery', 'declined'],
      ['green-square-accord-housing', 'expired'],
      ['green-square-accord-housing', 'accepted'],
      ['anawim-womens-centre', 'offered'],
    ]);

    const withdrawn = step(command('withdraw-consent', { note: 'Asked us to stop' }));
    expect(withdrawn.plan.stage).toBe('closed');
    const toProviders = withdrawn.events.filter((e) => e.providerId);
    expect(toProviders.map((e) => [e.providerId, e.type, e.data.allocationId])).toEqual(
      before.allocations.map((a) => [a.providerId, 'plan.consent-withdrawn.v1', a.allocationId]),
    );
    for (const event of toProviders) expect(event.data).toEqual({ planRef: PLAN_ID, allocationId: event.data.allocationId, instruction: 'stop-processing-and-purge' });
    // No other event goes to a provider, and nothing else is said about the allocations.
    expect(types(withdrawn.events.filter((e) => !e.providerId))).toEqual(['plan.exited.v1', 'plan.closed.v1']);

    // Live allocations are closed out; the others keep their history.
    expect(withdrawn.plan.allocations.map((a) => [a.status, a.outcome ?? a.declineReason ?? null])).toEqual([
      ['ended', 'completed'],
      ['withdrawn', 'replaced-by-manual-offer'],
      ['declined', 'capacity'],
      ['expired', null],
      ['ended', 'consent-withdrawn'],
      ['withdrawn', 'consent-withdrawn'],
    ]);
    expect(withdrawn.plan.allocations.some((a) => a.lead)).toBe(false);
    expect(withdrawn.plan.deadlines).toEqual([]);
    expect(withdrawn.plan.consent?.withdrawnAt).toBe(ctx.now);
  });
});

describe('withdrawal of consent while follow-ups are due', () => {
  it('cancels the follow-ups still due, tells every provider ever offered to purge, keeps the exit reason, and closes', () => {
    const { plan, ctx } = planInStage('exited');
    const later = at(ctx, addMonths(plan!.exit!.exitedAt, 7));
    const six = run(plan, command('record-follow-up', { month: 6, reoffended: 'no' }), later).plan;
    const step = run(six, command('withdraw-consent', { note: 'Does not want to be asked again' }), later);
    expect(step.plan.stage).toBe('closed');
    expect(step.plan.closedAt).toBe(later.now);
    expect(step.plan.consent?.withdrawnAt).toBe(later.now);
    // Why support ended does not change: the figures count it.
    expect(step.plan.exit).toEqual(plan!.exit);
    expect(step.plan.deadlines).toEqual([]);
    expect(step.events.filter((e) => e.providerId).map((e) => [e.providerId, e.type, e.data.allocationId])).toEqual(
      plan!.allocations.map((a) => [a.providerId, 'plan.consent-withdrawn.v1', a.allocationId]),
    );
    const programme = step.events.filter((e) => !e.providerId);
    expect(types(programme)).toEqual(['plan.follow-ups-cancelled.v1', 'plan.closed.v1']);
    expect(programme[0]!.data).toEqual({ planRef: PLAN_ID, months: [12], reason: 'consent-withdrawn' });
    expect(JSON.stringify(step.events)).not.toContain('Does not want');
  });

  it('refuses record-follow-up and correct-follow-up with a 409 that says consent was withdrawn', () => {
    const { plan, ctx } = planInStage('exited');
    const later = at(ctx, addMonths(plan!.exit!.exitedAt, 7));
    const six = run(plan, command('record-follow-up', { month: 6, reoffended: 'yes' }), later).plan;
    const closed = run(six, command('withdraw-consent', {}), later).plan;
    const afterYear = at(ctx, addMonths(plan!.exit!.exitedAt, 13));
    for (const cmd of [command('record-follow-up', { month: 12, reoffended: 'yes' }), command('correct-follow-up', { month: 6, reoffended: 'no', reason: 'keyed-in-error' })]) {
      const error = refusal(() => decide(closed, cmd, afterYear));
      expect(error.name, cmd.name).toBe('NotAllowedInStage');
      expect(error.status).toBe(409);
      expect(error.message).toContain('consent was withdrawn');
    }
    const again = refusal(() => decide(closed, command('withdraw-consent', {}), afterYear));
    expect(again.status).toBe(409);
  });

  it('a plan stored before this change (exited, consent withdrawn, follow-ups still due) refuses follow-ups and closes at its next follow-up timer, raising nothing', () => {
    // Built as the old decide() left it: exit for consent-withdrawn with both follow-up deadlines.
    const { plan, ctx } = planInStage('exited');
    const legacy: Plan = { ...plan!, exit: { reason: 'consent-withdrawn', exitedAt: plan!.exit!.exitedAt }, consent: { ...plan!.consent!, withdrawnAt: plan!.exit!.exitedAt } };
    expect(legacy.deadlines.map((d) => d.deadlineId)).toEqual(['follow-up-due:6', 'follow-up-due:12']);
    const due = at(ctx, addMonths(legacy.exit!.exitedAt, 6));
    const refused = refusal(() => decide(legacy, command('record-follow-up', { month: 6, reoffended: 'yes' }), due));
    expect(refused.status).toBe(409);
    expect(refused.message).toContain('consent was withdrawn');
    expect(refusal(() => decide(legacy, command('withdraw-consent', {}), due)).status).toBe(409);
    const timer = run(legacy, command('follow-up-due', { deadlineId: 'follow-up-due:6' }, { actor: TIMER }), due);
    expect(timer.plan.stage).toBe('closed');
    expect(timer.plan.deadlines).toEqual([]);
    expect(timer.plan.escalations.filter((e) => !e.resolvedAt)).toEqual([]);
    expect(types(timer.events)).toEqual(['plan.follow-ups-cancelled.v1', 'plan.closed.v1']);
  });

  it('a plan erased before erasure waited for follow-ups (exited, follow-ups still due) is not reminded: its follow-up timer closes it, resolving what was raised', () => {
    const { plan, ctx } = planInStage('exited');
    // The 6-month reminder went out and the follow-up was escalated, then her identity was erased as releases before a453479 allowed.
    const sixMonths = at(ctx, addMonths(plan!.exit!.exitedAt, 6));
    const reminded = run(plan, command('follow-up-due', { deadlineId: 'follow-up-due:6' }, { actor: TIMER }), sixMonths);
    const again = at(ctx, reminded.plan.deadlines.find((d) => d.deadlineId === 'follow-up-due:6')!.dueAt);
    const escalated = run(reminded.plan, command('follow-up-due', { deadlineId: 'follow-up-due:6' }, { actor: TIMER }), again);
    expect(escalated.plan.escalations.filter((e) => !e.resolvedAt).map((e) => e.kind)).toEqual(['follow-up-due:6']);
    const erased: Plan = { ...escalated.plan, identityErasedAt: again.now };
    const repeat = erased.deadlines.find((d) => d.deadlineId === 'follow-up-due:6')!;
    const timer = run(erased, command('follow-up-due', { deadlineId: 'follow-up-due:6' }, { actor: TIMER }), at(ctx, repeat.dueAt));
    expect(types(timer.events)).toEqual(['plan.closed.v1']);
    expect(timer.plan.stage).toBe('closed');
    expect(timer.plan.deadlines).toEqual([]);
    expect(nextDueAt(timer.plan)).toBeUndefined();
    expect(timer.plan.escalations.filter((e) => !e.resolvedAt)).toEqual([]);
    // Not yet reminded at all: the first timer closes it too, with no follow-up.due.v1.
    const never = run({ ...plan!, identityErasedAt: ctx.now }, command('follow-up-due', { deadlineId: 'follow-up-due:6' }, { actor: TIMER }), sixMonths);
    expect(types(never.events)).toEqual(['plan.closed.v1']);
    expect(never.plan.remindersSent).toEqual(plan!.remindersSent);
  });

  it('no plan whose consent is withdrawn ever has a follow-up deadline or takes a follow-up (property)', () => {
    const MONTHS = [6, 12] as const;
    const ANSWERS = ['yes', 'no', 'unknown'] as const;
    fc.assert(
      fc.property(
        fc.constantFrom<Stage>('referred', 'assessment', 'allocating', 'active', 'exited'),
        fc.subarray([...MONTHS]),
        fc.integer({ min: 0, max: 500 }),
        fc.array(fc.record({ days: fc.integer({ min: 0, max: 200 }), month: fc.constantFrom(...MONTHS), answer: fc.constantFrom(...ANSWERS), correct: fc.boolean() }), { maxLength: 6 }),
        (stage, recordFirst, withdrawAfterDays, attempts) => {
          const built = planInStage(stage);
          let plan = built.plan!;
          let ctx = built.ctx;
          // When exited, some follow-ups may be recorded before she withdraws.
          if (stage === 'exited')
            for (const month of recordFirst) {
              ctx = at(ctx, [ctx.now, addMonths(plan.exit!.exitedAt, month)].sort().at(-1)!);
              plan = run(plan, command('record-follow-up', { month, reoffended: 'yes' }), ctx).plan;
            }
          if (plan.stage === 'closed') return;
          ctx = at(ctx, addDays(ctx.now, withdrawAfterDays % 60));
          plan = run(plan, command('withdraw-consent', {}), ctx).plan;
          for (const { days, month, answer, correct } of attempts) {
            expect(plan.deadlines.filter((d) => d.command === 'follow-up-due')).toEqual([]);
            expect(nextDueAt(plan)).toBeUndefined();
            ctx = at(ctx, addDays(ctx.now, days));
            const cmd = correct ? command('correct-follow-up', { month, reoffended: answer, reason: 'new-information' }) : command('record-follow-up', { month, reoffended: answer });
            const error = refusal(() => decide(plan, cmd, ctx));
            expect(error.status).toBe(409);
            expect(error.message).toContain('consent was withdrawn');
          }
          expect(plan.stage).toBe('closed');
          expect(plan.escalations.filter((e) => !e.resolvedAt)).toEqual([]);
        },
      ),
      { numRuns: 100, seed: 20261128 },
    );
  });
});

describe('follow-ups', () => {
  it('a second follow-up for the same month is refused naming month; 6 then 12 closes the plan', () => {
    let { plan, ctx } = planInStage('exited');
    ctx = at(ctx, addMonths(ctx.now, 6));
    plan = run(plan, command('record-follow-up', { month: 6, reoffended: 'yes' }), ctx).plan;
    const duplicate = refusal(() => decide(plan, command('record-follow-up', { month: 6, reoffended: 'no' }), ctx));
    expect(duplicate.name).toBe('InvalidCommand');
    expect(paths(duplicate)).toEqual(['month']);
    ctx = at(ctx, addMonths(ctx.now, 6));
    const closed = run(plan, command('record-follow-up', { month: 12, reoffended: 'yes' }), ctx);
    expect(closed.plan.stage).toBe('closed');
    expect(closed.plan.followUps.map((f) => [f.month, f.reoffended])).toEqual([
      [6, 'yes'],
      [12, 'yes'],
    ]);
  });

  it.each([6, 12])('the %i-month follow-up is refused naming month until that many months after exit, and accepted on the due date', (month) => {
    const { plan, ctx } = planInStage('exited');
    const exitedAt = plan!.exit!.exitedAt;
    const due = addMonths(exitedAt, month);
    expect(plan!.deadlines.find((d) => d.deadlineId === `follow-up-due:${month}`)?.dueAt).toBe(due);
    const followUp = command('record-follow-up', { month, reoffended: 'no' });

    for (const when of [exitedAt, addMonths(exitedAt, month - 1), addDays(due, -1)]) {
      const early = refusal(() => decide(plan, followUp, at(ctx, when)));
      expect(early.name, when).toBe('InvalidCommand');
      expect(early.status).toBe(400);
      expect(paths(early)).toEqual(['month']);
      expect(early.message).toContain('month');
      expect(early.message).toContain(londonDate(due));
    }

    const onTime = run(plan, followUp, at(ctx, due));
    expect(onTime.plan.followUps).toEqual([{ month, reoffended: 'no', recordedAt: due }]);
    expect(onTime.plan.stage).toBe('exited');
    expect(types(onTime.events)).toEqual(['follow-up.recorded.v1']);
    expect(onTime.plan.deadlines.map((d) => d.deadlineId)).toEqual([`follow-up-due:${month === 6 ? 12 : 6}`]);
    expect(run(plan, followUp, at(ctx, addDays(due, 30))).plan.followUps).toHaveLength(1);
  });

  it('the 12-month follow-up may come first; the 6-month one recorded after it still closes the plan', () => {
    const { plan, ctx } = planInStage('exited');
    const exitedAt = plan!.exit!.exitedAt;
    const late = at(ctx, addMonths(exitedAt, 13));
    const twelve = run(plan, command('record-follow-up', { month: 12, reoffended: 'unknown' }), late);
    expect(twelve.plan.stage).toBe('exited');
    const closed = run(twelve.plan, command('record-follow-up', { month: 6, reoffended: 'no' }), late);
    expect(closed.plan.stage).toBe('closed');
  });
});

describe('correcting a recorded follow-up', () => {
  function recordedSix() {
    const { plan, ctx } = planInStage('exited');
    const later = at(ctx, addMonths(plan!.exit!.exitedAt, 6));
    return { plan: run(plan, command('record-follow-up', { month: 6, reoffended: 'yes' }), later).plan, ctx: later };
  }

  it('changes the answer, keeps the one it replaced on the plan and in the history event, and does not move the plan', () => {
    const { plan, ctx } = recordedSix();
    const fixed = at(ctx, addDays(ctx.now, 3));
    const step = run(plan, command('correct-follow-up', { month: 6, reoffended: 'no', reason: 'keyed-in-error', note: 'Ticked the wrong box' }), fixed);
    expect(step.plan.stage).toBe('exited');
    expect(step.plan.followUps).toEqual([{ month: 6, reoffended: 'no', recordedAt: ctx.now, corrections: [{ previous: 'yes', reason: 'keyed-in-error', note: 'Ticked the wrong box', at: fixed.now }] }]);
    expect(step.plan.deadlines).toEqual(plan.deadlines);
    expect(step.events.map((e) => [e.type, e.data])).toEqual([['follow-up.corrected.v1', { planRef: PLAN_ID, month: 6, previous: 'yes', reoffended: 'no', reason: 'keyed-in-error' }]]);
    // The note stays on the plan: no free text goes into an event.
    expect(JSON.stringify(step.events)).not.toContain('wrong box');
  });

  it('works on a closed plan (the 12-month follow-up closes it as it is recorded), which stays closed', () => {
    const { plan, ctx } = planInStage('closed');
    const step = run(plan, command('correct-follow-up', { month: 12, reoffended: 'yes', reason: 'source-corrected' }), at(ctx, addDays(ctx.now, 10)));
    expect(step.plan.stage).toBe('closed');
    expect(step.plan.closedAt).toBe(plan!.closedAt);
    expect(step.plan.followUps.find((f) => f.month === 12)).toMatchObject({ reoffended: 'yes', corrections: [{ previous: 'no', reason: 'source-corrected' }] });
    expect(step.plan.deadlines).toEqual([]);
  });

  it.each([
    ['a follow-up not recorded yet', { month: 12, reoffended: 'no', reason: 'keyed-in-error' }, ['month'], 'not recorded yet'],
    ['the answer already recorded', { month: 6, reoffended: 'yes', reason: 'keyed-in-error' }, ['reoffended'], 'already the recorded answer'],
    ['no reason', { month: 6, reoffended: 'no' }, ['reason'], ''],
    ['a reason that is not a code', { month: 6, reoffended: 'no', reason: 'she told me' }, ['reason'], ''],
    ['a month that is not 6 or 12', { month: 9, reoffended: 'no', reason: 'keyed-in-error' }, ['month'], ''],
    ['an answer that is not yes, no or unknown', { month: 6, reoffended: 'maybe', reason: 'keyed-in-error' }, ['reoffended'], ''],
    ['an unknown field', { month: 6, reoffended: 'no', reason: 'keyed-in-error', by: 'me' }, ['by'], ''],
  ] as const)('%s is a 400 naming the field, and changes nothing', (_what, payload, fields, words) => {
    const { plan, ctx } = recordedSix();
    const error = refusal(() => decide(plan, command('correct-follow-up', payload), ctx));
    expect(error.name).toBe('InvalidCommand');
    expect(error.status).toBe(400);
    expect(paths(error)).toEqual(fields);
    expect(error.message).toContain(words);
  });

  it('a second record-follow-up for the same month points to the correction', () => {
    const { plan, ctx } = recordedSix();
    const error = refusal(() => decide(plan, command('record-follow-up', { month: 6, reoffended: 'no' }), ctx));
    expect(paths(error)).toEqual(['month']);
    expect(error.message).toContain('correct-follow-up');
  });
});

describe('refusals', () => {
  it('expectedVersion that is not the plan’s version is a VersionConflict; the current one is applied', () => {
    const { plan, ctx } = planInStage('assessment');
    const stale = refusal(() => decide(plan, command('withdraw', { reason: 'unreachable' }, { expectedVersion: plan!.version - 1 }), ctx));
    expect(stale.name).toBe('VersionConflict');
    expect(stale.status).toBe(409);
    expect(decide(plan, command('withdraw', { reason: 'unreachable' }, { expectedVersion: plan!.version }), ctx).plan.stage).toBe('withdrawn');
  });

  it.each([
    ['refer', { ...REFER_PAYLOAD, referral: { ...REFER_PAYLOAD.referral, localAuthority: 'atlantis' } }, 'none', ['referral.localAuthority']],
    ['refer', { ...REFER_PAYLOAD, ageAtReferral: -1 }, 'none', ['ageAtReferral']],
    ['record-consent', { scope: { shareWithProviders: 'yes' }, givenAt: '2026-03-02', method: 'written' }, 'referred', ['scope.shareWithProviders']],
    ['record-consent', { scope: { shareWithProviders: true }, givenAt: '02/03/2026', method: 'written' }, 'referred', ['givenAt']],
    ['submit-assessment', { needs: [{ domain: 'alcohol', level: 'severe', priority: true }] }, 'assessment', ['needs.0.level']],
    ['submit-assessment', { needs: [{ domain: 'alcohol', level: 'low', priority: true }, { domain: 'alcohol', level: 'high', priority: false }] }, 'assessment', ['needs']],
    ['submit-assessment', { needs: [] }, 'assessment', ['needs']],
    ['record-review', { scores: { 'mental-health': 11 }, outcome: 'continue' }, 'active', ['scores.mental-health']],
    ['record-review', { scores: {}, outcome: 'continue' }, 'active', ['scores']],
    ['record-review', { scores: { 'mental-health': 5 }, outcome: 'exit' }, 'active', ['exitReason']],
    ['record-review', { scores: { 'mental-health': 5 }, outcome: 'adjust' }, 'active', ['addNeeds']],
    ['record-review', { scores: { 'mental-health': 5 }, outcome: 'continue', closeNeeds: ['alcohol'] }, 'active', ['outcome']],
    ['exit', { reason: 'bored' }, 'active', ['reason']],
    ['exit', { reason: 'completed', surprise: true }, 'active', ['surprise']],
    ['exit', { reason: 'completed', surprise: true, extra: 1 }, 'active', ['surprise', 'extra']],
    ['record-consent', { scope: { shareWithProviders: true, everyone: true }, givenAt: '2026-03-02', method: 'written' }, 'referred', ['scope.everyone']],
    ['record-review', { scores: { 'mental-health': 5 }, outcome: 'continue', attendees: [{ role: 'participant', name: 'x' }] }, 'active', ['attendees.0.name']],
    ['record-review', { scores: { 'mental-health': 5 }, outcome: 'continue', attendees: [{ role: 'judge' }] }, 'active', ['attendees.0.role']],
    ['record-review', { scores: { 'mental-health': 5 }, outcome: 'continue', attendees: [{ role: 'participant' }, { role: 'provider', providerId: 'bcwa' }] }, 'active', ['attendees.1.providerId']],
    ['record-review', { scores: { 'mental-health': 5 }, outcome: 'continue', attendees: [{ role: 'provider' }] }, 'active', ['attendees.0.providerId']],
    ['record-review', { scores: { 'mental-health': 5 }, outcome: 'continue', attendees: [{ role: 'participant', providerId: 'anawim' }] }, 'active', ['attendees.0.providerId']],
    ['record-review', { scores: { 'mental-health': 5 }, outcome: 'continue', attendees: [] }, 'active', ['attendees']],
    ['record-review', { scores: { 'mental-health': 5 }, outcome: 'continue', attendees: [{ role: 'usher' }] }, 'active', ['attendees.0.role']],
    ['record-review', { scores: { 'mental-health': 5 }, outcome: 'continue', reviewEveryDays: 100 }, 'active', ['reviewEveryDays']],
    ['record-follow-up', { month: 9, reoffended: 'no' }, 'exited', ['month']],
  ] as [CommandName, unknown, Stage, string[]][])('%s with %j is InvalidCommand naming its field', (name, payload, stage, expected) => {
    const { plan, ctx } = planInStage(stage);
    const error = refusal(() => decide(plan, command(name, payload), ctx));
    expect(error.name).toBe('InvalidCommand');
    expect(error.status).toBe(400);
    expect(paths(error)).toEqual(expected);
    for (const path of expected) expect(error.message).toContain(path);
  });

  it('a refused command leaves the plan it was given untouched', () => {
    const { plan, ctx } = planInStage('active');
    const before = structuredClone(plan);
    refusal(() => decide(plan, command('record-review', { scores: { 'domestic-abuse': 5 }, outcome: 'continue' }), ctx));
    decide(plan, command('exit', { reason: 'completed' }), ctx);
    expect(plan).toEqual(before);
  });
});

describe('idempotency', () => {
  it('the plan remembers the key, fingerprint, version and status of applied commands', () => {
    const ctx = makeContext();
    const referred = decide(undefined, command('refer', REFER_PAYLOAD, { idempotency: { key: 'key-1', fingerprint: 'fp-refer' } }), ctx).plan;
    expect(referred.applied).toEqual([{ key: 'key-1', command: 'refer', fingerprint: 'fp-refer', version: 1, status: 201 }]);
    const consented = decide(referred, command('record-consent', consentPayload(ctx), { idempotency: { key: 'key-2', fingerprint: 'fp-consent' } }), ctx).plan;
    expect(consented.applied.map((a) => [a.key, a.fingerprint, a.version, a.status])).toEqual([
      ['key-1', 'fp-refer', 1, 201],
      ['key-2', 'fp-consent', 2, 200],
    ]);
    // Without a key nothing is remembered.
    expect(decide(consented, command('withdraw', { reason: 'unreachable' }), ctx).plan.applied).toHaveLength(2);
  });

  it(`remembers only the last ${REMEMBERED_COMMANDS} commands`, () => {
    const { plan: start, ctx } = planInStage('active');
    let plan = start!;
    const anawim = allocationOf(plan, 'anawim-womens-centre', 'accepted');
    for (let i = 1; i <= REMEMBERED_COMMANDS + 5; i += 1)
      plan = decide(plan, { ...respond('record-contact', anawim, { date: londonDate(ctx.now), kind: 'attended' }), idempotency: { key: `k${i}`, fingerprint: `f${i}` } }, ctx).plan;
    expect(plan.applied).toHaveLength(REMEMBERED_COMMANDS);
    expect(plan.applied[0]?.key).toBe('k6');
    expect(plan.applied.at(-1)).toMatchObject({ key: `k${REMEMBERED_COMMANDS + 5}`, version: plan.version });
  });
});

describe('timers', () => {
  it('a stale deadlineId changes nothing', () => {
    const { plan, ctx } = planInStage('active');
    const late = at(ctx, addDays(ctx.now, 60));
    for (const [name, deadlineId] of [
      ['review-due', 'review-due:7'],
      ['no-contact', 'no-contact:old'],
      ['offer-expired', 'offer-expired:al_fixture00000001_1'], // Anawim accepted: that deadline is gone
      ['review-overdue', 'review-due:1'], // a deadline of another command
    ] as [CommandName, string][]) {
      const decision = decide(plan, command(name, { deadlineId }, { actor: TIMER }), late);
      expect(decision.changed, `${name} ${deadlineId}`).toBe(false);
      expect(decision.events).toEqual([]);
      expect(decision.plan).toBe(plan);
    }
  });

  it('a timer that arrives before its deadline changes nothing', () => {
    const { plan, ctx } = planInStage('referred');
    const decision = decide(plan, command('assessment-overdue', { deadlineId: 'assessment-overdue' }, { actor: TIMER }), ctx);
    expect(decision.changed).toBe(false);
  });

  it('an overdue assessment escalates, repeats every 5 working days, and is resolved by the assessment', () => {
    const built = planInStage('assessment');
    const plan = built.plan;
    const due = plan!.deadlines.find((d) => d.command === 'assessment-overdue')!;
    const ctx = at(built.ctx, due.dueAt);
    const first = run(plan, command('assessment-overdue', { deadlineId: due.deadlineId }, { actor: TIMER }), ctx);
    expect(first.events).toEqual([expect.objectContaining({ type: 'plan.escalated.v1', data: expect.objectContaining({ kind: 'assessment-overdue', repeated: false }) })]);
    const again = first.plan.deadlines.find((d) => d.command === 'assessment-overdue')!;
    expect(again.dueAt).toBe('2026-03-23T17:00:00.000Z'); // Mon 16 Mar + 5 working days
    const second = run(first.plan, command('assessment-overdue', { deadlineId: again.deadlineId }, { actor: TIMER }), at(ctx, again.dueAt));
    expect(second.events[0]?.data).toMatchObject({ repeated: true });
    expect(second.plan.escalations).toHaveLength(1);
    const assessed = run(second.plan, command('submit-assessment', ASSESSMENT_PAYLOAD), at(ctx, again.dueAt));
    expect(assessed.plan.escalations[0]?.resolvedAt).toBe(again.dueAt);
  });

  it('a follow-up reminder repeats until the follow-up is recorded', () => {
    const { plan, ctx } = planInStage('exited');
    const six = plan!.deadlines.find((d) => d.deadlineId === 'follow-up-due:6')!;
    const fired = run(plan, command('follow-up-due', { deadlineId: six.deadlineId }, { actor: TIMER }), at(ctx, six.dueAt));
    expect(fired.plan.deadlines.find((d) => d.deadlineId === 'follow-up-due:6')?.dueAt).toBe(addDays(six.dueAt, 14));
    const recorded = run(fired.plan, command('record-follow-up', { month: 6, reoffended: 'unknown' }), at(ctx, six.dueAt));
    expect(recorded.plan.deadlines.map((d) => d.deadlineId)).toEqual(['follow-up-due:12']);
    expect(recorded.plan.escalations.every((e) => e.resolvedAt)).toBe(true);
  });

  it('a follow-up left unrecorded first reminds the coordinator, then escalates, then repeats the escalation; recording it resolves', () => {
    const { plan, ctx } = planInStage('exited');
    expect(plan!.remindersSent).toEqual([]);
    const fire = (p: Plan, month: 6 | 12) => {
      const deadline = p.deadlines.find((d) => d.deadlineId === `follow-up-due:${month}`)!;
      const when = at(ctx, deadline.dueAt);
      return { step: run(p, command('follow-up-due', { deadlineId: deadline.deadlineId }, { actor: TIMER }), when), when };
    };

    // 1. A reminder, no escalation.
    const { step: reminded, when: first } = fire(plan!, 6);
    expect(reminded.events.map((e) => [e.type, e.data])).toEqual([['follow-up.due.v1', { planRef: PLAN_ID, month: 6 }]]);
    expect(reminded.events[0]!.providerId).toBeUndefined();
    expect(reminded.plan.remindersSent).toEqual(['follow-up:6']);
    expect(reminded.plan.escalations).toEqual([]);
    expect(reminded.plan.deadlines.find((d) => d.deadlineId === 'follow-up-due:6')?.dueAt).toBe(addDays(first.now, 14));

    // 2. Still not recorded: an escalation to the team lead, not a second reminder.
    const { step: escalated, when: second } = fire(reminded.plan, 6);
    expect(escalated.events.map((e) => [e.type, e.data])).toEqual([['plan.escalated.v1', { planRef: PLAN_ID, kind: 'follow-up-due:6', stage: 'exited', repeated: false }]]);
    expect(escalated.plan.remindersSent).toEqual(['follow-up:6']);
    expect(escalated.plan.escalations).toEqual([{ kind: 'follow-up-due:6', raisedAt: second.now }]);
    expect(escalated.plan.deadlines.find((d) => d.deadlineId === 'follow-up-due:6')?.dueAt).toBe(addDays(second.now, 14));

    // 3. And again: the same escalation, repeated, still one open.
    const { step: repeated } = fire(escalated.plan, 6);
    expect(repeated.events.map((e) => [e.type, e.data.kind, e.data.repeated])).toEqual([['plan.escalated.v1', 'follow-up-due:6', true]]);
    expect(repeated.plan.escalations).toHaveLength(1);

    // The 12-month follow-up has its own reminder first.
    const { step: twelve } = fire(repeated.plan, 12);
    expect(types(twelve.events)).toEqual(['follow-up.due.v1']);
    expect(twelve.events[0]!.data).toEqual({ planRef: PLAN_ID, month: 12 });
    expect(twelve.plan.remindersSent).toEqual(['follow-up:6', 'follow-up:12']);

    // Recording the 6-month follow-up resolves its escalation and stops its timer.
    const recorded = run(twelve.plan, command('record-follow-up', { month: 6, reoffended: 'no' }), at(ctx, addMonths(plan!.exit!.exitedAt, 13)));
    expect(recorded.plan.escalations).toEqual([{ kind: 'follow-up-due:6', raisedAt: second.now, resolvedAt: addMonths(plan!.exit!.exitedAt, 13) }]);
    expect(recorded.plan.deadlines.map((d) => d.deadlineId)).toEqual(['follow-up-due:12']);
  });
});

describe('every waiting stage has a deadline', () => {
  const NON_TERMINAL = STAGES.filter((s) => s !== 'none' && !TERMINAL_STAGES.includes(s));

  function expectDeadlineInvariant(plan: Plan, where: string) {
    const due = nextDueAt(plan);
    if (TERMINAL_STAGES.includes(plan.stage)) {
      expect(due, where).toBeUndefined();
      expect(plan.deadlines, where).toEqual([]);
      return;
    }
    expect(due, `${where}: nextDueAt`).toBeDefined();
    const firing = plan.deadlines.filter((d) => d.dueAt === due);
    expect(firing.some((d) => isAllowedIn(d.command, plan.stage)), where).toBe(true);
  }

  it.each(NON_TERMINAL)('%s (as built by the fixtures) has a deadline whose command is allowed in it', (stage) => {
    expectDeadlineInvariant(planInStage(stage).plan!, stage);
  });

  it.each(TERMINAL_STAGES)('%s has none', (stage) => {
    expectDeadlineInvariant(planInStage(stage).plan!, stage);
  });

  /**
   * A random walk through the table: from a referral, send any command the lifecycle allows in the
   * plan's stage (with a valid payload and something real to act on), at random later times, and run
   * Allocate providers when needs changed. After every step the plan must be in a stage the row
   * allows, still have a deadline unless terminal, keep one ordered event stream and no identity.
   */
  const REVIEW_VARIANTS = ['continue', 'exit', 'adjust-add-priority', 'adjust-add-other', 'adjust-close'] as const;
  const ENDINGS: CommandName[] = ['withdraw', 'withdraw-consent', 'exit'];
  const EXTRA_NEEDS = ['trauma', 'substance-misuse', 'domestic-abuse', 'education-training-employment', 'interpersonal-skills'] as const;

  function variant(name: CommandName, cmd: Command, plan: Plan, pick: number): Command {
    if (name === 'record-consent') return { ...cmd, payload: { ...(cmd.payload as object), scope: { shareWithProviders: pick % 4 !== 0, dataCategories: ['needs', 'risks'] } } };
    if (name !== 'record-review') return cmd;
    const open = plan.needs.filter((n) => n.status === 'open').map((n) => n.domain);
    const payload = cmd.payload as { scores: Record<string, number> };
    const kind = REVIEW_VARIANTS[pick % REVIEW_VARIANTS.length]!;
    const extra = EXTRA_NEEDS.find((d, i) => i >= pick % EXTRA_NEEDS.length && !plan.needs.some((n) => n.domain === d));
    if (kind === 'exit') return { ...cmd, payload: { ...payload, outcome: 'exit', exitReason: 'completed' } };
    if ((kind === 'adjust-add-priority' || kind === 'adjust-add-other') && extra)
      return { ...cmd, payload: { ...payload, outcome: 'adjust', addNeeds: [{ domain: extra, level: 'medium', priority: kind === 'adjust-add-priority' }] } };
    if (kind === 'adjust-close' && open.length > 1) return { ...cmd, payload: { ...payload, outcome: 'adjust', closeNeeds: [open.at(-1)] } };
    return cmd;
  }

  it('holds along random walks through the lifecycle table', () => {
    fc.assert(
      fc.property(fc.constantFrom<Stage>('referred', 'allocating', 'active', 'exited'), fc.array(fc.record({ pick: fc.nat(1000), hours: fc.integer({ min: 0, max: 24 * 40 }) }), { minLength: 1, maxLength: 30 }), (start, steps) => {
        const built = planInStage(start);
        let ctx: DecideContext = built.ctx;
        let plan = built.plan!;
        const trail: string[] = [start];
        for (const { pick, hours } of steps) {
          if (TERMINAL_STAGES.includes(plan.stage)) break;
          ctx = at(ctx, addDays(ctx.now, hours / 24));
          // Endings are picked rarely, so walks spend time in the working stages.
          const options = COMMAND_NAMES.filter((name) => isAllowedIn(name, plan.stage) && (!ENDINGS.includes(name) || pick % 8 === 0))
            .map((name) => ({ name, ...validCommand(name, plan, ctx) }))
            .filter((o) => o.feasible);
          expect(options.length, trail.join(' → ')).toBeGreaterThan(0);
          const chosen = options[pick % options.length]!;
          const cmd = variant(chosen.name, chosen.command, plan, pick);
          if (chosen.ctx.now > ctx.now) ctx = chosen.ctx;
          trail.push(`${chosen.name}@${ctx.now}`);
          const before = plan;
          let step;
          try {
            step = run(plan, cmd, ctx);
          } catch (error) {
            throw new Error(`${trail.join(' → ')}: ${(error as Error).name} ${(error as Error).message}`, { cause: error });
          }
          plan = step.plan;
          const where = trail.join(' → ');
          expect(LIFECYCLE[chosen.name].next as readonly Stage[], where).toContain(plan.stage);
          // And a move the table (so docs/lifecycle.md's diagram) draws from the stage it was sent in.
          expect(stageMoves(chosen.name), where).toContainEqual([before.stage, plan.stage]);
          expect(plan.version, where).toBe(before.version + (step.decision.changed ? 1 : 0));
          expectDeadlineInvariant(plan, where);
          // Once her consent is withdrawn nothing is due about her: no follow-up, and the plan has closed.
          if (plan.consent?.withdrawnAt || plan.exit?.reason === 'consent-withdrawn') {
            expect(plan.stage, where).toBe('closed');
            expect(plan.deadlines, where).toEqual([]);
          }
          // No need is ever held by two live allocations at once.
          const held = plan.allocations.filter((a) => a.status === 'offered' || a.status === 'accepted').flatMap((a) => a.needs);
          expect(new Set(held).size, where).toBe(held.length);
        }
        expect(plan.outbox.map((e) => e.sequence)).toEqual(plan.outbox.map((_, i) => i + 1));
        expectStrictlyIncreasingSequence(plan.outbox);
        expectNoIdentity(plan);
      }),
      { numRuns: 150, seed: 20260302 },
    );
  });

  /**
   * Timers fire on plans as they are stored, not only as the walk builds them: a plan whose identity
   * was erased, or whose consent was withdrawn by a release that kept its follow-ups, still has its
   * deadlines. Whatever decide() does with a due timer, the table (and so the Guard and Route Choice
   * states, docs/lifecycle.md and the OpenAPI) must draw that move from the stage it fired in.
   */
  it('a due timer, on a plan as stored (as built, her identity erased, consent withdrawn by an older release), makes only a move the table draws (property)', () => {
    const TIMERS = COMMAND_NAMES.filter((name) => (LIFECYCLE[name].actors as readonly string[]).includes('timer'));
    const AS_STORED = ['as built', 'identity erased', 'consent withdrawn, follow-ups kept'] as const;
    fc.assert(
      fc.property(fc.constantFrom(...NON_TERMINAL), fc.constantFrom(...TIMERS), fc.constantFrom(...AS_STORED), fc.nat(5), (stage, name, stored, repeats) => {
        fc.pre(isAllowedIn(name, stage));
        const built = planInStage(stage);
        let plan: Plan = built.plan!;
        if (stored === 'identity erased') plan = { ...plan, identityErasedAt: built.ctx.now };
        if (stored === 'consent withdrawn, follow-ups kept' && plan.consent) plan = { ...plan, consent: { ...plan.consent, withdrawnAt: built.ctx.now } };
        // Fire it repeatedly: a reminder comes first, then escalations.
        for (let i = 0; i <= repeats && plan.stage === stage; i += 1) {
          const valid = validCommand(name, plan, built.ctx);
          if (!valid.feasible) return;
          const step = run(plan, valid.command, valid.ctx);
          const where = `${name} in ${stage} (${stored}), firing ${i + 1}`;
          expect(LIFECYCLE[name].next as readonly Stage[], where).toContain(step.plan.stage);
          expect(stageMoves(name), where).toContainEqual([stage, step.plan.stage]);
          plan = step.plan;
        }
      }),
      { numRuns: 300, seed: 20261129 },
    );
  });
});

describe('events', () => {
  it('the events of every fixture plan have strictly increasing sequence numbers and no identity', () => {
    for (const stage of STAGES.filter((s) => s !== 'none')) {
      const { plan, events } = planInStage(stage);
      expectStrictlyIncreasingSequence(events);
      expect(plan!.outbox).toEqual(events);
      expect(plan!.sequence).toBe(events.length);
      expectNoIdentity(events);
      for (const e of events) expect(e.planId).toBe(PLAN_ID);
    }
  });

  it('the Allocate providers step continues the same sequence without bumping the version', () => {
    const { plan, ctx } = planInStage('assessment');
    const decision = decide(plan, command('submit-assessment', ASSESSMENT_PAYLOAD), ctx);
    const allocated = allocatePlan(decision.plan, ctx, {});
    expect(allocated.plan.version).toBe(decision.plan.version);
    expect(allocated.events[0]!.sequence).toBe(decision.events.at(-1)!.sequence + 1);
    expectStrictlyIncreasingSequence(allocated.plan.outbox);
  });

  it('allocatePlan changes nothing when every open need is held', () => {
    const { plan, ctx } = planInStage('active');
    const result = allocatePlan(plan!, ctx, {});
    expect(result.plan).toBe(plan);
    expect(result.events).toEqual([]);
  });

  it('the plan marks only the key worker (the provider holding the most needs) as lead', () => {
    const { plan } = planInStage('allocating');
    const lead = plan!.allocations.filter((a) => a.lead).map((a) => a.providerId);
    expect(new Set(lead)).toEqual(new Set(['changing-lives']));
  });

  it('offer events tell only the real lead provider that it leads, as the plan records it once every offer exists', () => {
    const { plan: assessment, ctx } = planInStage('assessment');
    const step = run(assessment, command('submit-assessment', ASSESSMENT_PAYLOAD), ctx);
    const offers = step.events.filter((e) => e.type === 'allocation.offered.v1');
    expect(offers.map((e) => [e.providerId, e.data.lead])).toEqual([
      ['anawim', false],
      ['changing-lives', true],
      ['changing-lives', true],
      ['green-square-accord', false],
    ]);
    // Every offer event agrees with the plan it belongs to.
    for (const e of offers) expect(e.data.lead, e.data.allocationId as string).toBe(step.plan.allocations.find((a) => a.allocationId === e.data.allocationId)!.lead);
    expect(new Set(offers.filter((e) => e.data.lead).map((e) => e.providerId))).toEqual(new Set(['changing-lives']));
    // The proposal comes first, then the offers; every offer has its own response deadline.
    expect(types(step.events)).toEqual(['plan.assessment-submitted.v1', 'plan.allocation-proposed.v1', 'allocation.offered.v1', 'allocation.offered.v1', 'allocation.offered.v1', 'allocation.offered.v1']);
    for (const a of step.plan.allocations) expect(step.plan.deadlines.some((d) => d.deadlineId === `offer-expired:${a.allocationId}`)).toBe(true);
  });

  it('offers made after a decline are told the lead as it stands with every live allocation', () => {
    const { plan, ctx } = planInStage('allocating');
    const declined = run(plan, respond('decline-offer', allocationOf(plan!, 'changing-lives-housing-first', 'offered'), { reason: 'capacity' }), ctx);
    const offered = declined.events.filter((e) => e.type === 'allocation.offered.v1');
    expect(offered).toHaveLength(1);
    // Green Square Accord now holds finance and accommodation: two needs, more than anyone else.
    expect(offered[0]).toMatchObject({ providerId: 'green-square-accord', data: { lead: true } });
    expect(declined.plan.allocations.filter((a) => a.lead).map((a) => a.providerId)).toEqual(['green-square-accord', 'green-square-accord']);
  });

  it('provider events carry the plan reference, never the participant id', () => {
    const { events } = planInStage('active');
    const toProviders = events.filter((x) => x.providerId);
    expect(toProviders.length).toBeGreaterThan(0);
    for (const e of toProviders) {
      expect(e.data.planRef).toBe(PLAN_ID);
      expect(JSON.stringify(e.data)).not.toContain(REFER_PAYLOAD.participantId);
    }
  });
});
