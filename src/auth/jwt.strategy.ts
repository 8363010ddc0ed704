import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { Strategy } from 'passport-jwt';
import type { AuthUser } from '../common/auth-user';
import { AccessTokenVerifier, MAX_ACCESS_TOKEN_LENGTH } from './access-token.verifier';
import { ACCESS_TOKEN_ALGORITHM } from './signing-keys';

const BEARER = /^Bearer[ \t]+([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)[ \t]*$/i;
const VERIFIER = Symbol('portal-api.accessTokenVerifier');

type RequestWithVerifier = FastifyRequest & { [VERIFIER]?: AccessTokenVerifier };

/** The guard of each app puts that app's verifier on the request before passport runs. */
export function attachVerifier(req: FastifyRequest, verifier: AccessTokenVerifier): void {
  (req as RequestWithVerifier)[VERIFIER] = verifier;
}

function verifierOf(req: FastifyRequest): AccessTokenVerifier {
  const verifier = (req as RequestWithVerifier)[VERIFIER];
  // Only reachable if passport were run without JwtAuthGuard: fail closed.
  if (!verifier) throw new Error('no access token verifier on the request');
  return verifier;
}

/** `Authorization: Bearer <compact JWS>`; null for anything else (the guard says which 401). */
export function bearerToken(req: FastifyRequest): string | null {
  const header = req.headers.authorization;
  if (typeof header !== 'string' || header.length > MAX_ACCESS_TOKEN_LENGTH + 20) return null;
  const token = BEARER.exec(header)?.[1];
  return token && token.length <= MAX_ACCESS_TOKEN_LENGTH ? token : null;
}

/**
 * The passport-jwt strategy behind AuthGuard('jwt'). passport registers strategies by name in
 * one process-wide registry, so the last app constructed owns the name 'jwt': this class keeps
 * no app state. The signing key comes from `secretOrKeyProvider`, which asks the verifier the
 * guard attached to the request (this app's key set, by `kid`), and `validate` asks the same
 * verifier for the claims and the caller. The options below are the same for every app: the
 * algorithm is pinned and `exp` is enforced by jsonwebtoken; issuer and audience are checked
 * by the verifier, since they are per app.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor() {
    super({
      jwtFromRequest: bearerToken,
      secretOrKeyProvider: (
        req: FastifyRequest,
        rawToken: string,
        done: (err: unknown, key?: string | Buffer) => void,
      ) => {
        try {
          // A KeyObject: jsonwebtoken takes it as it is (the typings only name strings).
          done(null, verifierOf(req).keyFor(rawToken) as unknown as Buffer);
        } catch (err) {
          done(err);
        }
      },
      algorithms: [ACCESS_TOKEN_ALGORITHM],
      ignoreExpiration: false,
      passReqToCallback: true,
    });
  }

  validate(req: FastifyRequest, payload: unknown): Promise<AuthUser> {
    return verifierOf(req).authenticate(payload);
  }
}
