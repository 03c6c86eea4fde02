/**
 * Every HTTP route, once: the embedded gateway matches requests with it, the CDK stack creates the
 * HTTP API routes from it, and the OpenAPI document lists it. `roles` is who may call it
 * (`public` needs no token).
 */
export const ROLES = ['coordinator', 'team-lead', 'provider', 'commissioner'] as const;
export type Role = (typeof ROLES)[number];
/** Cognito group name for each role (the web app reads a person's role from her groups with it too). */
export const GROUP_OF_ROLE: Record<Role, string> = {
  coordinator: 'coordinators',
  'team-lead': 'team-leads',
  provider: 'providers',
  commissioner: 'commissioners',
};

export const API_FUNCTIONS = ['api-commands', 'api-queries', 'api-directory', 'api-providers', 'api-metrics'] as const;
export type ApiFunctionName = (typeof API_FUNCTIONS)[number];

export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** API Gateway style path, with {param} placeholders. */
  path: string;
  fn: ApiFunctionName;
  roles: readonly Role[] | 'public';
  summary: string;
  /**
   * The route records each access with auditAccess (lib/api/audit-access.ts) before it answers, and
   * so takes an X-Purpose header (the OpenAPI document lists it from this). The route kit holds
   * handlers to it: auditAccess on a route without it, or a success from a route with it and no
   * audit record, is a 500 (lib/api/handler-kit.ts). Erasure is audited too, but with the reason in
   * its body, not X-Purpose: it does not have this.
   */
  auditsAccess?: true;
}

/** How a route is named in handler tables and API Gateway: `GET /plans/{planId}`. */
export const routeKey = (route: Pick<Route, 'method' | 'path'>) => `${route.method} ${route.path}`;

