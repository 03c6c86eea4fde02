import * as z from 'zod';
import { FOLLOW_UPS_LAPSE_MONTHS } from './follow-ups.ts';
import { Stage } from './lifecycle.ts';
import {
  AllocationId,
  CONTACT_KINDS,
  ContactCorrectionReason,
  DATA_CATEGORIES,
  DECLINE_REASONS,
  EscalationRef,
  END_OUTCOMES,
  EXIT_REASONS,
  FollowUpCorrectionReason,
  FollowUpMonth,
  GAP_REASONS,
  IsoDate,
  IsoDateTime,
  NeedLevel,
  PlanId,
  ProviderId,
  PurgeInstruction,
  REVIEW_ATTENDEE_ROLES,
  Score,
  ServiceId,
  WITHDRAW_REASONS,
} from './schemas.ts';
import { LocalAuthority, NeedDomain, ReferralSource } from './taxonomy.ts';
import { CONSENT_METHODS, CONSENT_PROVIDER_KINDS, ESCALATION_KINDS, REOFFENDED, REVIEW_OUTCOMES } from './vocabulary.ts';

/**
 * The event catalogue: every event type decide() and the Allocate providers step emit, with a zod
 * schema of its `data`. Events leave the system as CloudEvents 1.0 in structured JSON mode (see
 * toCloudEvent in lib/adapters/events/publisher.ts); schemas/events/<type>.json and docs/events.md
 * are rendered from here by scripts/render-events.ts.
 *
 * Every `data` schema is a strictObject, so a field added in decide() without being catalogued here
 * fails the tests instead of slipping out to a provider. Provider-facing events (sent with a
 * providerId, routed to that provider's webhook and feed) are thin: a pseudonymous plan reference,
 * the allocation, what that provider needs to act, never a name, a date of birth or offence detail.
 */

export type Audience = 'provider' | 'programme';

export interface EventEntry {
  /** `provider`: addressed to one provider (the envelope carries `providerid`); `programme`: coordinators and team leads only. */
  readonly audience: Audience;
  readonly description: string;
  readonly data: z.ZodType;
}

/** `<entity>.<what happened>.v<major>`: a breaking change to `data` is a new major version, a new type. */
export const EVENT_TYPE_PATTERN = /^[a-z][a-z-]*(\.[a-z][a-z-]*)+\.v[1-9][0-9]*$/;

// ---------------------------------------------------------------------------------------------
// Pieces shared by several events

const planRef = PlanId.describe('Pseudonymous plan reference: no identity, fetch detail through the API');
const allocationId = AllocationId.describe('The allocation this event is about');
const serviceId = ServiceId.describe('The provider service the allocation is with');
const providerId = ProviderId.describe('The provider holding the allocation');
const needDomains = z.array(NeedDomain);

/** Why allocations are withdrawn (open offers) or ended (accepted ones) by the programme rather than by the provider. */
/** Providers are told the plan ended, never why (an exit into custody is offence information). */
export const RELEASE_REASONS = ['replaced-by-manual-offer', 'needs-closed', 'plan-exited'] as const;
const ReleaseReason = z.enum(RELEASE_REASONS).describe('Why the programme released the allocation');

const escalationRef = EscalationRef.optional()
  .describe('The review number for review-overdue, the need domain for coverage-gap, the allocation id for offer-unanswered');

// ---------------------------------------------------------------------------------------------
// Provider-facing: emitted with a providerId, delivered to that provider only

const AllocationOffered = z.strictObject({
  planRef,
  allocationId,
  serviceId,
  needs: z
    .array(
      z.strictObject({
        domain: NeedDomain,
        level: NeedLevel,
      }),
    )
    .describe('The open needs offered to this provider, and no others'),
  lead: z.boolean().describe('This provider would be the key worker'),
  respondBy: IsoDateTime.describe('Accept or decline by then, or the offer expires'),
  detail: z
    .string()
    .regex(/^\/allocations\/al_[a-z0-9]{10,40}_[0-9]{1,4}$/)
    .describe('API path to fetch the allocation detail: goals, and risks and adjustments where consent covers them (authenticated, audited)'),
});

const AllocationAccepted = z.strictObject({ planRef, allocationId, serviceId, providerId, needs: needDomains.describe('The needs the provider took on') });

