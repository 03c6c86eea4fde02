/**
 * What an answer lets a reader narrow a suppressed cell down to, taking everything it shows together
 * with counts never being negative (test/support/disclosure.ts, unprotectedCells: a linear programme per
 * suppressed cell; protected when its feasible interval is at least the threshold wide). Gaussian
 * elimination (recoverableCells) sees sums only: a hidden zero pinned by two sums together (a + b = 0,
 * so both are 0) or a count bounded by what a shown statistic says its counts reach, it does not.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { computeMetrics, type MetricsReport } from '../../lib/domain/metrics/compute.ts';
import { dayNumber as D } from '../../lib/domain/metrics/dates.ts';
import { SUPPRESSED, type Dimension } from '../../lib/domain/metrics/definitions.ts';
import type { OfferFact, PlanFacts } from '../../lib/domain/metrics/facts.ts';
import { recoverableCells, unprotectedCells } from '../support/disclosure.ts';
import { referralFacts } from '../support/metrics-reference.ts';
import { factsOfRows, randomPlanRows } from '../support/random-cohort.ts';

const PROVIDERS = ['anawim', 'bcwa', 'changing-lives', 'green-square-accord'] as const;
const DAY = D('2026-01-11');
const run = (facts: PlanFacts[], groupBy: Dimension[], threshold: number): MetricsReport =>
  computeMetrics(facts, { from: '2026-01-01', to: '2026-06-30', groupBy }, { suppressionThreshold: threshold, roundCountsTo: 1, asOf: '2026-07-01T00:00:00.000Z', providers: PROVIDERS });

/** A plan referred in `la` with one offer per outcome, to Anawim; an answered offer took 3 hours. */
const plan = (la: PlanFacts['localAuthority'], outcomes: OfferFact['outcome'][]): PlanFacts =>
  referralFacts({
    localAuthority: la,
    referred: DAY,
    providers: outcomes.includes('accepted') ? ['anawim'] : [],
    offers: outcomes.map((outcome) => ({ provider: 'anawim', day: DAY, needs: ['mental-health'], outcome, ...(outcome === 'accepted' || outcome === 'declined' ? { responseHours: 3 } : {}) })),
  });

