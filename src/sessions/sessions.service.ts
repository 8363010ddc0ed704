import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, QueryFailedError } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import type { ClientInfo } from '../common/client-info';
import { Clock } from '../common/clock';
import { AppError } from '../common/errors/app-error';
import { AppConfig } from '../config/app-config';
import { ActiveStatus } from '../users/user.enums';
import { newRefreshToken, refreshTokenHash } from './refresh-tokens';

/**
 * Live sessions a user may hold at once; one more sign-in ends the least recently used. Bounds
 * the table and GET /auth/sessions whatever a client does.
 */
export const MAX_LIVE_SESSIONS_PER_USER = 100;

export interface IssuedRefreshToken {
  sessionId: string;
  refreshToken: string;
  /** Seconds until the refresh token stops working unless used (idle or absolute end). */
  refreshExpiresIn: number;
}

export interface RotatedSession extends IssuedRefreshToken {
  user: { id: string; tokenVersion: number };
}

export interface SessionView {
  id: string;
  createdAt: Date;
  lastUsedAt: Date;
  ip: string | null;
  userAgent: string | null;
}

interface SessionRow {
  id: string;
  user_id: string;
  created_at: Date;
  last_used_at: Date;
  ip: string | null;
  user_agent: string | null;
  revoked_at: Date | null;
  expires_at: Date;
}

export function invalidRefreshToken(): AppError {
  return AppError.unauthorized(
    'The refresh token is not valid (unknown, expired or revoked); sign in again.',
    'invalid_refresh_token',
  );
}

export function refreshTokenReused(): AppError {
  return AppError.unauthorized(
    'This refresh token was already used: its session has been ended. Sign in again.',
    'refresh_token_reused',
  );
}

/**
 * Sessions and their refresh tokens. A refresh token is spent by one conditional UPDATE, so of
 * two requests presenting it at once exactly one gets the next token; presenting a spent token
 * (the loser of such a race included: the server cannot tell it from a thief) revokes the
 * whole session. "now" comes from the Clock.
 */