const AllocationDeclined = z.strictObject({
  planRef,
  allocationId,
  serviceId,
  providerId,
  reason: z.enum(DECLINE_REASONS),
  needs: needDomains.describe('The needs that go to the next candidate'),
});

const AllocationExpired = z.strictObject({ planRef, allocationId, serviceId });

const AllocationWithdrawn = z.strictObject({ planRef, allocationId, reason: ReleaseReason });

const AllocationEnded = z.union([
  z.strictObject({ planRef, allocationId, serviceId, providerId, outcome: z.enum(END_OUTCOMES), endedBy: z.enum(['provider', 'coordinator']) }).describe('Ended by the provider or a coordinator, with its outcome'),
  z.strictObject({ planRef, allocationId, reason: ReleaseReason }).describe('Ended by the programme: the plan exited or the needs it served were closed'),
]);

// The instructions as the allocation keeps them (PurgeInstruction), so its provider's views say the same.
const [StopAndPurge, PurgeCategories] = PurgeInstruction.options;

const ConsentWithdrawn = z.strictObject({
  planRef,
  allocationId,
  instruction: StopAndPurge.shape.instruction,
});

const ConsentNarrowed = z.strictObject({
  planRef,
  allocationId,
  withdrawnCategories: PurgeCategories.shape.withdrawnCategories,
  instruction: PurgeCategories.shape.instruction,
});

// ---------------------------------------------------------------------------------------------
// Programme: coordinators, team leads and the programme's own consumers

const PlanReferred = z.strictObject({
  planRef,
  source: ReferralSource,
  localAuthority: LocalAuthority,
  urgency: z.enum(['routine', 'urgent']),
  rereferral: z.boolean().describe('The same woman has earlier plans (linked by a keyed hash of identity, never by identity itself)'),
});

const providersKind = z.enum(CONSENT_PROVIDER_KINDS).describe('all: any provider; only: only those she named; all-except: all but those she named');
const providersNamed = z.number().int().min(0).describe('How many providers she named (0 for all)');

/** providersKind and providersNamed were added later, optional so events recorded before them still read (an addition, not a new version). */
const ConsentRecorded = z.strictObject({
  planRef,
  shareWithProviders: z.boolean(),
  dataCategories: z.array(z.enum(DATA_CATEGORIES)),
  providersKind: providersKind.optional(),
  providersNamed: providersNamed.optional(),
  method: z.enum(CONSENT_METHODS),
});

/**
 * The minimum: what kind of provider scope, and how many named, never which (provider ids are not
 * for other providers, nor for the programme's consumers), and never the coordinator's note.
 */
const ConsentChanged = z.strictObject({
  planRef,
  shareWithProviders: z.boolean(),
  dataCategories: z.array(z.enum(DATA_CATEGORIES)),
  providersKind,
  providersNamed,
  method: z.enum(CONSENT_METHODS),
  reconfirmed: z.boolean().describe('The same scope as before, given again: no offer or allocation was touched'),
  backToAllocating: z.boolean().optional().describe('The change took an active plan back to allocating: a priority need lost its provider, or can now be offered (absent on re-confirmations and on events recorded before it was added)'),
});

const PlanWithdrawn = z.strictObject({ planRef, reason: z.enum(WITHDRAW_REASONS) });

const AssessmentSubmitted = z.strictObject({
  planRef,
  needs: z.array(z.strictObject({ domain: NeedDomain, level: NeedLevel, priority: z.boolean() })),
});

const AllocationProposed = z.strictObject({
  planRef,
  offers: z.array(z.strictObject({ providerId: ProviderId, serviceId: ServiceId, needs: needDomains, why: z.string().describe('Why this provider was chosen') })),
  gaps: z.array(
    z.strictObject({
      domain: NeedDomain,
      reason: z.enum(GAP_REASONS),
      explanation: z.string(),
      recordedAt: IsoDateTime.optional(),
    }),
  ),
});

const PlanActivated = z.strictObject({
  planRef,
  manual: z.boolean().describe('A coordinator activated it before every priority need was accepted'),
  firstActivation: z.boolean(),
  unmetNeeds: needDomains,
});

