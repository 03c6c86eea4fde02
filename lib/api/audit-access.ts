import type { AuditLog } from '../adapters/dynamodb/audit-log.ts';
import type { RouteContext } from './handler-kit.ts';
import { header, parseWith } from './http.ts';
import { AccessPurpose } from './request-schemas.ts';

/**
 * Why the caller says it is reading or changing her data: the `X-Purpose` header's code, or the
 * route's own purpose when there is none. An unknown code is a 400 naming the header and listing the
 * codes (free text is refused: it could carry her name or number into the audit log).
 */
export function accessPurpose(ctx: RouteContext, routePurpose: AccessPurpose): AccessPurpose {
  const raw = header(ctx.event, 'x-purpose');
  return raw === undefined ? routePurpose : parseWith(AccessPurpose, raw, 'X-Purpose header', 'X-Purpose');
}

/**
 * Record an access to identity or plan detail before the data is given out or changed, with the
 * caller's purpose (see accessPurpose) as the why.
 */
export async function auditAccess(
  audit: AuditLog,
  ctx: RouteContext,
  action: string,
  resource: { planId?: string; participantId?: string; allocationId?: string; providerId?: string },
  now: string,
  routePurpose: AccessPurpose,
  why: AccessPurpose = accessPurpose(ctx, routePurpose),
): Promise<void> {
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
