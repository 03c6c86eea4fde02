import { addDays, londonDate, londonDateTimeWords, londonDayWords } from './calendar.ts';
import type { Allocation, Plan } from './schemas.ts';

/**
 * How long after an allocation ends its provider may still correct the sessions recorded on it
 * (correct-contact): 28 days.
 *
 * Why a bound at all: the sessions are what the coordinator's exit summary and reviews, and the
 * commissioner's engagement figures, are read from; a record that may change without end is never
 * settled. Why 28 days: the last session is the one most often mis-keyed (recorded in a hurry as the
 * work ends, or on the day the plan exits), and a practitioner finds it when she next checks her own
 * notes against what she recorded: her weekly supervision, or at the latest her organisation's monthly
 * return. Four whole weeks take in one of each whatever day the allocation ended on, and end on the
 * same weekday it ended. It is far short of the first follow-up (six months after exit), so the record a
 * follow-up is read beside is settled long before. After it, a correction is for the coordinator to note.
 *
 * Never once her identity is erased (her record is closed), never on an allocation ended because her
 * consent to share with its provider was withdrawn (the provider has been told to delete what it holds),
 * and never on a closed or withdrawn plan (the lifecycle table: correct-contact is sent while the plan is
 * allocating, active or exited).
 *
 * The same days, and the same stops, let a provider record late a session held on or before the day
 * the allocation ended (record-contact on an ended allocation, its plan exited too): providers often
 * key sessions in days after they were held, and the last ones before a plan exits were otherwise lost
 * to the exit summary. One bound for both, read from allocationStopsCorrection: what may still be
 * corrected may still be completed, and nothing may be added once the provider was told to delete.
 */
export const SESSION_CORRECTION_DAYS = 28;

/** The parts of an allocation the bound is read from (the web app's view of it has them too). */
type Ended = { status: string; endedAt?: string | undefined; outcome?: string | undefined; purgeInstructions?: readonly { instruction: string; at: string }[] | undefined };

/** Until when the sessions of this allocation may be corrected: undefined while it is accepted (no end yet). */
export function sessionsCorrectableUntil(a: Ended): string | undefined {
  return a.status === 'ended' && a.endedAt ? addDays(a.endedAt, SESSION_CORRECTION_DAYS) : undefined;
}

/**
 * What of the allocation itself stops a correction now: the one rule both the API's refusal and the web's
 * offer (and its words) read. A provider told to stop processing and delete what it holds about her may
 * not change her record either: consent withdrawn while the allocation was open ends it so, and withdrawn
 * after her plan exited leaves it ended by the exit with that instruction added (the plan then closed).
 */
export function allocationStopsCorrection(a: Ended, now: string): 'no-sessions' | 'consent-withdrawn' | 'too-late' | undefined {
  if (a.status === 'accepted') return undefined;
  if (a.status !== 'ended') return 'no-sessions';
  if (a.outcome === 'consent-withdrawn' || a.purgeInstructions?.some((i) => i.instruction === 'stop-processing-and-purge')) return 'consent-withdrawn';
  const until = sessionsCorrectableUntil(a);
  return !until || now > until ? 'too-late' : undefined;
}

/**
 * Whether the provider may correct this allocation's sessions now, as far as the allocation says (the
 * web app offers "Correct" by it; the plan's erasure and stage are the API's to check).
 */
export function sessionsCorrectableNow(a: Ended, now: string): boolean {
  return allocationStopsCorrection(a, now) === undefined;
}

/** What a provider would do on an ended allocation: correct its sessions, record one late, or either (the allocation's page). */
type SessionAct = 'correct' | 'record' | 'either';
const NO_LONGER: Record<SessionAct, string> = {
  correct: 'its sessions can no longer be corrected',
  record: 'no session can be recorded on it',
  either: 'no session can be recorded or corrected on it',
};
const COULD_FOR: Record<SessionAct, string> = {
  correct: 'its sessions could be corrected',
  record: 'a session held before it ended could be recorded',
  either: 'sessions held before it ended could be recorded and corrected',
};
const NOTE_ON_PLAN: Record<SessionAct, string> = { correct: 'the correction', record: 'the session', either: 'a session or a correction' };

/**
 * Why nothing more may be recorded or corrected on this ended allocation, in words for its provider:
 * the one wording of the stops (allocationStopsCorrection) for the API's refusals and the allocation
 * page. `subject` names the allocation ("Allocation al_…"; on its own page "It").
 * An allocation ended by the withdrawal of her consent ended "when her consent … was withdrawn"; one
 * that had ended before (completed, or with her plan's exit) keeps that end, and the withdrawal (or a
 * consent narrowed to leave its provider out) came after, on its own day: said so, not as the reason it ended.
 */
