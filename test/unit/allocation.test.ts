import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_CANDIDATE_PROVIDERS, proposeAllocation, type AllocationProposal, type AllocationRequest, type NeedToAllocate, type TurnedDownOffer } from '../../lib/domain/allocation.ts';
import type { Directory, Service, ServiceLoad } from '../../lib/domain/directory.ts';
import type { Gap } from '../../lib/domain/schemas.ts';
import type { LocalAuthority, NeedDomain } from '../../lib/domain/taxonomy.ts';
import { DIRECTORY } from '../support/domain-fixtures.ts';

type ServiceSpec = Partial<Service> & Pick<Service, 'id' | 'organizationId' | 'needDomains'>;

function service(spec: ServiceSpec): Service {
  return {
    name: spec.id,
    description: '',
    status: 'active',
    serviceAreas: ['birmingham'],
    eligibility: { sex: ['female'], minAge: 18, maxAge: 130 },
    capacity: 10,
    ...spec,
  };
}

function directory(specs: ServiceSpec[]): Directory {
  const services = specs.map(service);
  const orgs = [...new Set(services.map((s) => s.organizationId))];
  return { name: 'test', illustrative: true, organizations: orgs.map((id) => ({ id, name: id, description: '' })), services };
}

const request = (needs: NeedToAllocate[], extra: Partial<AllocationRequest> = {}): AllocationRequest => ({
  needs,
  localAuthority: 'birmingham',
  age: 30,
  turnedDown: [],
  ...extra,
});
const P = (domain: NeedDomain): NeedToAllocate => ({ domain, priority: true });
const O = (domain: NeedDomain): NeedToAllocate => ({ domain, priority: false });
const summary = (p: AllocationProposal) => p.offers.map((o) => [o.serviceId, [...o.needs].sort()]);
const gapReasons = (p: AllocationProposal) => p.gaps.map((g) => [g.domain, g.reason]);

