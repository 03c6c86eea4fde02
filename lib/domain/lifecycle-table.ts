/**
 * The lifecycle table: the one place that says which command may be sent in which stage, by whom,
 * and which stages it can lead to. The domain validates with it, the PlanCommand state machine's
 * Guard and Route Choice states are generated from it, docs/lifecycle.md is rendered from it, and
 * the web app offers a command only in the stages it allows.
 *
 * It imports no zod (only types, the session correction bound and the follow-ups lapse, whose modules import only the calendar),
 * so the web app's bundle carries it without zod; lib/domain/lifecycle.ts
 * re-exports it beside the zod schemas made from it.
 */
import type { STAGES } from './vocabulary.ts';
import { SESSION_CORRECTION_DAYS } from './session-correction.ts';
import { FOLLOW_UPS_LAPSE_MONTHS } from './follow-ups.ts';

type Stage = (typeof STAGES)[number];

/** Stages in which a participant is still being worked with. */
export const OPEN_STAGES = ['referred', 'assessment', 'allocating', 'active'] as const satisfies readonly Stage[];
/**
 * Consent can be withdrawn while anything is still done with her data: the open stages, and
 * `exited`, where follow-ups (asking about her reoffending) are still due.
 */
const CONSENT_WITHDRAWABLE_STAGES = [...OPEN_STAGES, 'exited'] as const satisfies readonly Stage[];

/**
 * Her contact details, address and preferred name may be corrected on a plan (PATCH
 * /plans/{id}/participant) while she may still be contacted about it: the open stages, and `exited`,
 * whose 6- and 12-month follow-ups still ask her. A closed or withdrawn plan contacts her no more:
 * details given for it would be kept for no purpose, so they go on a plan of hers in use (or come
 * with a referral of her again). Never once her identity is erased.
 */
const CONTACT_CORRECTABLE_STAGES = [...OPEN_STAGES, 'exited'] as const satisfies readonly Stage[];

/** Whether her contact details may be corrected on this plan (the API's rule; the web offers the form by it). */
export function contactDetailsCorrectable(plan: { stage: string; identityErasedAt?: string | undefined }): boolean {
  return !plan.identityErasedAt && (CONTACT_CORRECTABLE_STAGES as readonly string[]).includes(plan.stage);
}

/** The stages in which contactDetailsCorrectable may hold, for words that name them. */
export const contactCorrectableStages: readonly Stage[] = CONTACT_CORRECTABLE_STAGES;

export const ACTORS = ['coordinator', 'provider', 'team-lead', 'timer'] as const;
export type Actor = (typeof ACTORS)[number];

export interface LifecycleRow {
  /** Who may send it. */
  readonly actors: readonly Actor[];
  /** Stages in which it is allowed. */
  readonly from: readonly Stage[];
  /** Stages it can lead to (the domain picks one from the command and the plan). */
  readonly next: readonly Stage[];
  /** The state machine's step that applies it: reads as the lifecycle. */
  readonly step: string;
  /** The provider-facing commands are addressed to an allocation, not a plan. */
  readonly target: 'plan' | 'allocation';
  /** Path segment in the HTTP API (`POST /plans/{planId}/{segment}` or `/allocations/{id}/{segment}`). */
  readonly segment: string;
  readonly summary: string;
  /** The command never moves the plan: it stays in the stage it was sent in (`next` lists those). */
  readonly staysInStage?: true;
  /**
   * When the stage it leads to depends on the stage it was sent in, not any of `next` from any of
   * `from`: the only moves it makes ([from, to]); otherwise it stays in the stage it was sent in.
   */
  readonly moves?: readonly (readonly [Stage, Stage])[];
}

const coordinator = ['coordinator'] as const;
const provider = ['provider'] as const;
const timer = ['timer'] as const;
/** Stages in which an escalation can be open (exited: an overdue follow-up). */
const ESCALATABLE_STAGES = [...OPEN_STAGES, 'exited'] as const satisfies readonly Stage[];

