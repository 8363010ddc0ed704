import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { Clock } from '../common/clock';
import { AppError } from '../common/errors/app-error';
import { User } from '../users/entities/user.entity';
import { ActiveStatus } from '../users/user.enums';
import type { AuthUser } from '../common/auth-user';
import { invalidCredentials, LoginLockout } from './login-lockout.service';
import { MicrosoftAccounts } from './microsoft-accounts.service';
import { MicrosoftIdTokenVerifier } from './microsoft-id-token.verifier';
import { PasswordHasher } from './password-hasher';
import { passwordPolicyErrors } from './password-policy';
import { TokenResponse, TokenService } from './token.service';

type SignInCandidate = Pick<User, 'id' | 'active' | 'lockedUntil'>;

@Injectable()
export class AuthService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly hasher: PasswordHasher,
    private readonly tokens: TokenService,
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
  async signInWithPassword(email: string, password: string): Promise<TokenResponse> {
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
    return this.completeSignIn(user, now);
  }

  /**
   * POST /auth/microsoft: the ID token is verified locally (MicrosoftIdTokenVerifier), the
   * identity (tid, oid) is mapped to an account (MicrosoftAccounts: found, linked or created),
   * then the same lock and active rules as a password sign-in.
   */
  async signInWithMicrosoft(idToken: string): Promise<TokenResponse> {
    const identity = await this.microsoftTokens.verify(idToken);
    const now = this.clock.now();
    const user = await this.microsoftAccounts.resolve(identity, now);
    this.lockout.assertNotLocked(user.lockedUntil, now);
    return this.completeSignIn(user, now);
  }

  /** POST /auth/password: 400 weak, 401 wrong current; old tokens stop working at once. */
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
      select: { id: true, lockedUntil: true, passwordHash: true, tokenVersion: true },
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
      const rows: Array<{ token_version: number }> = await manager.query(
        `WITH updated AS (
           UPDATE users SET password_hash = $2, token_version = token_version + 1,
             failed_login_count = 0, locked_until = NULL, updated_at = $3
           WHERE id = $1
           RETURNING token_version
         )
         SELECT token_version FROM updated`,
        [user.id, passwordHash, now],
      );
      if (rows.length === 0) {
        throw AppError.unauthorized('The token is no longer valid.', 'invalid_token');
      }
      await this.audit.record(
        {
          actor: caller,
          action: 'user.password_change',
          targetType: 'user',
          targetId: caller.id,
          before: { token_version: user.tokenVersion },
          after: { token_version: rows[0].token_version },
        },
        manager,
      );
    });
  }

  /**
   * Every sign-in ends here, whatever proved the identity (password, Microsoft): the active
   * rule, then the token. Any state (PENDING, REJECTED) may sign in; ApprovalGuard limits
   * what such a token reaches.
   */
  private async completeSignIn(user: SignInCandidate, now: Date): Promise<TokenResponse> {
    if (user.active !== ActiveStatus.ACTIVE) {
      throw AppError.unauthorized('This account is not active.', 'account_inactive');
    }
    return this.tokens.issue(await this.lockout.recordSuccess(user.id, now));
  }
}