describe('proposeAllocation: order of preference', () => {
  it('covers every priority need with the fewest providers, even a busier one', () => {
    const dir = directory([
      { id: 'one-roof', organizationId: 'p-one', needDomains: ['mental-health', 'accommodation'], capacity: 10 },
      { id: 'mh-only', organizationId: 'p-mh', needDomains: ['mental-health'] },
      { id: 'housing-only', organizationId: 'p-housing', needDomains: ['accommodation'] },
    ]);
    const proposal = proposeAllocation(request([P('mental-health'), P('accommodation')]), dir, { 'one-roof': 9 });
    expect(summary(proposal)).toEqual([['one-roof', ['accommodation', 'mental-health']]]);
    expect(proposal.offers[0]!.why).toContain('under one roof');
    expect(proposal.gaps).toEqual([]);
  });

  it('then covers the most other needs with the same number of providers', () => {
    const dir = directory([
      { id: 'a-mh', organizationId: 'a', needDomains: ['mental-health'] },
      { id: 'b-mh-alcohol', organizationId: 'b', needDomains: ['mental-health', 'alcohol'], capacity: 100 },
    ]);
    const proposal = proposeAllocation(request([P('mental-health'), O('alcohol')]), dir, { 'b-mh-alcohol': 90 });
    expect(summary(proposal)).toEqual([['b-mh-alcohol', ['alcohol', 'mental-health']]]);
  });

  it('adds the fewest extra providers for other needs the core cannot meet', () => {
    const dir = directory([
      { id: 'a-mh', organizationId: 'a', needDomains: ['mental-health'] },
      { id: 'b-alcohol-debt', organizationId: 'b', needDomains: ['alcohol', 'finance-benefit-debt'] },
      { id: 'c-alcohol', organizationId: 'c', needDomains: ['alcohol'] },
      { id: 'd-debt', organizationId: 'd', needDomains: ['finance-benefit-debt'] },
    ]);
    const proposal = proposeAllocation(request([P('mental-health'), O('alcohol'), O('finance-benefit-debt')]), dir, {});
    expect(summary(proposal)).toEqual([
      ['a-mh', ['mental-health']],
      ['b-alcohol-debt', ['alcohol', 'finance-benefit-debt']],
    ]);
    expect(proposal.offers[1]!.why).toContain('Added for needs the core providers cannot meet');
  });

  it('then prefers the lowest relative load (open allocations / capacity), not the fewest open allocations', () => {
    const dir = directory([
      { id: 'big', organizationId: 'big-org', needDomains: ['trauma'], capacity: 100 },
      { id: 'small', organizationId: 'small-org', needDomains: ['trauma'], capacity: 4 },
    ]);
    expect(summary(proposeAllocation(request([P('trauma')]), dir, { big: 20, small: 2 }))).toEqual([['big', ['trauma']]]);
    expect(summary(proposeAllocation(request([P('trauma')]), dir, { big: 60, small: 1 }))).toEqual([['small', ['trauma']]]);
  });

  it('breaks remaining ties on the provider id, whatever order the directory lists them in', () => {
    const specs: ServiceSpec[] = [
      { id: 'zz-service', organizationId: 'zulu', needDomains: ['alcohol'] },
      { id: 'aa-service', organizationId: 'mike', needDomains: ['alcohol'] },
      { id: 'mm-service', organizationId: 'alpha', needDomains: ['alcohol'] },
    ];
    const forward = proposeAllocation(request([P('alcohol')]), directory(specs), {});
    const backward = proposeAllocation(request([P('alcohol')]), directory([...specs].reverse()), {});
    expect(forward.offers.map((o) => o.providerId)).toEqual(['alpha']);
    expect(backward).toEqual(forward);
  });

  it('within a provider, gives the needs to the service covering most of them', () => {
    const dir = directory([
      { id: 'x-general', organizationId: 'x', needDomains: ['trauma', 'emotional-resilience', 'interpersonal-skills'] },
      { id: 'x-trauma', organizationId: 'x', needDomains: ['trauma'] },
    ]);
    const proposal = proposeAllocation(request([P('trauma'), O('emotional-resilience')]), dir, {});
    expect(summary(proposal)).toEqual([['x-general', ['emotional-resilience', 'trauma']]]);
  });

  it('explains each offer: the needs, the area and the places in use', () => {
    const proposal = proposeAllocation(request([P('mental-health'), P('accommodation'), O('alcohol')]), DIRECTORY, { 'anawim-womens-centre': 7 });
    const anawim = proposal.offers.find((o) => o.providerId === 'anawim')!;
    expect(anawim.why).toContain('mental health (priority)');
    expect(anawim.why).toContain('Birmingham');
    expect(anawim.why).toContain('7 of 30 places in use');
    expect(anawim.why).toContain('smallest set of providers (2)');
  });

  it('New Chance fixture: mental health at Anawim; accommodation and alcohol at Changing Lives; finance at Green Square Accord', () => {
    const proposal = proposeAllocation(request([P('mental-health'), P('accommodation'), O('alcohol'), O('finance-benefit-debt')]), DIRECTORY, {});
    expect(summary(proposal)).toEqual([
      ['anawim-womens-centre', ['mental-health']],
      ['changing-lives-housing-first', ['accommodation']],
      ['changing-lives-recovery', ['alcohol']],
      ['green-square-accord-housing', ['finance-benefit-debt']],
    ]);
  });

  it('refuses to search more candidate providers than it can do exactly', () => {
    const specs = Array.from({ length: MAX_CANDIDATE_PROVIDERS + 1 }, (_, i) => ({ id: `s-${i}`, organizationId: `org-${i}`, needDomains: ['alcohol'] as NeedDomain[] }));
    expect(() => proposeAllocation(request([P('alcohol')]), directory(specs), {})).toThrow(/at most/);
  });
});

