/**
 * The vocabulary of the API, with the words people read. The lists mirror lib/domain (the browser
 * bundle does not carry zod); test/browser/web-constants.test.ts keeps them in step.
 */

export const NEED_DOMAINS = [
  'accommodation',
  'education-training-employment',
  'physical-health',
  'mental-health',
  'substance-misuse',
  'alcohol',
  'finance-benefit-debt',
  'children-families',
  'thinking-behaviour',
  'domestic-abuse',
  'sexual-exploitation',
  'trauma',
  'emotional-resilience',
  'interpersonal-skills',
] as const;
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

export const LOCAL_AUTHORITIES = [
  'birmingham',
  'coventry',
  'dudley',
  'sandwell',
  'solihull',
  'walsall',
  'wolverhampton',
  'staffordshire',
  'warwickshire',
  'worcestershire',
  'shropshire',
  'telford-and-wrekin',
] as const;

export const REFERRAL_SOURCES = ['custody-diversion', 'out-of-court-disposal', 'court', 'problem-solving-court', 'probation', 'self', 'other-agency'] as const;
export const STAGES = ['referred', 'assessment', 'allocating', 'active', 'exited', 'closed', 'withdrawn'] as const;
export type Stage = (typeof STAGES)[number];
export const DATA_CATEGORIES = ['needs', 'risks', 'adjustments', 'contact-details', 'offending'] as const;
export const CONSENT_METHODS = ['written', 'verbal', 'digital'] as const;
export const WITHDRAW_REASONS = ['not-eligible', 'declined-support', 'unreachable', 'other'] as const;
export const NEED_LEVELS = ['low', 'medium', 'high'] as const;
export const DOMESTIC_ABUSE_RISK = ['none', 'standard', 'medium', 'high'] as const;
export const ADJUSTMENTS = ['neurodiversity', 'learning-difficulty', 'brain-injury', 'language', 'female-worker'] as const;
export const DECLINE_REASONS = ['capacity', 'eligibility', 'risk', 'location', 'other'] as const;
export const CONTACT_KINDS = ['attended', 'missed', 'cancelled'] as const;
export const END_OUTCOMES = ['completed', 'partially-completed', 'disengaged', 'not-needed', 'other'] as const;
export const EXIT_REASONS = ['completed', 'transferred', 'disengaged', 'moved-away', 'custody', 'other'] as const;
export const REVIEW_OUTCOMES = ['continue', 'adjust', 'exit'] as const;
export const REOFFENDED = ['no', 'yes', 'unknown'] as const;
export const METRIC_DIMENSIONS = ['provider', 'localAuthority', 'needDomain', 'referralSource', 'month'] as const;
export type MetricDimension = (typeof METRIC_DIMENSIONS)[number];
export const ROLES = ['coordinator', 'team-lead', 'provider', 'commissioner'] as const;
export type Role = (typeof ROLES)[number];
/** Cognito group of each role (lib/api/auth.ts). */
export const GROUP_OF_ROLE: Record<Role, string> = { coordinator: 'coordinators', 'team-lead': 'team-leads', provider: 'providers', commissioner: 'commissioners' };

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
  'team-lead': 'Team lead',
  localAuthority: 'Local authority',
  needDomain: 'Need domain',
  referralSource: 'Referral source',
  'no-service': 'No service',
  'no-coverage-in-area': 'No coverage in the area',
  'no-capacity': 'No capacity',
  'all-candidates-declined-or-expired': 'Every candidate declined or let the offer expire',
  'no-consent-to-share': 'No consent to share',
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
