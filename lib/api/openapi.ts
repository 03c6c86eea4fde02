import * as z from 'zod';
import { AccessPurpose, AuditQuery, ErasePayload, EscalationQuery, ExpectedVersion, IdempotencyKey, PlanListQuery } from './request-schemas.ts';
import { IfMatch } from './if-match.ts';
import { createDocument, type oas31, type ZodOpenApiOperationObject, type ZodOpenApiPathsObject, type ZodOpenApiResponsesObject } from 'zod-openapi';
import { MAX_AUDIT_DAYS } from '../domain/vocabulary.ts';
import { HIGHER_RISK_SCORE } from '../domain/views.ts';
import { FOLLOW_UPS_LAPSE_MONTHS } from '../domain/follow-ups.ts';
import { COMMAND_NAMES, LIFECYCLE, nextInWords, OPEN_STAGES, Stage, TIMER_COMMANDS, type CommandName } from '../domain/lifecycle.ts';
import { REDACTED } from '../domain/redaction.ts';
import { NeedDomain } from '../domain/taxonomy.ts';
import {
  Address,
  AllocationId,
  AllocationStatus,
  ContactDetails,
  IdentityCorrection,
  COMMAND_PAYLOADS,
  CONTACT_KINDS,
  Escalation,
  EscalationAcknowledgement,
  ExitReason,
  IsoDate,
  IsoDateTime,
  NeedLevel,
  NeedStatus,
  Participant,
  PossibleDuplicateProblem,
  ReferralOpenPlan,
  Plan,
  PlanId,
  ProviderAllocationNeed,
  ProviderId,
  PurgeInstruction,
  ReferPayload,
  ReferralDetailsReport,
  Risks,
  ADJUSTMENTS,
} from '../domain/schemas.ts';
import { routeKey, ROUTES, type Route } from './routes.ts';
import { PROVIDER_EXPECTED_VERSION_RULE } from './provider-allocation-access.ts';
import { DirectoryListQuery, DirectoryServiceIdParam, HsdsService, HsdsServicePage, ServiceAvailabilityChange } from '../directory/hsds.ts';
import { FIGURES_INCOMPLETE_HEADER, METRICS_CSV_DESCRIPTION, MetricsReportSchema } from '../domain/metrics/report-schema.ts';
import { MetricsQueryParams } from '../domain/metrics/query.ts';
import { AllocationListQuery, DELIVERY_STATUSES, DeliveryId, DeliveryListQuery, FeedQuery, RotateSecretRequest, SubscribeRequest, SubscriptionId } from '../adapters/dynamodb/webhook-store.ts';
import { WEBHOOK_KEY_HEADER } from '../adapters/events/provider-destinations.ts';
import { WEBHOOK_TEST_EVENT_TYPE } from '../domain/events.ts';
import { TEST_DELIVERY_LIMIT } from './rate-limit.ts';

/**
 * The OpenAPI 3.1 description of the HTTP API, generated from the route table, the lifecycle table
 * and the zod schemas, so it cannot say something the API does not do. The generic command routes
 * are spelled out as one path per command: a client (or a code generator) then sees each body.
 */

// ---------------------------------------------------------------------------------------------
// Response shapes. These mirror lib/domain/views.ts and lib/domain/provider-views.ts, which build
// the values with plain functions; the schemas live here because only the document needs them.

/** views.ts nextReviewOf: overdue from the due date; the escalation to a team lead is a later, separate step. */
const NextReview = z
  .object({
    reviewNumber: z.number().int().min(1),
    dueAt: IsoDateTime.describe('When the review is due: a working day at 17:00 London'),
    overdue: z.boolean().describe('The due date has passed and the review is not recorded'),
    escalateAt: IsoDateTime.describe('When a team lead is told, if it is still not recorded'),
    escalated: z.boolean().describe('A team lead has been told (an open review-overdue escalation)'),
  })
  .nullable();

const PlanView = Plan.omit({ outbox: true, applied: true }).extend({
  participant: Participant.optional().describe('Only for coordinators, read apart from the plan and audited'),
  participantRevision: z
    .number()
    .int()
    .min(0)
    .optional()
    .describe('With participant: the revision of her identity record. Send it quoted as If-Match ("3") with a correction, so one made by someone else since is refused (412), not overwritten'),
  nextDeadline: IsoDateTime.nullable().describe('The earliest live deadline'),
  nextReview: NextReview,
  openEscalations: z.array(Escalation),
  exitSummary: z
    .object({
      reason: z.union([ExitReason, z.literal('consent-withdrawn')]),
      exitedAt: IsoDateTime,
      daysInPlan: z.number().int(),
      daysActive: z.number().int(),
      sessions: z.object({ attended: z.number().int(), missed: z.number().int(), cancelled: z.number().int() }),
      scores: z.partialRecord(NeedDomain, z.object({ first: z.number().int().optional(), last: z.number().int().optional(), change: z.number().int() })),
    })
    .nullable(),
}).meta({ id: 'PlanView', description: 'A plan as coordinators and team leads see it' });

const ReferralCreated = PlanView.extend({
  referralDetails: ReferralDetailsReport.optional().describe(
    'When the referral gave contact details, an address or a preferred name: which were written to her record. A woman referred before keeps a field corrected on her record while the referral was being recorded',
  ),
}).meta({ id: 'ReferralCreated', description: 'The new plan, with her identity and what became of the details the referral gave' });

const PlanSummary = z.object({
  planId: PlanId,
  stage: Stage,
  version: z.number().int().min(1),
  localAuthority: Plan.shape.referral.shape.localAuthority,
  urgency: z.enum(['routine', 'urgent']),
  updatedAt: IsoDateTime,
  nextDeadline: IsoDateTime.nullable(),
  nextActionAt: IsoDateTime.nullable().describe('When the coordinator next has something to do: a deadline, the review due date or a follow-up'),
  nextDue: z
    .object({
      command: z.string(),
      dueAt: IsoDateTime,
      ref: z.string().optional(),
      followUpDueAt: IsoDateTime.optional().describe(
        "follow-up-due: the day that follow-up (ref, its month) fell due, 6 or 12 months after her exit. Once she is reminded, the deadline's dueAt is when the team lead is told",
      ),
      followUpsLapseAt: IsoDateTime.optional().describe(
        `follow-up-due: the day the follow-ups not recorded by then lapse (${FOLLOW_UPS_LAPSE_MONTHS} months after the 12-month one fell due): each is recorded as unknown and the plan closes. A deadline due then closes the plan, not tells the team lead`,
      ),
    })
    .nullable()
    .describe('The next deadline and what it is for'),
  nextReview: NextReview,
  risk: z
    .number()
    .int()
    .min(0)
    .describe('Higher is more worrying: domestic-abuse risk, self-harm, children at risk. For the order only: a risk not assessed counts as the middle of its scale, so a plan assessed without risks scores as a known high one; higherRisk and risksNotAssessed say which'),
  higherRisk: z.boolean().describe(`The risks assessed alone score ${HIGHER_RISK_SCORE} or more (a high domestic-abuse risk, or self-harm with another risk); a risk not assessed never makes it true`),
  risksNotAssessed: z
    .array(Risks.keyof())
    .describe('Once the plan is assessed, the risks its assessment left out (not assessed, which is not none); empty before the assessment'),
  openEscalations: z
    .array(
      z.object({
        kind: z.string(),
        raisedAt: IsoDateTime,
        ref: z.string().optional(),
        offer: z.object({ serviceId: z.string(), providerId: z.string() }).optional().describe('offer-unanswered: the service and provider the offer (ref, the allocation id) went to'),
        acknowledged: EscalationAcknowledgement.optional().describe('The team lead who picked it up, and when'),
      }),
    )
    .describe('Escalations still open'),
}).meta({ id: 'PlanSummary', description: 'A line of the worklist: enough to triage' });

