/**
 * A decline, an expiry or an early stop bars a service only for the needs its offer carried, and a
 * gap that says "declined or expired" is only given for a need every candidate was offered and turned
 * down. Driven through decide() and the Allocate providers step with the seed New Chance directory.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { seedDirectory } from '../../lib/directory/load.ts';
import { addDays } from '../../lib/domain/calendar.ts';
import { planFacts } from '../../lib/domain/metrics/facts.ts';
import type { Plan } from '../../lib/domain/schemas.ts';
import type { NeedDomain } from '../../lib/domain/taxonomy.ts';
import { DECLINE_REASONS } from '../../lib/domain/vocabulary.ts';
import { candidates, turnedDown } from '../support/allocation-oracle.ts';
import { TIMER, allocationOf, at, command, consentPayload, makeContext, respond, run, type Step } from '../support/domain-fixtures.ts';

const DIRECTORY = seedDirectory();
const SANDWELL = { source: 'custody-diversion', localAuthority: 'sandwell', urgency: 'routine' } as const;
const NOTE = 'Our only worker is off until spring';

/** A Sandwell plan whose assessment found domestic abuse (priority) and thinking-behaviour. */
function sandwellPlan(needs: { domain: NeedDomain; priority: boolean }[]) {
  let ctx = makeContext({ directory: DIRECTORY });
  let plan = run(undefined, command('refer', { participantId: 'pt_sandwell000001', ageAtReferral: 31, referral: SANDWELL }), ctx).plan;
  ctx = at(ctx, addDays(ctx.now, 1));
  plan = run(plan, command('record-consent', consentPayload(ctx)), ctx).plan;
  ctx = at(ctx, addDays(ctx.now, 1));
  plan = run(plan, command('submit-assessment', { needs: needs.map((n) => ({ ...n, level: 'medium' })) }), ctx).plan;
  return { plan, ctx };
}

const gapOf = (plan: Plan, domain: NeedDomain) => plan.gaps.find((g) => g.domain === domain);

