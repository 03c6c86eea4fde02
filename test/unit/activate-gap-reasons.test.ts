/**
 * A coordinator activating a plan by hand records a gap for each unmet need that has none, and the
 * gap's reason must be true: allocation's own reason for that need ("all candidates declined or
 * expired" only when every candidate turned an offer of that very need down), or "not-offered" when a
 * service could still have been asked. Such needs exist when the Allocate providers step has not run
 * since the need was assessed or turned down, which these tests reach by calling decide() alone.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { seedDirectory } from '../../lib/directory/load.ts';
import { addDays } from '../../lib/domain/calendar.ts';
import { decide } from '../../lib/domain/decide.ts';
import type { Directory } from '../../lib/domain/directory.ts';
import { planFacts } from '../../lib/domain/metrics/facts.ts';
import type { Plan } from '../../lib/domain/schemas.ts';
import type { NeedDomain } from '../../lib/domain/taxonomy.ts';
import { DECLINE_REASONS } from '../../lib/domain/vocabulary.ts';
import { candidates, turnedDown } from '../support/allocation-oracle.ts';
import { TIMER, allocationOf, at, command, consentPayload, makeContext, respond, run } from '../support/domain-fixtures.ts';

const SEED = seedDirectory();
const ACTIVATE_REASON = 'Agreed at the case meeting with her support worker present';
const gapOf = (plan: Plan, domain: NeedDomain) => plan.gaps.find((g) => g.domain === domain);

describe('activate by hand: each gap it records says why, truly', () => {
  it('a need no service in her area covers, one every candidate declined and one never offered get three different true reasons', () => {
    let ctx = makeContext({ directory: SEED });
    let plan = run(undefined, command('refer', { participantId: 'pt_activate000001', ageAtReferral: 31, referral: { source: 'court', localAuthority: 'sandwell', urgency: 'routine' } }), ctx).plan;
    plan = run(plan, command('record-consent', consentPayload(ctx)), ctx).plan;
    ctx = at(ctx, addDays(ctx.now, 1));
    // The assessment is saved; the Allocate providers step has not run yet.
    const needs = [
      { domain: 'domestic-abuse', level: 'high', priority: true },
      { domain: 'thinking-behaviour', level: 'medium', priority: false },
      { domain: 'alcohol', level: 'medium', priority: false },
    ];
    plan = decide(plan, command('submit-assessment', { needs }), ctx).plan;
    expect(plan.gaps).toEqual([]);
    // The coordinator offers thinking-behaviour by hand to the only service in Sandwell that takes it, which declines.
    plan = decide(plan, command('offer-manually', { serviceId: 'bcwa-women-in-justice', needs: ['thinking-behaviour'], reason: 'Known to her from custody' }), ctx).plan;
    ctx = at(ctx, addDays(ctx.now, 1));
    plan = decide(plan, respond('decline-offer', allocationOf(plan, 'bcwa-women-in-justice', 'offered'), { reason: 'capacity' }), ctx).plan;

    const activated = decide(plan, command('activate', { reason: ACTIVATE_REASON }), ctx).plan;
    expect(activated.stage).toBe('active');
    expect(activated.manualActivation?.unmetNeeds).toEqual(['domestic-abuse', 'thinking-behaviour', 'alcohol']);
    expect(gapOf(activated, 'thinking-behaviour')).toMatchObject({
      reason: 'all-candidates-declined-or-expired',
      explanation: 'Every thinking and behaviour service in Sandwell (1) was offered thinking and behaviour for this plan and turned it down: Women in the justice system declined it: capacity.',
    });
    // Alcohol services exist, none in Sandwell: nobody was offered it, so nobody declined it.
    expect(gapOf(activated, 'alcohol')).toMatchObject({ reason: 'no-coverage-in-area' });
    // Domestic abuse could still have been offered to BCWA: the gap says so, not that anyone declined.
    expect(gapOf(activated, 'domestic-abuse')).toMatchObject({
      reason: 'not-offered',
      explanation: 'The plan was activated before domestic abuse was offered to Domestic abuse advocacy in Sandwell, which could still be asked.',
    });
    // The coordinator's words stay on the activation, not in the gaps the figures and the timeline read.
    expect(activated.manualActivation?.reason).toBe(ACTIVATE_REASON);
    expect(JSON.stringify(activated.gaps)).not.toContain(ACTIVATE_REASON);
    // The commissioner's figures count each under its own reason.
    expect(new Map(planFacts(activated).gaps.map((g) => [g.domain, g.reason]))).toEqual(
      new Map([
        ['domestic-abuse', 'not-offered'],
        ['thinking-behaviour', 'all-candidates-declined-or-expired'],
        ['alcohol', 'no-coverage-in-area'],
      ]),
    );
  });

  it('a need no service in the directory offers is a "no service" gap, and one her consent keeps from providers a "no consent to share" gap', () => {
    const directory: Directory = { ...SEED, services: SEED.services.filter((s) => !s.needDomains.includes('alcohol')) };
    for (const share of [true, false]) {
      const ctx = makeContext({ directory });
      let plan = run(undefined, command('refer', { participantId: 'pt_activate000002', ageAtReferral: 40, referral: { source: 'court', localAuthority: 'birmingham', urgency: 'routine' } }), ctx).plan;
      plan = run(plan, command('record-consent', consentPayload(ctx, share)), ctx).plan;
      plan = decide(plan, command('submit-assessment', { needs: [{ domain: 'alcohol', level: 'high', priority: true }] }), ctx).plan;
      const activated = decide(plan, command('activate', { reason: ACTIVATE_REASON }), ctx).plan;
      expect(gapOf(activated, 'alcohol')?.reason).toBe(share ? 'no-service' : 'no-consent-to-share');
    }
  });

  it('a gap allocation already recorded is kept as it was', () => {
    let ctx = makeContext({ directory: SEED });
    let plan = run(undefined, command('refer', { participantId: 'pt_activate000003', ageAtReferral: 31, referral: { source: 'court', localAuthority: 'sandwell', urgency: 'routine' } }), ctx).plan;
    plan = run(plan, command('record-consent', consentPayload(ctx)), ctx).plan;
    plan = run(plan, command('submit-assessment', { needs: [{ domain: 'domestic-abuse', level: 'high', priority: true }, { domain: 'alcohol', level: 'low', priority: false }] }), ctx).plan;
    const before = gapOf(plan, 'alcohol');
    expect(before?.reason).toBe('no-coverage-in-area');
    ctx = at(ctx, addDays(ctx.now, 2));
    const activated = decide(plan, command('activate', { reason: ACTIVATE_REASON }), ctx).plan;
    expect(gapOf(activated, 'alcohol')).toEqual(before);
  });
});

// ---------------------------------------------------------------------------------------------
// Property: over random histories in which the Allocate providers step sometimes has not run yet, a
// gap activate records naming declines or expiries has, for that need, an offer every candidate
// turned down; one saying "not offered" has a candidate that did not turn it down.

const AREAS = ['sandwell', 'birmingham', 'walsall', 'coventry', 'dudley'] as const;
const DOMAINS = [...new Set(SEED.services.flatMap((s) => s.needDomains))] as NeedDomain[];

const actionArb = fc.record({
  kind: fc.constantFrom('decline' as const, 'expire' as const, 'accept' as const, 'offer-by-hand' as const),
  pick: fc.nat(),
  reason: fc.constantFrom(...DECLINE_REASONS),
  /** Whether the Allocate providers step runs after this command before the next one. */
  allocate: fc.boolean(),
});