const EscalationList = z.object({
  items: z.array(PlanSummary.extend({ escalations: z.array(z.object({ kind: z.string(), raisedAt: IsoDateTime, ref: z.string().optional(), acknowledged: EscalationAcknowledgement.optional() })) })),
  nextCursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last page'),
}).meta({ id: 'EscalationList', description: 'A page of the plans with open escalations: pages go the longest-open escalation first, each page most urgent first' });

const PlanList = z.object({
  items: z.array(PlanSummary),
  nextCursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last page'),
}).meta({ id: 'PlanList' });

const PlanHistory = z.object({
  planId: PlanId,
  items: z.array(
    z.object({
      id: z.string().describe('Unique event id'),
      sequence: z.number().int().min(1),
      type: z.string().describe('Versioned event type, e.g. allocation.offered.v1'),
      time: IsoDateTime,
      providerId: ProviderId.optional(),
      data: z.record(z.string(), z.unknown()),
    }),
  ),
}).meta({ id: 'PlanHistory' });

/** The instructions the provider's events carried, on each view of the allocation, so staff who read no events are told. */
const PURGE_INSTRUCTIONS = z
  .array(PurgeInstruction)
  .optional()
  .describe(
    'What you were told to delete about her, in order (as plan.consent-withdrawn.v1 and plan.consent-narrowed.v1 said): stop-processing-and-purge, delete everything you hold from this allocation; purge-withdrawn-categories, delete what you hold of those categories. Absent when nothing was asked',
  );

const ProviderAllocationView = z
  .object({
    planRef: PlanId,
    allocationId: AllocationId,
    serviceId: z.string(),
    status: AllocationStatus,
    lead: z.boolean(),
    offeredAt: IsoDateTime,
    respondBy: IsoDateTime,
    respondedAt: IsoDateTime.optional().describe('When you accepted or declined it'),
    expiredAt: IsoDateTime.optional().describe('When the offer expired, unanswered by respondBy'),
    endedAt: IsoDateTime.optional(),
    outcome: z.string().optional(),
    purgeInstructions: PURGE_INSTRUCTIONS,
    needs: z.array(
      z.object({
        domain: NeedDomain,
        level: NeedLevel.optional(),
        status: NeedStatus.optional(),
        goals: z.array(z.string()).optional().describe('Only when consent shares needs'),
      }),
    ),
    adjustments: z.array(z.enum(ADJUSTMENTS)).optional().describe('Only when consent shares adjustments'),
    risks: Risks.optional().describe('Only when consent shares risks; a risk left out of it was not assessed (not none)'),
    contacts: z.array(
      z.object({
        session: z.number().int().min(1).describe('Its number on the allocation, in the order recorded: what correct-contact names'),
        date: IsoDate,
        kind: z.enum(CONTACT_KINDS),
        withdrawnAt: IsoDateTime.optional().describe('Withdrawn by the provider (recorded twice, no such session): it counts nowhere'),
        corrected: z.literal(true).optional().describe('Its date or kind was corrected; the plan history has each earlier version'),
      }),
    ),
  })
  .meta({ id: 'ProviderAllocationView', description: "A provider's view of one allocation: never identity, never other providers' parts" });

const ProviderOffers = z.object({
  items: z.array(
    z.object({
      providerId: ProviderId,
      allocationId: AllocationId,
      planRef: PlanId,
      status: z.literal('offered'),
      serviceId: z.string().optional(),
      needs: z.array(ProviderAllocationNeed).optional().describe('The needs of the allocation: each its domain, and its level where the offer said it'),
      respondBy: IsoDateTime.optional(),
      lead: z.boolean().optional(),
      purgeInstructions: PURGE_INSTRUCTIONS,
      sequence: z.number().int(),
      updatedAt: IsoDateTime,
    }),
  ),
}).meta({ id: 'ProviderOffers' });

// Provider delivery: allocations held, the pull feed, webhook subscriptions and their deliveries
// (mirroring the views in functions/api-providers/handler.ts).

const ProviderAllocationList = z.object({
  items: z.array(ProviderOffers.shape.items.element.extend({ status: AllocationStatus })),
  nextCursor: z.string().nullable().describe('Pass as `cursor` (with the same status) for the next page; null on the last page. A page may be short when few match the status'),
}).meta({ id: 'ProviderAllocationList', description: 'A page of the allocations offered to the provider, with their status, by allocation id (plan, then its number on the plan)' });

const FeedCloudEvent = z.object({
  specversion: z.literal('1.0'),
  id: z.string().describe('Event id: the same in the feed and in webhooks; dedupe on it'),
  source: z.string(),
  type: z.string().describe('Versioned event type, e.g. allocation.offered.v1'),
  subject: PlanId.describe('The pseudonymous plan reference'),
  time: IsoDateTime,
  datacontenttype: z.literal('application/json'),
  sequence: z.string().regex(/^[0-9]{10}$/).describe("The event's place in its plan, zero-padded: order per plan"),
  providerid: ProviderId,
  data: z.record(z.string(), z.unknown()),
}).meta({ id: 'CloudEvent', description: 'A provider event as a CloudEvents 1.0 structured JSON object (the webhook body is the same)' });

const ProviderFeed = z.object({
  items: z.array(FeedCloudEvent),
  cursor: z.string().nullable().describe('Pass as `after` to read on; when there was nothing new, the same position to poll again with (null only before the first event)'),
  more: z.boolean().describe('Whether more events may follow right away'),
}).meta({ id: 'ProviderFeed', description: "The provider's events in feed order: write time, then each plan's own sequence. At least once: dedupe on id" });

const SubscriptionView = z.object({
  subscriptionId: SubscriptionId,
  providerId: ProviderId,
  url: z.string(),
  status: z.enum(['active', 'disabled']),
  createdAt: IsoDateTime,
  disabledAt: IsoDateTime.optional(),
  disabledReason: z.string().optional().describe('Why it was disabled, e.g. the receiver answered 410 Gone'),
  rotatedAt: IsoDateTime.optional().describe('When its secret was last rotated'),
  overlapEndsAt: IsoDateTime.optional().describe('While a rotation overlaps: until then every delivery is also signed with the secret before it'),
}).meta({ id: 'WebhookSubscription', description: 'A webhook subscription, never its secret' });

