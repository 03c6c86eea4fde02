/**
 * Her consent in the web app's words (web/src/consent-words.ts): which providers, what a change
 * changed, what the form sends, and the warning before a change that withdraws offers or ends
 * allocations, naming each provider.
 */
import { describe, expect, it } from 'vitest';
import {
  categoriesInWords,
  categoryLoss,
  categoryLossWarning,
  choicesOf,
  consentInBrief,
  consentLosses,
  consentWithdrawnAt,
  consentsAsGiven,
  gainWarning,
  givenAgainInWords,
  lossWarning,
  newlyCovered,
  organisationsOf,
  providersInWords,
  providersLeftOutByConsent,
  scopeChanges,
  scopeOfChoices,
  type ScopeChoices,
} from '../../web/src/consent-words.ts';
import type { Allocation, ConsentScope } from '../../web/src/types.ts';

const NAMES: Record<string, string> = { bcwa: "Black Country Women's Aid", 'changing-lives': 'Changing Lives', anawim: 'Anawim' };
const name = (id: string) => NAMES[id] ?? id;
const ORGANISATIONS = organisationsOf([
  { providerId: 'changing-lives', providerName: 'Changing Lives' },
  { providerId: 'bcwa', providerName: "Black Country Women's Aid" },
  { providerId: 'changing-lives', providerName: 'Changing Lives' },
  { providerId: 'anawim', providerName: 'Anawim' },
]);

const scope = (providers: ConsentScope['providers'], dataCategories: ConsentScope['dataCategories'] = ['needs']): ConsentScope => ({ shareWithProviders: true, dataCategories, ...(providers ? { providers } : {}) });
const NOTHING: ConsentScope = { shareWithProviders: false, dataCategories: [], providers: { kind: 'all' } };

function allocation(allocationId: string, providerId: string, status: Allocation['status'], needs: string[]): Allocation {
  return { allocationId, providerId, serviceId: `${providerId}-service`, needs, status, lead: false, offeredAt: '2026-11-02T10:00:00.000Z', respondBy: '2026-11-06T17:00:00.000Z', why: 'Covers it' };
}

