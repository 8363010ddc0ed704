import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppError } from '../common/errors/app-error';
import { AppConfig } from '../config/app-config';
import type { User } from '../users/entities/user.entity';

export type SignedInUser = Pick<User, 'id' | 'role' | 'organization' | 'tokenVersion'>;

/**
 * Failed-login counting and account locks, kept in the users row (failed_login_count,
 * locked_until) so they hold across replicas. Every change is one UPDATE ... RETURNING whose
 * WHERE re-checks the lock: concurrent requests are serialized by the row lock and each sees
 * the count the previous one left, so N failures in parallel count exactly N.
 *
 * "now" always comes from the caller (the injected Clock), never from the database clock.
 */
@Injectable()
export class LoginLockout {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly config: AppConfig,
  ) {}

  /** 429 with Retry-After when the account is locked at `now`. */
  assertNotLocked(lockedUntil: Date | null, now: Date): void {
    if (lockedUntil && lockedUntil.getTime() > now.getTime()) {
      throw lockedError(lockedUntil, now);
    }
  }

  /**
   * Counts one failed attempt. The LOGIN_MAX_FAILURES-th failure in a row locks the account
   * for LOGIN_LOCK_DURATION; after an expired lock the count starts again from one.
   * Throws 429 when the account was already locked (the attempt is then not counted).
   */
  async recordFailure(userId: string, now: Date): Promise<void> {
    const rows: unknown[] = await this.dataSource.query(
      `WITH updated AS (
         UPDATE users SET
           failed_login_count = CASE WHEN locked_until IS NULL THEN failed_login_count + 1 ELSE 1 END,
           locked_until = CASE
             WHEN (CASE WHEN locked_until IS NULL THEN failed_login_count + 1 ELSE 1 END) >= $3
             THEN $2::timestamptz + $4 * interval '1 second'
           END
         WHERE id = $1 AND (locked_until IS NULL OR locked_until <= $2::timestamptz)
         RETURNING id
       )
       SELECT id FROM updated`,
      [userId, now, this.config.loginMaxFailures, this.config.loginLockSeconds],
    );
    if (rows.length === 0) await this.throwIfLocked(userId, now);
  }

  /**
   * A successful sign-in: clears the count and any expired lock, sets last_login_at, and
   * returns what a token needs. Throws 429 if a concurrent failure locked the account since
   * it was read.
   */
  async recordSuccess(userId: string, now: Date): Promise<SignedInUser> {
    const rows: Array<{
      id: string;
      role: User['role'];
      organization: User['organization'];
      token_version: number;
    }> = await this.dataSource.query(
      `WITH updated AS (
         UPDATE users SET failed_login_count = 0, locked_until = NULL, last_login_at = $2
         WHERE id = $1 AND (locked_until IS NULL OR locked_until <= $2::timestamptz)
         RETURNING id, role, organization, token_version
       )
       SELECT * FROM updated`,
      [userId, now],
    );
    const row = rows[0];
    if (!row) {
      await this.throwIfLocked(userId, now);
      throw invalidCredentials(); // deleted meanwhile
    }
    return {
      id: row.id,
      role: row.role,
      organization: row.organization,
      tokenVersion: row.token_version,
    };
  }

  private async throwIfLocked(userId: string, now: Date): Promise<void> {
    const rows: Array<{ locked_until: Date | null }> = await this.dataSource.query(
      'SELECT locked_until FROM users WHERE id = $1',
      [userId],
    );
    this.assertNotLocked(rows[0]?.locked_until ?? null, now);
  }
}

function lockedError(lockedUntil: Date, now: Date): AppError {
  return AppError.tooManyRequests(
    'Too many failed sign-ins: this account is locked for a while. Try again later.',
    (lockedUntil.getTime() - now.getTime()) / 1000,
    'account_locked',
  );
}

/** The one answer for an unknown email, a wrong password and a user without a password. */
export function invalidCredentials(): AppError {
  return AppError.unauthorized('The email or password is not correct.', 'invalid_credentials');
}
