import * as z from 'zod';
import { LocalAuthority, NeedDomain, ReferralSource } from './taxonomy.ts';
import { Stage, type CommandName } from './lifecycle.ts';
import {
  ADJUSTMENTS,
  CONSENT_METHODS,
  CONTACT_KINDS,
  DATA_CATEGORIES,
  DECLINE_REASONS,
  DOMESTIC_ABUSE_RISK,
  END_OUTCOMES,
  EXIT_REASONS,
  ESCALATION_KINDS,
  FOLLOW_UP_CORRECTION_REASONS,
  CONTACT_CORRECTION_REASONS,
  GAP_REASONS,
  NEED_LEVELS,
  REOFFENDED,
  REVIEW_OUTCOMES,
  WITHDRAW_REASONS,
  MAX_POSSIBLE_DUPLICATES,
  POSSIBLE_DUPLICATE_TYPE,
} from './vocabulary.ts';

export { ADJUSTMENTS, CONTACT_KINDS, DATA_CATEGORIES, DECLINE_REASONS, END_OUTCOMES, EXIT_REASONS, GAP_REASONS, WITHDRAW_REASONS };

/**
 * zod is the single source of every shape: TypeScript types, request validation, the OpenAPI
 * document and the event JSON Schemas are all derived from the schemas here.
 */

const MAX_TEXT = 2000;
const MAX_NOTE = 500;
export const IsoDate = z.iso.date().describe('Calendar date, YYYY-MM-DD');
export const IsoDateTime = z.iso.datetime({ offset: true }).describe('Instant, ISO 8601');
const ShortText = z.string().trim().min(1).max(200);
const Note = z.string().trim().min(1).max(MAX_NOTE);
const FreeText = z.string().trim().min(1).max(MAX_TEXT);
export const PlanId = z.string().regex(/^pl_[a-z0-9]{10,40}$/, 'must be a plan id like pl_…').describe('Pseudonymous plan reference');
export const AllocationId = z.string().regex(/^al_[a-z0-9]{10,40}_[0-9]{1,4}$/, 'must be an allocation id like al_…_1').describe('Allocation id');
export const ProviderId = z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'must be a provider id (lowercase letters, digits and dashes)');
export const ServiceId = z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'must be a service id (lowercase letters, digits and dashes)');

// ---------------------------------------------------------------------------------------------
// Command payloads (what clients send)

/**
 * A UK postcode (any case, with or without the space), stored upper case with one space before the
 * inward code, so the same postcode always reads the same. Shape only: whether it exists is not checked.
 */
const UK_POSTCODE = /^([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9][A-Z]{2})$/;
export const UkPostcode = z
  .string()
  .trim()
  .toUpperCase()
  .regex(UK_POSTCODE, 'must be a UK postcode like B1 1AA')
  .overwrite((p) => p.replace(UK_POSTCODE, '$1 $2'))
  .describe('UK postcode, e.g. B1 1AA');
/** A phone number as people write it: digits with spaces, dashes or brackets, optionally +44; 10 to 15 digits. */
export const PhoneNumber = z
  .string()
  .trim()
  .max(25)
  .regex(/^\+?[0-9 ()-]+$/, 'must be a phone number: digits, spaces, dashes or brackets, optionally starting with +')
  .refine((n) => /^[0-9]{10,15}$/.test(n.replace(/[^0-9]/g, '')), 'must have 10 to 15 digits')
  .describe('Phone number, e.g. 07700 900123');

export const CONTACT_METHODS = ['phone-call', 'text-message', 'email', 'letter'] as const;
/**
 * How to reach her, and how to do it without putting her at risk: many women on these programmes
 * live with, or are watched by, the person who harms them. A voicemail, a text on a shared phone, a
 * letter with a service's name on it or a caller who says where they are from can all give her away,
 * so each is a yes/no the coordinator asks her, and a note says what to do instead.
 */
export const ContactDetails = z
  .strictObject({
    phone: PhoneNumber.optional(),
    email: z.email('must be an email address').max(254).optional(),
    preferredMethod: z.enum(CONTACT_METHODS).optional().describe('How she asked to be contacted'),
    safeToLeaveVoicemail: z.boolean().optional().describe('false: never leave a voicemail'),
    safeToText: z.boolean().optional().describe('false: never send a text message'),
    safeToSendPost: z.boolean().optional().describe('false: never post anything to her'),
    safeToSayServiceName: z.boolean().optional().describe("false: do not say which service is calling unless she confirms it's safe"),
    safeTimes: z.string().trim().min(1).max(200).optional().describe('When it is safe to contact her, in her words (e.g. weekdays 10-2)'),
    safetyNote: z.string().trim().min(1).max(MAX_NOTE).optional().describe('Anything else a worker must know to contact her safely (a code word, who may answer)'),
  })
  .superRefine((c, ctx) => {
    if ((c.preferredMethod === 'phone-call' || c.preferredMethod === 'text-message') && !c.phone) ctx.addIssue({ code: 'custom', path: ['phone'], message: `required when the preferred method is ${c.preferredMethod}` });
    if (c.preferredMethod === 'email' && !c.email) ctx.addIssue({ code: 'custom', path: ['email'], message: 'required when the preferred method is email' });
    if (c.preferredMethod === 'text-message' && c.safeToText === false) ctx.addIssue({ code: 'custom', path: ['preferredMethod'], message: 'cannot be text-message when texts are not safe' });
    if (c.preferredMethod === 'letter' && c.safeToSendPost === false) ctx.addIssue({ code: 'custom', path: ['preferredMethod'], message: 'cannot be letter when post is not safe' });
  })
  .describe('How to contact her safely');