const SubscriptionCreated = SubscriptionView.extend({
  secret: z.string().regex(/^whsec_/).describe('The Standard Webhooks signing secret: shown only in this answer, keep it'),
}).meta({ id: 'WebhookSubscriptionCreated' });

const SignedWebhookSubscriptions = z
  .object({
    delivery: z.literal('signed-webhooks').describe('Events go to the subscribed URL, signed with its secret: the embedded stack'),
    items: z.array(SubscriptionView),
  })
  .meta({ id: 'WebhookSubscriptionList' });

const DeployConfiguredDestination = z
  .object({
    delivery: z.literal('deploy-configured').describe('Events go where the deploy configured: AWS, where these routes create, rotate and remove nothing'),
    items: z.array(SubscriptionView).max(0).describe('Always empty: there is no subscription on AWS'),
    destination: z
      .object({
        providerId: ProviderId,
        endpoint: z.string().describe("Where EventBridge POSTs the provider's events (the CloudEvent is the body), from the deploy's providerWebhooks"),
        placeholder: z.boolean().describe('True while no URL is configured: the endpoint is on the reserved .invalid domain, so its events are retried, dead-lettered and alarmed on, and never leave AWS'),
        keyHeader: z.literal(WEBHOOK_KEY_HEADER).describe("The header every request carries the provider's API key in. The key is never shown here: operators hand it to the provider from Secrets Manager"),
      })
      .meta({ id: 'ProviderDestination', description: "A provider's EventBridge API destination, as the deploy set it" }),
    detail: z.string().describe('How delivery works there, and how an operator changes the URL (a deploy with -c providerWebhooks) and the key (Secrets Manager and the EventBridge connection)'),
  })
  .meta({ id: 'DeployConfiguredDestination' });

// A plain union (each side's `delivery` literal tells them apart): OpenAPI's discriminator keyword is not JSON Schema.
const SubscriptionList = z.union([SignedWebhookSubscriptions, DeployConfiguredDestination]).meta({
  id: 'ProviderSubscriptions',
  description: "How the provider's events reach it: its subscriptions on the embedded stack; on AWS the destination set at deploy",
});

/**
 * Added to the description of the routes that behave otherwise on AWS, where provider events go to
 * EventBridge API destinations set at deploy (functions/api-providers/handler.ts).
 */
const ON_AWS: Record<string, string> = {
  'GET /providers/{providerId}/subscriptions': `On AWS: \`delivery: deploy-configured\`, no items, and the provider's destination: the endpoint from the deploy (or a placeholder), the ${WEBHOOK_KEY_HEADER} header its API key travels in (never the key).`,
  'POST /providers/{providerId}/subscriptions': 'On AWS: 409, whatever the body. Webhook URLs are set at deploy (-c providerWebhooks) and requests carry an API key, not a signature; the detail says so and how an operator changes them. Nothing is changed.',
  'DELETE /providers/{providerId}/subscriptions/{subscriptionId}': 'On AWS: 409; there is no subscription to remove (the destination is set at deploy). Nothing is changed.',
  'POST /providers/{providerId}/subscriptions/{subscriptionId}/rotate-secret': `On AWS: 409; nothing is signed there (requests carry the provider's API key in ${WEBHOOK_KEY_HEADER}, changed by an operator in Secrets Manager and the EventBridge connection). Nothing is changed.`,
  'GET /providers/{providerId}/deliveries': "On AWS: 409; no delivery log is kept there. EventBridge retries, then dead-letters to the provider's queue and raises an alarm; the pull feed has every event.",
  'POST /providers/{providerId}/deliveries/{deliveryId}/replay': 'On AWS: 409; operators replay missed events from the event archive to the provider\'s rule. Nothing is changed.',
  'POST /providers/{providerId}/subscriptions/{subscriptionId}/test': "On AWS: 409; EventBridge sends every event to the destination asynchronously and keeps no answer to show, so nothing is sent from here (a failing destination shows in the provider's dead-letter queue and its alarm). Nothing is sent.",
};

const TestDeliveryResult = z
  .object({
    subscriptionId: SubscriptionId,
    url: z.string().describe('Where it was sent'),
    eventId: z.string().describe('The webhook-id header and the event id: a new one for every test'),
    eventType: z.literal(WEBHOOK_TEST_EVENT_TYPE),
    sentAt: IsoDateTime,
    accepted: z.boolean().describe('The receiver answered 2xx, as a real delivery needs to count as delivered'),
    statusCode: z.number().int().optional().describe("The receiver's HTTP status (absent when it gave none)"),
    error: z.string().optional().describe('Why there was no answer: no answer within the timeout, the receiver unreachable, or its address refused (nothing sent)'),
    durationMs: z.number().int().min(0).describe('How long the receiver took to answer, in milliseconds'),
  })
  .meta({
    id: 'WebhookTestDelivery',
    description: `What the receiver did with one ${WEBHOOK_TEST_EVENT_TYPE} event (schemas/events/${WEBHOOK_TEST_EVENT_TYPE}.json): signed as every delivery, about no plan, not queued, retried or logged`,
  });

const SubscriptionDeleted = SubscriptionView.extend({
  deleted: z.literal(true),
  deadLettered: z.number().int().min(0).describe('Deliveries still pending for it, now dead-lettered (replayable to a later subscription)'),
}).meta({ id: 'WebhookSubscriptionDeleted' });

const DeliveryView = z.object({
  deliveryId: DeliveryId,
  providerId: ProviderId,
  planRef: PlanId,
  sequence: z.number().int().min(1),
  eventId: z.string(),
  eventType: z.string(),
  status: z.enum(DELIVERY_STATUSES),
  attempts: z.number().int().min(0).describe('Attempts since queued or last replayed'),
  replays: z.number().int().min(0),
  createdAt: IsoDateTime,
  nextAttemptAt: IsoDateTime.optional().describe('While pending'),
  lastAttemptAt: IsoDateTime.optional(),
  lastStatusCode: z.number().int().optional(),
  lastError: z.string().optional(),
  deliveredAt: IsoDateTime.optional(),
  deadAt: IsoDateTime.optional(),
  withheld: z.string().optional().describe('On a dead letter carrying her needs that her consent, as it stands, no longer lets this provider have: why (it cannot be replayed: a 409)'),
  log: z.array(
    z.object({
      at: IsoDateTime,
      subscriptionId: SubscriptionId,
      outcome: z.enum(['delivered', 'failed', 'gone']),
      statusCode: z.number().int().optional(),
      error: z.string().optional(),
      durationMs: z.number().int().min(0),
    }),
  ).describe('The most recent attempts, oldest first'),
}).meta({ id: 'WebhookDelivery', description: 'One event on its way to one provider' });

