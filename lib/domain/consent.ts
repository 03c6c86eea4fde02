import type { ConsentProviders, ConsentScope, Plan } from './schemas.ts';

/**
 * Which providers her consent lets the programme share with. One reading for allocation, manual
 * offers, a change of consent and every provider read path, so none can disagree with another.
 */

/** Plans whose consent was recorded before providers could be named have none: that consent covered every provider. */
const ALL_PROVIDERS: ConsentProviders = { kind: 'all' };

type StoredScope = Pick<ConsentScope, 'shareWithProviders' | 'dataCategories'> & { providers?: ConsentProviders | undefined };

export function providersOf(scope: StoredScope | undefined): ConsentProviders {
  return scope?.providers ?? ALL_PROVIDERS;
}

/** Whether a scope lets plan detail be shared with this provider organisation. */
export function scopeCoversProvider(scope: StoredScope | undefined, providerId: string): boolean {
  if (!scope?.shareWithProviders) return false;
  const providers = providersOf(scope);
  if (providers.kind === 'all') return true;
  return providers.kind === 'only' ? providers.providerIds.includes(providerId) : !providers.providerIds.includes(providerId);
}

/**
 * When her consent was withdrawn, or undefined. A plan withdrawn from before consent was recorded
 * has no consent to mark, only its exit reason. The web app reads it too (no imports but types).
 */
export function consentWithdrawnAt(plan: { consent?: { givenAt: string; withdrawnAt?: string | undefined } | undefined; exit?: { reason: string; exitedAt: string } | undefined }): string | undefined {
  return plan.consent?.withdrawnAt ?? (plan.exit?.reason === 'consent-withdrawn' ? plan.exit.exitedAt : undefined);
}

/** Whether her consent, as it stands now (none recorded or withdrawn: no), covers this provider. */
export function consentCoversProvider(consent: Plan['consent'], providerId: string): boolean {
  if (!consent || consent.withdrawnAt) return false;
  return scopeCoversProvider(consent.scope, providerId);
}

/** The scope with its providers spelled out, and lists in a fixed order, so two scopes meaning the same compare equal. */
export function normalScope(scope: StoredScope): ConsentScope {
  const providers = providersOf(scope);
  return {
    shareWithProviders: scope.shareWithProviders,
    dataCategories: [...new Set(scope.dataCategories)].sort(),
    providers: providers.kind === 'all' ? providers : { kind: providers.kind, providerIds: [...new Set(providers.providerIds)].sort() },
  };
}

export function sameScope(a: StoredScope, b: StoredScope): boolean {
  return JSON.stringify(normalScope(a)) === JSON.stringify(normalScope(b));
}

/** An offer still open or an allocation still accepted: what a change of consent withdraws or ends. */
export const isLiveAllocation = (a: { status: string }): boolean => a.status === 'offered' || a.status === 'accepted';

/**
 * The allocations whose provider a change of consent from `before` to `after` tells to stop and purge:
 * each live one with a provider `after` does not cover, and each past one (declined, expired, withdrawn,
 * ended) of a provider `before` covered and `after` does not (it was sent her data). The domain acts on
 * it and the web app warns from it, so the warning names exactly who is told.
 */
export function allocationsToPurge<A extends { providerId: string; status: string }>(allocations: readonly A[], before: StoredScope | undefined, after: StoredScope): A[] {
  return allocations.filter((a) => !scopeCoversProvider(after, a.providerId) && (isLiveAllocation(a) || scopeCoversProvider(before, a.providerId)));
}

/**
 * Provider events that carry her needs (the domains and their levels): sent to a provider only while her
 * consent, as it stands when they are sent, covers it. A delivery still waiting for a retry, a dead letter
 * replayed or the feed read again from an early cursor after her consent was withdrawn or changed to leave
 * the provider out would otherwise hand it again what it was just told to delete. The other provider events
 * carry references and instructions (the purge itself among them) and are always sent.
 */
const PROVIDER_EVENTS_WITH_HER_NEEDS: ReadonlySet<string> = new Set(['allocation.offered.v1', 'allocation.accepted.v1', 'allocation.declined.v1']);

/** Whether a provider event is one of those (so her consent must be read before it is sent). */
export const carriesHerNeeds = (eventType: string): boolean => PROVIDER_EVENTS_WITH_HER_NEEDS.has(eventType);

/** Why this provider event may no longer be sent to this provider, or undefined when it may. */
export function withheldFromProvider(eventType: string, consent: Plan['consent'], providerId: string): string | undefined {
  if (!carriesHerNeeds(eventType) || consentCoversProvider(consent, providerId)) return undefined;
  return consent?.withdrawnAt ? 'her consent was withdrawn' : 'her consent no longer covers this provider';
}
