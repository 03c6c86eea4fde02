/**
 * Consent scoped to named providers, and change-consent (lib/domain/decide.ts changeConsent, allocation's
 * outside-consent gap, the provider read paths): narrowing withdraws and ends what a provider no longer
 * covered holds and tells it to purge; unmet needs go to allocation within the new scope; broadening
 * reaches needs that were gaps because of her consent; every refusal changes nothing.
 */
import { describe, expect, it } from 'vitest';
import { COUNT_FIGURES } from '../../lib/domain/metrics/definitions.ts';
import { participantShareDecision } from '../../lib/domain/participant-share.ts';
import { providerAllocationView } from '../../lib/domain/provider-views.ts';
import { redactPlan, REDACTED } from '../../lib/domain/redaction.ts';
import { planView } from '../../lib/domain/views.ts';
import { DATA_CATEGORIES, MAX_CONSENT_PROVIDERS, MAX_REPLACED_CONSENTS, Plan } from '../../lib/domain/schemas.ts';
import { addDays, londonDate } from '../../lib/domain/calendar.ts';
import { allocationOf, ASSESSMENT_PAYLOAD, at, command, consentPayload, planInStage, respond, run, type BuiltPlan, refusal } from '../support/domain-fixtures.ts';

const NOTE = 'Her ex-partner works at the housing office';

