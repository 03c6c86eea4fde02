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
  why: string;
  at: string;
}

export interface AuditRecord extends AuditEntry {
  auditId: string;
}
