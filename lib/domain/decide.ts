import type { z } from 'zod';
import { gapAtManualActivation, turnedDownOffers } from './allocation.ts';
import { allocationClosedRefusal, allocationGoneRefusal } from './allocation-closed.ts';
import { categoryPurges } from './category-purge.ts';
import { allocationsToPurge, consentCoversProvider, consentWithdrawnAt, isLiveAllocation, providersOf, sameScope } from './consent.ts';
import { addCalendarDays, addDays, londonDate, londonDateTimeWords, reviewDates, workingDaysAfter, type WorkingDayCalendar } from './calendar.ts';
import { FOLLOW_UP_MONTHS, followUpDueAfterExit, followUpDueAt, followUpsLapseAt } from './follow-ups.ts';
import { DomainError, forbidden, invalid, notAllowedInStage, notFound, staleVersion, type FieldError } from './errors.ts';
import { isAllowedIn, LIFECYCLE, mayBeSentBy, type Actor, type CommandName, type Stage, type TimerCommand } from './lifecycle.ts';
import type { DeadlinePolicy } from './policy.ts';
import { refuseFreeTextAfterErasure } from './redaction.ts';
import { lateSessionLastDay, lateSessionLastDayWords, lateSessionRefusal, sessionCorrectionRefusal } from './session-correction.ts';
import { COMMAND_PAYLOADS, MAX_REPLACED_CONSENTS, type Allocation, type ConsentScope, type Deadline, type Plan, type PlanEvent, type PayloadOf, type PurgeInstruction } from './schemas.ts';
import type { Directory } from './directory.ts';
import type { NeedDomain } from './taxonomy.ts';

/**
 * decide(plan, command, context) -> the next plan and the events of the transition.
 * Pure: time, ids, the deadline policy, the calendar and the directory are all passed in.
 */

export interface CommandActor {
  role: Actor;
  /** Who sent it (the token's subject); `timer` for the sweeper. */
  sub: string;
  /** The token's name claim, kept where the plan records who did something (an acknowledgement). */
  name?: string;
  providerId?: string;
}

export interface Command {
  name: CommandName;
  planId: string;
  payload: unknown;
  actor: CommandActor;
  allocationId?: string;
  expectedVersion?: number;
  /** The client's Idempotency-Key and a fingerprint of the request, remembered on the plan. */
  idempotency?: { key: string; fingerprint: string };
}

export interface DecideContext {
  now: string;
  newEventId: () => string;
  policy: DeadlinePolicy;
  calendar: WorkingDayCalendar;
  directory: Directory;
}

export interface Decision {
  plan: Plan;
  /** The events this command produced (also appended to `plan.outbox`). */
  events: PlanEvent[];
  /** False when a timer found its deadline already gone: nothing to save. */
  changed: boolean;
  /** True when needs changed and the Allocate providers step must run. */
  needsAllocation: boolean;
  status: 200 | 201;
}

/** How many applied commands a plan remembers for idempotent retries. */
export const REMEMBERED_COMMANDS = 50;

/** One error per field at fault; an unknown field is named by its own path, not its parent's. */
export function zodErrors(error: z.ZodError, root = '(body)'): FieldError[] {
  const join = (path: readonly PropertyKey[]) => path.map(String).join('.') || root;
  return error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ path: join([...issue.path, key]), message: 'is not a known field' }))
      : [{ path: join(issue.path), message: issue.message }],
  );
}