const DeliveryList = z.object({
  items: z.array(DeliveryView),
  nextCursor: z.string().nullable().describe('Pass as `cursor` for the next page; a page may be short when few match the status'),
}).meta({ id: 'WebhookDeliveryList', description: 'The delivery log, by plan then sequence' });

const Health = z.object({ status: z.literal('ok') });

/** RFC 9457 problem details, with the fields at fault. */
const Problem = z.object({
  type: z.string().describe('A URI naming the problem type; about:blank when the status says it all'),
  title: z.string(),
  status: z.number().int().min(400).max(599),
  detail: z.string().describe('What went wrong and what to do about it'),
  instance: z.string().optional().describe('The request path'),
  errors: z.array(z.object({ path: z.string().describe('Dotted path of the field, or a header name'), message: z.string() })).optional(),
}).meta({ id: 'Problem', description: 'RFC 9457 problem details' });

// ---------------------------------------------------------------------------------------------
// Requests

const IdempotencyKeyParameter = IdempotencyKey.optional()
  .describe('Send a unique key per intended change; a retry with the same key and body returns the first result and changes nothing')
  .meta({ param: { in: 'header', name: 'Idempotency-Key' } });

const IfMatchParameter = IfMatch.optional().meta({ param: { in: 'header', name: 'If-Match' } });

const PurposeParameter = AccessPurpose.optional()
  .describe("Why you are reading or changing her data, as one of these codes; recorded in the audit log as the why. Without it, the route's own purpose is recorded. Any other value is a 400 naming X-Purpose (on GET /allocations/{allocationId}/participant recorded first, as a refused attempt; there a malformed allocation id is the fault named, if both are wrong)")
  .meta({ param: { in: 'header', name: 'X-Purpose' } });

/** The routes that record an audit entry before they answer, and so take an X-Purpose header: those routes.ts declares auditsAccess. */
export const AUDITED_ROUTES: ReadonlySet<string> = new Set(ROUTES.filter((route) => route.auditsAccess).map(routeKey));

/** The header parameters of a route: Idempotency-Key on a POST, X-Purpose on an audited route. */
const headerParameters = (key: string, isPost: boolean) => [...(isPost ? [IdempotencyKeyParameter] : []), ...(AUDITED_ROUTES.has(key) ? [PurposeParameter] : [])];

const PATH_PARAMETERS: Record<string, z.ZodString> = { planId: PlanId, allocationId: AllocationId, providerId: ProviderId, serviceId: DirectoryServiceIdParam, subscriptionId: SubscriptionId, deliveryId: DeliveryId };

const pascal = (name: string) => name.replace(/(^|-)([a-z])/g, (_, _dash: string, c: string) => c.toUpperCase());
const camel = (name: string) => name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/**
 * The HTTP body of a command: its payload, plus the optional `expectedVersion` the API takes out first,
 * for the commands a coordinator or team lead sends. Providers cannot read the plan's version, and the
 * API refuses it from them (400 naming it): a provider-only command's body has no such field, and
 * end-allocation's says so.
 */
function commandBody(name: CommandName): z.ZodObject {
  const payload: z.ZodObject = COMMAND_PAYLOADS[name];
  const actors: readonly string[] = LIFECYCLE[name].actors;
  if (actors.every((a) => a === 'provider')) return payload;
  const expectedVersion = actors.includes('provider')
    ? ExpectedVersion.optional().describe(`${ExpectedVersion.description as string}. Coordinators only: from a provider it ${PROVIDER_EXPECTED_VERSION_RULE} (400 naming it)`)
    : ExpectedVersion.optional();
  // safeExtend keeps record-review's cross-field refinements (extend refuses refined objects).
  return payload.safeExtend({ expectedVersion });
}

// ---------------------------------------------------------------------------------------------
// Responses

const PROBLEM_STATUSES = {
  400: ['BadRequest', 'The request (body, path, query or header) is not valid; `errors` names each field at fault.'],
  401: ['Unauthorized', 'No valid bearer token.'],
  403: ['Forbidden', "The token's role or provider scope does not allow this."],
  404: ['NotFound', "No such plan, allocation or command. A provider is answered so for another provider's allocation too, exactly as for one that does not exist."],
  409: ['Conflict', 'Not allowed in the current stage, or the plan changed since `expectedVersion` (reload and retry).'],
  412: ['PreconditionFailed', 'Her details changed since the If-Match ETag was read (someone else corrected them): nothing changed; read them again and correct those.'],
  413: ['PayloadTooLarge', 'The body is larger than 64 KiB.'],
  415: ['UnsupportedMediaType', 'The body is not application/json.'],
  422: ['IdempotencyKeyReused', 'The Idempotency-Key was already used for a different request.'],
} as const;
type ProblemStatus = keyof typeof PROBLEM_STATUSES;

const problemRefs = (statuses: readonly ProblemStatus[]): ZodOpenApiResponsesObject =>
  Object.fromEntries(statuses.map((s) => [String(s), { $ref: `#/components/responses/${PROBLEM_STATUSES[s][0]}` }]));

const replayedHeader = z.literal('true').optional().describe('Present when this is the stored result of an earlier request with the same Idempotency-Key');

const jsonContent = (schema: z.ZodType) => ({ 'application/json': { schema } });

// ---------------------------------------------------------------------------------------------
// Operations

interface OperationSpec {
  path: string;
  method: Route['method'];
  operation: ZodOpenApiOperationObject;
}

const OPERATION_IDS: Record<string, string> = {
  'GET /health': 'health',
  'GET /openapi.json': 'getOpenApi',
  'POST /plans': 'refer',
  'GET /plans': 'listPlans',
  'GET /plans/{planId}': 'getPlan',
  'GET /plans/{planId}/history': 'getPlanHistory',
  'GET /providers/{providerId}/offers': 'listProviderOffers',
  'GET /escalations': 'listEscalations',
  'GET /metrics': 'getMetrics',
  'GET /metrics.csv': 'getMetricsCsv',
  'GET /directory/services': 'listDirectoryServices',
  'GET /directory/services/{serviceId}': 'getDirectoryService',
  'PATCH /directory/services/{serviceId}': 'changeDirectoryService',
};

