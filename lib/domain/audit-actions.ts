import { LIFECYCLE, type CommandName } from './lifecycle-table.ts';
import type { ShareRefusal } from './participant-share.ts';

/**
 * The audit log's action codes and their words: the one table the API writes codes from and the web
 * app reads them in (the codes are the contract, stored for years; the words can change). `change`:
 * a request that changes something, whose record gets its outcome (audit-access.ts); a read's record
 * is written as the data is given out, so it has none.
 */
const FIXED_ACTIONS = {
  'refer-and-record-identity': { words: 'Referred her, recording who she is', change: true },
  // A possible duplicate (a near match of her name and date of birth with an open plan's) the coordinator checked: the record names the plans.
  'refer-confirmed-different-woman': { words: 'Referred her, recording who she is, after confirming she is a different woman from the open plans named', change: true },
  // A referral refused because of who she may be: the coordinator was shown plans linked to the name and date
  // of birth she typed, which is a look-up of women by identity, so it is on the record (with its refusal).
  'refer-found-open-plan': { words: 'Tried to refer her: she already has an open plan (the plan named)', change: true },
  'refer-warned-possible-duplicate': { words: 'Tried to refer her: warned that the open plans named may be hers', change: true },
  'replay-referral': { words: 'Sent a referral again (the plan and who she is given back)', change: false },
  'correct-identity': { words: 'Corrected her contact details, address or preferred name', change: true },
  // Recorded as the erasure goes ahead, once its checks have passed (a refused one is not recorded): no outcome to wait for.
  'erase-identity': { words: 'Erased who she is, on request', change: false },
  anonymise: { words: 'Anonymised the plan at the end of the retention period', change: false },
  'read-plan': { words: 'Read the plan', change: false },
  'read-plan-and-identity': { words: 'Read the plan and who she is', change: false },
  'read-history': { words: "Read the plan's history", change: false },
  'read-allocation': { words: 'Read an allocation', change: false },
  'read-participant-contact': { words: 'Read her contact details', change: false },
  'read-audit': { words: 'Read the audit log', change: false },
  'read-provider-offers': { words: "Read the provider's open offers", change: false },
  'read-provider-allocations': { words: "Read the provider's allocations", change: false },
  // One record per page read, not per event: the page gives her needs and their levels, as the allocations list does.
  'read-provider-feed': { words: "Read the provider's event feed", change: false },
  'change-service': { words: "Changed a service's capacity or status", change: true },
} as const satisfies Record<string, { words: string; change: boolean }>;

/** Why a read of her contact details was refused, as the record's action names it after the colon. */
export const CONTACT_REFUSAL_WORDS: Record<ShareRefusal | 'malformed-allocation-id' | 'unknown-purpose' | 'no-provider-in-token' | 'role-not-allowed', string> = {
  'unknown-allocation': 'no such allocation',
  'another-provider': "another provider's allocation",
  'not-accepted': 'the offer was not accepted',
  'plan-not-open': 'the plan is no longer open',
  'no-consent': 'no consent recorded',
  'consent-withdrawn': 'she withdrew her consent',
  'consent-excludes-contact-details': 'her consent does not cover contact details',
  'consent-excludes-provider': 'her consent does not cover this provider',
  'identity-erased': 'her identity was erased',
  'malformed-allocation-id': 'not an allocation id',
  'unknown-purpose': 'the purpose given is not one of the codes',
  'no-provider-in-token': 'the sign-in names no provider',
  'role-not-allowed': 'only providers may',
};
export type ContactRefusal = keyof typeof CONTACT_REFUSAL_WORDS;

const CONTACT_REFUSED = 'read-participant-contact-refused:';

/** Every action code the API writes. */
export type AuditAction = keyof typeof FIXED_ACTIONS | `command:${CommandName}` | `${typeof CONTACT_REFUSED}${ContactRefusal}`;
/** What auditAccess takes: a refusal's reason may come typed as a string (the test checks every one the routes give has words). */
export type WrittenAuditAction = AuditAction | `${typeof CONTACT_REFUSED}${string}`;

/** Every action code, each once: what the words are checked against. */
export const AUDIT_ACTIONS: readonly AuditAction[] = [
  ...(Object.keys(FIXED_ACTIONS) as (keyof typeof FIXED_ACTIONS)[]),
  ...(Object.keys(LIFECYCLE) as CommandName[]).map((name) => `command:${name}` as const),
  ...(Object.keys(CONTACT_REFUSAL_WORDS) as ContactRefusal[]).map((reason) => `${CONTACT_REFUSED}${reason}` as const),
];

/** What an action code means, in words; undefined for a code this release does not know (shown as it is). */
export function auditActionWords(action: string): string | undefined {
  if (Object.hasOwn(FIXED_ACTIONS, action)) return FIXED_ACTIONS[action as keyof typeof FIXED_ACTIONS].words;
  if (action.startsWith('command:')) {
    const name = action.slice('command:'.length);
    // A command's words are its step in the lifecycle table ("Record consent"), as the timeline names it.
    return Object.hasOwn(LIFECYCLE, name) ? LIFECYCLE[name as CommandName].step : undefined;
  }
  if (action.startsWith(CONTACT_REFUSED)) {
    const reason = action.slice(CONTACT_REFUSED.length);
    return Object.hasOwn(CONTACT_REFUSAL_WORDS, reason) ? `Tried to read her contact details: refused, ${CONTACT_REFUSAL_WORDS[reason as ContactRefusal]}` : undefined;
  }
  return undefined;
}

/** Whether an action changes something (so its record has an outcome, or lacks one it should have). */
export function isChangeAction(action: string): boolean {
  if (Object.hasOwn(FIXED_ACTIONS, action)) return FIXED_ACTIONS[action as keyof typeof FIXED_ACTIONS].change;
  return action.startsWith('command:');
}

/** What a directory change set, in words: "capacity 15 → 18; status active → temporarily closed". */
export function serviceChangeWords(change: { capacity?: { from: number; to: number }; status?: { from: string; to: string } }): string {
  const status = (code: string) => code.replace(/-/g, ' ');
  return [
    change.capacity ? `capacity ${change.capacity.from} → ${change.capacity.to}` : undefined,
    change.status ? `status ${status(change.status.from)} → ${status(change.status.to)}` : undefined,
  ]
    .filter(Boolean)
    .join('; ');
}

/** A record's outcome in words: for a change, what became of it ("outcome not recorded" on records without one); nothing for a read. */
export function auditOutcomeWords(record: { action: string; outcome?: { result: string; status: number; problem?: string } }): string | undefined {
  const { outcome } = record;
  if (!outcome) return isChangeAction(record.action) ? 'Outcome not recorded' : undefined;
  if (outcome.result === 'succeeded') return 'Done';
  const what = `${outcome.status}${outcome.problem ? ` ${outcome.problem}` : ''}`;
  return outcome.result === 'refused' ? `Refused, nothing changed (${what})` : `Failed on our side (${what})`;
}
