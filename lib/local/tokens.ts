import { localSecret } from './secrets.ts';
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { GROUP_OF_ROLE, type Role } from '../api/routes.ts';

/**
 * Tokens for the embedded stack, shaped like Cognito's (sub, name, cognito:groups,
 * custom:providerId). HS256 with a secret kept in the data directory, so `wraparound token`
 * prints tokens the running stack accepts. On AWS, Cognito and the JWT authorizer do this instead.
 */
export const LOCAL_ISSUER = 'wraparound-local';
export const LOCAL_AUDIENCE = 'wraparound';
const ALGORITHM = 'HS256';
const MAX_TOKEN_AGE = '24h';
const MAX_TOKEN_AGE_SECONDS = 24 * 3600;
/** Verified tokens remembered (oldest dropped first): a client sends the same token with every request. */
const VERIFIED_TOKENS_KEPT = 1000;

export interface TokenRequest {
  role: Role;
  providerId?: string;
  sub?: string;
  name?: string;
  ttlSeconds?: number;
}

export class LocalTokens {
  readonly secret: Uint8Array;
  /**
   * Claims of tokens whose signature, issuer and audience were verified, by the whole token text (so
   * only that exact token, signature and all, is found). Checking a signature is most of a
   * verification's cost; the time checks are made again on every use. Frozen: every request shares them.
   */
  private readonly verified = new Map<string, Record<string, unknown>>();
  constructor(secret: Uint8Array) {
    this.secret = secret;
  }

  static async forDataDir(dataDir: string | undefined): Promise<LocalTokens> {
    return new LocalTokens(await localSecret(dataDir, 'jwt-secret'));
  }

  async issue(request: TokenRequest): Promise<string> {
    const sub = request.sub ?? `demo-${request.role}${request.providerId ? `-${request.providerId}` : ''}`;
    return new SignJWT({
      // No name asked for, no name claim: as a Cognito user without the `name` attribute, not her id passed off as a name.
      ...(request.name ? { name: request.name } : {}),
      'cognito:groups': [GROUP_OF_ROLE[request.role]],
      ...(request.providerId ? { 'custom:providerId': request.providerId } : {}),
    })
      .setProtectedHeader({ alg: ALGORITHM })
      .setSubject(sub)
      .setIssuer(LOCAL_ISSUER)
      .setAudience(LOCAL_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(`${request.ttlSeconds ?? 12 * 3600}s`)
      .sign(this.secret);
  }

  /** The claims of a valid token, or undefined: wrong algorithm, signature, issuer, audience or expiry. */
  async verify(token: string): Promise<Record<string, unknown> | undefined> {
    const known = this.verified.get(token);
    if (known) {
      if (stillValid(known, Math.floor(Date.now() / 1000))) return known;
      this.verified.delete(token);
    }
    const claims = await this.verifyToken(token);
    if (claims) {
      this.verified.set(token, deepFreeze(claims));
      if (this.verified.size > VERIFIED_TOKENS_KEPT) this.verified.delete(this.verified.keys().next().value as string);
    }
    return claims;
  }

  private async verifyToken(token: string): Promise<Record<string, unknown> | undefined> {
    try {
      const { payload } = await jwtVerify(token, this.secret, {
        algorithms: [ALGORITHM],
        issuer: LOCAL_ISSUER,
        audience: LOCAL_AUDIENCE,
        requiredClaims: ['exp', 'iat', 'sub'],
        // A token issued more than a day ago is refused whatever expiry it claims.
        maxTokenAge: MAX_TOKEN_AGE,
      });
      return payload as Record<string, unknown>;
    } catch (error) {
      if (error instanceof joseErrors.JOSEError) return undefined;
      throw error;
    }
  }
}

/** jose's time checks (no clock tolerance), for claims it accepted before: not expired, not over a day old, not yet to come. */
function stillValid(claims: Record<string, unknown>, now: number): boolean {
  const { exp, iat, nbf } = claims as { exp: number; iat: number; nbf?: number };
  return exp > now && now - iat <= MAX_TOKEN_AGE_SECONDS && now - iat >= 0 && (nbf === undefined || nbf <= now);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}
