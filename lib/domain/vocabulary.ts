/**
 * The API's fixed lists of values, each once. Plain arrays with no imports at all: the zod schemas
 * (taxonomy.ts, schemas.ts, lifecycle.ts, events.ts) are built from them, and the web app's bundle
 * imports them as they are, without zod (web/src/domain.ts).
 */

/**
 * Need domains: the reducing-reoffending pathways, the women's pathways and New Chance's specialist
 * interventions. They double as the HSDS taxonomy terms that tag provider services.
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

/** Each need domain as people say it: the web's labels and the domain's own explanations ("why", gaps) read these. */
export const NEED_DOMAIN_LABELS: Record<(typeof NEED_DOMAINS)[number], string> = {
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

/**
 * Local authorities the programme takes referrals from: the seven West Midlands Police area
 * authorities, plus neighbouring ones so an out-of-area referral is recorded (and shows up as a
 * coverage gap) instead of being refused.
 */
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

/** Each local authority's name. */
export const LOCAL_AUTHORITY_LABELS: Record<(typeof LOCAL_AUTHORITIES)[number], string> = {
  birmingham: 'Birmingham',
  coventry: 'Coventry',
  dudley: 'Dudley',
  sandwell: 'Sandwell',
  solihull: 'Solihull',
  walsall: 'Walsall',
  wolverhampton: 'Wolverhampton',
  staffordshire: 'Staffordshire',
  warwickshire: 'Warwickshire',
  worcestershire: 'Worcestershire',
  shropshire: 'Shropshire',
  'telford-and-wrekin': 'Telford and Wrekin',
};

export const REFERRAL_SOURCES = [
  'custody-diversion',
  'out-of-court-disposal',
  'court',
  'problem-solving-court',
  'probation',
  'self',
  'other-agency',
] as const;

/** `none` is the stage of a plan that does not exist yet: only `refer` is allowed there. */
export const STAGES = ['none', 'referred', 'assessment', 'allocating', 'active', 'exited', 'closed', 'withdrawn'] as const;

export const DATA_CATEGORIES = ['needs', 'risks', 'adjustments', 'contact-details', 'offending'] as const;
export const CONSENT_METHODS = ['written', 'verbal', 'digital'] as const;
/** Which providers her consent covers: any in the directory, only those she named, or all but those she named. */
export const CONSENT_PROVIDER_KINDS = ['all', 'only', 'all-except'] as const;
export const CONSENT_PROVIDER_KIND_WORDS: Record<(typeof CONSENT_PROVIDER_KINDS)[number], string> = {
  all: 'Any provider in the directory',
  only: 'Only the providers she named',
  'all-except': 'Every provider except those she named',
};

/** Why a need has no provider: the reason a gap records, each with the words a coordinator reads. */
export const GAP_REASONS = ['no-service', 'no-coverage-in-area', 'no-capacity', 'not-eligible', 'all-candidates-declined-or-expired', 'no-consent-to-share', 'not-offered', 'outside-consent'] as const;
export const GAP_REASON_WORDS: Record<(typeof GAP_REASONS)[number], string> = {
  'no-service': 'No service',
  'no-coverage-in-area': 'No coverage in the area',
  'no-capacity': 'No capacity',
  'not-eligible': 'Not eligible',
  'all-candidates-declined-or-expired': 'Every candidate was offered it and declined, let the offer expire or stopped',
  'no-consent-to-share': 'No consent to share',
  'not-offered': 'Activated before it was offered to a service that could still be asked',
  'outside-consent': 'Only providers her consent does not cover could meet it',
};
/**
 * Why a referral was withdrawn before it became a plan. `duplicate-referral`: an accidental second
 * referral of a woman already referred, closed by the coordinator; it is no outcome of the programme.
 */
export const WITHDRAW_REASONS = ['not-eligible', 'declined-support', 'unreachable', 'duplicate-referral', 'other'] as const;
export const NEED_LEVELS = ['low', 'medium', 'high'] as const;
export const DOMESTIC_ABUSE_RISK = ['none', 'standard', 'medium', 'high'] as const;
export const ADJUSTMENTS = ['neurodiversity', 'learning-difficulty', 'brain-injury', 'language', 'female-worker'] as const;
export const DECLINE_REASONS = ['capacity', 'eligibility', 'risk', 'location', 'other'] as const;
export const CONTACT_KINDS = ['attended', 'missed', 'cancelled'] as const;
export const END_OUTCOMES = ['completed', 'partially-completed', 'disengaged', 'not-needed', 'other'] as const;
export const EXIT_REASONS = ['completed', 'transferred', 'disengaged', 'moved-away', 'custody', 'other'] as const;
export const REVIEW_OUTCOMES = ['continue', 'adjust', 'exit'] as const;
/** In the order the follow-up form offers them. */
export const REOFFENDED = ['no', 'yes', 'unknown'] as const;
/**
 * Why a recorded follow-up is corrected. A code, not free text: it travels in the plan's history
 * event, where no note about her may go. A note, if any, stays on the plan.
 */
export const FOLLOW_UP_CORRECTION_REASONS = ['keyed-in-error', 'new-information', 'source-corrected'] as const;
/**
 * Why a provider corrects or withdraws a session it recorded: the same session recorded twice, the
 * wrong date or kind keyed in, or no session with her at all (recorded on the wrong allocation, say).
 * A code, not free text: it travels in contact.corrected.v1.
 */
export const CONTACT_CORRECTION_REASONS = ['recorded-twice', 'wrong-date', 'wrong-kind', 'no-such-session'] as const;

/**
 * Why someone reads or changes her data: the `X-Purpose` header and each route's own purpose, as
 * the audit log's `why`. Codes, never free text, so no name or number can be typed into the log.
 */
export const ACCESS_PURPOSES = [
  'referral',
  'support-planning',
  'keeping-contact-details-right',
  'answering-offers',
  'delivering-the-allocated-service',
  'contacting-the-participant',
  'safeguarding',
  'multi-agency-meeting',
  'case-supervision',
  'complaint',
  'subject-access-request',
  'oversight',
] as const;

/**
 * Why a coordinator erases her identity before the retention period ends. A code, never free text: the
 * reason is the erasure's `why` in the audit log, which is append-only and outlives the erasure, so a
 * name or number typed into it would survive the very erasure it records.
 */
export const ERASURE_REASONS = ['her-request', 'consent-withdrawn', 'recorded-in-error', 'no-longer-needed', 'legal-obligation'] as const;

/**
 * What a team lead is told of. The timed ones repeat weekly while nobody acts; `coverage-gap` (a need
 * of a plan in support with no provider, ref the need's domain) and `offer-unanswered` (an offer that
 * expired unanswered, ref the allocation) are raised once and stay open until the need is met or
 * removed or the plan ends: they follow the plan's state, not a clock.
 */
export const ESCALATION_KINDS = ['assessment-overdue', 'activation-overdue', 'review-overdue', 'no-contact', 'follow-up-due:6', 'follow-up-due:12', 'coverage-gap', 'offer-unanswered'] as const;

/** Whether a directory service takes new allocations: temporarily-closed is offered nothing new until active again. */
export const SERVICE_STATUSES = ['active', 'temporarily-closed'] as const;

/**
 * The most open allocations one service may hold, in the directory file and in a team lead's change.
 * Its places in use (holds) live in one item with its capacity, so that "never over capacity" is one
 * conditional write (directory-store.ts); DynamoDB keeps an item to 400 KB, and a hold takes up to about
 * 170 bytes (allocation id, plan id, since, execution token), so about 2,400 fit. 1,000 leaves room to
 * spare and is still far above any one service's caseload (the New Chance services hold 10 to 25).
 */
export const MAX_SERVICE_CAPACITY = 1000;

/** The most services GET /directory/services gives in one page (its per_page); the web app reads every page. */
export const MAX_SERVICES_PER_PAGE = 100;

/**
 * The problem type of a referral refused as a possible duplicate (409 of POST /plans): the API sets
 * it, the web app and the simulator recognise it by it.
 */
export const POSSIBLE_DUPLICATE_TYPE = 'possible-duplicate';

/**
 * The most plans a possible-duplicate refusal names, and so the most notDuplicateOf may list: a
 * coordinator can always confirm every plan she was shown. More under one woman's keys is bad data,
 * not women to check.
 */
export const MAX_POSSIBLE_DUPLICATES = 50;

/**
 * The most days one read of the audit log (GET /audit) may cover past its first: 31 over everyone's
 * records (each day's records are read whole), and three years about one plan, whose records are read
 * through its own index (byAuditPlan), so that "who has seen this plan, and why" is one view over the
 * plan's whole life (referral to the 12-month follow-up), not a month at a time.
 */
export const MAX_AUDIT_DAYS = 31;
export const MAX_AUDIT_DAYS_ONE_PLAN = 1096;
