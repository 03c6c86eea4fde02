import { londonDayWords } from './calendar.ts';
import { scopeCoversProvider } from './consent.ts';
import type { Participant, Plan } from './schemas.ts';

/**
 * Whether a provider may be told who the participant is and how to reach her, for one allocation:
 * only the provider holding it, only once it has accepted it and while it is still live, and only
 * while her consent lets plan detail be shared with providers and names contact details among the
 * categories shared. Withdrawal of consent takes effect at once: the plan is read at each request.
 */
export type ShareDecision =
  | { allowed: true }
  | { allowed: false; status: 403 | 404; reason: ShareRefusal; detail: string };

export type ShareRefusal = 'unknown-allocation' | 'another-provider' | 'not-accepted' | 'plan-not-open' | 'no-consent' | 'consent-withdrawn' | 'consent-excludes-contact-details' | 'consent-excludes-provider' | 'identity-erased';

const OPEN_STAGES: readonly string[] = ['allocating', 'active'];

export function participantShareDecision(plan: Plan | undefined, allocationId: string, providerId: string | undefined): ShareDecision {
  const allocation = plan?.allocations.find((a) => a.allocationId === allocationId);
  if (!plan || !allocation) return { allowed: false, status: 404, reason: 'unknown-allocation', detail: `No allocation ${allocationId}.` };
  // Another provider's allocation is answered as an unknown one (lib/api/provider-allocation-access.ts): ids
  // are numbered in order on a plan, and a different answer would let a provider count the others on it.
  if (allocation.providerId !== providerId) return { allowed: false, status: 404, reason: 'another-provider', detail: `No allocation ${allocationId}.` };
  if (allocation.status !== 'accepted')
    return {
      allowed: false,
      status: 403,
      reason: 'not-accepted',
      detail:
        allocation.status === 'offered'
          ? `Allocation ${allocationId} is offered, not accepted: her contact details are shared only once you accept it.`
          : `Allocation ${allocationId} is ${allocation.status}: her contact details are shared only while you hold an accepted allocation.`,
    };
  if (!OPEN_STAGES.includes(plan.stage)) return { allowed: false, status: 403, reason: 'plan-not-open', detail: `The plan is ${plan.stage}: her contact details are no longer shared.` };
  const consent = plan.consent;
  if (!consent) return { allowed: false, status: 403, reason: 'no-consent', detail: 'No consent is recorded: her contact details cannot be shared.' };
  if (consent.withdrawnAt) return { allowed: false, status: 403, reason: 'consent-withdrawn', detail: 'She has withdrawn her consent: her contact details are no longer shared.' };
  if (!consent.scope.shareWithProviders || !consent.scope.dataCategories.includes('contact-details')) {
    // Taken out of her consent while this allocation was held: its provider may hold them, and was told to delete them.
    const takenOut = allocation.purgeInstructions?.findLast((i) => i.instruction === 'purge-withdrawn-categories' && i.withdrawnCategories.includes('contact-details'));
    return {
      allowed: false,
      status: 403,
      reason: 'consent-excludes-contact-details',
      detail: takenOut
        ? `She no longer agrees to share her contact details with you (since ${londonDayWords(takenOut.at)}): delete any you hold of hers, and reach her through the coordinator.`
        : 'Her consent does not cover sharing her contact details with providers: ask the coordinator to arrange the first contact.',
    };
  }
  // An accepted allocation with a provider her consent no longer covers is ended when consent changes;
  // this says the same of any that is not, rather than share on a scope she has narrowed.
  if (!scopeCoversProvider(consent.scope, allocation.providerId))
    return { allowed: false, status: 403, reason: 'consent-excludes-provider', detail: 'Her consent does not cover sharing with your organisation: her contact details are not shared with you.' };
  if (plan.identityErasedAt) return { allowed: false, status: 403, reason: 'identity-erased', detail: 'Her identity has been erased at her request: there are no contact details to share.' };
  return { allowed: true };
}

/**
 * What a provider is given: enough to greet her and reach her safely, nothing more. Name and
 * preferred name (to ask for her), the contact details with every safety flag and note (how to reach
 * her without putting her at risk). Not her date of birth (not needed to contact her). Her address
 * only when she asked to be contacted by letter: home visits and meeting places are arranged with
 * her, and where she lives is the detail that can hurt her most if it travels.
 */
export function providerParticipantView(plan: Plan, allocationId: string, identity: Participant) {
  const byLetter = identity.contact?.preferredMethod === 'letter' && identity.contact.safeToSendPost !== false;
  return {
    planRef: plan.planId,
    allocationId,
    givenName: identity.givenName,
    familyName: identity.familyName,
    ...(identity.preferredName ? { preferredName: identity.preferredName } : {}),
    contact: identity.contact ?? {},
    ...(byLetter && identity.address ? { address: identity.address } : {}),
  };
}
