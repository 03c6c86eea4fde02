import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { HttpProblem, MAX_BODY_BYTES, problem, problemResponse, type HttpResult } from '../api/http.ts';
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

/**
 * The body as text, or 'too-large' as soon as it passes the limit. The rest is left unread (the
 * request is paused, not destroyed): the answer to it must then close the connection, see tooLarge.
 */
function readBody(req: IncomingMessage): Promise<string | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) return void chunks.push(chunk);
      req.off('data', onData).off('end', onEnd).pause();
      resolve('too-large');
    };
    const onEnd = () => resolve(Buffer.concat(chunks).toString('utf8'));
    req.on('data', onData).once('end', onEnd).once('error', reject);
  });
}

function send(res: ServerResponse, result: HttpResult) {
  // A request the closing gateway already answered (see close) drops its handler's late result.
  if (res.headersSent || res.destroyed) return;
  res.writeHead(result.statusCode, { ...(result.headers as Record<string, string>), 'cache-control': 'no-store' });
  res.end(result.body ?? '');
}

/**
 * 413, and the connection closed after it: the rest of the body is still on its way (a declared
 * 10 GiB, or chunks with no end announced), so the connection cannot carry another request; reading
 * the rest to keep it would let a client make the server read without bound.
 */
function tooLarge(res: ServerResponse, instance: string) {
  send(res, problemResponse(problem(413, `The request body is larger than ${MAX_BODY_BYTES} bytes.`, [], { connection: 'close' }), instance));
}

/** Why Node's HTTP parser refused a request, as the status and words for the answer. */
function parseFailure(error: Error & { code?: string; reason?: string }): [status: number, detail: string] {
  const code = error.code;
  if (code === 'HPE_HEADER_OVERFLOW') return [431, 'The request line and headers are larger than 16 KiB: send a shorter URL or fewer headers.'];
  if (code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW') return [413, 'The chunk extensions of the request body are too large.'];
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return [408, 'The request did not arrive in time.'];
  return [400, `The request is not valid HTTP/1.1 (${error.reason ?? error.message}): check the request line, the headers and the body framing.`];
}

/**
 * Node answers requests its parser refuses (headers over 16 KiB, a malformed request line, bad
 * framing) with an empty body; these answer them as problem+json like every other 4xx. The socket
 * has no request object any more, so the answer is written raw, then the connection is closed.
 */
function answerClientError(error: Error & { code?: string; reason?: string }, socket: Socket) {
  // A reset or a socket already closing has no one to read an answer; nor can one follow a response
  // already started on this connection (a pipelined request after it): Node's own handler checks the same.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) return void socket.destroy();
  const [status, detail] = parseFailure(error);
  const known = problem(status, detail);
  const result = problemResponse(known.title === 'Error' ? new HttpProblem(status, STATUS_CODES[status] ?? 'Error', detail) : known);
  const body = Buffer.from(result.body ?? '', 'utf8');
  const head = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`,
    'content-type: application/problem+json',
    'cache-control: no-store',
    `content-length: ${body.length}`,
    'connection: close',
  ].join('\r\n');
  socket.end(Buffer.concat([Buffer.from(`${head}\r\n\r\n`, 'latin1'), body]), () => socket.destroy());
}

/**
 * The embedded API Gateway: turns HTTP requests into API Gateway v2 events for the same handlers
 * that run in Lambda, verifying bearer tokens as the JWT authorizer would and passing the claims on.
 */
export async function startGateway(options: GatewayOptions): Promise<{ server: Server; port: number; close(unanswered?: HttpResult): Promise<void> }> {
  // The requests not yet answered, so that close() can answer them rather than cut their connections.
  const unansweredRequests = new Set<ServerResponse>();
  // Host is checked below rather than by Node, whose 400 for it has an empty body.
  const server = createServer({ requireHostHeader: false }, async (req, res) => {
    unansweredRequests.add(res);
    const answered = () => unansweredRequests.delete(res);
    res.once('finish', answered).once('close', answered);
    try {
      if (req.httpVersion === '1.1' && req.headers.host === undefined)
        return send(res, problemResponse(problem(400, 'An HTTP/1.1 request must have a Host header.', [{ path: 'Host', message: 'is required' }], { connection: 'close' })));
      if (options.extra && (await options.extra(req, res))) return;
      const url = new URL(req.url ?? '/', 'http://localhost');
      const method = req.method ?? 'GET';
      const matched = matchRoute(method, url.pathname);
      if (!matched) return send(res, problemResponse(problem(404, `There is no route ${method} ${url.pathname}.`), url.pathname));
      if ('allowed' in matched)
        return send(res, problemResponse(problem(405, `${method} is not allowed on ${url.pathname}; use ${matched.allowed.join(', ')}.`, [], { allow: matched.allowed.join(', ') }), url.pathname));
      const declared = Number(req.headers['content-length'] ?? 0);
      if (declared > MAX_BODY_BYTES) return tooLarge(res, url.pathname);
      const body = await readBody(req);
      if (body === 'too-large') return tooLarge(res, url.pathname);

      let claims: Record<string, unknown> | undefined;
      const authorization = req.headers.authorization;
      if (matched.route.roles !== 'public') {
        const token = /^Bearer\s+(.+)$/i.exec(authorization ?? '')?.[1];
        claims = token ? await options.tokens.verify(token) : undefined;
        if (!claims)
          return send(res, problemResponse(problem(401, token ? 'The bearer token is not valid (signature, issuer, audience or expiry).' : 'Sign in: send Authorization: Bearer <token>.', [], { 'www-authenticate': 'Bearer' }), url.pathname));
      }
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v.join(',') : (v ?? '')]));
      // A parameter given more than once is joined with commas, as API Gateway's HTTP API does (not the last one read alone).
      // Joined in a Map, then made an object by Object.fromEntries: on a plain object `name in query` is true
      // for an inherited name (constructor) at first sight, and `query['__proto__'] = …` sets no parameter at all.
      const joined = new Map<string, string>();
      for (const [name, value] of url.searchParams) joined.set(name, joined.has(name) ? `${joined.get(name)},${value}` : value);
      const query: Record<string, string> = Object.fromEntries(joined);
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
  server.on('clientError', answerClientError);
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    server,
    port,
    /**
     * Stops listening and ends every connection. `unanswered`, when given, first answers each request
     * still being worked on (a handler's later result is then dropped), so its client reads an answer
     * instead of a cut connection; those answers get a second at most to go out.
     */
    async close(unanswered?: HttpResult) {
      const sent: Promise<void>[] = [];
      if (unanswered) {
        for (const res of unansweredRequests) {
          sent.push(new Promise<void>((resolve) => res.once('finish', resolve).once('close', resolve)));
          send(res, { ...unanswered, headers: { ...unanswered.headers, connection: 'close' } });
        }
      }
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.race([Promise.all(sent), new Promise<void>((resolve) => setTimeout(resolve, 1_000).unref())]);
      server.closeAllConnections();
      await closed;
    },
  };
}
