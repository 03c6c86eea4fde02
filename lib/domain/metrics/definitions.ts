/**
 * Every commissioner figure, defined once: its meaning (served with every answer), how it is
 * suppressed, and which figures add up to which (what secondary suppression protects).
 */

export const DIMENSIONS = ['provider', 'localAuthority', 'needDomain', 'referralSource', 'month'] as const;
export type Dimension = (typeof DIMENSIONS)[number];

export const DIMENSION_DEFINITIONS: Record<Dimension, string> = {
  provider:
    'Offers count for the provider they were made to. Every other figure counts a plan for each provider that accepted an allocation in it (a plan supported by two providers counts for both).',
  localAuthority: 'The local authority of the referral. Every plan is in exactly one group.',
  needDomain:
    'Offers count for each need domain they covered, gaps and score changes for their own domain. Every other figure counts a plan for each need domain it has had (assessed or added at a review): these are the need cohorts, so reoffending by need cohort is this breakdown.',
  referralSource: 'The source of the referral. Every plan is in exactly one group.',
  month: 'Each calendar month of the period: every figure is worked out for that month as if it were the whole period.',
};

export type FigureKind = 'count' | 'rate' | 'median' | 'p90' | 'mean';

interface FigureBase {
  label: string;
  definition: string;
  unit: string;
}
export interface CountFigure extends FigureBase {
  kind: 'count';
  /** Breakdowns whose groups add up to the overall value (each unit is in exactly one group). */
  additiveOver: readonly Dimension[];
}
export interface RateFigure extends FigureBase {
  kind: 'rate';
  numerator: CountKey;
  denominator: CountKey;
}
export interface StatFigure extends FigureBase {
  kind: 'median' | 'p90' | 'mean';
  /** The values the statistic is taken over, and what the suppression threshold counts. */
  values: StatValues;
  decimals: number;
}
export type FigureDefinition = CountFigure | RateFigure | StatFigure;

/** The value sets statistics are taken over; the suppression base of each is its number of plans (or offers). */
export const STAT_VALUES = ['daysReferralToAssessment', 'daysAssessmentToActive', 'daysReferralToActive', 'responseHours', 'scoreChange'] as const;
export type StatValues = (typeof STAT_VALUES)[number];

const PLAN_PARTITIONS = ['localAuthority', 'referralSource'] as const satisfies readonly Dimension[];
const FLOW = [...PLAN_PARTITIONS, 'month'] as const satisfies readonly Dimension[];

const count = (label: string, unit: string, definition: string, additiveOver: readonly Dimension[] = FLOW): CountFigure => ({ kind: 'count', label, unit, definition, additiveOver });
const rate = (label: string, numerator: CountKey, denominator: CountKey, definition: string): RateFigure => ({ kind: 'rate', label, unit: 'proportion (0-1)', numerator, denominator, definition });
const P90_RULE = ' Shown only when taken over at least 10 values (twice the suppression threshold, if that is more): over fewer, the nearest-rank 90th percentile is the largest value, one woman\'s own.';
const stat = (kind: StatFigure['kind'], label: string, unit: string, values: StatValues, definition: string, decimals = 1): StatFigure => ({ kind, label, unit, values, definition: kind === 'p90' ? `${definition}${P90_RULE}` : definition, decimals });

const EXIT_WHERE = 'Plans that exited in the period (by exit date)';
// Not 'no provider found': for some reasons one was found (outside her consent, not offered); none holds the need.
const GAP_WHERE = 'Needs recorded as a gap (left without a provider) in the period and still standing, or standing when the plan ended,';
const REVIEW_WHERE = 'Reviews recorded in the period (by review date) plus reviews that fell overdue in the period and were never recorded';

