/**
 * A proposal's "why" and a gap's explanation are read by coordinators and team leads: they name needs
 * and areas by the vocabulary's labels ("domestic abuse", "Sandwell"), never by their codes
 * ("domestic-abuse", "sandwell"), and what they claim is true of the plan.
 */
import { describe, expect, it } from 'vitest';
import { proposeAllocation, type AllocationRequest, type NeedToAllocate } from '../../lib/domain/allocation.ts';
import type { Directory, Service } from '../../lib/domain/directory.ts';
import type { NeedDomain } from '../../lib/domain/taxonomy.ts';

type ServiceSpec = Partial<Service> & Pick<Service, 'id' | 'organizationId' | 'needDomains'>;

function directory(specs: ServiceSpec[]): Directory {
  const services = specs.map((spec) => ({ name: spec.id, description: '', status: 'active' as const, serviceAreas: ['sandwell' as const], eligibility: { sex: ['female' as const], minAge: 18, maxAge: 130 }, capacity: 10, ...spec }));
  const orgs = [...new Set(services.map((s) => s.organizationId))];
  return { name: 'test', illustrative: true, organizations: orgs.map((id) => ({ id, name: id, description: '' })), services };
}

const request = (needs: NeedToAllocate[], extra: Partial<AllocationRequest> = {}): AllocationRequest => ({ needs, localAuthority: 'sandwell', age: 30, turnedDown: [], ...extra });
const P = (domain: NeedDomain): NeedToAllocate => ({ domain, priority: true });
const O = (domain: NeedDomain): NeedToAllocate => ({ domain, priority: false });
const CODES = /domestic-abuse|thinking-behaviour|telford-and-wrekin|\bsandwell\b|\bbirmingham\b/;

describe('why a provider was chosen, in words', () => {
  const dir = directory([
    { id: 'bcwa-da', organizationId: 'bcwa', needDomains: ['domestic-abuse', 'thinking-behaviour'] },
    { id: 'cl-housing', organizationId: 'changing-lives', needDomains: ['accommodation'] },
  ]);

  it('names needs and the area by their labels', () => {
    const proposal = proposeAllocation(request([P('domestic-abuse'), O('thinking-behaviour')]), dir, {});
    expect(proposal.offers[0]!.why).toMatch(/^Covers domestic abuse \(priority\) and thinking and behaviour in Sandwell\./);
    for (const offer of proposal.offers) expect(offer.why).not.toMatch(CODES);
  });

  it('a replacement offer, while the plan holds other needs with other providers, does not claim one roof for everything', () => {
    // Changing Lives holds accommodation; BCWA declined domestic abuse and a new proposal runs for it alone.
    const first = proposeAllocation(request([P('domestic-abuse')]), dir, {});
    expect(first.offers[0]!.why).toContain('covering every priority need under one roof');
    const replacement = proposeAllocation(request([P('domestic-abuse')], { alreadyHeld: ['accommodation'] }), dir, {});
    expect(replacement.offers[0]!.why).toContain('Part of the smallest set of providers (1) covering the priority needs no provider holds yet.');
    expect(replacement.offers[0]!.why).not.toContain('under one roof');
    expect(replacement.offers[0]!.why).not.toContain('every priority need');
  });
});

describe('why a need has no provider, in words', () => {
  it('a postcode gap counts the services elsewhere with the verb agreeing', () => {
    const one = directory([{ id: 'far', organizationId: 'far-org', needDomains: ['trauma'], serviceAreas: ['telford-and-wrekin'] }]);
    const gap = proposeAllocation(request([P('trauma')]), one, {}).gaps[0]!;
    expect(gap.explanation).toBe('No trauma service covers Sandwell (a postcode gap): 1 serves other areas.');
    const two = directory([
      { id: 'far', organizationId: 'far-org', needDomains: ['trauma'], serviceAreas: ['telford-and-wrekin'] },
      { id: 'further', organizationId: 'far-org', needDomains: ['trauma'], serviceAreas: ['shropshire'] },
    ]);
    expect(proposeAllocation(request([P('trauma')]), two, {}).gaps[0]!.explanation).toBe('No trauma service covers Sandwell (a postcode gap): 2 serve other areas.');
  });

  it('every other reason names the need and the area by their labels', () => {
    const dir = directory([
      { id: 'young-only', organizationId: 'y', needDomains: ['thinking-behaviour'], eligibility: { sex: ['female'], minAge: 18, maxAge: 25 } },
      { id: 'full', organizationId: 'f', needDomains: ['domestic-abuse'], capacity: 0 },
    ]);
    const { gaps } = proposeAllocation(request([P('thinking-behaviour'), P('domestic-abuse'), O('children-families')]), dir, {});
    expect(gaps.map((g) => g.explanation)).toEqual([
      'No thinking and behaviour service in Sandwell takes a participant aged 30.',
      'Every remaining domestic abuse service in Sandwell is full or temporarily closed.',
      'No service in the directory offers children and families support.',
    ]);
  });
});
