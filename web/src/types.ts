/**
 * The parts of the API's answers the app reads, written out here; every field the app is not sure to
 * get is optional. A type taken from the server's zod schemas comes through `import type` only: that is
 * erased from the build, so the app stays a plain browser bundle with no zod in it.
 */
import type { MetricsIncomplete } from '../../lib/domain/metrics/report-schema.ts';
import type { PeriodRules } from './period-words.ts';
import type { DATA_CATEGORIES } from '../../lib/domain/vocabulary.ts';
import type { Role, Stage } from './domain.ts';

export interface FieldError {
  path: string;
  message: string;
}

/** Which providers her consent covers (lib/domain/schemas.ts ConsentProviders); a consent recorded before providers could be named has none: any provider. */
export type ConsentProviders = { kind: 'all' } | { kind: 'only'; providerIds: string[] } | { kind: 'all-except'; providerIds: string[] };
export type DataCategory = (typeof DATA_CATEGORIES)[number];

export interface ConsentScope {
  shareWithProviders: boolean;
  dataCategories: DataCategory[];
  providers?: ConsentProviders;
}

/** A consent as the plan holds it: what she agreed may be shared, with which providers, given when and how. */
export interface Consent {
  scope: ConsentScope;
  givenAt: string;
  method: string;
}

export type ReplacedConsent = Consent & {
  recordedAt?: string;
  replacedAt: string;
  note?: string;
  /** When she last gave it again before it was replaced, how (plans from before it was kept have no method), and that note. */
  reconfirmedAt?: string;
  reconfirmedMethod?: string;
  reconfirmedNote?: string;
};

export interface Need {
  domain: string;
  level: 'low' | 'medium' | 'high';
  priority: boolean;
  goals?: string[];
  status: 'open' | 'closed';
}

export interface Allocation {
  allocationId: string;
  providerId: string;
  serviceId: string;
  needs: string[];
  status: 'offered' | 'accepted' | 'declined' | 'expired' | 'withdrawn' | 'ended';
  lead: boolean;
  offeredAt: string;
  respondBy: string;
  respondedAt?: string;
  /** An offer nobody answered by respondBy: when it lapsed. */
  expiredAt?: string;
  declineReason?: string;
  manualReason?: string;
  why: string;
  endedAt?: string;
  outcome?: string;
  /** What its provider was told to delete, in order. */
  purgeInstructions?: PurgeInstruction[];
}

export interface Gap {
  domain: string;
  reason: string;
  explanation: string;
  recordedAt: string;
}

export interface Review {
  reviewNumber: number;
  date: string;
  scores: Record<string, number | undefined>;
  outcome: string;
  participantWords?: string;
  attendance?: { attended: number; missed: number; cancelled: number };
}

export interface Deadline {
  deadlineId: string;
  command: string;
  dueAt: string;
  ref?: string;
}

export interface Escalation {
  kind: string;
  raisedAt: string;
  ref?: string;
  /** offer-unanswered, in lists (GET /escalations, the worklist): the service and provider the offer went to. */
  offer?: { serviceId: string; providerId: string };
  /** The team lead who picked it up: her id, her name where her token has one, and when. */
  acknowledged?: { by: string; byName?: string; at: string };
}

/** How to reach her safely (lib/domain/schemas.ts ContactDetails). */
export interface ContactDetails {
  phone?: string;
  email?: string;
  preferredMethod?: string;
  safeToLeaveVoicemail?: boolean;
  safeToText?: boolean;
  safeToSendPost?: boolean;
  safeToSayServiceName?: boolean;
  safeTimes?: string;
  safetyNote?: string;
}

export interface Address {
  lines: string[];
  town?: string;
  postcode?: string;
}

/** Her identity, stored apart from the plan: coordinators only. */
export interface Participant {
  givenName: string;
  familyName: string;
  preferredName?: string;
  dateOfBirth: string;
  contact?: ContactDetails;
  address?: Address;
}