describe('activate by hand: properties over random histories', () => {
  it('a recorded "declined or expired" gap has turned-down offers of that need from every candidate; "not offered" has a candidate left', () => {
    const seen = { declined: 0, notOffered: 0, otherReasons: 0 };
    fc.assert(
      fc.property(
        fc.constantFrom(...AREAS),
        fc.boolean(),
        fc.uniqueArray(fc.record({ domain: fc.constantFrom(...DOMAINS), priority: fc.boolean() }), { minLength: 1, maxLength: 4, selector: (n) => n.domain }),
        fc.boolean(),
        fc.array(actionArb, { maxLength: 10 }),
        (area, share, needs, allocateAfterAssessment, actions) => {
          let ctx = makeContext({ directory: SEED });
          const step = (p: Plan, cmd: Parameters<typeof decide>[1], allocate: boolean) => (allocate ? run(p, cmd, ctx).plan : decide(p, cmd, ctx).plan);
          let plan = run(undefined, command('refer', { participantId: 'pt_property00002', ageAtReferral: 30, referral: { source: 'court', localAuthority: area, urgency: 'routine' } }), ctx).plan;
          plan = run(plan, command('record-consent', consentPayload(ctx, share)), ctx).plan;
          plan = step(plan, command('submit-assessment', { needs: needs.map((n) => ({ ...n, level: 'medium' })) }), allocateAfterAssessment);
          for (const action of actions) {
            if (plan.stage !== 'allocating') break;
            ctx = at(ctx, addDays(ctx.now, 1));
            const open = plan.allocations.filter((a) => a.status === 'offered');
            const offer = open[action.pick % Math.max(open.length, 1)];
            if (action.kind === 'decline' && offer) plan = step(plan, respond('decline-offer', offer, { reason: action.reason }), action.allocate);
            if (action.kind === 'accept' && offer) plan = step(plan, respond('accept-offer', offer, {}), action.allocate);
            if (action.kind === 'expire' && offer) {
              const deadline = plan.deadlines.find((d) => d.command === 'offer-expired' && d.ref === offer.allocationId)!;
              ctx = at(ctx, deadline.dueAt);
              plan = step(plan, command('offer-expired', { deadlineId: deadline.deadlineId }, { actor: TIMER }), action.allocate);
            }
            if (action.kind === 'offer-by-hand' && share) {
              // A coordinator offers an open need nobody holds to a candidate that has not turned it down.
              const held = new Set(plan.allocations.filter((a) => a.status === 'accepted').flatMap((a) => a.needs));
              const free = plan.needs.filter((n) => n.status === 'open' && !held.has(n.domain));
              const need = free[action.pick % Math.max(free.length, 1)];
              const service = need && candidates(SEED, plan, need.domain).find((s) => s.status === 'active' && !turnedDown(plan, s.id, need.domain));
              if (need && service) plan = step(plan, command('offer-manually', { serviceId: service.id, needs: [need.domain], reason: 'Worked with her before' }), action.allocate);
            }
          }
          if (plan.stage !== 'allocating') return;
          const before = new Set(plan.gaps.map((g) => g.domain));
          ctx = at(ctx, addDays(ctx.now, 1));
          const activated = decide(plan, command('activate', { reason: ACTIVATE_REASON }), ctx).plan;
          for (const gap of activated.gaps.filter((g) => !before.has(g.domain))) {
            const services = candidates(SEED, activated, gap.domain);
            if (gap.reason === 'all-candidates-declined-or-expired') {
              seen.declined += 1;
              expect(services.length, `${gap.domain} has candidates`).toBeGreaterThan(0);
              for (const s of services) expect(turnedDown(activated, s.id, gap.domain), `${s.id} turned down ${gap.domain}: ${gap.explanation}`).toBe(true);
            } else if (gap.reason === 'not-offered') {
              seen.notOffered += 1;
              expect(share).toBe(true);
              expect(services.some((s) => !turnedDown(activated, s.id, gap.domain)), gap.explanation).toBe(true);
            } else {
              seen.otherReasons += 1;
              if (gap.reason === 'no-consent-to-share') expect(share).toBe(false);
            }
          }
        },
      ),
      { numRuns: 300, seed: 20261128 },
    );
    // The histories reach every kind of gap the property is about.
    expect(seen.declined).toBeGreaterThan(0);
    expect(seen.notOffered).toBeGreaterThan(0);
    expect(seen.otherReasons).toBeGreaterThan(0);
  });
});
