/**
 * Small-number suppression. Cells are counts; a line is a total and the counts that add up to it.
 * Primary suppression hides counts below the threshold. Secondary suppression then makes sure no
 * line has exactly one hidden cell, since that cell would be its total minus the others (or, for a
 * hidden total, the sum of its parts): another cell of the line is hidden too. Nor may a shown total's
 * hidden parts add up to less than the threshold: their sum is the total minus the shown parts, and a
 * small sum pins each of them (hidden zeros adding to 0 are all 0, and those zeros, carried into the
 * lines they share, gave a hidden 1 or 2 away exactly); a shown cell of the line is hidden too. This
 * repeats until every line is safe.
 *
 * Rates. A rate is shown only when its numerator and its denominator are both shown: it is then their
 * ratio as published (the rounded counts, see publishedRate) and says nothing the two counts do not.
 * Shown beside one hidden count it would give that count back (Offers resolved = Offers accepted /
 * acceptance rate), and with it, by subtraction, whatever that count was hidden to protect (Offers
 * minus Offers resolved is the small Withdrawn or open). So a rate cannot be shown "anyway"; what can
 * be chosen is which cell a line gives up. The old choice, always the smallest other part, gave up a
 * rate's count whenever one was to hand: a small Withdrawn or open took Offers resolved with it (the
 * line Offers = Offers resolved + Withdrawn or open has no other part), and with it the acceptance rate,
 * overall and for every provider, over 199 offers of which 196 were resolved. Hiding Offers instead
 * protects the same small cell just as well (one equation, two unknowns) and keeps the rate.
 *
 * So a cell a still-shown rate is built on (the rate's other count is shown) is given up only when the
 * line leaves no other choice: first the smallest shown part no shown rate needs, then the total if no
 * shown rate needs it, then the smallest shown part, then the total. (Hiding a shown total protects a
 * pinned line too: the total minus the shown parts is then unknown.) Some rates are lost whatever is
 * chosen: when Offers accepted and Offers resolved differ by less than the threshold, the two shown
 * would pin the hidden declines and expiries, so one of them goes. Cells spared for such a rate would
 * have made other lines give up something else for nothing, so the whole of the secondary suppression
 * runs again from the primary one without sparing the rates that were lost, until every rate spared is
 * shown (each round spares fewer, so it ends). A rate lost in one round is not spared in the next even
 * if it might have been kept there: simple and deterministic rather than best.
 *
 * What this does not see: the lines one at a time, not together. Hidden cells that pass every line can
 * still be narrowed, together with counts never being negative, to less than the threshold or pinned
 * as zeros by several lines at once: overall Offers resolved 6 and accepted 4, one local authority's
 * resolved 4 and accepted 2, so its declines and expiries are the overall 2 and every other local
 * authority's are 0 (test/support/disclosure.ts, unprotectedCells, solves a linear programme per hidden
 * cell and finds them; test/unit/metrics-feasible-intervals.test.ts keeps the known cases). Property
 * tests find no hidden count fixed by sums alone, and rounding the shown counts blurs the rest.
 */

import { RATE_ABOVE_NONE, RATE_BELOW_ALL } from './rate-caps.ts';
import type { CountKey, StatValues } from './definitions.ts';

/**
 * The counts each statistic is taken over some of: a plan assessed in the period (with its days known),
 * activated, an offer accepted or declined (with its hours), a plan with a score change. A statistic
 * is shown only when taken over at least the threshold's number of values, so a shown one says these
 * counts add up to at least the threshold: beside a suppressed one of them that narrows it, and with it
 * the cells of its lines (a shown response time over 2 offers, both accepted, of 2 made, says with the
 * offers line that none expired or was withdrawn). So a statistic, like a rate, is shown only when
 * every count it is taken over is shown (statisticShown).
 */
export const STATISTIC_BASES = {
  daysReferralToAssessment: ['assessed'],
  daysAssessmentToActive: ['activated'],
  daysReferralToActive: ['activated'],
  responseHours: ['offersAccepted', 'offersDeclined'],
  scoreChange: ['scoredPlans'],
} as const satisfies Record<StatValues, readonly CountKey[]>;

/** Whether a statistic over `values` values whose counts are `bases` may be shown: enough values, and none of its counts suppressed. */
export function statisticShown(values: number, threshold: number, bases: readonly Cell[]): boolean {
  return values > 0 && values >= threshold && bases.every((cell) => !cell.suppressed);
}

export interface Cell {
  readonly value: number;
  suppressed: boolean;
}

export interface Line {
  total: Cell;
  parts: readonly Cell[];
}

/** A published rate: shown only when both its counts are. */
export interface RateCells {
  numerator: Cell;
  denominator: Cell;
}

export function primarySuppress(cells: Iterable<Cell>, threshold: number): void {
  for (const cell of cells) if (cell.value < threshold) cell.suppressed = true;
}

const shown = (rate: RateCells) => !rate.numerator.suppressed && !rate.denominator.suppressed;

/** The first smallest of `cells` that `allowed` accepts. */
function smallestOf(cells: readonly Cell[], allowed: (cell: Cell) => boolean): Cell | undefined {
  let smallest: Cell | undefined;
  for (const cell of cells) if (!cell.suppressed && allowed(cell) && (smallest === undefined || cell.value < smallest.value)) smallest = cell;
  return smallest;
}

