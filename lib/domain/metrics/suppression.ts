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
 * Lines together. Hidden cells that pass every line can still be narrowed, with counts never being
 * negative, to less than the threshold, or pinned as zeros, by several lines at once: overall Offers
 * resolved 6 and accepted 4, one local authority's resolved 4 and accepted 2, so its declines and
 * expiries are the overall 2 and every other local authority's are 0. So once every line is safe, the
 * lines each relation's groups make together (derivedLines) are held to the same rule, and a derived
 * line that pins gives up a cell the same way; then the lines again, until both are safe. Checked by
 * test/support/disclosure.ts, which solves a linear programme per hidden cell of an answer (the least
 * and the most it can be given everything shown): property tests over random cohorts and breakdowns
 * find no hidden cell narrower than the threshold. What the derived lines do not take together (two
 * relations of one group at once, or two breakdowns through hidden overall cells) only that check sees;
 * the linear programme itself is too slow to run per query (0.8 s for an every-breakdown answer over
 * 3,000 plans).
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

/**
 * The fewest values a 90th percentile is shown over. Nearest rank takes the ceil(0.9 n)-th smallest
 * value, which is the largest one for every n below 10: over 5-9 plans it is one woman's own value
 * (the longest wait, say), not a summary of several. From 10 values it is never the largest. Twice the
 * threshold when that is more, so a stricter threshold raises it in step (at the default 5, both are 10).
 * A threshold of 0 (tests only: the settings start at 1) hides nothing, this included.
 */
export function p90MinimumValues(threshold: number): number {
  return threshold <= 0 ? 0 : Math.max(10, 2 * threshold);
}

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

/**
 * A relation across the groups of one breakdown: each group's line (a total and its parts) and the
 * overall one, where each part (and the total) of the groups adds up to the overall one.
 */
export interface Table {
  overall: Line;
  groups: readonly Line[];
}

/**
 * Lines that several lines of a table make together. Take a set of parts, C. A row (a group, or the
 * overall) holds a known number of C when its cells in C are all shown, or when its total is shown and
 * its hidden parts are all in C (the total less its shown parts outside C). With the overall's known,
 * the groups that are not known (U) hold in C the overall's less the known groups': a line whose total
 * is shown and whose parts are U's cells in C (A). And when every group of U shows its total, U's cells
 * outside C add up to U's totals less that: another such line (B). Overall Offers resolved 6 and accepted
 * 4, Sandwell's 4 and 2: with C = declines and expiries, the other groups' add up to 2 - 2 = 0 (A), each
 * pinned at 0, though every line of its own has hidden cells adding up to the threshold. Overall Offers
 * resolved 10, Anawim's 4 shown, three providers showing Offers 2 with resolved and withdrawn hidden:
 * with C = resolved, their withdrawn add up to 6 - (10 - 4) = 0 (B). The sets tried: each row's hidden
 * parts when its total is shown, all of those together, each single part, and the parts the overall
 * shows. When a derived line's parts are all hidden, a cell that makes it no longer hold is given up
 * (`instead`): a known group's total or part outside C, U's totals for B, else the overall's.
 */