const change = (ctx: BuiltPlan['ctx'], scope: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  command('change-consent', { scope: { shareWithProviders: true, dataCategories: ['needs'], ...scope }, givenAt: londonDate(ctx.now), method: 'verbal', ...extra });

/** The needs of a provider's view (an unknown allocation's view has none). */
const needsOf = (view: ReturnType<typeof providerAllocationView>) => ('needs' in view ? view.needs : undefined);

const live = (plan: Plan) => plan.allocations.filter((a) => a.status === 'offered' || a.status === 'accepted');

describe('consent scoped to named providers', () => {
  it('record-consent refuses a provider id not in the directory, naming its place, and a provider list while nothing is shared', () => {
    const { plan, ctx } = planInStage('referred');
    const unknown = refusal(() => run(plan, command('record-consent', { ...consentPayload(ctx), scope: { shareWithProviders: true, providers: { kind: 'only', providerIds: ['anawim', 'bcwa', 'nobody-here'] } } }), ctx));
    expect(unknown.status).toBe(400);
    expect(unknown.errors).toEqual([{ path: 'scope.providers.providerIds.2', message: expect.stringContaining('no provider "nobody-here" in the directory') }]);
    const nothingShared = refusal(() => run(plan, command('record-consent', { ...consentPayload(ctx), scope: { shareWithProviders: false, providers: { kind: 'all-except', providerIds: ['bcwa'] } } }), ctx));
    expect(nothingShared.errors).toEqual([{ path: 'scope.providers', message: expect.stringContaining('when shareWithProviders is false') }]);
    const twice = refusal(() => run(plan, command('record-consent', { ...consentPayload(ctx), scope: { shareWithProviders: true, providers: { kind: 'only', providerIds: ['anawim', 'anawim'] } } }), ctx));
    expect(twice.errors?.[0]?.path).toBe('scope.providers.providerIds.1');
    const none = refusal(() => run(plan, command('record-consent', { ...consentPayload(ctx), scope: { shareWithProviders: true, providers: { kind: 'only', providerIds: [] } } }), ctx));
    expect(none.errors?.[0]?.path).toBe('scope.providers.providerIds');
  });

  it('contradictory scopes are refused by record-consent and change-consent alike, naming the field, and change nothing; [] with sharing off still records', () => {
    const { plan, ctx } = planInStage('referred');
    const assessment = planInStage('assessment');
    const everyone = ctx.directory.organizations.map((o) => o.id);
    const cases: [Record<string, unknown>, string, string][] = [
      [{ shareWithProviders: true, dataCategories: ['needs'], providers: { kind: 'all-except', providerIds: everyone } }, 'scope.providers.providerIds', 'set shareWithProviders to false instead'],
      [{ shareWithProviders: true, dataCategories: ['needs', 'risks', 'needs'] }, 'scope.dataCategories.2', 'needs is named twice'],
      [{ shareWithProviders: true, dataCategories: [] }, 'scope.dataCategories', 'choose at least one category, or set shareWithProviders to false'],
      [{ shareWithProviders: true, dataCategories: ['needs'], providers: { kind: 'only', providerIds: [] } }, 'scope.providers.providerIds', "name at least one provider, or choose kind 'all'"],
    ];
    for (const [scope, path, words] of cases) {
      for (const [before, name, at] of [[plan, 'record-consent', ctx], [assessment.plan, 'change-consent', assessment.ctx]] as const) {
        const snapshot = structuredClone(before);
        const error = refusal(() => run(before, command(name, { ...consentPayload(at), scope }), at));
        expect([error.status, error.errors], `${name} ${JSON.stringify(scope)}`).toEqual([400, [{ path, message: expect.stringContaining(words) }]]);
        expect(before).toEqual(snapshot);
      }
    }
    const nothingShared = run(plan, command('record-consent', { ...consentPayload(ctx), scope: { shareWithProviders: false, dataCategories: [] } }), ctx);
    expect(nothingShared.plan.consent?.scope).toMatchObject({ shareWithProviders: false, dataCategories: [] });
    // Excluding all but one organisation is a real choice, and allowed.
    expect(run(plan, command('record-consent', { ...consentPayload(ctx), scope: { shareWithProviders: true, providers: { kind: 'all-except', providerIds: everyone.slice(1) } } }), ctx).plan.stage).toBe('assessment');
  });

  it("the figures' definition of Gaps: outside her consent does not say no provider was found: one was, only not one her consent covers", () => {
    const definition = COUNT_FIGURES.gapsOutsideConsent.definition;
    expect(definition).not.toContain('no provider found');
    expect(definition).toContain('her consent does not cover');
  });

  it('plan.consent-recorded.v1 says which kind of provider scope and how many named, never which', () => {
    const { plan, ctx } = planInStage('referred');
    const step = run(plan, command('record-consent', { ...consentPayload(ctx), scope: { shareWithProviders: true, providers: { kind: 'all-except', providerIds: ['bcwa', 'anawim'] } } }), ctx);
    const recorded = step.events.find((e) => e.type === 'plan.consent-recorded.v1');
    expect(recorded?.data).toMatchObject({ providersKind: 'all-except', providersNamed: 2 });
    expect(JSON.stringify(step.events)).not.toContain('bcwa');
    const all = run(plan, command('record-consent', consentPayload(ctx)), ctx).events.find((e) => e.type === 'plan.consent-recorded.v1');
    expect(all?.data).toMatchObject({ providersKind: 'all', providersNamed: 0 });
  });

  it('allocation offers only to the providers she agreed to; a need only others could meet is a gap outside-consent naming them, with no coverage-gap escalation', () => {
    const { plan, ctx } = planInStage('referred');
    const consented = run(plan, command('record-consent', { ...consentPayload(ctx), scope: { shareWithProviders: true, dataCategories: ['needs'], providers: { kind: 'only', providerIds: ['anawim', 'green-square-accord'] } } }), ctx);
    expect(planView(consented.plan, consented.plan.updatedAt).consent?.scope.providers).toEqual({ kind: 'only', providerIds: ['anawim', 'green-square-accord'] });
    const assessed = run(consented.plan, command('submit-assessment', ASSESSMENT_PAYLOAD), ctx);
    expect(new Set(live(assessed.plan).map((a) => a.providerId))).toEqual(new Set(['anawim', 'green-square-accord']));
    // Alcohol: only Changing Lives serves it in Birmingham.
    expect(assessed.plan.gaps).toEqual([
      {
        domain: 'alcohol',
        reason: 'outside-consent',
        explanation: expect.stringContaining('Her consent does not cover Changing Lives, which could meet alcohol in Birmingham'),
        recordedAt: ctx.now,
      },
    ]);
    expect(assessed.plan.escalations.filter((e) => e.kind === 'coverage-gap')).toEqual([]);
  });

  it('the plan names whom her consent leaves out, with "or"; events and the history say only that providers she has not agreed to could meet it', () => {
    const { plan, ctx } = planInStage('referred');
    const consented = run(plan, command('record-consent', { ...consentPayload(ctx), scope: { shareWithProviders: true, dataCategories: ['needs'], providers: { kind: 'only', providerIds: ['bcwa'] } } }), ctx);
    const assessed = run(consented.plan, command('submit-assessment', ASSESSMENT_PAYLOAD), ctx);
    const accommodation = assessed.plan.gaps.find((g) => g.domain === 'accommodation');
    expect(accommodation?.explanation).toContain('Her consent does not cover Changing Lives or Green Square Accord, which could meet accommodation');
    const proposed = assessed.events.filter((e) => e.type === 'plan.allocation-proposed.v1');
    expect(proposed).toHaveLength(1);
    const eventGaps = proposed[0]!.data.gaps as { domain: string; reason: string; explanation: string }[];
    expect(eventGaps.find((g) => g.domain === 'accommodation')).toEqual({ domain: 'accommodation', reason: 'outside-consent', explanation: 'Only providers her consent does not cover could meet accommodation.' });
    for (const name of ['Changing Lives', 'changing-lives', 'Green Square', 'green-square-accord', 'Anawim', 'anawim']) expect(JSON.stringify(assessed.events)).not.toContain(name);
  });

  it('a stored consent without providers reads as all, in allocation and in the plan view', () => {
    const { plan, ctx } = planInStage('assessment');
    const legacy = structuredClone(plan) as Plan;
    delete (legacy.consent as { scope: { providers?: unknown } }).scope.providers;
    expect(planView(legacy, legacy.updatedAt).consent?.scope.providers).toEqual({ kind: 'all' });
    const assessed = run(legacy, command('submit-assessment', ASSESSMENT_PAYLOAD), ctx);
    expect(new Set(live(assessed.plan).map((a) => a.providerId))).toEqual(new Set(['anawim', 'changing-lives', 'green-square-accord']));
  });

  it('offer-manually to a provider outside her consent is refused naming the service, and changes nothing', () => {
    const { plan, ctx } = planInStage('assessment');
    const narrowed = run(plan, change(ctx, { providers: { kind: 'all-except', providerIds: ['changing-lives'] } }), ctx).plan;
    const assessed = run(narrowed, command('submit-assessment', ASSESSMENT_PAYLOAD), ctx).plan;
    const error = refusal(() => run(assessed, command('offer-manually', { serviceId: 'changing-lives-recovery', needs: ['alcohol'], reason: 'She knows the team' }), ctx));
    expect(error.status).toBe(400);
    expect(error.errors).toEqual([{ path: 'serviceId', message: 'her consent does not cover Changing Lives: change her consent first if she agrees to it' }]);
  });
});

describe('change-consent', () => {
  it('in assessment replaces the scope and keeps the one it replaced; the event carries kinds and counts, never provider ids or the note', () => {
    const { plan, ctx } = planInStage('assessment');
    const later = at(ctx, addDays(ctx.now, 2));
    const step = run(plan, change(later, { dataCategories: ['needs', 'risks'], providers: { kind: 'all-except', providerIds: ['bcwa', 'changing-lives'] } }, { note: NOTE }), later);
    expect(step.plan.stage).toBe('assessment');
    expect(step.plan.consent).toEqual({
      scope: { shareWithProviders: true, dataCategories: ['needs', 'risks'], providers: { kind: 'all-except', providerIds: ['bcwa', 'changing-lives'] } },
      givenAt: londonDate(later.now),
      method: 'verbal',
      recordedAt: later.now,
      note: NOTE,
      previous: [{ scope: { shareWithProviders: true, dataCategories: ['needs'], providers: { kind: 'all' } }, givenAt: londonDate(ctx.now), method: 'written', recordedAt: ctx.now, replacedAt: later.now }],
    });
    expect(step.events.map((e) => [e.type, e.data])).toEqual([
      ['plan.consent-changed.v1', { planRef: plan!.planId, shareWithProviders: true, dataCategories: ['needs', 'risks'], providersKind: 'all-except', providersNamed: 2, method: 'verbal', reconfirmed: false, backToAllocating: false }],
    ]);
    expect(JSON.stringify(step.events)).not.toContain('changing-lives');
    expect(JSON.stringify(step.events)).not.toContain('ex-partner');
    // The note is free text: erasure replaces it, on the consent and on the consents it replaced.
    const again = run(step.plan, change(later, { providers: { kind: 'all' } }), later).plan;
    const redacted = redactPlan({ ...again, consent: { ...again.consent!, note: 'Another note' } });
    expect(redacted.consent?.note).toBe(REDACTED);
    expect(redacted.consent?.previous?.at(-1)?.note).toBe(REDACTED);
  });

  it('narrowing an active plan ends and withdraws what the dropped provider holds, tells it to purge, re-offers within the new scope and goes back to allocating for a priority need', () => {
    const { plan, ctx } = planInStage('active');
    const housing = allocationOf(plan!, 'changing-lives-housing-first', 'accepted');
    const recovery = allocationOf(plan!, 'changing-lives-recovery', 'offered');
    const step = run(plan, change(ctx, { providers: { kind: 'all-except', providerIds: ['changing-lives'] } }), ctx);
    const after = step.plan;
    const byId = (id: string) => after.allocations.find((a) => a.allocationId === id)!;
    expect([byId(housing.allocationId).status, byId(housing.allocationId).outcome]).toEqual(['ended', 'consent-withdrawn']);
    expect([byId(recovery.allocationId).status, byId(recovery.allocationId).outcome]).toEqual(['withdrawn', 'consent-withdrawn']);
    const purges = step.events.filter((e) => e.type === 'plan.consent-withdrawn.v1');
    expect(purges.map((e) => [e.providerId, e.data.allocationId])).toEqual([
      ['changing-lives', housing.allocationId],
      ['changing-lives', recovery.allocationId],
    ]);
    // Accommodation (priority) lost its accepted provider: back to allocating, offered to Green Square Accord (which already has finance).
    expect(after.stage).toBe('allocating');
    // Said in the change's event, as plan.adjusted.v1 says what a review's 'adjust' changed.
    expect(step.events.find((e) => e.type === 'plan.consent-changed.v1')?.data.backToAllocating).toBe(true);
    expect(after.deadlines.some((d) => d.command === 'activation-overdue')).toBe(true);
    expect(live(after).every((a) => a.providerId !== 'changing-lives')).toBe(true);
    expect(live(after).find((a) => a.needs.includes('accommodation'))?.providerId).toBe('green-square-accord');
    expect(after.gaps.map((g) => [g.domain, g.reason])).toEqual([['alcohol', 'outside-consent']]);
    expect(after.escalations.filter((e) => e.kind === 'coverage-gap' && !e.resolvedAt)).toEqual([]);
    // Green Square Accord accepts: active again, by the existing rule.
    const offer = live(after).find((a) => a.needs.includes('accommodation'))!;
    const accepted = run(after, respond('accept-offer', offer, {}), ctx);
    expect(accepted.plan.stage).toBe('active');
    expect(accepted.plan.activatedAt).toBe(plan!.activatedAt);
  });

  it('a provider her consent no longer covers is refused as an attendee of her review, naming it; one still covered attends', () => {
    const { plan, ctx } = planInStage('active');
    const narrowed = run(plan, change(ctx, { providers: { kind: 'all-except', providerIds: ['changing-lives'] } }), ctx).plan;
    const offer = live(narrowed).find((a) => a.needs.includes('accommodation'))!;
    const active = run(narrowed, respond('accept-offer', offer, {}), ctx).plan;
    expect(active.stage).toBe('active');
    // Changing Lives held an accepted allocation (ended, consent-withdrawn): it once held one, but may not be told of her review.
    const review = (providerId: string) => command('record-review', { scores: { accommodation: 6 }, outcome: 'continue', attendees: [{ role: 'coordinator' }, { role: 'provider', providerId }] });
    const snapshot = structuredClone(active);
    const error = refusal(() => run(active, review('changing-lives'), ctx));
    expect([error.status, error.errors]).toEqual([400, [{ path: 'attendees.1.providerId', message: expect.stringContaining('her consent does not cover Changing Lives') }]]);
    expect(active).toEqual(snapshot);
    expect(run(active, review('green-square-accord'), ctx).plan.reviews).toHaveLength(1);
  });

  it('the dropped provider loses access at once: no goals or risks in its view, no contact details; narrowed categories apply to the providers still covered', () => {
    const { plan, ctx } = planInStage('active');
    const withContact = run(plan, change(ctx, { dataCategories: ['needs', 'risks', 'contact-details'] }), ctx).plan;
    const anawim = allocationOf(withContact, 'anawim-womens-centre', 'accepted');
    const housing = allocationOf(withContact, 'changing-lives-housing-first', 'accepted');
    expect(participantShareDecision(withContact, housing.allocationId, 'changing-lives')).toEqual({ allowed: true });
    expect(providerAllocationView(withContact, anawim.allocationId)).toHaveProperty('risks');

    const narrowed = run(withContact, change(ctx, { dataCategories: ['needs'], providers: { kind: 'only', providerIds: ['anawim', 'green-square-accord'] } }), ctx).plan;
    const dropped = providerAllocationView(narrowed, housing.allocationId);
    expect(dropped.status).toBe('ended');
    expect(needsOf(dropped)).toEqual([{ domain: 'accommodation' }]);
    expect(participantShareDecision(narrowed, housing.allocationId, 'changing-lives')).toMatchObject({ allowed: false, status: 403 });
    const kept = providerAllocationView(narrowed, anawim.allocationId);
    expect(kept).not.toHaveProperty('risks');
    expect(needsOf(kept)?.[0]).toHaveProperty('goals');
    expect(participantShareDecision(narrowed, anawim.allocationId, 'anawim')).toMatchObject({ allowed: false, reason: 'consent-excludes-contact-details' });
  });

  it('an accepted allocation with a provider the consent does not cover shares nothing, whatever its status says', () => {
    const { plan, ctx } = planInStage('active');
    const shared = run(plan, change(ctx, { dataCategories: ['needs', 'contact-details'] }), ctx).plan;
    const housing = allocationOf(shared, 'changing-lives-housing-first', 'accepted');
    // As if the consent had been narrowed without the cascade (it never is): the read path still refuses.
    const inconsistent = structuredClone(shared);
    inconsistent.consent!.scope.providers = { kind: 'only', providerIds: ['anawim'] };
    expect(participantShareDecision(inconsistent, housing.allocationId, 'changing-lives')).toMatchObject({ allowed: false, reason: 'consent-excludes-provider' });
    expect(needsOf(providerAllocationView(inconsistent, housing.allocationId))?.[0]).not.toHaveProperty('goals');
  });

  it('sharing turned off in allocating: every live offer and allocation released, every provider ever sent anything told to purge, needs recorded as no-consent-to-share', () => {
    const { plan, ctx } = planInStage('allocating');
    const providers = new Set(plan!.allocations.map((a) => a.providerId));
    const step = run(plan, command('change-consent', { scope: { shareWithProviders: false, dataCategories: [] }, givenAt: londonDate(ctx.now), method: 'written' }), ctx);
    expect(live(step.plan)).toEqual([]);
    expect(new Set(step.events.filter((e) => e.type === 'plan.consent-withdrawn.v1').map((e) => e.providerId))).toEqual(providers);
    expect(step.plan.stage).toBe('allocating');
    expect(new Set(step.plan.gaps.map((g) => g.reason))).toEqual(new Set(['no-consent-to-share']));
    expect(step.plan.gaps.map((g) => g.domain).sort()).toEqual(step.plan.needs.map((n) => n.domain).sort());
  });

  it('broadening reaches needs that were consent gaps: offered, and a priority one takes an active plan back to allocating', () => {
    const { plan, ctx } = planInStage('referred');
    const consented = run(plan, command('record-consent', consentPayload(ctx, false)), ctx).plan;
    const assessed = run(consented, command('submit-assessment', ASSESSMENT_PAYLOAD), ctx).plan;
    const active = run(assessed, command('activate', { reason: 'Support from the coordinator for now' }), ctx).plan;
    expect(active.stage).toBe('active');
    expect(active.allocations).toEqual([]);
    const step = run(active, change(ctx, { providers: { kind: 'all-except', providerIds: ['green-square-accord'] } }), ctx);
    expect(step.decision.needsAllocation).toBe(true);
    expect(step.plan.stage).toBe('allocating');
    expect(new Set(live(step.plan).map((a) => a.providerId))).toEqual(new Set(['anawim', 'changing-lives']));
    // Finance: only Green Square Accord serves it in Birmingham.
    expect(step.plan.gaps.map((g) => [g.domain, g.reason])).toEqual([['finance-benefit-debt', 'outside-consent']]);
    expect(step.events.filter((e) => e.type === 'plan.consent-withdrawn.v1')).toEqual([]);
  });

  it('the same scope again is a re-confirmation: a date on the consent it confirms, no offer or allocation touched', () => {
    const { plan, ctx } = planInStage('allocating');
    const later = at(ctx, addDays(ctx.now, 1));
    const step = run(plan, command('change-consent', { scope: { shareWithProviders: true, dataCategories: ['needs'], providers: { kind: 'all' } }, givenAt: londonDate(later.now), method: 'digital', note: NOTE }), later);
    expect(step.decision.needsAllocation).toBe(false);
    expect(step.plan.allocations).toEqual(plan!.allocations);
    expect(step.plan.consent).toEqual({ ...plan!.consent, reconfirmedAt: londonDate(later.now), reconfirmedMethod: 'digital', reconfirmedNote: NOTE });
    expect(step.events.map((e) => [e.type, e.data.reconfirmed])).toEqual([['plan.consent-changed.v1', true]]);
    expect(JSON.stringify(step.events)).not.toContain('ex-partner');
    expect(redactPlan(step.plan).consent?.reconfirmedNote).toBe(REDACTED);
  });

  it('re-confirmations take no place among the consents replaced: 21 of them leave her earlier, different consents on the plan', () => {
    let { plan, ctx } = planInStage('assessment');
    ctx = at(ctx, addDays(ctx.now, 1));
    plan = run(plan, change(ctx, { providers: { kind: 'all-except', providerIds: ['bcwa'] } }), ctx).plan;
    const history = plan!.consent?.previous;
    for (let i = 0; i < 21; i += 1) {
      ctx = at(ctx, addDays(ctx.now, 1));
      plan = run(plan, change(ctx, { providers: { kind: 'all-except', providerIds: ['bcwa'] } }), ctx).plan;
    }
    expect(plan!.consent?.previous).toEqual(history);
    expect(plan!.consent?.previous?.[0]?.scope.providers).toEqual({ kind: 'all' });
    expect(plan!.consent?.scope.providers).toEqual({ kind: 'all-except', providerIds: ['bcwa'] });
    expect(plan!.consent?.reconfirmedAt).toBe(londonDate(ctx.now));
    // One keyed in late, given earlier, does not move the date back.
    const late = run(plan, command('change-consent', { scope: plan!.consent!.scope, givenAt: plan!.consent!.givenAt, method: 'written' }), ctx).plan;
    expect(late.consent?.reconfirmedAt).toBe(londonDate(ctx.now));
  });

  it('keeps how she last gave it again with its date: the latest method, not one keyed in late for an earlier day; a plan from before holds none', () => {
    let { plan, ctx } = planInStage('assessment');
    const scope = plan!.consent!.scope;
    expect(plan!.consent?.reconfirmedMethod).toBeUndefined();
    ctx = at(ctx, addDays(ctx.now, 1));
    plan = run(plan, command('change-consent', { scope, givenAt: londonDate(ctx.now), method: 'written' }), ctx).plan;
    expect(plan!.consent).toMatchObject({ reconfirmedAt: londonDate(ctx.now), reconfirmedMethod: 'written' });
    const writtenOn = londonDate(ctx.now);
    ctx = at(ctx, addDays(ctx.now, 1));
    plan = run(plan, command('change-consent', { scope, givenAt: londonDate(ctx.now), method: 'verbal' }), ctx).plan;
    expect(plan!.consent).toMatchObject({ reconfirmedAt: londonDate(ctx.now), reconfirmedMethod: 'verbal' });
    // Keyed in late for the earlier day: neither the date nor the method goes back.
    const late = run(plan, command('change-consent', { scope, givenAt: writtenOn, method: 'digital' }), ctx).plan;
    expect(late.consent).toMatchObject({ reconfirmedAt: londonDate(ctx.now), reconfirmedMethod: 'verbal' });
    // A plan saved before the method was kept reads as it did, and its next re-confirmation adds it.
    const { reconfirmedMethod: _method, ...older } = plan!.consent!;
    const before = Plan.parse({ ...plan!, consent: older });
    expect(before.consent?.reconfirmedMethod).toBeUndefined();
    ctx = at(ctx, addDays(ctx.now, 1));
    expect(run(before, command('change-consent', { scope, givenAt: londonDate(ctx.now), method: 'written' }), ctx).plan!.consent?.reconfirmedMethod).toBe('written');
    // Events say how it was given, never a note.
    const step = run(plan, command('change-consent', { scope, givenAt: londonDate(ctx.now), method: 'digital', note: NOTE }), ctx);
    expect(step.events.map((e) => e.data)).toEqual([expect.objectContaining({ method: 'digital', reconfirmed: true })]);
    expect(JSON.stringify(step.events)).not.toContain(NOTE);
  });

  it('a consent given again and later replaced keeps, among the consents replaced, when she gave it again and that note; redacted at erasure', () => {
    let { plan, ctx } = planInStage('assessment');
    ctx = at(ctx, addDays(ctx.now, 1));
    const scope = plan!.consent!.scope;
    plan = run(plan, command('change-consent', { scope, givenAt: londonDate(ctx.now), method: 'verbal', note: NOTE }), ctx).plan;
    const reconfirmedAt = londonDate(ctx.now);
    ctx = at(ctx, addDays(ctx.now, 1));
    plan = run(plan, change(ctx, { providers: { kind: 'all-except', providerIds: ['bcwa'] } }), ctx).plan;
    expect(plan!.consent?.reconfirmedAt).toBeUndefined();
    expect(plan!.consent?.previous?.at(-1)).toMatchObject({ scope: { providers: { kind: 'all' } }, reconfirmedAt, reconfirmedMethod: 'verbal', reconfirmedNote: NOTE, replacedAt: ctx.now });
    expect(redactPlan(plan!).consent?.previous?.at(-1)?.reconfirmedNote).toBe(REDACTED);
  });

  it('a change of data categories alone touches no offer: providers read the new categories at their next read', () => {
    const { plan, ctx } = planInStage('referred');
    const consented = run(plan, command('record-consent', { ...consentPayload(ctx), scope: { shareWithProviders: true, dataCategories: ['needs'], providers: { kind: 'all-except', providerIds: ['changing-lives'] } } }), ctx).plan;
    const assessed = run(consented, command('submit-assessment', ASSESSMENT_PAYLOAD), ctx).plan;
    expect(assessed.gaps.map((g) => g.reason)).toEqual(['outside-consent']);
    const step = run(assessed, change(ctx, { dataCategories: ['needs', 'risks'], providers: { kind: 'all-except', providerIds: ['changing-lives'] } }), ctx);
    expect(step.decision.needsAllocation).toBe(false);
    expect(step.plan.allocations).toEqual(assessed.allocations);
    expect(step.plan.gaps).toEqual(assessed.gaps);
    expect(step.events.map((e) => [e.type, e.data.reconfirmed])).toEqual([['plan.consent-changed.v1', false]]);
  });

  it('taking data categories out tells each provider still covered with a live allocation to delete those it was given (contact details only once accepted); nothing is offered again', () => {
    const { plan, ctx } = planInStage('active');
    const wide = run(plan, change(ctx, { dataCategories: ['needs', 'risks', 'contact-details'] }), ctx).plan;
    expect(run(wide, change(ctx, { dataCategories: ['needs', 'risks', 'contact-details', 'offending'] }), ctx).events.map((e) => e.type)).toEqual(['plan.consent-changed.v1']);
    const step = run(wide, change(ctx, { dataCategories: ['needs'], providers: { kind: 'all-except', providerIds: ['anawim'] } }), ctx);
    const holding = live(wide).filter((a) => a.providerId !== 'anawim');
    expect(holding.length).toBeGreaterThan(0);
    const narrowed = step.events.filter((e) => e.type === 'plan.consent-narrowed.v1');
    expect(narrowed.map((e) => [e.providerId, e.data])).toEqual(
      holding.map((a) => [a.providerId, { planRef: plan!.planId, allocationId: a.allocationId, withdrawnCategories: a.status === 'accepted' ? ['risks', 'contact-details'] : ['risks'], instruction: 'purge-withdrawn-categories' }]),
    );
    // Anawim, no longer covered, is told to purge everything instead.
    expect(narrowed.some((e) => e.providerId === 'anawim')).toBe(false);
    expect(step.events.filter((e) => e.type === 'plan.consent-withdrawn.v1').every((e) => e.providerId === 'anawim')).toBe(true);
    const categoriesOnly = run(wide, change(ctx, { dataCategories: ['needs', 'risks'] }), ctx);
    expect(categoriesOnly.decision.needsAllocation).toBe(false);
    expect(categoriesOnly.plan.stage).toBe('active');
    // The allocations go on as they were; each accepted one (an offer never showed her contact details) keeps what its provider was told, for its own views.
    const accepted = wide.allocations.filter((a) => a.status === 'accepted');
    expect(accepted.length).toBeGreaterThan(0);
    const told = (a: (typeof wide.allocations)[number]) => (accepted.includes(a) ? { ...a, purgeInstructions: [{ instruction: 'purge-withdrawn-categories', withdrawnCategories: ['contact-details'], at: ctx.now }] } : a);
    expect(categoriesOnly.plan.allocations).toEqual(wide.allocations.map(told));
    expect(categoriesOnly.events.filter((e) => e.type === 'plan.consent-narrowed.v1').map((e) => e.data.withdrawnCategories)).toEqual(accepted.map(() => ['contact-details']));
  });

  it('refuses a givenAt in the future or before the consent it replaces, an unknown provider, and a plan whose consent was withdrawn', () => {
    const { plan, ctx } = planInStage('active');
    const future = refusal(() => run(plan, command('change-consent', { scope: { shareWithProviders: true }, givenAt: londonDate(addDays(ctx.now, 3)), method: 'written' }), ctx));
    expect(future.errors?.[0]?.path).toBe('givenAt');
    const before = refusal(() => run(plan, command('change-consent', { scope: { shareWithProviders: true }, givenAt: '2026-01-01', method: 'written' }), ctx));
    expect(before.errors).toEqual([{ path: 'givenAt', message: `must not be before the consent it replaces (given ${plan!.consent!.givenAt})` }]);
    const unknown = refusal(() => run(plan, change(ctx, { providers: { kind: 'all-except', providerIds: ['anawim', 'nobody'] } }), ctx));
    expect(unknown.errors?.[0]?.path).toBe('scope.providers.providerIds.1');
    const withdrawn = run(plan, command('withdraw-consent', {}), ctx).plan;
    const closed = refusal(() => run(withdrawn, change(ctx, {}), ctx));
    expect(closed.status).toBe(409);
    expect(closed.message).toContain('her consent was withdrawn');
    const referred = planInStage('referred');
    expect(refusal(() => run(referred.plan, change(referred.ctx, {}), referred.ctx)).status).toBe(409);
  });

  it('keeps the last 30 consents it replaced and counts the older ones dropped, never silently', () => {
    let { plan, ctx } = planInStage('assessment');
    for (let i = 0; i < 33; i += 1) {
      ctx = at(ctx, addDays(ctx.now, 1));
      plan = run(plan, change(ctx, { dataCategories: i % 2 ? ['needs'] : ['needs', 'risks'] }), ctx).plan;
    }
    expect(MAX_REPLACED_CONSENTS).toBe(30);
    expect(plan!.consent?.previous).toHaveLength(30);
    expect(plan!.consent?.previousDropped).toBe(3);
    expect(plan!.consent?.previous?.at(-1)?.replacedAt).toBe(ctx.now);
  });

  it('the consents kept at their largest stay well inside a DynamoDB item (400 KB)', () => {
    const { plan } = planInStage('assessment');
    const providerIds = Array.from({ length: MAX_CONSENT_PROVIDERS }, (_, i) => `${'p'.repeat(60)}${String(i).padStart(3, '0')}`);
    const largest = {
      scope: { shareWithProviders: true, dataCategories: [...DATA_CATEGORIES], providers: { kind: 'all-except' as const, providerIds } },
      givenAt: '2026-11-28',
      method: 'written' as const,
      recordedAt: '2026-11-28T23:59:59.999Z',
      replacedAt: '2026-11-28T23:59:59.999Z',
      note: '€'.repeat(500),
      reconfirmedAt: '2026-11-28',
      reconfirmedMethod: 'written' as const,
      reconfirmedNote: '€'.repeat(500),
    };
    const full = { ...plan!, consent: { ...plan!.consent!, previous: Array.from({ length: MAX_REPLACED_CONSENTS }, () => largest), previousDropped: 1 } };
    const bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value));
    // Measured: 6,678 bytes each, 200,403 for thirty (uncompressed JSON; the plan item is gzipped).
    expect(bytes(largest)).toBeLessThan(6_700);
    expect(bytes(full) - bytes(plan)).toBeLessThan(201_000);
  });
});
