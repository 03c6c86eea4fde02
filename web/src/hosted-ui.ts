/**
 * Sign-in through the Cognito hosted UI: the OAuth 2.0 authorization code grant with PKCE (S256)
 * for a public client, as RFC 6749, RFC 7636 and Cognito's /oauth2/authorize, /oauth2/token and
 * /logout endpoints describe it.
 *
 * Written here rather than taken from a library: the flow is two redirects and two form posts, the
 * hash is the browser's own (Web Crypto), and the app does not verify the ID token's signature
 * (the API's JWT authorizer does, on every call), which is most of what an OAuth client library
 * would add. Tokens live in this tab's session storage only (never localStorage): closing the tab
 * on a shared office computer forgets them.
 */

/** What config.json tells the app about the hosted UI (lib/infra/web.ts WebRuntimeConfig). */
export interface HostedUiConfig {
  /** The hosted UI's origin, https://<prefix>.auth.<region>.amazoncognito.com. */
  hostedUiDomain: string;
  userPoolClientId: string;
  /** The callback URL registered on the client (https://<web origin>/sign-in). */
  redirectUri: string;
  /** The sign-out URL registered on the client (https://<web origin>/). */
  logoutUri: string;
  scope: string;
}

export interface HostedUiTokens {
  idToken: string;
  refreshToken?: string;
}

/** A sign-in that did not work, in words for the person at the screen. */
export class SignInError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SignInError';
  }
}

const PENDING_KEY = 'wraparound.hosted-ui.pending';

interface PendingSignIn {
  state: string;
  verifier: string;
  /** The page the person was going to before signing in. */
  next?: string;
}

const base64url = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const randomString = (bytes: number) => base64url(crypto.getRandomValues(new Uint8Array(bytes)));

/** The PKCE S256 challenge of a verifier: base64url(SHA-256(verifier)). */
export async function codeChallenge(verifier: string): Promise<string> {
  return base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
}

/** Only a path of this app (not `//elsewhere`) may be where a person lands after signing in. */
const safeNext = (next: string | undefined) => (next && next.startsWith('/') && !next.startsWith('//') ? next : undefined);

/**
 * Send the person to the hosted UI. A fresh state (against forged answers) and PKCE verifier (so a
 * stolen code is useless) are kept in this tab's session storage until they come back.
 */
export async function beginSignIn(config: HostedUiConfig, next?: string): Promise<void> {
  // 32 random bytes: a 43-character verifier, the shortest RFC 7636 allows, with 256 bits in it.
  const pending: PendingSignIn = { state: randomString(16), verifier: randomString(32) };
  const goTo = safeNext(next);
  if (goTo) pending.next = goTo;
  sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending));
  const params = new URLSearchParams({
    response_type: 'code',
    client_id: config.userPoolClientId,
    redirect_uri: config.redirectUri,
    scope: config.scope,
    state: pending.state,
    code_challenge: await codeChallenge(pending.verifier),
    code_challenge_method: 'S256',
  });
  location.assign(`${config.hostedUiDomain}/oauth2/authorize?${params.toString()}`);
}

/** Whether this address is the hosted UI's answer (a code, or an error). */
export const isSignInAnswer = (search: URLSearchParams) => search.has('code') || search.has('error');

const AUTHORIZE_ERRORS: Record<string, string> = {
  access_denied: 'Sign-in was cancelled or refused, so you are not signed in.',
  unauthorized_client: 'This web app is not allowed to sign people in with the sign-in service. Tell your administrator.',
  invalid_request: 'The sign-in service could not understand the request from this web app. Tell your administrator.',
  invalid_scope: 'The sign-in service refused what this web app asked for. Tell your administrator.',
  unsupported_response_type: 'The sign-in service refused what this web app asked for. Tell your administrator.',
  server_error: 'The sign-in service had a problem. Wait a moment and sign in again.',
  temporarily_unavailable: 'The sign-in service is busy or down. Wait a moment and sign in again.',
};

/** What an OAuth error code looks like (RFC 6749 codes are lower-case words joined by underscores). */
const OAUTH_ERROR_CODE = /^[a-z][a-z_]{0,63}$/;

// React may run an effect twice (StrictMode in development): both runs share one exchange per code.
const exchanges = new Map<string, Promise<HostedUiTokens & { next?: string }>>();

/**
 * Back from the hosted UI with `?code=&state=` (or `?error=`): check the state is the one this tab
 * sent, and swap the code and verifier for tokens. The pending sign-in is used up either way.
 */
