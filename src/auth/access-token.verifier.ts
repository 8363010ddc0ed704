import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { isUUID } from 'class-validator';
import type { KeyObject } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { AuthUser } from '../common/auth-user';
import { AppError } from '../common/errors/app-error';
import { AppConfig } from '../config/app-config';
import { ActiveStatus, Organization, Role, UserState } from '../users/user.enums';
import { ACCESS_TOKEN_TYP } from './jwt-claims';
import { ACCESS_TOKEN_ALGORITHM } from './signing-keys';

/** Longer tokens are refused before any parsing (ours are ~600 characters). */
export const MAX_ACCESS_TOKEN_LENGTH = 4096;

/**
 * The caller and its session in one fixed, parameterized statement (every authenticated
 * request runs it): the session must be live and the user must still exist. Judged by the
 * database's clock, as the token's `exp` is by this process's: real time, both (the Clock
 * injectable, which tests move, governs sign-in and refresh).
 */
const CALLER_BY_SESSION = `SELECT s.id AS session_id, u.id, u.email, u.role, u.organization, u.state, u.active, u.token_version
FROM sessions s JOIN users u ON u.id = s.user_id
WHERE s.id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL
  AND s.expires_at > now() AND s.last_used_at > now() - $3 * interval '1 second'`;
/** The same re-read for many sessions at once (the periodic check of open streams). */
const CALLERS_BY_SESSIONS = `SELECT s.id AS session_id, u.id, u.email, u.role, u.organization, u.state, u.active, u.token_version
FROM sessions s JOIN users u ON u.id = s.user_id
WHERE s.id = ANY($1::uuid[]) AND s.revoked_at IS NULL
  AND s.expires_at > now() AND s.last_used_at > now() - $2 * interval '1 second'`;

interface CallerRow {
  session_id: string;
  id: string;
  email: string;
  role: Role;
  organization: Organization | null;
  state: UserState;
  active: ActiveStatus;
  token_version: number;
}

export function invalidToken(detail = 'The token is not valid.'): AppError {
  return new AppError(401, 'invalid_token', 'Unauthorized', detail, undefined, {
    'WWW-Authenticate': 'Bearer error="invalid_token"',
  });
}

export function tokenExpired(): AppError {
  return new AppError(
    401,
    'token_expired',
    'Unauthorized',
    'The token has expired; refresh it or sign in again.',
    undefined,
    { 'WWW-Authenticate': 'Bearer error="invalid_token", error_description="expired"' },
  );
}

/**
 * This app's half of bearer checking. passport keeps one strategy per name for the whole
 * process, so JwtStrategy holds no state of its own: the guard hangs this verifier (this app's
 * key set, issuer, audience and database) on the request, and the strategy asks it for the
 * key of a token and for the caller behind valid claims. Two apps in one process never verify
 * with each other's keys.
 */
@Injectable()
export class AccessTokenVerifier {
  constructor(
    private readonly config: AppConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  /**
   * The public key for a token, chosen by its `kid` after the header is checked: `alg` ES256
   * and `typ` at+jwt (RFC 8725 3.1 and 3.11). jsonwebtoken then checks the signature with
   * the algorithm pinned, and `exp`.
   */
  keyFor(rawToken: string): KeyObject {
    const header = decodeHeader(rawToken);
    if (!header || header.alg !== ACCESS_TOKEN_ALGORITHM) throw invalidToken();
    const typ = typeof header.typ === 'string' ? header.typ.toLowerCase() : undefined;
    if (typ !== ACCESS_TOKEN_TYP && typ !== `application/${ACCESS_TOKEN_TYP}`) {
      throw invalidToken();
    }
    const key =
      typeof header.kid === 'string'
        ? this.config.jwtSigningKeys.verificationKey(header.kid)
        : undefined;
    if (!key) throw invalidToken('The token was signed with a key this server does not know.');
    return key;
  }

  /**
   * After the signature: the claims this app requires, then the user and the session re-read,
   * so a revoked or expired session, a deleted or deactivated user, or a bumped token_version
   * is refused at once.
   */
  async authenticate(payload: unknown): Promise<AuthUser> {
    if (typeof payload !== 'object' || payload === null) throw invalidToken();
    const c = payload as Record<string, unknown>;
    const audience = Array.isArray(c.aud) ? c.aud : [c.aud];
    if (
      c.iss !== this.config.jwtIssuer ||
      !audience.includes(this.config.jwtAudience) ||
      typeof c.exp !== 'number' ||
      typeof c.iat !== 'number' ||
      typeof c.jti !== 'string' ||
      typeof c.token_version !== 'number' ||
      typeof c.sub !== 'string' ||
      !isUUID(c.sub) ||
      typeof c.sid !== 'string' ||
      !isUUID(c.sid)
    ) {
      throw invalidToken();
    }
    const rows: CallerRow[] = await this.dataSource.query(CALLER_BY_SESSION, [
      c.sid,
      c.sub,
      this.config.refreshIdleSeconds,
    ]);
    return callerFrom(rows[0], c.token_version);
  }

  /**
   * The check authenticate() makes after the signature, again, for callers admitted earlier
   * (open streams): each comes back as the caller re-read now, or as the 401 a new request with
   * its token would get (session ended, user deleted or not ACTIVE, token_version bumped). One
   * statement for all.
   */
  async revalidate(
    callers: ReadonlyArray<Pick<AuthUser, 'id' | 'sessionId' | 'tokenVersion'>>,
  ): Promise<Array<AuthUser | AppError>> {
    if (callers.length === 0) return [];
    const sessionIds = [...new Set(callers.map((c) => c.sessionId))];
    const rows: CallerRow[] = await this.dataSource.query(CALLERS_BY_SESSIONS, [
      sessionIds,
      this.config.refreshIdleSeconds,
    ]);
    const bySession = new Map(rows.map((r) => [r.session_id, r]));
    return callers.map((c) => {
      const row = bySession.get(c.sessionId);
      try {
        return callerFrom(row?.id === c.id ? row : undefined, c.tokenVersion);
      } catch (err) {
        return err as AppError;
      }
    });
  }
}

/** The caller behind a session row read for a token of this token_version, or the 401. */
function callerFrom(row: CallerRow | undefined, tokenVersion: number): AuthUser {
  if (!row || row.token_version !== tokenVersion) {
    throw invalidToken('The session has ended; sign in again.');
  }
  if (row.active !== ActiveStatus.ACTIVE) {
    throw AppError.unauthorized('This account is not active.', 'account_inactive');
  }
  return {
    id: row.id,
    email: row.email,
    role: row.role,
    organization: row.organization,
    state: row.state,
    active: row.active,
    sessionId: row.session_id,
    tokenVersion: row.token_version,
  };
}

/** The JOSE header of a compact JWS, or undefined when it is not one. */
function decodeHeader(token: string): Record<string, unknown> | undefined {
  const dot = token.indexOf('.');
  if (dot <= 0) return undefined;
  try {
    const header: unknown = JSON.parse(Buffer.from(token.slice(0, dot), 'base64url').toString());
    return typeof header === 'object' && header !== null && !Array.isArray(header)
      ? (header as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
