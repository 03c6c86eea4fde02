/**
 * A chart's suppressed values in words, for its text alternative: for each series, which groups are
 * suppressed. Said per series, so a chart whose 12-month bars are all suppressed but whose 6-month
 * bars are mostly drawn does not read as if nothing were drawn. Pure (no React), so it is unit-tested apart.
 */

/** Past this many, groups are counted rather than named (the data table under the chart names them). */
const NAMED_AT_MOST = 8;

export interface SeriesSuppression {
  /** The series' name: "Reoffending within 6 months". */
  label: string;
  /** The groups whose value of this series is suppressed, as the chart labels them. */
  groups: string[];
}

/**
 * " Suppressed (small numbers), …: …." (with its leading space), or "" when nothing is. `groupsWord`
 * names the groups in the plural ("need domain groups"); `bars`: the chart draws a suppressed value as
 * a hatched bar marked "suppressed" (a line chart leaves a gap).
 */
export function suppressedWords(series: readonly SeriesSuppression[], total: number, groupsWord: string, bars: boolean): string {
  const which = (groups: readonly string[]) =>
    groups.length <= NAMED_AT_MOST ? groups.join(', ') : groups.length === total ? `all ${total} ${groupsWord}` : `${groups.length} of ${total} ${groupsWord} (see the data)`;
  const parts = series.filter((s) => s.groups.length > 0).map((s) => (series.length > 1 ? `${s.label}: ${which(s.groups)}` : which(s.groups)));
  if (parts.length === 0) return '';
  const how = bars ? 'shown as hatched bars marked suppressed' : 'so not drawn';
  const unsuppressed = series.length > 1 ? series.filter((s) => s.groups.length === 0).map((s) => s.label) : [];
  return ` Suppressed (small numbers), ${how}: ${parts.join('; ')}.${unsuppressed.length ? ` None suppressed: ${unsuppressed.join(', ')}.` : ''}`;
}