export const LIFECYCLE = {
  refer: { actors: coordinator, from: ['none'], next: ['referred'], step: 'Record referral', target: 'plan', segment: 'refer', summary: 'Take a referral: source, local authority, urgency.' },
  'record-consent': { actors: coordinator, from: ['referred'], next: ['assessment'], step: 'Record consent', target: 'plan', segment: 'record-consent', summary: 'Record informed consent and what may be shared.' },
  'change-consent': {
    actors: coordinator,
    from: ['assessment', 'allocating', 'active'],
    next: ['assessment', 'allocating', 'active'],
    // The same stage, or back from active to allocating when a priority need lost its provider or can now be offered.
    moves: [['active', 'allocating']],
    step: 'Change consent',
    target: 'plan',
    segment: 'change-consent',
    summary:
      'Replace the scope of her consent (the one replaced stays on the plan). Offers and allocations with providers it no longer covers are withdrawn or ended and those providers told to stop and purge; unmet needs are offered within the new scope. Refused once consent is withdrawn.',
  },
  withdraw: { actors: coordinator, from: ['referred', 'assessment'], next: ['withdrawn'], step: 'Withdraw referral', target: 'plan', segment: 'withdraw', summary: 'End a referral that will not become a plan (not eligible, declined support, unreachable).' },
  'submit-assessment': { actors: coordinator, from: ['assessment'], next: ['allocating'], step: 'Record assessment', target: 'plan', segment: 'submit-assessment', summary: 'Record the holistic needs assessment; providers are then proposed and offered.' },
  'offer-manually': { actors: coordinator, from: ['allocating', 'active'], next: ['allocating', 'active'], staysInStage: true, step: 'Offer manually', target: 'plan', segment: 'offer-manually', summary: 'Override the proposal: offer a need to a chosen service, with a reason.' },
  activate: { actors: coordinator, from: ['allocating'], next: ['active'], step: 'Activate plan', target: 'plan', segment: 'activate', summary: 'Start the plan with the unmet needs recorded as gaps.' },
  // An acceptance that leaves every priority need accepted activates an allocating plan; nothing takes an active one back.
  'accept-offer': { actors: provider, from: ['allocating', 'active'], next: ['allocating', 'active'], moves: [['allocating', 'active']], step: 'Accept offer', target: 'allocation', segment: 'accept', summary: 'A provider takes on an offered allocation.' },
  'decline-offer': { actors: provider, from: ['allocating', 'active'], next: ['allocating', 'active'], staysInStage: true, step: 'Decline offer', target: 'allocation', segment: 'decline', summary: 'A provider declines an offer with a coded reason; the needs go to the next candidate.' },
  'record-contact': {
    // Also once the plan has exited: a session held before the allocation ended, recorded late within the correction bound (lib/domain/session-correction.ts).
    actors: provider,
    from: ['allocating', 'active', 'exited'],
    next: ['allocating', 'active', 'exited'],
    staysInStage: true,
    step: 'Record contact',
    target: 'allocation',
    segment: 'record-contact',
    summary: `A session attended, missed or cancelled. Also on an ended allocation (its plan exited too), for a session held on or before the day it ended, for ${SESSION_CORRECTION_DAYS} days after it ended: not after an end because her consent was withdrawn, never once her identity is erased or the plan is closed.`,
  },
  'correct-contact': {
    // The provider that recorded the session: only it knows whether the session took place. A coordinator
    // who spots a duplicate asks it (the allocation page shows the provider the same list).
    // Also once the plan has exited: for a bounded time after the allocation ended (lib/domain/session-correction.ts).
    actors: provider,
    from: ['allocating', 'active', 'exited'],
    next: ['allocating', 'active', 'exited'],
    staysInStage: true,
    step: 'Correct contact',
    target: 'allocation',
    segment: 'correct-contact',
    summary: `A provider corrects the date or kind of a session it recorded, or withdraws it (recorded twice, or no such session), with a coded reason; the session keeps its number and its earlier values stay on the plan. Allowed while the allocation is accepted and for ${SESSION_CORRECTION_DAYS} days after it ended (its plan exited too), not after an end because her consent was withdrawn, never once her identity is erased or the plan is closed.`,
  },
  'end-allocation': { actors: ['provider', 'coordinator'], from: ['allocating', 'active'], next: ['allocating', 'active'], staysInStage: true, step: 'End allocation', target: 'allocation', segment: 'end', summary: "A provider's part of the plan is done, with its outcome." },
  'record-review': { actors: coordinator, from: ['active'], next: ['active', 'allocating', 'exited'], step: 'Record review', target: 'plan', segment: 'record-review', summary: 'A review checkpoint: scores per domain, the participant’s words, continue / adjust / exit.' },
  exit: { actors: coordinator, from: ['assessment', 'allocating', 'active'], next: ['exited'], step: 'Exit plan', target: 'plan', segment: 'exit', summary: 'End support with a reason; open offers and allocations are withdrawn and providers told.' },
  'withdraw-consent': {
    actors: coordinator,
    from: CONSENT_WITHDRAWABLE_STAGES,
    next: ['closed'],
    step: 'Withdraw consent',
    target: 'plan',
    segment: 'withdraw-consent',
    summary: 'Consent withdrawn: support ends at once (an exited plan\'s follow-ups still due are cancelled), providers are told to stop processing and purge, and the plan closes.',
  },
  'record-follow-up': { actors: coordinator, from: ['exited'], next: ['exited', 'closed'], step: 'Record follow-up', target: 'plan', segment: 'record-follow-up', summary: 'The 6- or 12-month follow-up outcome; the plan closes after the last one. Refused once consent is withdrawn.' },
  'correct-follow-up': {
    actors: coordinator,
    from: ['exited', 'closed'],
    next: ['exited', 'closed'],
    step: 'Correct follow-up',
    target: 'plan',
    segment: 'correct-follow-up',
    staysInStage: true,
    summary: 'Correct a recorded 6- or 12-month follow-up outcome, with a coded reason; the earlier answer stays in the history. The stage does not change. Refused once consent is withdrawn.',
  },
  'acknowledge-escalation': {
    actors: ['team-lead'],
    from: ESCALATABLE_STAGES,
    next: ESCALATABLE_STAGES,
    step: 'Acknowledge escalation',
    target: 'plan',
    segment: 'escalations/acknowledge',
    staysInStage: true,
    summary: 'A team lead records that she has picked up an open escalation (who and when stay on the plan until it is resolved; a repeat does not clear it). The stage does not change.',
  },
  'assessment-overdue': { actors: timer, from: ['referred', 'assessment'], next: ['referred', 'assessment'], staysInStage: true, step: 'Escalate overdue assessment', target: 'plan', segment: 'assessment-overdue', summary: 'No assessment by its deadline: escalate to the team lead.' },
  'offer-expired': { actors: timer, from: ['allocating', 'active'], next: ['allocating', 'active'], staysInStage: true, step: 'Expire offer', target: 'plan', segment: 'offer-expired', summary: 'An offer not answered by its deadline: its needs go to the next candidate.' },
  'activation-overdue': { actors: timer, from: ['allocating'], next: ['allocating'], step: 'Escalate overdue activation', target: 'plan', segment: 'activation-overdue', summary: 'Still allocating after the deadline: escalate to the team lead.' },
  'review-due': { actors: timer, from: ['active'], next: ['active'], step: 'Remind of review', target: 'plan', segment: 'review-due', summary: 'A review is coming up: remind the coordinator.' },
  'review-overdue': { actors: timer, from: ['active'], next: ['active'], step: 'Escalate overdue review', target: 'plan', segment: 'review-overdue', summary: 'A review past its grace period: escalate to the team lead.' },
  'no-contact': { actors: timer, from: ['active'], next: ['active'], step: 'Raise disengagement alert', target: 'plan', segment: 'no-contact', summary: 'No attended contact for the configured period: alert coordinator and team lead.' },
  // A plan whose consent was withdrawn (stored by a release that kept its follow-ups) or whose identity was
  // erased with follow-ups still to come cannot be followed up: its timer closes it (plan.closed.v1).
  // Follow-ups nobody recorded by FOLLOW_UPS_LAPSE_MONTHS after the 12-month one fell due are recorded as not
  // obtained and the plan closes, so retention (counted from closing) ends her identity's keeping.
  'follow-up-due': {
    actors: timer,
    from: ['exited'],
    next: ['exited', 'closed'],
    step: 'Remind of follow-up',
    target: 'plan',
    segment: 'follow-up-due',
    summary: `A 6- or 12-month follow-up is due: remind the coordinator, then escalate. ${FOLLOW_UPS_LAPSE_MONTHS} months after the 12-month one fell due, each still not recorded is recorded as unknown (not obtained: the figures leave it out of those known) and the plan closes, so retention starts. A plan whose consent was withdrawn or whose identity was erased closes instead.`,
  },
} as const satisfies Record<string, LifecycleRow>;

export type CommandName = keyof typeof LIFECYCLE;

/** Every [from, to] a command can take the plan through (to === from: it stays), as its row says. */
export function stageMoves(command: CommandName): [Stage, Stage][] {
  const row: LifecycleRow = LIFECYCLE[command];
  if (row.staysInStage) return row.from.map((from) => [from, from]);
  if (row.moves) return [...row.from.map((from): [Stage, Stage] => [from, from]), ...row.moves.map(([from, to]): [Stage, Stage] => [from, to])];
  return row.from.flatMap((from) => row.next.map((to): [Stage, Stage] => [from, to]));
}

/** What a command's next stage is, in words for the docs: its `next`, or where it depends on the stage, which. */
export function nextInWords(command: CommandName): string {
  const row: LifecycleRow = LIFECYCLE[command];
  if (row.staysInStage) return 'the same stage';
  if (!row.moves) return row.next.join(', ');
  return ['the same stage', ...row.moves.map(([from, to]) => `${from} → ${to}`)].join(', or ');
}

export function isAllowedIn(command: CommandName, stage: Stage): boolean {
  return (LIFECYCLE[command].from as readonly Stage[]).includes(stage);
}
