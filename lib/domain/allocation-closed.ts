import { londonDateTimeWords } from './calendar.ts';
import { isLiveAllocation } from './consent.ts';
import { LIFECYCLE, type Actor, type CommandName } from './lifecycle.ts';
import type { Allocation, Plan } from './schemas.ts';

/** Why the programme ended an allocation or withdrew an offer, as its provider may be told (never why the plan exited). */
const ENDED_BECAUSE: Record<string, string> = {
  'plan-exited': 'when her plan ended',
  'consent-withdrawn': 'when her consent to share with your organisation was withdrawn (delete what you hold about her from it)',
  'needs-closed': 'when the needs it served were closed',
};

/** What can no longer be done, said for the command that tried it. */
const NOTHING_MORE: Partial<Record<CommandName, string>> = {
  'record-contact': 'no session can be recorded on it any more',
  'correct-contact': 'its sessions can no longer be corrected',
  // Not 'nothing more can be recorded': its sessions may still be corrected for 28 days (session-correction.ts).
  'end-allocation': 'there is nothing left to end',
  'accept-offer': 'it can no longer be accepted',
  'decline-offer': 'there is nothing left to decline',
};

/**
 * Why a command on an allocation is refused once its plan has left the stages it may be sent in (exited,
 * closed): the allocation has ended or the offer gone, when, and that nothing more can be done with it.
 * That, not "not allowed while the plan is exited", is what the provider holding it needs to hear. Said
 * only to the allocation's own provider (or a coordinator): for another provider's allocation, or one not on
 * the plan, undefined, so the refusal says nothing of it.
 */
export function allocationClosedRefusal(plan: Plan, command: { name: CommandName; allocationId?: string | undefined; actor: { role: Actor; providerId?: string | undefined } }): string | undefined {
  if (LIFECYCLE[command.name].target !== 'allocation') return undefined;
  const a = plan.allocations.find((x) => x.allocationId === command.allocationId);
  if (!a || isLiveAllocation(a) || (command.actor.role === 'provider' && a.providerId !== command.actor.providerId)) return undefined;
  return allocationGoneRefusal(a, command.name);
}

/**
 * The same words for an allocation that has ended or an offer that has gone while its plan is still
 * open (an offer that expired while the inbox was open, one declined in another tab): when, and that the
 * command can no longer be done, rather than "it is expired, not offered".
 */
export function allocationGoneRefusal(a: Allocation, command: CommandName): string {
  const nothingMore = NOTHING_MORE[command] ?? 'nothing more can be done with it';
  return `${closedInWords(a)}: ${nothingMore}.`;
}

function closedInWords(a: Allocation): string {
  const why = (outcome: string | undefined) => (outcome && ENDED_BECAUSE[outcome] ? `, ${ENDED_BECAUSE[outcome]}` : outcome ? ` (${outcome.replace(/-/g, ' ')})` : '');
  const on = (at: string | undefined) => (at ? ` on ${londonDateTimeWords(at)}` : '');
  switch (a.status) {
    case 'ended':
      return `Allocation ${a.allocationId} ended${on(a.endedAt)}${why(a.outcome)}`;
    case 'withdrawn':
      return `Offer ${a.allocationId} was withdrawn${on(a.endedAt)}${why(a.outcome)}`;
    case 'expired':
      return `Offer ${a.allocationId} expired unanswered${on(a.expiredAt)}`;
    default:
      return `Offer ${a.allocationId} was declined${on(a.respondedAt)}`;
  }
}
