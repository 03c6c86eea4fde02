/**
 * What a provider was told to delete about her, in the words its staff read on the allocation, the
 * caseload and the offers: the instructions the API keeps on the allocation as its events carried them
 * (plan.consent-withdrawn.v1, plan.consent-narrowed.v1). Pure, so it is unit-tested apart.
 */
import { wordList } from './consent-words.ts';
import { label } from './domain.ts';
import type { PurgeInstruction } from './types.ts';

/**
 * Most recent first. A withdrawal says to delete everything held from this allocation; a narrowing names
 * the categories and says the allocation goes on. Nothing about other providers, and no note.
 */
export function purgeNotices(instructions: readonly PurgeInstruction[] | undefined, formatDate: (at: string) => string): string[] {
  return [...(instructions ?? [])].reverse().map((i) => {
    if (i.instruction === 'stop-processing-and-purge')
      return `Her consent to share with your organisation was withdrawn on ${formatDate(i.at)}: delete what you hold about her from this allocation, and record nothing more about her.`;
    const what = wordList(i.withdrawnCategories.map((c) => label(c).toLowerCase()));
    return `She no longer agrees to share her ${what} with you (since ${formatDate(i.at)}): delete what you hold of her ${what}. The allocation goes on.`;
  });
}
