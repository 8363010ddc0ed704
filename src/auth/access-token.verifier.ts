import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { InjectDataSource } from '@nestjs/typeorm';
import { isUUID } from 'class-validator';
import { DataSource } from 'typeorm';
import { AppError } from '../common/errors/app-error';
import { ActiveStatus, Organization, Role, UserState } from '../users/user.enums';
import type { AuthUser } from '../common/auth-user';
import type { JwtClaims } from './jwt-claims';

export const JWT_ALGORITHM = 'HS256';

const USER_BY_ID =
  'SELECT id, email, role, organization, active, state, token_version FROM users WHERE id = $1';
/** The same re-read for many callers at once (the periodic check of open streams). */
const USERS_BY_IDS =
  'SELECT id, email, role, organization, active, state, token_version FROM users WHERE id = ANY($1::uuid[])';

interface UserRow {
  id: string;
  email: string;
  role: Role;
  organization: Organization | null;
  active: ActiveStatus;
  state: UserState;
  token_version: number;
}

/**
 * Verifies a bearer token (algorithm pinned, exp required and enforced) and re-reads the user,
 * so a deleted, disabled or re-keyed user (password or role change) is refused at once.
 *
 * Not a passport strategy on purpose: passport keeps strategies in a process-wide registry,
 * so two app instances in one process (tests with different secrets) would share one.
 */
@Injectable()
export class AccessTokenVerifier {
  constructor(
    private readonly jwt: JwtService,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  async verify(token: string): Promise<AuthUser> {
    let claims: JwtClaims;
    try {
      claims = await this.jwt.verifyAsync<JwtClaims>(token, {
        algorithms: [JWT_ALGORITHM],
        ignoreExpiration: false,
      });
    } catch (err) {
      if ((err as Error).name === 'TokenExpiredError') {
        throw AppError.unauthorized('The token has expired; sign in again.', 'token_expired');
      }
      throw AppError.unauthorized('The token is not valid.', 'invalid_token');
    }
    if (
      typeof claims.exp !== 'number' ||
      typeof claims.sub !== 'string' ||
      !isUUID(claims.sub) ||
      typeof claims.token_version !== 'number'
    ) {
      throw AppError.unauthorized('The token is not valid.', 'invalid_token');
    }
    // Every authenticated request runs this: one fixed, parameterized statement rather than a
    // query built by the ORM each time.
    const rows: UserRow[] = await this.dataSource.query(USER_BY_ID, [claims.sub]);
    return callerFrom(rows[0], claims.token_version);
  }

  /**
   * The check verify() makes after the signature, again, for callers admitted earlier (open
   * streams): each comes back as the caller re-read now, or as the 401 a new request with its
   * token would get (user deleted or not ACTIVE, token_version bumped). One statement for all.
   */
  async revalidate(
    callers: ReadonlyArray<Pick<AuthUser, 'id' | 'tokenVersion'>>,
  ): Promise<Array<AuthUser | AppError>> {
    if (callers.length === 0) return [];
    const ids = [...new Set(callers.map((c) => c.id))];
    const rows: UserRow[] = await this.dataSource.query(USERS_BY_IDS, [ids]);
    const byId = new Map(rows.map((r) => [r.id, r]));
    return callers.map((c) => {
      try {
        return callerFrom(byId.get(c.id), c.tokenVersion);
      } catch (err) {
        return err as AppError;
      }
    });
  }
}

/** The caller behind a user row read for a token of this token_version, or the 401. */
function callerFrom(user: UserRow | undefined, tokenVersion: number): AuthUser {
  if (!user || user.token_version !== tokenVersion) {
    throw AppError.unauthorized('The token is no longer valid; sign in again.', 'invalid_token');
  }
  if (user.active !== ActiveStatus.ACTIVE) {
    throw AppError.unauthorized('This account is not active.', 'account_inactive');
  }
  return {
    id: user.id,
    email: user.email,
    role: user.role,
    organization: user.organization,
    active: user.active,
    state: user.state,
    tokenVersion: user.token_version,
  };
}
