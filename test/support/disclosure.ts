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
import { solve, type Constraint } from 'yalps';
import { STATISTIC_BASES } from '../../lib/domain/metrics/suppression.ts';

const EPSILON = 1e-9;


/** A linear equation over suppressed cells: sum of coefficient x cell = constant (or, for a floor, at least the constant). */
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

/** The answer's sums and shown rates as equations over its suppressed cells, and the names of those cells. */
function publishedEquations(report: MetricsReport): { names: string[]; equations: Equation[]; floors: Equation[] } {
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

  const floors: Equation[] = [];
  const threshold = report.suppression.threshold;
  for (const [group, figures] of groups) {
    for (const rel of RELATIONS)
      equation((eq) => {
        add(eq, group, figures, rel.total, 1);
        for (const part of rel.parts) add(eq, group, figures, part, -1);
      });
    for (const key of FIGURE_KEYS) {
      const def: FigureDefinition = FIGURES[key];
      const value = figures[key];
      if (def.kind === 'count' || value === SUPPRESSED) continue;
      if (def.kind === 'rate')
        equation((eq) => {
          add(eq, group, figures, def.numerator, 1);
          add(eq, group, figures, def.denominator, -value);
        });
      // A shown statistic says it was taken over at least `threshold` values, so the counts it is taken over add up to at least that.
      else {
        const floor: Equation = { terms: new Map(), constant: threshold };
        for (const base of STATISTIC_BASES[def.values]) add(floor, group, figures, base, 1);
        if (floor.terms.size > 0 && floor.constant > 0) floors.push(floor);
      }
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
  return { names, equations, floors };
}

/** Every suppressed cell the answer gives away, by sums alone or as zeros too (see above). */
export function recoverableCells(report: MetricsReport): Recovered[] {
  const { names, equations } = publishedEquations(report);

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

/** What the answer allows a suppressed cell to be: from `min` to `max` (Infinity: no upper bound). */
export interface FeasibleInterval {
  cell: string;
  min: number;
  max: number;
}

/**
 * Each suppressed cell's feasible interval: the least and the most it can be while every equation of
 * the answer holds (its sums, its shown rates), every shown statistic's counts reach the threshold, and
 * every cell is 0 or more. Linear programming (yalps), a minimisation and a maximisation per cell over
 * the cells its equations connect it to. Counts are whole numbers, so the true interval is the
 * relaxation's rounded inwards, and may be narrower still (it is an outer bound, taken as it is).
 */
export function feasibleIntervals(report: MetricsReport): FeasibleInterval[] {
  const { names, equations, floors } = publishedEquations(report);
  // Cells tied by an equation or a floor are in one component; each is solved on its own.
  const parent = names.map((_, i) => i);
  const root = (i: number): number => (parent[i] === i ? i : (parent[i] = root(parent[i] as number)));
  const rows = [...equations.map((eq) => ({ eq, equal: true })), ...floors.map((eq) => ({ eq, equal: false }))];
  for (const { eq } of rows) {
    const [first, ...rest] = [...eq.terms.keys()] as [number, ...number[]];
    for (const other of rest) parent[root(other)] = root(first);
  }
  const components = new Map<number, { cells: number[]; rows: typeof rows }>();
  for (let i = 0; i < names.length; i += 1) {
    const key = root(i);
    const component = components.get(key) ?? { cells: [], rows: [] };
    component.cells.push(i);
    components.set(key, component);
  }
  for (const row of rows) components.get(root([...row.eq.terms.keys()][0] as number))?.rows.push(row);

  const out: FeasibleInterval[] = [];
  for (const { cells, rows: own } of components.values()) {
    const constraints = new Map<string, Constraint>(own.map(({ eq, equal }, r) => [`r${r}`, equal ? { equal: eq.constant } : { min: eq.constant }]));
    const coefficients = new Map<number, [string, number][]>(cells.map((cell) => [cell, []]));
    own.forEach(({ eq }, r) => {
      for (const [cell, c] of eq.terms) coefficients.get(cell)?.push([`r${r}`, c]);
    });
    for (const cell of cells) {
      const bound = (direction: 'minimize' | 'maximize') => {
        const objective: [string, number] = ['objective', 1];
        const variables = cells.map((other): [string, [string, number][]] => [String(other), other === cell ? [...(coefficients.get(other) ?? []), objective] : (coefficients.get(other) ?? [])]);
        const solution = solve({ direction, objective: 'objective', constraints, variables });
        if (solution.status === 'unbounded') return direction === 'maximize' ? Infinity : 0;
        if (solution.status !== 'optimal') throw new Error(`${names[cell]}: the answer's equations are ${solution.status}`);
        return solution.result;
      };
      out.push({ cell: names[cell] as string, min: bound('minimize'), max: bound('maximize') });
    }
  }
  return out;
}

/**
 * The protection rule: a suppressed cell is protected when its feasible interval is at least the
 * threshold wide. Secondary suppression promises each suppressed part of a shown total that the hidden
 * parts add up to at least the threshold, which, that line alone, leaves it anywhere from 0 to that sum:
 * the rule asks the same of the whole answer, every line, rate, statistic and the non-negativity of
 * counts together. It covers what suppression is for: an interval that wide is never inside 1 to
 * threshold - 1 (nobody can tell a small count is there), never one value (a zero included), and a
 * reader's best guess of any suppressed count is out by up to the threshold either way.
 */
export function unprotectedCells(report: MetricsReport): FeasibleInterval[] {
  const threshold = report.suppression.threshold;
  // 1e-6: the solver works in floating point.
  return feasibleIntervals(report).filter((interval) => interval.max - interval.min < threshold - 1e-6);
}
