import request from 'supertest';
import { encodeCursor, fingerprint } from '../src/common/pagination/cursor';
import { User } from '../src/users/entities/user.entity';
import { Organization, Role } from '../src/users/user.enums';
import { WarningsService } from '../src/warnings/warnings.service';
import { ListWarningsQueryDto } from '../src/warnings/dto/list-warnings-query.dto';
import { truncateAll } from './utils/db';
import { bearer, createUser } from './utils/factories';
import { expectProblem } from './utils/problem';
import { createTestApp, TestApp } from './utils/test-app';

/**
 * Keyset pages across the lists: paging through ties (equal created_at, created_at a
 * microsecond apart, equal names) never skips or repeats a row, and cursors are refused when
 * altered or made for another list or other filters.
 */
describe('pagination (cursor pages on every list)', () => {
  let t: TestApp;
  let adm: User;
  let admAuth: string;

  beforeAll(async () => {
    t = await createTestApp();
  });
  beforeEach(async () => {
    await truncateAll(t.dataSource);
    adm = await createUser(t.dataSource, { role: Role.ADM, organization: null, name: 'Adm' });
    admAuth = await bearer(t, adm);
  });
  afterAll(async () => {
    await t.close();
  });

  /** Every id of the list, page by page (asserting each page but the last is full). */
  async function pageThrough(path: string, auth: string, limit: number): Promise<string[]> {
    const ids: string[] = [];
    let cursor: string | null = null;
    const sep = path.includes('?') ? '&' : '?';
    for (let pages = 0; pages < 1000; pages++) {
      const res = await request(t.server)
        .get(`${path}${sep}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`)
        .set('authorization', auth);
      expect(res.status).toBe(200);
      const items = res.body.items as Array<{ id: string | null; name?: string }>;
      ids.push(...items.map((i) => i.id ?? `hidden:${i.name}`));
      cursor = res.body.next_cursor as string | null;
      if (!cursor) return ids;
      expect(items).toHaveLength(limit);
    }
    throw new Error('more than 1000 pages');
  }

  /**
   * Warnings whose created_at values tie exactly, or differ by one microsecond (the same
   * JavaScript millisecond), over the three organization terms a DEV PRESIDENT sees.
   */
  async function seedTiedWarnings(): Promise<void> {
    await t.dataSource.query(
      `INSERT INTO warnings (title, description, target_role, target_org, expires_at, created_at)
       SELECT 'tie ' || g, 'd',
              (CASE WHEN g % 5 = 0 THEN 'USER' ELSE 'PRESIDENT' END)::user_role,
              (ARRAY[NULL, 'ALL', 'DEV', 'NAWAT'])[1 + g % 4]::user_organization,
              now() + interval '1 day',
              CASE WHEN g <= 12 THEN timestamptz '2030-01-01 10:00:00.123456+00'
                   WHEN g <= 24 THEN timestamptz '2030-01-01 10:00:00.123000+00' + (g - 12) * interval '1 microsecond'
                   ELSE timestamptz '2030-01-01 09:00:00+00' - g * interval '1 second' END
       FROM generate_series(1, 40) AS g`,
    );
  }

  it('pages warnings through exact and microsecond ties: no row skipped or repeated', async () => {
    await seedTiedWarnings();
    const expected = (
      await t.dataSource.query<Array<{ id: string }>>(
        `SELECT id FROM warnings ORDER BY created_at DESC, id DESC`,
      )
    ).map((r) => r.id);
    for (const limit of [1, 3, 7, 100]) {
      expect(await pageThrough('/warnings', admAuth, limit)).toEqual(expected);
    }
  });

  it('pages a PRESIDENT through ties spread over its organization terms', async () => {
    await seedTiedWarnings();
    const president = await createUser(t.dataSource, {
      role: Role.PRESIDENT,
      organization: Organization.DEV,
    });
    const expected = (
      await t.dataSource.query<Array<{ id: string }>>(
        `SELECT id FROM warnings
         WHERE target_role = 'PRESIDENT' AND (target_org IS NULL OR target_org IN ('ALL', 'DEV'))
         ORDER BY created_at DESC, id DESC`,
      )
    ).map((r) => r.id);
    expect(expected.length).toBeGreaterThan(20);
    const auth = await bearer(t, president);
    for (const limit of [1, 4, 100]) {
      expect(await pageThrough('/warnings', auth, limit)).toEqual(expected);
    }
  });

  it('pages the audit log through ties', async () => {
    await t.dataSource.query(
      `INSERT INTO audit_log (actor_id, actor_email, action, target_type, created_at)
       SELECT NULL, NULL, 'user.update', 'user',
              timestamptz '2030-01-01 10:00:00.5+00' + (g % 3) * interval '1 microsecond'
       FROM generate_series(1, 25) AS g`,
    );
    const expected = (
      await t.dataSource.query<Array<{ id: string }>>(
        `SELECT id FROM audit_log ORDER BY created_at DESC, id DESC`,
      )
    ).map((r) => r.id);
    expect(await pageThrough('/audit-log', admAuth, 4)).toEqual(expected);
  });

  it('pages users through equal names (any case), by id', async () => {
    for (let i = 0; i < 9; i++) {
      await createUser(t.dataSource, { name: i % 2 ? 'Same Name' : 'same name' });
    }
    const expected = (
      await t.dataSource.query<Array<{ id: string }>>(
        `SELECT id FROM users ORDER BY lower(name), id`,
      )
    ).map((r) => r.id);
    expect(await pageThrough('/users', admAuth, 2)).toEqual(expected);
  });

  it('pages booking requests created in the same transaction (equal created_at)', async () => {
    await t.dataSource.query(
      `INSERT INTO booking_requests (event_time, duration_minutes, topic, address_street,
         address_city, address_country, requested_by, requester_email)
       SELECT now() + interval '1 day', 30, 'same instant ' || g, 'Street', 'City', 'Brazil', $1, $2
       FROM generate_series(1, 11) AS g`,
      [adm.id, adm.email],
    );
    const expected = (
      await t.dataSource.query<Array<{ id: string }>>(
        `SELECT id FROM booking_requests ORDER BY created_at DESC, id DESC`,
      )
    ).map((r) => r.id);
    expect(await pageThrough('/booking-requests', admAuth, 3)).toEqual(expected);
    // The owner's list (one scan per status, merged) pages the same way.
    expect(await pageThrough(`/booking-requests?requested_by=${adm.id}`, admAuth, 2)).toEqual(
      expected,
    );
  });

  describe('cursors', () => {
    let cursor: string;
    beforeEach(async () => {
      await seedTiedWarnings();
      const res = await request(t.server).get('/warnings?limit=2').set('authorization', admAuth);
      cursor = res.body.next_cursor as string;
      expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    });

    async function expectCursorRefused(path: string, auth = admAuth): Promise<void> {
      const res = await request(t.server).get(path).set('authorization', auth);
      expectProblem(res, 400, 'invalid_cursor');
      expect(res.body.errors).toEqual([{ field: 'cursor', message: expect.any(String) }]);
    }

    it('an altered cursor is 400 naming cursor (every character, one at a time)', async () => {
      for (let i = 0; i < cursor.length; i += 3) {
        const c = cursor[i] === 'A' ? 'B' : 'A';
        await expectCursorRefused(
          `/warnings?cursor=${cursor.slice(0, i)}${c}${cursor.slice(i + 1)}`,
        );
      }
    });

    it('a cut, lengthened or invented cursor is 400 naming cursor', async () => {
      await expectCursorRefused(`/warnings?cursor=${cursor.slice(0, -1)}`);
      await expectCursorRefused(`/warnings?cursor=${cursor.slice(0, 10)}`);
      await expectCursorRefused(`/warnings?cursor=${cursor}A`);
      await expectCursorRefused(`/warnings?cursor=${Buffer.from('{"a":1}').toString('base64url')}`);
      await expectCursorRefused('/warnings?cursor=x');
    });

    it('a cursor of another list is 400, on every other list', async () => {
      for (const path of ['/users', '/booking-requests', '/audit-log']) {
        await expectCursorRefused(`${path}?cursor=${cursor}`);
      }
    });

    it('a cursor made with other filters is 400', async () => {
      await expectCursorRefused(`/warnings?role=PRESIDENT&cursor=${cursor}`);
      await expectCursorRefused(`/warnings?as_role=ADM&organization=DEV&cursor=${cursor}`);
      const filtered = await request(t.server)
        .get('/warnings?limit=1&role=PRESIDENT')
        .set('authorization', admAuth);
      await expectCursorRefused(`/warnings?cursor=${filtered.body.next_cursor}`);
      // limit and count do not change the rows: the cursor stays good.
      const res = await request(t.server)
        .get(`/warnings?limit=5&count=true&cursor=${cursor}`)
        .set('authorization', admAuth);
      expect(res.status).toBe(200);
      expect(res.body.items).toHaveLength(5);
    });

    it("a cursor of another caller's visibility is 400", async () => {
      const president = await createUser(t.dataSource, {
        role: Role.PRESIDENT,
        organization: Organization.DEV,
      });
      await expectCursorRefused(`/warnings?cursor=${cursor}`, await bearer(t, president));
    });

    it('a forged but well-formed cursor only moves the start within what the caller sees', async () => {
      const user = await createUser(t.dataSource, {
        role: Role.USER,
        organization: Organization.NAWAT,
      });
      const q = t.app.get(WarningsService).listQuery(
        {
          id: user.id,
          email: user.email,
          role: user.role,
          organization: user.organization,
          active: user.active,
          state: user.state,
          sessionId: '00000000-0000-0000-0000-000000000000', // lists never read it
          tokenVersion: user.tokenVersion,
        },
        Object.assign(new ListWarningsQueryDto(), { limit: 20 }),
      );
      // From "after the end of time": everything the caller sees, nothing more.
      const forged = encodeCursor(q.order.list, fingerprint(q.order.list, q.context), [
        '9999-12-31T23:59:59.999999Z',
        'ffffffff-ffff-ffff-ffff-ffffffffffff',
      ]);
      const res = await request(t.server)
        .get(`/warnings?limit=100&cursor=${forged}`)
        .set('authorization', await bearer(t, user));
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeGreaterThan(0);
      for (const w of res.body.items as Array<{ target_role: string; target_org: string | null }>) {
        expect(w.target_role).toBe('USER');
        expect([null, 'ALL', 'NAWAT']).toContain(w.target_org);
      }
      // An impossible instant in a well-formed cursor is refused before it reaches SQL.
      const impossible = encodeCursor(q.order.list, fingerprint(q.order.list, q.context), [
        '2030-02-30T00:00:00.000000Z',
        'ffffffff-ffff-ffff-ffff-ffffffffffff',
      ]);
      await expectCursorRefused(`/warnings?cursor=${impossible}`, await bearer(t, user));
    });
  });

  it.each(['/users', '/warnings', '/booking-requests', '/audit-log'])(
    '%s: offset is 400 naming offset; limit is bounded; count is true or false',
    async (path) => {
      for (const [query, field] of [
        ['offset=0', 'offset'],
        ['offset=20', 'offset'],
        ['limit=0', 'limit'],
        ['limit=101', 'limit'],
        ['limit=ten', 'limit'],
        ['count=TRUE', 'count'],
        ['count=', 'count'],
        [`cursor=${'A'.repeat(2049)}`, 'cursor'],
      ]) {
        const res = await request(t.server).get(`${path}?${query}`).set('authorization', admAuth);
        expectProblem(res, 400);
        expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
      }
      const ok = await request(t.server)
        .get(`${path}?limit=100&count=true`)
        .set('authorization', admAuth);
      expect(ok.status).toBe(200);
      expect(ok.body).toEqual({
        items: expect.any(Array),
        next_cursor: null,
        total: expect.any(Number),
      });
    },
  );
});