export const COUNT_FIGURES = {
  referrals: count('Referrals', 'plans', 'Plans referred in the period (by the day the referral was received). A referral withdrawn as a duplicate of another (reason duplicate-referral) is counted too, though it is no second woman: withdrawals have no figure of their own.'),
  consented: count('Consented', 'plans', 'Of the plans referred in the period, those whose consent has been recorded.'),
  assessed: count('Assessed', 'plans', 'Plans whose holistic needs assessment was recorded in the period.'),
  activated: count('Activated', 'plans', 'Plans that became active for the first time in the period.'),
  activeAtEnd: count('Active at end of period', 'plans', 'Plans activated on or before the last day of the period and not exited by the end of it.', PLAN_PARTITIONS),
  exits: count('Exits', 'plans', `${EXIT_WHERE}, whatever the reason.`),
  exitsCompleted: count('Exits: completed', 'plans', `${EXIT_WHERE} with reason completed.`),
  exitsTransferred: count('Exits: transferred', 'plans', `${EXIT_WHERE} with reason transferred.`),
  exitsDisengaged: count('Exits: disengaged', 'plans', `${EXIT_WHERE} with reason disengaged.`),
  exitsMovedAway: count('Exits: moved away', 'plans', `${EXIT_WHERE} with reason moved-away.`),
  exitsCustody: count('Exits: custody', 'plans', `${EXIT_WHERE} with reason custody.`),
  exitsOther: count('Exits: other', 'plans', `${EXIT_WHERE} with reason other.`),
  exitsConsentWithdrawn: count('Exits: consent withdrawn', 'plans', `${EXIT_WHERE} because consent was withdrawn.`),
  offers: count('Offers', 'offers', 'Offers made to providers in the period (by offer date).', [...FLOW, 'provider']),
  offersAccepted: count('Offers accepted', 'offers', 'Of the offers made in the period, those the provider accepted (whether or not the allocation has since ended).', [...FLOW, 'provider']),
  offersDeclined: count('Offers declined', 'offers', 'Of the offers made in the period, those the provider declined.', [...FLOW, 'provider']),
  offersExpired: count('Offers expired', 'offers', 'Of the offers made in the period, those not answered by their deadline (expiries).', [...FLOW, 'provider']),
  offersResolved: count('Offers resolved', 'offers', 'Of the offers made in the period, those accepted, declined or expired.', [...FLOW, 'provider']),
  offersWithdrawnOrOpen: count('Offers withdrawn or open', 'offers', 'Of the offers made in the period, those withdrawn by the programme before an answer, or still open.', [...FLOW, 'provider']),
  gaps: count('Unmet needs (gaps)', 'needs', `${GAP_WHERE} whatever the reason.`, [...FLOW, 'needDomain']),
  gapsNoService: count('Gaps: no service', 'needs', `${GAP_WHERE} because no service offers that need (a coverage gap).`, [...FLOW, 'needDomain']),
  gapsNoCoverageInArea: count('Gaps: no coverage in area', 'needs', `${GAP_WHERE} because no service covers the local authority (a coverage gap: the postcode lottery).`, [...FLOW, 'needDomain']),
  gapsNoCapacity: count('Gaps: no capacity', 'needs', `${GAP_WHERE} because every suitable service was full.`, [...FLOW, 'needDomain']),
  gapsNotEligible: count('Gaps: not eligible', 'needs', `${GAP_WHERE} because she was not eligible for any suitable service.`, [...FLOW, 'needDomain']),
  gapsAllDeclinedOrExpired: count('Gaps: all candidates declined or expired', 'needs', `${GAP_WHERE} because every candidate service was offered it and declined, let the offer expire or stopped early, for that need. Plans activated by hand before 28 November 2026 may count here needs that were never offered (the reason then recorded at activation).`, [...FLOW, 'needDomain']),
  gapsNoConsentToShare: count('Gaps: no consent to share', 'needs', `${GAP_WHERE} because consent does not allow sharing with providers.`, [...FLOW, 'needDomain']),
  gapsNotOffered: count('Gaps: not offered', 'needs', `${GAP_WHERE} because the plan was activated by hand before the need was offered to a service that could still be asked.`, [...FLOW, 'needDomain']),
  gapsOutsideConsent: count('Gaps: outside her consent', 'needs', `${GAP_WHERE} because only services of providers her consent does not cover (she named the providers she agrees to, or those she does not) could meet it. Her choice, not a coverage gap.`, [...FLOW, 'needDomain']),
  plansWithGap: count('Plans with unmet need', 'plans', 'Plans with at least one of the gaps counted in Unmet needs.', PLAN_PARTITIONS),
  reviewsDue: count('Reviews due', 'reviews', `${REVIEW_WHERE}.`),
  reviewsOnTime: count('Reviews on time', 'reviews', `${REVIEW_WHERE}: those recorded before they fell overdue (no overdue escalation was raised for them).`),
  reviewsLate: count('Reviews late', 'reviews', `${REVIEW_WHERE}: those that fell overdue, recorded late or still not recorded (an overdue review still open counts as late).`),
  scoredPlans: count('Plans with a score change', 'plans', 'Plans with at least one need domain scored at two or more reviews whose last scoring review is in the period.', PLAN_PARTITIONS),
  followUps6: count('6-month follow-ups known', 'plans', `${EXIT_WHERE} whose 6-month follow-up is recorded as reoffended yes or no (unknown is left out, and so is every follow-up of a plan whose consent was withdrawn: it is not asked after, nor counted).`),
  reoffended6: count('Reoffended within 6 months', 'plans', `${EXIT_WHERE} whose 6-month follow-up is recorded as reoffended yes.`),
  followUps12: count('12-month follow-ups known', 'plans', `${EXIT_WHERE} whose 12-month follow-up is recorded as reoffended yes or no (unknown is left out, and so is every follow-up of a plan whose consent was withdrawn: it is not asked after, nor counted).`),
  reoffended12: count('Reoffended within 12 months', 'plans', `${EXIT_WHERE} whose 12-month follow-up is recorded as reoffended yes.`),
} as const satisfies Record<string, CountFigure>;
export type CountKey = keyof typeof COUNT_FIGURES;

