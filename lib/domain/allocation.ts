import { scopeCoversProvider } from './consent.ts';
import type { Directory, Service, ServiceLoad } from './directory.ts';
import type { ConsentProviders, Gap, Plan } from './schemas.ts';
import type { LocalAuthority, NeedDomain } from './taxonomy.ts';
import { andList, orList } from './list-words.ts';
import { LOCAL_AUTHORITY_LABELS, NEED_DOMAIN_LABELS } from './vocabulary.ts';

/** A need as a sentence names it ("thinking and behaviour"), from the vocabulary's labels, never its code. */
const needWords = (need: NeedDomain) => {
  const label = NEED_DOMAIN_LABELS[need] ?? need;
  return label.charAt(0).toLowerCase() + label.slice(1);
};
/** A local authority by its name ("Sandwell", "Telford and Wrekin"). */
const areaWords = (area: LocalAuthority) => LOCAL_AUTHORITY_LABELS[area] ?? area;

/**
 * Allocation: which providers to offer which needs. Pure and exact: providers are few, so every
 * set of providers is considered. The order of preference, from the design:
 *   1. cover every coverable priority need with the fewest providers (holistic support, fewer hand-offs);
 *   2. among those sets, cover the most other needs;
 *   3. then the lowest relative load (open allocations / capacity) on the services used;
 *   4. then a stable tie-break on the provider ids.
 * Other needs the chosen set cannot cover go to the fewest extra providers, by the same rules.
 * Every offer says why it was made and every uncovered need says why it is a gap.
 */
export interface NeedToAllocate {
  domain: NeedDomain;
  priority: boolean;
}

/**
 * An offer of this plan that its service turned down: declined, let expire, or accepted and then
 * stopped before the needs were met. Only coded reasons travel here, never a provider's note.
 */
export interface TurnedDownOffer {
  serviceId: string;
  /** The needs the offer carried when it was turned down. */
  needs: readonly NeedDomain[];
  how: 'declined' | 'expired' | 'stopped';
  /** The decline reason code, or the outcome the service stopped with. */
  reason?: string;
}

export interface AllocationRequest {
  needs: readonly NeedToAllocate[];
  localAuthority: LocalAuthority;
  age: number;
  sex?: 'female' | 'male';
  /**
   * A service is not asked again for a need it turned down for this plan; it stays a candidate for
   * the plan's other needs. The exclusion is per need because a decline or expiry answers one offer:
   * candidates are chosen per need, and a decline "sends the need to the next candidate". A wider bar
   * (say, after a decline for risk) would leave needs nobody was offered without a true gap reason:
   * "all candidates declined or expired" would claim an offer that was never made. Capacity, the
   * commonest decline, is already the directory's to say (capacity, temporarily closed), and a
   * service asked again for another need can decline again with its reason, which is then true.
   */
  turnedDown: readonly TurnedDownOffer[];
  /**
   * The providers her consent covers (default all). A service of another organisation is never
   * offered; a need only such services could meet is a gap `outside-consent` naming them.
   */
  providers?: ConsentProviders;
  /**
   * The plan's open needs a live allocation already holds (after a decline, an expiry or a review that
   * adds needs, only the rest are proposed): a proposal's "why" then speaks of the needs still without
   * a provider, not of every need of the plan.
   */
  alreadyHeld?: readonly NeedDomain[];
}

export interface ProposedOffer {
  serviceId: string;
  providerId: string;
  needs: NeedDomain[];
  why: string;
}

export interface AllocationProposal {
  offers: ProposedOffer[];
  gaps: Omit<Gap, 'recordedAt'>[];
}

/** Beyond this many candidate providers the exact search would be slow; the directory is refused at load instead. */
export const MAX_CANDIDATE_PROVIDERS = 20;

type Candidates = Map<NeedDomain, Service[]>;

function hasCapacity(service: Service, load: ServiceLoad): boolean {
  return (load[service.id] ?? 0) < service.capacity;
}

function relativeLoad(service: Service, load: ServiceLoad): number {
  return service.capacity === 0 ? Number.POSITIVE_INFINITY : (load[service.id] ?? 0) / service.capacity;
}

function howTurnedDown(offer: TurnedDownOffer): string {
  if (offer.how === 'declined') return offer.reason ? `declined it: ${offer.reason}` : 'declined it';
  if (offer.how === 'expired') return 'let the offer expire';
  return offer.reason ? `stopped before it was met: ${offer.reason}` : 'stopped before it was met';
}