const ContactRecorded = z.strictObject({ planRef, allocationId, serviceId, providerId, date: IsoDate, kind: z.enum(CONTACT_KINDS) });

const ContactCorrected = z.strictObject({
  planRef,
  allocationId,
  serviceId,
  providerId,
  session: z.number().int().min(1).describe("The session's number on the allocation (1 = the first recorded)"),
  previous: z.strictObject({ date: IsoDate, kind: z.enum(CONTACT_KINDS) }).describe('The session as it read before: kept here, so the history holds every version'),
  date: IsoDate.describe('The session as it reads now (unchanged when withdrawn)'),
  kind: z.enum(CONTACT_KINDS),
  withdrawn: z.boolean().describe('The session no longer counts anywhere: recorded twice, or no such session'),
  reason: ContactCorrectionReason,
});

const ReviewDue = z.strictObject({
  planRef,
  reviewNumber: z.number().int().min(1),
  dueAt: IsoDateTime.optional(),
});

const ReviewRecorded = z.strictObject({
  planRef,
  reviewNumber: z.number().int().min(1),
  outcome: z.enum(REVIEW_OUTCOMES),
  scores: z.partialRecord(NeedDomain, Score),
  attendance: z.strictObject({ attended: z.number().int().min(0), missed: z.number().int().min(0), cancelled: z.number().int().min(0) }),
  attendees: z.array(z.enum(REVIEW_ATTENDEE_ROLES)).describe('The roles that took part; never who'),
});

const PlanAdjusted = z.strictObject({ planRef, addedNeeds: needDomains, closedNeeds: needDomains });

const PlanEscalated = z.strictObject({
  planRef,
  kind: z.enum(ESCALATION_KINDS),
  ref: escalationRef,
  stage: Stage,
  repeated: z.boolean().describe('The same escalation was already open: nobody has acted yet'),
});

const PlanExited = z.strictObject({ planRef, reason: z.enum([...EXIT_REASONS, 'consent-withdrawn']) });

const FollowUpRecorded = z.strictObject({
  planRef,
  month: FollowUpMonth,
  reoffended: z.enum(['yes', 'no', 'unknown']),
});

const FollowUpDue = z.strictObject({ planRef, month: FollowUpMonth });

/** Who picked it up stays on the plan (staff name and id), not in the event. */
const EscalationAcknowledged = z.strictObject({ planRef, kind: z.enum(ESCALATION_KINDS), ref: escalationRef });

const FollowUpCorrected = z.strictObject({
  planRef,
  month: FollowUpMonth,
  previous: z.enum(REOFFENDED).describe('The answer recorded until now: kept here, so the history holds every answer given'),
  reoffended: z.enum(REOFFENDED).describe('The corrected answer'),
  reason: FollowUpCorrectionReason,
});

const FollowUpsCancelled = z.strictObject({
  planRef,
  months: z.array(FollowUpMonth).min(1).describe('The follow-ups that were still due and will not be asked'),
  reason: z.literal('consent-withdrawn'),
});

const PlanClosed = z.strictObject({ planRef });

// ---------------------------------------------------------------------------------------------