export type ContactDetails = z.infer<typeof ContactDetails>;

export const Address = z
  .strictObject({
    lines: z.array(z.string().trim().min(1).max(100)).min(1).max(4).describe('Street address, one line each (house, street, area)'),
    town: z.string().trim().min(1).max(100).optional(),
    postcode: UkPostcode.optional(),
  })
  .describe('Where she lives');
export type Address = z.infer<typeof Address>;

/** A name has a letter in some script: one without (digits or punctuation only) cannot tell two women apart. */
const PersonName = ShortText.refine((name) => /\p{L}/u.test(name), 'must contain a letter');

export const Participant = z
  .strictObject({
    givenName: PersonName,
    familyName: PersonName,
    preferredName: z.string().trim().min(1).max(100).optional().describe('What she likes to be called'),
    dateOfBirth: IsoDate,
    contact: ContactDetails.optional(),
    address: Address.optional(),
  })
  .superRefine((p, ctx) => {
    if (p.contact?.preferredMethod === 'letter' && !p.address) ctx.addIssue({ code: 'custom', path: ['address'], message: 'required when the preferred method is letter' });
  })
  .describe('Identity of the participant; stored apart from the plan');
export type Participant = z.infer<typeof Participant>;

/**
 * Her identity as held, which a correction is checked against: Participant, with her names taken as they
 * were stored. A name with no letter was accepted before names needed one (393cdba), and a correction
 * cannot change her name, so it must not be refused over one it does not touch (her new phone number
 * unsaved). What it does change is checked as the referral form would check it.
 */
export const HeldIdentity = Participant.safeExtend({ givenName: ShortText, familyName: ShortText });

/**
 * A coordinator's correction of the parts of her identity that change (how to reach her, where she
 * lives, what she likes to be called). Each field given replaces the stored one; null removes it.
 * Name and date of birth are not corrected here: they key the link between her plans.
 */
export const IdentityCorrection = z
  .strictObject({
    preferredName: Participant.shape.preferredName.unwrap().nullable().optional(),
    contact: ContactDetails.nullable().optional(),
    address: Address.nullable().optional(),
  })
  .refine((c) => Object.keys(c).length > 0, 'give at least one of preferredName, contact, address')
  .describe('Corrections to her contact details, address or preferred name');
export type IdentityCorrection = z.infer<typeof IdentityCorrection>;

/** The parts a correction names (its keys, so the two cannot drift apart). */
const CorrectableFieldName = IdentityCorrection.keyof();

/**
 * In the answer to a referral that gave contact details, an address or a preferred name: which of
 * them were written to her record. A woman referred before has one record; a field corrected on it
 * while the referral was being recorded keeps the correction (the newer word), and the answer says
 * so. Field names only: never her details.
 */
export const ReferralDetailsReport = z
  .object({
    applied: z.array(CorrectableFieldName).describe("This referral's values are now held for these"),
    notApplied: z.array(CorrectableFieldName).describe('Kept as held for these: check them on the plan page'),
    reason: z
      .enum(['corrected-since-referral', 'identity-not-held', 'not-checked'])
      .optional()
      .describe('When notApplied is not empty: corrected on her record while this referral was being recorded; her identity erased; or no record of what was held before it to check against'),
    detail: z.string().optional().describe('When notApplied is not empty: what happened and what to do, for a person'),
  })
  .meta({ id: 'ReferralDetails' });
export type ReferralDetailsReport = z.infer<typeof ReferralDetailsReport>;

export const ReferPayload = z.strictObject({
  participant: Participant,
  referral: z.strictObject({
    source: ReferralSource,
    localAuthority: LocalAuthority,
    urgency: z.enum(['routine', 'urgent']).default('routine'),
    note: Note.optional(),
  }),
  reviewEveryDays: z.number().int().min(7).max(91).optional().describe('Review cadence in days; default 28, or 14 for Problem Solving Court referrals'),
  notDuplicateOf: z
    .array(PlanId)
    .min(1)
    .max(MAX_POSSIBLE_DUPLICATES)
    .optional()
    .describe(
      "The coordinator's confirmation that she is a different woman from the women of these open plans: send it with every plan a possible-duplicate refusal (409) named, after checking them, and the referral goes ahead (the audit record says so). Plans it does not name are still checked",
    ),
});