const AuditList = z
  .object({
    items: z.array(
      z.object({
        auditId: z.string(),
        who: z.string().describe("The caller's token subject (an opaque id)"),
        whoName: z
          .string()
          .optional()
          .describe("The caller's name as her token gave it at the time (the `name` claim); absent on records written before names were kept, or when her token carried none"),
        role: z.string().describe('The role the request acted in'),
        whoProviderId: z.string().optional().describe("The caller's own provider organisation, for a provider's staff"),
        action: z.string(),
        planId: PlanId.optional(),
        participantId: z.string().optional(),
        allocationId: AllocationId.optional(),
        providerId: z.string().optional(),
        serviceId: z.string().optional().describe('The directory service a change was to (PATCH /directory/services/{serviceId})'),
        change: z
          .object({
            capacity: z.object({ from: z.number().int(), to: z.number().int() }).optional(),
            status: z.object({ from: z.string(), to: z.string() }).optional(),
          })
          .optional()
          .describe("What a directory change set, old to new (numbers and status codes only)"),
        notDuplicateOf: z.array(PlanId).optional().describe('A referral the coordinator confirmed is of a different woman from the women of these open plans (a possible duplicate, checked)'),
        possibleDuplicates: z.array(PlanId).optional().describe('A referral refused as a possible duplicate: the open plans the warning named to the coordinator'),
        outcome: z
          .object({
            result: z.enum(['succeeded', 'refused', 'failed']),
            status: z.number().int().describe('The HTTP status the request was answered with'),
            problem: z.string().optional().describe("The problem's title, for a refusal or failure"),
          })
          .optional()
          .describe('How a change (any method but GET) ended: never the request or its notes. Absent on reads, on records written before outcomes were kept, and when the request stopped before its outcome was written (not recorded)'),
        why: z.string(),
        at: IsoDateTime,
      }),
    ),
    nextCursor: z.string().optional().describe('Present when more records follow: pass as `cursor` (with the same from, to and planId) for the next page; absent on the last page'),
  })
  .meta({ id: 'AuditList', description: 'Audit records of the UTC days asked for, oldest first; append-only' });
const IdentityErased = z.object({ planId: PlanId, identityErasedAt: IsoDateTime }).meta({ id: 'IdentityErased' });
const IdentityCorrected = z.object({ planId: PlanId, participant: Participant, participantRevision: z.number().int().min(1).describe('Her record\'s revision now: the ETag, unquoted') }).meta({ id: 'IdentityCorrected', description: 'Her identity as it now stands' });
const ProviderParticipantView = z
  .object({
    planRef: PlanId,
    allocationId: AllocationId,
    givenName: z.string(),
    familyName: z.string(),
    preferredName: z.string().optional(),
    contact: ContactDetails.describe('How to reach her, with every safety flag and note: follow them'),
    address: Address.optional().describe('Only when she asked to be contacted by letter'),
  })
  .meta({
    id: 'ProviderParticipantView',
    description:
      "Who she is and how to contact her safely, for the provider holding an accepted allocation while her consent shares contact details with providers. Never her date of birth; her address only when she asked for letters. Every read is audited, refused ones too.",
  });

const RESPONSE_BODIES: Record<string, { status: 200 | 201; schema: z.ZodType; description: string; mediaType?: string; headers?: z.ZodObject }> = {
  'GET /health': { status: 200, schema: Health, description: 'The API is up' },
  'GET /openapi.json': { status: 200, schema: z.record(z.string(), z.unknown()), description: 'This document' },
  'POST /plans': { status: 201, schema: ReferralCreated, description: 'The new plan, in stage referred' },
  'GET /plans': { status: 200, schema: PlanList, description: 'A page of the worklist: by stage, most recently updated first; due lists as `due` says' },
  'GET /plans/{planId}': { status: 200, schema: PlanView, description: 'The plan (with identity for coordinators)' },
  'GET /plans/{planId}/history': { status: 200, schema: PlanHistory, description: "The plan's events in order" },
  'GET /providers/{providerId}/offers': { status: 200, schema: ProviderOffers, description: 'Open offers, soonest deadline first' },
  'GET /escalations': { status: 200, schema: EscalationList, description: 'A page of the open escalations: the longest-open first, each page most urgent first' },
  'GET /allocations/{allocationId}': { status: 200, schema: ProviderAllocationView, description: 'The allocation as its provider sees it' },
  'GET /audit': { status: 200, schema: AuditList, description: 'Who read or wrote identity or plan detail, when and why' },
  'POST /plans/{planId}/erase-identity': { status: 200, schema: IdentityErased, description: 'Identity erased; the pseudonymous plan stays' },
  'PATCH /plans/{planId}/participant': {
    status: 200,
    schema: IdentityCorrected,
    description: 'Corrected; the change is in the audit log',
    headers: z.object({ ETag: z.string().describe('Her record as now stored: send it as If-Match with the next correction') }),
  },
  'GET /allocations/{allocationId}/participant': {
    status: 200,
    schema: ProviderParticipantView,
    description: "Her name and contact details. 404 when there is no such allocation, or it is another provider's (the same answer); 403 when it is not (or no longer) accepted, the plan is not open, or her consent does not cover contact details, no longer covers this provider, or was withdrawn",
  },
  'GET /metrics': { status: 200, schema: MetricsReportSchema, description: 'The figures overall and for each breakdown asked for, with the definition of each; small numbers read "suppressed"' },
  'GET /metrics.csv': {
    status: 200,
    schema: z.string().describe(METRICS_CSV_DESCRIPTION),
    description: 'The same figures as CSV',
    mediaType: 'text/csv',
    headers: z.object({
      'Content-Disposition': z.string().describe('attachment, with a file name naming the period (ending -incomplete.csv while the figures leave plans out)'),
      [FIGURES_INCOMPLETE_HEADER]: z.string().optional().describe('Present only while the figures leave plans out: how many (incomplete.staleFacts of GET /metrics)'),
    }),
  },
  'GET /directory/services': { status: 200, schema: HsdsServicePage, description: 'A page of HSDS 3 services, in directory order' },
  'GET /directory/services/{serviceId}': { status: 200, schema: HsdsService, description: 'The HSDS 3 service, fully nested, with its live capacity' },
  'PATCH /directory/services/{serviceId}': { status: 200, schema: HsdsService, description: 'The service as it now is, with the places in use; the next allocation uses the change' },
  'GET /providers/{providerId}/allocations': { status: 200, schema: ProviderAllocationList, description: 'A page of the allocations offered to the provider, optionally of one status' },
  'GET /providers/{providerId}/feed': { status: 200, schema: ProviderFeed, description: 'The next events after `after`, and the cursor to resume from' },
  'GET /providers/{providerId}/subscriptions': { status: 200, schema: SubscriptionList, description: "The provider's subscriptions (at most one active), without secrets; on AWS the destination set at deploy" },
  'POST /providers/{providerId}/subscriptions': { status: 201, schema: SubscriptionCreated, description: 'Subscribed: events addressed to the provider from now on are POSTed to the URL, signed with the secret shown here once' },
  'DELETE /providers/{providerId}/subscriptions/{subscriptionId}': { status: 200, schema: SubscriptionDeleted, description: 'Removed with its secret; its pending deliveries are dead-lettered' },
  'POST /providers/{providerId}/subscriptions/{subscriptionId}/rotate-secret': {
    status: 200,
    schema: SubscriptionCreated,
    description: 'Rotated: the new secret, shown only here; until overlapEndsAt every delivery (waiting and retried ones too: they are signed when sent) carries a signature with the old secret and one with the new, then the old one is removed. 409 while the last rotation still overlaps',
  },
  'GET /providers/{providerId}/deliveries': { status: 200, schema: DeliveryList, description: 'A page of the delivery log' },
  'POST /providers/{providerId}/deliveries/{deliveryId}/replay': { status: 200, schema: DeliveryView, description: 'Back in its lane, due now, with a fresh retry schedule' },
  'POST /providers/{providerId}/subscriptions/{subscriptionId}/test': {
    status: 200,
    schema: TestDeliveryResult,
    description: 'Sent: what the receiver answered (accepted or not, its status code or why there was none, and how long it took). A refusal by the receiver is still a 200 here: the test was made',
  },
};

