/**
 * The vocabulary of the API, with the words people read. The lists are the API's own, imported from
 * modules with no imports of their own (no zod, nothing of Node), so the browser bundle carries them
 * as they are; test/browser/web-constants.test.ts keeps it that way.
 */
import { DIMENSIONS } from '../../lib/domain/metrics/definitions.ts';
import { ESCALATION_KINDS, GAP_REASON_WORDS, LOCAL_AUTHORITY_LABELS, NEED_DOMAIN_LABELS, NEED_DOMAINS, STAGES as ALL_STAGES } from '../../lib/domain/vocabulary.ts';

export {
  ADJUSTMENTS,
  CONSENT_METHODS,
  CONSENT_PROVIDER_KIND_WORDS,
  CONSENT_PROVIDER_KINDS,
  CONTACT_CORRECTION_REASONS,
  CONTACT_KINDS,
  DATA_CATEGORIES,
  DECLINE_REASONS,
  DOMESTIC_ABUSE_RISK,
  END_OUTCOMES,
  ERASURE_REASONS,
  EXIT_REASONS,
  FOLLOW_UP_CORRECTION_REASONS,
  LOCAL_AUTHORITIES,
  NEED_DOMAINS,
  NEED_LEVELS,
  REFERRAL_SOURCES,
  REOFFENDED,
  REVIEW_OUTCOMES,
  WITHDRAW_REASONS,
} from '../../lib/domain/vocabulary.ts';
export { GROUP_OF_ROLE, ROLES, type Role } from '../../lib/api/routes.ts';
/** Which command the lifecycle table allows in which stage: the app offers a command only there. */
export { isAllowedIn } from '../../lib/domain/lifecycle-table.ts';
/** Whether her contact details may be corrected on a plan: the API's own rule, so the form is offered exactly where it is accepted. */
export { contactDetailsCorrectable } from '../../lib/domain/lifecycle-table.ts';

export type NeedDomain = (typeof NEED_DOMAINS)[number];
export type EscalationKind = (typeof ESCALATION_KINDS)[number];

/** The API's own words for each need (its explanations, a proposal's "why" and a gap's, use them too). */
const NEED_LABELS: Record<NeedDomain, string> = NEED_DOMAIN_LABELS;

/** Every stage a plan can be in (`none` is the API's word for a plan not referred yet). */
export const STAGES = ALL_STAGES.filter((s): s is Exclude<(typeof ALL_STAGES)[number], 'none'> => s !== 'none');
export type Stage = (typeof STAGES)[number];
export const METRIC_DIMENSIONS = DIMENSIONS;
export type MetricDimension = (typeof METRIC_DIMENSIONS)[number];

const SPECIAL: Record<string, string> = {
  ...LOCAL_AUTHORITY_LABELS,
  'custody-diversion': 'Custody diversion',
  'out-of-court-disposal': 'Out-of-court disposal',
  'problem-solving-court': 'Problem Solving Court',
  self: 'Self-referral',
  'other-agency': 'Other agency',
  'contact-details': 'Contact details',
  'declined-support': 'Declined support',
  'female-worker': 'Female worker',
  'partially-completed': 'Partially completed',
  'not-needed': 'Not needed',
  completed: 'Completed',
  transferred: 'Transferred',
  disengaged: 'Disengaged',
  'moved-away': 'Moved away',
  custody: 'Custody',
  other: 'Other',
  'consent-withdrawn': 'Consent withdrawn',
  'keyed-in-error': 'Keyed in error',
  'new-information': 'New information since',
  'source-corrected': 'The source corrected its answer',
  'team-lead': 'Team lead',
  localAuthority: 'Local authority',
  needDomain: 'Need domain',
  referralSource: 'Referral source',
  // Why a need has no provider: the API's own words for each gap reason.
  ...GAP_REASON_WORDS,
};

/** The words written for a value (a need domain, a reason, an area…), or undefined where label() makes them up. */
export function ownWords(value: string): string | undefined {
  return Object.hasOwn(NEED_LABELS, value) ? (NEED_LABELS as Record<string, string>)[value] : Object.hasOwn(SPECIAL, value) ? SPECIAL[value] : undefined;
}

/** "moved-away" → "Moved away"; need domains, reasons and a few others have their own words. */
export function label(value: string | undefined | null): string {
  if (value === undefined || value === null || value === '') return '';
  const own = ownWords(value);
  if (own) return own;
  const words = value.replace(/-/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export const needLabel = (domain: string) => label(domain);

/** Where an unanswered offer went: the service and provider it was sent to (codes, named from the directory). */
export interface OfferRef {
  serviceId: string;
  providerId: string;
}

/** The directory's names for services and providers (the app's services, GET /directory/services). */
export interface DirectoryNames {
  serviceName(id: string): string;
  providerName(id: string): string;
}

/** Names from the directory's services as the app holds them; a code the directory does not know is shown in words made from it. */
export function directoryNames(services: readonly { serviceId: string; name: string; providerId: string; providerName: string }[]): DirectoryNames {
  return {
    serviceName: (id) => services.find((s) => s.serviceId === id)?.name ?? label(id),
    providerName: (id) => services.find((s) => s.providerId === id)?.providerName ?? label(id),
  };
}

/** The words a team lead reads for each escalation kind, where the kind has no ref to name. */
export const ESCALATION_WORDS: Record<EscalationKind, string> = {
  'assessment-overdue': 'Assessment overdue',
  'activation-overdue': 'Activation overdue',
  'review-overdue': 'Review overdue',
  'no-contact': 'No contact',
  'follow-up-due:6': '6-month follow-up due',
  'follow-up-due:12': '12-month follow-up due',
  'coverage-gap': 'No provider for a need',
  'offer-unanswered': 'Offer not answered',
};

/**
 * An open escalation in words: its kind, and what it is about where the kind has a ref. An unanswered
 * offer is named by the service and provider it went to (its ref, the allocation id, means nothing to
 * a person); without them it says only that an offer was not answered.
 */
export function escalationLabel(e: { kind: string; ref?: string; offer?: OfferRef }, names?: DirectoryNames): string {
  if (e.kind === 'coverage-gap' && e.ref) return `No provider for ${needLabel(e.ref).toLowerCase()}`;
  if (e.kind === 'offer-unanswered' && e.offer && names) return `Offer to ${names.serviceName(e.offer.serviceId)} (${names.providerName(e.offer.providerId)}) not answered`;
  return (ESCALATION_WORDS as Record<string, string>)[e.kind] ?? label(e.kind);
}

/** What a plan's deadline means for the coordinator, by the timer command it fires. */
export const DEADLINE_WORDS: Record<string, string> = {
  'assessment-overdue': 'Assessment due',
  'offer-expired': 'Offer answer due',
  'activation-overdue': 'Activation due',
  'review-due': 'Review reminder',
  'review-overdue': 'Review overdue after',
  'no-contact': 'No-contact check',
  'follow-up-due': 'Follow-up due',
};