describe('her consent in words', () => {
  it("lists the directory's organisations once each, by name", () => {
    expect(ORGANISATIONS).toEqual([
      { providerId: 'anawim', name: 'Anawim' },
      { providerId: 'bcwa', name: "Black Country Women's Aid" },
      { providerId: 'changing-lives', name: 'Changing Lives' },
    ]);
  });

  it('names the providers her consent covers, and says when it shares nothing', () => {
    expect(providersInWords(scope({ kind: 'all' }), name)).toBe('Any provider in the directory');
    // A consent recorded before providers could be named covered every provider.
    expect(providersInWords(scope(undefined), name)).toBe('Any provider in the directory');
    expect(providersInWords(scope({ kind: 'only', providerIds: ['bcwa', 'anawim'] }), name)).toBe("Only Black Country Women's Aid and Anawim");
    expect(providersInWords(scope({ kind: 'all-except', providerIds: ['bcwa'] }), name)).toBe("Every provider except Black Country Women's Aid");
    expect(providersInWords(NOTHING, name)).toBe('None');
    expect(categoriesInWords(scope({ kind: 'all' }, ['needs', 'risks', 'contact-details']))).toBe('Needs, risks and contact details');
    expect(categoriesInWords(NOTHING)).toBe('Nothing: she does not agree to share with providers');
  });

  it('says what a change of consent changed', () => {
    expect(scopeChanges(scope({ kind: 'all' }), scope({ kind: 'all-except', providerIds: ['bcwa'] }), name)).toEqual([
      "Providers: any provider in the directory before, every provider except Black Country Women's Aid now",
    ]);
    expect(scopeChanges(scope({ kind: 'all' }, ['needs', 'adjustments']), scope({ kind: 'all' }, ['needs', 'risks']), name)).toEqual([
      'Providers may now also know: risks',
      'Providers may no longer know: adjustments',
    ]);
    expect(scopeChanges(scope({ kind: 'all' }), NOTHING, name)).toEqual(['Sharing with providers stopped']);
    expect(scopeChanges(NOTHING, scope({ kind: 'only', providerIds: ['anawim'] }), name)).toEqual(['Sharing with providers started: needs, with only Anawim']);
    // The same providers in another order, or a stored consent without providers against "all": unchanged.
    expect(scopeChanges(scope({ kind: 'only', providerIds: ['bcwa', 'anawim'] }), scope({ kind: 'only', providerIds: ['anawim', 'bcwa'] }), name)).toEqual(['Given again, unchanged']);
    expect(scopeChanges(scope(undefined), scope({ kind: 'all' }), name)).toEqual(['Given again, unchanged']);
  });

  it("sends what the form's fields say: providers only when she shares, in the directory's order", () => {
    const choices = (kind: ScopeChoices['kind'], named: Partial<ScopeChoices['named']>, share = true, categories = ['needs']): ScopeChoices => ({
      share,
      categories,
      kind,
      named: { only: [], 'all-except': [], ...named },
    });
    expect(scopeOfChoices(choices('all-except', { 'all-except': ['changing-lives', 'bcwa'] }), ORGANISATIONS)).toEqual({
      shareWithProviders: true,
      dataCategories: ['needs'],
      providers: { kind: 'all-except', providerIds: ['bcwa', 'changing-lives'] },
    });
    // Ticks of a named list are not sent once she chooses any provider, nor anything once she shares nothing.
    expect(scopeOfChoices(choices('all', { only: ['bcwa'] }), ORGANISATIONS).providers).toEqual({ kind: 'all' });
    expect(scopeOfChoices(choices('only', { only: ['bcwa'] }, false, ['needs', 'risks']), ORGANISATIONS)).toEqual(NOTHING);
    // An id the directory does not list (not loaded yet) is still sent, so the API can name it.
    expect(scopeOfChoices(choices('only', { only: ['gone'] }, true, []), ORGANISATIONS).providers).toEqual({ kind: 'only', providerIds: ['gone'] });
  });

  it('never reads a provider she refused as one she agreed to when the kind of list changes', () => {
    // Her consent: every provider except BCWA. The coordinator picks "only" and ticks Anawim.
    const refusedBcwa = choicesOf(scope({ kind: 'all-except', providerIds: ['bcwa'] }));
    expect(refusedBcwa.named).toEqual({ only: [], 'all-except': ['bcwa'] });
    const onlyAnawim: ScopeChoices = { ...refusedBcwa, kind: 'only', named: { ...refusedBcwa.named, only: ['anawim'] } };
    expect(scopeOfChoices(onlyAnawim, ORGANISATIONS).providers).toEqual({ kind: 'only', providerIds: ['anawim'] });
    // Back to "every provider except": her refusal is still there, not dropped by the detour.
    expect(scopeOfChoices({ ...onlyAnawim, kind: 'all-except' }, ORGANISATIONS).providers).toEqual({ kind: 'all-except', providerIds: ['bcwa'] });
    // A new consent names nobody under either kind.
    expect(choicesOf().named).toEqual({ only: [], 'all-except': [] });
  });
});

