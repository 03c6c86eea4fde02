import { daysBetween } from './calendar.ts';
import { nextDueAt } from './decide.ts';
import { isAllowedIn } from './lifecycle.ts';
import type { Participant, Plan, PlanEvent } from './schemas.ts';

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
      attended: plan.contacts.filter((c) => c.kind === 'attended').length,
      missed: plan.contacts.filter((c) => c.kind === 'missed').length,
      cancelled: plan.contacts.filter((c) => c.kind === 'cancelled').length,
    },
    scores,
  };
}

export function planView(plan: Plan, identity?: Participant) {
  const { outbox: _outbox, applied: _applied, ...rest } = plan;
  const live = plan.deadlines.filter((d) => isAllowedIn(d.command, plan.stage)).sort((a, b) => a.dueAt.localeCompare(b.dueAt));
  const review = live.find((d) => d.command === 'review-overdue');
  return {
    ...rest,
    ...(identity ? { participant: identity } : {}),
    deadlines: live,
    nextDeadline: nextDueAt(plan) ?? null,
    nextReview: review ? { reviewNumber: Number(review.ref), overdueAt: review.dueAt } : null,
    openEscalations: plan.escalations.filter((e) => !e.resolvedAt),
    exitSummary: exitSummary(plan) ?? null,
  };
}

/** A line of the worklist: enough to triage, nothing more. */
export function planSummary(plan: Plan) {
  return {
    planId: plan.planId,
    stage: plan.stage,
    version: plan.version,
    localAuthority: plan.referral.localAuthority,
    urgency: plan.referral.urgency,
    updatedAt: plan.updatedAt,
    nextDeadline: nextDueAt(plan) ?? null,
    openEscalations: plan.escalations.filter((e) => !e.resolvedAt).map((e) => e.kind),
  };
}

export function historyView(events: PlanEvent[]) {
  return events.map((e) => ({ id: e.id, sequence: e.sequence, type: e.type, time: e.time, ...(e.providerId ? { providerId: e.providerId } : {}), data: e.data }));
}