/** Candidates for one need, or the reason there are none. */
function candidatesFor(need: NeedDomain, req: Omit<AllocationRequest, 'needs'>, directory: Directory, load: ServiceLoad): Service[] | Omit<Gap, 'recordedAt'> {
  const forNeed = directory.services.filter((s) => s.needDomains.includes(need));
  if (forNeed.length === 0) return { domain: need, reason: 'no-service', explanation: `No service in the directory offers ${needWords(need)} support.` };
  const inArea = forNeed.filter((s) => s.serviceAreas.includes(req.localAuthority));
  if (inArea.length === 0)
    return { domain: need, reason: 'no-coverage-in-area', explanation: `No ${needWords(need)} service covers ${areaWords(req.localAuthority)} (a postcode gap): ${forNeed.length} ${forNeed.length === 1 ? 'serves' : 'serve'} other areas.` };
  const sex = req.sex ?? 'female';
  const eligible = inArea.filter((s) => s.eligibility.sex.includes(sex) && req.age >= s.eligibility.minAge && req.age <= s.eligibility.maxAge);
  if (eligible.length === 0)
    return { domain: need, reason: 'not-eligible', explanation: `No ${needWords(need)} service in ${areaWords(req.localAuthority)} takes a participant aged ${req.age}.` };
  const turnedDownThisNeed = (s: Service) => req.turnedDown.filter((o) => o.serviceId === s.id && o.needs.includes(need)).at(-1);
  const notTurnedDown = eligible.filter((s) => !turnedDownThisNeed(s));
  if (notTurnedDown.length === 0) {
    // In service id order, so the words do not depend on the order of the directory.
    const answers = [...eligible].sort((a, b) => a.id.localeCompare(b.id)).map((s) => `${s.name} ${howTurnedDown(turnedDownThisNeed(s) as TurnedDownOffer)}`);
    return {
      domain: need,
      reason: 'all-candidates-declined-or-expired',
      explanation: `Every ${needWords(need)} service in ${areaWords(req.localAuthority)} (${eligible.length}) was offered ${needWords(need)} for this plan and turned it down: ${answers.join('; ')}.`,
    };
  }
  const open = notTurnedDown.filter((s) => s.status === 'active' && hasCapacity(s, load));
  if (open.length === 0)
    return { domain: need, reason: 'no-capacity', explanation: `Every remaining ${needWords(need)} service in ${areaWords(req.localAuthority)} is full or temporarily closed.` };
  // Her consent is looked at last: a need is outside her consent only when a service she has not
  // agreed to could have met it now, so every other reason stays the truer one where it also holds
  // (widening her consent would not help a need nobody in the area offers, or one every service is full for).
  const consented = open.filter((s) => scopeCoversProvider({ shareWithProviders: true, dataCategories: [], providers: req.providers }, s.organizationId));
  if (consented.length === 0) {
    const names = [...new Set(open.map((s) => s.organizationId))].sort().map((id) => directory.organizations.find((o) => o.id === id)?.name ?? id);
    return {
      domain: need,
      reason: 'outside-consent',
      explanation: `Her consent does not cover ${orList(names)}, which could meet ${needWords(need)} in ${areaWords(req.localAuthority)}: only with her agreement to share with ${names.length > 1 ? 'one of them' : 'it'} (change consent) can it be offered.`,
    };
  }
  return consented;
}

/**
 * A gap as events and the history carry it. Which providers her consent leaves out is hers and the
 * coordinators' (on the plan, read through the audited API): programme consumers read only that
 * providers she has not agreed to could meet it, never whom she refused.
 */
export function gapForEvents<G extends Omit<Gap, 'recordedAt'>>(gap: G): G {
  if (gap.reason !== 'outside-consent') return gap;
  return { ...gap, explanation: `Only providers her consent does not cover could meet ${needWords(gap.domain)}.` };
}

/** Outcomes with which a provider stops before the need is met: that service is not asked again for it. */
const STOPPED_EARLY = new Set(['partially-completed', 'disengaged', 'other']);

/** Offers of this plan a service declined, let expire, or stopped before their needs were met: it is not asked again for those needs. */
export function turnedDownOffers(plan: Plan): TurnedDownOffer[] {
  return plan.allocations.flatMap((a): TurnedDownOffer[] => {
    if (a.status === 'declined') return [{ serviceId: a.serviceId, needs: a.needs, how: 'declined', ...(a.declineReason ? { reason: a.declineReason } : {}) }];
    if (a.status === 'expired') return [{ serviceId: a.serviceId, needs: a.needs, how: 'expired' }];
    if (a.status === 'ended' && a.outcome && STOPPED_EARLY.has(a.outcome)) return [{ serviceId: a.serviceId, needs: a.needs, how: 'stopped', reason: a.outcome }];
    return [];
  });
}

