import middy from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { accessAudited, answeredNothingToAudit, auditOutcomeOf, recordAuditOutcome } from './audit-access.ts';
import { authorise, principalOf, type Principal } from './auth.ts';
import { HttpProblem, problem, problemResponse, type HttpResult } from './http.ts';
import { matchRoute, routeKey, ROUTES, type Route } from './routes.ts';

export interface RouteContext {
  event: APIGatewayProxyEventV2;
  route: Route;
  params: Record<string, string>;
  principal: Principal | undefined;
}

export type RouteHandler = (ctx: RouteContext) => Promise<HttpResult>;

/** Called when authorisation refuses a request (401/403) before its route runs: ctx.principal is the caller's token, if any, unscoped. */
export type RefusalHandler = (ctx: RouteContext, refusal: HttpProblem) => Promise<void>;

export interface Logger {
  error(message: string, details?: Record<string, unknown>): void;
}

/** Which route an event is for: API Gateway names it in routeKey; otherwise match the path. */
function resolveRoute(event: APIGatewayProxyEventV2): { route: Route; params: Record<string, string> } {
  const byKey = ROUTES.find((r) => routeKey(r) === event.routeKey);
  if (byKey) return { route: byKey, params: Object.fromEntries(Object.entries(event.pathParameters ?? {}).map(([k, v]) => [k, v ?? ''])) };
  const method = event.requestContext?.http?.method ?? 'GET';
  const matched = matchRoute(method, event.rawPath ?? '/');
  if (!matched) throw problem(404, `There is no route ${method} ${event.rawPath}.`);
  if ('allowed' in matched) throw problem(405, `${method} is not allowed on ${event.rawPath}; use ${matched.allowed.join(', ')}.`, [], { allow: matched.allowed.join(', ') });
  return { route: matched.route, params: matched.pathParameters };
}

/**
 * A thin API handler: resolve the route, authorise (deny by default), run the route's function,
 * and turn every refusal into problem+json. An unexpected error is a 500 that names no internals.
 * A route declared `auditsAccess` answers nothing but a refusal without its audit record (see
 * auditAccess): a handler that forgot it is a 500, not data given out unaudited.
 */
export function apiHandler(handlers: Partial<Record<string, RouteHandler>>, logger: Logger = { error: (m, d) => console.error(m, d) }, onRefused: Partial<Record<string, RefusalHandler>> = {}) {
  return middy<APIGatewayProxyEventV2, HttpResult>().handler(async (event) => {
    try {
      const { route, params } = resolveRoute(event);
      const handle = handlers[routeKey(route)];
      if (!handle) throw problem(404, `There is no route ${route.method} ${route.path} here.`);
      let principal: Principal | undefined;
      try {
        principal = authorise(event, route, params);
      } catch (error) {
        // A route may record who was refused before it ran (the contact-details read audits its 403s); if that fails, so does the request.
        const refused = onRefused[routeKey(route)];
        if (refused && error instanceof HttpProblem) await refused({ event, route, params, principal: principalOf(event) }, error);
        throw error;
      }
      const ctx: RouteContext = { event, route, params, principal };
      let result: HttpResult;
      try {
        result = await handle(ctx);
      } catch (error) {
        // The attempt's record says how it ended: refused (with the problem's status and title) or failed.
        const status = error instanceof HttpProblem ? error.status : 500;
        await noteOutcome(ctx, auditOutcomeOf(status, error instanceof HttpProblem ? error.title : 'Internal error'), logger);
        throw error;
      }
      if (route.auditsAccess && result.statusCode < 400 && !accessAudited(ctx) && !answeredNothingToAudit(ctx)) throw new Error(`${routeKey(route)} is declared auditsAccess but answered ${result.statusCode} without an audit record`);
      await noteOutcome(ctx, auditOutcomeOf(result.statusCode), logger);
      return result;
    } catch (error) {
      if (error instanceof HttpProblem) return problemResponse(error, event.rawPath);
      // Log the error's kind and message only: request bodies can hold personal data.
      logger.error('unhandled error', { name: (error as Error).name, message: (error as Error).message, route: event.routeKey });
      return problemResponse(problem(500, 'Something went wrong on our side. Nothing was changed; try again.'), event.rawPath);
    }
  });
}

/**
 * File the outcome of an audited change (see recordAuditOutcome). The change has happened, or been
 * refused, whatever this write does: if it fails the answer still goes out, and the record reads
 * "outcome not recorded". Logged unless the request failed on its own already (its error is logged).
 */
async function noteOutcome(ctx: RouteContext, outcome: ReturnType<typeof auditOutcomeOf>, logger: Logger): Promise<void> {
  try {
    await recordAuditOutcome(ctx, outcome);
  } catch (error) {
    if (outcome.result !== 'failed') logger.error('audit outcome not recorded', { name: (error as Error).name, message: (error as Error).message, route: ctx.event.routeKey });
  }
}
