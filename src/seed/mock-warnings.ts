import { DataSource } from 'typeorm';
import { Organization, Role } from '../users/user.enums';
import { SEED_USERS } from './mock-users';

export interface SeedWarning {
  title: string;
  description: string;
  targetRole: Role;
  /** null: every organization. */
  targetOrg: Organization | null;
}

/** How long a mock warning stays before the purge removes it (running the seed again renews it). */
export const SEED_WARNING_DAYS = 90;

/**
 * The seed's mock warnings, addressed so that every mock user (SEED_USERS) sees at least one:
 * ADMs see every warning, the others those of their role and organization.
 */
export const SEED_WARNINGS: readonly SeedWarning[] = [
  {
    title: 'Welcome to the portal',
    description: 'Your profile, your organization and its notices live here.',
    targetRole: Role.USER,
    targetOrg: null,
  },
  {
    title: 'DEV: hackathon sign-ups are open',
    description: 'Talk to your president to join a team before Friday.',
    targetRole: Role.USER,
    targetOrg: Organization.DEV,
  },
  {
    title: 'Presidents: monthly meeting',
    description: 'First Monday of the month, room H204, 18:00.',
    targetRole: Role.PRESIDENT,
    targetOrg: null,
  },
  {
    title: 'NAWAT: update your member list',
    description: 'Import or export it from the users page.',
    targetRole: Role.PRESIDENT,
    targetOrg: Organization.NAWAT,
  },
  {
    title: 'Admins: accounts waiting for approval',
    description: 'Review the PENDING users.',
    targetRole: Role.ADM,
    targetOrg: Organization.ALL,
  },
];

export interface SeedWarningsResult {
  created: string[];
  existing: string[];
}

/** Any fixed 64-bit number, apart from the other advisory lock keys. */
const SEED_WARNINGS_LOCK_KEY = 7_346_221_903;

const ADMIN_EMAIL = SEED_USERS.find((u) => u.role === Role.ADM)!.email;

/**
 * Inserts each mock warning unless an unexpired one with its title exists, so running the seed
 * again changes nothing (and brings back one the purge removed). Created by the mock ADM.
 */
export async function seedMockWarnings(
  dataSource: DataSource,
  now: Date,
): Promise<SeedWarningsResult> {
  const expiresAt = new Date(now.getTime() + SEED_WARNING_DAYS * 86_400_000);
  const result: SeedWarningsResult = { created: [], existing: [] };
  await dataSource.transaction(async (manager) => {
    // Two seeds at once (npm start and npm run seed) must not both insert.
    await manager.query('SELECT pg_advisory_xact_lock($1)', [SEED_WARNINGS_LOCK_KEY]);
    for (const w of SEED_WARNINGS) {
      const rows: unknown[] = await manager.query(
        `INSERT INTO warnings (title, description, target_role, target_org, expires_at, created_by)
         SELECT $1::varchar, $2::varchar, $3::user_role, $4::user_organization, $5::timestamptz,
                (SELECT id FROM users WHERE email = $6)
         WHERE NOT EXISTS (
           SELECT 1 FROM warnings WHERE title = $1::varchar AND expires_at > $7::timestamptz
         )
         RETURNING id`,
        [w.title, w.description, w.targetRole, w.targetOrg, expiresAt, ADMIN_EMAIL, now],
      );
      (rows.length > 0 ? result.created : result.existing).push(w.title);
    }
  });
  return result;
}