export const FIGURES = {
  referrals: COUNT_FIGURES.referrals,
  consented: COUNT_FIGURES.consented,
  consentRate: rate('Consent rate', 'consented', 'referrals', 'Consented divided by Referrals.'),
  assessed: COUNT_FIGURES.assessed,
  daysReferralToAssessmentMedian: stat('median', 'Days referral to assessment: median', 'days', 'daysReferralToAssessment', 'Median of the days from referral to assessment, over the plans assessed in the period.'),
  daysReferralToAssessmentP90: stat('p90', 'Days referral to assessment: 90th percentile', 'days', 'daysReferralToAssessment', '90th percentile (nearest rank) of the days from referral to assessment, over the plans assessed in the period.'),
  activated: COUNT_FIGURES.activated,
  daysAssessmentToActiveMedian: stat('median', 'Days assessment to active: median', 'days', 'daysAssessmentToActive', 'Median of the days from assessment to first activation, over the plans activated in the period.'),
  daysAssessmentToActiveP90: stat('p90', 'Days assessment to active: 90th percentile', 'days', 'daysAssessmentToActive', '90th percentile (nearest rank) of the days from assessment to first activation, over the plans activated in the period.'),
  daysReferralToActiveMedian: stat('median', 'Days referral to active: median', 'days', 'daysReferralToActive', 'Median of the days from referral to first activation, over the plans activated in the period.'),
  daysReferralToActiveP90: stat('p90', 'Days referral to active: 90th percentile', 'days', 'daysReferralToActive', '90th percentile (nearest rank) of the days from referral to first activation, over the plans activated in the period.'),
  activeAtEnd: COUNT_FIGURES.activeAtEnd,
  exits: COUNT_FIGURES.exits,
  exitsCompleted: COUNT_FIGURES.exitsCompleted,
  exitsTransferred: COUNT_FIGURES.exitsTransferred,
  exitsDisengaged: COUNT_FIGURES.exitsDisengaged,
  exitsMovedAway: COUNT_FIGURES.exitsMovedAway,
  exitsCustody: COUNT_FIGURES.exitsCustody,
  exitsOther: COUNT_FIGURES.exitsOther,
  exitsConsentWithdrawn: COUNT_FIGURES.exitsConsentWithdrawn,
  completionRate: rate('Completion rate', 'exitsCompleted', 'exits', 'Completed exits divided by all exits in the period.'),
  offers: COUNT_FIGURES.offers,
  offersAccepted: COUNT_FIGURES.offersAccepted,
  offersDeclined: COUNT_FIGURES.offersDeclined,
  offersExpired: COUNT_FIGURES.offersExpired,
  offersResolved: COUNT_FIGURES.offersResolved,
  offersWithdrawnOrOpen: COUNT_FIGURES.offersWithdrawnOrOpen,
  acceptanceRate: rate('Offer acceptance rate', 'offersAccepted', 'offersResolved', 'Offers accepted divided by offers resolved (accepted, declined or expired), for offers made in the period.'),
  responseHoursMedian: stat('median', 'Offer response time: median', 'hours', 'responseHours', 'Median of the hours from offer to the provider accepting or declining, over offers made in the period and answered (expiries are counted apart).'),
  gaps: COUNT_FIGURES.gaps,
  gapsNoService: COUNT_FIGURES.gapsNoService,
  gapsNoCoverageInArea: COUNT_FIGURES.gapsNoCoverageInArea,
  gapsNoCapacity: COUNT_FIGURES.gapsNoCapacity,
  gapsNotEligible: COUNT_FIGURES.gapsNotEligible,
  gapsAllDeclinedOrExpired: COUNT_FIGURES.gapsAllDeclinedOrExpired,
  gapsNoConsentToShare: COUNT_FIGURES.gapsNoConsentToShare,
  gapsNotOffered: COUNT_FIGURES.gapsNotOffered,
  gapsOutsideConsent: COUNT_FIGURES.gapsOutsideConsent,
  plansWithGap: COUNT_FIGURES.plansWithGap,
  reviewsDue: COUNT_FIGURES.reviewsDue,
  reviewsOnTime: COUNT_FIGURES.reviewsOnTime,
  reviewsLate: COUNT_FIGURES.reviewsLate,
  reviewOnTimeRate: rate('Review on-time rate', 'reviewsOnTime', 'reviewsDue', 'Reviews on time divided by reviews due.'),
  scoredPlans: COUNT_FIGURES.scoredPlans,
  scoreChangeMean: stat(
    'mean',
    'Mean score change, first to last review',
    'score points (1-10 scale)',
    'scoreChange',
    'For each plan and need domain scored at two or more reviews, the score at the last such review minus the score at the first, counted in the period of that last review; the mean over those plan-domain pairs. Positive is progress.',
    // One decimal, as the other statistics: a mean of whole points to two decimals gives its count back
    // (by need domain the pairs are the scored plans): over counts 5-60 and sums of -2 to +3 a pair, 16.5 %
    // of means to two decimals fit only one of the counts a rounded Scored plans stands for; to one, 0.2 %.
    1,
  ),
  followUps6: COUNT_FIGURES.followUps6,
  reoffended6: COUNT_FIGURES.reoffended6,
  reoffendingRate6: rate('Reoffending within 6 months', 'reoffended6', 'followUps6', 'Reoffended within 6 months divided by 6-month follow-ups known, for plans exited in the period.'),
  followUps12: COUNT_FIGURES.followUps12,
  reoffended12: COUNT_FIGURES.reoffended12,
  reoffendingRate12: rate('Reoffending within 12 months', 'reoffended12', 'followUps12', 'Reoffended within 12 months divided by 12-month follow-ups known, for plans exited in the period.'),
} as const satisfies Record<string, FigureDefinition>;
export type FigureKey = keyof typeof FIGURES;
export const FIGURE_KEYS = Object.keys(FIGURES) as FigureKey[];

