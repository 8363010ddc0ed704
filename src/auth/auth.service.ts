import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { Clock } from '../common/clock';
import { AppError } from '../common/errors/app-error';
import { AppConfig } from '../config/app-config';
import { User } from '../users/entities/user.entity';
import { ActiveStatus, Role, UserState } from '../users/user.enums';
import type { AuthUser } from '../common/auth-user';
import type { ClientInfo } from '../common/client-info';
import { SessionsService } from '../sessions/sessions.service';
import { invalidCredentials, LoginLockout } from './login-lockout.service';
import { MicrosoftGraphClient } from './microsoft-graph.client';
import {
  isEmailDomainAllowed,
  MicrosoftProfile,
  nameForProfile,
  raFromEmail,
} from './microsoft-profile';
import { PasswordHasher } from './password-hasher';
import { passwordPolicyErrors } from './password-policy';
import { TokenPair, TokenService } from './token.service';

/** A user whose identity a sign-in method has proven. */
export type SignInCandidate = Pick<User, 'id' | 'active' | 'lockedUntil'>;

@Injectable()
export class AuthService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly hasher: PasswordHasher,
    private readonly tokens: TokenService,
    private readonly sessions: SessionsService,
    private readonly lockout: LoginLockout,
    private readonly graph: MicrosoftGraphClient,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly config: AppConfig,
  ) {}

  /**
   * POST /auth/token. Unknown email, wrong password and no password all answer the same 401
   * after the same bcrypt work; a locked account answers 429 whatever the password; an
   * inactive account is only revealed (401 account_inactive) once the password is right.
   */
  async signInWithPassword(
    email: string,
    password: string,
    client: ClientInfo,
  ): Promise<TokenPair> {
    const now = this.clock.now();
    const user = await this.dataSource.getRepository(User).findOne({
      where: { email: email.trim().toLowerCase() },
      select: { id: true, active: true, lockedUntil: true, passwordHash: true },
    });
    if (!user) {
      await this.hasher.verify(password, null);
      throw invalidCredentials();
    }
    this.lockout.assertNotLocked(user.lockedUntil, now);
    if (!(await this.hasher.verify(password, user.passwordHash))) {
      await this.lockout.recordFailure(user.id, now);
      throw invalidCredentials();
    }
    return this.completeSignIn(user, now, client);
  }

  /**
   * POST /auth/microsoft: Graph vouches for the token's owner; the user is found by email
   * (created on first sign-in), then the same lock and active rules as a password sign-in.
   */
  async signInWithMicrosoft(accessToken: string, client: ClientInfo): Promise<TokenPair> {
    const profile = await this.graph.me(accessToken);
    if (!isEmailDomainAllowed(profile.email, this.config.allowedEmailDomains)) {
      throw AppError.forbidden(
        'Accounts of this email domain may not sign in with Microsoft.',
        'email_domain_not_allowed',
      );
    }
    const now = this.clock.now();
    const user = await this.findOrCreateMicrosoftUser(profile, now);
    this.lockout.assertNotLocked(user.lockedUntil, now);
    return this.completeSignIn(user, now, client);
  }

  /**
   * The end of every sign-in method, once it has proven who the user is and checked the lock:
   * the active rule, the success recorded (failure count cleared, last_login_at), a new session,
   * and its token pair.
   */
  async completeSignIn(user: SignInCandidate, now: Date, client: ClientInfo): Promise<TokenPair> {
    if (user.active !== ActiveStatus.ACTIVE) {
      throw AppError.unauthorized('This account is not active.', 'account_inactive');
    }
    const signedIn = await this.lockout.recordSuccess(user.id, now);
    const session = await this.sessions.start(signedIn.id, client);
    return this.tokens.pair(signedIn, session);
  }

  /** POST /auth/refresh: spends the refresh token, answers the next pair of the same session. */
  async refresh(refreshToken: string, client: ClientInfo): Promise<TokenPair> {
    const rotated = await this.sessions.rotate(refreshToken, client);
    return this.tokens.pair(rotated.user, rotated);
  }

  /**
   * POST /auth/logout: ends the session of the refresh token when one is given, else the
   * session of the bearer token.
   */
  async logout(
    refreshToken: string | undefined,
    bearer: { user?: AuthUser; error?: AppError },
    client: ClientInfo,
  ): Promise<void> {
    if (refreshToken !== undefined) {
      await this.sessions.endByRefreshToken(refreshToken, client);
      return;
    }
    if (!bearer.user) throw bearer.error ?? AppError.unauthorized('A bearer token is required.');
    await this.sessions.end(bearer.user.id, bearer.user.sessionId);
  }

  /**
   * POST /auth/password: 400 weak, 401 wrong current. Every other session of the user ends at
   * once; the caller's own keeps working.
   */
  async changePassword(
    caller: AuthUser,
    currentPassword: string,
    newPassword: string,
  ): Promise<void> {
    const weak = passwordPolicyErrors(newPassword, { email: caller.email, currentPassword });
    if (weak.length > 0) {
      throw AppError.badRequest('The new password is too weak.', weak, 'weak_password');
    }
    const now = this.clock.now();
    const user = await this.dataSource.getRepository(User).findOne({
      where: { id: caller.id },
      select: { id: true, lockedUntil: true, passwordHash: true },
    });
    if (!user) throw AppError.unauthorized('The token is no longer valid.', 'invalid_token');
    // A stolen token must not become a way around the sign-in lockout.
    this.lockout.assertNotLocked(user.lockedUntil, now);
    if (!(await this.hasher.verify(currentPassword, user.passwordHash))) {
      await this.lockout.recordFailure(user.id, now);
      throw AppError.unauthorized(
        'The current password is not correct.',
        'current_password_incorrect',
      );
    }
    const passwordHash = await this.hasher.hash(newPassword);
    await this.dataSource.transaction(async (manager) => {
      const rows: Array<{ id: string }> = await manager.query(
        `WITH updated AS (
           UPDATE users SET password_hash = $2,
             failed_login_count = 0, locked_until = NULL, updated_at = $3
           WHERE id = $1
           RETURNING id
         )
         SELECT id FROM updated`,
        [user.id, passwordHash, now],
      );
      if (rows.length === 0) {
        throw AppError.unauthorized('The token is no longer valid.', 'invalid_token');
      }
      const ended = await this.sessions.endOthers(manager, caller.id, caller.sessionId);
      await this.audit.record(
        {
          actor: caller,
          action: 'user.password_change',
          targetType: 'user',
          targetId: caller.id,
          after: { other_sessions_ended: ended },
        },
        manager,
      );
    });
  }

  /**
   * One transaction, safe when two first sign-ins race: the insert does nothing on any
   * conflict (email or Microsoft id), and the row is then read back by email. A Microsoft id
   * still linked to another address (the person's address changed) moves to this one.
   */
  private async findOrCreateMicrosoftUser(
    profile: MicrosoftProfile,
    now: Date,
  ): Promise<SignInCandidate> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query(
        `UPDATE users SET microsoft_id = NULL, updated_at = $3
         WHERE microsoft_id = $1 AND email <> $2`,
        [profile.id, profile.email, now],
      );
      const inserted: Array<{ id: string }> = await manager.query(
        `INSERT INTO users (name, email, ra, role, state, active, microsoft_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT DO NOTHING
         RETURNING id`,
        [
          nameForProfile(profile),
          profile.email,
          raFromEmail(profile.email),
          Role.USER,
          UserState.PENDING,
          ActiveStatus.ACTIVE,
          profile.id,
        ],
      );
      if (inserted.length === 0) {
        await manager.query(
          `UPDATE users SET microsoft_id = $1, updated_at = $3
           WHERE email = $2 AND microsoft_id IS DISTINCT FROM $1`,
          [profile.id, profile.email, now],
        );
      } else {
        await this.audit.record(
          {
            actor: { id: inserted[0].id, email: profile.email },
            action: 'user.create',
            targetType: 'user',
            targetId: inserted[0].id,
            after: { email: profile.email, role: Role.USER, source: 'microsoft' },
          },
          manager,
        );
      }
      const user = await manager.getRepository(User).findOne({
        where: { email: profile.email },
        select: { id: true, active: true, lockedUntil: true },
      });
      if (!user) {
        // Only if the row vanished between the statements above.
        throw AppError.unavailable('Sign-in could not be completed; try again.', 'try_again');
      }
      return user;
    });
  }
}
