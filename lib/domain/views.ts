import { daysBetween } from './calendar.ts';
import { consentWithdrawnAt, providersOf } from './consent.ts';
import { nextDueAt, reviewDueAtOf, sessionCounts } from './decide.ts';
import { FOLLOW_UP_MONTHS, followUpDueAfterExit, followUpDueAt, followUpMonthOf, followUpsLapseAt } from './follow-ups.ts';
import { isAllowedIn } from './lifecycle.ts';
import { Risks, type Participant, type Plan, type PlanEvent } from './schemas.ts';

/**
 * What each role sees of a plan. Internal bookkeeping (outbox, remembered idempotency keys) never
 * leaves; identity is added only where the caller is allowed it and has been read apart.
 */

export function exitSummary(plan: Plan) {
  if (!plan.exit) return undefined;
  const domains = [...new Set(plan.reviews.flatMap((r) => Object.keys(r.scores)))].sort();
  const scores = Object.fromEntries(
    domains.map((d) => {
      const scored = plan.reviews.filter((r) => (r.scores as Record<string, number | undefined>)[d] !== undefined);
      const first = (scored[0]?.scores as Record<string, number>)[d];
      const last = (scored.at(-1)?.scores as Record<string, number>)[d];
      return [d, { first, last, change: (last ?? 0) - (first ?? 0) }];
    }),
  );
  return {
    reason: plan.exit.reason,
    exitedAt: plan.exit.exitedAt,
    daysInPlan: daysBetween(plan.createdAt, plan.exit.exitedAt),
    daysActive: plan.activatedAt ? daysBetween(plan.activatedAt, plan.exit.exitedAt) : 0,
    sessions: {
      // A session its provider withdrew (recorded twice, no such session) counts nowhere.
      attended: plan.contacts.filter((c) => sessionCounts(c) && c.kind === 'attended').length,
      missed: plan.contacts.filter((c) => sessionCounts(c) && c.kind === 'missed').length,
      cancelled: plan.contacts.filter((c) => sessionCounts(c) && c.kind === 'cancelled').length,
    },
    scores,
  };
}

/** `now`: the (possibly simulated) time of the request, against which "overdue" is judged. */
export function planView(plan: Plan, now: string, identity?: Participant) {
  const { outbox: _outbox, applied: _applied, ...rest } = plan;
  const live = plan.deadlines.filter((d) => isAllowedIn(d.command, plan.stage)).sort((a, b) => a.dueAt.localeCompare(b.dueAt));
  return {
    ...rest,
    // A consent recorded before providers could be named covered every provider: said so, not left out.
    ...(plan.consent ? { consent: { ...plan.consent, scope: { ...plan.consent.scope, providers: providersOf(plan.consent.scope) } } } : {}),
    ...(identity ? { participant: identity } : {}),
    deadlines: live,
    nextDeadline: nextDueAt(plan) ?? null,
    nextReview: nextReviewOf(plan, now),
    openEscalations: plan.escalations.filter((e) => !e.resolvedAt),
    exitSummary: exitSummary(plan) ?? null,
  };
}

/**
 * The review the plan is waiting for: when it is due, whether that has passed (overdue from the due
 * date on), when a team lead is told (the escalation, a later and separate step) and whether they have been.
 */
export function nextReviewOf(plan: Plan, now: string) {
  if (plan.stage !== 'active') return null;
  const escalation = plan.deadlines.find((d) => d.command === 'review-overdue');
  if (!escalation) return null;
  const escalated = plan.escalations.some((e) => e.kind === 'review-overdue' && e.ref === escalation.ref && !e.resolvedAt);
  const dueAt = reviewDueAtOf(plan);
  return { reviewNumber: Number(escalation.ref), dueAt, overdue: now > dueAt, escalateAt: escalation.dueAt, escalated };
}

/**
 * When the coordinator next has something to do on the plan: the nearest of its live deadlines, the
 * date its next review is due, and the dates of follow-ups not yet recorded. The worklist's "today"
 * and "this week" are read from this.
 */
export function nextActionAt(plan: Plan): string | undefined {
  const dates = plan.deadlines.filter((d) => isAllowedIn(d.command, plan.stage)).map((d) => d.dueAt);
  if (plan.stage === 'active' && plan.deadlines.some((d) => d.command === 'review-overdue')) dates.push(reviewDueAtOf(plan));
  // No follow-up is asked once her consent is withdrawn (a plan withdrawn before follow-ups were cancelled closes at its next timer).
  if (plan.stage === 'exited' && plan.exit && !consentWithdrawnAt(plan))
    for (const month of FOLLOW_UP_MONTHS) if (!plan.followUps.some((f) => f.month === month)) dates.push(followUpDueAfterExit(plan.exit.exitedAt, month));
  return dates.sort()[0];
}

/**
 * Higher is more worrying: domestic-abuse risk, self-harm and children at risk move a plan up the list.
 *
 * A risk the assessment left out was not assessed, and is weighed deliberately, not as none: each
 * counts as the middle of its own scale (domestic abuse as medium, 2; self-harm 1 of 3; children 1 of 2).
 * Why: an unknown risk may be the worst one, so a plan whose assessment left it out must not sort below
 * one assessed as standard or as no risk (a woman referred for domestic abuse whose risk nobody assessed
 * is not safer than one assessed at standard risk); and the coordinator's first move on it is to find out.
 * But a risk known to be high is more urgent than one not known, so it does not sort above that. A plan
 * assessed with no risks at all scores 4, with a known high domestic-abuse risk: the order only. What the
 * worklist says of a plan's risks is riskFlags, which tells a known risk from one not assessed.
 * Before the assessment nothing is known of any plan: 0, and its deadlines order it.
 */
