/**
 * The vocabulary of the API, with the words people read. The lists are the API's own, imported from
 * modules with no imports of their own (no zod, nothing of Node), so the browser bundle carries them
 * as they are; test/browser/web-constants.test.ts keeps it that way.
 */
import { DIMENSIONS } from '../../lib/domain/metrics/definitions.ts';
import { NEED_DOMAINS, STAGES as ALL_STAGES } from '../../lib/domain/vocabulary.ts';

export {
  ADJUSTMENTS,
  CONSENT_METHODS,
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

export type NeedDomain = (typeof NEED_DOMAINS)[number];

const NEED_LABELS: Record<NeedDomain, string> = {
  accommodation: 'Accommodation',
  'education-training-employment': 'Education, training and employment',
  'physical-health': 'Physical health',
  'mental-health': 'Mental health',
  'substance-misuse': 'Substance misuse',
  alcohol: 'Alcohol',
  'finance-benefit-debt': 'Finance, benefit and debt',
  'children-families': 'Children and families',
  'thinking-behaviour': 'Thinking and behaviour',
  'domestic-abuse': 'Domestic abuse',
  'sexual-exploitation': 'Sexual exploitation',
  trauma: 'Trauma',
  'emotional-resilience': 'Emotional resilience',
  'interpersonal-skills': 'Interpersonal skills',
};

/** Every stage a plan can be in (`none` is the API's word for a plan not referred yet). */
export const STAGES = ALL_STAGES.filter((s): s is Exclude<(typeof ALL_STAGES)[number], 'none'> => s !== 'none');
export type Stage = (typeof STAGES)[number];
export const METRIC_DIMENSIONS = DIMENSIONS;
export type MetricDimension = (typeof METRIC_DIMENSIONS)[number];

const SPECIAL: Record<string, string> = {
  'telford-and-wrekin': 'Telford and Wrekin',
  'custody-diversion': 'Custody diversion',
  'out-of-court-disposal': 'Out-of-court disposal',
  'problem-solving-court': 'Problem Solving Court',
  self: 'Self-referral',
  'other-agency': 'Other agency',
  'contact-details': 'Contact details',
  'not-eligible': 'Not eligible',
  'declined-support': 'Declined support',
  'female-worker': 'Female worker',
  'partially-completed': 'Partially completed',
  'not-needed': 'Not needed',
  'moved-away': 'Moved away',
  'consent-withdrawn': 'Consent withdrawn',
  'keyed-in-error': 'Keyed in error',
  'new-information': 'New information since',
  'source-corrected': 'The source corrected its answer',
  'team-lead': 'Team lead',
  localAuthority: 'Local authority',
  needDomain: 'Need domain',
  referralSource: 'Referral source',
  'no-service': 'No service',
  'no-coverage-in-area': 'No coverage in the area',
  'no-capacity': 'No capacity',
  'all-candidates-declined-or-expired': 'Every candidate was offered it and declined, let the offer expire or stopped',
  'no-consent-to-share': 'No consent to share',
  'not-offered': 'Activated before it was offered to a service that could still be asked',
};

/** "moved-away" → "Moved away"; need domains and a few others have their own words. */
export function label(value: string | undefined | null): string {
  if (value === undefined || value === null || value === '') return '';
  if ((NEED_LABELS as Record<string, string>)[value]) return (NEED_LABELS as Record<string, string>)[value] as string;
  if (SPECIAL[value]) return SPECIAL[value] as string;
  const words = value.replace(/-/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export const needLabel = (domain: string) => label(domain);

/** An open escalation in words: its kind, and what it is about where the kind has a ref. */
export function escalationLabel(e: { kind: string; ref?: string }): string {
  if (e.kind === 'coverage-gap') return `No provider for ${needLabel(e.ref ?? '').toLowerCase()}`;
  if (e.kind === 'offer-unanswered') return `Offer ${e.ref ?? ''} expired unanswered`;
  return label(e.kind);
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