export function endedSessionsStopWords(a: Ended, stop: 'consent-withdrawn' | 'too-late', act: SessionAct, subject: string): string {
  const ended = `${subject} ended${a.endedAt ? ` on ${londonDateTimeWords(a.endedAt)}` : ''}`;
  if (stop === 'consent-withdrawn') {
    const purge = a.purgeInstructions?.findLast((i) => i.instruction === 'stop-processing-and-purge');
    const withdrawn =
      a.outcome === 'consent-withdrawn' || !purge
        ? `${ended}, when her consent to share with your organisation was withdrawn`
        : `${ended}; her consent to share with your organisation was withdrawn on ${londonDateTimeWords(purge.at)}`;
    return `${withdrawn}: ${NO_LONGER[act]} (delete what you hold about her).`;
  }
  const until = sessionsCorrectableUntil(a);
  return `${ended}: ${COULD_FOR[act]} for ${SESSION_CORRECTION_DAYS} days after it ended${until ? `, until ${londonDateTimeWords(until)}` : ''}, and no longer; ask her coordinator to note ${NOTE_ON_PLAN[act]} on the plan.`;
}

/**
 * Whether, and until when, a session held before this ended allocation ended may still be recorded and
 * its sessions corrected, in words for its provider on the allocation's page: by the same rule and in the
 * same words as the API's refusals. Undefined while it has not ended.
 */
export function endedSessionsWords(a: Ended, now: string): string | undefined {
  const stop = allocationStopsCorrection(a, now);
  if (stop === 'no-sessions' || a.status !== 'ended') return undefined;
  if (stop !== undefined) return endedSessionsStopWords(a, stop, 'either', 'It');
  const lastDay = lateSessionLastDayWords(a);
  const until = sessionsCorrectableUntil(a);
  if (!lastDay || !until) return undefined;
  return `A session held on or before ${lastDay}, the day it ended, can still be recorded, and its sessions corrected, until ${londonDateTimeWords(until)} (${SESSION_CORRECTION_DAYS} days after it ended).`;
}

/**
 * Why the sessions of this allocation may not be corrected now, in words for its provider; undefined
 * when they may. `now` is the command's time.
 */
export function sessionCorrectionRefusal(plan: Pick<Plan, 'identityErasedAt'>, a: Allocation, now: string): string | undefined {
  if (plan.identityErasedAt) return `Her identity was erased on ${londonDate(plan.identityErasedAt)}: her record is closed, and the sessions of allocation ${a.allocationId} can no longer be corrected.`;
  const stop = allocationStopsCorrection(a, now);
  if (stop === undefined) return undefined;
  if (stop === 'no-sessions') return `Cannot correct a session of allocation ${a.allocationId}: it is ${a.status}, so no session was recorded on it.`;
  return endedSessionsStopWords(a, stop, 'correct', `Allocation ${a.allocationId}`);
}

/**
 * Why a session may not be recorded late on this ended allocation now, in words for its provider;
 * undefined when it may (a session dated on or before the day it ended: see lateSessionLastDay). The
 * same stops as a correction (allocationStopsCorrection), so the two never disagree. `now` is the
 * command's time.
 */
export function lateSessionRefusal(plan: Pick<Plan, 'identityErasedAt'>, a: Allocation, now: string): string | undefined {
  if (plan.identityErasedAt) return `Her identity was erased on ${londonDate(plan.identityErasedAt)}: her record is closed, and no session can be recorded on allocation ${a.allocationId}.`;
  const stop = allocationStopsCorrection(a, now);
  if (stop === undefined) return undefined;
  if (stop === 'no-sessions') return `Cannot record a session on allocation ${a.allocationId}: it is ${a.status}.`;
  return endedSessionsStopWords(a, stop, 'record', `Allocation ${a.allocationId}`);
}

/** The last day a session recorded late on this ended allocation may be dated: the London day it ended. */
export function lateSessionLastDay(a: Ended): string | undefined {
  return a.status === 'ended' && a.endedAt ? londonDate(a.endedAt) : undefined;
}

/** The last day a late session may be dated, in words for the refusal and the page: "5 December 2026". */
export function lateSessionLastDayWords(a: Ended): string | undefined {
  return a.status === 'ended' && a.endedAt ? londonDayWords(a.endedAt) : undefined;
}