describe('the warning before a change that narrows her consent', () => {
  const allocations = [
    allocation('al_1', 'bcwa', 'accepted', ['domestic-abuse']),
    allocation('al_2', 'changing-lives', 'offered', ['accommodation']),
    allocation('al_3', 'anawim', 'accepted', ['mental-health']),
    allocation('al_4', 'bcwa', 'declined', ['trauma']),
  ];

  const EVERYONE = scope({ kind: 'all' });

  it('names the provider whose allocation ends and the one whose offer is withdrawn; a past offer of a provider named for a live one adds nothing', () => {
    const losses = consentLosses(allocations, EVERYONE, scope({ kind: 'only', providerIds: ['anawim'] }));
    expect(losses.map((l) => [l.providerId, l.ending.map((a) => a.allocationId), l.withdrawing.map((a) => a.allocationId)])).toEqual([
      ['bcwa', ['al_1'], []],
      ['changing-lives', [], ['al_2']],
    ]);
    expect(lossWarning(losses, name)).toBe(
      "Her consent would no longer cover Black Country Women's Aid and Changing Lives. Saving this change ends the allocation held by Black Country Women's Aid (domestic abuse) and withdraws the offer to Changing Lives (accommodation); they are told to stop and delete what they hold about her, and the needs they held are offered to providers her consent covers, where there are any (a need only they could meet becomes a gap of her choosing).",
    );
  });

  it('names one provider as one', () => {
    expect(lossWarning(consentLosses(allocations, EVERYONE, scope({ kind: 'all-except', providerIds: ['bcwa'] })), name)).toBe(
      "Her consent would no longer cover Black Country Women's Aid. Saving this change ends the allocation held by Black Country Women's Aid (domestic abuse); it is told to stop and delete what it holds about her, and the needs they held are offered to providers her consent covers, where there are any (a need only they could meet becomes a gap of her choosing).",
    );
  });

  it('says nothing when the change ends nothing (broader, or fewer categories only)', () => {
    expect(lossWarning(consentLosses(allocations, EVERYONE, scope({ kind: 'all' }, [])), name)).toBeUndefined();
    expect(lossWarning(consentLosses(allocations, EVERYONE, scope({ kind: 'all-except', providerIds: ['changing-lives-other'] })), name)).toBeUndefined();
  });

  it('ends every live allocation when she stops sharing', () => {
    expect(consentLosses(allocations, EVERYONE, NOTHING).map((l) => l.providerId)).toEqual(['bcwa', 'changing-lives', 'anawim']);
  });
});

describe('a provider that held a past offer and is no longer covered', () => {
  const EVERYONE = scope({ kind: 'all' });
  const allocations = [allocation('al_1', 'bcwa', 'accepted', ['domestic-abuse']), allocation('al_5', 'anawim', 'declined', ['wellbeing']), allocation('al_6', 'changing-lives', 'expired', ['accommodation'])];

  it('is named alone as told to stop and delete what it holds, as the API tells it (nothing of hers ends)', () => {
    const losses = consentLosses(allocations, EVERYONE, scope({ kind: 'all-except', providerIds: ['anawim'] }));
    expect(losses.map((l) => [l.providerId, l.ending.length, l.withdrawing.length, l.held.map((a) => a.allocationId)])).toEqual([['anawim', 0, 0, ['al_5']]]);
    expect(lossWarning(losses, name)).toBe('Her consent would no longer cover Anawim. Saving this change tells Anawim, which held an earlier offer, to stop and delete what it holds about her.');
    expect(lossWarning(consentLosses(allocations, EVERYONE, scope({ kind: 'only', providerIds: ['bcwa'] })), name)).toBe(
      'Her consent would no longer cover Anawim and Changing Lives. Saving this change tells Anawim and Changing Lives, which held earlier offers, to stop and delete what they hold about her.',
    );
  });

  it('is named after the providers whose allocations end', () => {
    expect(lossWarning(consentLosses(allocations, EVERYONE, scope({ kind: 'all-except', providerIds: ['bcwa', 'anawim'] })), name)).toBe(
      "Her consent would no longer cover Black Country Women's Aid and Anawim. Saving this change ends the allocation held by Black Country Women's Aid (domestic abuse); it is told to stop and delete what it holds about her, and the needs they held are offered to providers her consent covers, where there are any (a need only they could meet becomes a gap of her choosing); and Anawim, which held an earlier offer, is told to delete what it holds.",
    );
  });

  it('is not named when her consent did not cover it before either (it was told then)', () => {
    const refusedAnawim = scope({ kind: 'all-except', providerIds: ['anawim'] });
    expect(consentLosses(allocations, refusedAnawim, scope({ kind: 'all-except', providerIds: ['anawim', 'changing-lives'] })).map((l) => l.providerId)).toEqual(['changing-lives']);
    expect(consentLosses(allocations, refusedAnawim, refusedAnawim)).toEqual([]);
  });
});

