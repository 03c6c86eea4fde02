/**
 * What someone holding one published answer can work out of its suppressed counts: every sum the answer
 * allows (within each group, each total is the sum of its parts, RELATIONS; across a breakdown, the
 * groups of an additive figure add up to the overall one), plus every shown rate (numerator = rate x
 * denominator, which gives a hidden count back when the other one is shown). Combined by adding and
 * subtracting any of them, as far as they go: Gaussian elimination over the suppressed cells (in
 * floating point with a tolerance; the coefficients are 1, -1 and rates, the systems small).
 *
 * A suppressed cell is recovered 'by sums' when those equations fix it alone (its row in the reduced
 * system names no other suppressed cell). Counts are never negative, so a reduced row saying that
 * suppressed cells all weighted the same way add up to 0 also gives each away as 0 ('as zeros'); this
 * takes the equations together, where secondary suppression looks at one line at a time (no line's
 * hidden cells add up to less than the threshold), and a cohort can pass every line and fail here: a
 * month breakdown whose shown months hold all but two offers, both accepted, reads from the offers and
 * accepted lines together that the other months' declines, expiries and withdrawals are all 0.
 *
 * The answer must have exact counts (roundCountsTo 1): that is the worst case, rounding only blurs.
 */
import { COUNT_FIGURES, FIGURE_KEYS, FIGURES, RELATIONS, SUPPRESSED, type CountKey, type Dimension, type FigureDefinition } from '../../lib/domain/metrics/definitions.ts';
import type { Figures, MetricsReport } from '../../lib/domain/metrics/compute.ts';

const EPSILON = 1e-9;

/** A linear equation over suppressed cells: sum of coefficient x cell = constant. */
interface Equation {
  terms: Map<number, number>;
  constant: number;
}

export interface Recovered {
  /** "overall offersWithdrawnOrOpen", "provider:bcwa offersExpired"... */
  cell: string;
  /** What the equations say it is. */
  value: number;
  how: 'by sums' | 'as zeros';
}

/** Every suppressed cell the answer gives away, by sums alone or as zeros too (see above). */
export function recoverableCells(report: MetricsReport): Recovered[] {
  const names: string[] = [];
  const indexOf = new Map<string, number>();
  const groups: [string, Figures][] = [['overall', report.overall]];
  for (const [dim, list] of Object.entries(report.breakdowns) as [Dimension, { group: string; figures: Figures }[]][]) for (const g of list) groups.push([`${dim}:${g.group}`, g.figures]);

  const equations: Equation[] = [];
  /** Adds `coefficient` x the cell to `eq`: to its terms when suppressed, else to the constant's other side. */
  const add = (eq: Equation, group: string, figures: Figures, key: CountKey, coefficient: number) => {
    const shown = figures[key];
    if (shown !== SUPPRESSED) {
      eq.constant -= coefficient * shown;
      return;
    }
    const name = `${group} ${key}`;
    let at = indexOf.get(name);
    if (at === undefined) {
      at = names.length;
      names.push(name);
      indexOf.set(name, at);
    }
    eq.terms.set(at, (eq.terms.get(at) ?? 0) + coefficient);
  };
  const equation = (fill: (eq: Equation) => void) => {
    const eq: Equation = { terms: new Map(), constant: 0 };
    fill(eq);
    for (const [k, v] of eq.terms) if (Math.abs(v) < EPSILON) eq.terms.delete(k);
    if (eq.terms.size > 0) equations.push(eq);
  };

  for (const [group, figures] of groups) {
    for (const rel of RELATIONS)
      equation((eq) => {
        add(eq, group, figures, rel.total, 1);
        for (const part of rel.parts) add(eq, group, figures, part, -1);
      });
    for (const key of FIGURE_KEYS) {
      const def: FigureDefinition = FIGURES[key];
      const rate = figures[key];
      if (def.kind !== 'rate' || rate === SUPPRESSED) continue;
      equation((eq) => {
        add(eq, group, figures, def.numerator, 1);
        add(eq, group, figures, def.denominator, -rate);
      });
    }
  }
  for (const [dim, list] of Object.entries(report.breakdowns) as [Dimension, { group: string; figures: Figures }[]][]) {
    for (const [key, def] of Object.entries(COUNT_FIGURES) as [CountKey, (typeof COUNT_FIGURES)[CountKey]][]) {
      if (!(def.additiveOver as readonly Dimension[]).includes(dim)) continue;
      equation((eq) => {
        add(eq, 'overall', report.overall, key, 1);
        for (const g of list) add(eq, `${dim}:${g.group}`, g.figures, key, -1);
      });
    }
  }

  // Reduced row echelon form, one suppressed cell at a time (rows are sparse: lines are short).
  const rows = equations;
  const pivots: Equation[] = [];
  for (let cell = 0; cell < names.length; cell += 1) {
    let best = -1;
    for (let r = 0; r < rows.length; r += 1) {
      const c = rows[r]?.terms.get(cell);
      if (c !== undefined && (best < 0 || Math.abs(c) > Math.abs(rows[best]?.terms.get(cell) as number))) best = r;
    }
    if (best < 0) continue;
    const pivot = rows.splice(best, 1)[0] as Equation;
    const scale = pivot.terms.get(cell) as number;
    for (const [k, v] of pivot.terms) pivot.terms.set(k, v / scale);
    pivot.constant /= scale;
    for (const other of [...rows, ...pivots]) {
      const factor = other.terms.get(cell);
      if (factor === undefined) continue;
      for (const [k, v] of pivot.terms) {
        const next = (other.terms.get(k) ?? 0) - factor * v;
        if (Math.abs(next) < EPSILON) other.terms.delete(k);
        else other.terms.set(k, next);
      }
      other.constant -= factor * pivot.constant;
    }
    pivots.push(pivot);
  }

  const recovered = new Map<string, Omit<Recovered, 'cell'>>();
  for (const row of pivots) {
    const terms = [...row.terms];
    if (terms.length === 1) {
      const [cell, coefficient] = terms[0] as [number, number];
      recovered.set(names[cell] as string, { value: row.constant / coefficient, how: 'by sums' });
    } else if (Math.abs(row.constant) < 1e-6 && (terms.every(([, c]) => c > 0) || terms.every(([, c]) => c < 0))) {
      for (const [cell] of terms) if (!recovered.has(names[cell] as string)) recovered.set(names[cell] as string, { value: 0, how: 'as zeros' });
    }
  }
  return [...recovered].map(([cell, found]) => ({ cell, ...found }));
}