/** The gap of a need that cannot be offered because her consent does not allow sharing with providers. */
export function noConsentToShareGap(need: NeedDomain): Omit<Gap, 'recordedAt'> {
  return { domain: need, reason: 'no-consent-to-share', explanation: 'Consent does not allow sharing with providers, so no offer was made.' };
}

/**
 * Why a need nobody holds is a gap when a coordinator activates the plan by hand, by the same rules
 * allocation uses (so "all candidates declined or expired" is only said when every candidate turned
 * an offer of that very need down). When allocation would still find a candidate (it has not run for
 * the need since it was assessed, declined or stopped), the only true reason is that the need was not
 * offered to a service that could still be asked: the gap says so and names them, rather than guess.
 * `load` may be unknown (`{}`): then "no capacity" is only said of services closed or of capacity 0.
 */
export function gapAtManualActivation(
  need: NeedDomain,
  req: Omit<AllocationRequest, 'needs'> & { shareWithProviders: boolean },
  directory: Directory,
  load: ServiceLoad,
): Omit<Gap, 'recordedAt'> {
  if (!req.shareWithProviders) return noConsentToShareGap(need);
  const found = candidatesFor(need, req, directory, load);
  if (!Array.isArray(found)) return found;
  const names = [...found].sort((a, b) => a.id.localeCompare(b.id)).map((s) => s.name);
  return {
    domain: need,
    reason: 'not-offered',
    explanation: `The plan was activated before ${needWords(need)} was offered to ${orList(names)} in ${areaWords(req.localAuthority)}, which could still be asked.`,
  };
}

interface Choice {
  providers: string[];
  /** need -> provider */
  assignment: Map<NeedDomain, string>;
}

function providersCovering(need: NeedDomain, candidates: Candidates): Set<string> {
  return new Set((candidates.get(need) ?? []).map((s) => s.organizationId));
}

/** Give each need to one provider of the set: the one covering most of the needs, then the least loaded. */
function assignNeeds(needs: NeedDomain[], providers: string[], candidates: Candidates, load: ServiceLoad): Map<NeedDomain, string> {
  const coverCount = new Map(providers.map((p) => [p, needs.filter((n) => providersCovering(n, candidates).has(p)).length]));
  const providerLoad = (p: string) => Math.min(...[...candidates.values()].flat().filter((s) => s.organizationId === p).map((s) => relativeLoad(s, load)));
  const assignment = new Map<NeedDomain, string>();
  for (const need of needs) {
    const able = providers.filter((p) => providersCovering(need, candidates).has(p));
    able.sort((a, b) => (coverCount.get(b) ?? 0) - (coverCount.get(a) ?? 0) || providerLoad(a) - providerLoad(b) || a.localeCompare(b));
    if (able[0]) assignment.set(need, able[0]);
  }
  return assignment;
}

function choiceLoad(choice: Choice, candidates: Candidates, load: ServiceLoad): number {
  return choice.providers.reduce((sum, p) => {
    const services = [...candidates.values()].flat().filter((s) => s.organizationId === p);
    return sum + Math.min(...services.map((s) => relativeLoad(s, load)));
  }, 0);
}

function* subsetsOfSize<T>(items: readonly T[], size: number, start = 0, prefix: T[] = []): Generator<T[]> {
  if (prefix.length === size) {
    yield prefix;
    return;
  }
  for (let i = start; i <= items.length - (size - prefix.length); i += 1) yield* subsetsOfSize(items, size, i + 1, [...prefix, items[i] as T]);
}

/**
 * The fewest providers that cover every need in `mustCover`; among those, the set covering the
 * most of `niceToCover`, then the lowest load, then the first by provider id.
 */
function cheapestCover(mustCover: NeedDomain[], niceToCover: NeedDomain[], providers: string[], candidates: Candidates, load: ServiceLoad): Choice {
  if (mustCover.length === 0) return { providers: [], assignment: new Map() };
  const sorted = [...providers].sort();
  for (let size = 1; size <= sorted.length; size += 1) {
    let best: { choice: Choice; other: number; load: number; key: string } | undefined;
    for (const set of subsetsOfSize(sorted, size)) {
      const members = new Set(set);
      const coversAll = mustCover.every((n) => [...providersCovering(n, candidates)].some((p) => members.has(p)));
      if (!coversAll) continue;
      const other = niceToCover.filter((n) => [...providersCovering(n, candidates)].some((p) => members.has(p)));
      const needs = [...mustCover, ...other];
      const choice = { providers: set, assignment: assignNeeds(needs, set, candidates, load) };
      const score = { choice, other: other.length, load: choiceLoad(choice, candidates, load), key: set.join(',') };
      if (!best || score.other > best.other || (score.other === best.other && (score.load < best.load || (score.load === best.load && score.key < best.key)))) best = score;
    }
    if (best) return best.choice;
  }
  throw new Error('unreachable: every must-cover need has a candidate');
}

