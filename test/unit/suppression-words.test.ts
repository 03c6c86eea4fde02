/**
 * A chart's suppressed values in words (web/src/suppression-words.ts): said per series, so a chart
 * whose 12-month bars are all suppressed while four 6-month bars are drawn says so, not "14 of 14
 * groups" as if nothing were drawn; a bar chart says how it marks them.
 */
import { describe, expect, it } from 'vitest';
import { suppressedWords } from '../../web/src/suppression-words.ts';

const DOMAINS = Array.from({ length: 14 }, (_, i) => `Domain ${i + 1}`);

describe('suppressed values in words', () => {
  it('says per series which groups are suppressed', () => {
    const words = suppressedWords(
      [
        { label: 'Reoffending within 6 months', groups: DOMAINS.slice(4) },
        { label: 'Reoffending within 12 months', groups: DOMAINS },
      ],
      14,
      'need domain groups',
      true,
    );
    expect(words).toBe(' Suppressed (small numbers), shown as hatched bars marked suppressed: Reoffending within 6 months: 10 of 14 need domain groups (see the data); Reoffending within 12 months: all 14 need domain groups.');
  });

  it('names a few groups, says which series has none, and says a line chart leaves them out', () => {
    expect(suppressedWords([{ label: 'Gaps', groups: ['Sandwell', 'Walsall'] }, { label: 'Plans with unmet need', groups: [] }], 7, 'local authority groups', true)).toBe(
      ' Suppressed (small numbers), shown as hatched bars marked suppressed: Gaps: Sandwell, Walsall. None suppressed: Plans with unmet need.',
    );
    expect(suppressedWords([{ label: 'Completion rate', groups: ['Jan 2026'] }], 3, 'month groups', false)).toBe(' Suppressed (small numbers), so not drawn: Jan 2026.');
    expect(suppressedWords([{ label: 'Completion rate', groups: [] }], 3, 'month groups', false)).toBe('');
  });
});
