import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { Clock } from '../common/clock';
import { AppError } from '../common/errors/app-error';
import { User } from '../users/entities/user.entity';
import { ActiveStatus } from '../users/user.enums';
import type { AuthUser } from '../common/auth-user';
import type { ClientInfo } from '../common/client-info';
import { SessionsService } from '../sessions/sessions.service';
import { invalidCredentials, LoginLockout } from './login-lockout.service';
import { MicrosoftAccounts } from './microsoft-accounts.service';
import { MicrosoftIdTokenVerifier } from './microsoft-id-token.verifier';
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
    private readonly microsoftTokens: MicrosoftIdTokenVerifier,
    private readonly microsoftAccounts: MicrosoftAccounts,
    private readonly audit: AuditService,
    private readonly clock: Clock,
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
   * POST /auth/microsoft: the ID token is verified locally (MicrosoftIdTokenVerifier), the
   * identity (tid, oid) is mapped to an account (MicrosoftAccounts: found, linked or created),
   * then the same lock and active rules as a password sign-in.
   */
  async signInWithMicrosoft(idToken: string, client: ClientInfo): Promise<TokenPair> {
    const identity = await this.microsoftTokens.verify(idToken);
    const now = this.clock.now();
    const user = await this.microsoftAccounts.resolve(identity, now);
    this.lockout.assertNotLocked(user.lockedUntil, now);
    return this.completeSignIn(user, now, client);
  }

  /**
   * The end of every sign-in method, once it has proven who the user is and checked the lock:
   * the active rule, the success recorded (failure count cleared, last_login_at), a new session,
   * and its token pair. Any state (PENDING, REJECTED) may sign in; ApprovalGuard limits what
   * such a token reaches.
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
}