/**
 * The true counts a shown count rounded to the nearest `roundTo` stands for (halves up): from `below`
 * under it to `above` over it (5: 2 and 2), and never under the threshold (it is shown).
 */
export function roundingReach(roundTo: number): { below: number; above: number } {
  return { below: Math.floor(roundTo / 2), above: Math.ceil(roundTo / 2) - 1 };
}

/**
 * The example the definitions and the CSV notes both give: a rate shown as 2 of 6 rounding steps, and
 * the lowest and highest true rates its two rounded counts may stand for.
 */
export function roundedRateExample(roundTo: number) {
  const { below, above } = roundingReach(roundTo);
  const [n, d] = [2 * roundTo, 6 * roundTo];
  const rate = (count: number, of: number) => ({ count, of, percent: `${Math.round((100 * count) / of)} %` });
  return { shown: rate(n, d), lowest: rate(n - below, d + above), highest: rate(n + above, d - below) };
}

/** How far a rate worked out from rounded counts can be from the true one, in words, with an example at cohort size. */
export function rateFromRoundedCountsWords(roundTo: number): string {
  const { below, above } = roundingReach(roundTo);
  const { shown, lowest, highest } = roundedRateExample(roundTo);
  return (
    `Worked out from its two counts as shown, each rounded to the nearest ${roundTo}, not from the exact counts (an exact rate beside its two rounded counts would give the exact counts back): it is the rate of the rounded counts, not the true rate rounded. ` +
    `Each shown count may be up to ${below} under or ${above} over the true one, so at small numbers the rate can be several points from the true rate: shown as ${shown.count} of ${shown.of} (${shown.percent}), the true rate may be anything from ${lowest.count} of ${lowest.of} (${lowest.percent}) to ${highest.count} of ${highest.of} (${highest.percent}); the larger the counts, the closer.`
  );
}