/** Provider delivery routes: their query, body and refusals. */
const PROVIDER_QUERIES: Record<string, z.ZodObject> = {
  'GET /providers/{providerId}/allocations': AllocationListQuery,
  'GET /providers/{providerId}/feed': FeedQuery,
  'GET /providers/{providerId}/deliveries': DeliveryListQuery,
};
const PROVIDER_BODIES: Record<string, z.ZodType> = {
  'POST /providers/{providerId}/subscriptions': SubscribeRequest,
  'POST /providers/{providerId}/subscriptions/{subscriptionId}/rotate-secret': RotateSecretRequest,
  'POST /providers/{providerId}/subscriptions/{subscriptionId}/test': z.strictObject({}).describe('Empty: the test event is made here'),
};
const PROVIDER_PROBLEMS: Record<string, ProblemStatus[]> = {
  'GET /providers/{providerId}/allocations': [400, 401, 403, 404],
  'GET /providers/{providerId}/feed': [400, 401, 403, 404],
  'GET /providers/{providerId}/subscriptions': [400, 401, 403, 404],
  'DELETE /providers/{providerId}/subscriptions/{subscriptionId}': [400, 401, 403, 404, 409],
  'GET /providers/{providerId}/deliveries': [400, 401, 403, 404, 409],
  'POST /providers/{providerId}/subscriptions': [400, 401, 403, 404, 409, 413, 415, 422],
  'POST /providers/{providerId}/deliveries/{deliveryId}/replay': [400, 401, 403, 404, 409, 413, 415, 422],
  'POST /providers/{providerId}/subscriptions/{subscriptionId}/test': [400, 401, 403, 404, 409, 413, 415, 422],
  'POST /providers/{providerId}/subscriptions/{subscriptionId}/rotate-secret': [400, 401, 403, 404, 409, 413, 415, 422],
};

/** Directory routes: their query, body and refusals (the public reads still answer 400 and 404). */
const DIRECTORY_QUERIES: Record<string, z.ZodObject> = { 'GET /directory/services': DirectoryListQuery };
const DIRECTORY_BODIES: Record<string, z.ZodType> = { 'PATCH /directory/services/{serviceId}': ServiceAvailabilityChange };
const DIRECTORY_PROBLEMS: Record<string, ProblemStatus[]> = {
  'GET /directory/services': [400],
  'GET /directory/services/{serviceId}': [404],
  'PATCH /directory/services/{serviceId}': [400, 401, 403, 404, 413, 415],
};

/** What an erasure request does, beyond its summary: who is erased, what is redacted, when it is refused. */
const ERASE_DESCRIPTION = `Erases her identity record (name, date of birth, contact details, safety notes, address) and the link between her plans, for every plan of hers, and replaces what was typed in words on each of them (referral, allocation, exit and withdrawal notes, a follow-up correction's note, each goal, her words at reviews, a manual offer's and activate's reasons) with \`${REDACTED}\` in the plan, its history and the answers kept for Idempotency-Keys. Codes, dates, needs, scores and outcomes stay, so the figures do not change. Each plan is marked \`identityErasedAt\`; a later command that brings free text to it (a \`note\`) is refused with a 400 naming the field, and works without it. Refused with a 409, nothing changed and nothing audited, while any plan of hers is open (${OPEN_STAGES.join(', ')}) or exited with her 6- and 12-month follow-ups still to come (her consent not withdrawn, which cancels them: lib/domain/erasure-hold.ts), or a referral of her is being recorded. Audited.`;

/** A refusal whose meaning on a route is narrower than the shared response's, and the headers it carries there. */
interface RouteProblem {
  description: string;
  headers?: z.ZodObject;
  /** The body, when the route adds a problem type of its own to the shared Problem. */
  schema?: z.ZodType;
}

/** Refusals whose meaning on a route is narrower than the shared response's: status → what it means there. */
const ROUTE_PROBLEMS: Record<string, Partial<Record<ProblemStatus | 429 | 503, RouteProblem>>> = {
  'POST /plans': {
    409: {
      description:
        'The referral is not recorded (a refusal that names a plan is, in the audit log). A possible duplicate (type `possible-duplicate`, the PossibleDuplicateProblem body): her name and date of birth nearly match those of another woman with an open plan (the same family name or given name and date of birth, the day and month of birth swapped, or the names transposed); `possibleDuplicates` names each such plan with its stage and referral day, never who either woman is: check them, and if she is a different woman send the referral again with `notDuplicateOf` listing them all (the audit record says so). Or she already has an open plan (`openPlan` names it, with its stage, as `errors` does in words: work with that plan), or her identity is being erased or was erased while this referral was recorded (refer her again once it is done: she is referred as someone new), or another referral of her is in progress or was interrupted before it finished: sending that referral again with its Idempotency-Key is safe (it finishes it, or returns the plan), and a new referral of her is possible after Retry-After (the detail gives the time).',
      schema: Problem.extend({
        type: z.string().describe('`possible-duplicate` for a possible duplicate (the PossibleDuplicateProblem shape); about:blank otherwise'),
        possibleDuplicates: PossibleDuplicateProblem.shape.possibleDuplicates.optional().describe('Only with type `possible-duplicate`: every open plan to check; notDuplicateOf must list them all'),
        openPlan: ReferralOpenPlan.optional().describe('Only when she already has an open plan: that plan (found by her name and date of birth), to work with instead of referring her again'),
      }).meta({ id: 'ReferralConflictProblem', description: 'RFC 9457 problem details of a refused referral' }),
      headers: z.object({
        'Retry-After': z
          .string()
          .regex(/^[1-9][0-9]*$/)
          .optional()
          .describe('Only when another referral of her is in progress or was interrupted: the seconds until a new referral of her is possible'),
      }),
    },
  },
  'GET /audit': {
    400: {
      description:
        `Nothing read or recorded: \`errors\` names each field at fault. About one plan (planId), the days before the plan index's start are read whole, a day at a time, so a range may reach at most ${MAX_AUDIT_DAYS} days before that day (before \`to\`, while the log has no start day): past it the error names \`from\`, and \`earliestFrom\` is the earliest from read in one go with this \`to\` (ask the days before it a month at a time).`,
      schema: Problem.extend({
        earliestFrom: z.iso.date().optional().describe("Only when from reaches too far before the plan index's start: the earliest from read in one go with this to"),
        planIndexFrom: z.iso.date().optional().describe("With earliestFrom, once the log has one: the first UTC day whose records about a plan are read through the plan's own index"),
      }).meta({ id: 'AuditQueryProblem', description: 'RFC 9457 problem details of a refused audit query' }),
    },
  },
  'POST /plans/{planId}/erase-identity': {
    404: { description: 'No such plan.' },
    409: {
      description:
        'Nothing changed. A plan of hers is open, or exited and waiting for its follow-ups: `errors` names each (path `planId`) with what ends its hold (in an open stage: exit it, withdraw the referral, or record her consent withdrawn; exited: record the follow-ups, or her consent withdrawn, which cancels them), this plan included if it holds it. Or a referral of her is being recorded right now (its plan is named), or another erasure of her is under way, or this plan\'s identity was already erased (the detail says when).',
    },
    503: {
      description:
        'Nothing changed or audited: her identity record exists but the identity key is not available, so her other plans cannot be found and nothing was erased. A fault of the setup, not the request: ask again later; if it persists, the operators must restore access to the identity key.',
    },
  },
  'POST /providers/{providerId}/subscriptions/{subscriptionId}/test': {
    429: {
      description: `Nothing sent. At most ${TEST_DELIVERY_LIMIT.max} test deliveries to a provider's webhook in any ${TEST_DELIVERY_LIMIT.windowMs / 1000} seconds (each is a signed request to a URL the provider chose): the detail says when to try again.`,
      headers: z.object({ 'Retry-After': z.string().regex(/^[1-9][0-9]*$/).describe('The seconds until a test delivery can be sent again') }),
    },
  },
};