describe('Allocate providers after a decline: the service is barred only for what it was offered', () => {
  it('BCWA declined thinking-behaviour for capacity; mental-health added at a review is offered to BCWA, not a false "all declined" gap', () => {
    const start = sandwellPlan([
      { domain: 'domestic-abuse', priority: true },
      { domain: 'thinking-behaviour', priority: false },
    ]);
    let ctx = start.ctx;
    const womenInJustice = allocationOf(start.plan, 'bcwa-women-in-justice', 'offered');
    expect(womenInJustice.needs).toEqual(['thinking-behaviour']);
    let step: Step = run(start.plan, respond('accept-offer', allocationOf(start.plan, 'bcwa-domestic-abuse', 'offered'), {}), ctx);
    ctx = at(ctx, addDays(ctx.now, 1));
    step = run(step.plan, respond('decline-offer', womenInJustice, { reason: 'capacity', note: NOTE }), ctx);
    // Nobody else in Sandwell offers thinking-behaviour: a gap whose reason is true and says what happened.
    expect(gapOf(step.plan, 'thinking-behaviour')).toMatchObject({ reason: 'all-candidates-declined-or-expired' });
    expect(gapOf(step.plan, 'thinking-behaviour')?.explanation).toContain('Women in the justice system declined it: capacity');
    expect(JSON.stringify(step.plan.gaps)).not.toContain(NOTE);
    expect(step.plan.stage).toBe('active');

    ctx = at(ctx, addDays(ctx.now, 20));
    const reviewed = run(
      step.plan,
      command('record-review', { scores: { 'domestic-abuse': 5 }, outcome: 'adjust', addNeeds: [{ domain: 'mental-health', level: 'high', priority: false }] }),
      ctx,
    );
    // It was never offered mental-health, so it is asked: the only mental-health service in Sandwell.
    expect(gapOf(reviewed.plan, 'mental-health')).toBeUndefined();
    const offered = reviewed.plan.allocations.filter((a) => a.status === 'offered');
    expect(offered.map((a) => [a.serviceId, a.needs])).toEqual([['bcwa-women-in-justice', ['mental-health']]]);
    expect(reviewed.events.filter((e) => e.type === 'allocation.offered.v1').map((e) => e.providerId)).toEqual(['bcwa']);
    // The thinking-behaviour gap still stands: it was declined. The commissioner's figures count that one, and only that one.
    expect(gapOf(reviewed.plan, 'thinking-behaviour')).toMatchObject({ reason: 'all-candidates-declined-or-expired' });
    expect(planFacts(reviewed.plan).gaps.map((g) => [g.domain, g.reason])).toEqual([['thinking-behaviour', 'all-candidates-declined-or-expired']]);

    // Had it let the mental-health offer expire, that gap would now say so.
    const deadline = reviewed.plan.deadlines.find((d) => d.command === 'offer-expired' && d.ref === offered[0]!.allocationId)!;
    const expired = run(reviewed.plan, command('offer-expired', { deadlineId: deadline.deadlineId }, { actor: TIMER }), at(ctx, deadline.dueAt));
    expect(gapOf(expired.plan, 'mental-health')).toMatchObject({ reason: 'all-candidates-declined-or-expired' });
    expect(gapOf(expired.plan, 'mental-health')?.explanation).toBe(
      'Every mental health service in Sandwell (1) was offered mental health for this plan and turned it down: Women in the justice system let the offer expire.',
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Property: through any sequence of declines, expiries, accepts, early stops and added needs, a gap
// "all candidates declined or expired" is only given for a need that every eligible service in her
// area was offered and turned down, and no service is offered a need it has turned down.

const AREAS = ['sandwell', 'birmingham', 'walsall', 'coventry'] as const;
const DOMAINS = [...new Set(DIRECTORY.services.flatMap((s) => s.needDomains))] as NeedDomain[];

const actionArb = fc.oneof(
  fc.record({ kind: fc.constant('decline' as const), pick: fc.nat(), reason: fc.constantFrom(...DECLINE_REASONS) }),
  fc.record({ kind: fc.constant('expire' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('accept' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('stop' as const), pick: fc.nat(), outcome: fc.constantFrom('partially-completed', 'disengaged', 'other', 'completed') }),
  fc.record({ kind: fc.constant('add-need' as const), domain: fc.constantFrom(...DOMAINS) }),
);

describe('Allocate providers: properties over random plan histories', () => {
  it('"all candidates declined or expired" only when each candidate turned that need down; a turned-down need is never offered to that service again', () => {
    const seen = { declinedGaps: 0, askedAfterDecliningAnother: 0 };
    fc.assert(
      fc.property(
        fc.constantFrom(...AREAS),
        fc.uniqueArray(fc.record({ domain: fc.constantFrom(...DOMAINS), priority: fc.boolean() }), { minLength: 1, maxLength: 4, selector: (n) => n.domain }),
        fc.array(actionArb, { maxLength: 12 }),
        (area, needs, actions) => {
          let ctx = makeContext({ directory: DIRECTORY });
          let plan = run(undefined, command('refer', { participantId: 'pt_property00001', ageAtReferral: 30, referral: { ...SANDWELL, localAuthority: area } }), ctx).plan;
          plan = run(plan, command('record-consent', consentPayload(ctx)), ctx).plan;
          const withPriority = needs.some((n) => n.priority) ? needs : [{ ...needs[0]!, priority: true }, ...needs.slice(1)];
          plan = run(plan, command('submit-assessment', { needs: withPriority.map((n) => ({ ...n, level: 'medium' })) }), ctx).plan;
          const check = (p: Plan) => {
            for (const gap of p.gaps.filter((g) => g.reason === 'all-candidates-declined-or-expired')) {
              seen.declinedGaps += 1;
              const services = candidates(DIRECTORY, p, gap.domain);
              expect(services.length, `${gap.domain} has candidates`).toBeGreaterThan(0);
              for (const s of services) expect(turnedDown(p, s.id, gap.domain), `${s.id} turned down ${gap.domain}: ${gap.explanation}`).toBe(true);
            }
            for (const a of p.allocations.filter((x) => x.status === 'offered' || x.status === 'accepted'))
              for (const need of a.needs) {
                expect(turnedDown(p, a.serviceId, need), `${a.serviceId} offered ${need} again`).toBe(false);
                if (p.allocations.some((b) => b.serviceId === a.serviceId && b.status === 'declined' && !b.needs.includes(need))) seen.askedAfterDecliningAnother += 1;
              }
          };
          check(plan);
          for (const action of actions) {
            ctx = at(ctx, addDays(ctx.now, 1));
            const open = plan.allocations.filter((a) => a.status === 'offered');
            const held = plan.allocations.filter((a) => a.status === 'accepted');
            let step: Step | undefined;
            if (action.kind === 'decline' && open.length > 0) step = run(plan, respond('decline-offer', open[action.pick % open.length]!, { reason: action.reason }), ctx);
            if (action.kind === 'accept' && open.length > 0) step = run(plan, respond('accept-offer', open[action.pick % open.length]!, {}), ctx);
            if (action.kind === 'expire' && open.length > 0) {
              const offer = open[action.pick % open.length]!;
              const deadline = plan.deadlines.find((d) => d.command === 'offer-expired' && d.ref === offer.allocationId)!;
              ctx = at(ctx, deadline.dueAt);
              step = run(plan, command('offer-expired', { deadlineId: deadline.deadlineId }, { actor: TIMER }), ctx);
            }
            if (action.kind === 'stop' && held.length > 0 && plan.stage === 'active')
              step = run(plan, respond('end-allocation', held[action.pick % held.length]!, { outcome: action.outcome }), ctx);
            const scored = plan.needs.find((n) => n.status === 'open');
            if (action.kind === 'add-need' && plan.stage === 'active' && scored && !plan.needs.some((n) => n.domain === action.domain)) {
              step = run(plan, command('record-review', { scores: { [scored.domain]: 5 }, outcome: 'adjust', addNeeds: [{ domain: action.domain, level: 'medium', priority: false }] }), ctx);
            }
            if (!step) continue;
            plan = step.plan;
            check(plan);
          }
        },
      ),
      { numRuns: 150, seed: 20261128 },
    );
    // The histories reach both cases the property is about.
    expect(seen.declinedGaps).toBeGreaterThan(0);
    expect(seen.askedAfterDecliningAnother).toBeGreaterThan(0);
  });
});