/** A figure's definition as served with the figures, saying what rounding of counts (to the nearest `roundTo`) does to it. */
export function servedDefinition(key: FigureKey, roundTo: number): string {
  const def: FigureDefinition = FIGURES[key];
  if (roundTo <= 1) return def.definition;
  if (def.kind === 'count') return `${def.definition} Shown rounded to the nearest ${roundTo}.`;
  if (def.kind === 'rate') return `${def.definition} ${rateFromRoundedCountsWords(roundTo)}`;
  return `${def.definition} Worked out from the exact values, whatever the rounding of the counts shown.`;
}

/** Totals and the counts that add up to them, within any one group. */
export const RELATIONS: readonly { total: CountKey; parts: readonly CountKey[] }[] = [
  { total: 'exits', parts: ['exitsCompleted', 'exitsTransferred', 'exitsDisengaged', 'exitsMovedAway', 'exitsCustody', 'exitsOther', 'exitsConsentWithdrawn'] },
  { total: 'offers', parts: ['offersResolved', 'offersWithdrawnOrOpen'] },
  { total: 'offersResolved', parts: ['offersAccepted', 'offersDeclined', 'offersExpired'] },
  // The two above together: with Offers resolved hidden, only this line sees that hidden declines,
  // expiries and withdrawals adding to less than the threshold pin each other.
  { total: 'offers', parts: ['offersAccepted', 'offersDeclined', 'offersExpired', 'offersWithdrawnOrOpen'] },
  { total: 'gaps', parts: ['gapsNoService', 'gapsNoCoverageInArea', 'gapsNoCapacity', 'gapsNotEligible', 'gapsAllDeclinedOrExpired', 'gapsNoConsentToShare', 'gapsNotOffered', 'gapsOutsideConsent'] },
  { total: 'reviewsDue', parts: ['reviewsOnTime', 'reviewsLate'] },
];

/** Rounding of rates (proportions). */
export const RATE_DECIMALS = 4;

export const SUPPRESSED = 'suppressed' as const;