const ROUTE_DESCRIPTIONS: Record<string, string> = {
  'POST /plans/{planId}/erase-identity': ERASE_DESCRIPTION,
};

/** The identity routes: the coordinator's erasure, the provider's read of her contact details, the coordinator's correction. */
const IDENTITY_PROBLEMS: Record<string, ProblemStatus[]> = {
  'POST /plans/{planId}/erase-identity': [400, 401, 403, 404, 409, 413, 415, 422],
  'GET /allocations/{allocationId}/participant': [400, 401, 403, 404],
  'PATCH /plans/{planId}/participant': [400, 401, 403, 404, 409, 412, 413, 415],
};

/** Which generic `{command}` route addresses which lifecycle target. */
const COMMAND_ROUTE_TARGETS: Record<string, 'plan' | 'allocation'> = {
  '/plans/{planId}/{command}': 'plan',
  '/allocations/{allocationId}/{command}': 'allocation',
};

/** Commands a client can send over HTTP to a target: not refer (that is POST /plans), not timers. */
export function httpCommands(target: 'plan' | 'allocation'): CommandName[] {
  return COMMAND_NAMES.filter((name) => LIFECYCLE[name].target === target && name !== 'refer' && !TIMER_COMMANDS.includes(name));
}

function pathParams(path: string) {
  const names = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] as string);
  if (names.length === 0) return undefined;
  const shape: Record<string, z.ZodString> = {};
  for (const name of names) {
    const schema = PATH_PARAMETERS[name];
    if (!schema) throw new Error(`openapi: no schema for path parameter {${name}}`);
    shape[name] = schema;
  }
  return z.object(shape);
}

function securityOf(roles: readonly string[] | 'public') {
  if (roles === 'public') return { security: [], 'x-roles': 'public' };
  return { description: `Roles: ${roles.join(', ')}.`, 'x-roles': [...roles] };
}

function tagOf(path: string) {
  const first = path.split('/')[1] ?? '';
  return ['plans', 'allocations', 'providers', 'directory'].includes(first) ? first : first.startsWith('metrics') ? 'metrics' : 'system';
}

/** The command a route of its own serves (`POST /plans/{planId}/escalations/acknowledge`), if any. */
function ownRouteCommand(route: Route): CommandName | undefined {
  return httpCommands('plan').find((name) => route.method === 'POST' && route.path === `/plans/{planId}/${LIFECYCLE[name].segment}`);
}

function commandOperations(route: Route, target: 'plan' | 'allocation', bodies: CommandBodies, only?: CommandName): OperationSpec[] {
  // The generic route serves the commands its roles may send; one with a route of its own is listed there.
  const names = only ? [only] : httpCommands(target).filter((name) => route.roles === 'public' || route.roles.some((r) => (LIFECYCLE[name].actors as readonly string[]).includes(r)));
  return names.map((name) => {
    const row = LIFECYCLE[name];
    const path = route.path.replace('{command}', row.segment);
    const roles = route.roles === 'public' ? 'public' : route.roles.filter((r) => (row.actors as readonly string[]).includes(r));
    const body = bodies.get(name);
    if (!body) throw new Error(`openapi: no body schema for ${name}`);
    const security = securityOf(roles);
    const operation: ZodOpenApiOperationObject = {
      operationId: camel(name),
      summary: row.summary,
      ...security,
      description: `${security.description ?? ''} Allowed in stage${row.from.length > 1 ? 's' : ''} ${row.from.join(', ')}; leads to ${'moves' in row || ('staysInStage' in row && row.staysInStage) ? nextInWords(name) : row.next.join(' or ')}. Workflow step: ${row.step}.`.trim(),
      tags: [tagOf(route.path)],
      requestParams: { path: pathParams(path) as z.ZodObject },
      parameters: headerParameters(`${route.method} ${route.path}`, true),
      // An absent body reads as {}: it is required only when {} would not do.
      requestBody: { required: !body.safeParse({}).success, content: jsonContent(body) },
      responses: {
        200: {
          description: target === 'plan' ? 'The plan after the command' : "A provider gets its view of the allocation; a coordinator gets the plan",
          headers: z.object({ 'Idempotent-Replayed': replayedHeader }),
          content: jsonContent(target === 'plan' ? PlanView : z.union([ProviderAllocationView, PlanView])),
        },
        ...problemRefs([400, 401, 403, 404, 409, 413, 415, 422]),
      },
    };
    return { path, method: route.method, operation };
  });
}

