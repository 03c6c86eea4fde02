import { localSecret } from './secrets.ts';
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { GROUP_OF_ROLE } from '../api/auth.ts';
import type { Role } from '../api/routes.ts';

/**
 * Tokens for the embedded stack, shaped like Cognito's (sub, name, cognito:groups,
 * custom:providerId). HS256 with a secret kept in the data directory, so `wraparound token`
 * prints tokens the running stack accepts. On AWS, Cognito and the JWT authorizer do this instead.
 */
export const LOCAL_ISSUER = 'wraparound-local';
export const LOCAL_AUDIENCE = 'wraparound';
const ALGORITHM = 'HS256';
const MAX_TOKEN_AGE = '24h';

export interface TokenRequest {
  role: Role;
  providerId?: string;
  sub?: string;
  name?: string;
  ttlSeconds?: number;
}

export class LocalTokens {
  readonly secret: Uint8Array;
  constructor(secret: Uint8Array) {
    this.secret = secret;
  }

  static async forDataDir(dataDir: string | undefined): Promise<LocalTokens> {
    return new LocalTokens(await localSecret(dataDir, 'jwt-secret'));
  }

  async issue(request: TokenRequest): Promise<string> {
    const sub = request.sub ?? `demo-${request.role}${request.providerId ? `-${request.providerId}` : ''}`;
    return new SignJWT({
      name: request.name ?? sub,
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