describe('feasible intervals of suppressed cells', () => {
  it('a statistic is not shown beside a suppressed count it is taken over: 2 offers, both accepted, threshold 2', () => {
    // Before: the response time's median showed (2 answered offers), so Offers accepted + declined >= 2 of the
    // 2 Offers shown, and Offers resolved read [2, 2], expiries and withdrawals [0, 0]; elimination saw nothing.
    const report = run([plan('birmingham', ['accepted']), plan('birmingham', ['accepted'])], [], 2);
    expect(report.overall).toMatchObject({ offers: 2, offersAccepted: SUPPRESSED, offersResolved: SUPPRESSED, responseHoursMedian: SUPPRESSED });
    expect(recoverableCells(report)).toEqual([]);
    expect(unprotectedCells(report)).toEqual([]);
  });

  /** Overall resolved 6 and accepted 4; Sandwell resolved 4 and accepted 2: its declines and expiries are the overall 2. */
  const twoLinesFacts = () => [plan('birmingham', ['accepted', 'accepted']), plan('sandwell', ['accepted']), plan('sandwell', ['accepted', 'declined', 'expired'])];
  const twoLines = () => run(twoLinesFacts(), ['localAuthority'], 2);
  const OFFER_FIGURES = ['offers', 'offersAccepted', 'offersDeclined', 'offersExpired', 'offersResolved', 'offersWithdrawnOrOpen', 'acceptanceRate', 'responseHoursMedian'];

  it('the checker finds hidden zeros that two lines pin together and elimination does not', () => {
    // The answer as line-by-line suppression published it: of the offer counts only these were shown.
    const shownBefore: Record<string, Record<string, number>> = {
      overall: { offersAccepted: 4, offersResolved: 6 },
      birmingham: { offers: 2 },
      sandwell: { offersAccepted: 2, offersResolved: 4 },
    };
    const before = run(twoLinesFacts(), ['localAuthority'], 0);
    const groups = [{ group: 'overall', figures: before.overall }, ...(before.breakdowns.localAuthority ?? [])];
    for (const { group, figures } of groups)
      for (const key of OFFER_FIGURES) (figures as Record<string, unknown>)[key] = shownBefore[group]?.[key] ?? SUPPRESSED;
    before.suppression.threshold = 2;
    expect(recoverableCells(before).filter((r) => r.how === 'by sums')).toEqual([]);
    const birmingham = unprotectedCells(before).filter((c) => c.cell.startsWith('localAuthority:birmingham '));
    expect(birmingham.map(({ cell, min, max }) => [cell, min, Math.abs(max)])).toEqual([
      ['localAuthority:birmingham offersDeclined', 0, 0],
      ['localAuthority:birmingham offersExpired', 0, 0],
    ]);
  });

  it('two lines together: the other groups\' declines and expiries are no longer pinned at 0', () => {
    // Before: every local authority but Sandwell read declines and expiries [0, 0].
    expect(unprotectedCells(twoLines())).toEqual([]);
  });

  it('across providers: a resolved column and the providers\' shown Offers do not pin their withdrawn offers at 0', () => {
    // Overall resolved 10, Anawim's 4 shown, three providers showing Offers 2 each with resolved and withdrawn
    // hidden: their resolved add up to 6, their Offers to 6, so none was withdrawn and each resolved 2 (before).
    const offer = (provider: string, outcome: OfferFact['outcome']) => ({ provider, day: DAY, needs: ['mental-health' as const], outcome, ...(outcome === 'accepted' ? { responseHours: 3 } : {}) });
    const one = (...offers: ReturnType<typeof offer>[]) => referralFacts({ referred: DAY, offers, providers: offers.filter((o) => o.outcome === 'accepted').map((o) => o.provider) });
    const facts = [
      one(offer('changing-lives', 'accepted')),
      one(offer('bcwa', 'expired'), offer('anawim', 'accepted')),
      one(offer('bcwa', 'accepted')),
      one(offer('green-square-accord', 'accepted'), offer('green-square-accord', 'accepted')),
      one(offer('anawim', 'accepted'), offer('changing-lives', 'expired')),
      one(offer('anawim', 'expired'), offer('anawim', 'expired')),
    ];
    expect(unprotectedCells(run(facts, ['provider'], 2))).toEqual([]);
  });

  /** Plans at every stage (assessed, activated with days known or not, exited by a reason), each with up to 3 offers. */
  const cohort = fc.array(
    fc.record({
      la: fc.constantFrom<PlanFacts['localAuthority']>('birmingham', 'sandwell', 'coventry'),
      outcomes: fc.array(fc.constantFrom<OfferFact['outcome']>('accepted', 'accepted', 'declined', 'expired', 'other'), { maxLength: 3 }),
      stage: fc.integer({ min: 0, max: 3 }),
      daysKnown: fc.boolean(),
      reason: fc.constantFrom<NonNullable<PlanFacts['exitReason']>>('completed', 'completed', 'disengaged', 'custody'),
    }),
    { maxLength: 40 },
  );
  const cohortFacts = (rows: (typeof cohort extends fc.Arbitrary<infer T> ? T : never)) =>
    rows.map((r): PlanFacts => ({
      ...plan(r.la, r.outcomes),
      ...(r.stage > 0 ? { assessed: DAY + 2, ...(r.daysKnown ? { daysReferralToAssessment: 2 } : {}) } : {}),
      ...(r.stage > 1 ? { activated: DAY + 5, ...(r.daysKnown ? { daysAssessmentToActive: 3, daysReferralToActive: 5 } : {}) } : {}),
      ...(r.stage > 2 ? { exited: DAY + 30, exitReason: r.reason } : {}),
    }));

  it('property: overall, every suppressed cell is at least the threshold wide, with the statistics and rates shown beside them', () => {
    fc.assert(
      fc.property(cohort, fc.integer({ min: 2, max: 6 }), (rows, threshold) => {
        expect(unprotectedCells(run(cohortFacts(rows), [], threshold))).toEqual([]);
      }),
      // Seeded, as the other property tests are: CI must not turn red on a draw nobody can replay.
      { numRuns: 200, seed: 20261129 },
    );
  });

  it('property: with any breakdowns, every suppressed cell is at least the threshold wide', () => {
    fc.assert(
      fc.property(randomPlanRows, fc.integer({ min: 2, max: 6 }), fc.subarray<Dimension>(['provider', 'localAuthority', 'referralSource', 'month', 'needDomain']), (rows, threshold, groupBy) => {
        expect(unprotectedCells(run(factsOfRows(rows), groupBy, threshold))).toEqual([]);
      }),
      // 500 runs of seed 4242 found nothing (DISCLOSURE_RUNS=500); CI runs the first 150 of them.
      { numRuns: Number(process.env.DISCLOSURE_RUNS ?? 150), seed: Number(process.env.DISCLOSURE_SEED ?? 4242) },
    );
  }, 300_000);
});