export function riskScore(plan: Pick<Plan, 'risks' | 'assessedAt'>): number {
  if (!plan.assessedAt) return 0;
  const r = plan.risks ?? {};
  const abuse = r.domesticAbuse === undefined ? 2 : ({ none: 0, standard: 1, medium: 2, high: 4 } as const)[r.domesticAbuse];
  const selfHarm = r.selfHarm === undefined ? 1 : r.selfHarm ? 3 : 0;
  const children = r.safeguardingChildren === undefined ? 1 : r.safeguardingChildren ? 2 : 0;
  return abuse + selfHarm + children;
}

/** The score, from the risks assessed alone, at which the worklist marks a plan "Higher risk" (a high domestic-abuse risk alone reaches it, as does self-harm with any other risk). */
export const HIGHER_RISK_SCORE = 4;

const RISK_NAMES = Object.keys(Risks.shape) as (keyof Risks)[];

/**
 * What the worklist says of a plan's risks, as a coordinator would read it: higherRisk only for risks
 * assessed (a risk left out counts as nothing here, so a plan assessed without risks is not "Higher
 * risk", though riskScore sorts it up), and the risks its assessment left out, which she has to find out.
 * Before the assessment no risk is said to be missing: nothing has been assessed yet.
 */
export function riskFlags(plan: Pick<Plan, 'risks' | 'assessedAt'>): { higherRisk: boolean; risksNotAssessed: (keyof Risks)[] } {
  if (!plan.assessedAt) return { higherRisk: false, risksNotAssessed: [] };
  const r = plan.risks ?? {};
  const asNone = { domesticAbuse: r.domesticAbuse ?? 'none', selfHarm: r.selfHarm ?? false, safeguardingChildren: r.safeguardingChildren ?? false };
  const known = riskScore({ assessedAt: plan.assessedAt, risks: asNone });
  return { higherRisk: known >= HIGHER_RISK_SCORE, risksNotAssessed: RISK_NAMES.filter((name) => r[name] === undefined) };
}

/**
 * Worklist order: open escalations first (more of them first), then urgent referrals, then higher
 * risk, then the nearest deadline.
 */
export function byUrgency(a: Plan, b: Plan): number {
  const open = (p: Plan) => p.escalations.filter((e) => !e.resolvedAt).length;
  return (
    open(b) - open(a) ||
    Number(b.referral.urgency === 'urgent') - Number(a.referral.urgency === 'urgent') ||
    riskScore(b) - riskScore(a) ||
    (nextActionAt(a) ?? '9999').localeCompare(nextActionAt(b) ?? '9999')
  );
}

/**
 * A line of the worklist: enough to triage, nothing more. A follow-up's deadline carries the day that
 * follow-up fell due: once she is reminded its deadline moves on to when the team lead is told, and
 * the line cannot tell the day from nextActionAt, which is the 6-month day while that one is not recorded.
 * It carries the day follow-ups not recorded lapse too: the deadline is re-armed no later than that, and
 * then the plan closes instead of the team lead being told again.
 */
export function planSummary(plan: Plan, now: string) {
  const due = plan.deadlines.filter((d) => isAllowedIn(d.command, plan.stage)).sort((a, b) => a.dueAt.localeCompare(b.dueAt))[0];
  const followUpMonth = due?.command === 'follow-up-due' ? followUpMonthOf(due.ref) : undefined;
  const followUpDay = followUpMonth === undefined ? undefined : followUpDueAt(plan, followUpMonth);
  const lapsesAt = followUpMonth === undefined ? undefined : followUpsLapseAt(plan);
  return {
    planId: plan.planId,
    stage: plan.stage,
    version: plan.version,
    localAuthority: plan.referral.localAuthority,
    urgency: plan.referral.urgency,
    updatedAt: plan.updatedAt,
    nextDeadline: nextDueAt(plan) ?? null,
    nextActionAt: nextActionAt(plan) ?? null,
    nextDue: due ? { command: due.command, dueAt: due.dueAt, ...(due.ref ? { ref: due.ref } : {}), ...(followUpDay ? { followUpDueAt: followUpDay } : {}), ...(lapsesAt ? { followUpsLapseAt: lapsesAt } : {}) } : null,
    nextReview: nextReviewOf(plan, now),
    risk: riskScore(plan),
    ...riskFlags(plan),
    openEscalations: plan.escalations
      .filter((e) => !e.resolvedAt)
      .map((e) => ({ kind: e.kind, raisedAt: e.raisedAt, ...(e.ref ? { ref: e.ref } : {}), ...offerOf(plan, e), ...(e.acknowledged ? { acknowledged: e.acknowledged } : {}) })),
  };
}

/**
 * An unanswered offer's service and provider (codes), so a list can name where the offer went: its
 * ref is the allocation id, which means nothing to a team lead, and the list does not carry allocations.
 */
function offerOf(plan: Plan, escalation: Plan['escalations'][number]) {
  if (escalation.kind !== 'offer-unanswered') return {};
  const offer = plan.allocations.find((a) => a.allocationId === escalation.ref);
  return offer ? { offer: { serviceId: offer.serviceId, providerId: offer.providerId } } : {};
}

export function historyView(events: PlanEvent[]) {
  return events.map((e) => ({ id: e.id, sequence: e.sequence, type: e.type, time: e.time, ...(e.providerId ? { providerId: e.providerId } : {}), data: e.data }));
}