function routeOperation(route: Route): OperationSpec {
  const key = `${route.method} ${route.path}`;
  const response = RESPONSE_BODIES[key];
  if (!response) throw new Error(`openapi: no response documented for ${key}`);
  const isPublic = route.roles === 'public';
  const isPost = route.method === 'POST';
  const params = pathParams(route.path);
  const problems: ProblemStatus[] = DIRECTORY_PROBLEMS[key] ?? PROVIDER_PROBLEMS[key] ?? IDENTITY_PROBLEMS[key] ?? (isPublic ? [] : isPost ? [400, 401, 403, 409, 413, 415, 422] : route.path.includes('{planId}') ? [400, 401, 403, 404] : [400, 401, 403]);
  const headers = isPost
    ? z.object({ ...(key === 'POST /plans' ? { Location: z.string().describe('Where the created plan lives') } : {}), 'Idempotent-Replayed': replayedHeader })
    : response.headers;
  const parameters = [...(key === 'PATCH /plans/{planId}/participant' ? [IfMatchParameter] : []), ...headerParameters(key, isPost)];
  const operation: ZodOpenApiOperationObject = {
    operationId: OPERATION_IDS[key] ?? camel(`${route.method.toLowerCase()}-${route.path.replace(/[{}]/g, '').split('/').filter(Boolean).join('-')}`),
    summary: route.summary,
    ...securityOf(route.roles),
    ...(ON_AWS[key] || ROUTE_DESCRIPTIONS[key] ? { description: [securityOf(route.roles).description, ROUTE_DESCRIPTIONS[key], ON_AWS[key]].filter(Boolean).join(' ') } : {}),
    tags: [tagOf(route.path)],
    ...(params || key === 'GET /plans' ? { requestParams: { ...(params ? { path: params } : {}), ...(key === 'GET /plans' ? { query: PlanListQuery } : {}) } } : {}),
    ...(DIRECTORY_QUERIES[key] ? { requestParams: { ...(params ? { path: params } : {}), query: DIRECTORY_QUERIES[key] } } : {}),
    ...(PROVIDER_QUERIES[key] ? { requestParams: { ...(params ? { path: params } : {}), query: PROVIDER_QUERIES[key] } } : {}),
    ...(key === 'GET /metrics' || key === 'GET /metrics.csv' ? { requestParams: { query: MetricsQueryParams } } : {}),
    ...(key === 'GET /audit' ? { requestParams: { query: AuditQuery } } : {}),
    ...(key === 'GET /escalations' ? { requestParams: { query: EscalationQuery } } : {}),
    ...(key === 'POST /plans/{planId}/erase-identity' ? { requestBody: { required: true, content: jsonContent(ErasePayload) } } : {}),
    ...(key === 'PATCH /plans/{planId}/participant' ? { requestBody: { required: true, content: jsonContent(IdentityCorrection) } } : {}),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(key === 'POST /plans' ? { requestBody: { required: true, content: jsonContent(ReferPayload) } } : {}),
    ...(DIRECTORY_BODIES[key] ? { requestBody: { required: true, content: jsonContent(DIRECTORY_BODIES[key]) } } : {}),
    // An absent body reads as {}: required only where {} is refused (a rotation may send none).
    ...(PROVIDER_BODIES[key] ? { requestBody: { required: !PROVIDER_BODIES[key].safeParse({}).success, content: jsonContent(PROVIDER_BODIES[key]) } } : {}),
    responses: {
      [response.status]: { description: response.description, ...(headers ? { headers } : {}), content: response.mediaType ? { [response.mediaType]: { schema: response.schema } } : jsonContent(response.schema) },
      ...problemRefs(problems),
      ...Object.fromEntries(
        Object.entries(ROUTE_PROBLEMS[key] ?? {}).map(([status, { description, headers: problemHeaders }]) => [
          status,
          { description, ...(problemHeaders ? { headers: problemHeaders } : {}), content: { 'application/problem+json': { schema: ROUTE_PROBLEMS[key]?.[Number(status) as ProblemStatus]?.schema ?? Problem } } },
        ]),
      ),
    },
  };
  return { path: route.path, method: route.method, operation };
}

type CommandBodies = ReadonlyMap<CommandName, z.ZodObject>;

function operations(bodies: CommandBodies): OperationSpec[] {
  return ROUTES.flatMap((route) => {
    const own = ownRouteCommand(route);
    if (own) return commandOperations({ ...route, path: '/plans/{planId}/{command}' }, 'plan', bodies, own);
    if (!route.path.includes('{command}')) return [routeOperation(route)];
    const target = COMMAND_ROUTE_TARGETS[route.path];
    if (!target) throw new Error(`openapi: generic route ${route.path} addresses no known command target`);
    return commandOperations(route, target, bodies);
  });
}

export function openApiDocument(): oas31.OpenAPIObject {
  // Built per call so each component is the same schema instance as the body that refers to it.
  const bodies = new Map([...httpCommands('plan'), ...httpCommands('allocation')].map((name) => [name, commandBody(name)]));
  const paths: ZodOpenApiPathsObject = {};
  for (const { path, method, operation } of operations(bodies)) {
    const item = (paths[path] ??= {});
    item[method.toLowerCase() as 'get' | 'post' | 'put' | 'delete'] = operation;
  }
  return createDocument({
    openapi: '3.1.0',
    info: {
      title: 'Wraparound',
      version: '0.1.0',
      description:
        'Holistic support plans for multi-agency diversion programmes. Coordinators refer participants and send plan commands; providers answer and work allocations; every change is one command through the lifecycle table. Send an Idempotency-Key with every POST so retries are safe.',
    },
    tags: [
      { name: 'plans', description: 'Referrals, plans and the coordinator commands' },
      { name: 'allocations', description: "Providers' answers and work on allocations" },
      { name: 'providers', description: "A provider's offers and allocations, its pull feed, webhook subscriptions and their delivery log" },
      { name: 'directory', description: 'The provider directory as Open Referral (HSDS 3) services; team leads change availability' },
      { name: 'metrics', description: 'Commissioner figures: aggregates only, small numbers suppressed' },
      { name: 'system', description: 'Liveness and this document' },
    ],
    security: [{ bearerAuth: [] }],
    paths,
    components: {
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'JWT carrying the role (coordinator, team-lead, provider, commissioner) and, for providers, the provider id' },
      },
      schemas: {
        ReferRequest: ReferPayload,
        // One component per command body, named after the command; the operations refer to these.
        ...Object.fromEntries([...bodies].map(([name, body]) => [`${pascal(name)}Request`, body])),
      },
      responses: Object.fromEntries(
        Object.entries(PROBLEM_STATUSES).map(([, [id, description]]) => [id, { description, content: { 'application/problem+json': { schema: Problem } } }]),
      ),
    },
  });
}

/**
 * The headers this document declares, lower-cased: every header parameter of an operation (plus
 * authorization and content-type, which the bearer scheme and the JSON bodies imply), and every header
 * of every answer. The CORS configuration on AWS lets a browser send the one and read the other
 * (lib/infra/api.ts), so a header documented here is one the web app can use there.
 */
export function documentedHeaders(document: oas31.OpenAPIObject = openApiDocument()): { sent: string[]; answered: string[] } {
  const sent = new Set<string>(['authorization', 'content-type']);
  const answered = new Set<string>();
  for (const item of Object.values(document.paths ?? {})) {
    for (const method of ['get', 'put', 'post', 'delete', 'patch'] as const) {
      const operation = item[method];
      if (!operation) continue;
      for (const p of operation.parameters ?? []) if ('in' in p && p.in === 'header') sent.add(p.name.toLowerCase());
      for (const r of Object.values(operation.responses ?? {})) if ('headers' in r) for (const h of Object.keys(r.headers ?? {})) answered.add(h.toLowerCase());
    }
  }
  return { sent: [...sent].sort(), answered: [...answered].sort() };
}
