import { DataSource } from 'typeorm';
import { User } from '../users/entities/user.entity';
import { ActiveStatus, Course, Organization, Role, UserState } from '../users/user.enums';

/** The password of the mock users when SEED_PASSWORD is not set (local data only; see docs/api.md). */
export const DEFAULT_SEED_PASSWORD = 'portal-dev-password';

export interface SeedUser {
  name: string;
  email: string;
  role: Role;
  organization: Organization | null;
  active: ActiveStatus;
  course: Course | null;
  year: number | null;
  ra: string | null;
}

/** The seed's mock users: one ADM, PRESIDENTs and USERs of DEV and NAWAT, one DISCONNECTED. */
export const SEED_USERS: readonly SeedUser[] = [
  seed('Ada Admin', 'admin@example.com', Role.ADM, Organization.ALL),
  seed('Paulo President Dev', 'president.dev@example.com', Role.PRESIDENT, Organization.DEV),
  seed('Nina President Nawat', 'president.nawat@example.com', Role.PRESIDENT, Organization.NAWAT),
  seed('Diego User Dev', 'user.dev@example.com', Role.USER, Organization.DEV, {
    course: Course.CIC,
    year: 2,
    ra: '22.00001-0',
  }),
  seed('Naomi User Nawat', 'user.nawat@example.com', Role.USER, Organization.NAWAT, {
    course: Course.ECM,
    year: 3,
    ra: '21.00002-1',
  }),
  seed('Dario Disconnected', 'disconnected@example.com', Role.USER, Organization.DEV, {
    active: ActiveStatus.DISCONNECTED,
  }),
];

function seed(
  name: string,
  email: string,
  role: Role,
  organization: Organization | null,
  extra: Partial<SeedUser> = {},
): SeedUser {
  return {
    name,
    email,
    role,
    organization,
    active: ActiveStatus.ACTIVE,
    course: null,
    year: null,
    ra: null,
    ...extra,
  };
}

export interface SeedResult {
  created: string[];
  existing: string[];
}

/**
 * Inserts the mock users that are missing (by email); existing ones are left as they are, so
 * running the seed again changes nothing. The password is hashed only when one is missing.
 */
export async function seedMockUsers(
  dataSource: DataSource,
  passwordHash: string | (() => Promise<string>),
): Promise<SeedResult> {
  const existing: Array<{ email: string }> = await dataSource.query(
    'SELECT email FROM users WHERE email = ANY($1)',
    [SEED_USERS.map((u) => u.email)],
  );
  if (existing.length === SEED_USERS.length) {
    return { created: [], existing: SEED_USERS.map((u) => u.email) };
  }
  const hash = typeof passwordHash === 'string' ? passwordHash : await passwordHash();
  const result = await dataSource
    .createQueryBuilder()
    .insert()
    .into(User)
    .values(SEED_USERS.map((u) => ({ ...u, state: UserState.APPROVED, passwordHash: hash })))
    .orIgnore()
    .returning(['email'])
    .execute();
  const created = new Set((result.raw as Array<{ email: string }>).map((r) => r.email));
  return {
    created: SEED_USERS.filter((u) => created.has(u.email)).map((u) => u.email),
    existing: SEED_USERS.filter((u) => !created.has(u.email)).map((u) => u.email),
  };
}