/** GET /allocations/{id}/participant: what a provider holding an accepted allocation is told, as far as her consent goes. */
export interface ParticipantForProvider {
  planRef: string;
  allocationId: string;
  givenName: string;
  familyName: string;
  preferredName?: string;
  contact: ContactDetails;
  address?: Address;
}

export interface Plan {
  planId: string;
  stage: Stage;
  version: number;
  /** The sequence of the plan's latest event: its history's items after it are changes the page has not read. */
  sequence?: number;
  createdAt: string;
  updatedAt: string;
  participant?: Participant;
  /** With participant: her record's revision, sent back quoted as If-Match with a correction. */
  participantRevision?: number;
  /** POST /plans only: which of the details the referral gave were written to her record. */
  referralDetails?: { applied: string[]; notApplied: string[]; reason?: string; detail?: string };
  ageAtReferral?: number;
  referral: { source: string; localAuthority: string; urgency: string; note?: string; receivedAt: string };
  consent?: Consent & {
    recordedAt?: string;
    /** change-consent's note (free text; the marker once her identity is erased). */
    note?: string;
    withdrawnAt?: string;
    /** When she last gave this same consent again (a re-confirmation takes no place in previous). */
    reconfirmedAt?: string;
    /** How she gave it again then: written, verbal or digital (absent on plans from before it was kept). */
    reconfirmedMethod?: string;
    /** That re-confirmation's note (free text; the marker once her identity is erased). */
    reconfirmedNote?: string;
    /** The consents this one replaced, oldest first. Plans from before reconfirmedAt hold a re-confirmation here too, as a consent replaced by the same scope. */
    previous?: ReplacedConsent[];
    /** How many replaced consents older than those in previous are no longer kept. */
    previousDropped?: number;
  };
  /** What the coordinator typed when her consent was withdrawn (free text; the marker once her identity is erased). */
  consentWithdrawalNote?: string;
  needs: Need[];
  /** Each risk as assessed: one left out was not assessed (not none). */
  risks?: Risks;
  /** When the holistic needs assessment was submitted: from then on a risk left out reads "Not assessed". */
  assessedAt?: string;
  adjustments: string[];
  allocations: Allocation[];
  gaps: Gap[];
  reviews: Review[];
  reviewEveryDays: number;
  contacts: { allocationId: string; providerId: string; date: string; kind: string }[];
  deadlines: Deadline[];
  nextReview?: { reviewNumber: number; dueAt: string; overdue: boolean; escalateAt: string } | null;
  openEscalations?: Escalation[];
  exit?: { reason: string; exitedAt: string; note?: string };
  exitSummary?: {
    reason: string;
    daysInPlan: number;
    daysActive: number;
    sessions: { attended: number; missed: number; cancelled: number };
    scores: Record<string, { first?: number; last?: number; change: number }>;
  } | null;
  followUps: { month: 6 | 12; reoffended: string; recordedAt: string; corrections?: { previous: string; reason: string; note?: string; at: string }[] }[];
  manualActivation?: { reason: string; at: string; unmetNeeds: string[] };
  withdrawal?: { reason: string; at: string; note?: string };
  closedAt?: string;
  previousPlanIds?: string[];
  /** When her identity was erased (on request or at the end of retention): the plan no longer carries it. */
  identityErasedAt?: string;
}

export interface PlanSummary {
  planId: string;
  stage: Stage;
  version: number;
  localAuthority: string;
  urgency: string;
  updatedAt: string;
  nextActionAt?: string | null;
  /** followUpDueAt: on a follow-up's deadline, the day that follow-up fell due (6 or 12 months after her exit). */
  /** followUpsLapseAt: on a follow-up's deadline, when those not recorded are recorded as unknown and the plan closes. */
  nextDue?: { command: string; dueAt: string; ref?: string; followUpDueAt?: string; followUpsLapseAt?: string } | null;
  nextReview?: { reviewNumber: number; dueAt: string; overdue: boolean } | null;
  risk?: number;
  /** Risks assessed alone reach the worklist's "Higher risk"; a risk not assessed never makes it true. */
  higherRisk?: boolean;
  /** Once assessed, the risks its assessment left out (not assessed, not none). */
  risksNotAssessed?: (keyof Risks)[];
  openEscalations?: Escalation[];
  escalations?: Escalation[];
}

