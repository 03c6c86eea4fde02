/**
 * Small-number suppression. Cells are counts; a line is a total and the counts that add up to it.
 * Primary suppression hides counts below the threshold. Secondary suppression then makes sure no
 * line has exactly one hidden cell, since that cell would be its total minus the others (or, for a
 * hidden total, the sum of its parts): the smallest other part is hidden too (the total when there is
 * no other part). Nor may a shown total's hidden parts add up to less than the threshold: their sum is
 * the total minus the shown parts, and a small sum pins each of them (hidden zeros adding to 0 are all
 * 0, and those zeros, carried into the lines they share, gave a hidden 1 or 2 away exactly); the
 * smallest shown part is hidden too. This repeats until every line is safe.
 */

export interface Cell {
  readonly value: number;
  suppressed: boolean;
}

export interface Line {
  total: Cell;
  parts: readonly Cell[];
}

export function primarySuppress(cells: Iterable<Cell>, threshold: number): void {
  for (const cell of cells) if (cell.value < threshold) cell.suppressed = true;
}

/** Returns how many cells it hid. `threshold`: the primary threshold, the least the hidden parts of a shown total may add up to. */
export function secondarySuppress(lines: readonly Line[], threshold: number): number {
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
      let smallest: Cell | undefined;
      for (const part of line.parts) if (!part.suppressed && (smallest === undefined || part.value < smallest.value)) smallest = part;
      const target = smallest ?? (pinned ? undefined : line.total);
      if (!target || target.suppressed) continue; // a total with no parts: nothing to hide it behind
      target.suppressed = true;
      hidden += 1;
      changed = true;
    }
  }
  return hidden;
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

/** The most a rate may read when not every one counted has the attribute, and the least when some do. */
export const RATE_BELOW_ALL = 0.99;
export const RATE_ABOVE_NONE = 0.01;
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
