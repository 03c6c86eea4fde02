/**
 * Consent scoped to named providers, and changed after it is recorded, over real HTTP on the embedded
 * stack (dynalite in memory, the local PlanCommand runner):
 *  - a provider dropped from her consent loses access at once: its allocation ended, its contact share,
 *    allocation detail and projections closed, told to purge in its feed; no coverage-gap escalation;
 *  - in an active plan, needs left unmet are offered within the new scope and the plan activates again;
 *  - broadening reaches a need recorded as outside her consent;
 *  - every 400 and 409 changes nothing in the table;
 *  - the figures count the gaps outside her consent (JSON and CSV).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anotherParticipant, referral, scanTable, startTestStack, type AllocationJson, type CallResult, type Json, type TestStack } from '../support/http.ts';
import { addDaysToDate, lastOfQuarter } from '../../lib/domain/metrics/dates.ts';

let t: TestStack;

beforeAll(async () => {
  // Exact figures, so a plan's gap shows in them.
  t = await startTestStack({ feedSettleMs: 0, webDistDir: false, metrics: { suppressionThreshold: 1, roundCountsTo: 1 } });
});
afterAll(async () => {
  await t?.stop();
});

const NOTE = 'Her sister works at the refuge';
/** Every plan the tests make, for the figures at the end. */
const made: string[] = [];

async function ok(method: string, path: string, body?: unknown, token = t.coordinator): Promise<Json> {
  const res = await t.call(method, path, { token, ...(body !== undefined ? { body } : {}) });
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
  return res.json;
}

const scope = (extra: Record<string, unknown> = {}) => ({ shareWithProviders: true, dataCategories: ['needs', 'risks', 'contact-details'], ...extra });
const consentBody = (extra: Record<string, unknown> = {}) => ({ scope: scope(extra), givenAt: t.clock.today(), method: 'written' });
const live = (plan: Json): AllocationJson[] => plan.allocations.filter((a: AllocationJson) => a.status === 'offered' || a.status === 'accepted');
const holderOf = (plan: Json, domain: string): AllocationJson | undefined => live(plan).find((a) => (a.needs as string[]).includes(domain));

/** Referred, consented with `providers`, assessed with `needs`; each offer accepted when `accept`. */
async function plan(needs: unknown[], providers?: unknown, accept = true): Promise<Json> {
  const created = await ok('POST', '/plans', referral({ participant: anotherParticipant() }));
  made.push(created.planId);
  await ok('POST', `/plans/${created.planId}/record-consent`, consentBody(providers ? { providers } : {}));
  const assessed = await ok('POST', `/plans/${created.planId}/submit-assessment`, { needs });
  if (accept) for (const offer of live(assessed)) await ok('POST', `/allocations/${offer.allocationId}/accept`, {}, t.provider(offer.providerId));
  return ok('GET', `/plans/${created.planId}`);
}