/** One pass until every line is safe, giving up a cell of a protected rate only when the line leaves no other choice. Returns how many cells it hid. */
function suppressLines(lines: readonly Line[], threshold: number, ratesOf: Map<Cell, RateCells[]>): number {
  // A cell costs a rate when hiding it hides a rate still shown.
  const costsRate = (cell: Cell) => ratesOf.get(cell)?.some(shown) ?? false;
  const free = (cell: Cell) => !costsRate(cell);
  let hidden = 0;
  let changed = true;
  while (changed) {
    changed = false;
    for (const line of lines) {
      let suppressed = line.total.suppressed ? 1 : 0;
      let hiddenSum = 0;
      for (const part of line.parts)
        if (part.suppressed) {
          suppressed += 1;
          hiddenSum += part.value;
        }
      const pinned = suppressed > 1 && !line.total.suppressed && hiddenSum < threshold;
      if (suppressed !== 1 && !pinned) continue;
      const total = line.total.suppressed ? undefined : line.total;
      const target =
        smallestOf(line.parts, free) ??
        (total && free(total) ? total : undefined) ??
        smallestOf(line.parts, () => true) ??
        // A hidden part with no other part: the total goes (nothing to hide it behind when it has no parts).
        total;
      if (!target) continue;
      target.suppressed = true;
      hidden += 1;
      changed = true;
    }
  }
  return hidden;
}

/**
 * Secondary suppression over `lines` (see above), keeping shown every rate of `rates` it can.
 * `threshold`: the primary threshold, the least the hidden parts of a shown total may add up to.
 * Returns how many cells it hid.
 */
export function secondarySuppress(lines: readonly Line[], threshold: number, rates: readonly RateCells[] = []): number {
  const cells = new Set<Cell>();
  for (const line of lines) {
    cells.add(line.total);
    for (const part of line.parts) cells.add(part);
  }
  for (const rate of rates) cells.add(rate.numerator).add(rate.denominator);
  const primary = new Map([...cells].map((cell) => [cell, cell.suppressed]));
  let protectedRates = rates.filter(shown);
  for (;;) {
    const ratesOf = new Map<Cell, RateCells[]>();
    for (const rate of protectedRates)
      for (const cell of [rate.numerator, rate.denominator]) {
        const list = ratesOf.get(cell);
        if (list) list.push(rate);
        else ratesOf.set(cell, [rate]);
      }
    const hidden = suppressLines(lines, threshold, ratesOf);
    const kept = protectedRates.filter(shown);
    if (kept.length === protectedRates.length) return hidden;
    protectedRates = kept;
    for (const [cell, suppressed] of primary) cell.suppressed = suppressed;
  }
}

/**
 * A shown count as published: the nearest multiple of `to` (halves up; 1 leaves it exact). Applied
 * after suppression, which decides on the exact counts, and the same count always reads the same.
 * Differencing two answers (a period minus a part of it) then no longer pins a hidden count: each
 * published count stands for any true count within `to`/2 of it. A shown count is never published
 * as 0, which would read as none: a true 0 is below every threshold and never shown, and a count
 * that would round down to 0 (only with a threshold under half of `to`) reads `to`.
 */
export function roundCount(value: number, to: number): number {
  if (to <= 1) return value;
  return Math.max(to, Math.round(value / to) * to);
}

// The caps live in a module of their own, which the web app's bundle can import too.
export { RATE_ABOVE_NONE, RATE_BELOW_ALL };
/** Why a rate reads RATE_BELOW_ALL or RATE_ABOVE_NONE: it is under 1 (not all) or over 0 (not none), and nearer than that to it. */
export type RateBound = 'below-all' | 'above-none';

/**
 * A rate as published: the ratio of its two counts as shown (rounded, see roundCount), to `decimals`,
 * but never read as all (1) or none (0) unless it exactly is. The rounded counts of 48 of 50 are both 50,
 * and "100 % completed" tells a commissioner every plan completed; so a rate that would read above
 * RATE_BELOW_ALL while the exact numerator is below the exact denominator reads RATE_BELOW_ALL and is
 * bound 'below-all' (likewise below RATE_ABOVE_NONE with a numerator above 0: RATE_ABOVE_NONE,
 * 'above-none'). Capped at 99 % and 1 %, not at the largest value under 1 the precision allows, so that
 * a display in whole percent cannot round it back to 100 % or 0 %. What it gives away of the exact
 * counts is only that they differ (or that the numerator is not 0), which the flagged answer is for;
 * not how far apart they are.
 */
export function publishedRate(numerator: number, denominator: number, to: number, decimals: number): { value: number; bound?: RateBound } {
  const factor = 10 ** decimals;
  const value = Math.round((roundCount(numerator, to) / roundCount(denominator, to)) * factor) / factor;
  if (value > RATE_BELOW_ALL && numerator < denominator) return { value: RATE_BELOW_ALL, bound: 'below-all' };
  if (value < RATE_ABOVE_NONE && numerator > 0) return { value: RATE_ABOVE_NONE, bound: 'above-none' };
  return { value };
}