export const SUPPRESSION_RULES = [
  'Primary: a count below the threshold is suppressed (zero included); a median, percentile or mean taken over fewer plans (offers, for response time) than the threshold is suppressed, and so is one taken over a count that is suppressed (Assessed, Activated, Offers accepted or declined, Plans with a score change): shown, it would say that count reaches the threshold, which narrows the suppressed counts beside it.',
  'Secondary: wherever a total and the counts that make it up are published together (the relations within a group, and the groups of a breakdown whose groups add up to the overall figure), no such set may have exactly one suppressed cell: another count of the set is suppressed too. Nor, when the total is shown, may its suppressed counts add up to less than the threshold (the total minus the shown counts would pin them: suppressed zeros adding up to 0 are all 0): another shown count of the set is suppressed too. Which one: the smallest shown count that no shown rate is built on (the first of equals); else the total, if no shown rate is built on it; else the smallest shown count; else the total. The sets are visited in a fixed order (the relations of the overall group, then of each breakdown group in turn, then each breakdown figure by figure), again and again until every one is safe. Then the sets several of them make together are held to the same rule: for a total and its counts across a breakdown\'s groups, the groups (and overall) whose share of some of the counts is known from what they show leave the other groups\' share of those counts (and, when those groups show their totals, of the rest) known too; such a set gives up a shown cell the same way, or one of the cells that made a group\'s share known, and the sets are visited again until all are safe.',
  'A rate is suppressed when its numerator or its denominator is suppressed: beside one shown count it would give the other back, and with it, by subtraction, the small count that one was hidden to protect. That is why a rate\'s counts are suppressed only when a set leaves no other choice (a small Offers withdrawn or open hides Offers rather than Offers resolved, keeping the acceptance rate). When a rate is lost all the same (its two counts differ by less than the threshold, say), the whole of the secondary suppression is done again without sparing that rate\'s counts, until every rate spared is shown. A shown rate is the ratio of its two shown counts, so it tells nothing they do not.',
  'Suppressed cells read "suppressed" in both JSON and CSV.',
  'Periods are whole calendar quarters (January to March, April to June, July to September, October to December, or several in a row), and figures come only from complete quarters: a period ending in the current quarter or later is answered up to the end of the last complete quarter (the answer\'s period.to, with period.requestedTo the day asked for). With any day as an end, the same period asked a day longer, day after day, showed the day a count moved under the rounding, and that was the day one woman exited: whether she had reoffended, or why she left. Rounding and suppression protect within one answer; across many overlapping answers the ends they may have decide what they give away. With any start month and any end month, such answers still pinned some women\'s outcomes; with whole quarters, none was found (measured on simulated cohorts).',
  'Rounding: every count that is shown is rounded to the nearest multiple of roundCountsTo (suppression.roundCountsTo; halves round up; 1 means exact counts), after the suppression above has been decided on the exact counts, and the same count always reads the same. So the difference between two published counts (a period minus part of it, say) no longer gives away a hidden count. Rounded counts need not add up to their rounded total. A published 0 always means none: a true 0 is below every threshold and suppressed, and a shown count that would round down to 0 (only with a threshold under half of roundCountsTo) reads roundCountsTo instead.',
  'Rates are worked out from the rounded counts as shown (an exact rate beside its two rounded counts would give the exact counts back), so a rate is the ratio of the rounded counts, not the true rate rounded, and at small numbers it can be several points from the true rate (each count may be up to half of roundCountsTo from the true one: with 5, 10 of 30 shown reads 33 %, and the truth may be anything from 8 of 32, 25 %, to 12 of 28, 43 %). Medians, 90th percentiles and means are worked out from the exact values, and they are suppressed when built on fewer plans than the threshold; a 90th percentile also when built on fewer than 10 values (or twice the threshold, if more), as over fewer the nearest-rank 90th percentile is the largest value, one woman\'s own.',
  'A rate reads 1 (all) or 0 (none) only when it exactly is: one that would read above 0.99 while not all counted have the attribute reads 0.99 (48 of 50 completed have rounded counts of 50 and 50, which would read 100 %), and one that would read below 0.01 while some have it reads 0.01. Each such rate is listed in boundedRates, as under all (below-all) or over none (above-none); the CSV names them in its last column, boundedRates.',
];