export const ROUTES: readonly Route[] = [
  { method: 'GET', path: '/health', fn: 'api-queries', roles: 'public', summary: 'Liveness' },
  { method: 'GET', path: '/openapi.json', fn: 'api-queries', roles: 'public', summary: 'This API, as OpenAPI 3.1' },
  { method: 'POST', path: '/plans', fn: 'api-commands', roles: ['coordinator'], summary: 'Refer a participant: creates a plan', auditsAccess: true },
  { method: 'GET', path: '/plans', fn: 'api-queries', roles: ['coordinator', 'team-lead'], summary: 'Worklist of plans, by stage or due' },
  { method: 'GET', path: '/plans/{planId}', fn: 'api-queries', roles: ['coordinator', 'team-lead'], summary: 'One plan', auditsAccess: true },
  { method: 'GET', path: '/plans/{planId}/history', fn: 'api-queries', roles: ['coordinator', 'team-lead'], summary: "The plan's events in order", auditsAccess: true },
  { method: 'POST', path: '/plans/{planId}/erase-identity', fn: 'api-commands', roles: ['coordinator'], summary: "Erase the participant's identity on request, and the words typed on her plans (the pseudonymous plans stay); refused (409) while a plan of hers is open; audited" },
  { method: 'PATCH', path: '/plans/{planId}/participant', fn: 'api-commands', roles: ['coordinator'], summary: "Correct the participant's contact details, address or preferred name; audited", auditsAccess: true },
  { method: 'POST', path: '/plans/{planId}/{command}', fn: 'api-commands', roles: ['coordinator'], summary: 'Send a coordinator command to a plan', auditsAccess: true },
  { method: 'GET', path: '/allocations/{allocationId}', fn: 'api-queries', roles: ['provider', 'coordinator'], summary: 'One allocation as its provider sees it: needs with goals, and what consent lets it know', auditsAccess: true },
  { method: 'GET', path: '/allocations/{allocationId}/participant', fn: 'api-queries', roles: ['provider'], summary: 'Who the participant is and how to contact her safely: only for an accepted allocation and a consent that covers contact details; audited', auditsAccess: true },
  { method: 'POST', path: '/allocations/{allocationId}/{command}', fn: 'api-commands', roles: ['provider', 'coordinator'], summary: 'Answer or work an allocation', auditsAccess: true },
  { method: 'GET', path: '/providers/{providerId}/offers', fn: 'api-queries', roles: ['provider'], summary: "A provider's open offers", auditsAccess: true },
  { method: 'GET', path: '/audit', fn: 'api-queries', roles: ['team-lead'], summary: 'The audit log: who read or wrote identity or plan detail, when and why', auditsAccess: true },
  { method: 'GET', path: '/escalations', fn: 'api-queries', roles: ['team-lead'], summary: 'Open escalations, a page at a time: the longest-open first, each page most urgent first' },
  { method: 'POST', path: '/plans/{planId}/escalations/acknowledge', fn: 'api-commands', roles: ['team-lead'], summary: 'A team lead picks up an open escalation ({kind, ref?}): who and when stay on it until it is resolved; audited', auditsAccess: true },
  // Commissioner figures: aggregates only, small numbers suppressed.
  { method: 'GET', path: '/metrics', fn: 'api-metrics', roles: ['commissioner', 'team-lead'], summary: 'Programme figures for a period, overall and by breakdown, with definitions' },
  { method: 'GET', path: '/metrics.csv', fn: 'api-metrics', roles: ['commissioner', 'team-lead'], summary: 'The same figures as CSV' },
  // Provider directory (Open Referral UK style): public reads, team leads change availability.
  { method: 'GET', path: '/directory/services', fn: 'api-directory', roles: 'public', summary: 'Services, paginated as the HSDS API describes' },
  { method: 'GET', path: '/directory/services/{serviceId}', fn: 'api-directory', roles: 'public', summary: 'One service, as an HSDS 3 service' },
  { method: 'PATCH', path: '/directory/services/{serviceId}', fn: 'api-directory', roles: ['team-lead'], summary: "Change a service's capacity or status; audited (old and new)", auditsAccess: true },
  // Provider-facing delivery: allocations held, pull feed, webhook subscriptions and their delivery log.
  { method: 'GET', path: '/providers/{providerId}/allocations', fn: 'api-providers', roles: ['provider'], summary: 'Allocations the provider holds', auditsAccess: true },
  { method: 'GET', path: '/providers/{providerId}/feed', fn: 'api-providers', roles: ['provider'], summary: "The provider's events in order, resumable with ?after=", auditsAccess: true },
  { method: 'GET', path: '/providers/{providerId}/subscriptions', fn: 'api-providers', roles: ['team-lead', 'provider'], summary: "The provider's webhook subscription (never its secret); on AWS the destination set at deploy (its URL, the API key header)" },
  { method: 'POST', path: '/providers/{providerId}/subscriptions', fn: 'api-providers', roles: ['team-lead'], summary: 'Subscribe a webhook; the secret is shown once (embedded stack; on AWS a 409: URLs are set at deploy)' },
  { method: 'DELETE', path: '/providers/{providerId}/subscriptions/{subscriptionId}', fn: 'api-providers', roles: ['team-lead'], summary: 'Remove a webhook subscription (embedded stack; on AWS a 409)' },
  { method: 'POST', path: '/providers/{providerId}/subscriptions/{subscriptionId}/rotate-secret', fn: 'api-providers', roles: ['team-lead'], summary: 'Rotate the signing secret: the new one is shown once; the old one also signs until the overlap ends (embedded stack; on AWS a 409: requests carry an API key, not a signature)' },
  { method: 'POST', path: '/providers/{providerId}/subscriptions/{subscriptionId}/test', fn: 'api-providers', roles: ['team-lead', 'provider'], summary: "Send a test delivery (webhook.test.v1, no plan data, signed as every delivery) to the provider's webhook now, and say what the receiver answered (embedded stack; on AWS a 409)" },
  { method: 'GET', path: '/providers/{providerId}/deliveries', fn: 'api-providers', roles: ['team-lead', 'provider'], summary: 'Webhook delivery log (embedded stack; on AWS a 409: failed events go to dead-letter queues)' },
  { method: 'POST', path: '/providers/{providerId}/deliveries/{deliveryId}/replay', fn: 'api-providers', roles: ['team-lead', 'provider'], summary: 'Replay a dead-lettered delivery (embedded stack; on AWS a 409: operators replay from the event archive)' },
];

export interface MatchedRoute {
  route: Route;
  pathParameters: Record<string, string>;
}

export function matchRoute(method: string, path: string): MatchedRoute | { allowed: string[] } | undefined {
  const segments = path.split('/').filter(Boolean);
  const allowed: string[] = [];
  // Literal segments win over placeholders, as in API Gateway.
  const candidates = [...ROUTES].sort((a, b) => placeholderCount(a.path) - placeholderCount(b.path));
  for (const route of candidates) {
    const parts = route.path.split('/').filter(Boolean);
    if (parts.length !== segments.length) continue;
    const params: Record<string, string> = {};
    const ok = parts.every((part, i) => {
      const segment = segments[i] as string;
      if (part.startsWith('{')) {
        // A malformed escape (%FF) is simply not a match: 404, never a 500.
        try {
          params[part.slice(1, -1)] = decodeURIComponent(segment);
        } catch {
          return false;
        }
        return true;
      }
      return part === segment;
    });
    if (!ok) continue;
    if (route.method === method) return { route, pathParameters: params };
    allowed.push(route.method);
  }
  return allowed.length > 0 ? { allowed } : undefined;
}

function placeholderCount(path: string) {
  return (path.match(/\{/g) ?? []).length;
}
