import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { problem } from './http.ts';
import { ProviderId } from '../domain/schemas.ts';
import { GROUP_OF_ROLE, type Role, type Route } from './routes.ts';

/** Who is calling, from the claims a Cognito JWT authorizer passes on (or the embedded gateway). */
export interface Principal {
  sub: string;
  name?: string;
  /** The role this request acts in: the first of `roles` the route allows. */
  role: Role;
  roles: Role[];
  providerId?: string;
}

const ROLE_OF_GROUP = new Map(Object.entries(GROUP_OF_ROLE).map(([role, group]) => [group, role as Role]));

/** API Gateway passes `cognito:groups` as "[a b]" or "a,b"; a local token may carry an array. */
function groupsOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  if (typeof value !== 'string') return [];
  return value.replace(/^\[|\]$/g, '').split(/[\s,]+/).filter(Boolean);
}

type AuthorizerEvent = APIGatewayProxyEventV2 & { requestContext: { authorizer?: { jwt?: { claims?: Record<string, unknown> } } } };

export function principalOf(event: APIGatewayProxyEventV2): Principal | undefined {
  const claims = (event as AuthorizerEvent).requestContext.authorizer?.jwt?.claims;
  if (!claims || typeof claims.sub !== 'string') return undefined;
  const roles = groupsOf(claims['cognito:groups']).map((g) => ROLE_OF_GROUP.get(g)).filter((r): r is Role => Boolean(r));
  const role = roles[0];
  if (!role) return undefined;
  const providerId = typeof claims['custom:providerId'] === 'string' ? claims['custom:providerId'] : undefined;
  return { sub: claims.sub, ...(typeof claims.name === 'string' ? { name: claims.name } : {}), role, roles, ...(providerId ? { providerId } : {}) };
}

/**
 * The one place that decides who may call what (role × route × scope), deny by default:
 * - no principal on a non-public route is 401; a role the route does not list is 403;
 * - scope: a provider acts only on its own provider id (any route with {providerId} in its path);
 *   which allocations and plans a provider holds is checked against the plan itself by the domain
 *   (Forbidden) and by the allocation reads, since only the plan knows; her identity goes to a
 *   provider only through GET /allocations/{id}/participant, which also needs the allocation
 *   accepted and her consent to cover contact details (lib/domain/participant-share.ts);
 * - commissioners are listed only on aggregate routes, so they can never reach a plan.
 */
export function authorise(event: APIGatewayProxyEventV2, route: Route, params: Record<string, string> = {}): Principal | undefined {
  if (route.roles === 'public') return principalOf(event);
  const principal = principalOf(event);
  if (!principal) throw problem(401, 'Sign in: this route needs a valid bearer token with a Wraparound role.', [], { 'www-authenticate': 'Bearer' });
  // Someone in several groups acts in whichever of their roles the route allows.
  const role = principal.roles.find((r) => (route.roles as readonly Role[]).includes(r));
  if (!role) throw problem(403, `A ${principal.roles.join(' or ')} may not ${route.method} ${route.path}; it is for ${route.roles.join(', ')}.`);
  if (role === 'provider' && !principal.providerId) throw problem(403, 'This provider token names no provider (custom:providerId).');
  // A malformed id is left to the route's validation (400 naming providerId); a well-formed other one is 403.
  if (role === 'provider' && params.providerId !== undefined && ProviderId.safeParse(params.providerId).success && params.providerId !== principal.providerId)
    throw problem(403, `This token is for provider ${principal.providerId}; it cannot act for ${params.providerId}.`);
  return { ...principal, role };
}