/** One open plan a referral may be a second referral of: the plan, never who she is. */
export const PossibleDuplicatePlan = z
  .object({
    planId: PlanId,
    stage: Stage,
    referredOn: IsoDate.describe('The day that plan was referred (London)'),
  })
  .meta({ id: 'PossibleDuplicatePlan' });
export type PossibleDuplicatePlan = z.infer<typeof PossibleDuplicatePlan>;

/**
 * The open plan of hers a referral was refused for (409, `openPlan`): found by her identity, so a
 * second plan is not opened beside it. The plan only, never who she is: the coordinator works with it.
 */
export const ReferralOpenPlan = z
  .object({
    planId: PlanId,
    stage: Stage,
  })
  .meta({ id: 'ReferralOpenPlan' });
export type ReferralOpenPlan = z.infer<typeof ReferralOpenPlan>;

/** The problem type of a referral refused as a possible duplicate (409); the body's other members are RFC 9457's. */
export { POSSIBLE_DUPLICATE_TYPE };

/**
 * A referral refused because an open plan of a woman whose name and date of birth nearly match hers
 * exists (lib/adapters/near-match.ts): her plans are named, with stage and referral day, so the
 * coordinator can check them; the refusal says nothing of who either woman is. Sent again with
 * `notDuplicateOf` listing every plan named, it goes ahead.
 */
export const PossibleDuplicateProblem = z
  .object({
    type: z.literal(POSSIBLE_DUPLICATE_TYPE),
    title: z.string(),
    status: z.literal(409),
    detail: z.string().describe('The plans to check and how to go ahead, for a person'),
    instance: z.string().optional(),
    errors: z.array(z.object({ path: z.literal('notDuplicateOf'), message: z.string() })).describe('Names notDuplicateOf, the field that confirms she is a different woman'),
    possibleDuplicates: z.array(PossibleDuplicatePlan).min(1).max(MAX_POSSIBLE_DUPLICATES).describe('Every open plan to check; notDuplicateOf must list them all'),
  })
  .meta({ id: 'PossibleDuplicateProblem', description: 'RFC 9457 problem details: a referral that may be a second referral of a woman with an open plan. The referral was not recorded; the warning is, in the audit log' });

/** What the refer step records: identity has already been stored apart, only its pseudonymous id comes here. */
export const RecordReferralPayload = z.strictObject({
  participantId: z.string().regex(/^pt_[a-z0-9]{10,40}$/),
  ageAtReferral: z.number().int().min(0).max(130),
  referral: ReferPayload.shape.referral,
  reviewEveryDays: z.number().int().min(7).max(91).optional(),
  previousPlanIds: z.array(PlanId).max(50).default([]),
});

/** Most providers a consent can name: more than any directory's organisations, few enough to read. */
export const MAX_CONSENT_PROVIDERS = 50;
const NamedProviders = z
  .array(ProviderId)
  .min(1, "name at least one provider, or choose kind 'all'")
  .max(MAX_CONSENT_PROVIDERS)
  .superRefine((ids, ctx) => {
    ids.forEach((id, i) => {
      if (ids.indexOf(id) !== i) ctx.addIssue({ code: 'custom', path: [i], message: `${id} is named twice: name each provider once` });
    });
  });
/**
 * Which provider organisations she agrees may be told about her plan. A woman may refuse one where
 * someone she fears works, or one she had a bad experience with. Provider ids must be in the
 * directory (checked by the domain, which holds it).
 */
export const ConsentProviders = z
  .discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('all').describe('Any provider in the directory') }),
    z.strictObject({ kind: z.literal('only').describe('Only these organisations'), providerIds: NamedProviders }),
    z.strictObject({ kind: z.literal('all-except').describe('Every organisation but these'), providerIds: NamedProviders }),
  ])
  .describe('Which providers may be told about her plan: all, only those named, or all except those named');
export type ConsentProviders = z.infer<typeof ConsentProviders>;

export const ConsentScope = z
  .strictObject({
    shareWithProviders: z.boolean(),
    dataCategories: z.array(z.enum(DATA_CATEGORIES)).max(DATA_CATEGORIES.length).default(['needs']),
    providers: ConsentProviders.default({ kind: 'all' }),
  })
  .superRefine((scope, ctx) => {
    if (!scope.shareWithProviders && scope.providers.kind !== 'all')
      ctx.addIssue({ code: 'custom', path: ['providers'], message: "must be { kind: 'all' } when shareWithProviders is false: naming providers shares nothing then" });
    scope.dataCategories.forEach((category, i) => {
      if (scope.dataCategories.indexOf(category) !== i) ctx.addIssue({ code: 'custom', path: ['dataCategories', i], message: `${category} is named twice: name each category once` });
    });
    // Sharing with nothing to share is a contradiction: said, not stored. With sharing off, [] is the honest answer.
    if (scope.shareWithProviders && scope.dataCategories.length === 0)
      ctx.addIssue({ code: 'custom', path: ['dataCategories'], message: 'names nothing to share: choose at least one category, or set shareWithProviders to false' });
  })
  .describe('What may be shared with providers, and with which');
