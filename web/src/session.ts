import { GROUP_OF_ROLE, ROLES, type Role } from './domain.ts';
import { refreshTokens, type HostedUiConfig } from './hosted-ui.ts';

/**
 * Who is signed in, and how sign-in works where the app runs. The app reads /config.json at start:
 * the embedded stack answers `{ "auth": "embedded" }` (a picker of demo users); on AWS the CDK stack
 * writes the API URL, the user pool and its hosted UI there (lib/infra/web.ts WebRuntimeConfig), and
 * sign-in goes through the Cognito hosted UI.
 */
export interface RuntimeConfig {
  auth: 'embedded' | 'cognito';
  apiUrl: string;
  stage?: string;
  region?: string;
  userPoolId?: string;
  userPoolClientId?: string;
  /** Everything the hosted-UI sign-in needs, when config.json names it all (hostedUiDomain and the rest). */
  hostedUi?: HostedUiConfig;
}

export interface Session {
  token: string;
  role: Role;
  providerId?: string;
  name: string;
  /** Seconds since the epoch, from the token. */
  expiresAt?: number;
  /** Hosted-UI sign-in: swapped for a new ID token before this one expires. */
  refreshToken?: string;
}

const SESSION_KEY = 'wraparound.session';
const NOTICE_KEY = 'wraparound.notice';

const text = (value: unknown) => (typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined);

function hostedUiOf(raw: Record<string, unknown>): HostedUiConfig | undefined {
  const hostedUiDomain = text(raw.hostedUiDomain)?.replace(/\/$/, '');
  const userPoolClientId = text(raw.userPoolClientId);
  const redirectUri = text(raw.redirectUri);
  const logoutUri = text(raw.logoutUri);
  if (!hostedUiDomain || !userPoolClientId || !redirectUri || !logoutUri) return undefined;
  return { hostedUiDomain, userPoolClientId, redirectUri, logoutUri, scope: text(raw.scope) ?? 'openid email profile' };
}

export async function loadConfig(): Promise<RuntimeConfig> {
  try {
    const response = await fetch('/config.json', { headers: { accept: 'application/json' } });
    if (!response.ok) return { auth: 'embedded', apiUrl: '' };
    const raw = (await response.json()) as Record<string, unknown>;
    const hostedUi = hostedUiOf(raw);
    const auth = raw.auth === 'embedded' || raw.auth === 'cognito' ? raw.auth : hostedUi || raw.userPoolId || raw.hostedUiDomain ? 'cognito' : 'embedded';
    return {
      auth,
      apiUrl: (text(raw.apiUrl) ?? '').replace(/\/$/, ''),
      ...Object.fromEntries((['stage', 'region', 'userPoolId', 'userPoolClientId'] as const).flatMap((k) => (text(raw[k]) ? [[k, text(raw[k])]] : []))),
      ...(hostedUi ? { hostedUi } : {}),
    };
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
    // An expired ID token with a refresh token is renewed on the next API call (currentToken).
    if (session.expiresAt && session.expiresAt * 1000 < Date.now() && !session.refreshToken) {
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

/** A message for the sign-in page after the app has been away (signing out at the hosted UI). */
export function keepNotice(message: string) {
  sessionStorage.setItem(NOTICE_KEY, message);
}

export function takeNotice(): string | undefined {
  const message = sessionStorage.getItem(NOTICE_KEY) ?? undefined;
  sessionStorage.removeItem(NOTICE_KEY);
  return message;
}

/** Renew this long before the ID token expires, so no request leaves with one about to lapse. */
const REFRESH_MARGIN_SECONDS = 120;
let refreshing: Promise<Session | undefined> | undefined;

/**
 * The bearer token for the next API call. A hosted-UI session whose ID token is expired or about
 * to be is renewed with its refresh token first (one renewal at a time); when that fails (the
 * refresh token's 12 hours are up, or it was revoked) the session ends and the API's 401 sends the
 * person to sign in again.
 */
export async function currentToken(config: RuntimeConfig): Promise<string | undefined> {
  const session = storedSession();
  if (!session) return undefined;
  const due = session.expiresAt !== undefined && session.expiresAt - REFRESH_MARGIN_SECONDS <= Date.now() / 1000;
  if (!due || !session.refreshToken || !config.hostedUi) return session.token;
  refreshing ??= renew(config.hostedUi, session).finally(() => (refreshing = undefined));
  return (await refreshing)?.token;
}

async function renew(hostedUi: HostedUiConfig, session: Session): Promise<Session | undefined> {
  try {
    const tokens = await refreshTokens(hostedUi, session.refreshToken as string);
    const renewed = sessionFromToken(tokens.idToken);
    if ('error' in renewed) throw new Error(renewed.error);
    const next: Session = { ...renewed, ...(tokens.refreshToken ? { refreshToken: tokens.refreshToken } : {}) };
    storeSession(next);
    return next;
  } catch {
    storeSession(undefined);
    return undefined;
  }
}

/** The page each role starts on. */
export function homeOf(role: Role): string {
  return { coordinator: '/worklist', 'team-lead': '/escalated', provider: '/inbox', commissioner: '/dashboard' }[role];
}

