import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHash, randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AccessTokenVerifier } from '../../auth/access-token.verifier';
import type { AuthUser } from '../../common/auth-user';
import { Clock } from '../../common/clock';
import { AppError } from '../../common/errors/app-error';
import { notApproved } from '../../common/guards/approval.guard';
import { UserState } from '../../users/user.enums';
import { returning } from './warning-events';

export const STREAM_TICKET_TTL_SECONDS = 30;
/** 32 random bytes, base64url: exactly 43 characters. */
export const STREAM_TICKET_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export function invalidStreamTicket(): AppError {
  return AppError.unauthorized(
    'The stream ticket is not valid (unknown, already used or expired); get a new one.',
    'invalid_stream_ticket',
  );
}

function hashOf(ticket: string): Buffer {
  return createHash('sha256').update(ticket).digest();
}

/**
 * Single-use tickets for GET /warnings/stream?ticket= (EventSource cannot send headers, and an
 * access token must never travel in a URL: URLs end up in logs and browser history). A ticket
 * is 256 random bits, valid STREAM_TICKET_TTL_SECONDS, stored only as its SHA-256 in
 * PostgreSQL so any replica can redeem it; redeeming deletes the row in one statement, so it
 * works once however many requests race for it.
 */
@Injectable()
export class StreamTicketsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly verifier: AccessTokenVerifier,
  ) {}

  async issue(caller: AuthUser): Promise<{ ticket: string; expiresIn: number }> {
    const ticket = randomBytes(32).toString('base64url');
    const expiresAt = new Date(this.clock.now().getTime() + STREAM_TICKET_TTL_SECONDS * 1000);
    await this.dataSource.query(
      `INSERT INTO stream_tickets (ticket_hash, user_id, session_id, token_version, expires_at)
       VALUES ($1, $2, $3, $4, $5)`,
      [hashOf(ticket), caller.id, caller.sessionId, caller.tokenVersion, expiresAt],
    );
    return { ticket, expiresIn: STREAM_TICKET_TTL_SECONDS };
  }

  /**
   * The caller a ticket was issued to, re-read now (the JWT guard's checks: the session is live,
   * the user exists, is ACTIVE, has the token_version of the token that asked for the ticket;
   * and APPROVED).
   * The ticket is spent whatever the outcome.
   */
  async redeem(ticket: string): Promise<AuthUser> {
    if (!STREAM_TICKET_PATTERN.test(ticket)) throw invalidStreamTicket();
    const rows = await returning<{
      user_id: string;
      session_id: string;
      token_version: number;
      expires_at: Date;
    }>(
      this.dataSource,
      `DELETE FROM stream_tickets WHERE ticket_hash = $1
       RETURNING user_id, session_id, token_version, expires_at`,
      [hashOf(ticket)],
    );
    const row = rows[0];
    if (!row || row.expires_at.getTime() <= this.clock.now().getTime()) {
      throw invalidStreamTicket();
    }
    const [caller] = await this.verifier.revalidate([
      { id: row.user_id, sessionId: row.session_id, tokenVersion: row.token_version },
    ]);
    if (caller instanceof AppError) throw caller;
    if (caller.state !== UserState.APPROVED) throw notApproved(caller.state);
    return caller;
  }

  /** Deletes tickets that expired a minute ago or more (unused ones). */
  async purgeExpired(): Promise<void> {
    await this.dataSource.query(
      `DELETE FROM stream_tickets WHERE expires_at < statement_timestamp() - interval '1 minute'`,
    );
  }
}