export type ConsentScope = z.infer<typeof ConsentScope>;

export const RecordConsentPayload = z.strictObject({
  scope: ConsentScope,
  givenAt: IsoDate,
  method: z.enum(CONSENT_METHODS),
});

/** Her consent changed while support goes on: the new scope replaces the old, which is kept on the plan. */
export const ChangeConsentPayload = z.strictObject({
  scope: ConsentScope,
  givenAt: IsoDate.describe('When she gave it: not in the future, not before the consent it replaces'),
  method: z.enum(CONSENT_METHODS),
  note: Note.optional().describe('Kept on the plan only, never in an event'),
});

export const WithdrawPayload = z.strictObject({ reason: z.enum(WITHDRAW_REASONS), note: Note.optional() });

export const NeedLevel = z.enum(NEED_LEVELS);
export const AssessedNeed = z.strictObject({
  domain: NeedDomain,
  level: NeedLevel,
  priority: z.boolean(),
  goals: z.array(ShortText).max(10).default([]),
});
export type AssessedNeed = z.infer<typeof AssessedNeed>;

/**
 * The risks the assessment found, each only as far as it was assessed: a risk left out was not
 * assessed, which is not the same as none (a woman with a high domestic-abuse need is not "no
 * domestic-abuse risk" because the form or an integration said nothing). Views say "Not assessed" for
 * what is missing; the worklist's riskScore (views.ts) weighs it deliberately.
 *
 * Plans assessed before this (until 29 Nov 2026) had each missing risk stored as 'none' / false by a
 * default: those cannot be told apart from a risk assessed as none, and are not migrated.
 */
export const Risks = z
  .strictObject({
    domesticAbuse: z.enum(DOMESTIC_ABUSE_RISK).optional().describe('Left out: not assessed (not the same as none)'),
    selfHarm: z.boolean().optional().describe('Left out: not assessed (not the same as false)'),
    safeguardingChildren: z.boolean().optional().describe('Left out: not assessed (not the same as false)'),
  })
  .describe('Each risk only as assessed: a risk left out was not assessed');
export type Risks = z.infer<typeof Risks>;

const uniqueDomains = (needs: readonly { domain: string }[]) => new Set(needs.map((n) => n.domain)).size === needs.length;

export const SubmitAssessmentPayload = z.strictObject({
  needs: z.array(AssessedNeed).min(1).max(14).refine(uniqueDomains, 'each need domain may appear only once'),
  risks: Risks.optional().describe('Left out, or any risk in it left out: not assessed'),
  adjustments: z.array(z.enum(ADJUSTMENTS)).max(ADJUSTMENTS.length).default([]),
});

export const OfferManuallyPayload = z.strictObject({
  serviceId: ServiceId,
  needs: z.array(NeedDomain).min(1).max(14),
  reason: Note,
});

export const ActivatePayload = z.strictObject({ reason: Note });

export const DeclineOfferPayload = z.strictObject({ reason: z.enum(DECLINE_REASONS), note: Note.optional() });
export const AcceptOfferPayload = z.strictObject({ note: Note.optional() });
export const RecordContactPayload = z.strictObject({ date: IsoDate, kind: z.enum(CONTACT_KINDS) });
export const ContactCorrectionReason = z
  .enum(CONTACT_CORRECTION_REASONS)
  .describe('Why: the same session recorded twice, the wrong date or the wrong kind keyed in, or no such session with her');
/**
 * A session is named by its number on the allocation (1 for the first recorded, in the order
 * recorded; a withdrawn one keeps its number). Either `withdrawn: true` (recorded twice, no such
 * session), or the corrected `date` and/or `kind`.
 */
export const CorrectContactPayload = z
  .strictObject({
    session: z.number().int().min(1).max(10_000).describe("The session's number on this allocation, as the allocation shows it (1 = the first recorded)"),
    withdrawn: z.literal(true).optional().describe('Withdraw the session: it no longer counts anywhere (attendance at reviews, the no-contact alert)'),
    date: IsoDate.optional().describe('The right date'),
    kind: z.enum(CONTACT_KINDS).optional().describe('The right kind'),
    reason: ContactCorrectionReason,
  })
  .superRefine((p, ctx) => {
    if (p.withdrawn && (p.date !== undefined || p.kind !== undefined))
      ctx.addIssue({ code: 'custom', path: [p.date !== undefined ? 'date' : 'kind'], message: 'must be left out when the session is withdrawn' });
    if (!p.withdrawn && p.date === undefined && p.kind === undefined) ctx.addIssue({ code: 'custom', path: ['withdrawn'], message: 'give the corrected date or kind, or withdrawn: true' });
  });
