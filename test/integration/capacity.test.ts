/**
 * Capacity under load, over real HTTP: 60 assessments submitted at once against a directory whose
 * services take 1-4 women each. No service ends over capacity, every hold is a live (offered or
 * accepted) allocation and every live allocation has its hold, each unmet need is a gap with the
 * right reason, and declines, expiries, exits, consent withdrawals, lost races and crashed
 * executions all give their places back exactly, to be taken by the next allocation.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceState } from '../../lib/adapters/dynamodb/directory-store.ts';
import { parseDirectory } from '../../lib/directory/load.ts';
import type { Directory, Service } from '../../lib/domain/directory.ts';
import type { Allocation, Plan } from '../../lib/domain/schemas.ts';
import { consent, scanTable, startTestStack, type Json, type TestStack } from '../support/http.ts';

// ---------------------------------------------------------------------------------------------
// A directory where demand far exceeds supply

const CAPACITY_DIRECTORY = {
  name: 'Capacity test directory (small capacities)',
  illustrative: true,
  organizations: [
    { id: 'north-star', name: 'North Star' },
    { id: 'harbour', name: 'Harbour' },
    { id: 'lantern', name: 'Lantern' },
    { id: 'meadow', name: 'Meadow' },
  ],
  services: [
    { id: 'north-star-wellbeing', organizationId: 'north-star', name: 'Wellbeing', needDomains: ['mental-health', 'trauma', 'emotional-resilience'], serviceAreas: ['birmingham'], capacity: 3 },
    { id: 'north-star-safety', organizationId: 'north-star', name: 'Safety', needDomains: ['domestic-abuse', 'trauma'], serviceAreas: ['birmingham'], capacity: 2 },
    { id: 'harbour-housing', organizationId: 'harbour', name: 'Housing and money', needDomains: ['accommodation', 'finance-benefit-debt'], serviceAreas: ['birmingham'], capacity: 4 },
    { id: 'harbour-recovery', organizationId: 'harbour', name: 'Recovery', needDomains: ['substance-misuse', 'alcohol'], serviceAreas: ['birmingham'], capacity: 2 },
    { id: 'lantern-minds', organizationId: 'lantern', name: 'Minds', needDomains: ['mental-health', 'thinking-behaviour'], serviceAreas: ['birmingham'], capacity: 2 },
    { id: 'lantern-refuge', organizationId: 'lantern', name: 'Refuge', needDomains: ['domestic-abuse'], serviceAreas: ['birmingham', 'coventry'], capacity: 1 },
    { id: 'meadow-homes', organizationId: 'meadow', name: 'Homes', needDomains: ['accommodation', 'substance-misuse'], serviceAreas: ['birmingham'], capacity: 1 },
    { id: 'meadow-closed', organizationId: 'meadow', name: 'Drop-in (closed)', status: 'temporarily-closed', needDomains: ['mental-health', 'accommodation'], serviceAreas: ['birmingham'], capacity: 5 },
    { id: 'meadow-work', organizationId: 'meadow', name: 'Work (Dudley only)', needDomains: ['education-training-employment'], serviceAreas: ['dudley'], capacity: 5 },
  ],
};

const PLANS = 60;
const POOL = ['mental-health', 'domestic-abuse', 'accommodation', 'substance-misuse', 'trauma', 'thinking-behaviour'] as const;

/** 2-3 needs per plan, one of them a priority; some needs no service offers, or none in the area. */
function needsOf(i: number) {
  const first = POOL[i % POOL.length] as string;
  const second = POOL[(i * 5 + 2) % POOL.length] as string;
  const needs = [{ domain: first, level: 'high', priority: true }];
  if (second !== first) needs.push({ domain: second, level: 'medium', priority: i % 3 === 0 });
  if (i % 10 === 0) needs.push({ domain: 'children-families', level: 'low', priority: false }); // no service at all
  if (i % 10 === 5) needs.push({ domain: 'education-training-employment', level: 'low', priority: false }); // Dudley only
  return needs;
}
const areaOf = (i: number) => (i % 15 === 7 ? 'coventry' : 'birmingham');

// ---------------------------------------------------------------------------------------------

