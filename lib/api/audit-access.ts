import type { AuditLog } from '../adapters/dynamodb/audit-log.ts';
import type { AuditOutcome, AuditRecordRef, ServiceChange } from '../adapters/dynamodb/audit-record.ts';
import type { WrittenAuditAction } from '../domain/audit-actions.ts';
import type { RouteContext } from './handler-kit.ts';
import { header, parseWith } from './http.ts';
import { AccessPurpose } from './request-schemas.ts';
import { routeKey } from './routes.ts';

/** The requests that have their audit record: the route kit checks an auditsAccess route's answer against it. */
const audited = new WeakSet<RouteContext>();

/** The stored record of a request that changes something, to file its outcome against once it has one. */
const attempts = new WeakMap<RouteContext, { audit: AuditLog; record: AuditRecordRef }>();

/** Whether auditAccess recorded this request. */
export function accessAudited(ctx: RouteContext): boolean {
  return audited.has(ctx);
}

/** Requests on an auditsAccess route whose answer gives nothing of anyone's (see answersNothingToAudit). */
const gaveNothing = new WeakSet<RouteContext>();

/**
 * Say that this request's answer gives nothing of anyone's (an empty page of a feed polled every few
 * seconds), so the route kit lets it answer without an audit record: one per empty poll would bury the
 * reads that gave something. Only for an answer with no item in it.
 */
export function answersNothingToAudit(ctx: RouteContext): void {
  gaveNothing.add(ctx);
}

/** Whether the request was said to give nothing (answersNothingToAudit). */
export function answeredNothingToAudit(ctx: RouteContext): boolean {
  return gaveNothing.has(ctx);
}

/**
 * Why the caller says it is reading or changing her data: the `X-Purpose` header's code, or the
 * route's own purpose when there is none. An unknown code is a 400 naming the header and listing the
 * codes (free text is refused: it could carry her name or number into the audit log).
 */
export function accessPurpose(ctx: RouteContext, routePurpose: AccessPurpose): AccessPurpose {
  const raw = header(ctx.event, 'x-purpose');
  return raw === undefined ? defaultPurpose(ctx, routePurpose) : parseWith(AccessPurpose, raw, 'X-Purpose header', 'X-Purpose');
}

/**
 * The purpose of a role whose every audited access has one, whatever the route: a team lead reads a
 * plan, its history or the log, and picks up escalations, to oversee the work, not to plan her support.
 * Coordinators and providers do different work on different routes: theirs is the route's.
 */
const ROLE_PURPOSE: Partial<Record<string, AccessPurpose>> = { 'team-lead': 'oversight' };

/** Why, when the caller does not say: her role's purpose if it has one, else the route's. */
function defaultPurpose(ctx: RouteContext, routePurpose: AccessPurpose): AccessPurpose {
  return ROLE_PURPOSE[ctx.principal?.role ?? ''] ?? routePurpose;
}

/** The caller's X-Purpose code when it is one, else the route's: for recording a refusal, which must not fail on a bad header. */
function purposeOrRoute(ctx: RouteContext, routePurpose: AccessPurpose): AccessPurpose {
  const raw = header(ctx.event, 'x-purpose');
  const parsed = raw === undefined ? undefined : AccessPurpose.safeParse(raw);
  return parsed?.success ? parsed.data : defaultPurpose(ctx, routePurpose);
}

/**
 * Record a request that authorisation refused before its route ran, on a route declared auditsAccess:
 * a signed-in caller of a role the route is not for, or a provider token naming no provider (403).
 * Who (the token's subject and name), the role it acted in, its provider, the action (the route's refusal
 * with `reason`), what the route names (`resource`: pseudonymous ids only, never path text) and when.
 * Returns false, recording nothing, when there is no principal (401): nobody to name, and on AWS the
 * JWT authorizer answers those before the function runs at all (see the route's handler for why).
 */
export async function auditRefusedCaller(
  audit: AuditLog,
  ctx: RouteContext,
  action: WrittenAuditAction,
  resource: { planId?: string; allocationId?: string },
  now: string,
  routePurpose: AccessPurpose,
): Promise<boolean> {
  if (!ctx.principal) return false;
  await auditAccess(audit, ctx, action, resource, now, routePurpose, purposeOrRoute(ctx, routePurpose));
  return true;
}

/**
 * Record an access to identity or plan detail before the data is given out or changed, with the
 * caller's purpose (see accessPurpose) as the why. Who: the token's subject, her name as her token
 * gives it at the time (kept, so the record names who she was then, whatever her account says later) and, for a
 * provider's staff, her organisation; nothing else of the token. Only on a route declared `auditsAccess` in
 * routes.ts: elsewhere it throws (a 500, before anything is recorded or given), so the OpenAPI
 * document's X-Purpose routes cannot fall behind the handlers that audit.
 */
export async function auditAccess(
  audit: AuditLog,
  ctx: RouteContext,
  action: WrittenAuditAction,
  resource: { planId?: string; participantId?: string; allocationId?: string; providerId?: string; serviceId?: string; change?: ServiceChange; notDuplicateOf?: string[]; possibleDuplicates?: string[] },
  now: string,
  routePurpose: AccessPurpose,
  why: AccessPurpose = accessPurpose(ctx, routePurpose),
): Promise<void> {
  if (!ctx.route.auditsAccess) throw new Error(`auditAccess on ${routeKey(ctx.route)}, which routes.ts does not declare auditsAccess`);
  const principal = ctx.principal;
  const whoName = principal ? displayNameOf(principal) : undefined;
  const record = await audit.record({
    who: principal?.sub ?? 'anonymous',
    ...(whoName ? { whoName } : {}),
    role: principal?.role ?? 'none',
    ...(principal?.providerId ? { whoProviderId: principal.providerId } : {}),
    action,
    ...resource,
    ...(principal?.providerId && !resource.providerId ? { providerId: principal.providerId } : {}),
    why,
    at: now,
  });
  audited.add(ctx);
  if (record && changesSomething(ctx)) attempts.set(ctx, { audit, record });
}

/** A request on a route that changes something (any method but GET): its audit record is of an attempt, whose outcome matters. */
const changesSomething = (ctx: RouteContext) => ctx.route.method !== 'GET';

/** How a change ended, as the audit log keeps it: the status and the problem's title, nothing of the request. */
export function auditOutcomeOf(status: number, problemTitle?: string): AuditOutcome {
  const result = status >= 500 ? 'failed' : status >= 400 ? 'refused' : 'succeeded';
  return { result, status, ...(result !== 'succeeded' && problemTitle ? { problem: problemTitle } : {}) };
}

/**
 * File how a request that changes something ended against its audit record (route kit, once the
 * answer is known). Nothing when the request was not audited (refused before its record, or a read).
 */
export async function recordAuditOutcome(ctx: RouteContext, outcome: AuditOutcome): Promise<boolean> {
  const attempt = attempts.get(ctx);
  if (!attempt?.audit.recordOutcome) return false;
  attempts.delete(ctx);
  await attempt.audit.recordOutcome(attempt.record, outcome);
  return true;
}

/** Longer names are cut: a record is kept for years, and a name claim is whatever an administrator typed. */
const MAX_NAME_LENGTH = 200;

/**
 * The caller's display name (the token's `name` claim), trimmed, or undefined when it has none: as the
 * audit log keeps it, and as a plan records who picked up an escalation.
 */
export function displayNameOf(principal: { name?: string }): string | undefined {
  // By code point, so a cut never splits a character in two.
  const name = principal.name === undefined ? undefined : [...principal.name.trim()].slice(0, MAX_NAME_LENGTH).join('').trim();
  return name ? name : undefined;
}
