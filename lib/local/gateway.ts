import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { MAX_BODY_BYTES, problem, problemResponse, type HttpResult } from '../api/http.ts';
import { matchRoute, type ApiFunctionName } from '../api/routes.ts';
import type { LocalTokens } from './tokens.ts';

export type ApiFunction = (event: APIGatewayProxyEventV2, context: object) => Promise<HttpResult>;

export interface GatewayOptions {
  port: number;
  host?: string;
  functions: Record<ApiFunctionName, ApiFunction>;
  tokens: LocalTokens;
  /** Extra routes of the embedded stack only (the web app, the clock), tried before the API. */
  extra?: (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;
}

/** Several embedded-only route sets as one `extra` hook: the first that answers wins. */
export function composeExtra(...hooks: NonNullable<GatewayOptions['extra']>[]): NonNullable<GatewayOptions['extra']> {
  return async (req, res) => {
    for (const hook of hooks) if (await hook(req, res)) return true;
    return false;
  };
}

async function readBody(req: IncomingMessage): Promise<string | 'too-large'> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return 'too-large';
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, result: HttpResult) {
  res.writeHead(result.statusCode, { ...(result.headers as Record<string, string>), 'cache-control': 'no-store' });
  res.end(result.body ?? '');
}

/**
 * The embedded API Gateway: turns HTTP requests into API Gateway v2 events for the same handlers
 * that run in Lambda, verifying bearer tokens as the JWT authorizer would and passing the claims on.
 */
export async function startGateway(options: GatewayOptions): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const server = createServer(async (req, res) => {
    try {
      if (options.extra && (await options.extra(req, res))) return;
      const url = new URL(req.url ?? '/', 'http://localhost');
      const method = req.method ?? 'GET';
      const matched = matchRoute(method, url.pathname);
      if (!matched) return send(res, problemResponse(problem(404, `There is no route ${method} ${url.pathname}.`), url.pathname));
      if ('allowed' in matched)
        return send(res, problemResponse(problem(405, `${method} is not allowed on ${url.pathname}; use ${matched.allowed.join(', ')}.`, [], { allow: matched.allowed.join(', ') }), url.pathname));
      const declared = Number(req.headers['content-length'] ?? 0);
      if (declared > MAX_BODY_BYTES) return send(res, problemResponse(problem(413, `The request body is larger than ${MAX_BODY_BYTES} bytes.`), url.pathname));
      const body = await readBody(req);
      if (body === 'too-large') return send(res, problemResponse(problem(413, `The request body is larger than ${MAX_BODY_BYTES} bytes.`), url.pathname));

      let claims: Record<string, unknown> | undefined;
      const authorization = req.headers.authorization;
      if (matched.route.roles !== 'public') {
        const token = /^Bearer\s+(.+)$/i.exec(authorization ?? '')?.[1];
        claims = token ? await options.tokens.verify(token) : undefined;
        if (!claims)
          return send(res, problemResponse(problem(401, token ? 'The bearer token is not valid (signature, issuer, audience or expiry).' : 'Sign in: send Authorization: Bearer <token>.', [], { 'www-authenticate': 'Bearer' }), url.pathname));
      }
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v.join(',') : (v ?? '')]));
      const query = Object.fromEntries(url.searchParams.entries());
      const event = {
        version: '2.0',
        routeKey: `${matched.route.method} ${matched.route.path}`,
        rawPath: url.pathname,
        rawQueryString: url.search.slice(1),
        headers,
        ...(Object.keys(query).length ? { queryStringParameters: query } : {}),
        ...(Object.keys(matched.pathParameters).length ? { pathParameters: matched.pathParameters } : {}),
        requestContext: {
          http: { method, path: url.pathname, protocol: 'HTTP/1.1', sourceIp: req.socket.remoteAddress ?? '127.0.0.1', userAgent: headers['user-agent'] ?? '' },
          routeKey: `${matched.route.method} ${matched.route.path}`,
          stage: '$default',
          time: new Date().toISOString(),
          ...(claims ? { authorizer: { jwt: { claims, scopes: [] } } } : {}),
        },
        body: body === '' ? undefined : body,
        isBase64Encoded: false,
      } as unknown as APIGatewayProxyEventV2;
      send(res, await options.functions[matched.route.fn](event, {}));
    } catch (error) {
      console.error('gateway error', (error as Error).name, (error as Error).message);
      if (!res.headersSent) send(res, problemResponse(problem(500, 'Something went wrong on our side. Nothing was changed; try again.')));
    }
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    server,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
