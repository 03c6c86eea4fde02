/**
 * What changed on a plan since the page read it, in words, for a command refused because the plan
 * moved on (409). Read from the plan's history: every event after the sequence the page's plan had.
 * Pure (no React), so it is unit-tested apart. The history is pseudonymous (no one's name is in an
 * event), so the words say what happened and when, not who did it.
 */
import { formatDateTime } from './format.ts';
import { describe } from './timeline-words.ts';
import type { HistoryItem } from './types.ts';

export interface PlanChanges {
  /** The events since, oldest first. */
  items: HistoryItem[];
  /** One sentence per change: "Review 4 recorded: continue, at 29 Nov 2026, 02:14". */
  lines: string[];
  /** The review numbers recorded since (a second review of the same meeting is the mistake to avoid). */
  reviewsRecorded: number[];
}

export function changesSince(items: readonly HistoryItem[], sequence: number, providerName: (id: string) => string): PlanChanges {
  const since = items.filter((i) => i.sequence > sequence).sort((a, b) => a.sequence - b.sequence);
  return {
    items: since,
    lines: since.map((i) => `${describe(i, providerName).title}, at ${formatDateTime(i.time)}`),
    reviewsRecorded: since.filter((i) => i.type === 'review.recorded.v1').map((i) => Number(i.data.reviewNumber)),
  };
}

/** The refusal in words: what someone else did since she opened the plan, and what to do about it. */
export function conflictWords(changes: PlanChanges): string {
  if (changes.lines.length === 0) return 'Someone else changed this plan while you were working on it: read the plan again and check it before you send this again.';
  const reviews = changes.reviewsRecorded;
  const check =
    reviews.length > 0
      ? `Review ${reviews.join(' and ')} ${reviews.length > 1 ? 'were' : 'was'} just recorded by someone else: read the plan again and check ${reviews.length > 1 ? 'them' : 'it'} before recording another.`
      : 'Read the plan again and check it before you send this again.';
  return `Since you opened this plan it has changed: ${changes.lines.join('; ')}. ${check}`;
}

/**
 * After reading the plan again: what she now sees that she did not before. `stageNow`: the plan's
 * stage as read again, when what she was sending can no longer be done in it (her form is gone).
 */
export function rereadWords(changes: PlanChanges, stageNow?: string): string {
  const reviews = changes.reviewsRecorded;
  const what = changes.lines.length > 0 ? `it now shows ${changes.lines.join('; ')}` : 'it now shows the latest changes';
  const kept =
    stageNow !== undefined
      ? ` The plan is now ${stageNow.toLowerCase()}: what you were sending can no longer be done, and what you entered was not sent.`
      : reviews.length > 0
        ? ' The review form is cleared: what you entered was for the review just recorded. Record another only if this was a different meeting.'
        : ' What you entered in the form is kept: check it against the plan before you send it.';
  return `You read the plan again: ${what}.${kept}`;
}