function derivedLines(table: Table): { line: Line; instead: readonly Cell[] }[] {
  const rows = [table.overall, ...table.groups];
  const parts = table.overall.parts.length;
  if (!rows.some((row) => row.total.suppressed || row.parts.some((part) => part.suppressed))) return [];
  const sets: number[][] = [];
  for (const row of rows) {
    if (row.total.suppressed) continue;
    const set: number[] = [];
    row.parts.forEach((part, i) => {
      if (part.suppressed) set.push(i);
    });
    if (set.length > 1) sets.push(set);
  }
  sets.push([...new Set(sets.flat())].sort((a, b) => a - b));
  for (let i = 0; i < parts; i += 1) sets.push([i]);
  sets.push(table.overall.parts.flatMap((part, i) => (part.suppressed ? [] : [i])));
  const out: { line: Line; instead: Cell[] }[] = [];
  const seen = new Set<string>();
  for (const set of sets) {
    const key = set.join(',');
    if (set.length === 0 || seen.has(key)) continue;
    seen.add(key);
    const inSet = new Array<boolean>(parts).fill(false);
    for (const i of set) inSet[i] = true;
    const isKnown = (row: Line) =>
      row.parts.every((part, i) => !inSet[i] || !part.suppressed) || (!row.total.suppressed && row.parts.every((part, i) => inSet[i] || !part.suppressed));
    if (!isKnown(table.overall)) continue;
    const known: Line[] = [];
    const unknown: Line[] = [];
    for (const row of table.groups) {
      if (!isKnown(row)) unknown.push(row);
      else if (row.parts.some((part) => part.suppressed)) known.push(row);
    }
    if (unknown.length === 0) continue;
    // What stops the derived lines holding: a known group's total or part outside C, else the overall's.
    const outsideC = (row: Line) => [row.total, ...row.parts.filter((_, i) => !inSet[i])];
    const instead = [...known.flatMap(outsideC), ...outsideC(table.overall), ...table.overall.parts.filter((_, i) => inSet[i])];
    const lineOf = (cells: Cell[]): Line => ({ total: { value: cells.reduce((sum, cell) => sum + cell.value, 0), suppressed: false }, parts: cells });
    out.push({ line: lineOf(unknown.flatMap((row) => row.parts.filter((_, i) => inSet[i]))), instead });
    if (unknown.every((row) => !row.total.suppressed))
      out.push({ line: lineOf(unknown.flatMap((row) => row.parts.filter((_, i) => !inSet[i]))), instead: [...unknown.map((row) => row.total), ...instead] });
  }
  return out;
}

/** Whether `line` gives a hidden cell away: it has exactly one, or its total is shown and its hidden parts add up to less than the threshold. */
function pins(line: Line, threshold: number): boolean {
  let suppressed = line.total.suppressed ? 1 : 0;
  let hiddenSum = 0;
  for (const part of line.parts)
    if (part.suppressed) {
      suppressed += 1;
      hiddenSum += part.value;
    }
  return suppressed === 1 || (suppressed > 1 && !line.total.suppressed && hiddenSum < threshold);
}

/** One pass until every line (and every derived line of `tables`) is safe, giving up a cell of a protected rate only when the line leaves no other choice. Returns how many cells it hid. */
function suppressLines(lines: readonly Line[], threshold: number, ratesOf: Map<Cell, RateCells[]>, tables: readonly Table[]): number {
  // A cell costs a rate when hiding it hides a rate still shown.
  const costsRate = (cell: Cell) => ratesOf.get(cell)?.some(shown) ?? false;
  const free = (cell: Cell) => !costsRate(cell);
  /** The cell `line` gives up: the smallest shown part no shown rate needs, the total if none needs it, the smallest shown part, the total. */
  const choose = (line: Line): Cell | undefined => {
    const total = line.total.suppressed ? undefined : line.total;
    return (
      smallestOf(line.parts, free) ??
      (total && free(total) ? total : undefined) ??
      smallestOf(line.parts, () => true) ??
      // A hidden part with no other part: the total goes (nothing to hide it behind when it has no parts).
      total
    );
  };
  let hidden = 0;
  let changed = true;
  while (changed) {
    changed = false;
    for (const line of lines) {
      if (!pins(line, threshold)) continue;
      const target = choose(line);
      if (!target) continue;
      target.suppressed = true;
      hidden += 1;
      changed = true;
    }
    if (changed) continue;
    // Every line is safe on its own: now the lines each table's lines make together.
    for (const table of tables) {
      for (const { line, instead } of derivedLines(table)) {
        if (!pins(line, threshold)) continue;
        // A shown cell among the derived line's parts, else one that makes a known group unknown (its total, or a shown part).
        const target = smallestOf(line.parts, free) ?? smallestOf(line.parts, () => true) ?? smallestOf(instead, free) ?? smallestOf(instead, () => true);
        if (!target) continue;
        target.suppressed = true;
        hidden += 1;
        changed = true;
        break;
      }
      if (changed) break;
    }
  }
  return hidden;
}

/**
 * Secondary suppression over `lines` (see above), keeping shown every rate of `rates` it can.
 * `threshold`: the primary threshold, the least the hidden parts of a shown total may add up to.
 * Returns how many cells it hid.
 */
export function secondarySuppress(lines: readonly Line[], threshold: number, rates: readonly RateCells[] = [], tables: readonly Table[] = []): number {
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
    const hidden = suppressLines(lines, threshold, ratesOf, tables);
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
