import type { AuditLog } from '../adapters/dynamodb/audit-log.ts';
import type { RouteContext } from './handler-kit.ts';
import { header, parseWith } from './http.ts';
import { AccessPurpose } from './request-schemas.ts';

/**
 * Record an access to identity or plan detail before the data is given out or changed. The caller
 * may say why in an `X-Purpose` header; otherwise the route's own purpose is recorded.
 */
export async function auditAccess(
  audit: AuditLog,
  ctx: RouteContext,
  action: string,
  resource: { planId?: string; participantId?: string; allocationId?: string; providerId?: string },
  now: string,
  defaultWhy: string,
): Promise<void> {
  const raw = header(ctx.event, 'x-purpose');
  const why = raw === undefined ? defaultWhy : parseWith(AccessPurpose, raw, 'X-Purpose header', 'X-Purpose');
  await audit.record({
    who: ctx.principal?.sub ?? 'anonymous',
    role: ctx.principal?.role ?? 'none',
    action,
    ...resource,
    ...(ctx.principal?.providerId && !resource.providerId ? { providerId: ctx.principal.providerId } : {}),
    why,
    at: now,
  });
}
