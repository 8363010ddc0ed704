import { AuditLogService } from '../src/audit/audit-log.service';
import { AuditLogQueryDto } from '../src/audit/dto/audit-log-query.dto';
import { BookingRequestsService } from '../src/booking-requests/booking-requests.service';
import { ListBookingRequestsQueryDto } from '../src/booking-requests/dto/list-booking-requests-query.dto';
import { BookingStatus } from '../src/booking-requests/entities/booking-request.entity';
import type { AuthUser } from '../src/common/auth-user';
import {
  countStatement,
  fetchPage,
  KeysetQuery,
  pageStatement,
} from '../src/common/pagination/keyset';
import { decodeCursor, fingerprint } from '../src/common/pagination/cursor';
import { ListUsersQueryDto } from '../src/users/dto/list-users-query.dto';
import { ActiveStatus, Organization, Role, UserState } from '../src/users/user.enums';
import { UsersService } from '../src/users/users.service';
import { ListWarningsQueryDto } from '../src/warnings/dto/list-warnings-query.dto';
import { WarningsService } from '../src/warnings/warnings.service';
import { truncateAll } from './utils/db';
import { createTestApp, TestApp } from './utils/test-app';

/**
 * The plans of the list statements, as the services build them (listQuery + pageStatement, the
 * code GET /users, /warnings, /booking-requests and /audit-log run), over tables large enough
 * for the planner to prefer an index: for each kind of caller and each main filter, on the
 * first page and on a page deep in the list (after a cursor), a page of `limit` rows must read
 * no more than a few pages' worth of rows. No timing: rows read, from EXPLAIN (ANALYZE).
 */

const USERS = 20_000;
const WARNINGS = 30_000;
const BOOKINGS = 20_000;
/** Of the bookings, this many belong to one user (an owner's list over a large share). */
const HEAVY_OWNER_BOOKINGS = 4_000;
const AUDIT_ROWS = 40_000;

const LIMIT = 20;
/** "A few pages' worth": the page itself (limit + 1 rows) and its expired/filtered neighbours. */
const MAX_ROWS_READ = 3 * (LIMIT + 1);

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Actual Rows': number;
  'Actual Loops': number;
  'Rows Removed by Filter'?: number;
  'Rows Removed by Index Recheck'?: number;
  Plans?: PlanNode[];
}

interface PlanSummary {
  /** Rows the table scans produced or threw away (per loop, times the loops). */
  rowsRead: number;
  scans: string[];
  seqScans: string[];
}

function summarize(root: PlanNode): PlanSummary {
  const summary: PlanSummary = { rowsRead: 0, scans: [], seqScans: [] };
  const walk = (node: PlanNode): void => {
    if (node['Relation Name']) {
      const perLoop =
        node['Actual Rows'] +
        (node['Rows Removed by Filter'] ?? 0) +
        (node['Rows Removed by Index Recheck'] ?? 0);
      summary.rowsRead += perLoop * node['Actual Loops'];
      const what = `${node['Node Type']}${node['Index Name'] ? ` ${node['Index Name']}` : ''}`;
      summary.scans.push(what);
      if (node['Node Type'] === 'Seq Scan') summary.seqScans.push(node['Relation Name']);
    }
    node.Plans?.forEach(walk);
  };
  walk(root);
  return summary;
}

function caller(
  id: string,
  role: Role,
  organization: Organization | null,
  email = `${role.toLowerCase()}@plans.test`,
): AuthUser {
  return {
    id,
    email,
    role,
    organization,
    active: ActiveStatus.ACTIVE,
    state: UserState.APPROVED,
    sessionId: '00000000-0000-0000-0000-000000000000', // lists never read it
    tokenVersion: 0,
  };
}

/** A query DTO as the validation pipe would hand it over (defaults applied). */
function dto<T extends object>(cls: new () => T, values: Partial<T>): T {
  return Object.assign(new cls(), { limit: LIMIT }, values);
}

