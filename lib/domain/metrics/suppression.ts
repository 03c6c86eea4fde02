/**
 * Small-number suppression. Cells are counts; a line is a total and the counts that add up to it.
 * Primary suppression hides counts below the threshold. Secondary suppression then makes sure no
 * line has exactly one hidden cell, since that cell would be its total minus the others (or, for a
 * hidden total, the sum of its parts): the smallest other part is hidden too (the total when there is
 * no other part), and this repeats until every line has none or at least two hidden cells.
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

/** Returns how many cells it hid. */
export function secondarySuppress(lines: readonly Line[]): number {
  let hidden = 0;
  let changed = true;
  while (changed) {
    changed = false;
    for (const line of lines) {
      let suppressed = line.total.suppressed ? 1 : 0;
      for (const part of line.parts) if (part.suppressed) suppressed += 1;
      if (suppressed !== 1) continue;
      let smallest: Cell | undefined;
      for (const part of line.parts) if (!part.suppressed && (smallest === undefined || part.value < smallest.value)) smallest = part;
      const target = smallest ?? line.total;
      if (target.suppressed) continue; // a total with no parts: nothing to hide it behind
      target.suppressed = true;
      hidden += 1;
      changed = true;
    }
  }
  return hidden;
}
