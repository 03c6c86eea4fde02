/**
 * The shape of an audit record, apart from the audit log (audit-log.ts) so that the web app can take the
 * type (import type) without the log's Node imports.
 */
export interface AuditEntry {
  /** The caller's token subject: an opaque, stable id (Cognito's user id; the embedded token's sub). */
  who: string;
  /**
   * The caller's display name as her token gave it at the time (the `name` claim), so that "who has
   * seen this plan" names a person, not an id. Absent on records written before it was kept and when
   * the token carried no name (a Cognito user without the `name` attribute): the view then says
   * so and shows `who`. Staff names only; never an email address or the token itself.
   */
  whoName?: string;
  /** The role the request acted in. */
  role: string;
  /** The caller's own provider organisation (her token's custom:providerId), for a provider's staff. */
  whoProviderId?: string;
  action: string;
  planId?: string;
  participantId?: string;
  allocationId?: string;
  /** The provider the access was about, or else the calling provider's own id. */
  providerId?: string;
  /** The directory service a change was to (its id in the directory file). */
  serviceId?: string;
  /** What a directory change set, old to new: numbers and status codes only, never free text. */
  change?: ServiceChange;
  /** A referral's: the open plans the coordinator confirmed she is not the woman of (pseudonymous plan ids only). */
  notDuplicateOf?: string[];
  /** A referral warned of a possible duplicate: the open plans the warning named to the coordinator (plan ids only). */
  possibleDuplicates?: string[];
  why: string;
  at: string;
}

/**
 * How a request that changes something ended, kept with the record of its attempt (which is written
 * before it runs): `succeeded` (a 2xx or 3xx), `refused` (a 4xx: nothing changed) or `failed` (a 5xx).
 * The HTTP status and the problem's title only: never the request body, its notes or the problem's detail.
 */
export interface AuditOutcome {
  result: 'succeeded' | 'refused' | 'failed';
  status: number;
  /** The problem+json title of a refusal or failure ("Conflict", "Not found"). */
  problem?: string;
}

/** Where a stored record is: what its outcome is filed under. */
export interface AuditRecordRef {
  auditId: string;
  at: string;
  planId?: string;
}

export interface ServiceChange {
  capacity?: { from: number; to: number };
  status?: { from: string; to: string };
}

export interface AuditRecord extends AuditEntry {
  auditId: string;
  /**
   * How the change it records ended. Absent on a record of a read, on records of changes written before
   * outcomes were kept, and when the request stopped before its outcome could be written: "not recorded".
   */
  outcome?: AuditOutcome;
}
