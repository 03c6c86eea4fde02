import { scopeCoversProvider } from './consent.ts';
import type { ConsentProviders, ConsentScope } from './schemas.ts';

type DataCategory = ConsentScope['dataCategories'][number];
type Scope = Pick<ConsentScope, 'shareWithProviders' | 'dataCategories'> & { providers?: ConsentProviders | undefined };
/** Her consent as the plan holds it (the API's plan view gives the same): the one standing and those it replaced. */
type StoredConsent = {
  scope: Scope;
  recordedAt?: string | undefined;
  withdrawnAt?: string | undefined;
  previous?: readonly { scope: Scope; recordedAt?: string | undefined; replacedAt: string }[] | undefined;
  previousDropped?: number | undefined;
};
type AllocationRecord = {
  providerId: string;
  status: string;
  offeredAt: string;
  respondedAt?: string | undefined;
  expiredAt?: string | undefined;
  endedAt?: string | undefined;
  purgeInstructions?: readonly { instruction: string; at: string; withdrawnCategories?: readonly string[] | undefined }[] | undefined;
};

/**
 * When the allocation's provider could read a category of what her consent shares: contact details
 * (GET /allocations/{id}/participant) only while it held the allocation accepted; her goals, risks and
 * adjustments (its allocation view) while it was offered or accepted. Undefined: never.
 */
function windowOf(a: AllocationRecord, category: DataCategory, now: string): { from: string; to: string } | undefined {
  const wasAccepted = a.status === 'accepted' || a.status === 'ended';
  if (category === 'contact-details') return wasAccepted ? { from: a.respondedAt ?? a.offeredAt, to: a.endedAt ?? now } : undefined;
  const to = a.status === 'declined' ? a.respondedAt : a.status === 'expired' ? a.expiredAt : a.endedAt;
  return { from: a.offeredAt, to: to ?? now };
}

/**
 * The last time this allocation's provider could have been given the category: the latest moment its
 * window overlaps a consent (the one standing, or one it replaced) that shared the category with it.
 * Replaced consents older than those kept are not known: a window reaching before the earliest one kept
 * is taken as given (telling a provider to delete what it never had costs less than not telling it).
 */
function lastGivenAt(consent: StoredConsent, a: AllocationRecord, category: DataCategory, now: string): string | undefined {
  const window = windowOf(a, category, now);
  if (!window) return undefined;
  // A consent whose recording time is not known (stored before it was kept) is taken to run from the start.
  const versions = [...(consent.previous ?? []).map((v) => ({ scope: v.scope, from: v.recordedAt ?? '', to: v.replacedAt })), { scope: consent.scope, from: consent.recordedAt ?? '', to: now }];
  const earliest = versions[0]!.from;
  if ((consent.previousDropped ?? 0) > 0 && window.from < earliest) return window.to;
  let last: string | undefined;
  for (const v of versions) {
    if (!v.scope.dataCategories.includes(category) || !scopeCoversProvider(v.scope, a.providerId)) continue;
    if (v.from > window.to || window.from > v.to) continue;
    const until = v.to < window.to ? v.to : window.to;
    if (last === undefined || until > last) last = until;
  }
  return last;
}

/** When the provider was last told to delete the category (the category itself, or everything). */
function lastToldAt(a: AllocationRecord, category: DataCategory): string | undefined {
  const told = a.purgeInstructions?.filter((i) => i.instruction === 'stop-processing-and-purge' || (i.instruction === 'purge-withdrawn-categories' && i.withdrawnCategories?.includes(category)));
  return told?.reduce<string | undefined>((latest, i) => (latest === undefined || i.at > latest ? i.at : latest), undefined);
}

/**
 * Data categories a change of her consent takes out: for each allocation whose provider her consent covers
 * before and after, the categories it was ever given for this plan and has not been told since to delete,
 * whatever the allocation's status now. A provider whose allocation ended (or was declined, expired or
 * withdrawn) may still hold what it read while it held it: her contact details read while it was accepted,
 * her goals, risks and adjustments while it was offered. Providers the change no longer covers are told to
 * delete everything instead (allocationsToPurge, consent.ts). One rule for the domain and the web's warning.
 */
export function categoryPurges<A extends AllocationRecord>(allocations: readonly A[], consent: StoredConsent | undefined, after: Scope, now: string): { allocation: A; withdrawnCategories: DataCategory[] }[] {
  if (!consent || consent.withdrawnAt || !consent.scope.shareWithProviders) return [];
  const before = consent.scope;
  const withdrawn = before.dataCategories.filter((c) => !after.dataCategories.includes(c));
  if (withdrawn.length === 0) return [];
  return allocations.flatMap((allocation) => {
    if (!scopeCoversProvider(before, allocation.providerId) || !scopeCoversProvider(after, allocation.providerId)) return [];
    const withdrawnCategories = withdrawn.filter((c) => {
      const given = lastGivenAt(consent, allocation, c, now);
      const told = lastToldAt(allocation, c);
      return given !== undefined && (told === undefined || given > told);
    });
    return withdrawnCategories.length > 0 ? [{ allocation, withdrawnCategories }] : [];
  });
}