export const EndAllocationPayload = z.strictObject({ outcome: z.enum(END_OUTCOMES), note: Note.optional() });

export const ExitReason = z.enum(EXIT_REASONS);
export const Score = z.number().int().min(1).max(10);
export const REVIEW_ATTENDEE_ROLES = ['participant', 'coordinator', 'provider', 'judge'] as const;
export const RecordReviewPayload = z
  .strictObject({
    date: IsoDate.optional(),
    scores: z.partialRecord(NeedDomain, Score).refine((s) => Object.keys(s).length > 0, 'score at least one need domain'),
    outcome: z.enum(REVIEW_OUTCOMES),
    exitReason: ExitReason.optional(),
    addNeeds: z.array(AssessedNeed).max(14).refine(uniqueDomains, 'each need domain may appear only once').optional(),
    closeNeeds: z.array(NeedDomain).max(14).optional(),
    participantWords: FreeText.optional(),
    attendees: z
      .array(z.strictObject({ role: z.enum(REVIEW_ATTENDEE_ROLES), providerId: ProviderId.optional() }))
      .min(1)
      .max(20)
      .default([{ role: 'participant' }, { role: 'coordinator' }])
      .describe('Who took part; a judge only in court-linked plans, providers by their id'),
    reviewEveryDays: z.number().int().min(7).max(91).optional().describe('Change the review cadence from this review on'),
  })
  .superRefine((review, ctx) => {
    review.attendees.forEach((a, i) => {
      if (a.role === 'provider' && !a.providerId) ctx.addIssue({ code: 'custom', path: ['attendees', i, 'providerId'], message: 'required for a provider attendee' });
      if (a.role !== 'provider' && a.providerId) ctx.addIssue({ code: 'custom', path: ['attendees', i, 'providerId'], message: 'only for a provider attendee' });
    });
    if (review.outcome === 'exit' && !review.exitReason) ctx.addIssue({ code: 'custom', path: ['exitReason'], message: 'required when outcome is exit' });
    if (review.outcome !== 'exit' && review.exitReason) ctx.addIssue({ code: 'custom', path: ['exitReason'], message: 'only allowed when outcome is exit' });
    const adjusts = (review.addNeeds?.length ?? 0) + (review.closeNeeds?.length ?? 0) > 0;
    if (review.outcome === 'adjust' && !adjusts) ctx.addIssue({ code: 'custom', path: ['addNeeds'], message: 'adjust needs addNeeds or closeNeeds' });
    if (review.outcome !== 'adjust' && adjusts) ctx.addIssue({ code: 'custom', path: ['outcome'], message: 'addNeeds and closeNeeds need outcome adjust' });
  });

export const ExitPayload = z.strictObject({ reason: ExitReason, note: Note.optional() });
export const WithdrawConsentPayload = z.strictObject({ note: Note.optional() });
export const FollowUpMonth = z.union([z.literal(6), z.literal(12)]);
export const RecordFollowUpPayload = z.strictObject({ month: FollowUpMonth, reoffended: z.enum(REOFFENDED) });
export const FollowUpCorrectionReason = z.enum(FOLLOW_UP_CORRECTION_REASONS).describe('Why: keyed in error, new information since, or the source (police, probation) corrected its answer');
export const CorrectFollowUpPayload = z.strictObject({
  month: FollowUpMonth.describe('Which recorded follow-up to correct'),
  reoffended: z.enum(REOFFENDED).describe('The right answer: it must differ from the recorded one'),
  reason: FollowUpCorrectionReason,
  note: Note.optional().describe('Kept on the plan only, never in an event'),
});
/** What an escalation is about, for the kinds that say: a review number, a need domain or an allocation id. Never words. */
export const EscalationRef = z.union([z.string().regex(/^[0-9]{1,3}$/), NeedDomain, AllocationId], { error: () => 'must be a review number, a need domain or an allocation id' });
export const AcknowledgeEscalationPayload = z.strictObject({
  kind: z.enum(ESCALATION_KINDS, { error: () => `must be one of ${ESCALATION_KINDS.join(', ')}` }).describe('The kind of the open escalation picked up'),
  ref: EscalationRef.optional().describe('Its ref, for the kinds that have one (review number, need domain, allocation id)'),
});
/** Timer commands name the deadline they fire for, so a stale timer changes nothing. */
export const TimerPayload = z.strictObject({ deadlineId: z.string().min(1).max(80) });