export function completeSignIn(config: HostedUiConfig, search: URLSearchParams): Promise<HostedUiTokens & { next?: string }> {
  const code = search.get('code') ?? '';
  const running = exchanges.get(code);
  if (code && running) return running;
  const exchange = exchangeCode(config, search);
  if (code) exchanges.set(code, exchange);
  return exchange;
}

async function exchangeCode(config: HostedUiConfig, search: URLSearchParams): Promise<HostedUiTokens & { next?: string }> {
  let pending: Partial<PendingSignIn> = {};
  try {
    pending = JSON.parse(sessionStorage.getItem(PENDING_KEY) ?? '{}') as Partial<PendingSignIn>;
  } catch {
    // Unreadable: treated as no sign-in started here.
  }
  sessionStorage.removeItem(PENDING_KEY);
  const error = search.get('error');
  if (error) {
    if (Object.hasOwn(AUTHORIZE_ERRORS, error)) throw new SignInError(AUTHORIZE_ERRORS[error] as string);
    // Anyone can send a link to /sign-in?error=...: only a code-shaped value is named, never free text.
    throw new SignInError(OAUTH_ERROR_CODE.test(error) ? `The sign-in service did not sign you in (${error}). Sign in again.` : 'The sign-in service did not sign you in. Sign in again.');
  }
  if (!pending.state || !pending.verifier || pending.state !== search.get('state')) {
    throw new SignInError('This sign-in did not start in this browser tab, or has already been used, so it was refused to keep your account safe. Sign in again.');
  }
  const tokens = await tokenRequest(config, {
    grant_type: 'authorization_code',
    client_id: config.userPoolClientId,
    code: search.get('code') ?? '',
    redirect_uri: config.redirectUri,
    code_verifier: pending.verifier,
  });
  return pending.next ? { ...tokens, next: pending.next } : tokens;
}

/** A new ID token from the refresh token (Cognito keeps the refresh token the same). */
export async function refreshTokens(config: HostedUiConfig, refreshToken: string): Promise<HostedUiTokens> {
  const tokens = await tokenRequest(config, { grant_type: 'refresh_token', client_id: config.userPoolClientId, refresh_token: refreshToken });
  return { idToken: tokens.idToken, refreshToken: tokens.refreshToken ?? refreshToken };
}

async function tokenRequest(config: HostedUiConfig, form: Record<string, string>): Promise<HostedUiTokens> {
  let response: Response;
  try {
    response = await fetch(`${config.hostedUiDomain}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams(form).toString(),
    });
  } catch {
    throw new SignInError('The sign-in service could not be reached. Check your connection and sign in again.');
  }
  let body: { id_token?: unknown; refresh_token?: unknown; error?: unknown } = {};
  try {
    body = (await response.json()) as typeof body;
  } catch {
    // Not JSON: the status says enough.
  }
  if (!response.ok) {
    // invalid_grant: the code expired, was used already, or the verifier does not match it.
    if (body.error === 'invalid_grant') throw new SignInError('The sign-in has expired or was already used. Sign in again.');
    throw new SignInError(`The sign-in service refused to complete your sign-in (${typeof body.error === 'string' ? body.error : `status ${response.status}`}). Sign in again.`);
  }
  if (typeof body.id_token !== 'string') throw new SignInError('The sign-in service answered without an ID token. Sign in again, and tell your administrator if it keeps happening.');
  return { idToken: body.id_token, ...(typeof body.refresh_token === 'string' ? { refreshToken: body.refresh_token } : {}) };
}

/**
 * Revoke the refresh token at sign-out (the client has token revocation on), so a copy of it left
 * behind is worthless. Best effort: signing out goes on whatever the answer, and the request counts
 * even where the browser may not read the answer.
 */
export async function revokeRefreshToken(config: HostedUiConfig, refreshToken: string): Promise<void> {
  try {
    await fetch(`${config.hostedUiDomain}/oauth2/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: refreshToken, client_id: config.userPoolClientId }).toString(),
      signal: AbortSignal.timeout(5000),
    });
  } catch {
    // Unreachable or slow: the token still expires within its 12 hours, and this tab forgets it now.
  }
}

/** The hosted UI's sign-out: it ends the hosted UI's own session too, then returns to the app. */
export function signOutUrl(config: HostedUiConfig): string {
  return `${config.hostedUiDomain}/logout?${new URLSearchParams({ client_id: config.userPoolClientId, logout_uri: config.logoutUri }).toString()}`;
}