describe('change-consent over HTTP', () => {
  it('a provider dropped from her consent loses access at once and is told to purge; the gap is hers, not an escalation', async () => {
    const active = await plan([
      { domain: 'domestic-abuse', level: 'high', priority: true, goals: ['A safety plan'] },
      { domain: 'accommodation', level: 'medium', priority: true },
    ]);
    expect(active.stage).toBe('active');
    const held = holderOf(active, 'domestic-abuse')!;
    expect(held.providerId).toBe('bcwa');
    const bcwa = t.provider('bcwa');
    expect((await t.call('GET', `/allocations/${held.allocationId}/participant`, { token: bcwa })).status).toBe(200);
    expect((await ok('GET', `/allocations/${held.allocationId}`, undefined, bcwa)).needs[0].goals).toEqual(['A safety plan']);

    t.clock.advanceDays(1);
    const published = t.published.length;
    const changed = await ok('POST', `/plans/${active.planId}/change-consent`, { ...consentBody({ providers: { kind: 'all-except', providerIds: ['bcwa'] } }), note: NOTE });
    const ended = changed.allocations.find((a: AllocationJson) => a.allocationId === held.allocationId);
    expect([ended.status, ended.outcome]).toEqual(['ended', 'consent-withdrawn']);
    // Domestic abuse (priority) lost its provider and only BCWA serves it in Birmingham: a gap of her
    // choosing, so the plan stays active (with its reviews) and no activation deadline is armed.
    expect(changed.stage).toBe('active');
    expect(changed.deadlines.map((d: Json) => d.command)).not.toContain('activation-overdue');
    expect(changed.gaps).toEqual([expect.objectContaining({ domain: 'domestic-abuse', reason: 'outside-consent', explanation: expect.stringContaining("Her consent does not cover Black Country Women's Aid, which could meet domestic abuse") })]);
    expect(changed.openEscalations.filter((e: Json) => e.kind === 'coverage-gap')).toEqual([]);
    expect(changed.consent).toMatchObject({ note: NOTE, scope: { providers: { kind: 'all-except', providerIds: ['bcwa'] } }, previous: [expect.objectContaining({ scope: expect.objectContaining({ providers: { kind: 'all' } }) })] });

    // BCWA: no contact details, no goals or risks, its projection and feed say it ended and to purge.
    const share = await t.call('GET', `/allocations/${held.allocationId}/participant`, { token: bcwa });
    expect(share.status).toBe(403);
    const detail = await ok('GET', `/allocations/${held.allocationId}`, undefined, bcwa);
    expect(detail.status).toBe('ended');
    expect(detail.needs).toEqual([{ domain: 'domestic-abuse' }]);
    expect(detail).not.toHaveProperty('risks');
    const mine = (await ok('GET', '/providers/bcwa/allocations', undefined, bcwa)).items.find((r: Json) => r.allocationId === held.allocationId);
    expect(mine.status).toBe('ended');
    const feed = (await ok('GET', '/providers/bcwa/feed?limit=500', undefined, bcwa)).items;
    expect(feed.filter((e: Json) => e.subject === active.planId).map((e: Json) => e.type)).toContain('plan.consent-withdrawn.v1');
    const sent = t.published.slice(published);
    expect(sent.filter((e) => e.type === 'plan.consent-withdrawn.v1').map((e) => [e.providerId, e.data.allocationId])).toEqual([['bcwa', held.allocationId]]);
    // Every other provider's events and the programme's carry neither the note nor the providers she named.
    const changedEvent = sent.find((e) => e.type === 'plan.consent-changed.v1')!;
    expect(changedEvent.providerId).toBeUndefined();
    expect(changedEvent.data).toEqual({ planRef: active.planId, shareWithProviders: true, dataCategories: ['needs', 'risks', 'contact-details'], providersKind: 'all-except', providersNamed: 1, method: 'written', reconfirmed: false, backToAllocating: false });
    expect(JSON.stringify(sent)).not.toContain(NOTE);
    // Nor whom she refused: the gap's explanation in the programme's events is the generic one.
    const programme = sent.filter((e) => !e.providerId);
    const proposedGaps = programme.find((e) => e.type === 'plan.allocation-proposed.v1')!.data.gaps;
    expect(proposedGaps).toEqual([expect.objectContaining({ domain: 'domestic-abuse', reason: 'outside-consent', explanation: 'Only providers her consent does not cover could meet domestic abuse.' })]);
    for (const named of ['Black Country', 'bcwa']) expect(JSON.stringify(programme)).not.toContain(named);
    const history = (await ok('GET', `/plans/${active.planId}/history`)).items;
    expect(history.map((e: Json) => e.type)).toContain('plan.consent-changed.v1');
    expect(JSON.stringify(history)).not.toContain(NOTE);
    expect(JSON.stringify(history)).not.toContain('Black Country');
  });

  it('narrowing an active plan re-offers the needs left unmet within the new scope; accepted, the plan is active again', async () => {
    const active = await plan([
      { domain: 'mental-health', level: 'high', priority: true },
      { domain: 'accommodation', level: 'high', priority: true },
    ]);
    expect(active.stage).toBe('active');
    const housing = holderOf(active, 'accommodation')!;
    const other = housing.providerId === 'changing-lives' ? 'green-square-accord' : 'changing-lives';
    t.clock.advanceDays(1);
    const changed = await ok('POST', `/plans/${active.planId}/change-consent`, consentBody({ providers: { kind: 'all-except', providerIds: [housing.providerId] } }));
    expect(changed.stage).toBe('allocating');
    const reoffer = holderOf(changed, 'accommodation')!;
    expect([reoffer.providerId, reoffer.status]).toEqual([other, 'offered']);
    expect(live(changed).map((a) => a.providerId)).not.toContain(housing.providerId);
    // Every new offer accepted (Changing Lives may have held both needs, under one roof).
    for (const offer of live(changed).filter((a) => a.status === 'offered')) await ok('POST', `/allocations/${offer.allocationId}/accept`, {}, t.provider(offer.providerId));
    const accepted = await ok('GET', `/plans/${active.planId}`);
    expect(accepted.stage).toBe('active');
    expect(accepted.activatedAt).toBe(active.activatedAt);
  });

  it('contact details taken out of her consent: each provider holding an allocation is told to delete them, in its own feed only; nothing is offered again', async () => {
    const active = await plan([
      { domain: 'domestic-abuse', level: 'high', priority: true },
      { domain: 'mental-health', level: 'high', priority: true },
    ]);
    expect(active.stage).toBe('active');
    const holders = live(active);
    expect(new Set(holders.map((a) => a.providerId)).size).toBe(2);
    const [first] = holders;
    expect((await t.call('GET', `/allocations/${first!.allocationId}/participant`, { token: t.provider(first!.providerId) })).status).toBe(200);

    t.clock.advanceDays(1);
    const published = t.published.length;
    const changed = await ok('POST', `/plans/${active.planId}/change-consent`, consentBody({ dataCategories: ['needs'] }));
    expect(changed.stage).toBe('active');
    // The allocations go on as they were, each keeping what its provider was told (its own views say it).
    expect(live(changed).map(({ purgeInstructions: _told, ...rest }) => rest)).toEqual(holders);
    expect(live(changed).map((a) => a.purgeInstructions)).toEqual(holders.map(() => [{ instruction: 'purge-withdrawn-categories', withdrawnCategories: ['risks', 'contact-details'], at: changed.updatedAt }]));
    const told = t.published.slice(published).filter((e) => e.type === 'plan.consent-narrowed.v1');
    expect(told.map((e) => [e.providerId, e.data]).sort()).toEqual(
      holders.map((a) => [a.providerId, { planRef: active.planId, allocationId: a.allocationId, withdrawnCategories: ['risks', 'contact-details'], instruction: 'purge-withdrawn-categories' }]).sort(),
    );
    for (const a of holders) {
      const feed = (await ok('GET', `/providers/${a.providerId}/feed?limit=500`, undefined, t.provider(a.providerId))).items.filter((e: Json) => e.subject === active.planId && e.type === 'plan.consent-narrowed.v1');
      expect(feed.map((e: Json) => e.data.allocationId)).toEqual([a.allocationId]);
    }
    const bystander = ['anawim', 'bcwa', 'changing-lives', 'green-square-accord'].find((id) => !holders.some((a) => a.providerId === id))!;
    const theirs = (await ok('GET', `/providers/${bystander}/feed?limit=500`, undefined, t.provider(bystander))).items;
    expect(theirs.filter((e: Json) => e.subject === active.planId)).toEqual([]);
    expect((await t.call('GET', `/allocations/${first!.allocationId}/participant`, { token: t.provider(first!.providerId) })).status).toBe(403);
  });

  it('broadening her consent reaches a need recorded as outside it', async () => {
    const active = await plan(
      [
        { domain: 'mental-health', level: 'high', priority: true },
        { domain: 'accommodation', level: 'medium', priority: false },
      ],
      { kind: 'only', providerIds: ['anawim'] },
    );
    expect(active.stage).toBe('active');
    expect(active.gaps.map((g: Json) => [g.domain, g.reason])).toEqual([['accommodation', 'outside-consent']]);
    expect(active.openEscalations).toEqual([]);
    t.clock.advanceDays(1);
    const broadened = await ok('POST', `/plans/${active.planId}/change-consent`, consentBody({ providers: { kind: 'only', providerIds: ['anawim', 'green-square-accord'] } }));
    expect(holderOf(broadened, 'accommodation')).toMatchObject({ providerId: 'green-square-accord', status: 'offered' });
    expect(broadened.gaps).toEqual([]);
    // Not a priority need: the plan stays active while the offer is open.
    expect(broadened.stage).toBe('active');
  });

  describe('every refusal changes nothing', () => {
    let planId: string;
    let referred: string;
    const refused = async (status: number, path: string, body: unknown, field?: string): Promise<CallResult> => {
      const before = await scanTable(t.stack);
      const res = await t.call('POST', path, { token: t.coordinator, body });
      expect(res.status, res.text).toBe(status);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      if (field) expect(res.json.errors.map((e: Json) => e.path)).toContain(field);
      expect(await scanTable(t.stack)).toEqual(before);
      return res;
    };

    beforeAll(async () => {
      planId = (await plan([{ domain: 'mental-health', level: 'high', priority: true }], { kind: 'all-except', providerIds: ['changing-lives'] })).planId;
      referred = (await ok('POST', '/plans', referral({ participant: anotherParticipant() }))).planId;
    });

    it('400s naming the field and the rule', async () => {
      const unknown = await refused(400, `/plans/${referred}/record-consent`, consentBody({ providers: { kind: 'only', providerIds: ['anawim', 'bcwa', 'nobody'] } }), 'scope.providers.providerIds.2');
      expect(unknown.json.errors).toEqual([{ path: 'scope.providers.providerIds.2', message: expect.stringContaining('no provider "nobody" in the directory') }]);
      await refused(400, `/plans/${referred}/record-consent`, { ...consentBody({ providers: { kind: 'only', providerIds: ['anawim'] } }), scope: { shareWithProviders: false, providers: { kind: 'only', providerIds: ['anawim'] } } }, 'scope.providers');
      await refused(400, `/plans/${planId}/change-consent`, consentBody({ providers: { kind: 'only', providerIds: ['anawim', 'anawim'] } }), 'scope.providers.providerIds.1');
      await refused(400, `/plans/${planId}/change-consent`, consentBody({ providers: { kind: 'some', providerIds: ['anawim'] } }), 'scope.providers.kind');
      await refused(400, `/plans/${planId}/change-consent`, consentBody({ providers: { kind: 'all-except', providerIds: ['nobody'] } }), 'scope.providers.providerIds.0');
      await refused(400, `/plans/${planId}/change-consent`, { ...consentBody(), givenAt: '2099-01-01' }, 'givenAt');
      const before = await refused(400, `/plans/${planId}/change-consent`, { ...consentBody(), givenAt: '2025-01-01' }, 'givenAt');
      expect(before.json.errors[0].message).toContain('must not be before the consent it replaces');
      await refused(400, `/plans/${planId}/change-consent`, { ...consentBody(), reason: 'she asked' }, 'reason');
      const manual = await refused(400, `/plans/${planId}/offer-manually`, { serviceId: 'changing-lives-recovery', needs: ['mental-health'], reason: 'She knows them' }, 'serviceId');
      expect(manual.json.errors[0].message).toContain('her consent does not cover Changing Lives');
    });

    it('409s: before consent is recorded, and once it is withdrawn', async () => {
      await refused(409, `/plans/${referred}/change-consent`, consentBody());
      await ok('POST', `/plans/${planId}/withdraw-consent`, {});
      const closed = await refused(409, `/plans/${planId}/change-consent`, consentBody());
      expect(closed.json.detail).toContain('her consent was withdrawn');
    });
  });

  it('the figures count the needs standing outside her consent, in Gaps: outside her consent, part of Unmet needs (JSON and CSV)', async () => {
    // Two more outside her consent (only Anawim agreed), and one gap of another reason (nobody offers
    // thinking-behaviour in Birmingham), smaller: with exact figures, a zero part of Unmet needs is
    // hidden and the smallest shown part hidden with it, so this one shows.
    await plan(
      [
        { domain: 'mental-health', level: 'high', priority: true },
        { domain: 'accommodation', level: 'medium', priority: false },
        { domain: 'domestic-abuse', level: 'medium', priority: false },
        { domain: 'thinking-behaviour', level: 'low', priority: false },
      ],
      { kind: 'only', providerIds: ['anawim'] },
    );
    let standing = 0;
    for (const planId of made) standing += (await ok('GET', `/plans/${planId}`)).gaps.filter((g: Json) => g.reason === 'outside-consent').length;
    expect(standing).toBeGreaterThan(0);
    // Figures come only from complete quarters: asked on the first day of the next one.
    t.clock.set(`${addDaysToDate(lastOfQuarter(t.clock.today()), 1)}T10:00:00.000Z`);
    const figures = await ok('GET', '/metrics', undefined, t.commissioner);
    expect(figures.overall.gapsOutsideConsent).toBe(standing);
    expect(figures.definitions.figures.gapsOutsideConsent.label).toBe('Gaps: outside her consent');
    const csv = await t.call('GET', '/metrics.csv', { token: t.commissioner });
    const [header, overall] = csv.text.split('\r\n').map((line) => line.split(','));
    expect(overall?.[header!.indexOf('gapsOutsideConsent')]).toBe(String(standing));
  });
});