export const COMMAND_PAYLOADS = {
  refer: RecordReferralPayload,
  'record-consent': RecordConsentPayload,
  'change-consent': ChangeConsentPayload,
  withdraw: WithdrawPayload,
  'submit-assessment': SubmitAssessmentPayload,
  'offer-manually': OfferManuallyPayload,
  activate: ActivatePayload,
  'accept-offer': AcceptOfferPayload,
  'decline-offer': DeclineOfferPayload,
  'record-contact': RecordContactPayload,
  'correct-contact': CorrectContactPayload,
  'end-allocation': EndAllocationPayload,
  'record-review': RecordReviewPayload,
  exit: ExitPayload,
  'withdraw-consent': WithdrawConsentPayload,
  'record-follow-up': RecordFollowUpPayload,
  'correct-follow-up': CorrectFollowUpPayload,
  'acknowledge-escalation': AcknowledgeEscalationPayload,
  'assessment-overdue': TimerPayload,
  'offer-expired': TimerPayload,
  'activation-overdue': TimerPayload,
  'review-due': TimerPayload,
  'review-overdue': TimerPayload,
  'no-contact': TimerPayload,
  'follow-up-due': TimerPayload,
} as const satisfies Record<CommandName, z.ZodType>;
export type PayloadOf<C extends CommandName> = z.output<(typeof COMMAND_PAYLOADS)[C]>;

// ---------------------------------------------------------------------------------------------
// The plan aggregate (one item in the table)

export const NeedStatus = z.enum(['open', 'closed']);
export const PlanNeed = AssessedNeed.extend({ status: NeedStatus, addedAt: IsoDateTime, closedAt: IsoDateTime.optional() });
export type PlanNeed = z.infer<typeof PlanNeed>;

/**
 * What a provider was told to delete, and when: the instruction of plan.consent-withdrawn.v1 or
 * plan.consent-narrowed.v1 as it was sent, kept on the allocation it was sent for, so the provider's
 * own views (GET /allocations/{id}, its caseload and offers) say it to staff who read no events.
 */
export const PurgeInstruction = z.discriminatedUnion('instruction', [
  z.object({
    instruction: z.literal('stop-processing-and-purge').describe('Stop processing and delete what you hold about this plan'),
    at: IsoDateTime.describe('When her consent was withdrawn, or changed so that it no longer covers this provider'),
  }),
  z.object({
    instruction: z.literal('purge-withdrawn-categories').describe('Delete what you hold of these categories about this plan; the rest of the allocation goes on'),
    withdrawnCategories: z.array(z.enum(DATA_CATEGORIES)).min(1).describe('The data categories her consent no longer lets you hold'),
    at: IsoDateTime.describe('When her consent was narrowed'),
  }),
]);
export type PurgeInstruction = z.infer<typeof PurgeInstruction>;

export const ALLOCATION_STATUSES = ['offered', 'accepted', 'declined', 'expired', 'withdrawn', 'ended'] as const;
export const AllocationStatus = z.enum(ALLOCATION_STATUSES);
export const Allocation = z.object({
  allocationId: AllocationId,
  providerId: ProviderId,
  serviceId: ServiceId,
  needs: z.array(NeedDomain),
  status: AllocationStatus,
  lead: z.boolean().describe('The key worker: the provider holding the most needs'),
  offeredAt: IsoDateTime,
  respondBy: IsoDateTime,
  respondedAt: IsoDateTime.optional().describe('When its provider accepted or declined it'),
  expiredAt: IsoDateTime.optional().describe('When it expired, unanswered by respondBy'),
  declineReason: z.enum(DECLINE_REASONS).optional(),
  note: z.string().optional(),
  manualReason: z.string().optional().describe('Set when a coordinator offered it by hand'),
  why: z.string().describe('Why this provider was chosen'),
  endedAt: IsoDateTime.optional(),
  outcome: z.string().optional(),
  purgeInstructions: z.array(PurgeInstruction).optional().describe('What its provider was told to delete, in order'),
});
export type Allocation = z.infer<typeof Allocation>;

/**
 * A need as the provider's own lists give it (GET /providers/{id}/allocations and /offers): its domain,
 * and its level where the event that last changed the allocation said it (an offer does).
 */
export const ProviderAllocationNeed = z.object({ domain: NeedDomain, level: NeedLevel.optional() });
export type ProviderAllocationNeed = z.infer<typeof ProviderAllocationNeed>;

/**
 * A provider allocation record's needs in that one shape, however they were stored: the accepted and
 * declined events carry bare domains, and records written before 2026-11-29 hold them so.
 */
export function providerAllocationNeeds(stored: unknown): ProviderAllocationNeed[] | undefined {
  if (!Array.isArray(stored)) return undefined;
  return stored.flatMap((need: unknown): ProviderAllocationNeed[] => {
    if (typeof need === 'string') return [{ domain: need as ProviderAllocationNeed['domain'] }];
    if (typeof need !== 'object' || need === null || typeof (need as { domain?: unknown }).domain !== 'string') return [];
    const { domain, level } = need as { domain: ProviderAllocationNeed['domain']; level?: unknown };
    return [{ domain, ...(typeof level === 'string' ? { level: level as ProviderAllocationNeed['level'] } : {}) }];
  });
}

