import type { ConsentProviders, ConsentScope, Plan } from './schemas.ts';

/**
 * Which providers her consent lets the programme share with. One reading for allocation, manual
 * offers, a change of consent and every provider read path, so none can disagree with another.
 */

/** Plans whose consent was recorded before providers could be named have none: that consent covered every provider. */
export const ALL_PROVIDERS: ConsentProviders = { kind: 'all' };

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