describe('when her consent was withdrawn, in one rule', () => {
  const consent = { scope: scope({ kind: 'all' }), givenAt: '2026-11-02', method: 'written' };
  const date = (d: string) => `on ${d.slice(0, 10)}`;

  it('reads the consent, or the exit of a plan that ended because of it when the consent has no date', () => {
    expect(consentWithdrawnAt({ consent: { ...consent, withdrawnAt: '2026-12-01T10:00:00.000Z' } })).toBe('2026-12-01T10:00:00.000Z');
    const exit = { reason: 'consent-withdrawn', exitedAt: '2026-12-09T10:00:00.000Z' };
    expect(consentWithdrawnAt({ consent, exit })).toBe('2026-12-09T10:00:00.000Z');
    expect(consentWithdrawnAt({ exit })).toBe('2026-12-09T10:00:00.000Z');
    expect(consentWithdrawnAt({ consent, exit: { reason: 'completed', exitedAt: '2026-12-09T10:00:00.000Z' } })).toBeUndefined();
  });

  it("says it in the plan's details wherever the plan keeps it", () => {
    const exit = { reason: 'consent-withdrawn', exitedAt: '2026-12-09T10:00:00.000Z' };
    expect(consentInBrief({ consent }, date)).toBe('Written, on 2026-11-02');
    expect(consentInBrief({ consent, exit }, date)).toBe('Written, on 2026-11-02; withdrawn on 2026-12-09');
    expect(consentInBrief({ consent: { ...consent, withdrawnAt: '2026-12-01T10:00:00.000Z' } }, date)).toBe('Written, on 2026-11-02; withdrawn on 2026-12-01');
    expect(consentInBrief({ exit }, date)).toBe('Not recorded; withdrawn on 2026-12-09');
    expect(consentInBrief({}, date)).toBe('Not recorded');
  });
});

describe('the providers a manual offer leaves out because of her consent', () => {
  const service = (providerId: string, providerName: string, status: string, needs: string[]) => ({ providerId, providerName, status, needs });
  const services = [
    service('changing-lives', 'Changing Lives', 'active', ['accommodation']),
    service('changing-lives', 'Changing Lives', 'active', ['accommodation', 'wellbeing']),
    service('bcwa', "Black Country Women's Aid", 'inactive', ['accommodation']),
    service('anawim', 'Anawim', 'active', ['mental-health']),
  ];
  const refused = scope({ kind: 'all-except', providerIds: ['changing-lives', 'bcwa', 'anawim'] });

  it('names, once each, only those with an active service for an open need', () => {
    expect(providersLeftOutByConsent(services, ['accommodation'], refused)).toEqual(['Changing Lives']);
    expect(providersLeftOutByConsent(services, ['accommodation', 'mental-health'], refused)).toEqual(['Changing Lives', 'Anawim']);
    expect(providersLeftOutByConsent(services, ['accommodation'], scope({ kind: 'all' }))).toEqual([]);
  });
});

describe('the warning before a change that lets a provider be told who could not be before', () => {
  const refusedBcwa = scope({ kind: 'all-except', providerIds: ['bcwa'] });

  it('names a provider she refused that the change would cover', () => {
    // The auditor's change: her refusal of BCWA carried into "only" as agreement.
    expect(newlyCovered(refusedBcwa, scope({ kind: 'only', providerIds: ['bcwa', 'anawim'] }), ORGANISATIONS)).toEqual(['bcwa']);
    expect(newlyCovered(refusedBcwa, scope({ kind: 'all' }), ORGANISATIONS)).toEqual(['bcwa']);
    expect(gainWarning(['bcwa'], name)).toBe(
      "Black Country Women's Aid will now be told about her plan: her consent would cover it, so it may be offered support for her needs and read what she agreed providers may know.",
    );
  });

  it('names every provider when sharing starts, with "and" before the last', () => {
    const gains = newlyCovered(NOTHING, scope({ kind: 'all-except', providerIds: ['anawim'] }), ORGANISATIONS);
    expect(gains.sort()).toEqual(['bcwa', 'changing-lives']);
    expect(gainWarning(gains, name)).toBe(
      "Black Country Women's Aid and Changing Lives will now be told about her plan: her consent would cover them, so they may be offered support for her needs and read what she agreed providers may know.",
    );
  });

  it('finds a provider she refused even before the directory is read', () => {
    expect(newlyCovered(refusedBcwa, scope({ kind: 'all-except', providerIds: ['anawim'] }), [])).toEqual(['bcwa']);
  });

  it('says nothing when the change covers nobody new', () => {
    expect(newlyCovered(refusedBcwa, scope({ kind: 'only', providerIds: ['anawim'] }), ORGANISATIONS)).toEqual([]);
    expect(newlyCovered(refusedBcwa, refusedBcwa, ORGANISATIONS)).toEqual([]);
    expect(gainWarning([], name)).toBeUndefined();
  });
});

