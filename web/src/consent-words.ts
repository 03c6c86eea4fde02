/**
 * Her consent in words: what she agreed may be shared, with which providers, what a change of it
 * changed, and which offers and allocations a change would end. Pure (no React), so it is unit-tested
 * apart; which providers a scope covers is the API's own reading (lib/domain/consent.ts), not a copy.
 */
import { categoryPurges } from '../../lib/domain/category-purge.ts';
import { allocationsToPurge, consentWithdrawnAt, normalScope, providersOf, sameScope, scopeCoversProvider } from '../../lib/domain/consent.ts';
import { CONSENT_PROVIDER_KIND_WORDS, label, needLabel } from './domain.ts';
import type { Allocation, ConsentProviders, ConsentScope, DataCategory, Plan } from './types.ts';

export type ProviderKind = ConsentProviders['kind'];

/** A provider organisation of the directory, as a coordinator picks it. */
export interface Organisation {
  providerId: string;
  name: string;
}

/** The directory's organisations (the app holds its services), each once, by name. */
export function organisationsOf(services: readonly { providerId: string; providerName: string }[]): Organisation[] {
  const byId = new Map<string, string>();
  for (const s of services) if (!byId.has(s.providerId)) byId.set(s.providerId, s.providerName);
  return [...byId].map(([providerId, name]) => ({ providerId, name })).sort((a, b) => a.name.localeCompare(b.name, 'en-GB'));
}

const andList = new Intl.ListFormat('en-GB', { style: 'long', type: 'conjunction' });
/** "A", "A and B", "A, B and C". */
export const wordList = (items: readonly string[]) => andList.format(items);

const lower = (text: string) => text.charAt(0).toLowerCase() + text.slice(1);

