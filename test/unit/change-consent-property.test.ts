/**
 * Property: across random directories, random consent scopes and random command sequences (consent
 * changed, offers accepted, declined, let expire and made by hand, allocations ended, plans activated
 * by hand), no offer or accepted allocation is ever with a provider outside her current consent, and
 * no coverage-gap escalation is open for a need whose only gap is her choice.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addDays, londonDate } from '../../lib/domain/calendar.ts';
import { consentCoversProvider } from '../../lib/domain/consent.ts';
import { Directory } from '../../lib/domain/directory.ts';
import { DomainError } from '../../lib/domain/errors.ts';
import { isAllowedIn } from '../../lib/domain/lifecycle.ts';
import type { Plan } from '../../lib/domain/schemas.ts';
import type { NeedDomain } from '../../lib/domain/taxonomy.ts';
import { at, command, makeContext, REFER_PAYLOAD, respond, run } from '../support/domain-fixtures.ts';

const ORGS = ['org-a', 'org-b', 'org-c', 'org-d', 'org-e'] as const;
const DOMAINS: NeedDomain[] = ['mental-health', 'accommodation', 'alcohol', 'domestic-abuse'];

const directoryArb = fc
  .array(
    fc.record({
      org: fc.constantFrom(...ORGS),
      needs: fc.subarray(DOMAINS, { minLength: 1 }),
      inArea: fc.boolean(),
      capacity: fc.integer({ min: 0, max: 3 }),
      closed: fc.boolean(),
    }),
    { minLength: 1, maxLength: 7 },
  )
  .map((services) =>
    Directory.parse({
      name: 'random',
      organizations: ORGS.map((id) => ({ id, name: `Org ${id.slice(4).toUpperCase()}` })),
      services: services.map((s, i) => ({
        id: `svc-${i}`,
        organizationId: s.org,
        name: `Service ${i}`,
        status: s.closed && i % 3 === 0 ? 'temporarily-closed' : 'active',
        needDomains: s.needs,
        serviceAreas: s.inArea ? ['birmingham'] : ['coventry'],
        capacity: s.capacity + 1,
      })),
    }),
  );

const scopeArb = fc.oneof(
  fc.constant({ shareWithProviders: false, dataCategories: ['needs'] }),
  fc.constant({ shareWithProviders: true, dataCategories: ['needs'], providers: { kind: 'all' } }),
  fc.record({
    shareWithProviders: fc.constant(true),
    dataCategories: fc.constant(['needs']),
    // Every organisation but all of them is refused (shares with nobody): all-except leaves at least one.
    providers: fc.oneof(
      fc.record({ kind: fc.constant('only'), providerIds: fc.subarray([...ORGS], { minLength: 1 }) }),
      fc.record({ kind: fc.constant('all-except'), providerIds: fc.subarray([...ORGS], { minLength: 1, maxLength: ORGS.length - 1 }) }),
    ),
  }),
);

const actionArb = fc.oneof(
  fc.record({ kind: fc.constant('change-consent' as const), scope: scopeArb }),
  fc.record({ kind: fc.constantFrom('accept' as const, 'decline' as const, 'expire' as const, 'end' as const, 'activate' as const), pick: fc.nat(10) }),
  fc.record({ kind: fc.constant('offer-manually' as const), service: fc.nat(10), need: fc.constantFrom(...DOMAINS) }),
);

const live = (plan: Plan) => plan.allocations.filter((a) => a.status === 'offered' || a.status === 'accepted');

function expectWithinConsent(plan: Plan, where: string) {
  for (const a of live(plan)) expect(consentCoversProvider(plan.consent, a.providerId), `${where}: ${a.status} allocation with ${a.providerId} outside ${JSON.stringify(plan.consent?.scope)}`).toBe(true);
  const herChoice = (domain: string) => plan.gaps.some((g) => g.domain === domain) && plan.gaps.every((g) => g.domain !== domain || g.reason === 'outside-consent' || g.reason === 'no-consent-to-share');
  for (const e of plan.escalations) if (e.kind === 'coverage-gap' && !e.resolvedAt) expect(herChoice(e.ref ?? ''), `${where}: coverage-gap for ${e.ref}`).toBe(false);
}

describe('consent and allocation', () => {
  it('no offer or accepted allocation is ever with a provider outside her current consent', () => {
    fc.assert(
      fc.property(
        directoryArb,
        scopeArb,
        fc.subarray(DOMAINS, { minLength: 1 }),
        fc.array(actionArb, { maxLength: 15 }),
        (directory, scope, needs, actions) => {
          let ctx = makeContext({ directory });
          let plan: Plan | undefined = run(undefined, command('refer', REFER_PAYLOAD), ctx).plan;
          plan = run(plan, command('record-consent', { scope, givenAt: londonDate(ctx.now), method: 'written' }), ctx).plan;
          plan = run(plan, command('submit-assessment', { needs: needs.map((domain, i) => ({ domain, level: 'medium', priority: i % 2 === 0 })) }), ctx).plan;
          const trail = [`consent ${JSON.stringify(scope)}`];
          expectWithinConsent(plan, trail.join(' → '));
          for (const action of actions) {
            ctx = at(ctx, addDays(ctx.now, 1));
            const current: Plan = plan;
            const offered = current.allocations.filter((a) => a.status === 'offered');
            const accepted = current.allocations.filter((a) => a.status === 'accepted');
            const nth = <T,>(list: T[], n: number) => list[n % Math.max(list.length, 1)];
            let cmd;
            if (action.kind === 'change-consent') cmd = command('change-consent', { scope: action.scope, givenAt: londonDate(ctx.now), method: 'verbal' });
            else if (action.kind === 'accept' && offered.length) cmd = respond('accept-offer', nth(offered, action.pick)!, {});
            else if (action.kind === 'decline' && offered.length) cmd = respond('decline-offer', nth(offered, action.pick)!, { reason: 'capacity' });
            else if (action.kind === 'end' && accepted.length) cmd = respond('end-allocation', nth(accepted, action.pick)!, { outcome: action.pick % 2 ? 'disengaged' : 'completed' });
            else if (action.kind === 'activate') cmd = command('activate', { reason: 'Start with who accepted' });
            else if (action.kind === 'expire' && offered.length) {
              const a = nth(offered, action.pick)!;
              ctx = at(ctx, a.respondBy > ctx.now ? a.respondBy : ctx.now);
              cmd = command('offer-expired', { deadlineId: `offer-expired:${a.allocationId}` }, { actor: { role: 'timer', sub: 'timer' } });
            } else if (action.kind === 'offer-manually') {
              const service = nth(directory.services, action.service)!;
              cmd = command('offer-manually', { serviceId: service.id, needs: [action.need], reason: 'By hand' });
            }
            if (!cmd || !isAllowedIn(cmd.name, current.stage)) continue;
            trail.push(`${cmd.name} ${JSON.stringify(cmd.payload)}`);
            try {
              plan = run(current, cmd, ctx).plan;
            } catch (error) {
              if (!(error instanceof DomainError)) throw error;
              expect(error.status, `${trail.join(' → ')}: ${error.message}`).toBeLessThan(500);
              continue;
            }
            expectWithinConsent(plan, trail.join(' → '));
          }
        },
      ),
      { numRuns: 300, seed: 20261129 },
    );
  });
});