/** Within a provider, give its needs to the service covering most of them, then the least loaded. */
function toOffers(assignment: Map<NeedDomain, string>, candidates: Candidates, load: ServiceLoad): Map<string, { service: Service; needs: NeedDomain[] }> {
  const byProvider = new Map<string, NeedDomain[]>();
  for (const [need, provider] of assignment) byProvider.set(provider, [...(byProvider.get(provider) ?? []), need]);
  const offers = new Map<string, { service: Service; needs: NeedDomain[] }>();
  for (const [provider, needs] of byProvider) {
    let remaining = [...needs];
    while (remaining.length > 0) {
      const services = [...new Map([...candidates.values()].flat().filter((s) => s.organizationId === provider).map((s) => [s.id, s])).values()];
      const ranked = services
        .map((s) => ({ s, covers: remaining.filter((n) => (candidates.get(n) ?? []).some((c) => c.id === s.id)) }))
        .filter((r) => r.covers.length > 0)
        .sort((a, b) => b.covers.length - a.covers.length || relativeLoad(a.s, load) - relativeLoad(b.s, load) || a.s.id.localeCompare(b.s.id));
      const top = ranked[0];
      if (!top) break;
      const existing = offers.get(top.s.id);
      offers.set(top.s.id, { service: top.s, needs: [...(existing?.needs ?? []), ...top.covers] });
      remaining = remaining.filter((n) => !top.covers.includes(n));
    }
  }
  return offers;
}

/**
 * What the core set of providers is the smallest of. Proposing for a plan whose other needs are held
 * already, it is the set for the priority needs still without a provider, and one provider is not all
 * her support "under one roof": the plan has its other providers too.
 */
function smallestSetWords(size: number, othersHeld: boolean): string {
  if (othersHeld) return `Part of the smallest set of providers (${size}) covering the priority needs no provider holds yet.`;
  return `Part of the smallest set of providers (${size}) covering every priority need${size > 1 ? '' : ' under one roof'}.`;
}

export function proposeAllocation(req: AllocationRequest, directory: Directory, load: ServiceLoad): AllocationProposal {
  const candidates: Candidates = new Map();
  const gaps: AllocationProposal['gaps'] = [];
  for (const need of req.needs) {
    const found = candidatesFor(need.domain, req, directory, load);
    if (Array.isArray(found)) candidates.set(need.domain, found);
    else gaps.push(found);
  }
  const coverable = req.needs.filter((n) => candidates.has(n.domain));
  const priority = coverable.filter((n) => n.priority).map((n) => n.domain);
  const other = coverable.filter((n) => !n.priority).map((n) => n.domain);
  const providers = [...new Set([...candidates.values()].flat().map((s) => s.organizationId))];
  if (providers.length > MAX_CANDIDATE_PROVIDERS) throw new Error(`exact allocation supports at most ${MAX_CANDIDATE_PROVIDERS} candidate providers, got ${providers.length}`);

  const core = cheapestCover(priority, other, providers, candidates, load);
  const coreSet = new Set(core.providers);
  const left = other.filter((n) => !core.assignment.has(n));
  const extra = cheapestCover(left, [], providers.filter((p) => !coreSet.has(p)), candidates, load);
  const assignment = new Map([...core.assignment, ...extra.assignment]);

  const offers = [...toOffers(assignment, candidates, load).values()].map(({ service, needs }) => {
    const priorityNeeds = needs.filter((n) => priority.includes(n));
    const inCore = coreSet.has(service.organizationId);
    const reasons = [
      `Covers ${andList(needs.map((n) => (priority.includes(n) ? `${needWords(n)} (priority)` : needWords(n))))} in ${areaWords(req.localAuthority)}.`,
      inCore && priority.length > 0
        ? smallestSetWords(core.providers.length, (req.alreadyHeld ?? []).length > 0)
        : `Added for needs the core providers cannot meet.`,
      `${load[service.id] ?? 0} of ${service.capacity} places in use.`,
    ];
    if (priorityNeeds.length === 0 && inCore) reasons[1] = 'Already in the plan’s provider set, so no extra hand-off.';
    return { serviceId: service.id, providerId: service.organizationId, needs, why: reasons.join(' ') };
  });
  offers.sort((a, b) => a.providerId.localeCompare(b.providerId) || a.serviceId.localeCompare(b.serviceId));
  return { offers, gaps };
}
