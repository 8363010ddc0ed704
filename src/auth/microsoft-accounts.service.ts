import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, QueryFailedError } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { AppError } from '../common/errors/app-error';
import { AppConfig } from '../config/app-config';
import type { User } from '../users/entities/user.entity';
import { ActiveStatus, Role, UserState } from '../users/user.enums';
import {
  isEmailDomainAllowed,
  isEmailDomainListed,
  MicrosoftIdentity,
  nameForProfile,
  raFromEmail,
} from './microsoft-profile';
import { tokenRejected } from './microsoft-id-token.verifier';

export type MicrosoftSignInCandidate = Pick<User, 'id' | 'active' | 'lockedUntil'>;

/** Rounds of "look up, then insert or link" before giving up on a storm of concurrent sign-ins. */
const MAX_ATTEMPTS = 3;

interface Row {
  id: string;
  email: string;
  active: ActiveStatus;
  locked_until: Date | null;
  microsoft_tid: string | null;
  microsoft_oid: string | null;
}

function candidate(row: Row): MicrosoftSignInCandidate {
  return { id: row.id, active: row.active, lockedUntil: row.locked_until };
}

function identityConflict(detail: string): AppError {
  return AppError.conflict(detail, 'microsoft_identity_conflict');
}

function isUniqueViolation(err: unknown): boolean {
  return (
    err instanceof QueryFailedError &&
    (err.driverError as { code?: string } | undefined)?.code === '23505'
  );
}

/**
 * Which account a verified Microsoft identity signs in as. The identity is (tid, oid); the
 * token's email is only a default for a new account, and a way to find an account to link:
 *
 * 1. an account linked to (tid, oid): that one, whatever the email says now;
 * 2. first sign-in of the identity (needs an email in the token):
 *    - ALLOWED_EMAIL_DOMAINS set and the email's domain not on it: 403 email_domain_not_allowed;
 *    - an account with that email linked to another identity: 409 microsoft_identity_conflict,
 *      never a re-link and never that account (a tenant admin can put anyone's address in
 *      `email`: the "nOAuth" takeover);
 *    - an account with that email and no identity: linked (audited user.microsoft_link) only
 *      when the domain is on ALLOWED_EMAIL_DOMAINS (an empty list links nothing), else 409;
 *    - no account with that email: a new USER, PENDING, ACTIVE, RA from a student address.
 *
 * Concurrent first sign-ins are safe: the unique indexes (email; tid + oid) decide, the insert
 * does nothing on a conflict, an email row is locked before it is linked, and a round that
 * lost a race looks again.
 */
@Injectable()
export class MicrosoftAccounts {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly config: AppConfig,
  ) {}

  async resolve(identity: MicrosoftIdentity, now: Date): Promise<MicrosoftSignInCandidate> {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      try {
        const found = await this.dataSource.transaction((m) => this.attempt(m, identity, now));
        if (found) return found;
      } catch (err) {
        // The identity was linked or created by a concurrent sign-in: look again.
        if (!isUniqueViolation(err)) throw err;
      }
    }
    throw AppError.unavailable('Sign-in could not be completed; try again.', 'try_again');
  }

  /** One round; null when a concurrent sign-in got in the way (the caller tries again). */
  private async attempt(
    manager: EntityManager,
    identity: MicrosoftIdentity,
    now: Date,
  ): Promise<MicrosoftSignInCandidate | null> {
    const linked: Row[] = await manager.query(
      `SELECT id, email, active, locked_until, microsoft_tid, microsoft_oid FROM users
       WHERE microsoft_tid = $1 AND microsoft_oid = $2`,
      [identity.tid, identity.oid],
    );
    if (linked[0]) return candidate(linked[0]);

    const email = identity.email;
    if (!email) {
      throw tokenRejected(
        'The ID token carries no email address (email or preferred_username) to open an ' +
          'account with.',
      );
    }
    const domains = this.config.allowedEmailDomains;
    if (!isEmailDomainAllowed(email, domains)) {
      throw AppError.forbidden(
        'Accounts of this email domain may not sign in with Microsoft.',
        'email_domain_not_allowed',
      );
    }

    const byEmail: Row[] = await manager.query(
      `SELECT id, email, active, locked_until, microsoft_tid, microsoft_oid FROM users
       WHERE email = $1 FOR UPDATE`,
      [email],
    );
    const existing = byEmail[0];
    if (existing) {
      if (existing.microsoft_tid !== null || existing.microsoft_oid !== null) {
        if (existing.microsoft_tid === identity.tid && existing.microsoft_oid === identity.oid) {
          return candidate(existing); // linked by a concurrent sign-in of this same identity
        }
        throw identityConflict(
          'An account with this email is linked to another Microsoft identity; it is never ' +
            're-linked. Ask an administrator.',
        );
      }
      if (!isEmailDomainListed(email, domains)) {
        throw identityConflict(
          'An account with this email already exists, and accounts are linked to a Microsoft ' +
            'identity only for the domains in ALLOWED_EMAIL_DOMAINS. Ask an administrator.',
        );
      }
      await manager.query(
        `UPDATE users SET microsoft_tid = $2, microsoft_oid = $3, updated_at = $4 WHERE id = $1`,
        [existing.id, identity.tid, identity.oid, now],
      );
      await this.audit.record(
        {
          actor: { id: existing.id, email: existing.email },
          action: 'user.microsoft_link',
          targetType: 'user',
          targetId: existing.id,
          before: { microsoft_tid: null, microsoft_oid: null },
          after: { microsoft_tid: identity.tid, microsoft_oid: identity.oid },
        },
        manager,
      );
      return candidate(existing);
    }

    const ra = raFromEmail(email);
    const inserted: Row[] = await manager.query(
      `INSERT INTO users (name, email, ra, role, state, active, microsoft_tid, microsoft_oid)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT DO NOTHING
       RETURNING id, email, active, locked_until, microsoft_tid, microsoft_oid`,
      [
        nameForProfile({ email, displayName: identity.displayName }),
        email,
        ra,
        Role.USER,
        UserState.PENDING,
        ActiveStatus.ACTIVE,
        identity.tid,
        identity.oid,
      ],
    );
    const created = inserted[0];
    if (!created) return null; // the email or the identity was taken meanwhile
    await this.audit.record(
      {
        actor: { id: created.id, email },
        action: 'user.create',
        targetType: 'user',
        targetId: created.id,
        after: {
          email,
          ra,
          role: Role.USER,
          state: UserState.PENDING,
          active: ActiveStatus.ACTIVE,
          source: 'microsoft',
          microsoft_tid: identity.tid,
          microsoft_oid: identity.oid,
        },
      },
      manager,
    );
    return candidate(created);
  }
}