export const Gap = z.object({ domain: NeedDomain, reason: z.enum(GAP_REASONS), explanation: z.string(), recordedAt: IsoDateTime });
export type Gap = z.infer<typeof Gap>;

export const Deadline = z.object({
  deadlineId: z.string(),
  command: z.enum(['assessment-overdue', 'offer-expired', 'activation-overdue', 'review-due', 'review-overdue', 'no-contact', 'follow-up-due']),
  dueAt: IsoDateTime,
  ref: z.string().optional().describe('What the deadline is about: an allocation id, a review number, a follow-up month'),
});
export type Deadline = z.infer<typeof Deadline>;

/** A team lead who picked an escalation up: her token's subject and name claim, and when. */
export const EscalationAcknowledgement = z.object({ by: z.string(), byName: z.string().optional(), at: IsoDateTime });
export const Escalation = z.object({ kind: z.string(), raisedAt: IsoDateTime, ref: z.string().optional(), resolvedAt: IsoDateTime.optional(), acknowledged: EscalationAcknowledgement.optional() });
export type Escalation = z.infer<typeof Escalation>;

export const Review = z.object({
  reviewNumber: z.number().int().min(1),
  date: IsoDate,
  scores: z.partialRecord(NeedDomain, Score),
  outcome: z.enum(REVIEW_OUTCOMES),
  participantWords: z.string().optional(),
  attendees: z.array(z.object({ role: z.enum(REVIEW_ATTENDEE_ROLES), providerId: ProviderId.optional() })).default([]),
  /** How many of the plan's contacts had been recorded by this review: the next review counts from here. */
  contactsCounted: z.number().int().min(0).default(0),
  attendance: z.object({ attended: z.number().int(), missed: z.number().int(), cancelled: z.number().int() }),
  recordedAt: IsoDateTime,
});
export const ContactCorrection = z.object({
  previous: z.object({ date: IsoDate, kind: z.enum(CONTACT_KINDS) }).describe('The session as it read before this correction'),
  withdrawn: z.boolean(),
  reason: ContactCorrectionReason,
  at: IsoDateTime,
});
export const Contact = z.object({
  allocationId: AllocationId,
  providerId: ProviderId,
  date: IsoDate,
  kind: z.enum(CONTACT_KINDS),
  recordedAt: IsoDateTime,
  /** Withdrawn by its provider (recorded twice, no such session): kept, so numbering and history hold, and counted nowhere. */
  withdrawnAt: IsoDateTime.optional(),
  corrections: z.array(ContactCorrection).optional(),
});
export const FollowUpCorrection = z.object({
  previous: z.enum(REOFFENDED).describe('The answer before this correction'),
  reason: FollowUpCorrectionReason,
  note: z.string().optional(),
  at: IsoDateTime,
});
export const FollowUp = z.object({
  month: FollowUpMonth,
  reoffended: z.enum(REOFFENDED).describe('The answer as it stands, after any corrections'),
  recordedAt: IsoDateTime,
  corrections: z.array(FollowUpCorrection).optional().describe('Each correction in order, with the answer it replaced'),
});

export const PlanEvent = z.object({
  id: z.string().describe('Unique event id; consumers dedupe on it'),
  type: z.string().describe('Versioned event type, e.g. allocation.offered.v1'),
  time: IsoDateTime,
  planId: PlanId,
  sequence: z.number().int().min(1).describe('Per-plan order'),
  providerId: ProviderId.optional().describe('Set when the event is addressed to one provider'),
  data: z.record(z.string(), z.unknown()),
});
export type PlanEvent = z.infer<typeof PlanEvent>;

export const AppliedCommand = z.object({
  key: z.string(),
  command: z.string(),
  fingerprint: z.string(),
  version: z.number().int(),
  status: z.number().int(),
});
export type AppliedCommand = z.infer<typeof AppliedCommand>;

/** A consent as stored: plans recorded before providers could be named have no `providers` (read as all). */
export const StoredConsentScope = z.object({ shareWithProviders: z.boolean(), dataCategories: z.array(z.enum(DATA_CATEGORIES)), providers: ConsentProviders.optional() });
/**
 * How many replaced consents a plan keeps. Only real changes take a place (a re-confirmation is a date
 * on the consent it confirms), so 30 is more than an 18-month plan sees. At its largest (50 provider
 * ids of 63 characters, its note and its last re-confirmation's note of 500 3-byte characters each, and
 * that re-confirmation's method) one is under 6.7 KB: 30 stay under 201 KB of DynamoDB's 400 KB item, as uncompressed JSON
 * (test/unit/change-consent.test.ts measures it). Past 30 the oldest
 * goes, and `previousDropped` counts it: never silently; each change's event stays in the history.
 */