export function parsePayload<C extends CommandName>(name: C, payload: unknown): PayloadOf<C> {
  const parsed = COMMAND_PAYLOADS[name].safeParse(payload ?? {});
  if (!parsed.success) {
    const errors = zodErrors(parsed.error);
    throw new DomainError('InvalidCommand', `The ${name} request is not valid: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, errors);
  }
  return parsed.data as PayloadOf<C>;
}

/** The working state of one decision: a draft plan and the events being produced. */
class Transition {
  readonly plan: Plan;
  readonly events: PlanEvent[] = [];
  readonly ctx: DecideContext;
  needsAllocation = false;
  constructor(plan: Plan, ctx: DecideContext) {
    this.plan = plan;
    this.ctx = ctx;
  }
  get now() {
    return this.ctx.now;
  }
  emit(type: string, data: Record<string, unknown>, providerId?: string) {
    this.plan.sequence += 1;
    this.events.push({ id: this.ctx.newEventId(), type, time: this.now, planId: this.plan.planId, sequence: this.plan.sequence, ...(providerId ? { providerId } : {}), data });
  }
  setDeadline(command: TimerCommand, dueAt: string, ref?: string) {
    const deadlineId = ref ? `${command}:${ref}` : command;
    this.plan.deadlines = this.plan.deadlines.filter((d) => d.deadlineId !== deadlineId);
    this.plan.deadlines.push({ deadlineId, command, dueAt, ...(ref ? { ref } : {}) });
  }
  clearDeadlines(predicate: (d: Deadline) => boolean) {
    this.plan.deadlines = this.plan.deadlines.filter((d) => !predicate(d));
  }
  raise(kind: string, ref?: string) {
    const open = this.plan.escalations.find((e) => e.kind === kind && e.ref === ref && !e.resolvedAt);
    if (!open) this.plan.escalations.push({ kind, raisedAt: this.now, ...(ref ? { ref } : {}) });
    this.emit('plan.escalated.v1', { planRef: this.plan.planId, kind, ...(ref ? { ref } : {}), stage: this.plan.stage, repeated: Boolean(open) });
  }
  resolve(predicate: (kind: string, ref?: string) => boolean) {
    for (const e of this.plan.escalations) if (!e.resolvedAt && predicate(e.kind, e.ref)) e.resolvedAt = this.now;
  }
  moveTo(stage: Stage) {
    this.plan.stage = stage;
  }
}

/**
 * The escalations that follow the plan's state rather than a clock, brought up to date at the end of
 * every transition. While the plan is allocating or active, a need with a recorded gap and no
 * accepted allocation has an open `coverage-gap` (raised once: it stays on the team lead's list, it
 * does not repeat weekly as a timer's would, since no deadline passes again); it is resolved once the
 * need is accepted by a provider, closed at a review, or the plan leaves support. An
 * `offer-unanswered` is resolved when none of its needs is still unmet in a plan in support.
 */
const HER_CHOICE_GAPS: ReadonlySet<string> = new Set(['no-consent-to-share', 'outside-consent']);

export function reviewCoverageEscalations(t: Transition) {
  const plan = t.plan;
  const inSupport = plan.stage === 'allocating' || plan.stage === 'active';
  const open = new Set(plan.needs.filter((n) => n.status === 'open').map((n) => n.domain));
  const accepted = new Set(plan.allocations.filter((a) => a.status === 'accepted').flatMap((a) => a.needs));
  const unmet = (domain: string) => inSupport && open.has(domain as NeedDomain) && !accepted.has(domain as NeedDomain);
  const isOpen = (kind: string, ref: string) => plan.escalations.some((e) => e.kind === kind && e.ref === ref && !e.resolvedAt);
  // A need whose gap is now her choice (consent changed) leaves the team lead's list too.
  const herChoice = (domain: string) => plan.gaps.some((g) => g.domain === domain) && plan.gaps.every((g) => g.domain !== domain || HER_CHOICE_GAPS.has(g.reason));
  t.resolve((kind, ref) => kind === 'coverage-gap' && (!unmet(ref ?? '') || herChoice(ref ?? '')));
  t.resolve((kind, ref) => kind === 'offer-unanswered' && !(plan.allocations.find((a) => a.allocationId === ref)?.needs ?? []).some(unmet));
  // A gap because she has not agreed to sharing with providers, or not with the ones that could meet
  // the need, is her choice, not a coverage problem a team lead could act on: it raises nothing (a gap
  // of another reason for the same need still does).
  const actionable = plan.gaps.filter((g) => !HER_CHOICE_GAPS.has(g.reason));
  for (const domain of new Set(actionable.map((g) => g.domain))) if (unmet(domain) && !isOpen('coverage-gap', domain)) t.raise('coverage-gap', domain);
}

// ---------------------------------------------------------------------------------------------
// Provider-facing event data: thin. A reference, the allocation, what that provider needs to know.

function offerData(t: Transition, a: Allocation) {
  // Thin on purpose: goals, risks and adjustments are fetched through the audited API (`detail`),
  // where consent is checked at the moment of reading, never pushed to a provider's systems.
  const needs = t.plan.needs.filter((n) => n.status === 'open' && a.needs.includes(n.domain)).map((n) => ({ domain: n.domain, level: n.level }));
  return {
    planRef: t.plan.planId,
    allocationId: a.allocationId,
    serviceId: a.serviceId,
    needs,
    lead: a.lead,
    respondBy: a.respondBy,
    detail: `/allocations/${a.allocationId}`,
  };
}

const allocationRef = (a: Allocation) => ({ allocationId: a.allocationId, serviceId: a.serviceId, providerId: a.providerId });

/** The key worker is the provider holding the most open needs; ties go to the earliest allocation. */
function recomputeLead(plan: Plan) {
  const live = plan.allocations.filter((a) => a.status === 'offered' || a.status === 'accepted');
  const byProvider = new Map<string, number>();
  for (const a of live) byProvider.set(a.providerId, (byProvider.get(a.providerId) ?? 0) + a.needs.length);
  let lead: string | undefined;
  for (const a of live) if (lead === undefined || (byProvider.get(a.providerId) ?? 0) > (byProvider.get(lead) ?? 0)) lead = a.providerId;
  for (const a of plan.allocations) a.lead = a.providerId === lead && (a.status === 'offered' || a.status === 'accepted');
}

export function liveAllocations(plan: Plan): Allocation[] {
  return plan.allocations.filter((a) => a.status === 'offered' || a.status === 'accepted');
}

/** Open needs no offered or accepted allocation covers. */
export function unallocatedNeeds(plan: Plan) {
  const held = new Set(liveAllocations(plan).flatMap((a) => a.needs));
  return plan.needs.filter((n) => n.status === 'open' && !held.has(n.domain));
}

function isReadyToActivate(plan: Plan): boolean {
  const accepted = plan.allocations.filter((a) => a.status === 'accepted');
  if (accepted.length === 0) return false;
  const held = new Set(accepted.flatMap((a) => a.needs));
  return plan.needs.filter((n) => n.status === 'open' && n.priority).every((n) => held.has(n.domain));
}

/**
 * When the review the plan waits for is due. Plans armed before review dates landed on working days
 * (2026-11-29) hold no reviewDueAt: theirs is counted as it was then, in whole days.
 */
export function reviewDueAtOf(plan: Plan): string {
  if (plan.reviewDueAt) return plan.reviewDueAt;
  const last = plan.reviews.at(-1);
  return addDays(last ? `${last.date}T12:00:00.000Z` : (plan.activatedAt ?? plan.createdAt), plan.reviewEveryDays);
}

/** `from`: the activation instant or the previous review's date; the dates land on working days (calendar.ts reviewDates). */
function armReviewDeadlines(t: Transition, from: string) {
  const { policy } = t.ctx;
  const dates = reviewDates(t.ctx.calendar, from, t.plan.reviewEveryDays, policy.reviewReminderDaysBefore, policy.reviewGraceDays);
  const number = String(t.plan.reviews.length + 1);
  t.plan.reviewDueAt = dates.dueAt;
  t.clearDeadlines((d) => d.command === 'review-due' || d.command === 'review-overdue');
  t.setDeadline('review-due', dates.remindAt, number);
  t.setDeadline('review-overdue', dates.escalateAt, number);
}

function activate(t: Transition, manual?: { reason: string }) {
  const plan = t.plan;
  const first = !plan.activatedAt;
  t.moveTo('active');
  if (first) {
    plan.activatedAt = t.now;
    armReviewDeadlines(t, t.now);
    t.setDeadline('no-contact', addDays(t.now, t.ctx.policy.noContactDays));
  }
  t.clearDeadlines((d) => d.command === 'activation-overdue');
  t.resolve((k) => k === 'activation-overdue');
  const unmet = unallocatedNeeds(plan).map((n) => n.domain);
  if (manual) plan.manualActivation = { reason: manual.reason, at: t.now, unmetNeeds: unmet };
  t.emit('plan.activated.v1', { planRef: plan.planId, manual: Boolean(manual), firstActivation: first, unmetNeeds: unmet });
}

function findAllocation(t: Transition, command: Command): Allocation {
  const allocation = t.plan.allocations.find((a) => a.allocationId === command.allocationId);
  if (!allocation) throw notFound(`Allocation ${command.allocationId ?? '(none)'} is not part of plan ${t.plan.planId}.`);
  if (command.actor.role === 'provider' && allocation.providerId !== command.actor.providerId)
    throw forbidden(`Allocation ${allocation.allocationId} is held by another provider.`);
  return allocation;
}

function requireStatus(a: Allocation, status: Allocation['status'], action: string, command: CommandName) {
  if (a.status === status) return;
  // Gone (expired, declined, withdrawn, ended): say when and what can no longer be done, as on a closed plan.
  if (!isLiveAllocation(a)) throw notAllowedInStage(allocationGoneRefusal(a, command));
  throw notAllowedInStage(`Cannot ${action} allocation ${a.allocationId}: it is ${a.status}, not ${status}.`);
}

/** A session's date: not in the future, and not before the offer existed (a typo, a wrong year, that would count as engagement). */
function checkSessionDate(t: Transition, a: Allocation, date: string, path: string) {
  notInFuture(t, date, path);
  const offered = londonDate(a.offeredAt);
  if (date < offered) throw invalid(path, `must not be before the allocation was offered (${offered})`);
}

/** A session counts (attendance at reviews, the exit summary, the disengagement alert) unless its provider withdrew it. */
export const sessionCounts = (c: Plan['contacts'][number]): boolean => !c.withdrawnAt;

/**
 * The disengagement alert's deadline: the policy's days after the last attended session still
 * recorded, or after activation when there is none (as activation first set it); none before activation.
 */
function armNoContact(t: Transition) {
  const lastAttended = t.plan.contacts.filter((c) => sessionCounts(c) && c.kind === 'attended').map((c) => c.date).sort().at(-1);
  const from = lastAttended ? `${lastAttended}T12:00:00.000Z` : t.plan.activatedAt;
  if (from) t.setDeadline('no-contact', addDays(from, t.ctx.policy.noContactDays));
  else t.clearDeadlines((d) => d.command === 'no-contact');
}

function notInFuture(t: Transition, date: string, path: string) {
  if (date > londonDate(t.now)) throw invalid(path, `must not be in the future (today is ${londonDate(t.now)})`);
}

/** Withdraw open offers and end accepted allocations, telling each provider. */
function releaseAllocations(t: Transition, why: string, only?: (a: Allocation) => boolean) {
  for (const a of liveAllocations(t.plan).filter(only ?? (() => true))) {
    const wasAccepted = a.status === 'accepted';
    a.status = wasAccepted ? 'ended' : 'withdrawn';
    a.endedAt = t.now;
    a.outcome = why;
    t.clearDeadlines((d) => d.ref === a.allocationId);
    t.emit(wasAccepted ? 'allocation.ended.v1' : 'allocation.withdrawn.v1', { planRef: t.plan.planId, allocationId: a.allocationId, reason: why }, a.providerId);
  }
  recomputeLead(t.plan);
}

/**
 * Consent withdrawn: every provider that was ever sent anything about the plan (offered, declined,
 * expired or ended alike) is told to stop processing and purge. The events carry nothing beyond
 * the reference, the allocation and the instruction.
 */
function purgeAtProviders(t: Transition, only: (a: Allocation) => boolean = () => true) {
  for (const a of t.plan.allocations.filter(only)) {
    if (a.status === 'offered' || a.status === 'accepted') {
      a.status = a.status === 'accepted' ? 'ended' : 'withdrawn';
      a.endedAt = t.now;
      a.outcome = 'consent-withdrawn';
    }
    t.clearDeadlines((d) => d.ref === a.allocationId);
    const told = tellToPurge(a, { instruction: 'stop-processing-and-purge', at: t.now });
    t.emit('plan.consent-withdrawn.v1', { planRef: t.plan.planId, allocationId: a.allocationId, instruction: told.instruction }, a.providerId);
  }
  recomputeLead(t.plan);
}

/** The instruction sent to the allocation's provider, kept on the allocation: its own views say it too (provider-views.ts). */
function tellToPurge<I extends PurgeInstruction>(a: Allocation, instruction: I): I {
  a.purgeInstructions = [...(a.purgeInstructions ?? []), instruction];
  return instruction;
}

function exitPlan(t: Transition, reason: PayloadOf<'exit'>['reason'], note?: string) {
  // Providers learn that the plan ended, not why: an exit into custody is offence information.
  releaseAllocations(t, 'plan-exited');
  t.plan.exit = { reason, exitedAt: t.now, ...(note ? { note } : {}) };
  t.moveTo('exited');
  t.clearDeadlines(() => true);
  t.resolve(() => true);
  for (const month of FOLLOW_UP_MONTHS) t.setDeadline('follow-up-due', followUpDueAfterExit(t.now, month), String(month));
  t.emit('plan.exited.v1', { planRef: t.plan.planId, reason });
}

function closePlan(t: Transition) {
  t.moveTo('closed');
  t.plan.closedAt = t.now;
  t.clearDeadlines(() => true);
  t.resolve(() => true);
  t.emit('plan.closed.v1', { planRef: t.plan.planId });
}

/** Nothing more is asked or recorded about her once she has said no: the follow-ups ask about her offending. */
function refuseIfConsentWithdrawn(plan: Plan, command: CommandName) {
  const at = consentWithdrawnAt(plan);
  if (at) throw notAllowedInStage(`${command} is not allowed: her consent was withdrawn on ${londonDate(at)}, so follow-ups are no longer asked, recorded or corrected.`);
}

/**
 * Consent withdrawn: every provider ever sent anything is told to stop and purge, and nothing more is
 * done with her data. From an open stage the plan exits for that reason; from exited the exit keeps
 * its reason (the figures count why support ended) and the follow-ups still due are cancelled. Either
 * way the plan closes at once, with no follow-up due, so the retention period starts now.
 */
function withdrawConsent(t: Transition, note?: string) {
  const plan = t.plan;
  const wasExited = plan.stage === 'exited';
  // The note (why, in the coordinator's words) stays on the plan, also from referred (no consent yet) and
  // exited (the exit's own note is another's); events carry no free text about her.
  if (plan.consent) plan.consent.withdrawnAt = t.now;
  if (note) plan.consentWithdrawalNote = note;
  purgeAtProviders(t);
  if (wasExited) cancelFollowUps(t);
  else {
    plan.exit = { reason: 'consent-withdrawn', exitedAt: t.now };
    t.emit('plan.exited.v1', { planRef: plan.planId, reason: 'consent-withdrawn' });
  }
  closePlan(t);
}

/** The follow-ups of an exited plan not yet recorded will not be asked: her consent was withdrawn. */
function cancelFollowUps(t: Transition) {
  const months = FOLLOW_UP_MONTHS.filter((m) => !t.plan.followUps.some((f) => f.month === m));
  t.emit('plan.follow-ups-cancelled.v1', { planRef: t.plan.planId, months, reason: 'consent-withdrawn' });
}

function closeNeeds(t: Transition, domains: NeedDomain[]) {
  for (const need of t.plan.needs) if (domains.includes(need.domain) && need.status === 'open') Object.assign(need, { status: 'closed', closedAt: t.now });
  const open = new Set(t.plan.needs.filter((n) => n.status === 'open').map((n) => n.domain));
  // An allocation ends when every need it served is closed; one that still serves an open need stays.
  releaseAllocations(t, 'needs-closed', (a) => a.needs.every((n) => !open.has(n)));
}

/** Every provider a consent names must be one of the directory's organisations: a typo would otherwise exclude nobody, or everybody. */
function requireProvidersInDirectory(t: Transition, scope: ConsentScope) {
  if (scope.providers.kind === 'all') return;
  const known = new Set(t.ctx.directory.organizations.map((o) => o.id));
  const named: readonly string[] = scope.providers.providerIds;
  named.forEach((id, i) => {
    if (!known.has(id)) throw invalid(`scope.providers.providerIds.${i}`, `no provider "${id}" in the directory: name providers by their directory id (${[...known].sort().join(', ')})`);
  });
  // Every organisation but all of them is nobody: sharing on in words, off in effect, every need a gap.
  if (scope.shareWithProviders && scope.providers.kind === 'all-except' && [...known].every((id) => named.includes(id)))
    throw invalid('scope.providers.providerIds', 'names every provider in the directory, so nobody could be told: set shareWithProviders to false instead');
}

function outsideConsentWords(t: Transition, providerId: string): string {
  const name = t.ctx.directory.organizations.find((o) => o.id === providerId)?.name ?? providerId;
  const consent = t.plan.consent;
  if (!consent?.scope.shareWithProviders) return `her consent does not allow sharing with providers, so nothing can be offered to ${name}`;
  return `her consent does not cover ${name}: change her consent first if she agrees to it`;
}

/**
 * Her consent changed. The scope is replaced and the one it replaces kept (what she agreed to, when).
 * In allocating and active, a narrowing takes effect at once: each offer or accepted allocation with a
 * provider no longer covered is withdrawn or ended (outcome consent-withdrawn) and that provider is told
 * to stop processing and purge, as is a provider dropped that held a past allocation of hers. The
 * needs they held, and needs that were gaps because of her consent, go to the Allocate providers step,
 * which offers them within the new scope. A priority need that lost its accepted allocation, or a
 * priority gap the new scope can reach, takes an active plan back to allocating. The same scope again
 * is a re-confirmation: recorded, nothing else touched.
 */
function changeConsent(t: Transition, p: PayloadOf<'change-consent'>) {
  const plan = t.plan;
  const current = plan.consent;
  const withdrawn = consentWithdrawnAt(plan);
  if (withdrawn) throw notAllowedInStage(`Her consent was withdrawn on ${londonDate(withdrawn)}: it cannot be changed.`);
  if (!current) throw notAllowedInStage('No consent is recorded on this plan: record it with record-consent.');
  requireProvidersInDirectory(t, p.scope);
  notInFuture(t, p.givenAt, 'givenAt');
  if (p.givenAt < current.givenAt) throw invalid('givenAt', `must not be before the consent it replaces (given ${current.givenAt})`);
  const reconfirmed = sameScope(current.scope, p.scope);
  const changedEvent = { planRef: plan.planId, shareWithProviders: p.scope.shareWithProviders, dataCategories: p.scope.dataCategories, ...providerCounts(p.scope), method: p.method };
  if (reconfirmed) {
    // The same consent given again takes no place among the consents replaced, so a run of
    // re-confirmations never pushes what she agreed to before off the plan.
    const { reconfirmedNote: _older, ...kept } = current;
    // The latest date she gave it again, with how she gave it then (one keyed in late, given earlier,
    // moves neither back); the note is the latest typed.
    const latest = current.reconfirmedAt && current.reconfirmedAt > p.givenAt ? { reconfirmedAt: current.reconfirmedAt, reconfirmedMethod: current.reconfirmedMethod } : { reconfirmedAt: p.givenAt, reconfirmedMethod: p.method };
    plan.consent = { ...kept, reconfirmedAt: latest.reconfirmedAt, ...(latest.reconfirmedMethod ? { reconfirmedMethod: latest.reconfirmedMethod } : {}), ...(p.note ? { reconfirmedNote: p.note } : {}) };
    // Events carry no provider ids and no note: how many were named, and how.
    t.emit('plan.consent-changed.v1', { ...changedEvent, reconfirmed: true });
    return;
  }
  // The one replaced keeps when and how she last gave it again, and the note then typed: the plan is where they are kept.
  const { previous = [], previousDropped = 0, withdrawnAt: _never, ...replaced } = current;
  const kept = [...previous, { ...replaced, scope: { ...replaced.scope, providers: providersOf(replaced.scope) }, replacedAt: t.now }];
  const dropped = previousDropped + Math.max(0, kept.length - MAX_REPLACED_CONSENTS);
  plan.consent = {
    scope: p.scope,
    givenAt: p.givenAt,
    method: p.method,
    recordedAt: t.now,
    ...(p.note ? { note: p.note } : {}),
    previous: kept.slice(-MAX_REPLACED_CONSENTS),
    ...(dropped > 0 ? { previousDropped: dropped } : {}),
  };
  // Said in the change's own event, as a review's 'adjust' says what it changed in plan.adjusted.v1.
  const changed: Record<string, unknown> = { ...changedEvent, reconfirmed: false, backToAllocating: false };
  t.emit('plan.consent-changed.v1', changed);
  tellProvidersToPurgeWithdrawnCategories(t, current, p.scope);
  // Data categories alone change what providers read (at their next read), not who is offered what:
  // nothing is offered again, nothing re-run; the providers ever given a category taken out were told above.
  const sameProviders = sameScope({ ...current.scope, dataCategories: [] }, { ...p.scope, dataCategories: [] });
  if (sameProviders || plan.stage === 'assessment') return;
  const stageBefore = plan.stage;
  reallocateWithinConsent(t, current.scope, p.scope);
  changed.backToAllocating = stageBefore === 'active' && plan.stage === 'allocating';
}

/** What a consent-changed or consent-recorded event may say of the providers: the kind and how many, never which. */
function providerCounts(scope: ConsentScope) {
  return { providersKind: scope.providers.kind, providersNamed: scope.providers.kind === 'all' ? 0 : scope.providers.providerIds.length };
}

/**
 * Data categories taken out of her consent: each provider still covered that was ever given one of them
 * for this plan (categoryPurges: her contact details once it accepted, the rest once offered), whatever
 * its allocation's status now, is told to delete those; a 403 at its next read would tell it nothing, and
 * one whose allocation has ended makes no next read. Only that provider, only for its own allocation.
 * Providers her consent no longer covers are sent plan.consent-withdrawn.v1 instead.
 */
function tellProvidersToPurgeWithdrawnCategories(t: Transition, before: NonNullable<Plan['consent']>, after: ConsentScope) {
  for (const { allocation: a, withdrawnCategories } of categoryPurges(t.plan.allocations, before, after, t.now)) {
    const told = tellToPurge(a, { instruction: 'purge-withdrawn-categories', withdrawnCategories, at: t.now });
    t.emit('plan.consent-narrowed.v1', { planRef: t.plan.planId, allocationId: a.allocationId, withdrawnCategories: told.withdrawnCategories, instruction: told.instruction }, a.providerId);
  }
}

function reallocateWithinConsent(t: Transition, before: NonNullable<Plan['consent']>['scope'], after: ConsentScope) {
  const plan = t.plan;
  // Each allocation with a provider no longer covered: a live one is withdrawn or ended; it, and a past one
  // of a provider covered until now, is told to stop and purge (as a withdrawal of consent tells them all).
  const dropped = allocationsToPurge(plan.allocations, before, after);
  const lostAccepted = new Set<string>(dropped.filter((a) => a.status === 'accepted').flatMap((a) => a.needs));
  const released = dropped.filter(isLiveAllocation).length;
  purgeAtProviders(t, (a) => dropped.includes(a));
  const unallocated = unallocatedNeeds(plan);
  const consentGap = (domain: NeedDomain) => plan.gaps.some((g) => g.domain === domain && HER_CHOICE_GAPS.has(g.reason));
  const reachable = unallocated.filter((n) => lostAccepted.has(n.domain) || consentGap(n.domain) || !plan.gaps.some((g) => g.domain === n.domain));
  if (released === 0 && reachable.length === 0) return;
  t.needsAllocation = unallocated.length > 0;
  if (plan.stage !== 'active') return;
  const accepted = new Set(plan.allocations.filter((a) => a.status === 'accepted').flatMap((a) => a.needs));
  const asked = { localAuthority: plan.referral.localAuthority, age: plan.ageAtReferral, turnedDown: turnedDownOffers(plan), shareWithProviders: after.shareWithProviders, providers: after.providers };
  // Back to allocating only when a priority need can be offered within the new scope ('not-offered': a
  // service could still be asked). A priority need she has just taken from the only providers who could
  // meet it stays a gap of her choosing: the plan stays active, with its reviews, and no activation
  // deadline is armed for what nobody may offer.
  const priorityToOffer = unallocated.some(
    (n) => n.priority && !accepted.has(n.domain) && (lostAccepted.has(n.domain) || consentGap(n.domain)) && gapAtManualActivation(n.domain, asked, t.ctx.directory, {}).reason === 'not-offered',
  );
  if (priorityToOffer) {
    t.moveTo('allocating');
    t.setDeadline('activation-overdue', workingDaysAfter(t.ctx.calendar, t.now, t.ctx.policy.activationWithinWorkingDays));
  }
}

// ---------------------------------------------------------------------------------------------
// One function per command

type Apply<C extends CommandName> = (t: Transition, payload: PayloadOf<C>, command: Command) => void;

const apply: { [C in CommandName]: Apply<C> } = {
  refer: () => {
    throw new Error('refer creates the plan; handled in decide');
  },
  'record-consent': (t, p) => {
    requireProvidersInDirectory(t, p.scope);
    t.plan.consent = { scope: p.scope, givenAt: p.givenAt, method: p.method, recordedAt: t.now };
    notInFuture(t, p.givenAt, 'givenAt');
    // Consent is often given in custody or at court a few days before the referral is keyed in.
    if (p.givenAt < addCalendarDays(londonDate(t.plan.referral.receivedAt), -90)) throw invalid('givenAt', 'must not be more than 90 days before the referral');
    t.moveTo('assessment');
    t.emit('plan.consent-recorded.v1', { planRef: t.plan.planId, shareWithProviders: p.scope.shareWithProviders, dataCategories: p.scope.dataCategories, ...providerCounts(p.scope), method: p.method });
  },
  'change-consent': (t, p) => changeConsent(t, p),
  withdraw: (t, p) => {
    t.plan.withdrawal = { reason: p.reason, at: t.now, ...(p.note ? { note: p.note } : {}) };
    t.moveTo('withdrawn');
    t.clearDeadlines(() => true);
    t.resolve(() => true);
    t.emit('plan.withdrawn.v1', { planRef: t.plan.planId, reason: p.reason });
  },
  'submit-assessment': (t, p) => {
    const plan = t.plan;
    plan.needs = p.needs.map((n) => ({ ...n, status: 'open' as const, addedAt: t.now }));
    // Kept as said: a risk left out was not assessed, and is stored as absent, never as none.
    if (p.risks) plan.risks = p.risks;
    else delete plan.risks;
    plan.adjustments = p.adjustments;
    plan.assessedAt = t.now;
    t.moveTo('allocating');
    t.clearDeadlines((d) => d.command === 'assessment-overdue');
    t.resolve((k) => k === 'assessment-overdue');
    t.setDeadline('activation-overdue', workingDaysAfter(t.ctx.calendar, t.now, t.ctx.policy.activationWithinWorkingDays));
    t.needsAllocation = true;
    t.emit('plan.assessment-submitted.v1', { planRef: plan.planId, needs: plan.needs.map((n) => ({ domain: n.domain, level: n.level, priority: n.priority })) });
  },
  'offer-manually': (t, p) => {
    const plan = t.plan;
    const service = t.ctx.directory.services.find((s) => s.id === p.serviceId);
    if (!service) throw invalid('serviceId', `no service "${p.serviceId}" in the directory`);
    if (service.status !== 'active') throw invalid('serviceId', `service "${p.serviceId}" is ${service.status}`);
    if (!consentCoversProvider(plan.consent, service.organizationId)) throw invalid('serviceId', outsideConsentWords(t, service.organizationId));
    p.needs.forEach((domain, i) => {
      const need = plan.needs.find((n) => n.domain === domain && n.status === 'open');
      if (!need) throw invalid(`needs.${i}`, `${domain} is not an open need of this plan`);
      if (!service.needDomains.includes(domain)) throw invalid(`needs.${i}`, `service "${service.id}" does not offer ${domain} support`);
      const holder = plan.allocations.find((a) => a.status === 'accepted' && a.needs.includes(domain));
      if (holder) throw invalid(`needs.${i}`, `${domain} is held by accepted allocation ${holder.allocationId}; end it first`);
    });
    // The chosen service takes these needs over from any pending offer that had them.
    for (const a of plan.allocations.filter((x) => x.status === 'offered' && x.needs.some((n) => p.needs.includes(n)))) {
      const rest = a.needs.filter((n) => !p.needs.includes(n));
      if (rest.length === 0) releaseAllocations(t, 'replaced-by-manual-offer', (x) => x.allocationId === a.allocationId);
      else a.needs = rest;
    }
    plan.gaps = plan.gaps.filter((g) => !p.needs.includes(g.domain));
    addOffers(t, [{ serviceId: service.id, providerId: service.organizationId, needs: p.needs, why: `Offered by hand: ${p.reason}` }], p.reason);
  },
  activate: (t, p) => {
    // An unmet need without a gap gets allocation's own reason for it, so the gap is true: the
    // coordinator's reason is kept once, on manualActivation, not copied into gaps. The services'
    // load is not known here, so capacity is judged only from status and stated capacity.
    const plan = t.plan;
    const asked = {
      localAuthority: plan.referral.localAuthority,
      age: plan.ageAtReferral,
      turnedDown: turnedDownOffers(plan),
      shareWithProviders: Boolean(plan.consent?.scope.shareWithProviders),
      providers: providersOf(plan.consent?.scope),
    };
    for (const need of unallocatedNeeds(plan)) {
      if (!plan.gaps.some((g) => g.domain === need.domain)) plan.gaps.push({ ...gapAtManualActivation(need.domain, asked, t.ctx.directory, {}), recordedAt: t.now });
    }
    activate(t, { reason: p.reason });
  },
  'accept-offer': (t, p, command) => {
    const a = findAllocation(t, command);
    requireStatus(a, 'offered', 'accept', 'accept-offer');
    a.status = 'accepted';
    a.respondedAt = t.now;
    if (p.note) a.note = p.note;
    t.clearDeadlines((d) => d.ref === a.allocationId);
    t.emit('allocation.accepted.v1', { planRef: t.plan.planId, ...allocationRef(a), needs: a.needs }, a.providerId);
    if (t.plan.stage === 'allocating' && isReadyToActivate(t.plan)) activate(t);
  },
  'decline-offer': (t, p, command) => {
    const a = findAllocation(t, command);
    requireStatus(a, 'offered', 'decline', 'decline-offer');
    a.status = 'declined';
    a.respondedAt = t.now;
    a.declineReason = p.reason;
    if (p.note) a.note = p.note;
    t.clearDeadlines((d) => d.ref === a.allocationId);
    recomputeLead(t.plan);
    t.needsAllocation = true;
    t.emit('allocation.declined.v1', { planRef: t.plan.planId, ...allocationRef(a), reason: p.reason, needs: a.needs }, a.providerId);
  },
  'record-contact': (t, p, command) => {
    const a = findAllocation(t, command);
    // Ended (by the provider, by closed needs, or with the plan's exit): a session held before the end may
    // still be recorded late, within the same bound and stops as a correction (session-correction.ts).
    const late = a.status === 'ended';
    if (late) {
      const refused = lateSessionRefusal(t.plan, a, t.now);
      if (refused) throw notAllowedInStage(refused);
    } else requireStatus(a, 'accepted', 'record a contact for', 'record-contact');
    checkSessionDate(t, a, p.date, 'date');
    const lastDay = lateSessionLastDay(a);
    if (lastDay && p.date > lastDay) throw invalid('date', `must be on or before ${lateSessionLastDayWords(a)}: allocation ${a.allocationId} ended that day, and a session after it was not part of it`);
    t.plan.contacts.push({ allocationId: a.allocationId, providerId: a.providerId, date: p.date, kind: p.kind, recordedAt: t.now });
    if (p.kind === 'attended' && !late) {
      armNoContact(t);
      t.resolve((k) => k === 'no-contact');
    } else if (p.kind === 'attended' && t.plan.stage !== 'exited') {
      // Late, on a plan still open: engagement all the same, but an old date may not keep the alert away
      // (as a correction: resolved only if the alert's day, re-armed from it, is still to come). Once the
      // plan has exited nothing is awaited of her (its exit cleared the alert's deadline).
      armNoContact(t);
      const noContactDue = t.plan.deadlines.find((d) => d.command === 'no-contact')?.dueAt;
      if (noContactDue !== undefined && noContactDue > t.now) t.resolve((k) => k === 'no-contact');
    }
    t.emit('contact.recorded.v1', { planRef: t.plan.planId, ...allocationRef(a), date: p.date, kind: p.kind });
  },
  'correct-contact': (t, p, command) => {
    const a = findAllocation(t, command);
    // While accepted, and for a bounded time after it ended (session-correction.ts): the last session is the one most often mis-keyed.
    const refused = sessionCorrectionRefusal(t.plan, a, t.now);
    if (refused) throw notAllowedInStage(refused);
    const sessions = t.plan.contacts.filter((c) => c.allocationId === a.allocationId);
    const contact = sessions[p.session - 1];
    if (!contact) throw invalid('session', sessions.length === 0 ? 'no session is recorded on this allocation yet' : `must be a session recorded on this allocation: 1 to ${sessions.length}`);
    if (contact.withdrawnAt) throw invalid('session', `session ${p.session} was withdrawn on ${londonDateTimeWords(contact.withdrawnAt)}: there is nothing left to correct`);
    const previous = { date: contact.date, kind: contact.kind };
    const date = p.date ?? contact.date;
    const kind = p.kind ?? contact.kind;
    if (!p.withdrawn) {
      if (p.date !== undefined) {
        checkSessionDate(t, a, p.date, 'date');
        const ended = a.status === 'ended' && a.endedAt ? londonDate(a.endedAt) : undefined;
        if (ended && p.date > ended) throw invalid('date', `must not be after the allocation ended (${ended})`);
      }
      if (date === contact.date && kind === contact.kind) throw invalid(p.date !== undefined ? 'date' : 'kind', `session ${p.session} already reads ${contact.date}, ${contact.kind}: nothing to correct`);
      contact.date = date;
      contact.kind = kind;
    } else {
      contact.withdrawnAt = t.now;
    }
    contact.corrections = [...(contact.corrections ?? []), { previous, withdrawn: p.withdrawn === true, reason: p.reason, at: t.now }];
    // Attended sessions are what keep the disengagement alert away: its clock now runs from the last
    // attended session still recorded (or from activation when none is). A withdrawn one that was the
    // last therefore brings the alert nearer, and if that day has passed the next sweep raises it.
    // Not once the plan has exited: nothing is awaited of her then (its exit cleared the alert's deadline).
    const attended = previous.kind === 'attended' || kind === 'attended';
    if (attended && t.plan.stage !== 'exited') armNoContact(t);
    // An open alert is resolved only if the sessions as they now read keep it away: re-dating an old
    // attended session is no engagement, and resolving on it would close the team lead's alert only for
    // the next sweep to raise it again.
    const noContactDue = t.plan.deadlines.find((d) => d.command === 'no-contact')?.dueAt;
    if (!p.withdrawn && kind === 'attended' && noContactDue !== undefined && noContactDue > t.now) t.resolve((k) => k === 'no-contact');
    t.emit('contact.corrected.v1', { planRef: t.plan.planId, ...allocationRef(a), session: p.session, previous, date, kind, withdrawn: p.withdrawn === true, reason: p.reason });
  },
  'end-allocation': (t, p, command) => {
    const a = findAllocation(t, command);
    requireStatus(a, 'accepted', 'end', 'end-allocation');
    a.status = 'ended';
    a.endedAt = t.now;
    a.outcome = p.outcome;
    if (p.note) a.note = p.note;
    recomputeLead(t.plan);
    t.emit('allocation.ended.v1', { planRef: t.plan.planId, ...allocationRef(a), outcome: p.outcome, endedBy: command.actor.role }, a.providerId);
    const heldElsewhere = new Set(liveAllocations(t.plan).flatMap((x) => x.needs));
    const served = a.needs.filter((n) => !heldElsewhere.has(n));
    if (p.outcome === 'completed' || p.outcome === 'not-needed') {
      // The work on these needs is done: close them, so they are never offered again by accident.
      for (const need of t.plan.needs) if (served.includes(need.domain) && need.status === 'open') Object.assign(need, { status: 'closed', closedAt: t.now });
    } else if (served.length > 0) {
      // Support stopped before the need was met: find someone else (not this service) for it.
      t.needsAllocation = true;
    }
  },
  'record-review': (t, p) => {
    const plan = t.plan;
    const open = new Set(plan.needs.filter((n) => n.status === 'open').map((n) => n.domain));
    for (const domain of Object.keys(p.scores)) if (!open.has(domain as NeedDomain)) throw invalid(`scores.${domain}`, 'is not an open need of this plan');
    const date = p.date ?? londonDate(t.now);
    notInFuture(t, date, 'date');
    const previous = plan.reviews.at(-1)?.date ?? londonDate(plan.activatedAt ?? plan.createdAt);
    if (date < previous) throw invalid('date', `must not be before the previous review or activation (${previous})`);
    (p.addNeeds ?? []).forEach((n, i) => {
      if (open.has(n.domain)) throw invalid(`addNeeds.${i}.domain`, `${n.domain} is already an open need`);
    });
    (p.closeNeeds ?? []).forEach((d, i) => {
      if (!open.has(d)) throw invalid(`closeNeeds.${i}`, `${d} is not an open need`);
    });
    const courtLinked = plan.referral.source === 'court' || plan.referral.source === 'problem-solving-court';
    const holders = new Set(plan.allocations.filter((a) => a.status === 'accepted' || a.status === 'ended').map((a) => a.providerId));
    p.attendees.forEach((a, i) => {
      if (a.role === 'judge' && !courtLinked) throw invalid(`attendees.${i}.role`, 'a judge attends reviews only in court-linked plans');
      if (a.role === 'provider' && !holders.has(a.providerId ?? '')) throw invalid(`attendees.${i}.providerId`, `${a.providerId} holds no allocation in this plan`);
      // A provider whose allocation ended because her consent no longer covers it is not told of her review either.
      if (a.role === 'provider' && !consentCoversProvider(plan.consent, a.providerId ?? '')) throw invalid(`attendees.${i}.providerId`, outsideConsentWords(t, a.providerId ?? ''));
    });
    if (p.reviewEveryDays) plan.reviewEveryDays = p.reviewEveryDays;
    // Each contact counts in exactly one review: the first review recorded after the contact was.
    const since = plan.contacts.slice(plan.reviews.at(-1)?.contactsCounted ?? 0);
    const count = (kind: string) => since.filter((c) => sessionCounts(c) && c.kind === kind).length;
    const review = {
      reviewNumber: plan.reviews.length + 1,
      date,
      scores: p.scores,
      outcome: p.outcome,
      ...(p.participantWords ? { participantWords: p.participantWords } : {}),
      attendees: p.attendees,
      contactsCounted: plan.contacts.length,
      attendance: { attended: count('attended'), missed: count('missed'), cancelled: count('cancelled') },
      recordedAt: t.now,
    };
    plan.reviews.push(review);
    t.resolve((k) => k === 'review-overdue');
    t.emit('review.recorded.v1', { planRef: plan.planId, reviewNumber: review.reviewNumber, outcome: p.outcome, scores: p.scores, attendance: review.attendance, attendees: p.attendees.map((a) => a.role) });
    if (p.outcome === 'exit') {
      exitPlan(t, p.exitReason ?? 'other');
      return;
    }
    armReviewDeadlines(t, date);
    if (p.outcome === 'adjust') {
      if (p.closeNeeds?.length) closeNeeds(t, p.closeNeeds);
      for (const n of p.addNeeds ?? []) {
        const closed = plan.needs.find((x) => x.domain === n.domain);
        if (closed) Object.assign(closed, { ...n, status: 'open', addedAt: t.now, closedAt: undefined });
        else plan.needs.push({ ...n, status: 'open', addedAt: t.now });
      }
      plan.gaps = plan.gaps.filter((g) => open.has(g.domain) && !(p.closeNeeds ?? []).includes(g.domain));
      if (p.addNeeds?.length) {
        t.needsAllocation = true;
        if (p.addNeeds.some((n) => n.priority)) {
          t.moveTo('allocating');
          t.setDeadline('activation-overdue', workingDaysAfter(t.ctx.calendar, t.now, t.ctx.policy.activationWithinWorkingDays));
        }
      }
      t.emit('plan.adjusted.v1', { planRef: plan.planId, addedNeeds: (p.addNeeds ?? []).map((n) => n.domain), closedNeeds: p.closeNeeds ?? [] });
    }
  },
  exit: (t, p) => exitPlan(t, p.reason, p.note),
  'withdraw-consent': (t, p) => {
    // A plan exited before this change kept its follow-ups after a withdrawal: it is already withdrawn.
    const already = consentWithdrawnAt(t.plan);
    if (already) throw notAllowedInStage(`Her consent was already withdrawn on ${londonDate(already)}.`);
    withdrawConsent(t, p.note);
  },
  'record-follow-up': (t, p) => {
    refuseIfConsentWithdrawn(t.plan, 'record-follow-up');
    if (t.plan.followUps.some((f) => f.month === p.month)) throw invalid('month', `the ${p.month}-month follow-up is already recorded; to change its answer, use correct-follow-up`);
    const dueFrom = followUpDueAt(t.plan, p.month) ?? followUpDueAfterExit(t.now, p.month);
    // Reoffending within m months of exit can only be known once m months have passed.
    if (londonDate(t.now) < londonDate(dueFrom)) throw invalid('month', `the ${p.month}-month follow-up cannot be recorded before ${londonDate(dueFrom)}`);
    t.plan.followUps.push({ month: p.month, reoffended: p.reoffended, recordedAt: t.now });
    t.clearDeadlines((d) => d.command === 'follow-up-due' && d.ref === String(p.month));
    t.resolve((k) => k === `follow-up-due:${p.month}`);
    t.emit('follow-up.recorded.v1', { planRef: t.plan.planId, month: p.month, reoffended: p.reoffended });
    if (t.plan.followUps.length === 2) closePlan(t);
  },
  'correct-follow-up': (t, p) => {
    refuseIfConsentWithdrawn(t.plan, 'correct-follow-up');
    const followUp = t.plan.followUps.find((f) => f.month === p.month);
    if (!followUp) throw invalid('month', `the ${p.month}-month follow-up is not recorded yet: record it with record-follow-up`);
    if (followUp.reoffended === p.reoffended) throw invalid('reoffended', `is already the recorded answer (${p.reoffended}) for the ${p.month}-month follow-up`);
    const previous = followUp.reoffended;
    followUp.corrections = [...(followUp.corrections ?? []), { previous, reason: p.reason, ...(p.note ? { note: p.note } : {}), at: t.now }];
    followUp.reoffended = p.reoffended;
    // The note stays on the plan: events carry no free text about her.
    t.emit('follow-up.corrected.v1', { planRef: t.plan.planId, month: p.month, previous, reoffended: p.reoffended, reason: p.reason });
  },
  'acknowledge-escalation': (t, p, command) => {
    const open = t.plan.escalations.find((e) => e.kind === p.kind && e.ref === p.ref && !e.resolvedAt);
    if (!open) {
      const openOfKind = t.plan.escalations.filter((e) => e.kind === p.kind && !e.resolvedAt);
      if (openOfKind.length > 0) {
        // A kind raised once per plan (no-contact, assessment-overdue…) has no ref: say so, not "open ones: (none)".
        if (p.ref !== undefined && openOfKind.every((e) => e.ref === undefined)) throw invalid('ref', `a ${p.kind} escalation has no ref: leave ref out to pick up the one open on this plan`);
        const refs = openOfKind.flatMap((e) => (e.ref === undefined ? [] : [e.ref]));
        if (p.ref === undefined) throw invalid('ref', `name which ${p.kind} escalation to pick up: the open ones are for ${refs.join(', ')}`);
        throw invalid('ref', `no open ${p.kind} escalation for ${p.ref}; the open ones are for ${refs.join(', ')}`);
      }
      throw invalid('kind', `no open ${p.kind} escalation on this plan`);
    }
    if (open.acknowledged) throw notAllowedInStage(`This escalation was already picked up by ${open.acknowledged.byName ?? open.acknowledged.by} on ${londonDateTimeWords(open.acknowledged.at)}.`);
    open.acknowledged = { by: command.actor.sub, ...(command.actor.name ? { byName: command.actor.name } : {}), at: t.now };
    t.emit('plan.escalation-acknowledged.v1', { planRef: t.plan.planId, kind: p.kind, ...(p.ref ? { ref: p.ref } : {}) });
  },
  // Timers. Escalations repeat until someone acts, so no wait is ever silent.
  'assessment-overdue': (t, _p, c) => {
    t.raise('assessment-overdue');
    t.setDeadline('assessment-overdue', workingDaysAfter(t.ctx.calendar, t.now, 5));
    void c;
  },
  'offer-expired': (t, p) => {
    const deadline = t.plan.deadlines.find((d) => d.deadlineId === p.deadlineId);
    const a = t.plan.allocations.find((x) => x.allocationId === deadline?.ref);
    t.clearDeadlines((d) => d.deadlineId === p.deadlineId);
    if (!a || a.status !== 'offered') return;
    a.status = 'expired';
    // Nobody answered it: when it lapsed is not a response.
    a.expiredAt = t.now;
    recomputeLead(t.plan);
    t.needsAllocation = true;
    t.emit('allocation.expired.v1', { planRef: t.plan.planId, allocationId: a.allocationId, serviceId: a.serviceId }, a.providerId);
    t.raise('offer-unanswered', a.allocationId);
  },
  'activation-overdue': (t) => {
    t.raise('activation-overdue');
    t.setDeadline('activation-overdue', workingDaysAfter(t.ctx.calendar, t.now, 5));
  },
  'review-due': (t, p) => {
    const deadline = t.plan.deadlines.find((d) => d.deadlineId === p.deadlineId);
    t.clearDeadlines((d) => d.deadlineId === p.deadlineId);
    t.emit('review.due.v1', { planRef: t.plan.planId, reviewNumber: Number(deadline?.ref ?? t.plan.reviews.length + 1), dueAt: reviewDueAtOf(t.plan) });
  },
  'review-overdue': (t, p) => {
    const deadline = t.plan.deadlines.find((d) => d.deadlineId === p.deadlineId);
    t.raise('review-overdue', deadline?.ref);
    t.setDeadline('review-overdue', addDays(t.now, 7), deadline?.ref);
  },
  'no-contact': (t) => {
    t.raise('no-contact');
    t.setDeadline('no-contact', addDays(t.now, 7));
  },
  'follow-up-due': (t, p) => {
    // A plan whose consent was withdrawn before withdrawal cancelled follow-ups still holds them: cancel them now.
    if (consentWithdrawnAt(t.plan)) {
      cancelFollowUps(t);
      closePlan(t);
      return;
    }
    // Her identity erased with follow-ups still to come, as releases before erasure waited for them let
    // happen: a follow-up asks whether she reoffended, which is looked up by who she is, so nobody can
    // answer it. Not reminded nor escalated for nobody: the plan closes, every deadline and escalation
    // with it, so it leaves the due and escalations lists.
    if (t.plan.identityErasedAt) {
      closePlan(t);
      return;
    }
    // Nobody recorded them by FOLLOW_UPS_LAPSE_MONTHS after the last fell due: recorded as not obtained, and the
    // plan closes (retention counts from closing; an exited plan left open would keep her identity for ever).
    const lapsesAt = followUpsLapseAt(t.plan);
    if (lapsesAt !== undefined && t.now >= lapsesAt) {
      for (const month of FOLLOW_UP_MONTHS.filter((m) => !t.plan.followUps.some((f) => f.month === m))) {
        t.plan.followUps.push({ month, reoffended: 'unknown', recordedAt: t.now });
        t.emit('follow-up.recorded.v1', { planRef: t.plan.planId, month, reoffended: 'unknown' });
      }
      closePlan(t);
      return;
    }
    const deadline = t.plan.deadlines.find((d) => d.deadlineId === p.deadlineId);
    const month = deadline?.ref ?? '';
    const reminder = `follow-up:${month}`;
    // First a reminder to the coordinator; if it is still not recorded, escalate, and keep doing so.
    if (!t.plan.remindersSent.includes(reminder)) {
      t.plan.remindersSent.push(reminder);
      t.emit('follow-up.due.v1', { planRef: t.plan.planId, month: Number(month) });
    } else {
      t.raise(`follow-up-due:${month}`);
    }
    const again = addDays(t.now, t.ctx.policy.followUpReminderRepeatDays);
    t.setDeadline('follow-up-due', lapsesAt !== undefined && lapsesAt < again ? lapsesAt : again, deadline?.ref);
  },
};

/**
 * Add offers to the plan, each with its response deadline, then tell each provider. The lead is
 * worked out once all offers exist, so no provider is told it leads when another one does.
 */
export function addOffers(t: Transition, offers: readonly { serviceId: string; providerId: string; needs: NeedDomain[]; why: string }[], manualReason?: string) {
  const plan = t.plan;
  const added: Allocation[] = offers.map((offer) => {
    plan.allocationCounter += 1;
    const allocation: Allocation = {
      allocationId: `al_${plan.planId.slice(3)}_${plan.allocationCounter}`,
      providerId: offer.providerId,
      serviceId: offer.serviceId,
      needs: offer.needs,
      status: 'offered',
      lead: false,
      offeredAt: t.now,
      respondBy: workingDaysAfter(t.ctx.calendar, t.now, t.ctx.policy.offerResponseWorkingDays),
      why: offer.why,
      ...(manualReason ? { manualReason } : {}),
    };
    plan.allocations.push(allocation);
    t.setDeadline('offer-expired', allocation.respondBy, allocation.allocationId);
    return allocation;
  });
  recomputeLead(plan);
  for (const allocation of added) t.emit('allocation.offered.v1', offerData(t, allocation), allocation.providerId);
}

function newPlan(command: Command, payload: PayloadOf<'refer'>, ctx: DecideContext): Plan {
  const courtLinked = payload.referral.source === 'court' || payload.referral.source === 'problem-solving-court';
  const reviewEveryDays = payload.reviewEveryDays ?? (courtLinked ? ctx.policy.courtReviewEveryDays : ctx.policy.reviewEveryDays);
  return {
    planId: command.planId,
    participantId: payload.participantId,
    stage: 'referred',
    version: 0,
    createdAt: ctx.now,
    updatedAt: ctx.now,
    ageAtReferral: payload.ageAtReferral,
    referral: { ...payload.referral, receivedAt: ctx.now },
    needs: [],
    adjustments: [],
    allocations: [],
    allocationCounter: 0,
    gaps: [],
    reviews: [],
    reviewEveryDays,
    contacts: [],
    escalations: [],
    followUps: [],
    previousPlanIds: payload.previousPlanIds ?? [],
    remindersSent: [],
    deadlines: [],
    sequence: 0,
    outbox: [],
    applied: [],
  };
}

/** The earliest deadline that can fire in the plan's stage: what the sweeper's index holds. */
export function nextDueAt(plan: Plan): string | undefined {
  return plan.deadlines
    .filter((d) => isAllowedIn(d.command, plan.stage))
    .map((d) => d.dueAt)
    .sort()[0];
}

export function decide(plan: Plan | undefined, command: Command, ctx: DecideContext): Decision {
  const row = LIFECYCLE[command.name];
  if (!row) throw invalid('command', `unknown command ${String(command.name)}`);
  if (!mayBeSentBy(command.name, command.actor.role)) throw forbidden(`${command.name} may be sent by ${row.actors.join(' or ')}, not ${command.actor.role}.`);
  const stage: Stage = plan?.stage ?? 'none';
  if (!plan && command.name !== 'refer') throw notFound(`No plan ${command.planId}.`);
  if (!isAllowedIn(command.name, stage)) {
    // As the state machine's Guard says it (Load plan sets allocationClosed from the same words).
    const closed = plan && allocationClosedRefusal(plan, command);
    if (closed) throw notAllowedInStage(closed);
    const withdrawn = plan && consentWithdrawnAt(plan);
    if (withdrawn) throw notAllowedInStage(`${command.name} is not allowed: her consent was withdrawn on ${londonDate(withdrawn)}, and the plan is ${stage}.`);
    throw notAllowedInStage(`${command.name} is not allowed while the plan is ${stage}; it is allowed in: ${row.from.join(', ')}.`);
  }
  if (plan && command.expectedVersion !== undefined && command.expectedVersion !== plan.version)
    throw staleVersion(plan.version, command.expectedVersion);
  const payload = parsePayload(command.name, command.payload);
  if (plan) refuseFreeTextAfterErasure(plan, payload);

  const draft = plan ? structuredClone(plan) : newPlan(command, payload as PayloadOf<'refer'>, ctx);
  const t = new Transition(draft, ctx);
  if (command.name === 'refer') {
    const p = payload as PayloadOf<'refer'>;
    t.setDeadline('assessment-overdue', workingDaysAfter(ctx.calendar, ctx.now, ctx.policy.assessmentWithinWorkingDays));
    t.emit('plan.referred.v1', { planRef: draft.planId, source: p.referral.source, localAuthority: p.referral.localAuthority, urgency: p.referral.urgency, rereferral: (p.previousPlanIds ?? []).length > 0 });
  } else {
    if (row.actors.some((a) => a === 'timer')) {
      const { deadlineId } = payload as PayloadOf<'review-due'>;
      const deadline = draft.deadlines.find((d) => d.deadlineId === deadlineId);
      // A timer whose deadline has moved or gone (the plan changed meanwhile) changes nothing.
      if (!deadline || deadline.command !== command.name || deadline.dueAt > ctx.now) return { plan: plan as Plan, events: [], changed: false, needsAllocation: false, status: 200 };
    }
    (apply[command.name] as Apply<CommandName>)(t, payload, command);
  }
  return finish(t, command, command.name === 'refer' ? 201 : 200);
}

function finish(t: Transition, command: Command, status: 200 | 201): Decision {
  reviewCoverageEscalations(t);
  const plan = t.plan;
  plan.version += 1;
  plan.updatedAt = t.now;
  plan.outbox = [...plan.outbox, ...t.events];
  if (command.idempotency) {
    plan.applied = [...plan.applied, { key: command.idempotency.key, command: command.name, fingerprint: command.idempotency.fingerprint, version: plan.version, status }].slice(-REMEMBERED_COMMANDS);
  }
  return { plan, events: t.events, changed: true, needsAllocation: t.needsAllocation, status };
}

/** Start a follow-on transition on a decided plan (the Allocate providers step adds to the same version). */
export function continueTransition(plan: Plan, ctx: DecideContext): Transition {
  return new Transition(plan, ctx);
}
export type { Transition };
