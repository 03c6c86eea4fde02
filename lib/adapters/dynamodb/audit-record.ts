/**
 * The shape of an audit record, apart from the audit log (audit-log.ts) so that the web app can take the
 * type (import type) without the log's Node imports.
 */
export interface AuditEntry {
  who: string;
  role: string;
  action: string;
  planId?: string;
  participantId?: string;
  allocationId?: string;
  providerId?: string;
  why: string;
  at: string;
}

export interface AuditRecord extends AuditEntry {
  auditId: string;
}
