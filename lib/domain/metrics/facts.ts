import type { Plan } from '../schemas.ts';
import type { NeedDomain } from '../taxonomy.ts';
import { dayNumber, daysFrom, hoursFrom, londonDayNumber } from './dates.ts';

/**
 * The compact record of one plan that every commissioner figure is computed from. It is derived
 * from the plan alone (no history, no clock), holds no identifier of the plan or the participant,
 * and is small enough to keep a hundred thousand in memory. Days are London calendar dates held as
 * day numbers (whole days since 1970-01-01, see dates.ts): a figure counts an event in a period when
 * its day falls within it. Durations are worked out here, once per save, so computing the figures is
 * integer comparisons and arithmetic over these records only.
 *
 * Bump FACTS_SCHEMA_VERSION whenever what is derived changes: stored facts of another version are
 * rebuilt from the plans.
 */
export const FACTS_SCHEMA_VERSION = 2;

export type OfferOutcome = 'accepted' | 'declined' | 'expired' | 'other';
export type ExitReasonFact = NonNullable<Plan['exit']>['reason'];
export type GapReasonFact = Plan['gaps'][number]['reason'];
export type FollowUpAnswer = 'yes' | 'no' | 'unknown';

export interface OfferFact {
  provider: string;
  /** Day the offer was made. */
  day: number;
  needs: NeedDomain[];
  /** accepted (later ended or not), declined, expired, or other (withdrawn before an answer, or still open). */
  outcome: OfferOutcome;
  /** Hours from offer to the provider's accept or decline. */
  responseHours?: number;
}

export interface GapFact {
  domain: NeedDomain;
  reason: GapReasonFact;
  /** Day the gap was (last) recorded. */
  day: number;
}

export interface ReviewFact {
  /** The review's date; for a review that fell overdue and was never recorded, the day it fell overdue. */
  day: number;
  /** An overdue escalation was raised for this review (recorded late, or never recorded). */
  late: boolean;
}

export interface ScoreChangeFact {
  domain: NeedDomain;
  /** Date of the last review that scored the domain. */
  day: number;
  /** Score at that review minus the score at the first review that scored the domain. */
  change: number;
}

export interface PlanFacts {
  /** The plan version these facts were derived from: an older version never replaces a newer one. */
  version: number;
  source: Plan['referral']['source'];
  localAuthority: Plan['referral']['localAuthority'];
  referred: number;
  consented: boolean;
  assessed?: number;
  daysReferralToAssessment?: number;
  /** First activation. */
  activated?: number;
  daysAssessmentToActive?: number;
  daysReferralToActive?: number;
  exited?: number;
  exitReason?: ExitReasonFact;
  /** Every need domain the plan has had (assessed or added at a review, open or closed). */
  needs: NeedDomain[];
  /** Providers that accepted an allocation (the plan's supporting providers). */
  providers: string[];
  offers: OfferFact[];
  gaps: GapFact[];
  reviews: ReviewFact[];
  scoreChanges: ScoreChangeFact[];
  followUp6?: FollowUpAnswer;
  followUp12?: FollowUpAnswer;
}

function outcomeOf(status: Plan['allocations'][number]['status']): OfferOutcome {
  if (status === 'accepted' || status === 'ended') return 'accepted';
  if (status === 'declined' || status === 'expired') return status;
  return 'other';
}

function reviewFacts(plan: Plan): ReviewFact[] {
  // The review-overdue escalation names the review number it is for; the first raise is when it fell overdue.
  const overdue = new Map<string, string>();
  for (const e of plan.escalations) {
    if (e.kind !== 'review-overdue' || e.ref === undefined) continue;
    const seen = overdue.get(e.ref);
    if (seen === undefined || e.raisedAt < seen) overdue.set(e.ref, e.raisedAt);
  }
  const facts: ReviewFact[] = plan.reviews.map((r) => ({ day: dayNumber(r.date), late: overdue.has(String(r.reviewNumber)) }));
  const recorded = new Set(plan.reviews.map((r) => String(r.reviewNumber)));
  for (const [ref, raisedAt] of overdue) if (!recorded.has(ref)) facts.push({ day: londonDayNumber(raisedAt), late: true });
  return facts;
}

function scoreChanges(plan: Plan): ScoreChangeFact[] {
  const first = new Map<NeedDomain, number>();
  const last = new Map<NeedDomain, { score: number; day: number; count: number }>();
  for (const review of plan.reviews) {
    for (const [domain, score] of Object.entries(review.scores) as [NeedDomain, number | undefined][]) {
      if (score === undefined) continue;
      if (!first.has(domain)) first.set(domain, score);
      last.set(domain, { score, day: dayNumber(review.date), count: (last.get(domain)?.count ?? 0) + 1 });
    }
  }
  const changes: ScoreChangeFact[] = [];
  for (const [domain, l] of last) if (l.count >= 2) changes.push({ domain, day: l.day, change: l.score - (first.get(domain) ?? l.score) });
  return changes;
}

export function planFacts(plan: Plan): PlanFacts {
  const receivedAt = plan.referral.receivedAt;
  // Once her consent is withdrawn her follow-up answers are not used: nothing about her offending is
  // counted after she said no, including an answer given before. She is then neither a known outcome
  // nor a reoffence, as with an unknown answer; "Exits: consent withdrawn" still counts her exit.
  const withdrawn = plan.consent?.withdrawnAt !== undefined || plan.exit?.reason === 'consent-withdrawn';
  const followUp = (month: 6 | 12) => (withdrawn ? undefined : plan.followUps.find((f) => f.month === month)?.reoffended);
  const f6 = followUp(6);
  const f12 = followUp(12);
  return {
    version: plan.version,
    source: plan.referral.source,
    localAuthority: plan.referral.localAuthority,
    referred: londonDayNumber(receivedAt),
    consented: plan.consent !== undefined,
    ...(plan.assessedAt ? { assessed: londonDayNumber(plan.assessedAt), daysReferralToAssessment: daysFrom(receivedAt, plan.assessedAt) } : {}),
    ...(plan.activatedAt
      ? {
          activated: londonDayNumber(plan.activatedAt),
          daysReferralToActive: daysFrom(receivedAt, plan.activatedAt),
          ...(plan.assessedAt ? { daysAssessmentToActive: daysFrom(plan.assessedAt, plan.activatedAt) } : {}),
        }
      : {}),
    ...(plan.exit ? { exited: londonDayNumber(plan.exit.exitedAt), exitReason: plan.exit.reason } : {}),
    needs: [...new Set(plan.needs.map((n) => n.domain))],
    providers: [...new Set(plan.allocations.filter((a) => a.status === 'accepted' || a.status === 'ended').map((a) => a.providerId))],
    offers: plan.allocations.map((a) => {
      const outcome = outcomeOf(a.status);
      const answered = (outcome === 'accepted' || outcome === 'declined') && a.respondedAt !== undefined;
      return { provider: a.providerId, day: londonDayNumber(a.offeredAt), needs: [...a.needs], outcome, ...(answered ? { responseHours: hoursFrom(a.offeredAt, a.respondedAt as string) } : {}) };
    }),
    gaps: plan.gaps.map((g) => ({ domain: g.domain, reason: g.reason, day: londonDayNumber(g.recordedAt) })),
    reviews: reviewFacts(plan),
    scoreChanges: scoreChanges(plan),
    ...(f6 ? { followUp6: f6 } : {}),
    ...(f12 ? { followUp12: f12 } : {}),
  };
}
