import { Client } from 'pg';

/**
 * Set-based seeding for the benchmark: every table is filled by one INSERT ... SELECT over
 * generate_series, so 100k rows take a second or two, not minutes of row-by-row inserts.
 * Values are derived from the series number (no random()), so every run seeds the same data.
 */

export const BENCH_PASSWORD = 'bench-password-1234';
export const ORGANIZATIONS = ['DEV', 'ESPORTS', 'METAVERSO', 'GUARDIAN', 'NAWAT'] as const;

/** Users 1..20 are ADM (organization ALL), 21..520 PRESIDENT, the rest USER. */
export const ADM_COUNT = 20;
export const PRESIDENT_COUNT = 500;

export function benchEmail(n: number): string {
  return `bench-${String(n).padStart(7, '0')}@bench.local`;
}

export interface SeedCounts {
  users: number;
  warnings: number;
  bookings: number;
}

/**
 * Users number `from`..`to` (inclusive). `passwordHash` null: the user cannot sign in
 * (the export's extra million need no password).
 */
export async function seedUsers(
  db: Client,
  from: number,
  to: number,
  passwordHash: string | null,
): Promise<void> {
  await db.query(
    `INSERT INTO users (name, email, ra, role, organization, course, year, state, active,
                        password_hash, created_at, updated_at)
     SELECT 'Bench User ' || g,
            'bench-' || lpad(g::text, 7, '0') || '@bench.local',
            lpad((g % 100)::text, 2, '0') || '.' || lpad((g % 100000)::text, 5, '0') || '-' || (g % 10),
            (CASE WHEN g <= $3 THEN 'ADM' WHEN g <= $3 + $4 THEN 'PRESIDENT' ELSE 'USER' END)::user_role,
            (CASE WHEN g <= $3 THEN 'ALL' ELSE ($5::text[])[1 + g % 5] END)::user_organization,
            (enum_range(NULL::user_course))[1 + g % 16],
            (g % 6)::smallint,
            'APPROVED', 'ACTIVE', $6,
            now() - g * interval '1 second', now() - g * interval '1 second'
     FROM generate_series($1::int, $2::int) AS g`,
    [from, to, ADM_COUNT, PRESIDENT_COUNT, ORGANIZATIONS, passwordHash],
  );
}

/**
 * `count` warnings over the last year: roles cycle USER, PRESIDENT, ADM; target_org cycles
 * null, ALL and the five organizations; one in ten has already expired (the purge is off
 * during the run, so they stay and the expiry filter has work to do).
 */
export async function seedWarnings(db: Client, count: number): Promise<void> {
  await db.query(
    `INSERT INTO warnings (title, description, target_role, target_org, expires_at, created_by,
                           created_at)
     SELECT 'Warning ' || g,
            repeat('Lorem ipsum dolor sit amet, consectetur adipiscing elit. ', 1 + g % 6),
            (ARRAY['USER', 'PRESIDENT', 'ADM'])[1 + g % 3]::user_role,
            (ARRAY[NULL, 'ALL', 'DEV', 'ESPORTS', 'METAVERSO', 'GUARDIAN', 'NAWAT'])[1 + (g / 3) % 7]::user_organization,
            CASE WHEN g % 10 = 0 THEN now() - (1 + g % 30) * interval '1 day'
                 ELSE now() + (1 + g % 90) * interval '1 day' END,
            adm.id,
            now() - g * interval '5 minutes'
     FROM generate_series(1, $1::int) AS g
     CROSS JOIN (SELECT id FROM users WHERE email = $2) AS adm`,
    [count, benchEmail(1)],
  );
}

/**
 * `count` booking requests spread over every user; a third each pending, accepted and
 * rejected (decided ones carry decided_by/decided_at, as the check constraint requires).
 */
export async function seedBookings(db: Client, count: number): Promise<void> {
  await db.query(
    `WITH u AS (
       SELECT id, email, row_number() OVER (ORDER BY email) AS rn FROM users
     )
     INSERT INTO booking_requests (event_time, duration_minutes, topic, address_street,
       address_city, address_state, address_country, requested_by, requester_email, status,
       reason, decided_by, decided_at, created_at, updated_at)
     SELECT now() + ((g % 365) - 120) * interval '1 day',
            15 + g % 240,
            'Bench topic ' || g,
            g || ' Avenida Paulista',
            'São Paulo', 'SP', 'Brazil',
            u.id, u.email,
            (ARRAY['pending', 'accepted', 'rejected'])[1 + g % 3]::booking_request_status,
            CASE WHEN g % 3 = 2 THEN 'Room taken' END,
            CASE WHEN g % 3 = 0 THEN NULL ELSE adm.id END,
            CASE WHEN g % 3 = 0 THEN NULL ELSE now() - g * interval '5 minutes' + interval '1 hour' END,
            now() - g * interval '5 minutes',
            now() - g * interval '5 minutes'
     FROM generate_series(1, $1::int) AS g
     JOIN u ON u.rn = 1 + g % (SELECT count(*) FROM users)
     CROSS JOIN (SELECT id FROM users WHERE email = $2) AS adm`,
    [count, benchEmail(1)],
  );
}

export async function analyze(db: Client, tables: string[]): Promise<void> {
  // VACUUM sets the visibility map (index-only scans), ANALYZE the planner statistics:
  // the state autovacuum leaves a real database in.
  for (const table of tables) await db.query(`VACUUM ANALYZE ${table}`);
}

export async function countRows(db: Client): Promise<SeedCounts> {
  const { rows } = await db.query<{ users: string; warnings: string; bookings: string }>(
    `SELECT (SELECT count(*) FROM users) AS users,
            (SELECT count(*) FROM warnings) AS warnings,
            (SELECT count(*) FROM booking_requests) AS bookings`,
  );
  return {
    users: Number(rows[0].users),
    warnings: Number(rows[0].warnings),
    bookings: Number(rows[0].bookings),
  };
}
