import { readFile, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { matchRoute } from '../api/routes.ts';
import type { DemoUser } from './embedded-stack.ts';
import { webContentSecurityPolicy } from '../web-content-policy.ts';

/** Where `npm start` (prestart) builds the web app. */
export const WEB_DIST_DEFAULT = fileURLToPath(new URL('../../web/dist', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json',
};

/**
 * The same policy CloudFront sets on AWS (lib/infra/web.ts), with the API on this very origin and,
 * when the runtime config names a hosted UI, its token endpoint.
 */
function securityHeaders(hostedUiDomain: string | undefined) {
  const csp = webContentSecurityPolicy(hostedUiDomain ? [new URL(hostedUiDomain).origin] : [], { upgradeInsecureRequests: false });
  return {
    'content-security-policy': csp,
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
  };
}

/** What `/config.json` answers on the embedded stack: sign-in with the demo users. */
export const EMBEDDED_RUNTIME_CONFIG: Readonly<Record<string, unknown>> = { auth: 'embedded', apiUrl: '' };

const isLoopback = (address: string | undefined) => address === '127.0.0.1' || address === '::1' || address === '::ffff:127.0.0.1';
/**
 * A request from this machine itself, not one a reverse proxy on it passed on: behind nginx or Caddy
 * (TLS for a pilot) every request comes from 127.0.0.1, so the socket alone would hand every role's
 * token to anyone who can reach the proxy. Proxies say whom they forward for in one of these headers.
 */
const FORWARDING_HEADERS = ['forwarded', 'x-forwarded-for', 'x-real-ip', 'x-forwarded-host', 'via'] as const;
/**
 * Whether the Host header names this machine (localhost, 127.x.x.x or [::1], any port). A proxy that adds
 * no forwarding header (nginx with `proxy_set_header Host $host` and nothing else) still passes on the name
 * the browser asked for, and a page whose name was rebound to 127.0.0.1 (DNS rebinding) carries its own.
 */
function namesThisMachine(host: string | undefined): boolean {
  if (host === undefined) return false;
  let hostname: string;
  try {
    hostname = new URL(`http://${host}`).hostname;
  } catch {
    return false;
  }
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}
const isFromThisMachine = (req: IncomingMessage) =>
  isLoopback(req.socket.remoteAddress) && FORWARDING_HEADERS.every((name) => req.headers[name] === undefined) && namesThisMachine(req.headers.host);

/**
 * The web app on the embedded stack, on the API's own port: the built files of web/dist, the SPA
 * fallback (a browser asking for HTML at a path that is not an API route gets index.html), the
 * runtime config the app reads at start (`/config.json`: embedded sign-in), and the demo users the
 * sign-in page offers (`GET /_local/demo-users`, to this machine only: it hands out tokens).
 */
export function webRoutes(deps: { distDir?: string; demoUsers: () => readonly DemoUser[]; runtimeConfig?: Readonly<Record<string, unknown>> }) {
  const root = resolve(deps.distDir ?? WEB_DIST_DEFAULT);
  const runtimeConfig = deps.runtimeConfig ?? EMBEDDED_RUNTIME_CONFIG;
  const { hostedUiDomain } = runtimeConfig;
  const headers = securityHeaders(typeof hostedUiDomain === 'string' ? hostedUiDomain : undefined);
  const sendJson = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': status >= 400 ? 'application/problem+json' : 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(body));
  };

  async function file(path: string): Promise<string | undefined> {
    const target = normalize(join(root, path));
    if (target !== root && !target.startsWith(root + sep)) return undefined;
    try {
      return (await stat(target)).isFile() ? target : undefined;
    } catch {
      return undefined;
    }
  }

  async function serve(req: IncomingMessage, res: ServerResponse, target: string) {
    const body = await readFile(target);
    const hashed = target.startsWith(join(root, 'assets') + sep);
    res.writeHead(200, {
      'content-type': TYPES[extname(target)] ?? 'application/octet-stream',
      'content-length': body.length,
      // Built assets carry a content hash in their name; index.html names the current ones.
      'cache-control': hashed ? 'public, max-age=31536000, immutable' : 'no-cache',
      ...headers,
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const method = req.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD') return false;
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    if (path === '/config.json') {
      sendJson(res, 200, runtimeConfig);
      return true;
    }
    if (path === '/_local/demo-users') {
      if (!isFromThisMachine(req)) {
        sendJson(res, 403, { type: 'about:blank', title: 'Forbidden', status: 403, detail: 'Demo users are offered to this machine only, at localhost or 127.0.0.1 and not through a proxy: sign in with a token instead.' });
        return true;
      }
      sendJson(res, 200, { items: deps.demoUsers().map((u) => ({ name: u.name, role: u.role, ...(u.providerId ? { providerId: u.providerId } : {}), token: u.token })) });
      return true;
    }
    if (path.startsWith('/_local/') || matchRoute(method, path)) return false;
    let decoded: string;
    try {
      decoded = decodeURIComponent(path);
    } catch {
      return false;
    }
    const found = decoded !== '/' ? await file(decoded) : undefined;
    if (found) {
      await serve(req, res, found);
      return true;
    }
    // Client-side routes: a browser navigation (it asks for HTML) that is no file and no API route.
    const wantsHtml = (req.headers.accept ?? '').includes('text/html');
    if (!wantsHtml || extname(decoded) !== '') return false;
    const index = await file('index.html');
    if (!index) {
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
      res.end('The web app is not built: run `npm run build:web` (npm start does it for you).\n');
      return true;
    }
    await serve(req, res, index);
    return true;
  };
}