@Injectable()
export class SessionsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly config: AppConfig,
  ) {}

  /** A new session for a user whose identity and standing the caller has already checked. */
  async start(userId: string, client: ClientInfo): Promise<IssuedRefreshToken> {
    const now = this.clock.now();
    const expiresAt = new Date(now.getTime() + this.config.refreshAbsoluteSeconds * 1000);
    const refreshToken = newRefreshToken();
    let rows: Array<{ session_id: string }>;
    try {
      rows = await this.dataSource.query(
        `WITH s AS (
           INSERT INTO sessions (user_id, created_at, last_used_at, ip, user_agent, expires_at)
           VALUES ($1, $2, $2, $3, $4, $5)
           RETURNING id
         )
         INSERT INTO refresh_tokens (token_hash, session_id, created_at)
         SELECT $6, s.id, $2 FROM s
         RETURNING session_id`,
        [userId, now, client.ip, client.userAgent, expiresAt, refreshTokenHash(refreshToken)],
      );
    } catch (err) {
      // The user was deleted between the password check and here.
      if (isForeignKeyViolation(err)) {
        throw AppError.unauthorized('The email or password is not correct.', 'invalid_credentials');
      }
      throw err;
    }
    await this.dataSource.query(
      `UPDATE sessions SET revoked_at = $2 WHERE id IN (
         SELECT id FROM sessions
         WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2
         ORDER BY last_used_at DESC, created_at DESC
         OFFSET $3
       )`,
      [userId, now, MAX_LIVE_SESSIONS_PER_USER],
    );
    return {
      sessionId: rows[0].session_id,
      refreshToken,
      refreshExpiresIn: this.refreshExpiresIn(now, expiresAt),
    };
  }

  /**
   * POST /auth/refresh: spends the presented token and returns the next one. 401
   * invalid_refresh_token (unknown, expired, revoked), 401 refresh_token_reused (spent before:
   * the session is revoked and the attempt audited), 401 account_inactive.
   */
  async rotate(presented: unknown, client: ClientInfo): Promise<RotatedSession> {
    const hash = refreshTokenHash(presented);
    if (!hash) throw invalidRefreshToken();
    const now = this.clock.now();
    const outcome = await this.dataSource.transaction(async (manager) => {
      const spent: Array<{ session_id: string }> = await manager.query(
        `WITH spent AS (
           UPDATE refresh_tokens SET spent_at = $2
           WHERE token_hash = $1 AND spent_at IS NULL
           RETURNING session_id
         )
         SELECT session_id FROM spent`,
        [hash, now],
      );
      if (spent.length === 0) {
        // Unknown, or spent already (committed by a concurrent request, or long ago).
        await this.handleSpentOrUnknown(manager, hash, client);
        return 'reused' as const;
      }
      const sessionId = spent[0].session_id;
      const rows: Array<SessionRow & { active: ActiveStatus; token_version: number }> =
        await manager.query(
          `SELECT s.*, u.active, u.token_version
         FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.id = $1
         FOR UPDATE OF s`,
          [sessionId],
        );
      const session = rows[0];
      // Throwing rolls the spend back: the token stays as it was (and as useless).
      if (!session || !this.isLive(session, now)) throw invalidRefreshToken();
      if (session.active !== ActiveStatus.ACTIVE) {
        throw AppError.unauthorized('This account is not active.', 'account_inactive');
      }
      const next = newRefreshToken();
      await manager.query(
        'INSERT INTO refresh_tokens (token_hash, session_id, created_at) VALUES ($1, $2, $3)',
        [refreshTokenHash(next), sessionId, now],
      );
      await manager.query(
        'UPDATE sessions SET last_used_at = $2, ip = $3, user_agent = $4 WHERE id = $1',
        [sessionId, now, client.ip, client.userAgent],
      );
      return {
        sessionId,
        refreshToken: next,
        refreshExpiresIn: this.refreshExpiresIn(now, session.expires_at),
        user: { id: session.user_id, tokenVersion: session.token_version },
      };
    });
    // The revocation and its audit row are committed before the answer.
    if (outcome === 'reused') throw refreshTokenReused();
    return outcome;
  }

  /**
   * POST /auth/logout with a refresh token: ends its session. A spent token is reuse (as in
   * rotate); an unknown, expired or revoked one is 401 invalid_refresh_token.
   */
  async endByRefreshToken(presented: unknown, client: ClientInfo): Promise<void> {
    const hash = refreshTokenHash(presented);
    if (!hash) throw invalidRefreshToken();
    const now = this.clock.now();
    const outcome = await this.dataSource.transaction(async (manager) => {
      const rows: Array<SessionRow & { spent_at: Date | null }> = await manager.query(
        `SELECT s.*, rt.spent_at
         FROM refresh_tokens rt JOIN sessions s ON s.id = rt.session_id
         WHERE rt.token_hash = $1
         FOR UPDATE OF s`,
        [hash],
      );
      const row = rows[0];
      if (row?.spent_at) {
        await this.handleSpentOrUnknown(manager, hash, client);
        return 'reused' as const;
      }
      if (!row || !this.isLive(row, now)) throw invalidRefreshToken();
      await manager.query('UPDATE sessions SET revoked_at = $2 WHERE id = $1', [row.id, now]);
      return 'ended' as const;
    });
    if (outcome === 'reused') throw refreshTokenReused();
  }

  /**
   * Ends one of the user's live sessions (logout with a bearer token, DELETE /auth/sessions/:id).
   * False when the user has no such live session (unknown, another user's, already ended).
   */
  async end(userId: string, sessionId: string): Promise<boolean> {
    const now = this.clock.now();
    const rows: unknown[] = await this.dataSource.query(
      `WITH ended AS (
         UPDATE sessions SET revoked_at = $3
         WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL
           AND expires_at > $3 AND last_used_at > $4
         RETURNING id
       )
       SELECT id FROM ended`,
      [sessionId, userId, now, this.idleCutoff(now)],
    );
    return rows.length > 0;
  }

  /** Ends every live session of the user but one (a password change keeps the caller's). */
  async endOthers(manager: EntityManager, userId: string, keepSessionId: string): Promise<number> {
    const rows: Array<{ n: number }> = await manager.query(
      `WITH ended AS (
         UPDATE sessions SET revoked_at = $3
         WHERE user_id = $1 AND id <> $2 AND revoked_at IS NULL
         RETURNING id
       )
       SELECT count(*)::int AS n FROM ended`,
      [userId, keepSessionId, this.clock.now()],
    );
    return rows[0]?.n ?? 0;
  }

  /** GET /auth/sessions: the user's live sessions, most recently used first. */
  async listLive(userId: string): Promise<SessionView[]> {
    const now = this.clock.now();
    const rows: SessionRow[] = await this.dataSource.query(
      `SELECT id, created_at, last_used_at, ip, user_agent FROM sessions
       WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 AND last_used_at > $3
       ORDER BY last_used_at DESC, id DESC
       LIMIT $4`,
      [userId, now, this.idleCutoff(now), MAX_LIVE_SESSIONS_PER_USER],
    );
    return rows.map((r) => ({
      id: r.id,
      createdAt: r.created_at,
      lastUsedAt: r.last_used_at,
      ip: r.ip,
      userAgent: r.user_agent,
    }));
  }

  /** Sessions whose last refresh is older than this have ended (REFRESH_IDLE_TTL). */
  idleCutoff(now: Date): Date {
    return new Date(now.getTime() - this.config.refreshIdleSeconds * 1000);
  }

  private isLive(
    s: Pick<SessionRow, 'revoked_at' | 'expires_at' | 'last_used_at'>,
    now: Date,
  ): boolean {
    return (
      s.revoked_at === null &&
      s.expires_at.getTime() > now.getTime() &&
      s.last_used_at.getTime() > this.idleCutoff(now).getTime()
    );
  }

  private refreshExpiresIn(now: Date, expiresAt: Date): number {
    const absolute = Math.floor((expiresAt.getTime() - now.getTime()) / 1000);
    return Math.max(0, Math.min(this.config.refreshIdleSeconds, absolute));
  }

  /**
   * The token was not live. Unknown: 401 invalid_refresh_token. Spent: reuse; its session is
   * revoked (if it still was live) and the attempt audited, in the caller's transaction.
   */
  private async handleSpentOrUnknown(
    manager: EntityManager,
    hash: Buffer,
    client: ClientInfo,
  ): Promise<void> {
    const known: Array<{ session_id: string }> = await manager.query(
      'SELECT session_id FROM refresh_tokens WHERE token_hash = $1 AND spent_at IS NOT NULL',
      [hash],
    );
    if (known.length === 0) throw invalidRefreshToken();
    const sessionId = known[0].session_id;
    const revoked: Array<{ user_id: string; email: string }> = await manager.query(
      `WITH revoked AS (
         UPDATE sessions SET revoked_at = $2
         WHERE id = $1 AND revoked_at IS NULL
         RETURNING user_id
       )
       SELECT r.user_id, u.email FROM revoked r JOIN users u ON u.id = r.user_id`,
      [sessionId, this.clock.now()],
    );
    if (revoked.length === 0) return;
    await this.audit.record(
      {
        // Whoever presented it: the account's owner or a thief; the session is what is known.
        actor: null,
        action: 'auth.refresh_reused',
        targetType: 'session',
        targetId: sessionId,
        before: null,
        after: {
          user_id: revoked[0].user_id,
          email: revoked[0].email,
          ip: client.ip,
          user_agent: client.userAgent,
        },
      },
      manager,
    );
  }
}

function isForeignKeyViolation(err: unknown): boolean {
  return (
    err instanceof QueryFailedError &&
    (err.driverError as { code?: string } | undefined)?.code === '23503'
  );
}