describe('her consents as she gave them', () => {
  const refusedBcwa = scope({ kind: 'all-except', providerIds: ['bcwa'] });
  const onlyAnawim = scope({ kind: 'only', providerIds: ['anawim'] });
  const day = (d: string) => d.slice(8, 10);

  it('shows a re-confirmation as a date on the consent it confirmed, not as a consent replaced', () => {
    const { current, replaced } = consentsAsGiven({
      scope: onlyAnawim,
      givenAt: '2026-11-10',
      method: 'written',
      note: 'She fell out with the housing office',
      reconfirmedAt: '2026-11-20',
      reconfirmedNote: 'Asked again at her review',
      previous: [{ scope: refusedBcwa, givenAt: '2026-11-01', method: 'verbal', replacedAt: '2026-11-10T10:00:00.000Z' }],
    });
    expect(current).toMatchObject({ givenAt: '2026-11-10', note: 'She fell out with the housing office', givenAgain: [{ givenAt: '2026-11-20', note: 'Asked again at her review' }] });
    expect(replaced).toEqual([{ scope: refusedBcwa, givenAt: '2026-11-01', method: 'verbal', givenAgain: [], replacedAt: '2026-11-10T10:00:00.000Z' }]);
  });

  it("folds an older plan's re-confirmations kept among the consents replaced into the consent they confirmed", () => {
    // Before reconfirmedAt, each re-confirmation replaced the consent with the same scope (and its note was the new one's).
    const { current, replaced } = consentsAsGiven({
      scope: onlyAnawim,
      givenAt: '2026-11-25',
      method: 'verbal',
      note: 'Confirmed by phone',
      previous: [
        { scope: refusedBcwa, givenAt: '2026-11-01', method: 'written', replacedAt: '2026-11-05T10:00:00.000Z' },
        { scope: refusedBcwa, givenAt: '2026-11-05', method: 'verbal', replacedAt: '2026-11-10T10:00:00.000Z' },
        { scope: onlyAnawim, givenAt: '2026-11-10', method: 'written', note: 'She fell out with the housing office', replacedAt: '2026-11-20T10:00:00.000Z' },
        { scope: { ...onlyAnawim, providers: { kind: 'only', providerIds: ['anawim'] } }, givenAt: '2026-11-20', method: 'written', replacedAt: '2026-11-25T10:00:00.000Z' },
      ],
    });
    expect(current).toMatchObject({
      givenAt: '2026-11-10',
      method: 'written',
      note: 'She fell out with the housing office',
      givenAgain: [{ givenAt: '2026-11-20', method: 'written' }, { givenAt: '2026-11-25', method: 'verbal', note: 'Confirmed by phone' }],
    });
    expect(replaced).toHaveLength(1);
    expect(replaced[0]).toMatchObject({ givenAt: '2026-11-01', givenAgain: [{ givenAt: '2026-11-05' }], replacedAt: '2026-11-10T10:00:00.000Z' });
    expect(scopeChanges(replaced[0]!.scope, current.scope, name)).toEqual(["Providers: every provider except Black Country Women's Aid before, only Anawim now"]);
  });

  it('lists the days she gave it again once each, in order, with "and"', () => {
    expect(givenAgainInWords([{ givenAt: '2026-11-25' }, { givenAt: '2026-11-20' }, { givenAt: '2026-11-25' }], day)).toBe('20 and 25');
    expect(givenAgainInWords([], day)).toBeUndefined();
  });

  it('says how she gave it again where the plan keeps it, on the consent standing and on one replaced', () => {
    const { current, replaced } = consentsAsGiven({
      scope: onlyAnawim,
      givenAt: '2026-11-10',
      method: 'written',
      reconfirmedAt: '2026-11-20',
      reconfirmedMethod: 'verbal',
      previous: [{ scope: refusedBcwa, givenAt: '2026-11-01', method: 'verbal', reconfirmedAt: '2026-11-05', reconfirmedMethod: 'written', replacedAt: '2026-11-10T10:00:00.000Z' }],
    });
    expect(current.givenAgain).toEqual([{ givenAt: '2026-11-20', method: 'verbal' }]);
    expect(replaced[0]?.givenAgain).toEqual([{ givenAt: '2026-11-05', method: 'written' }]);
    expect(givenAgainInWords(current.givenAgain, day)).toBe('20 (verbal)');
    expect(givenAgainInWords([{ givenAt: '2026-11-25', method: 'digital' }, { givenAt: '2026-11-20', method: 'written' }, { givenAt: '2026-11-27' }], day)).toBe('20 (written), 25 (digital) and 27');
  });
});

