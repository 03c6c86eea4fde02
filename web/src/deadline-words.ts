/**
 * A plan's next deadline in the words of the lists (worklist, escalations). A deadline that repeats an
 * open escalation (the sweeper raises an overdue review, follow-up, assessment or activation, or a
 * plan without contact, again each week until someone acts) is not a new due date: it reads as the
 * escalation it repeats, since when, and when it is raised again ("Review overdue since 11 Mar 2028;
 * reminded again 25 Mar 2028"), so it agrees with the escalation shown beside it.
 */
import { DEADLINE_WORDS, escalationLabel, label, type DirectoryNames } from './domain.ts';
import { formatDate, formatDateTime, isPast, relative } from './format.ts';
import type { Escalation } from './types.ts';

export interface DeadlineRef {
  command: string;
  dueAt: string;
  ref?: string;
}

/** The timers that raise an escalation again at each firing, and the escalation kind each raises. */
const REPEATS: Record<string, (ref: string | undefined) => { kind: string; ref?: string }> = {
  'assessment-overdue': () => ({ kind: 'assessment-overdue' }),
  'activation-overdue': () => ({ kind: 'activation-overdue' }),
  'no-contact': () => ({ kind: 'no-contact' }),
  'review-overdue': (ref) => ({ kind: 'review-overdue', ...(ref === undefined ? {} : { ref }) }),
  // The follow-up's month is its deadline's ref and part of its escalation's kind.
  'follow-up-due': (ref) => ({ kind: `follow-up-due:${ref ?? ''}` }),
};

/** The open escalation this deadline raises again when it passes, if there is one. */
function escalationRepeatedBy(deadline: DeadlineRef, escalations: readonly Escalation[]): Escalation | undefined {
  const repeats = REPEATS[deadline.command]?.(deadline.ref);
  if (!repeats) return undefined;
  return escalations.find((e) => e.kind === repeats.kind && e.ref === repeats.ref);
}

/**
 * The term and the words for a plan's next deadline (`now` for "in 3 days"; "Overdue since …" once passed), and whether it is overdue.
 * `followUpDueAt`: for a follow-up's deadline, the day that follow-up fell due (6 or 12 months after her exit). On that day the
 * coordinator is reminded and the deadline moves on to when the team lead is told, so until then its date is not the follow-up's.
 * `followUpsLapseAt`: for a follow-up's deadline, the day those not recorded lapse (lib/domain/follow-ups.ts): a deadline due
 * then records them as unknown and closes the plan, so it is not said to remind or tell anyone.
 */
export function deadlineInWords(
  deadline: DeadlineRef,
  escalations: readonly Escalation[],
  now: string,
  names?: DirectoryNames,
  followUpDueAt?: string,
  followUpsLapseAt?: string,
): { term: string; words: string; overdue: boolean } {
  const repeated = escalationRepeatedBy(deadline, escalations);
  const lapses = deadline.command === 'follow-up-due' && followUpsLapseAt !== undefined && deadline.dueAt >= followUpsLapseAt;
  const lapseWords = `not recorded by ${formatDateTime(deadline.dueAt)}, it is recorded as unknown and the plan closes`;
  if (repeated && lapses) return { term: escalationLabel(repeated, names), words: `since ${formatDate(repeated.raisedAt)}; ${lapseWords}`, overdue: true };
  if (repeated) {
    // No contact is raised some days after the last contact: "since" would misdate the silence.
    const since = repeated.kind === 'no-contact' ? 'escalated' : 'since';
    return { term: escalationLabel(repeated, names), words: `${since} ${formatDate(repeated.raisedAt)}; reminded again ${formatDate(deadline.dueAt)}`, overdue: true };
  }
  // Reminded, not yet escalated: it has been due since its day ("Follow-up due 8 Feb (in 10 days)" read as time in hand).
  if (deadline.command === 'follow-up-due' && followUpDueAt !== undefined && followUpDueAt < deadline.dueAt && isPast(followUpDueAt, now)) {
    const term = deadline.ref ? `${deadline.ref}-month follow-up due` : (DEADLINE_WORDS[deadline.command] ?? label(deadline.command));
    const then = lapses ? lapseWords : `the team lead is told ${formatDateTime(deadline.dueAt)} if it is not recorded`;
    return { term, words: `Overdue since ${formatDate(followUpDueAt)} (${relative(followUpDueAt, now)}); ${then}`, overdue: true };
  }
  // Passed, it says so in words: the list's red mark is not read out, and a date alone does not say overdue.
  const overdue = isPast(deadline.dueAt, now);
  const when = `${formatDateTime(deadline.dueAt)} (${relative(deadline.dueAt, now)})`;
  return { term: DEADLINE_WORDS[deadline.command] ?? label(deadline.command), words: overdue ? `Overdue since ${when}` : when, overdue };
}
