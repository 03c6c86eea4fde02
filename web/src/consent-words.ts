/**
 * Her consent in words: what she agreed may be shared, with which providers, what a change of it
 * changed, and which offers and allocations a change would end. Pure (no React), so it is unit-tested
 * apart; which providers a scope covers is the API's own reading (lib/domain/consent.ts), not a copy.
 */
import { normalScope, providersOf, scopeCoversProvider } from '../../lib/domain/consent.ts';
import { CONSENT_PROVIDER_KIND_WORDS, label, needLabel } from './domain.ts';
import type { Allocation, ConsentProviders, ConsentScope, DataCategory } from './types.ts';

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

/** What the consent form's fields say, as the API takes it: providers are named only when she shares, in the directory's order. */
export function scopeOfChoices(
  choices: { share: boolean; categories: readonly string[]; kind: ProviderKind; providerIds: readonly string[] },
  organisations: readonly Organisation[],
): ConsentScope {
  if (!choices.share) return { shareWithProviders: false, dataCategories: [], providers: { kind: 'all' } };
  const dataCategories = choices.categories as DataCategory[];
  if (choices.kind === 'all') return { shareWithProviders: true, dataCategories, providers: { kind: 'all' } };
  const known = organisations.map((o) => o.providerId);
  // Those of the directory first, in its order; any other id chosen (the directory not read yet) after, so the API names it.
  const providerIds = [...known.filter((id) => choices.providerIds.includes(id)), ...choices.providerIds.filter((id) => !known.includes(id))];
  return { shareWithProviders: true, dataCategories, providers: { kind: choices.kind, providerIds } };
}

/** A provider whose open offers would be withdrawn, or accepted allocations ended, by a consent that no longer covers it. */
export interface ConsentLoss {
  providerId: string;
  ending: Allocation[];
  withdrawing: Allocation[];
}

/** The offers and accepted allocations with providers the new scope does not cover (what change-consent withdraws or ends), by provider. */
export function consentLosses(allocations: readonly Allocation[], scope: ConsentScope): ConsentLoss[] {
  const losses = new Map<string, ConsentLoss>();
  for (const a of allocations) {
    if ((a.status !== 'offered' && a.status !== 'accepted') || scopeCoversProvider(scope, a.providerId)) continue;
    const loss = losses.get(a.providerId) ?? { providerId: a.providerId, ending: [], withdrawing: [] };
    (a.status === 'accepted' ? loss.ending : loss.withdrawing).push(a);
    losses.set(a.providerId, loss);
  }
  return [...losses.values()];
}

const needsOf = (allocations: readonly Allocation[]) => wordList([...new Set(allocations.flatMap((a) => a.needs))].map((n) => lower(needLabel(n))));

/** The warning a coordinator reads before a change of consent that withdraws offers or ends allocations; undefined when it touches none. */
export function lossWarning(losses: readonly ConsentLoss[], providerName: (id: string) => string): string | undefined {
  if (losses.length === 0) return undefined;
  const parts = losses.flatMap((loss) => {
    const name = providerName(loss.providerId);
    return [
      ...(loss.ending.length > 0 ? [`ends ${name}'s allocation${loss.ending.length > 1 ? 's' : ''} (${needsOf(loss.ending)})`] : []),
      ...(loss.withdrawing.length > 0 ? [`withdraws the offer${loss.withdrawing.length > 1 ? 's' : ''} to ${name} (${needsOf(loss.withdrawing)})`] : []),
    ];
  });
  const names = wordList(losses.map((l) => providerName(l.providerId)));
  return `Her consent would no longer cover ${names}. Saving this change ${wordList(parts)}; ${losses.length > 1 ? 'they are' : 'it is'} told to stop and delete what ${losses.length > 1 ? 'they hold' : 'it holds'} about her, and her needs go to providers her consent covers.`;
}