export const MAX_REPLACED_CONSENTS = 30;
export const ReplacedConsent = z.object({
  scope: StoredConsentScope,
  givenAt: IsoDate,
  method: z.enum(CONSENT_METHODS),
  recordedAt: IsoDateTime,
  replacedAt: IsoDateTime.describe('When a change of consent replaced it'),
  note: z.string().optional(),
  reconfirmedAt: IsoDate.optional().describe('When she last gave it again before it was replaced'),
  reconfirmedMethod: z.enum(CONSENT_METHODS).optional().describe('How she gave it again on reconfirmedAt (absent on plans from before it was kept)'),
  /** That re-confirmation's note: free text, on the plan only; redacted at erasure. */
  reconfirmedNote: z.string().optional(),
});

export const Plan = z.object({
  planId: PlanId,
  participantId: z.string().describe('Pseudonymous id of the identity record, kept apart from the plan'),
  stage: Stage,
  version: z.number().int().min(1),
  createdAt: IsoDateTime,
  updatedAt: IsoDateTime,
  ageAtReferral: z.number().int().min(0).max(130),
  referral: z.object({ source: ReferralSource, localAuthority: LocalAuthority, urgency: z.enum(['routine', 'urgent']), note: z.string().optional(), receivedAt: IsoDateTime }),
  consent: z
    .object({
      scope: StoredConsentScope,
      givenAt: IsoDate,
      method: z.enum(CONSENT_METHODS),
      recordedAt: IsoDateTime,
      /** change-consent's note: free text, on the plan only, never in events; redacted at erasure. */
      note: z.string().optional(),
      withdrawnAt: IsoDateTime.optional(),
      previous: z
        .array(ReplacedConsent)
        .optional()
        .describe(`The consents this one replaced, oldest first (the last ${MAX_REPLACED_CONSENTS} kept): what she agreed to, when`),
      previousDropped: z.number().int().min(1).optional().describe(`How many replaced consents older than the last ${MAX_REPLACED_CONSENTS} are no longer kept (their changes stay in the history)`),
      reconfirmedAt: IsoDate.optional().describe('When she last gave this same consent again (a re-confirmation changes nothing else and takes no place in previous)'),
      reconfirmedMethod: z.enum(CONSENT_METHODS).optional().describe('How she gave it again on reconfirmedAt: written, verbal or digital (absent on plans from before it was kept)'),
      /** A re-confirmation's note (the latest): free text, on the plan only, never in events; redacted at erasure. */
      reconfirmedNote: z.string().optional(),
    })
    .optional(),
  assessedAt: IsoDateTime.optional(),
  activatedAt: IsoDateTime.optional(),
  /** Set when a coordinator activated the plan before every priority need was accepted: the override and its reason. */
  manualActivation: z.object({ reason: z.string(), at: IsoDateTime, unmetNeeds: z.array(NeedDomain) }).optional(),
  needs: z.array(PlanNeed),
  risks: Risks.optional(),
  adjustments: z.array(z.enum(ADJUSTMENTS)),
  allocations: z.array(Allocation),
  allocationCounter: z.number().int().min(0),
  gaps: z.array(Gap),
  reviews: z.array(Review),
  reviewEveryDays: z.number().int().min(7).max(91),
  /** When the next review is due: a working day at close of business (calendar.ts reviewDates); its reminder and escalation are set from the same dates. */
  reviewDueAt: IsoDateTime.optional(),
  contacts: z.array(Contact),
  escalations: z.array(Escalation),
  exit: z.object({ reason: z.union([ExitReason, z.literal('consent-withdrawn')]), exitedAt: IsoDateTime, note: z.string().optional() }).optional(),
  withdrawal: z.object({ reason: z.enum(WITHDRAW_REASONS), at: IsoDateTime, note: z.string().optional() }).optional(),
  /** What the coordinator typed when her consent was withdrawn (withdraw-consent's note): free text, on the plan only, never in events; redacted at erasure. */
  consentWithdrawalNote: z.string().optional(),
  followUps: z.array(FollowUp),
  closedAt: IsoDateTime.optional(),
  /** When her identity was erased (on request, or at the end of the retention period); the plan stays, pseudonymous. */
  identityErasedAt: IsoDateTime.optional(),
  /** Earlier plans of the same woman (a re-referral links them). */
  previousPlanIds: z.array(PlanId).default([]),
  /** Reminders already sent, so a repeat of the same wait escalates instead of reminding again. */
  remindersSent: z.array(z.string()).default([]),
  deadlines: z.array(Deadline),
  sequence: z.number().int().min(0),
  /** The execution that wrote this version: lets a retried save recognise its own landed write. */
  writtenBy: z.string().optional(),
  outbox: z.array(PlanEvent),
  applied: z.array(AppliedCommand),
});
export type Plan = z.infer<typeof Plan>;