describe('list plans (EXPLAIN of the statements the services run)', () => {
  let t: TestApp;
  let heavyOwner: AuthUser;
  let lightUser: AuthUser;
  let adm: AuthUser;
  let presidentDev: AuthUser;
  let presidentAll: AuthUser;
  let userNoOrg: AuthUser;
  let someActor: string;

  beforeAll(async () => {
    t = await createTestApp();
    await truncateAll(t.dataSource);
    const db = t.dataSource;
    // Set-based seeding: a few seconds for every table.
    await db.query(
      `INSERT INTO users (name, email, ra, role, organization, course, year, state, active,
                          created_at, updated_at)
       SELECT (ARRAY['Ana', 'bruno', 'Carla', 'davi', 'Élida'])[1 + g % 5] || ' ' || md5(g::text),
              'plans-' || g || '@plans.test',
              lpad((g % 100)::text, 2, '0') || '.' || lpad(g::text, 5, '0') || '-' || (g % 10),
              (ARRAY['USER', 'USER', 'USER', 'USER', 'USER', 'USER', 'USER', 'PRESIDENT', 'ADM'])[1 + g % 9]::user_role,
              (ARRAY[NULL, 'ALL', 'DEV', 'ESPORTS', 'METAVERSO', 'GUARDIAN', 'NAWAT'])[1 + g % 7]::user_organization,
              (enum_range(NULL::user_course))[1 + g % 16],
              (g % 6)::smallint,
              (ARRAY['APPROVED', 'APPROVED', 'APPROVED', 'PENDING', 'REJECTED'])[1 + g % 5]::user_state,
              (ARRAY['ACTIVE', 'ACTIVE', 'ACTIVE', 'DISCONNECTED', 'FREEZED'])[1 + g % 5]::user_active,
              now() - g * interval '1 minute', now()
       FROM generate_series(1, $1::int) AS g`,
      [USERS],
    );
    const ids = await db.query<Array<{ id: string; email: string }>>(
      `SELECT id, email FROM users ORDER BY email LIMIT 10`,
    );
    adm = caller(ids[0].id, Role.ADM, Organization.ALL);
    presidentDev = caller(ids[1].id, Role.PRESIDENT, Organization.DEV);
    presidentAll = caller(ids[2].id, Role.PRESIDENT, Organization.ALL);
    heavyOwner = caller(ids[3].id, Role.USER, Organization.DEV, ids[3].email);
    lightUser = caller(ids[4].id, Role.USER, Organization.NAWAT, ids[4].email);
    userNoOrg = caller(ids[5].id, Role.USER, null);
    someActor = ids[6].id;

    // Warnings: every role and organization term, several per created_at (ties), one in ten
    // already expired (the purge has not run yet).
    await db.query(
      `INSERT INTO warnings (title, description, target_role, target_org, expires_at, created_at)
       SELECT 'Warning ' || g, 'details',
              (ARRAY['USER', 'PRESIDENT', 'ADM'])[1 + g % 3]::user_role,
              (ARRAY[NULL, 'ALL', 'DEV', 'ESPORTS', 'METAVERSO', 'GUARDIAN', 'NAWAT'])[1 + (g / 3) % 7]::user_organization,
              CASE WHEN g % 10 = 0 THEN now() - interval '1 day' ELSE now() + interval '30 days' END,
              date_trunc('minute', now()) - (g / 4) * interval '1 minute'
       FROM generate_series(1, $1::int) AS g`,
      [WARNINGS],
    );

    // Booking requests over every user, a large share for one of them.
    await db.query(
      `WITH u AS (SELECT array_agg(id ORDER BY id) AS ids, array_agg(email ORDER BY id) AS emails
                  FROM users)
       INSERT INTO booking_requests (event_time, duration_minutes, topic, address_street,
         address_city, address_country, requested_by, requester_email, status, decided_by,
         decided_at, created_at, updated_at)
       SELECT now() + (g % 500) * interval '1 hour', 60, 'Topic ' || g, 'Street', 'City', 'Brazil',
              CASE WHEN g % ($2::int / $3::int) = 0 THEN $4::uuid ELSE u.ids[1 + g % cardinality(u.ids)] END,
              u.emails[1 + g % cardinality(u.emails)],
              (ARRAY['pending', 'accepted', 'rejected'])[1 + g % 3]::booking_request_status,
              CASE WHEN g % 3 = 0 THEN NULL ELSE $4::uuid END,
              CASE WHEN g % 3 = 0 THEN NULL ELSE now() END,
              now() - (g / 2) * interval '1 second', now()
       FROM generate_series(1, $1::int) AS g, u`,
      [BOOKINGS, BOOKINGS, HEAVY_OWNER_BOOKINGS, heavyOwner.id],
    );
    // The light user has a handful.
    await db.query(
      `UPDATE booking_requests SET requested_by = $1
       WHERE id IN (SELECT id FROM booking_requests WHERE requested_by <> $2 LIMIT 5)`,
      [lightUser.id, heavyOwner.id],
    );

    await db.query(
      `WITH u AS (SELECT array_agg(id ORDER BY id) AS ids FROM (SELECT id FROM users LIMIT 50) s)
       INSERT INTO audit_log (actor_id, actor_email, action, target_type, target_id, created_at)
       SELECT CASE WHEN g % 7 = 0 THEN $2::uuid ELSE u.ids[1 + g % 50] END, 'actor@plans.test',
              (ARRAY['warning.create', 'warning.update', 'booking.accept', 'user.create', 'user.update', 'user.import'])[1 + g % 6],
              (ARRAY['warning', 'warning', 'booking', 'user', 'user', 'user'])[1 + g % 6],
              gen_random_uuid(), now() - (g / 3) * interval '1 second'
       FROM generate_series(1, $1::int) AS g, u`,
      [AUDIT_ROWS, someActor],
    );
    await db.query('VACUUM ANALYZE users, warnings, booking_requests, audit_log');
  });

  afterAll(async () => {
    await truncateAll(t.dataSource);
    await t.close();
  });

  async function explain(statement: { text: string; values: unknown[] }): Promise<PlanSummary> {
    const rows = await t.dataSource.query<Array<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>>(
      `EXPLAIN (ANALYZE, FORMAT JSON) ${statement.text}`,
      statement.values,
    );
    return summarize(rows[0]['QUERY PLAN'][0].Plan);
  }

  /** A cursor some pages into the list (500 rows in), or null when the list is shorter. */
  async function deepCursor(q: KeysetQuery): Promise<string | null> {
    let cursor: string | undefined;
    for (let i = 0; i < 5; i++) {
      const page = await fetchPage(t.dataSource, q, { limit: 100, cursor });
      if (!page.next_cursor) return null;
      cursor = page.next_cursor;
    }
    return cursor ?? null;
  }

  /**
   * The first page and a page deep in the list each read about `limit` rows, through an index:
   * the answer lists every page that does not (empty when all is well).
   */
  async function pagesReadingTooMuch(q: KeysetQuery, label: string): Promise<string[]> {
    const problems: string[] = [];
    const check = (page: string, plan: PlanSummary) => {
      if (plan.seqScans.length > 0 || plan.rowsRead > MAX_ROWS_READ) {
        problems.push(
          `${label}, ${page}: read ${plan.rowsRead} rows (at most ${MAX_ROWS_READ}) via ` +
            plan.scans.join(', '),
        );
      }
    };
    check('first page', await explain(pageStatement(q, null, LIMIT + 1)));
    const cursor = await deepCursor(q);
    if (cursor) {
      const after = decodeCursor(cursor, q.order, fingerprint(q.order.list, q.context));
      check('page after 500 rows', await explain(pageStatement(q, after, LIMIT + 1)));
    }
    return problems;
  }

  it('the measure sees a statement that reads the whole table (it can fail)', async () => {
    const q = t.app.get(AuditLogService).listQuery(dto(AuditLogQueryDto, {}));
    const counted = await explain(countStatement(q));
    expect(counted.rowsRead).toBeGreaterThan(AUDIT_ROWS / 2);
  });

  describe('GET /users', () => {
    const cases: Array<[string, Partial<ListUsersQueryDto>]> = [
      ['no filter', {}],
      ['role', { role: Role.PRESIDENT }],
      ['organization', { organization: Organization.DEV }],
      ['state', { state: UserState.PENDING }],
      ['ra', { ra: '21.00021-1' }],
      ['organization and role', { organization: Organization.DEV, role: Role.USER }],
    ];
    it.each(cases)('%s, for each role', async (label, filters) => {
      const users = t.app.get(UsersService);
      const problems: string[] = [];
      for (const who of [adm, presidentDev, heavyOwner]) {
        const q = users.listQuery(who, dto(ListUsersQueryDto, filters));
        problems.push(...(await pagesReadingTooMuch(q, `users ${label} as ${who.role}`)));
      }
      expect(problems).toEqual([]);
    });
  });

  describe('GET /warnings', () => {
    const cases: Array<[string, () => AuthUser, Partial<ListWarningsQueryDto>]> = [
      ['ADM, no filter', () => adm, {}],
      ['ADM, role', () => adm, { role: Role.USER }],
      ['ADM, organization', () => adm, { organization: Organization.DEV }],
      [
        'ADM, role and organization',
        () => adm,
        { role: Role.USER, organization: Organization.ALL },
      ],
      [
        'ADM as a USER of DEV',
        () => adm,
        { as_role: Role.USER, as_organization: Organization.DEV },
      ],
      ['ADM as a PRESIDENT of no organization', () => adm, { as_role: Role.PRESIDENT }],
      ['PRESIDENT of DEV', () => presidentDev, {}],
      [
        'PRESIDENT of DEV, organization ALL',
        () => presidentDev,
        { organization: Organization.ALL },
      ],
      ['PRESIDENT of ALL', () => presidentAll, {}],
      ['USER of DEV', () => heavyOwner, {}],
      ['USER of DEV, role USER', () => heavyOwner, { role: Role.USER }],
      ['USER of no organization', () => userNoOrg, {}],
    ];
    it.each(cases)('%s', async (label, who, filters) => {
      const q = t.app.get(WarningsService).listQuery(who(), dto(ListWarningsQueryDto, filters));
      expect(await pagesReadingTooMuch(q, `warnings ${label}`)).toEqual([]);
    });
  });

  describe('GET /booking-requests', () => {
    const cases: Array<[string, () => AuthUser, () => Partial<ListBookingRequestsQueryDto>]> = [
      ['ADM, no filter', () => adm, () => ({})],
      ['ADM, status', () => adm, () => ({ status: BookingStatus.PENDING })],
      ['ADM, requested_by', () => adm, () => ({ requested_by: heavyOwner.id })],
      [
        'ADM, requested_by and status',
        () => adm,
        () => ({ requested_by: heavyOwner.id, status: BookingStatus.ACCEPTED }),
      ],
      ['owner of many', () => heavyOwner, () => ({})],
      ['owner of many, status', () => heavyOwner, () => ({ status: BookingStatus.REJECTED })],
      ['owner of a few', () => lightUser, () => ({})],
      ['PRESIDENT (own only)', () => presidentDev, () => ({})],
    ];
    it.each(cases)('%s', async (label, who, filters) => {
      const q = t.app
        .get(BookingRequestsService)
        .listQuery(who(), dto(ListBookingRequestsQueryDto, filters()));
      expect(await pagesReadingTooMuch(q, `booking requests ${label}`)).toEqual([]);
    });
  });

  describe('GET /audit-log (ADM)', () => {
    const cases: Array<[string, () => Partial<AuditLogQueryDto>]> = [
      ['no filter', () => ({})],
      ['actor_id', () => ({ actor_id: someActor })],
      ['action', () => ({ action: 'booking.accept' })],
      ['target_type', () => ({ target_type: 'user' })],
      ['action and target_type', () => ({ action: 'user.update', target_type: 'user' })],
    ];
    it.each(cases)('%s', async (label, filters) => {
      const q = t.app.get(AuditLogService).listQuery(dto(AuditLogQueryDto, filters()));
      expect(await pagesReadingTooMuch(q, `audit log ${label}`)).toEqual([]);
    });
  });
});
