import { GROUP_OF_ROLE, ROLES, type Role } from './domain.ts';

/**
 * Who is signed in, and how sign-in works where the app runs. The app reads /config.json at start:
 * the embedded stack answers `{ "auth": "embedded" }` (a picker of demo users); on AWS the CDK stack
 * writes the API URL and the Cognito user pool there, and sign-in goes through the Cognito hosted UI.
 */
export interface RuntimeConfig {
  auth: 'embedded' | 'cognito';
  apiUrl: string;
  stage?: string;
  region?: string;
  userPoolId?: string;
  userPoolClientId?: string;
  /** The user pool's hosted UI domain, e.g. wraparound-prod.auth.eu-west-2.amazoncognito.com. */
  hostedUiDomain?: string;
}

export interface Session {
  token: string;
  role: Role;
  providerId?: string;
  name: string;
  /** Seconds since the epoch, from the token. */
  expiresAt?: number;
}

const SESSION_KEY = 'wraparound.session';
const PKCE_KEY = 'wraparound.pkce';

export async function loadConfig(): Promise<RuntimeConfig> {
  try {
    const response = await fetch('/config.json', { headers: { accept: 'application/json' } });
    if (!response.ok) return { auth: 'embedded', apiUrl: '' };
    const raw = (await response.json()) as Partial<RuntimeConfig>;
    const auth = raw.auth ?? (raw.userPoolId ? 'cognito' : 'embedded');
    return { ...raw, auth, apiUrl: (raw.apiUrl ?? '').replace(/\/$/, '') };
  } catch {
    return { auth: 'embedded', apiUrl: '' };
  }
}

function decodePart(part: string): Record<string, unknown> {
  const base64 = part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '=');
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
}

/** The session a token stands for (the API checks the signature; this only reads the claims). */
export function sessionFromToken(token: string): Session | { error: string } {
  const parts = token.trim().split('.');
  if (parts.length !== 3) return { error: 'is not a token: it should have three parts separated by dots' };
  let claims: Record<string, unknown>;
  try {
    claims = decodePart(parts[1] as string);
  } catch {
    return { error: 'is not a token: its claims cannot be read' };
  }
  const rawGroups = claims['cognito:groups'];
  const groups = Array.isArray(rawGroups) ? rawGroups.map(String) : typeof rawGroups === 'string' ? rawGroups.replace(/^\[|\]$/g, '').split(/[\s,]+/) : [];
  const role = ROLES.find((r) => groups.includes(GROUP_OF_ROLE[r]));
  if (!role) return { error: 'carries no Wraparound role (cognito:groups)' };
  const exp = typeof claims.exp === 'number' ? claims.exp : undefined;
  if (exp !== undefined && exp * 1000 < Date.now()) return { error: 'has expired: get a new one' };
  const providerId = typeof claims['custom:providerId'] === 'string' ? claims['custom:providerId'] : undefined;
  if (role === 'provider' && !providerId) return { error: 'is a provider token without a provider (custom:providerId)' };
  const name = typeof claims.name === 'string' ? claims.name : typeof claims.email === 'string' ? claims.email : String(claims.sub ?? role);
  return { token: token.trim(), role, name, ...(providerId ? { providerId } : {}), ...(exp !== undefined ? { expiresAt: exp } : {}) };
}

export function storedSession(): Session | undefined {
  try {
    const raw = sessionStorage.getItem(SESSION_KEY);
    if (!raw) return undefined;
    const session = JSON.parse(raw) as Session;
    if (session.expiresAt && session.expiresAt * 1000 < Date.now()) {
      sessionStorage.removeItem(SESSION_KEY);
      return undefined;
    }
    return session;
  } catch {
    return undefined;
  }
}

export function storeSession(session: Session | undefined) {
  if (session) sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  else sessionStorage.removeItem(SESSION_KEY);
}

/** The page each role starts on. */
export function homeOf(role: Role): string {
  return { coordinator: '/worklist', 'team-lead': '/escalated', provider: '/inbox', commissioner: '/dashboard' }[role];
}

// ---------------------------------------------------------------------------------------------
// Cognito hosted UI (authorization code with PKCE). The user pool client needs OAuth enabled with
// `<web origin>/sign-in` as its callback URL, config.json needs `hostedUiDomain`, and the page's
// Content-Security-Policy must allow connecting to that domain for the token exchange.

const base64url = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

export async function startHostedSignIn(config: RuntimeConfig): Promise<string | undefined> {
  if (!config.hostedUiDomain || !config.userPoolClientId) return 'This deployment does not name its Cognito hosted UI (hostedUiDomain in config.json).';
  const verifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
  const state = base64url(crypto.getRandomValues(new Uint8Array(16)));
  const challenge = base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
  sessionStorage.setItem(PKCE_KEY, JSON.stringify({ verifier, state }));
  const params = new URLSearchParams({
    response_type: 'code',
    client_id: config.userPoolClientId,
    redirect_uri: `${location.origin}/sign-in`,
    scope: 'openid profile email',
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  location.assign(`https://${config.hostedUiDomain}/oauth2/authorize?${params.toString()}`);
  return undefined;
}

/** Back from the hosted UI with ?code=…: swap it for tokens; the ID token carries the role and provider. */
export async function finishHostedSignIn(config: RuntimeConfig, search: URLSearchParams): Promise<Session | { error: string }> {
  const stored = JSON.parse(sessionStorage.getItem(PKCE_KEY) ?? '{}') as { verifier?: string; state?: string };
  sessionStorage.removeItem(PKCE_KEY);
  if (search.get('error')) return { error: search.get('error_description') ?? search.get('error') ?? 'sign-in failed' };
  if (!stored.verifier || stored.state !== search.get('state')) return { error: 'The sign-in answer does not match the request this browser made: sign in again.' };
  const response = await fetch(`https://${config.hostedUiDomain}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: config.userPoolClientId ?? '',
      code: search.get('code') ?? '',
      redirect_uri: `${location.origin}/sign-in`,
      code_verifier: stored.verifier,
    }).toString(),
  });
  if (!response.ok) return { error: `The sign-in service refused the code (${response.status}): sign in again.` };
  const tokens = (await response.json()) as { id_token?: string };
  if (!tokens.id_token) return { error: 'The sign-in service sent no ID token.' };
  const session = sessionFromToken(tokens.id_token);
  return 'error' in session ? { error: `Your account ${session.error}.` } : session;
}