/** The data categories she agreed providers may know, in words ("Needs, risks and contact details"); what shares nothing says so. */
export function categoriesInWords(scope: ConsentScope): string {
  if (!scope.shareWithProviders) return 'Nothing: she does not agree to share with providers';
  if (scope.dataCategories.length === 0) return 'Nothing beyond the offer itself';
  const words = wordList(scope.dataCategories.map((c) => lower(label(c))));
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** Which providers may be told, by name ("Every provider except Black Country Women's Aid"). */
export function providersInWords(scope: ConsentScope, providerName: (id: string) => string): string {
  if (!scope.shareWithProviders) return 'None';
  const providers = providersOf(scope);
  if (providers.kind === 'all') return CONSENT_PROVIDER_KIND_WORDS.all;
  const names = wordList(providers.providerIds.map(providerName));
  return providers.kind === 'only' ? `Only ${names}` : `Every provider except ${names}`;
}

/** What a change of consent changed, one line each; the same scope given again says so. */
export function scopeChanges(before: ConsentScope, after: ConsentScope, providerName: (id: string) => string): string[] {
  if (!before.shareWithProviders && !after.shareWithProviders) return ['Given again: still nothing shared with providers'];
  if (before.shareWithProviders && !after.shareWithProviders) return ['Sharing with providers stopped'];
  if (!before.shareWithProviders)
    return [`Sharing with providers started: ${lower(categoriesInWords(after))}, with ${lower(providersInWords(after, providerName))}`];
  const changes: string[] = [];
  const was = new Set(before.dataCategories);
  const now = new Set(after.dataCategories);
  const added = after.dataCategories.filter((c) => !was.has(c));
  const removed = before.dataCategories.filter((c) => !now.has(c));
  if (added.length > 0) changes.push(`Providers may now also know: ${wordList(added.map((c) => lower(label(c))))}`);
  if (removed.length > 0) changes.push(`Providers may no longer know: ${wordList(removed.map((c) => lower(label(c))))}`);
  const sameProviders = JSON.stringify(normalScope(before).providers) === JSON.stringify(normalScope(after).providers);
  if (!sameProviders) changes.push(`Providers: ${lower(providersInWords(before, providerName))} before, ${lower(providersInWords(after, providerName))} now`);
  return changes.length > 0 ? changes : ['Given again, unchanged'];
}

/** The kinds of provider list that name providers: each has a list of its own on the form. */
export type NamingKind = Exclude<ProviderKind, 'all'>;

/**
 * The consent form's fields. The providers she named are kept per kind, never one list read two
 * ways: a tick under "every provider except" means she refused that provider, and the same tick
 * carried to "only" would mean she agreed to it. Kept (rather than cleared) so a coordinator who
 * clicks another kind and back finds the refusals she gave still ticked, not silently dropped.
 */
export interface ScopeChoices {
  share: boolean;
  categories: string[];
  kind: ProviderKind;
  named: Record<NamingKind, string[]>;
}

/** The form's fields for a scope: a new consent starts with needs shared with any provider, and nobody named. */
export function choicesOf(scope?: ConsentScope): ScopeChoices {
  const named: Record<NamingKind, string[]> = { only: [], 'all-except': [] };
  if (!scope) return { share: true, categories: ['needs'], kind: 'all', named };
  const providers = providersOf(scope);
  if (providers.kind !== 'all') named[providers.kind] = [...providers.providerIds];
  return { share: scope.shareWithProviders, categories: [...scope.dataCategories], kind: providers.kind, named };
}

/** What the consent form's fields say, as the API takes it: providers are named only when she shares, from the chosen kind's own list, in the directory's order. */
export function scopeOfChoices(choices: ScopeChoices, organisations: readonly Organisation[]): ConsentScope {
  if (!choices.share) return { shareWithProviders: false, dataCategories: [], providers: { kind: 'all' } };
  const dataCategories = choices.categories as DataCategory[];
  if (choices.kind === 'all') return { shareWithProviders: true, dataCategories, providers: { kind: 'all' } };
  const chosen = choices.named[choices.kind];
  const known = organisations.map((o) => o.providerId);
  // Those of the directory first, in its order; any other id chosen (the directory not read yet) after, so the API names it.
  const providerIds = [...known.filter((id) => chosen.includes(id)), ...chosen.filter((id) => !known.includes(id))];
  return { shareWithProviders: true, dataCategories, providers: { kind: choices.kind, providerIds } };
}

/**
 * A provider a change of consent no longer covers, and what it held: open offers it withdraws,
 * accepted allocations it ends, and past ones (declined, expired, withdrawn or ended) of a provider
 * covered until now, which is told to stop and delete what it holds all the same.
 */
export interface ConsentLoss {
  providerId: string;
  ending: Allocation[];
  withdrawing: Allocation[];
  held: Allocation[];
}

/**
 * The providers the new scope does not cover that change-consent tells to stop and purge, by provider,
 * read by the rule the API acts on (allocationsToPurge in lib/domain/consent.ts): each with an offer or accepted allocation, and each
 * covered by the current scope that held a past one.
 */
export function consentLosses(allocations: readonly Allocation[], current: ConsentScope | undefined, next: ConsentScope): ConsentLoss[] {
  const losses = new Map<string, ConsentLoss>();
  for (const a of allocationsToPurge(allocations, current, next)) {
    const loss = losses.get(a.providerId) ?? { providerId: a.providerId, ending: [], withdrawing: [], held: [] };
    (a.status === 'accepted' ? loss.ending : a.status === 'offered' ? loss.withdrawing : loss.held).push(a);
    losses.set(a.providerId, loss);
  }
  return [...losses.values()];
}

const needsOf = (allocations: readonly Allocation[]) => wordList([...new Set(allocations.flatMap((a) => a.needs))].map((n) => lower(needLabel(n))));

/** The warning a coordinator reads before a change of consent that withdraws offers, ends allocations or tells a provider that held one to delete it; undefined when it touches none. */
export function lossWarning(losses: readonly ConsentLoss[], providerName: (id: string) => string): string | undefined {
  if (losses.length === 0) return undefined;
  const live = losses.filter((l) => l.ending.length + l.withdrawing.length > 0);
  const past = losses.filter((l) => l.ending.length + l.withdrawing.length === 0);
  // "the allocation held by Changing Lives", never "Changing Lives's allocation": a name ending in s reads wrong with 's.
  const parts = live.flatMap((loss) => {
    const name = providerName(loss.providerId);
    return [
      ...(loss.ending.length > 0 ? [`ends the allocation${loss.ending.length > 1 ? 's' : ''} held by ${name} (${needsOf(loss.ending)})`] : []),
      ...(loss.withdrawing.length > 0 ? [`withdraws the offer${loss.withdrawing.length > 1 ? 's' : ''} to ${name} (${needsOf(loss.withdrawing)})`] : []),
    ];
  });
  const names = wordList(losses.map((l) => providerName(l.providerId)));
  const pastMany = past.length > 1;
  const pastNames = `${wordList(past.map((l) => providerName(l.providerId)))}, which held ${pastMany ? 'earlier offers' : 'an earlier offer'},`;
  const holds = (many: boolean) => (many ? 'they hold' : 'it holds');
  if (live.length === 0) return `Her consent would no longer cover ${names}. Saving this change tells ${pastNames} to stop and delete what ${holds(pastMany)} about her.`;
  const pastToo = past.length > 0 ? `; and ${pastNames} ${pastMany ? 'are' : 'is'} told to delete what ${holds(pastMany)}` : '';
  return `Her consent would no longer cover ${names}. Saving this change ${wordList(parts)}; ${live.length > 1 ? 'they are' : 'it is'} told to stop and delete what ${holds(live.length > 1)} about her, and the needs they held are offered to providers her consent covers, where there are any (a need only they could meet becomes a gap of her choosing)${pastToo}.`;
}

/** Data categories a change takes out of her consent, and the providers still covered that were given any of them. */
export interface CategoryLoss {
  providerIds: string[];
  categories: DataCategory[];
}

/**
 * Who a change tells to delete part of what it holds, as the API does (plan.consent-narrowed.v1, one rule:
 * categoryPurges): each provider covered before and after that was ever given a category taken out for this
 * plan, whatever its allocation's status now (her contact details once it accepted, the rest once offered).
 * Providers no longer covered are told to delete everything instead (consentLosses). `now`: the server's clock.
 */
export function categoryLoss(allocations: readonly Allocation[], consent: Plan['consent'] | undefined, next: ConsentScope, now: string): CategoryLoss | undefined {
  const purges = categoryPurges(allocations, consent, next, now);
  if (purges.length === 0 || !consent) return undefined;
  const providerIds = [...new Set(purges.map((p) => p.allocation.providerId))];
  const categories = consent.scope.dataCategories.filter((c) => purges.some((p) => p.withdrawnCategories.includes(c)));
  return { providerIds, categories };
}

/** The warning before a change that tells providers to delete part of what they hold; undefined when it tells none. */
export function categoryLossWarning(loss: CategoryLoss | undefined, providerName: (id: string) => string): string | undefined {
  if (!loss) return undefined;
  const many = loss.providerIds.length > 1;
  return `Saving this change tells ${wordList(loss.providerIds.map(providerName))} to delete what ${many ? 'they hold' : 'it holds'} of her ${wordList(loss.categories.map((c) => lower(label(c))))}: her consent would no longer let providers know ${loss.categories.length > 1 ? 'them' : 'it'}.`;
}

/**
 * The providers a change would newly cover: covered by the new scope, not by the one it replaces.
 * Read over the directory's organisations and every provider either scope names or the plan has
 * met, so a provider she refused is found even before the directory is read.
 */
export function newlyCovered(
  current: ConsentScope | undefined,
  next: ConsentScope,
  organisations: readonly Organisation[],
  allocations: readonly Allocation[] = [],
): string[] {
  const named = (scope: ConsentScope | undefined) => {
    const providers = providersOf(scope);
    return providers.kind === 'all' ? [] : providers.providerIds;
  };
  const candidates = new Set([...organisations.map((o) => o.providerId), ...named(current), ...named(next), ...allocations.map((a) => a.providerId)]);
  return [...candidates].filter((id) => scopeCoversProvider(next, id) && !scopeCoversProvider(current, id));
}

/** The warning before a change that lets providers be told who could not be before, naming each; undefined when there is none. */
export function gainWarning(providerIds: readonly string[], providerName: (id: string) => string): string | undefined {
  if (providerIds.length === 0) return undefined;
  const names = wordList([...providerIds].map(providerName).sort((a, b) => a.localeCompare(b, 'en-GB')));
  const many = providerIds.length > 1;
  return `${names} will now be told about her plan: her consent would cover ${many ? 'them' : 'it'}, so ${many ? 'they' : 'it'} may be offered support for her needs and read what she agreed providers may know.`;
}

/** She gave the same consent again, unchanged: when, and (where the plan kept them) how and the coordinator's note. */
export interface GivenAgain {
  givenAt: string;
  method?: string;
  note?: string;
}

/**
 * One consent as she gave it: first given when and how, why it changed then, the times she gave it
 * again unchanged, and when a different one replaced it (none for the consent standing now).
 */
export interface ConsentAsGiven {
  scope: ConsentScope;
  givenAt: string;
  method: string;
  note?: string;
  givenAgain: GivenAgain[];
  replacedAt?: string;
}

/**
 * Her consents as she gave them: the one standing now and those it replaced, newest first. A
 * re-confirmation is a date on the consent it confirmed, not a consent of its own: the plan records it
 * as reconfirmedAt, and plans from before that kept it in previous as a consent replaced by the same
 * scope, which is folded into the consent it confirmed here, so both read the same.
 */
export function consentsAsGiven(consent: NonNullable<Plan['consent']>): { current: ConsentAsGiven; replaced: ConsentAsGiven[] } {
  const chain = [...(consent.previous ?? []), { ...consent, replacedAt: undefined }];
  const runs: ConsentAsGiven[] = [];
  for (const entry of chain) {
    const last = runs.at(-1);
    if (last && sameScope(last.scope, entry.scope)) {
      last.givenAgain.push({ givenAt: entry.givenAt, method: entry.method, ...(entry.note ? { note: entry.note } : {}) });
      last.replacedAt = entry.replacedAt;
    } else {
      runs.push({ scope: entry.scope, givenAt: entry.givenAt, method: entry.method, ...(entry.note ? { note: entry.note } : {}), givenAgain: [], replacedAt: entry.replacedAt });
    }
    // Its last re-confirmation, kept as a date (and, since it was kept, how she gave it) on the consent it confirmed, replaced or not.
    if (entry.reconfirmedAt)
      (runs.at(-1) as ConsentAsGiven).givenAgain.push({
        givenAt: entry.reconfirmedAt,
        ...(entry.reconfirmedMethod ? { method: entry.reconfirmedMethod } : {}),
        ...(entry.reconfirmedNote ? { note: entry.reconfirmedNote } : {}),
      });
  }
  const current = runs.pop() as ConsentAsGiven;
  return { current, replaced: runs.reverse() };
}

/**
 * The days she gave a consent again, in order, each with how she gave it where the plan holds that, in
 * words ("3 Dec 2026 (written) and 10 Jan 2027 (verbal)"); a day given the same way twice is said once.
 */
export function givenAgainInWords(givenAgain: readonly GivenAgain[], formatDate: (date: string) => string): string | undefined {
  if (givenAgain.length === 0) return undefined;
  const sorted = [...givenAgain].sort((a, b) => (a.givenAt < b.givenAt ? -1 : a.givenAt > b.givenAt ? 1 : 0));
  return wordList([...new Set(sorted.map((g) => `${formatDate(g.givenAt)}${g.method ? ` (${label(g.method).toLowerCase()})` : ''}`))]);
}

/**
 * When her consent was withdrawn, or undefined: the consent's withdrawnAt, or the exit of a plan that
 * ended for that reason without one (withdrawn before consent was recorded, or an older plan). The
 * API's own rule (lib/domain/consent.ts), for every place the page says it.
 */
export { consentWithdrawnAt };

/** Her consent in one line for the plan's details: how and when given, and when withdrawn ("Written, 2 Nov 2026; withdrawn 9 Dec 2026"). */
export function consentInBrief(plan: Pick<Plan, 'consent' | 'exit'>, formatDate: (date: string) => string): string {
  const withdrawnAt = consentWithdrawnAt(plan);
  const withdrawn = withdrawnAt ? `withdrawn ${formatDate(withdrawnAt)}` : undefined;
  if (!plan.consent) return withdrawn ? `Not recorded; ${withdrawn}` : 'Not recorded';
  return `${label(plan.consent.method)}, ${formatDate(plan.consent.givenAt)}${withdrawn ? `; ${withdrawn}` : ''}`;
}

/**
 * The providers the manual offer's list leaves out because her consent does not cover them, by name,
 * each once: only those with an active service for one of her open needs (one that could otherwise be
 * listed), so an inactive service's provider is not named as if her consent were all that stood in the way.
 */
export function providersLeftOutByConsent(
  services: readonly { providerId: string; providerName: string; status: string; needs: readonly string[] }[],
  openNeeds: readonly string[],
  scope: ConsentScope | undefined,
): string[] {
  const excluded = services.filter((s) => s.status === 'active' && s.needs.some((n) => openNeeds.includes(n)) && !scopeCoversProvider(scope, s.providerId));
  return [...new Set(excluded.map((s) => s.providerName))];
}