export const EVENT_CATALOGUE = {
  'allocation.offered.v1': { audience: 'provider', description: 'A provider is offered needs of a plan and must accept or decline by respondBy.', data: AllocationOffered },
  'allocation.accepted.v1': { audience: 'provider', description: 'The provider accepted the offer; the allocation is now its to work.', data: AllocationAccepted },
  'allocation.declined.v1': { audience: 'provider', description: 'The provider declined the offer with a coded reason; its needs go to the next candidate.', data: AllocationDeclined },
  'allocation.expired.v1': { audience: 'provider', description: 'The offer was not answered by respondBy and is no longer open.', data: AllocationExpired },
  'allocation.withdrawn.v1': { audience: 'provider', description: 'The programme withdrew an open offer (replaced by a manual offer, needs closed, or the plan exited).', data: AllocationWithdrawn },
  'allocation.ended.v1': { audience: 'provider', description: 'An accepted allocation ended: by the provider or a coordinator with an outcome, or by the programme.', data: AllocationEnded },
  'plan.consent-withdrawn.v1': {
    audience: 'provider',
    description:
      'Consent was withdrawn, or changed so that it no longer covers this provider: stop processing and purge everything held about the plan. Sent for every allocation the provider ever had of the plan (an open offer is withdrawn, an accepted allocation ended, with outcome consent-withdrawn).',
    data: ConsentWithdrawn,
  },
  'plan.consent-narrowed.v1': {
    audience: 'provider',
    description:
      'Her consent no longer covers some data categories (her contact details, say) that this provider may already have read: delete what you hold of them. Sent to each provider her consent still covers with an open offer or accepted allocation; the allocation goes on.',
    data: ConsentNarrowed,
  },
  'plan.referred.v1': { audience: 'programme', description: 'A referral was taken and a plan created.', data: PlanReferred },
  'plan.consent-recorded.v1': { audience: 'programme', description: 'Consent was recorded, with what may be shared with providers.', data: ConsentRecorded },
  'plan.consent-changed.v1': {
    audience: 'programme',
    description: 'Her consent was changed (or given again unchanged): what may now be shared, and with how many named providers. Providers it no longer covers are sent plan.consent-withdrawn.v1.',
    data: ConsentChanged,
  },
  'plan.withdrawn.v1': { audience: 'programme', description: 'A referral was withdrawn before it became a plan.', data: PlanWithdrawn },
  'plan.assessment-submitted.v1': { audience: 'programme', description: 'The holistic needs assessment was recorded.', data: AssessmentSubmitted },
  'plan.allocation-proposed.v1': { audience: 'programme', description: 'The engine proposed offers for unallocated needs and recorded the gaps, each with its reason.', data: AllocationProposed },
  'plan.activated.v1': { audience: 'programme', description: 'The plan became active, automatically or by a coordinator, with any unmet needs.', data: PlanActivated },
  'contact.recorded.v1': { audience: 'programme', description: 'A provider recorded a session attended, missed or cancelled.', data: ContactRecorded },
  'contact.corrected.v1': {
    audience: 'programme',
    description: "A provider corrected a session's date or kind, or withdrew it (recorded twice, no such session), with a coded reason; the session as it read before is in the event.",
    data: ContactCorrected,
  },
  'review.due.v1': { audience: 'programme', description: 'A review checkpoint is coming up: a reminder for the coordinator.', data: ReviewDue },
  'review.recorded.v1': { audience: 'programme', description: 'A review checkpoint was recorded with scores, attendance and outcome.', data: ReviewRecorded },
  'plan.adjusted.v1': { audience: 'programme', description: 'A review added or closed needs.', data: PlanAdjusted },
  'plan.escalated.v1': { audience: 'programme', description: 'A wait passed its deadline: escalated to the team lead (repeats until someone acts).', data: PlanEscalated },
  'plan.exited.v1': { audience: 'programme', description: 'The plan exited with a reason; follow-ups are now due at 6 and 12 months (none when the reason is consent-withdrawn: the plan closes at once).', data: PlanExited },
  'follow-up.due.v1': { audience: 'programme', description: 'A 6- or 12-month follow-up is due: a reminder for the coordinator (escalated if it stays unrecorded).', data: FollowUpDue },
  'follow-up.recorded.v1': {
    audience: 'programme',
    description: `A 6- or 12-month follow-up outcome was recorded: by the coordinator, or as unknown by the follow-up timer when nobody recorded it within ${FOLLOW_UPS_LAPSE_MONTHS} months of the 12-month one falling due.`,
    data: FollowUpRecorded,
  },
  'plan.escalation-acknowledged.v1': { audience: 'programme', description: 'A team lead picked up an open escalation; it stays open until what it is about is resolved.', data: EscalationAcknowledged },
  'follow-up.corrected.v1': { audience: 'programme', description: 'A recorded follow-up outcome was corrected, with a coded reason; the answer it replaced is in the event.', data: FollowUpCorrected },
  'plan.follow-ups-cancelled.v1': { audience: 'programme', description: 'Consent was withdrawn after exit: the follow-ups still due will not be asked.', data: FollowUpsCancelled },
  'plan.closed.v1': {
    audience: 'programme',
    description: `Both follow-ups are recorded (those nobody recorded within ${FOLLOW_UPS_LAPSE_MONTHS} months of the 12-month one falling due, as unknown), consent was withdrawn, or her identity was erased before they could be asked; the plan is closed and its retention period starts.`,
    data: PlanClosed,
  },
} as const satisfies Record<string, EventEntry>;