let t: TestStack;
let dir: string;
let directory: Directory;
const planIds: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wraparound-capacity-'));
  const file = join(dir, 'providers.json');
  await writeFile(file, JSON.stringify(CAPACITY_DIRECTORY, null, 2));
  directory = parseDirectory(CAPACITY_DIRECTORY, file);
  t = await startTestStack({ providersFile: file });
});
afterAll(async () => {
  await t?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const isLive = (a: Pick<Allocation, 'status'>) => a.status === 'offered' || a.status === 'accepted';
const serviceOf = (id: string) => directory.services.find((s) => s.id === id) as Service;

/** Names made of letters only: the duplicate-referral check compares names without digits. */
const letters = (i: number): string => (i < 26 ? '' : letters(Math.floor(i / 26) - 1)) + String.fromCharCode(97 + (i % 26));

async function refer(i: number, area = areaOf(i)): Promise<string> {
  const created = await t.call('POST', '/plans', {
    token: t.coordinator,
    body: {
      participant: { givenName: `Capacity ${letters(i)}`, familyName: `Tester ${letters(i)}`, dateOfBirth: '1988-04-23' },
      referral: { source: 'custody-diversion', localAuthority: area, urgency: 'routine' },
    },
  });
  if (created.status !== 201) throw new Error(`refer ${i}: ${created.status} ${created.text}`);
  const planId = created.json.planId as string;
  const consented = await t.call('POST', `/plans/${planId}/record-consent`, { token: t.coordinator, body: consent(t.clock.today()) });
  if (consented.status !== 200) throw new Error(`record-consent ${i}: ${consented.status} ${consented.text}`);
  return planId;
}

const getPlan = async (planId: string): Promise<Json> => {
  const res = await t.call('GET', `/plans/${planId}`, { token: t.coordinator });
  expect(res.status).toBe(200);
  return res.json;
};

async function allPlans(): Promise<Plan[]> {
  return (await Promise.all(planIds.map((id) => t.stack.plans.getPlan(id)))).filter((p): p is Plan => Boolean(p));
}

interface Snapshot {
  states: Map<string, ServiceState>;
  plans: Plan[];
  holds: Record<string, number>;
  live: Record<string, number>;
}

/**
 * The invariants, checked after every step: no service over capacity; on every service the holds
 * are exactly its live allocations (by allocation id and plan); live allocations never exceed the
 * total capacity.
 */
async function checkInvariants(label: string): Promise<Snapshot> {
  const states = new Map((await t.stack.services.states()).map((s) => [s.serviceId, s]));
  const plans = await allPlans();
  const liveByService = new Map<string, string[]>();
  for (const plan of plans)
    for (const a of plan.allocations.filter(isLive)) liveByService.set(a.serviceId, [...(liveByService.get(a.serviceId) ?? []), `${a.allocationId}@${plan.planId}`]);
  const holds: Record<string, number> = {};
  const live: Record<string, number> = {};
  for (const service of directory.services) {
    const state = states.get(service.id);
    expect(state, `${label}: state of ${service.id}`).toBeDefined();
    const held = Object.entries(state?.holds ?? {}).map(([id, h]) => `${id}@${h.planId}`).sort();
    const liveHere = (liveByService.get(service.id) ?? []).sort();
    expect(held.length, `${label}: ${service.id} holds ${held.length} of ${state?.capacity}`).toBeLessThanOrEqual(state?.capacity ?? 0);
    expect(held, `${label}: holds on ${service.id} are its live allocations`).toEqual(liveHere);
    holds[service.id] = held.length;
    live[service.id] = liveHere.length;
  }
  for (const serviceId of liveByService.keys()) expect(states.has(serviceId), `${label}: live allocation on unknown ${serviceId}`).toBe(true);
  const totalLive = Object.values(live).reduce((a, b) => a + b, 0);
  const totalCapacity = [...states.values()].reduce((sum, s) => sum + s.capacity, 0);
  expect(totalLive).toBeLessThanOrEqual(totalCapacity);
  return { states, plans, holds, live };
}

/** Why a need of this plan can get no offer right now, by the directory rules, or undefined if a service has room. */
function expectedGapReason(plan: Plan, domain: string, states: Map<string, ServiceState>): string | undefined {
  const forNeed = directory.services.filter((s) => (s.needDomains as string[]).includes(domain));
  if (forNeed.length === 0) return 'no-service';
  const inArea = forNeed.filter((s) => s.serviceAreas.includes(plan.referral.localAuthority));
  if (inArea.length === 0) return 'no-coverage-in-area';
  // A service that declined or let expire an offer of this need is not asked for it again; its other needs are another matter.
  const excluded = new Set(plan.allocations.filter((a) => (a.status === 'declined' || a.status === 'expired') && (a.needs as string[]).includes(domain)).map((a) => a.serviceId));
  const open = inArea.filter((s) => !excluded.has(s.id));
  if (open.length === 0) return 'all-candidates-declined-or-expired';
  const withRoom = open.filter((s) => {
    const state = states.get(s.id);
    return state?.status === 'active' && Object.keys(state.holds).length < state.capacity;
  });
  return withRoom.length === 0 ? 'no-capacity' : undefined;
}

/**
 * Every open need is held by a live allocation or recorded as a gap with the reason the rules give.
 * A gap records why at the plan's last allocation: a place freed since then goes to the plan on its
 * next allocation, so outside `strict` plans a "no-capacity" gap may be stale (a place is free now).
 */
function checkGaps(snapshot: Snapshot, label: string, strict: (planId: string) => boolean = () => true) {
  let gaps = 0;
  let stale = 0;
  const reasons: Record<string, number> = {};
  for (const plan of snapshot.plans.filter((p) => p.stage === 'allocating' || p.stage === 'active')) {
    const held = new Set(plan.allocations.filter(isLive).flatMap((a) => a.needs));
    for (const need of plan.needs.filter((n) => n.status === 'open' && !held.has(n.domain))) {
      const gap = plan.gaps.find((g) => g.domain === need.domain);
      expect(gap, `${label}: ${plan.planId} ${need.domain} has neither an offer nor a gap`).toBeDefined();
      const expected = expectedGapReason(plan, need.domain, snapshot.states);
      if (expected === undefined && gap?.reason === 'no-capacity' && !strict(plan.planId)) stale += 1;
      else expect({ plan: plan.planId, domain: need.domain, reason: gap?.reason }).toEqual({ plan: plan.planId, domain: need.domain, reason: expected });
      gaps += 1;
      reasons[gap?.reason ?? ''] = (reasons[gap?.reason ?? ''] ?? 0) + 1;
    }
  }
  return { gaps, reasons, stale };
}

/**
 * Watch one plan's executions: every reservation and release (and whether the release found the
 * hold it names), and hold its saves until `saves` executions are ready to save, then let them
 * through in the order `order` gives (all at once by default).
 */
function instrument(planId: string, options: { saves?: number; order?: (plans: Plan[]) => Plan[] } = {}) {
  const services = t.stack.services;
  const plans = t.stack.plans;
  const originalSave = plans.savePlan.bind(plans);
  const originalRelease = services.release.bind(services);
  const originalReserve = services.reserve.bind(services);
  const reserves: { serviceId: string; allocationId: string; token: string; result: string }[] = [];
  const releases: { serviceId: string; allocationId: string; token?: string; held: boolean }[] = [];
  const saves: string[] = [];
  const queue: { plan: Plan; go: () => void }[] = [];
  const expected = options.saves ?? 2;
  const flush = () => {
    const ordered = options.order ? options.order(queue.map((q) => q.plan)) : queue.map((q) => q.plan);
    const entries = ordered.map((plan) => queue.find((q) => q.plan === plan) as { plan: Plan; go: () => void });
    queue.length = 0;
    // One at a time, in order: each save finishes before the next starts.
    void entries.reduce((prev, e) => prev.then(() => new Promise<void>((done) => { pending.set(e.plan, done); e.go(); })), Promise.resolve());
  };
  const pending = new Map<Plan, () => void>();
  plans.savePlan = async (plan: Plan) => {
    if (plan.planId !== planId) return originalSave(plan);
    await new Promise<void>((go) => {
      queue.push({ plan, go });
      if (queue.length >= expected) flush();
      setTimeout(() => {
        if (queue.some((q) => q.plan === plan)) flush();
      }, 3_000);
    });
    try {
      return await originalSave(plan);
    } finally {
      saves.push(plan.allocations.map((a) => `${a.allocationId}:${a.status}`).join(','));
      pending.get(plan)?.();
    }
  };
  services.reserve = async (serviceId: string, allocationId: string, owner: string, now: string, token: string) => {
    const result = await originalReserve(serviceId, allocationId, owner, now, token);
    if (owner === planId) reserves.push({ serviceId, allocationId, token, result });
    return result;
  };
  services.release = async (serviceId: string, allocationId: string, token?: string) => {
    const hold = (await services.state(serviceId))?.holds[allocationId];
    await originalRelease(serviceId, allocationId, token);
    if (hold?.planId === planId) releases.push({ serviceId, allocationId, ...(token ? { token } : {}), held: token ? hold.token === token : true });
  };
  return {
    reserves,
    releases,
    saves,
    restore() {
      plans.savePlan = originalSave;
      services.release = originalRelease;
      services.reserve = originalReserve;
    },
  };
}

const figures: Record<string, unknown> = {};

describe('capacity is never exceeded', () => {
  it(`${PLANS} assessments submitted at once: no service over capacity, holds = live allocations, gaps explained`, async () => {
    const referStart = Date.now();
    for (let i = 0; i < PLANS; i += 10) planIds.push(...(await Promise.all(Array.from({ length: Math.min(10, PLANS - i) }, (_, k) => refer(i + k)))));
    figures.referMs = Date.now() - referStart;

    // Count every reservation and every release during the race, to account for each place taken.
    const services = t.stack.services;
    const originalReserve = services.reserve.bind(services);
    const originalRelease = services.release.bind(services);
    const tally: Record<string, number> = {};
    services.reserve = async (...args: Parameters<typeof originalReserve>) => {
      const result = await originalReserve(...args);
      tally[result] = (tally[result] ?? 0) + 1;
      return result;
    };
    services.release = async (...args: Parameters<typeof originalRelease>) => {
      tally[args[2] ? 'released-by-token' : 'released'] = (tally[args[2] ? 'released-by-token' : 'released'] ?? 0) + 1;
      return originalRelease(...args);
    };
    const start = Date.now();
    let results;
    try {
      results = await Promise.all(planIds.map((planId, i) => t.call('POST', `/plans/${planId}/submit-assessment`, { token: t.coordinator, body: { needs: needsOf(i) } })));
    } finally {
      services.reserve = originalReserve;
      services.release = originalRelease;
    }
    figures.concurrentSubmitMs = Date.now() - start;
    figures.reserveCalls = tally;
    const failed = results.map((r, i) => ({ i, status: r.status, detail: r.json?.detail })).filter((r) => r.status !== 200);
    expect(failed).toEqual([]);
    for (const r of results) expect(r.json.stage).toBe('allocating');

    const snapshot = await checkInvariants('after concurrent allocation');
    const active = directory.services.filter((s) => s.status === 'active');
    // Demand exceeds supply in Birmingham: every active Birmingham service ends exactly full, none over.
    for (const s of active.filter((x) => x.serviceAreas.includes('birmingham'))) expect({ service: s.id, holds: snapshot.holds[s.id] }).toEqual({ service: s.id, holds: s.capacity });
    expect(snapshot.holds['meadow-closed']).toBe(0);
    expect(snapshot.holds['meadow-work']).toBe(0);
    const offers = snapshot.plans.flatMap((p) => p.allocations);
    expect(offers.every((a) => a.status === 'offered')).toBe(true);
    // Every place taken is an offer, or was given back by the execution that took it (all or nothing).
    expect((tally.reserved ?? 0) - (tally['released-by-token'] ?? 0)).toBe(offers.length);
    expect(tally.released ?? 0).toBe(0);
    const { gaps, reasons } = checkGaps(snapshot, 'after concurrent allocation');
    expect(reasons['no-capacity']).toBeGreaterThan(0);
    expect(reasons['no-service']).toBe(PLANS / 10);
    expect(reasons['no-coverage-in-area']).toBeGreaterThanOrEqual(PLANS / 10);
    // The API shows the same plans.
    const viaApi = await Promise.all(planIds.slice(0, 10).map(getPlan));
    for (const view of viaApi) {
      const stored = snapshot.plans.find((p) => p.planId === view.planId) as Plan;
      expect(view.allocations.map((a: Json) => [a.allocationId, a.serviceId, a.status])).toEqual(stored.allocations.map((a) => [a.allocationId, a.serviceId, a.status]));
      expect(view.gaps.map((g: Json) => [g.domain, g.reason])).toEqual(stored.gaps.map((g) => [g.domain, g.reason]));
    }
    Object.assign(figures, { plans: planIds.length, offers: offers.length, gaps, gapReasons: reasons, holds: snapshot.holds, plansWithNoOffer: snapshot.plans.filter((p) => p.allocations.length === 0).length });
  });

  it("a coordinator's manual offer to a full service is refused with 400 naming serviceId, and nothing changes", async () => {
    const { plans, states } = await checkInvariants('before manual offer');
    const waiting = plans.find((p) => p.referral.localAuthority === 'birmingham' && p.gaps.some((g) => g.reason === 'no-capacity' && g.domain === 'mental-health'));
    if (!waiting) throw new Error('no plan waiting for mental-health');
    const full = 'north-star-wellbeing';
    expect(Object.keys(states.get(full)?.holds ?? {})).toHaveLength(serviceOf(full).capacity);
    const before = await scanTable(t.stack);

    const refused = await t.call('POST', `/plans/${waiting.planId}/offer-manually`, { token: t.coordinator, body: { serviceId: full, needs: ['mental-health'], reason: 'Knows the key worker already' } });
    expect(refused.status).toBe(400);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect(refused.json.errors).toEqual([expect.objectContaining({ path: 'serviceId' })]);
    expect(refused.json.errors[0].message).toContain(full);

    const closed = await t.call('POST', `/plans/${waiting.planId}/offer-manually`, { token: t.coordinator, body: { serviceId: 'meadow-closed', needs: ['mental-health'], reason: 'Drop-in' } });
    expect(closed.status).toBe(400);
    expect(closed.json.errors).toEqual([expect.objectContaining({ path: 'serviceId' })]);

    expect(await scanTable(t.stack)).toEqual(before);
    await checkInvariants('after refused manual offers');
  });

  it('a decline gives its place back; a waiting plan takes it on its next allocation', async () => {
    const { plans, states } = await checkInvariants('before decline');
    // A waiting plan W: a no-capacity gap on a domain a full service S serves, and an open offer O elsewhere
    // to decline (its next allocation). Another plan D holds an open offer on S and declines it first.
    let pick: { w: Plan; o: Allocation; s: Service; d: Plan; dOffer: Allocation; domain: string } | undefined;
    for (const w of plans.filter((p) => p.referral.localAuthority === 'birmingham')) {
      for (const gap of w.gaps.filter((g) => g.reason === 'no-capacity')) {
        for (const o of w.allocations.filter((a) => a.status === 'offered')) {
          for (const s of directory.services.filter((x) => x.status === 'active' && x.id !== o.serviceId && (x.needDomains as string[]).includes(gap.domain))) {
            const d = plans.find((p) => p.planId !== w.planId && p.allocations.some((a) => a.status === 'offered' && a.serviceId === s.id));
            const dOffer = d?.allocations.find((a) => a.status === 'offered' && a.serviceId === s.id);
            if (d && dOffer && !pick) pick = { w, o, s, d, dOffer, domain: gap.domain };
          }
        }
      }
    }
    if (!pick) throw new Error('no waiting plan with an offer to decline');
    const { w, o, s, d, dOffer, domain } = pick;
    expect(Object.keys(states.get(s.id)?.holds ?? {})).toHaveLength(s.capacity);

    const declined = await t.call('POST', `/allocations/${dOffer.allocationId}/decline`, { token: t.provider(dOffer.providerId), body: { reason: 'capacity' } });
    expect(declined.status).toBe(200);
    const afterD = await checkInvariants('after D declines');
    expect(afterD.holds[s.id]).toBe(s.capacity - 1);
    expect(afterD.states.get(s.id)?.holds[dOffer.allocationId]).toBeUndefined();
    checkGaps(afterD, 'after D declines', (id) => id === d.planId);

    const trigger = await t.call('POST', `/allocations/${o.allocationId}/decline`, { token: t.provider(o.providerId), body: { reason: 'capacity' } });
    expect(trigger.status).toBe(200);
    const afterW = await checkInvariants('after W declines');
    const wNow = afterW.plans.find((p) => p.planId === w.planId) as Plan;
    const taken = wNow.allocations.find((a) => a.status === 'offered' && a.serviceId === s.id);
    expect(taken, `W (${w.planId}) takes the freed place on ${s.id}`).toBeDefined();
    expect(taken?.needs).toContain(domain);
    expect(wNow.gaps.some((g) => g.domain === domain)).toBe(false);
    expect(afterW.holds[s.id]).toBe(s.capacity);
    // W's declined service is excluded for W, so its place is simply free now.
    expect(afterW.holds[o.serviceId]).toBe((afterD.holds[o.serviceId] ?? 0) - 1);
    checkGaps(afterW, 'after W declines', (id) => id === w.planId);
  });

  it('accepted places are held until ended; exit and consent withdrawal give every place back', async () => {
    const { plans } = await checkInvariants('before exits');
    const withOffers = plans.filter((p) => p.stage === 'allocating' && p.allocations.some((a) => a.status === 'offered'));
    expect(withOffers.length).toBeGreaterThanOrEqual(4);
    // The plan whose allocation is ended must become active once its offers are accepted: every priority need offered.
    const fullyOffered = (p: Plan) => p.needs.filter((n) => n.priority).every((n) => p.allocations.some((a) => a.status === 'offered' && a.needs.includes(n.domain)));
    const ending = withOffers.find(fullyOffered);
    if (!ending) throw new Error('no plan with every priority need offered');
    const [accepting, exiting, withdrawing] = withOffers.filter((p) => p !== ending) as [Plan, Plan, Plan];

    // Providers accept: the places stay held.
    for (const plan of [accepting, ending]) {
      for (const a of plan.allocations.filter((x) => x.status === 'offered')) {
        const res = await t.call('POST', `/allocations/${a.allocationId}/accept`, { token: t.provider(a.providerId), body: {} });
        expect(res.status).toBe(200);
      }
    }
    const accepted = await checkInvariants('after accepts');
    const acceptedHere = accepted.plans.find((p) => p.planId === accepting.planId) as Plan;
    expect(acceptedHere.allocations.filter((a) => a.status === 'accepted').length).toBeGreaterThan(0);

    // The accepting plan exits: its accepted allocations end and their places come back.
    const releasedBy = (plan: Plan) => plan.allocations.filter(isLive);
    const exitSet = [...releasedBy(acceptedHere), ...releasedBy(exiting)];
    const before = accepted.holds;
    for (const plan of [acceptedHere, exiting]) {
      const res = await t.call('POST', `/plans/${plan.planId}/exit`, { token: t.coordinator, body: { reason: 'moved-away' } });
      expect(res.status).toBe(200);
      expect(res.json.stage).toBe('exited');
    }
    const consentPlan = accepted.plans.find((p) => p.planId === withdrawing.planId) as Plan;
    const withdrawn = await t.call('POST', `/plans/${withdrawing.planId}/withdraw-consent`, { token: t.coordinator, body: {} });
    expect(withdrawn.status).toBe(200);
    // A provider ends an accepted allocation early: that place comes back too.
    const endingNow = accepted.plans.find((p) => p.planId === ending.planId) as Plan;
    expect(endingNow.stage).toBe('active');
    const toEnd = endingNow.allocations.find((a) => a.status === 'accepted') as Allocation;
    const ended = await t.call('POST', `/allocations/${toEnd.allocationId}/end`, { token: t.provider(toEnd.providerId), body: { outcome: 'completed' } });
    expect(ended.status).toBe(200);

    const after = await checkInvariants('after exits');
    const freed: Record<string, number> = {};
    for (const a of [...exitSet, ...releasedBy(consentPlan), toEnd]) freed[a.serviceId] = (freed[a.serviceId] ?? 0) + 1;
    for (const service of directory.services) expect({ service: service.id, holds: after.holds[service.id] }).toEqual({ service: service.id, holds: (before[service.id] ?? 0) - (freed[service.id] ?? 0) });
    for (const a of [...exitSet, ...releasedBy(consentPlan), toEnd]) expect(after.states.get(a.serviceId)?.holds[a.allocationId]).toBeUndefined();
    figures.releasedByExitConsentEnd = Object.values(freed).reduce((x, y) => x + y, 0);
  });

  it('a lost save (two declines on one plan at once) gives back the places its execution took', async () => {
    // Room for the re-offers: the team lead raises every capacity by 3.
    for (const state of await t.stack.services.states()) await t.stack.services.update(state.serviceId, { capacity: state.capacity + 3 }, 'team-lead', t.clock());
    const planId = await refer(1000);
    planIds.push(planId);
    const assessed = await t.call('POST', `/plans/${planId}/submit-assessment`, {
      token: t.coordinator,
      body: { needs: [{ domain: 'domestic-abuse', level: 'high', priority: true }, { domain: 'substance-misuse', level: 'high', priority: true }] },
    });
    expect(assessed.status).toBe(200);
    const offered = (assessed.json.allocations as Json[]).filter((a) => a.status === 'offered');
    expect(offered).toHaveLength(2);
    await checkInvariants('before the race');

    // Both executions load the plan, decide and reserve before either saves: one of the saves must lose.
    const spy = instrument(planId);
    let both;
    try {
      both = await Promise.all(offered.map((a) => t.call('POST', `/allocations/${a.allocationId}/decline`, { token: t.provider(a.providerId), body: { reason: 'capacity' } })));
    } finally {
      spy.restore();
    }
    expect(both.map((r) => r.status).sort()).toEqual([200, 409]);
    // Each execution reserved a place for its re-offer; the loser gave its own back by its token, and only that.
    const reserved = spy.reserves.filter((r) => r.result === 'reserved');
    expect(reserved).toHaveLength(2);
    const compensations = spy.releases.filter((r) => r.token && r.held);
    expect(compensations).toHaveLength(1);
    expect(reserved.map((r) => r.token)).toContain(compensations[0]?.token);
    const snapshot = await checkInvariants('after the lost save');
    const plan = snapshot.plans.find((p) => p.planId === planId) as Plan;
    expect(plan.allocations.filter((a) => a.status === 'declined')).toHaveLength(1);

    // The loser tries again and succeeds; still no leak.
    const loser = offered[both.findIndex((r) => r.status === 409)] as Json;
    const retry = await t.call('POST', `/allocations/${loser.allocationId}/decline`, { token: t.provider(loser.providerId), body: { reason: 'capacity' } });
    expect(retry.status).toBe(200);
    const final = await checkInvariants('after the retried decline');
    expect((final.plans.find((p) => p.planId === planId) as Plan).allocations.filter((a) => a.status === 'declined')).toHaveLength(2);
    figures.lostSave = { reserved: reserved.length, compensated: compensations.length, tokenReleasesTried: spy.releases.filter((r) => r.token).length };
  });

  it('offers that expire (clock past respondBy, then a sweep) give their places back, and the next allocations take them', async () => {
    const before = await checkInvariants('before expiry');
    const open = before.plans.flatMap((p) => p.allocations.filter((a) => a.status === 'offered'));
    expect(open.length).toBeGreaterThan(0);
    const latest = open.map((a) => a.respondBy).sort().at(-1) as string;
    t.clock.set(new Date(new Date(latest).getTime() + 60_000).toISOString());

    const report = await t.stack.sweep();
    expect(report.timersSent).toBeGreaterThanOrEqual(open.length);
    // The first sweep also reconciles: nothing had leaked, so nothing is released.
    expect(report.holdsReleased).toBe(0);

    const after = await checkInvariants('after expiry');
    const stillOpen = new Set(after.plans.flatMap((p) => p.allocations.filter((a) => a.status === 'offered').map((a) => a.allocationId)));
    for (const a of open) expect(stillOpen.has(a.allocationId)).toBe(false);
    const expired = after.plans.flatMap((p) => p.allocations.filter((a) => a.status === 'expired'));
    expect(expired.length).toBe(open.length);
    const reOffers = after.plans.flatMap((p) => p.allocations.filter((a) => a.status === 'offered' && a.offeredAt === t.clock()));
    expect(reOffers.length).toBeGreaterThan(0);
    // Plans re-allocated in the sweep got the places free at their turn; later expiries may free more.
    const { stale } = checkGaps(after, 'after expiry', () => false);
    figures.staleNoCapacityGapsAfterExpiry = stale;
    Object.assign(figures, { expired: expired.length, reOffersAfterExpiry: reOffers.length, holdsAfterExpiry: after.holds });
  });

  it('an execution that dies after reserving (before saving) leaks a hold only until the hourly reconcile', async () => {
    await checkInvariants('before the crash');
    // Room for the offers the crashing execution will reserve.
    for (const state of await t.stack.services.states()) await t.stack.services.update(state.serviceId, { capacity: state.capacity + 2 }, 'team-lead', t.clock());
    const victim = await refer(2000);
    planIds.push(victim);

    const plans = t.stack.plans;
    const originalSave = plans.savePlan.bind(plans);
    plans.savePlan = async (plan: Plan) => {
      if (plan.planId === victim) throw new Error('process died before saving');
      return originalSave(plan);
    };
    let crashed;
    try {
      crashed = await t.call('POST', `/plans/${victim}/submit-assessment`, { token: t.coordinator, body: { needs: [{ domain: 'mental-health', level: 'high', priority: true }, { domain: 'accommodation', level: 'high', priority: true }] } });
    } finally {
      plans.savePlan = originalSave;
    }
    expect(crashed.status).toBe(500);
    expect((await getPlan(victim)).stage).toBe('assessment');
    const leaked = (await t.stack.services.states()).flatMap((s) => Object.entries(s.holds).filter(([, h]) => h.planId === victim).map(([id]) => `${s.serviceId}/${id}`));
    expect(leaked).toHaveLength(2);

    // Within the hour nothing is reconciled; after it, the hourly reconcile gives the places back.
    t.clock.advanceMs(30 * 60_000);
    expect((await t.stack.sweep()).holdsReleased).toBe(0);
    t.clock.advanceMs(60 * 60_000);
    const report = await t.stack.sweep();
    expect(report.holdsReleased).toBe(leaked.length);
    await checkInvariants('after reconcile');
    figures.leakedThenReconciled = leaked.length;
    if (process.env.CAPACITY_FIGURES) console.info('capacity figures', JSON.stringify(figures));
  });

  // BUG (lib/runtime/capacity.ts reserveAll, functions/allocate-providers/handler.ts): reserveAll awaits
  // Promise.all, so when one reservation throws (a throttled write) the places the others took stay held;
  // the state machine retries the step with a new hold token, which finds those holds foreign ('full'),
  // and they stay held by no allocation until the hourly reconcile. Unskip when fixed.
  it('a throttled reservation retried by the state machine leaves no place held by no allocation', async () => {
    for (const state of await t.stack.services.states()) await t.stack.services.update(state.serviceId, { capacity: Object.keys(state.holds).length + 2, status: state.serviceId === 'meadow-closed' ? 'temporarily-closed' : 'active' }, 'team-lead', t.clock());
    const planId = await refer(4000);
    planIds.push(planId);
    const services = t.stack.services;
    const originalReserve = services.reserve.bind(services);
    let calls = 0;
    services.reserve = async (...args: Parameters<typeof originalReserve>) => {
      if (args[2] === planId && ++calls === 2) throw Object.assign(new Error('Rate of requests exceeds the allowed throughput'), { name: 'TransientStorageError' });
      return originalReserve(...args);
    };
    let assessed;
    try {
      assessed = await t.call('POST', `/plans/${planId}/submit-assessment`, {
        token: t.coordinator,
        body: { needs: [{ domain: 'mental-health', level: 'high', priority: true }, { domain: 'accommodation', level: 'high', priority: true }] },
      });
    } finally {
      services.reserve = originalReserve;
    }
    expect(calls).toBeGreaterThan(2); // the step was retried
    expect(assessed.status).toBe(200);
    const snapshot = await checkInvariants('after a throttled reservation');
    checkGaps(snapshot, 'after a throttled reservation', (id) => id === planId);
  });

  // BUG (functions/allocate-providers/handler.ts, with lib/adapters/dynamodb/directory-store.ts reserve):
  // two executions on one plan number their new offers alike (al_<plan>_<n+1>); the second to reserve
  // finds the first one's hold under that id and is told 'full', so it proposes again without a service
  // that has room and records a no-capacity gap. If that execution wins the save, the plan keeps a false
  // gap and the need waits although a place is free. Unskip when fixed.
  it('two declines racing on one plan never leave a false no-capacity gap while a place is free', async () => {
    const mentalHealth = ['north-star-wellbeing', 'lantern-minds'];
    const accommodation = ['harbour-housing', 'meadow-homes'];
    const setRoom = async (ids: string[], room: number) => {
      for (const id of ids) {
        const state = await t.stack.services.state(id);
        await t.stack.services.update(id, { capacity: Object.keys(state?.holds ?? {}).length + room }, 'team-lead', t.clock());
      }
    };
    await setRoom([...mentalHealth, ...accommodation], 1);
    const planId = await refer(3000);
    planIds.push(planId);
    const assessed = await t.call('POST', `/plans/${planId}/submit-assessment`, {
      token: t.coordinator,
      body: { needs: [{ domain: 'mental-health', level: 'high', priority: true }, { domain: 'accommodation', level: 'high', priority: true }] },
    });
    expect(assessed.status).toBe(200);
    const offered = (assessed.json.allocations as Json[]).filter((a) => a.status === 'offered');
    expect(offered.map((a) => a.needs)).toEqual(expect.arrayContaining([['mental-health'], ['accommodation']]));
    // Everything else is now full; the closed drop-in (mental health and accommodation) reopens with room.
    await setRoom([...mentalHealth, ...accommodation], 0);
    await t.stack.services.update('meadow-closed', { status: 'active', capacity: 5 }, 'team-lead', t.clock());

    // The execution that was refused the drop-in saves first, so its proposal is the one kept.
    const hasGap = (plan: Plan) => plan.gaps.some((g) => g.reason === 'no-capacity');
    const spy = instrument(planId, { order: (plans) => [...plans].sort((a, b) => Number(hasGap(b)) - Number(hasGap(a))) });
    let both;
    try {
      both = await Promise.all(offered.map((a) => t.call('POST', `/allocations/${a.allocationId}/decline`, { token: t.provider(a.providerId), body: { reason: 'capacity' } })));
    } finally {
      spy.restore();
    }
    expect(both.map((r) => r.status).sort()).toEqual([200, 409]);
    const snapshot = await checkInvariants('after the race for the drop-in');
    // Every need of the plan is offered, or its gap is true now (the drop-in has room, nobody else took it).
    checkGaps(snapshot, 'after the race for the drop-in', (id) => id === planId);
  });
});
