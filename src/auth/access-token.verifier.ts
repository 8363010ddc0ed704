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
    const user = rows[0];
    if (!user || user.token_version !== claims.token_version) {
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
    };
  }
}
