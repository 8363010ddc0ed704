import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { AppConfig } from '../config/app-config';
import { ActiveStatus, Organization, Role, UserState } from '../users/user.enums';
import { PasswordHasher } from './password-hasher';

export const BOOTSTRAP_ADMIN_NAME = 'Administrator';

/**
 * ADMIN_EMAIL + ADMIN_PASSWORD: at start, creates that ADM (APPROVED, ACTIVE, organization
 * ALL) when no user has the email. An existing user is never touched. Two replicas starting
 * at once are safe: the insert does nothing on conflict, and only the winner audits.
 *
 * Runs at application bootstrap, i.e. after main.ts has applied the migrations.
 */
@Injectable()
export class AdminBootstrapService implements OnApplicationBootstrap {
  private readonly logger = new Logger(AdminBootstrapService.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly hasher: PasswordHasher,
    private readonly audit: AuditService,
    private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.ensureAdmin();
  }

  /** True when this call created the admin. */
  async ensureAdmin(): Promise<boolean> {
    const { adminEmail: email, adminPassword: password } = this.config;
    if (!email || !password) return false;
    const existing: unknown[] = await this.dataSource.query(
      'SELECT 1 FROM users WHERE email = $1',
      [email],
    );
    if (existing.length > 0) return false; // the usual case: skip the bcrypt work
    const passwordHash = await this.hasher.hash(password);
    const created = await this.dataSource.transaction(async (manager) => {
      const rows: Array<{ id: string }> = await manager.query(
        `INSERT INTO users (name, email, role, organization, state, active, password_hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (email) DO NOTHING
         RETURNING id`,
        [
          BOOTSTRAP_ADMIN_NAME,
          email,
          Role.ADM,
          Organization.ALL,
          UserState.APPROVED,
          ActiveStatus.ACTIVE,
          passwordHash,
        ],
      );
      if (rows.length === 0) return false;
      await this.audit.record(
        {
          actor: null,
          action: 'user.create',
          targetType: 'user',
          targetId: rows[0].id,
          after: { email, role: Role.ADM, organization: Organization.ALL, source: 'ADMIN_EMAIL' },
        },
        manager,
      );
      return true;
    });
    if (created) this.logger.log(`created the admin ${email} (ADMIN_EMAIL)`);
    return created;
  }
}