export interface HistoryItem {
  id: string;
  sequence: number;
  type: string;
  time: string;
  providerId?: string;
  data: Record<string, unknown>;
}

/** What the provider was told to delete about her (plan.consent-withdrawn.v1, plan.consent-narrowed.v1), and when. */
export type PurgeInstruction = { instruction: 'stop-processing-and-purge'; at: string } | { instruction: 'purge-withdrawn-categories'; withdrawnCategories: string[]; at: string };

/** An offer or allocation as the provider's list holds it. */
export interface ProviderAllocation {
  allocationId: string;
  planRef: string;
  status: string;
  serviceId?: string;
  needs?: unknown;
  respondBy?: string;
  lead?: boolean;
  purgeInstructions?: PurgeInstruction[];
  updatedAt?: string;
}

/** GET /allocations/{id}: what the provider may know. */
export interface AllocationDetail {
  planRef: string;
  allocationId: string;
  serviceId?: string;
  status: string;
  lead?: boolean;
  offeredAt?: string;
  respondBy?: string;
  respondedAt?: string;
  expiredAt?: string;
  endedAt?: string;
  outcome?: string;
  purgeInstructions?: PurgeInstruction[];
  needs: { domain: string; level?: string; status?: string; goals?: string[] }[];
  adjustments?: string[];
  /** Each risk as assessed: one left out was not assessed (not none). */
  risks?: Risks;
  contacts?: { date: string; kind: string }[];
}

export interface Subscription {
  subscriptionId: string;
  providerId: string;
  url: string;
  status: string;
  createdAt: string;
  disabledAt?: string;
  disabledReason?: string;
  rotatedAt?: string;
  /** While a rotation overlaps: until then deliveries are signed with the old secret too. */
  overlapEndsAt?: string;
  secret?: string;
}

export interface Delivery {
  deliveryId: string;
  planRef?: string;
  /** The event's place among the plan's events to this provider: a plan's deliveries leave in this order. */
  sequence?: number;
  eventType?: string;
  status: string;
  attempts?: number;
  createdAt?: string;
  nextAttemptAt?: string;
  lastAttemptAt?: string;
  lastStatusCode?: number;
  lastError?: string;
  deliveredAt?: string;
  /** On a dead letter carrying her needs that her consent no longer lets the provider have: why (it cannot be replayed). */
  withheld?: string;
}

export type FigureValue = number | 'suppressed' | null | undefined;
export type Figures = Record<string, FigureValue>;

export interface MetricsReport {
  period: { from: string; to: string };
  /** The deployment's period rules (absent from an older API): the dashboard's words about the period come from them. */
  periodRules?: PeriodRules;
  groupBy: string[];
  asOf?: string;
  /** `roundCountsTo`: every shown count is rounded to the nearest multiple of it (1: exact; absent from an older API). */
  suppression?: { threshold: number; roundCountsTo?: number; marker: string; rules: string[] };
  definitions?: { figures?: Record<string, { label: string; kind: string; unit: string; definition: string }>; dimensions?: Record<string, string> };
  overall: Figures;
  breakdowns?: Record<string, { group: string; figures: Figures }[]>;
  /** Rates that read 0.99 or 0.01 only because they are not exactly all or none (absent from an older API). */
  boundedRates?: { dimension: string; group: string; figure: string; bound: 'below-all' | 'above-none' }[];
  /** Present while some plans are left out (after a deploy that changed how facts are worked out). */
  incomplete?: MetricsIncomplete;
}

export interface DemoUser {
  name: string;
  role: Role;
  providerId?: string;
  token: string;
}

export interface Service {
  serviceId: string;
  name: string;
  providerId: string;
  providerName: string;
  needs: string[];
  areas: string[];
  status: string;
  available?: number;
}

/** The risks an assessment found: a risk left out was not assessed, which is not the same as none. */
export interface Risks {
  domesticAbuse?: string;
  selfHarm?: boolean;
  safeguardingChildren?: boolean;
}
