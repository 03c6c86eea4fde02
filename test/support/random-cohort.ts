/**
 * Random cohorts for the metrics' suppression properties (metrics.test, metrics-feasible-intervals):
 * plans of every kind over four months of 2026 and four local authorities, as plan facts.
 */
import fc from 'fast-check';
import { dayNumber as D } from '../../lib/domain/metrics/dates.ts';
import type { OfferFact, PlanFacts } from '../../lib/domain/metrics/facts.ts';
import { referralFacts } from './metrics-reference.ts';

export const PROVIDERS = ['anawim', 'bcwa', 'changing-lives', 'green-square-accord'] as const;

/** Plans of every kind over four months and four local authorities: offers, gaps, reviews, exits with follow-ups. */
export const randomPlanRows = fc.array(
  fc.record({
    la: fc.constantFrom<PlanFacts['localAuthority']>('birmingham', 'sandwell', 'walsall', 'coventry'),
    source: fc.constantFrom<PlanFacts['source']>('court', 'self', 'probation'),
    month: fc.integer({ min: 1, max: 4 }),
    stage: fc.integer({ min: 0, max: 4 }),
    reason: fc.constantFrom<NonNullable<PlanFacts['exitReason']>>('completed', 'completed', 'disengaged', 'custody', 'moved-away', 'consent-withdrawn'),
    offers: fc.array(fc.record({ provider: fc.constantFrom(...PROVIDERS), outcome: fc.constantFrom<OfferFact['outcome']>('accepted', 'accepted', 'declined', 'expired', 'other') }), { maxLength: 3 }),
    gaps: fc.array(fc.record({ domain: fc.constantFrom<'alcohol' | 'accommodation' | 'mental-health'>('accommodation', 'mental-health', 'alcohol'), reason: fc.constantFrom<'no-capacity' | 'no-coverage-in-area' | 'no-service'>('no-capacity', 'no-coverage-in-area', 'no-service') }), { maxLength: 2 }),
    reviews: fc.array(fc.boolean(), { maxLength: 3 }),
    f6: fc.constantFrom<PlanFacts['followUp6']>(undefined, 'yes', 'no', 'unknown'),
  }),
  { maxLength: 120 },
);
export type PlanRow = typeof randomPlanRows extends fc.Arbitrary<(infer T)[]> ? T : never;

export const factsOfRows = (rows: readonly PlanRow[]): PlanFacts[] =>
  rows.map((row) => {
    const day = D(`2026-0${row.month}-1${row.month}`);
    return referralFacts({
      localAuthority: row.la,
      source: row.source,
      referred: day,
      consented: row.stage > 0,
      ...(row.stage > 1 ? { assessed: day, daysReferralToAssessment: row.month } : {}),
      ...(row.stage > 2 ? { activated: day, daysAssessmentToActive: 1, daysReferralToActive: 2 } : {}),
      ...(row.stage > 3 ? { exited: D(`2026-0${row.month}-2${row.month}`), exitReason: row.reason, ...(row.f6 ? { followUp6: row.f6 } : {}) } : {}),
      needs: row.gaps.map((g) => g.domain),
      providers: row.offers.filter((o) => o.outcome === 'accepted').map((o) => o.provider),
      offers: row.offers.map((o) => ({ provider: o.provider, day, needs: ['mental-health'], outcome: o.outcome, ...(o.outcome === 'accepted' || o.outcome === 'declined' ? { responseHours: 3 } : {}) })),
      gaps: row.gaps.map((g) => ({ domain: g.domain, reason: g.reason, day })),
      reviews: row.reviews.map((late) => ({ day, late })),
    });
  });