export type EventType = keyof typeof EVENT_CATALOGUE;
export type EventData<T extends EventType> = z.infer<(typeof EVENT_CATALOGUE)[T]['data']>;
export const EVENT_TYPES = Object.keys(EVENT_CATALOGUE) as EventType[];

export const isEventType = (type: string): type is EventType => Object.hasOwn(EVENT_CATALOGUE, type);

// ---------------------------------------------------------------------------------------------
// The CloudEvents 1.0 envelope, as toCloudEvent() produces it

const envelope = {
  specversion: z.literal('1.0').describe('CloudEvents specification version'),
  id: z.string().min(1).describe('Unique event id; a redelivery keeps it, so consumers dedupe on it'),
  source: z.string().min(1).describe('The emitting system (EVENT_SOURCE, `wraparound` by default)'),
  type: z.string().regex(EVENT_TYPE_PATTERN).describe('Versioned event type, e.g. allocation.offered.v1'),
  subject: PlanId.describe('Pseudonymous plan reference (the same as data.planRef)'),
  time: IsoDateTime.describe('When the change happened'),
  datacontenttype: z.literal('application/json').describe('`data` is JSON'),
  sequence: z
    .string()
    .regex(/^[0-9]{10,}$/)
    .describe('Extension: the event’s position in its plan, zero-padded to 10 digits so it also sorts as text; order by it per subject'),
};
const providerid = ProviderId.describe('Extension: the provider the event is addressed to');

/** Any event this system publishes. */
export const CloudEventEnvelope = z.strictObject({ ...envelope, providerid: providerid.optional(), data: z.record(z.string(), z.unknown()) });
export type CloudEventEnvelope = z.infer<typeof CloudEventEnvelope>;

/** The full CloudEvent of one type: provider-facing events must carry `providerid`, programme events must not. */
export function cloudEventSchema<T extends EventType>(type: T) {
  const entry: EventEntry = EVENT_CATALOGUE[type];
  const schema = z.strictObject({
    ...envelope,
    type: z.literal(type).describe(envelope.type.description ?? ''),
    ...(entry.audience === 'provider' ? { providerid } : {}),
    data: entry.data,
  });
  return schema.meta({ title: type, description: `${entry.description} (audience: ${entry.audience})` });
}

// ---------------------------------------------------------------------------------------------
// The webhook test: not a plan event (no plan, no sequence), so not in the catalogue decide() is held to

export const WEBHOOK_TEST_EVENT_TYPE = 'webhook.test.v1';

/**
 * What POST /providers/{providerId}/subscriptions/{subscriptionId}/test sends: the same envelope and
 * signature as every delivery, addressed to the provider, with no `subject` or `sequence` (it belongs
 * to no plan) and no plan data. A receiver can verify it and answer 2xx; acting on it is a mistake.
 */
export const WebhookTestEvent = z
  .strictObject({
    specversion: envelope.specversion,
    id: envelope.id,
    source: envelope.source,
    type: z.literal(WEBHOOK_TEST_EVENT_TYPE).describe('A test delivery: verify its signature and answer 2xx; it is about no plan'),
    time: envelope.time,
    datacontenttype: envelope.datacontenttype,
    providerid,
    data: z.strictObject({
      test: z.literal(true),
      subscriptionId: z.string().describe('The subscription the test was sent to'),
    }),
  })
  .meta({ title: WEBHOOK_TEST_EVENT_TYPE, description: 'A test delivery a provider or a team lead asked for, to check the receiver verifies and accepts deliveries; it carries no plan data (audience: provider)' });
export type WebhookTestEvent = z.infer<typeof WebhookTestEvent>;

export function webhookTestEvent(input: { id: string; source: string; providerId: string; subscriptionId: string; time: string }): WebhookTestEvent {
  return {
    specversion: '1.0',
    id: input.id,
    source: input.source,
    type: WEBHOOK_TEST_EVENT_TYPE,
    time: input.time,
    datacontenttype: 'application/json',
    providerid: input.providerId,
    data: { test: true, subscriptionId: input.subscriptionId },
  };
}
