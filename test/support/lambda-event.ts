/**
 * An HTTP API (payload 2.0) event as API Gateway hands it to a function, for tests that call a Lambda
 * handler directly: the route, the path, the query, the caller's JWT claims as the JWT authorizer passes
 * them, and a JSON body.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';

export interface LambdaRequest {
  /** The route as API Gateway names it, e.g. 'GET /allocations/{allocationId}/participant'. */
  routeKey: string;
  rawPath: string;
  query?: string;
  pathParameters?: Record<string, string>;
  /** The verified token's claims; absent: no authorizer context. */
  claims?: Record<string, unknown>;
  headers?: Record<string, string>;
  body?: unknown;
}

export function lambdaEvent(r: LambdaRequest): APIGatewayProxyEventV2 {
  const method = r.routeKey.split(' ')[0] as string;
  const query = r.query ?? '';
  return {
    version: '2.0',
    routeKey: r.routeKey,
    rawPath: r.rawPath,
    rawQueryString: query,
    ...(query ? { queryStringParameters: Object.fromEntries(new URLSearchParams(query)) } : {}),
    ...(r.pathParameters ? { pathParameters: r.pathParameters } : {}),
    headers: { ...(r.body === undefined ? {} : { 'content-type': 'application/json' }), ...r.headers },
    requestContext: {
      http: { method, path: r.rawPath, protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: 'vitest' },
      routeKey: r.routeKey,
      ...(r.claims ? { authorizer: { jwt: { claims: r.claims, scopes: [] } } } : {}),
    },
    ...(r.body === undefined ? {} : { body: JSON.stringify(r.body) }),
    isBase64Encoded: false,
  } as unknown as APIGatewayProxyEventV2;
}

/** Claims of a signed-in commissioner, team lead or provider, as the JWT authorizer passes them. */
export const CLAIMS = {
  commissioner: { sub: 'commissioner-1', 'cognito:groups': '[commissioners]' },
  teamLead: (sub = 'lead-1') => ({ sub, 'cognito:groups': '[team-leads]' }),
  provider: (providerId: string, sub = 'provider-1') => ({ sub, 'cognito:groups': '[providers]', 'custom:providerId': providerId }),
};