describe('proposeAllocation: gaps', () => {
  const housing = (extra: Partial<ServiceSpec> = {}): ServiceSpec => ({ id: 'housing', organizationId: 'gsa', needDomains: ['accommodation'], ...extra });

  it('no-service: nothing in the directory offers the need', () => {
    const proposal = proposeAllocation(request([P('sexual-exploitation')]), directory([housing()]), {});
    expect(proposal.offers).toEqual([]);
    expect(gapReasons(proposal)).toEqual([['sexual-exploitation', 'no-service']]);
  });

  it('no-coverage-in-area: the postcode gap, explained with the area', () => {
    const proposal = proposeAllocation(request([P('accommodation')], { localAuthority: 'coventry' }), directory([housing({ serviceAreas: ['walsall', 'dudley'] })]), {});
    expect(gapReasons(proposal)).toEqual([['accommodation', 'no-coverage-in-area']]);
    expect(proposal.gaps[0]!.explanation).toContain('Coventry');
  });

  it.each([
    ['too young', { age: 17 }, {}],
    ['too old', { age: 70 }, { eligibility: { sex: ['female'], minAge: 18, maxAge: 65 } }],
    ['a service for women only', { sex: 'male' }, {}],
  ] as [string, Partial<AllocationRequest>, Partial<ServiceSpec>][])('not-eligible: %s', (_label, req, spec) => {
    const proposal = proposeAllocation(request([P('accommodation')], req), directory([housing(spec)]), {});
    expect(gapReasons(proposal)).toEqual([['accommodation', 'not-eligible']]);
  });

  it('all-candidates-declined-or-expired: every eligible service turned down an offer of this need, each named with how', () => {
    const dir = directory([housing({ name: 'Tenancy support' }), { id: 'housing-2', name: 'Housing First', organizationId: 'cl', needDomains: ['accommodation'] }]);
    const turnedDown: TurnedDownOffer[] = [
      { serviceId: 'housing', needs: ['accommodation', 'alcohol'], how: 'declined', reason: 'location' },
      { serviceId: 'housing-2', needs: ['accommodation'], how: 'expired' },
    ];
    const proposal = proposeAllocation(request([P('accommodation')], { turnedDown }), dir, {});
    expect(proposal.gaps).toEqual([
      {
        domain: 'accommodation',
        reason: 'all-candidates-declined-or-expired',
        explanation: 'Every accommodation service in Birmingham (2) was offered accommodation for this plan and turned it down: Tenancy support declined it: location; Housing First let the offer expire.',
      },
    ]);
    const stopped = proposeAllocation(request([P('accommodation')], { turnedDown: [{ serviceId: 'housing', needs: ['accommodation'], how: 'stopped', reason: 'disengaged' }] }), directory([housing()]), {});
    expect(stopped.gaps[0]!.explanation).toContain('housing stopped before it was met: disengaged');
  });

  it('a service that turned down other needs of this plan is still a candidate for this one', () => {
    const dir = directory([housing({ needDomains: ['accommodation', 'finance-benefit-debt'] })]);
    const turnedDown: TurnedDownOffer[] = [{ serviceId: 'housing', needs: ['finance-benefit-debt'], how: 'declined', reason: 'capacity' }];
    const proposal = proposeAllocation(request([P('accommodation'), O('finance-benefit-debt')], { turnedDown }), dir, {});
    expect(summary(proposal)).toEqual([['housing', ['accommodation']]]);
    expect(gapReasons(proposal)).toEqual([['finance-benefit-debt', 'all-candidates-declined-or-expired']]);
  });

  it('no-capacity: every remaining service is full or temporarily closed', () => {
    const full = proposeAllocation(request([P('accommodation')]), directory([housing({ capacity: 3 })]), { housing: 3 });
    expect(gapReasons(full)).toEqual([['accommodation', 'no-capacity']]);
    const closed = proposeAllocation(request([P('accommodation')]), directory([housing({ status: 'temporarily-closed' })]), {});
    expect(gapReasons(closed)).toEqual([['accommodation', 'no-capacity']]);
    const zero = proposeAllocation(request([P('accommodation')]), directory([housing({ capacity: 0 })]), {});
    expect(gapReasons(zero)).toEqual([['accommodation', 'no-capacity']]);
  });

  it('a service in the area that is full beats the postcode gap: the reason is no-capacity', () => {
    const dir = directory([housing({ capacity: 1 }), { id: 'far', organizationId: 'far', needDomains: ['accommodation'], serviceAreas: ['shropshire'] }]);
    expect(gapReasons(proposeAllocation(request([P('accommodation')]), dir, { housing: 1 }))).toEqual([['accommodation', 'no-capacity']]);
  });

  it('one declined and one full: no-capacity, since a remaining candidate exists but is full', () => {
    const dir = directory([housing(), { id: 'housing-2', organizationId: 'cl', needDomains: ['accommodation'], capacity: 2 }]);
    const proposal = proposeAllocation(request([P('accommodation')], { turnedDown: [{ serviceId: 'housing', needs: ['accommodation'], how: 'declined', reason: 'risk' }] }), dir, { 'housing-2': 2 });
    expect(gapReasons(proposal)).toEqual([['accommodation', 'no-capacity']]);
  });

  it('gaps do not stop the other needs being offered', () => {
    const dir = directory([housing(), { id: 'mh', organizationId: 'anawim', needDomains: ['mental-health'], serviceAreas: ['solihull'] }]);
    const proposal = proposeAllocation(request([P('mental-health'), P('accommodation'), O('alcohol')]), dir, {});
    expect(summary(proposal)).toEqual([['housing', ['accommodation']]]);
    expect(gapReasons(proposal)).toEqual([
      ['mental-health', 'no-coverage-in-area'],
      ['alcohol', 'no-service'],
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// Properties on random small directories, checked against an independent brute force.

const DOMAINS: NeedDomain[] = ['mental-health', 'accommodation', 'alcohol', 'trauma', 'domestic-abuse', 'finance-benefit-debt'];
const AREAS: LocalAuthority[] = ['birmingham', 'sandwell', 'walsall'];

const ELIGIBILITY: Record<string, Service['eligibility']> = {
  adults: { sex: ['female'], minAge: 18, maxAge: 130 },
  'young-women': { sex: ['female'], minAge: 18, maxAge: 25 },
  'from-sixteen': { sex: ['female'], minAge: 16, maxAge: 130 },
  'women-and-men': { sex: ['female', 'male'], minAge: 18, maxAge: 130 },
};

// Biased towards services that can take the need, so most scenarios produce offers and some gaps.
const serviceArb = fc.record({
  domains: fc.subarray(DOMAINS, { minLength: 1, maxLength: 2 }),
  areas: fc.subarray(AREAS, { minLength: 1 }),
  capacity: fc.constantFrom(1, 2, 3, 4, 2, 3, 4, 2, 0),
  load: fc.constantFrom(0, 0, 1, 2),
  eligibility: fc.constantFrom('adults', 'adults', 'adults', 'adults', 'adults', 'young-women', 'from-sixteen', 'women-and-men'),
  /** Offers of this plan the service turned down, each carrying some needs (perhaps none the request has). */
  turnedDown: fc.array(fc.record({ needs: fc.subarray(DOMAINS, { minLength: 1, maxLength: 3 }), how: fc.constantFrom<TurnedDownOffer['how']>('declined', 'expired', 'stopped') }), { minLength: 1, maxLength: 2 }),
  turnsDown: fc.nat(5).map((n) => n === 0),
  closed: fc.nat(9).map((n) => n === 0),
});

/**
 * A random small directory and request. `wellServed` scenarios (every service open, eligible,
 * with room, covering the participant's area) exercise the choice of providers; the others
 * exercise every gap reason.
 */
const scenarioArb = fc.noBias(
  fc
    .record({
      wellServed: fc.boolean(),
      providers: fc.array(fc.array(serviceArb, { minLength: 1, maxLength: 3 }), { minLength: 2, maxLength: 6 }),
      needs: fc.uniqueArray(fc.record({ domain: fc.constantFrom(...DOMAINS), priority: fc.boolean() }), { minLength: 1, maxLength: 5, selector: (n) => n.domain }),
      area: fc.constantFrom(...AREAS),
      age: fc.constantFrom(34, 22, 45, 29, 38, 24, 51, 17),
      sex: fc.constantFrom<'female' | 'male' | undefined>(undefined, 'female', undefined, 'female', undefined, 'female', undefined, 'male'),
    })
    .map(({ wellServed, providers, needs, area, age, sex }) => {
      const services: Service[] = [];
      const load: Record<string, number> = {};
      const turnedDown: TurnedDownOffer[] = [];
      providers.forEach((svcs, p) =>
        svcs.forEach((s, i) => {
          const id = `svc-${p}-${i}`;
          services.push(
            service({
              id,
              organizationId: `prov-${String.fromCharCode(97 + p)}`,
              needDomains: s.domains,
              serviceAreas: wellServed ? [...new Set([area, ...s.areas])] : s.areas,
              capacity: wellServed ? s.capacity + 3 : s.capacity,
              status: s.closed && !wellServed ? 'temporarily-closed' : 'active',
              eligibility: ELIGIBILITY[wellServed ? 'adults' : s.eligibility],
            }),
          );
          load[id] = Math.min(s.load, s.capacity);
          // An offer only ever carries needs its service is tagged with.
          if (s.turnsDown && !wellServed)
            for (const o of s.turnedDown) {
              const carried = o.needs.filter((n) => s.domains.includes(n));
              if (carried.length > 0) turnedDown.push({ serviceId: id, needs: carried, how: o.how });
            }
        }),
      );
      const req: AllocationRequest = wellServed
        ? { needs, localAuthority: area, age: 30, turnedDown }
        : { needs, localAuthority: area, age, ...(sex ? { sex } : {}), turnedDown };
      return { dir: directory(services), load: load as ServiceLoad, req };
    }),
);

/** The candidate rules from the design, in the order the gap reason is decided. */
function oracle(domain: NeedDomain, req: AllocationRequest, dir: Directory, load: ServiceLoad): Service[] | Gap['reason'] {
  const tagged = dir.services.filter((s) => s.needDomains.includes(domain));
  if (tagged.length === 0) return 'no-service';
  const inArea = tagged.filter((s) => s.serviceAreas.includes(req.localAuthority));
  if (inArea.length === 0) return 'no-coverage-in-area';
  const sex = req.sex ?? 'female';
  const eligible = inArea.filter((s) => s.eligibility.sex.includes(sex) && s.eligibility.minAge <= req.age && req.age <= s.eligibility.maxAge);
  if (eligible.length === 0) return 'not-eligible';
  const remaining = eligible.filter((s) => !req.turnedDown.some((o) => o.serviceId === s.id && o.needs.includes(domain)));
  if (remaining.length === 0) return 'all-candidates-declined-or-expired';
  const open = remaining.filter((s) => s.status === 'active' && (load[s.id] ?? 0) < s.capacity);
  if (open.length === 0) return 'no-capacity';
  return open;
}

function subsets<T>(items: T[]): T[][] {
  return Array.from({ length: 2 ** items.length }, (_, mask) => items.filter((_, i) => mask & (2 ** i)));
}

function bruteForce(req: AllocationRequest, dir: Directory, load: ServiceLoad) {
  const candidates = new Map<NeedDomain, Set<string>>();
  for (const n of req.needs) {
    const c = oracle(n.domain, req, dir, load);
    if (Array.isArray(c)) candidates.set(n.domain, new Set(c.map((s) => s.organizationId)));
  }
  const providers = [...new Set([...candidates.values()].flatMap((s) => [...s]))];
  const covers = (set: string[], need: NeedDomain) => set.some((p) => candidates.get(need)!.has(p));
  const priority = req.needs.filter((n) => n.priority && candidates.has(n.domain)).map((n) => n.domain);
  const other = req.needs.filter((n) => !n.priority && candidates.has(n.domain)).map((n) => n.domain);
  const minimalCovers = (must: NeedDomain[], pool: string[]) => {
    const all = subsets(pool).filter((set) => must.every((n) => covers(set, n)));
    const size = Math.min(...all.map((s) => s.length));
    return { size, sets: all.filter((s) => s.length === size) };
  };
  const core = minimalCovers(priority, providers);
  const mostOther = Math.max(...core.sets.map((set) => other.filter((n) => covers(set, n)).length));
  return { candidates, priority, other, minProviders: core.size, mostOther, minimalCovers, covers, providers };
}

describe('proposeAllocation: properties on random directories', () => {
  const RUNS = { numRuns: 600, seed: 424242 };

  it('offers only eligible candidate services with capacity in the area, never the same need twice, and every need is offered or a gap', () => {
    fc.assert(
      fc.property(scenarioArb, ({ dir, load, req }) => {
        const proposal = proposeAllocation(req, dir, load);
        const offered = proposal.offers.flatMap((o) => o.needs);
        expect(new Set(offered).size).toBe(offered.length);
        for (const offer of proposal.offers) {
          expect(offer.needs.length).toBeGreaterThan(0);
          const svc = dir.services.find((s) => s.id === offer.serviceId)!;
          expect(offer.providerId).toBe(svc.organizationId);
          for (const need of offer.needs) {
            const c = oracle(need, req, dir, load);
            expect(Array.isArray(c) && c.some((s) => s.id === svc.id), `${svc.id} is a candidate for ${need}`).toBe(true);
          }
        }
        const gapped = proposal.gaps.map((g) => g.domain);
        expect([...offered, ...gapped].sort()).toEqual(req.needs.map((n) => n.domain).sort());
      }),
      RUNS,
    );
  });

  it('gives each gap the first failing reason in candidate order, and covers every coverable need', () => {
    fc.assert(
      fc.property(scenarioArb, ({ dir, load, req }) => {
        const proposal = proposeAllocation(req, dir, load);
        const offered = new Set(proposal.offers.flatMap((o) => o.needs));
        for (const need of req.needs) {
          const c = oracle(need.domain, req, dir, load);
          if (Array.isArray(c)) expect(offered.has(need.domain), `${need.domain} is coverable`).toBe(true);
          else expect(proposal.gaps.find((g) => g.domain === need.domain)?.reason).toBe(c);
        }
      }),
      RUNS,
    );
  });

  it('says every candidate declined or let the offer expire only when each eligible service in the area turned down an offer of that need, and never re-offers a turned-down need', () => {
    let declinedGaps = 0;
    let askedAfterTurningDownAnother = 0;
    fc.assert(
      fc.property(scenarioArb, ({ dir, load, req }) => {
        const proposal = proposeAllocation(req, dir, load);
        const turnedDownNeed = (serviceId: string, need: NeedDomain) => req.turnedDown.some((o) => o.serviceId === serviceId && o.needs.includes(need));
        for (const gap of proposal.gaps.filter((g) => g.reason === 'all-candidates-declined-or-expired')) {
          declinedGaps += 1;
          const sex = req.sex ?? 'female';
          const eligibleInArea = dir.services.filter(
            (s) => s.needDomains.includes(gap.domain) && s.serviceAreas.includes(req.localAuthority) && s.eligibility.sex.includes(sex) && s.eligibility.minAge <= req.age && req.age <= s.eligibility.maxAge,
          );
          expect(eligibleInArea.length).toBeGreaterThan(0);
          for (const s of eligibleInArea) {
            expect(turnedDownNeed(s.id, gap.domain), `${s.id} turned down ${gap.domain}`).toBe(true);
            expect(gap.explanation).toContain(s.name);
          }
        }
        for (const offer of proposal.offers)
          for (const need of offer.needs) {
            expect(turnedDownNeed(offer.serviceId, need), `${offer.serviceId} offered ${need} again`).toBe(false);
            if (req.turnedDown.some((o) => o.serviceId === offer.serviceId)) askedAfterTurningDownAnother += 1;
          }
      }),
      RUNS,
    );
    expect(declinedGaps).toBeGreaterThan(0);
    expect(askedAfterTurningDownAnother).toBeGreaterThan(0);
  });

  it('uses the brute-force minimum number of providers for priority needs, then the most other needs, then the fewest extra providers', () => {
    fc.assert(
      fc.property(scenarioArb, ({ dir, load, req }) => {
        const proposal = proposeAllocation(req, dir, load);
        const brute = bruteForce(req, dir, load);
        const providerOf = new Map(proposal.offers.flatMap((o) => o.needs.map((n) => [n, o.providerId] as const)));
        const core = [...new Set(brute.priority.map((n) => providerOf.get(n)!))];
        expect(core.length).toBe(brute.minProviders);
        const otherWithCore = brute.other.filter((n) => core.includes(providerOf.get(n)!));
        expect(otherWithCore.length).toBe(brute.mostOther);
        const left = brute.other.filter((n) => !core.includes(providerOf.get(n)!));
        const extra = new Set(left.map((n) => providerOf.get(n)!));
        for (const p of extra) expect(core).not.toContain(p);
        expect(extra.size).toBe(brute.minimalCovers(left, brute.providers.filter((p) => !core.includes(p))).size);
      }),
      RUNS,
    );
  });

  it('does not depend on the order of the directory', () => {
    fc.assert(
      fc.property(scenarioArb, fc.nat(), ({ dir, load, req }, seed) => {
        const shuffled = { ...dir, services: [...dir.services].sort((a, b) => ((hash(a.id, seed) - hash(b.id, seed)) | 0)), organizations: [...dir.organizations].reverse() };
        expect(proposeAllocation(req, shuffled, load)).toEqual(proposeAllocation(req, dir, load));
      }),
      { numRuns: 200, seed: 7 },
    );
  });
});

function hash(s: string, seed: number): number {
  let h = seed | 0;
  for (const ch of s) h = (Math.imul(h, 31) + ch.charCodeAt(0)) | 0;
  return h;
}