describe('categories taken out of her consent', () => {
  const NOW = '2026-11-20T10:00:00.000Z';
  const allocations = [
    { ...allocation('a1', 'changing-lives', 'accepted', ['accommodation']), respondedAt: '2026-11-03T10:00:00.000Z' },
    allocation('a2', 'bcwa', 'offered', ['domestic-abuse']),
    // Accepted, then ended: its provider read her contact details while it held it.
    { ...allocation('a3', 'anawim', 'ended', ['wellbeing']), respondedAt: '2026-11-03T10:00:00.000Z', endedAt: '2026-11-10T10:00:00.000Z' },
  ];
  const before = scope({ kind: 'all' }, ['needs', 'contact-details', 'risks']);
  const consent = (scope: ConsentScope) => ({ scope, givenAt: '2026-11-01', method: 'written', recordedAt: '2026-11-01T10:00:00.000Z' });

  it('names each provider still covered that was ever given a category taken out, whatever its allocation now, as the API tells them', () => {
    const loss = categoryLoss(allocations, consent(before), scope({ kind: 'all' }, ['needs']), NOW);
    expect(loss).toEqual({ providerIds: ['changing-lives', 'bcwa', 'anawim'], categories: ['contact-details', 'risks'] });
    expect(categoryLossWarning(loss, name)).toBe(
      "Saving this change tells Changing Lives, Black Country Women's Aid and Anawim to delete what they hold of her contact details and risks: her consent would no longer let providers know them.",
    );
    // A provider no longer covered is told to delete everything instead (consentLosses), not named here; an open offer never showed her contact details.
    expect(categoryLoss(allocations, consent(before), scope({ kind: 'all-except', providerIds: ['bcwa'] }, ['needs', 'risks']), NOW)).toEqual({ providerIds: ['changing-lives', 'anawim'], categories: ['contact-details'] });
    expect(categoryLossWarning(categoryLoss(allocations, consent(before), scope({ kind: 'all-except', providerIds: ['anawim', 'bcwa'] }, ['needs', 'risks']), NOW), name)).toBe(
      'Saving this change tells Changing Lives to delete what it holds of her contact details: her consent would no longer let providers know it.',
    );
  });

  it('says nothing when no category is taken out, nobody was given one, or sharing stops', () => {
    expect(categoryLoss(allocations, consent(before), scope({ kind: 'all' }, ['needs', 'contact-details', 'risks', 'adjustments']), NOW)).toBeUndefined();
    // Her contact details added to her consent only after the allocation ended: its provider never had them.
    const addedLater = { ...consent(before), recordedAt: '2026-11-12T10:00:00.000Z', previous: [{ ...consent(scope({ kind: 'all' }, ['needs'])), replacedAt: '2026-11-12T10:00:00.000Z' }] };
    expect(categoryLoss([allocations[2] as Allocation], addedLater, scope({ kind: 'all' }, ['needs', 'risks']), NOW)).toBeUndefined();
    expect(categoryLoss([allocations[2] as Allocation], consent(before), scope({ kind: 'all' }, ['needs', 'risks']), NOW)).toEqual({ providerIds: ['anawim'], categories: ['contact-details'] });
    expect(categoryLoss(allocations, consent(before), NOTHING, NOW)).toBeUndefined();
    expect(categoryLoss(allocations, consent(NOTHING), scope({ kind: 'all' }), NOW)).toBeUndefined();
    expect(categoryLossWarning(undefined, name)).toBeUndefined();
  });
});
