import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import request from 'supertest';
import { Clock } from '../src/common/clock';
import { Organization, Role } from '../src/users/user.enums';
import { User } from '../src/users/entities/user.entity';
import { WARNINGS_PURGE_JOB } from '../src/warnings/warnings-purge.scheduler';
import {
  WARNINGS_PURGE_LOCK_KEY,
  WarningsPurgeService,
} from '../src/warnings/warnings-purge.service';
import { SchedulerRegistry } from '@nestjs/schedule';
import { testDatabaseUrl } from './setup/test-database';
import { truncateAll } from './utils/db';
import { bearer, createUser } from './utils/factories';
import { createTestApp, TestApp } from './utils/test-app';

const PROBLEM = /application\/problem\+json/;
const HOUR = 60 * 60 * 1000;
const WARNING_KEYS = [
  'id',
  'title',
  'description',
  'target_role',
  'target_org',
  'expires_at',
  'created_by',
  'created_at',
].sort();

function inHours(hours: number): string {
  return new Date(Date.now() + hours * HOUR).toISOString();
}

describe('warnings', () => {
  let t: TestApp;
  let adm: User;
  let admAuth: string;

  beforeAll(async () => {
    t = await createTestApp();
  });
  beforeEach(async () => {
    await truncateAll(t.dataSource);
    adm = await createUser(t.dataSource, { role: Role.ADM, organization: null });
    admAuth = await bearer(t, adm);
  });
  afterEach(() => {
    jest.restoreAllMocks();
  });
  afterAll(async () => {
    await t.close();
  });

  async function post(body: object, auth = admAuth) {
    return request(t.server).post('/warnings').set('authorization', auth).send(body);
  }

  async function createWarning(
    targetRole: Role,
    targetOrg: Organization | null,
    title = `${targetRole}/${targetOrg}`,
  ): Promise<string> {
    const res = await post({
      title,
      description: 'details',
      target_role: targetRole,
      target_org: targetOrg,
      expires_at: inHours(24),
    });
    expect(res.status).toBe(201);
    return res.body.id as string;
  }

  async function titlesFor(user: User, query = ''): Promise<string[]> {
    const res = await request(t.server)
      .get(`/warnings${query}`)
      .set('authorization', await bearer(t, user));
    expect(res.status).toBe(200);
    return (res.body.items as Array<{ title: string }>).map((w) => w.title);
  }

  describe('POST /warnings', () => {
    it('creates a warning (ADM): 201, the contract shape, trimmed text, PRESIDENT by default', async () => {
      const expiresAt = inHours(2);
      const res = await post({
        title: '  Meeting moved  ',
        description: '\tRoom 5 instead of 3. ',
        expires_at: expiresAt,
      });
      expect(res.status).toBe(201);
      expect(Object.keys(res.body).sort()).toEqual(WARNING_KEYS);
      expect(res.body).toMatchObject({
        title: 'Meeting moved',
        description: 'Room 5 instead of 3.',
        target_role: 'PRESIDENT',
        target_org: null,
        expires_at: expiresAt,
        created_by: adm.id,
      });
      expect(res.body.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(new Date(res.body.created_at).toISOString()).toBe(res.body.created_at);
      const [row] = await t.dataSource.query('SELECT target_role, target_org FROM warnings');
      expect(row).toEqual({ target_role: 'PRESIDENT', target_org: null });
    });

    it('accepts every target role and organization, including ALL', async () => {
      const res = await post({
        title: 't',
        description: 'd',
        target_role: 'USER',
        target_org: 'ALL',
        expires_at: '2099-01-01T00:00:00-03:00',
      });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        target_role: 'USER',
        target_org: 'ALL',
        expires_at: '2099-01-01T03:00:00.000Z',
      });
    });

    it('403 for a PRESIDENT and a USER, 401 without a token; nothing is created', async () => {
      const body = { title: 't', description: 'd', expires_at: inHours(1) };
      for (const role of [Role.PRESIDENT, Role.USER]) {
        const user = await createUser(t.dataSource, { role });
        const res = await post(body, await bearer(t, user));
        expect(res.status).toBe(403);
        expect(res.headers['content-type']).toMatch(PROBLEM);
        expect(res.body).toMatchObject({
          status: 403,
          type: 'urn:portal-api:problem:role_required',
        });
      }
      expect((await request(t.server).post('/warnings').send(body)).status).toBe(401);
      const [{ n }] = await t.dataSource.query('SELECT count(*)::int AS n FROM warnings');
      expect(n).toBe(0);
    });

    it('400 when expires_at is in the past or now (by the Clock)', async () => {
      const past = await post({ title: 't', description: 'd', expires_at: inHours(-1) });
      expect(past.status).toBe(400);
      expect(past.headers['content-type']).toMatch(PROBLEM);
      expect(past.body).toMatchObject({
        status: 400,
        type: 'urn:portal-api:problem:validation_failed',
        errors: [{ field: 'expires_at', message: 'expires_at must be in the future' }],
      });

      const now = new Date('2031-06-01T00:00:00Z');
      jest.spyOn(t.app.get(Clock), 'now').mockReturnValue(now);
      const atNow = await post({ title: 't', description: 'd', expires_at: now.toISOString() });
      expect(atNow.status).toBe(400);
      const justAfter = await post({
        title: 't',
        description: 'd',
        expires_at: '2031-06-01T00:00:01Z',
      });
      expect(justAfter.status).toBe(201);
    });

    it.each([
      ['a blank title', { title: '   ' }, 'title'],
      ['a title of 201 characters', { title: 'x'.repeat(201) }, 'title'],
      ['a missing title', { title: undefined }, 'title'],
      ['a numeric title', { title: 5 }, 'title'],
      ['an empty description', { description: '' }, 'description'],
      ['a description of 5001 characters', { description: 'x'.repeat(5001) }, 'description'],
      ['an unknown role', { target_role: 'BOSS' }, 'target_role'],
      ['an unknown organization', { target_org: 'ACME' }, 'target_org'],
      ['expires_at without an offset', { expires_at: '2099-01-01T00:00:00' }, 'expires_at'],
      ['expires_at that is no date', { expires_at: 'tomorrow' }, 'expires_at'],
      ['a missing expires_at', { expires_at: undefined }, 'expires_at'],
      ['an unknown field', { created_by: '00000000-0000-4000-8000-000000000000' }, 'created_by'],
    ])('400 for %s', async (_label, patch, field) => {
      const res = await post({
        title: 'title',
        description: 'description',
        expires_at: inHours(1),
        ...patch,
      });
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    });

    it('accepts the limits: 200-character title, 5000-character description', async () => {
      const res = await post({
        title: 'x'.repeat(200),
        description: 'y'.repeat(5000),
        expires_at: inHours(1),
      });
      expect(res.status).toBe(201);
    });
  });

  describe('GET /warnings', () => {
    let devPresident: User;
    let nawatPresident: User;
    let noOrgPresident: User;
    let devUser: User;

    beforeEach(async () => {
      devPresident = await createUser(t.dataSource, {
        role: Role.PRESIDENT,
        organization: Organization.DEV,
      });
      nawatPresident = await createUser(t.dataSource, {
        role: Role.PRESIDENT,
        organization: Organization.NAWAT,
      });
      noOrgPresident = await createUser(t.dataSource, {
        role: Role.PRESIDENT,
        organization: null,
      });
      devUser = await createUser(t.dataSource, { role: Role.USER, organization: Organization.DEV });
      // Created in this order: the newest (last) comes first.
      await createWarning(Role.PRESIDENT, Organization.DEV);
      await createWarning(Role.PRESIDENT, Organization.NAWAT);
      await createWarning(Role.PRESIDENT, null);
      await createWarning(Role.PRESIDENT, Organization.ALL);
      await createWarning(Role.USER, Organization.DEV);
      await createWarning(Role.USER, Organization.NAWAT);
      await createWarning(Role.ADM, null);
    });

    it('shows a PRESIDENT those for their role and organization, null and ALL, newest first', async () => {
      expect(await titlesFor(devPresident)).toEqual([
        'PRESIDENT/ALL',
        'PRESIDENT/null',
        'PRESIDENT/DEV',
      ]);
      expect(await titlesFor(nawatPresident)).toEqual([
        'PRESIDENT/ALL',
        'PRESIDENT/null',
        'PRESIDENT/NAWAT',
      ]);
    });

    it('shows a user without an organization only those for every organization', async () => {
      expect(await titlesFor(noOrgPresident)).toEqual(['PRESIDENT/ALL', 'PRESIDENT/null']);
    });

    it('shows a USER only USER warnings of their organization', async () => {
      expect(await titlesFor(devUser)).toEqual(['USER/DEV']);
    });

    it('shows an ADM everything, with the contract page shape', async () => {
      const res = await request(t.server).get('/warnings').set('authorization', admAuth);
      expect(res.status).toBe(200);
      expect(res.body.next_cursor).toBeNull();
      expect(Object.keys(res.body).sort()).toEqual(['items', 'next_cursor']);
      expect(res.body.items.map((w: { title: string }) => w.title)).toEqual([
        'ADM/null',
        'USER/NAWAT',
        'USER/DEV',
        'PRESIDENT/ALL',
        'PRESIDENT/null',
        'PRESIDENT/NAWAT',
        'PRESIDENT/DEV',
      ]);
      for (const item of res.body.items) expect(Object.keys(item).sort()).toEqual(WARNING_KEYS);
    });

    it('filters an ADM list by role and organization (exact target match)', async () => {
      expect(await titlesFor(adm, '?role=USER')).toEqual(['USER/NAWAT', 'USER/DEV']);
      expect(await titlesFor(adm, '?organization=DEV')).toEqual(['USER/DEV', 'PRESIDENT/DEV']);
      expect(await titlesFor(adm, '?role=PRESIDENT&organization=ALL')).toEqual(['PRESIDENT/ALL']);
    });

    it('filters only narrow what a non-ADM sees', async () => {
      expect(await titlesFor(devUser, '?role=PRESIDENT')).toEqual([]);
      expect(await titlesFor(devPresident, '?organization=NAWAT')).toEqual([]);
      expect(await titlesFor(devPresident, '?organization=DEV')).toEqual(['PRESIDENT/DEV']);
    });

    async function page(user: User, query: string) {
      const res = await request(t.server)
        .get(`/warnings${query}`)
        .set('authorization', await bearer(t, user));
      expect(res.status).toBe(200);
      return {
        total: res.body.total as number | undefined,
        titles: res.body.items.map((w: { title: string }) => w.title) as string[],
        next: res.body.next_cursor as string | null,
      };
    }

    it('pages by cursor: each page follows the last, null next_cursor on the last one', async () => {
      const first = await page(adm, '?limit=3');
      expect(first.titles).toEqual(['ADM/null', 'USER/NAWAT', 'USER/DEV']);
      expect(first.total).toBeUndefined();
      const second = await page(adm, `?limit=3&cursor=${first.next}`);
      expect(second.titles).toEqual(['PRESIDENT/ALL', 'PRESIDENT/null', 'PRESIDENT/NAWAT']);
      // Exactly one row left: the last page says so (no cursor to an empty page).
      const third = await page(adm, `?limit=3&cursor=${second.next}`);
      expect(third).toEqual({ total: undefined, titles: ['PRESIDENT/DEV'], next: null });
      // A page that ends exactly at the last row has no next_cursor either.
      expect((await page(adm, `?limit=4&cursor=${first.next}`)).next).toBeNull();
    });

    it('pages a non-ADM through its three organization terms, newest first', async () => {
      const titles: string[] = [];
      let cursor: string | null = null;
      do {
        const p = await page(devPresident, `?limit=1${cursor ? `&cursor=${cursor}` : ''}`);
        titles.push(...p.titles);
        cursor = p.next;
      } while (cursor);
      expect(titles).toEqual(['PRESIDENT/ALL', 'PRESIDENT/null', 'PRESIDENT/DEV']);
    });

    it('tells the exact total only with count=true, on any page', async () => {
      expect((await page(adm, '?limit=2')).total).toBeUndefined();
      expect((await page(adm, '?limit=2&count=false')).total).toBeUndefined();
      const first = await page(adm, '?limit=2&count=true');
      expect(first.total).toBe(7);
      expect((await page(adm, `?limit=2&count=true&cursor=${first.next}`)).total).toBe(7);
      expect((await page(devPresident, '?limit=1&count=true')).total).toBe(3);
      expect((await page(devPresident, '?limit=1&organization=DEV&count=true')).total).toBe(1);
      expect((await page(noOrgPresident, '?count=true')).total).toBe(2);
      expect((await page(devUser, '?role=PRESIDENT&count=true')).total).toBe(0);
    });

    it('a PRESIDENT of organization ALL sees each warning once', async () => {
      const allPresident = await createUser(t.dataSource, {
        role: Role.PRESIDENT,
        organization: Organization.ALL,
      });
      expect(await page(allPresident, '?count=true')).toEqual({
        total: 2,
        titles: ['PRESIDENT/ALL', 'PRESIDENT/null'],
        next: null,
      });
    });

    it.each([
      ['?limit=0', 'limit'],
      ['?limit=101', 'limit'],
      ['?limit=1.5', 'limit'],
      ['?offset=1', 'offset'],
      ['?offset=-1', 'offset'],
      ['?count=1', 'count'],
      ['?cursor=%24%24', 'cursor'],
      ['?role=BOSS', 'role'],
      ['?organization=x', 'organization'],
      ['?as_role=BOSS', 'as_role'],
      ['?as_organization=DEV', 'as_role'],
      ['?as_role=USER&as_organization=MOON', 'as_organization'],
      ['?x=1', 'x'],
    ])('400 for %s, naming %s', async (query, field) => {
      const res = await request(t.server).get(`/warnings${query}`).set('authorization', admAuth);
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    });

    describe('as_role / as_organization (ADM)', () => {
      it('lists what a user of that audience sees, the same as that user gets', async () => {
        for (const [user, query] of [
          [devPresident, '?as_role=PRESIDENT&as_organization=DEV'],
          [nawatPresident, '?as_role=PRESIDENT&as_organization=NAWAT'],
          [noOrgPresident, '?as_role=PRESIDENT'],
          [devUser, '?as_role=USER&as_organization=DEV'],
        ] as const) {
          const own = await page(user, '?count=true');
          expect(await page(adm, `${query}&count=true`)).toEqual(own);
        }
        expect((await page(adm, '?as_role=USER&as_organization=NAWAT')).titles).toEqual([
          'USER/NAWAT',
        ]);
        expect((await page(adm, '?as_role=USER')).titles).toEqual([]);
      });

      it('as_role=ADM is what an ADM sees: everything', async () => {
        expect((await page(adm, '?as_role=ADM&count=true')).total).toBe(7);
      });

      it('the filters narrow it, and its pages follow each other', async () => {
        expect(
          (await page(adm, '?as_role=PRESIDENT&as_organization=DEV&organization=ALL')).titles,
        ).toEqual(['PRESIDENT/ALL']);
        expect((await page(adm, '?as_role=PRESIDENT&role=USER')).titles).toEqual([]);
        const first = await page(adm, '?as_role=PRESIDENT&as_organization=DEV&limit=2');
        expect(first.titles).toEqual(['PRESIDENT/ALL', 'PRESIDENT/null']);
        const second = await page(
          adm,
          `?as_role=PRESIDENT&as_organization=DEV&limit=2&cursor=${first.next}`,
        );
        expect(second).toEqual({ total: undefined, titles: ['PRESIDENT/DEV'], next: null });
      });

      it('a cursor of one audience is refused for another (400 naming cursor)', async () => {
        const first = await page(adm, '?as_role=PRESIDENT&as_organization=DEV&limit=1');
        const res = await request(t.server)
          .get(`/warnings?as_role=PRESIDENT&as_organization=NAWAT&limit=1&cursor=${first.next}`)
          .set('authorization', admAuth);
        expect(res.status).toBe(400);
        expect(res.body).toMatchObject({
          type: 'urn:portal-api:problem:invalid_cursor',
          errors: [{ field: 'cursor' }],
        });
      });

      it('403 for anyone but an ADM', async () => {
        for (const [user, query] of [
          [devPresident, '?as_role=PRESIDENT&as_organization=DEV'],
          [devUser, '?as_role=USER'],
          [devUser, '?as_role=PRESIDENT&as_organization=NAWAT'],
        ] as const) {
          const res = await request(t.server)
            .get(`/warnings${query}`)
            .set('authorization', await bearer(t, user));
          expect(res.status).toBe(403);
          expect(res.headers['content-type']).toMatch(PROBLEM);
          expect(res.body.type).toBe('urn:portal-api:problem:role_required');
        }
      });
    });

    it('never returns an expired warning, not even to an ADM', async () => {
      await t.dataSource.query(
        `UPDATE warnings SET expires_at = now() - interval '1 second' WHERE title = 'PRESIDENT/ALL'`,
      );
      expect(await titlesFor(devPresident)).toEqual(['PRESIDENT/null', 'PRESIDENT/DEV']);
      const all = await titlesFor(adm);
      expect(all).toHaveLength(6);
      expect(all).not.toContain('PRESIDENT/ALL');
    });

    it('drops a warning once the Clock passes its expires_at', async () => {
      await post({
        title: 'soon gone',
        description: 'd',
        target_org: Organization.DEV,
        expires_at: new Date(Date.now() + 60_000).toISOString(),
      });
      expect(await titlesFor(devPresident)).toContain('soon gone');
      jest.spyOn(t.app.get(Clock), 'now').mockReturnValue(new Date(Date.now() + 2 * 60_000));
      expect(await titlesFor(devPresident)).not.toContain('soon gone');
      expect(await titlesFor(adm)).not.toContain('soon gone');
    });
  });

  describe('GET /warnings/:id', () => {
    it('200 for a user it is addressed to and for an ADM, 404 for anyone else', async () => {
      const id = await createWarning(Role.PRESIDENT, Organization.DEV, 'for DEV presidents');
      const reader = await createUser(t.dataSource, {
        role: Role.PRESIDENT,
        organization: Organization.DEV,
      });
      const own = await request(t.server)
        .get(`/warnings/${id}`)
        .set('authorization', await bearer(t, reader));
      expect(own.status).toBe(200);
      expect(Object.keys(own.body).sort()).toEqual(WARNING_KEYS);
      expect(own.body).toMatchObject({ id, title: 'for DEV presidents' });

      const asAdm = await request(t.server).get(`/warnings/${id}`).set('authorization', admAuth);
      expect(asAdm.status).toBe(200);

      for (const other of [
        { role: Role.PRESIDENT, organization: Organization.NAWAT },
        { role: Role.USER, organization: Organization.DEV },
      ]) {
        const user = await createUser(t.dataSource, other);
        const res = await request(t.server)
          .get(`/warnings/${id}`)
          .set('authorization', await bearer(t, user));
        expect(res.status).toBe(404);
        expect(res.body).toMatchObject({
          status: 404,
          type: 'urn:portal-api:problem:warning_not_found',
        });
      }
    });

    it('404 for an expired warning (ADM too), an unknown id; 400 for a non-UUID', async () => {
      const id = await createWarning(Role.PRESIDENT, null);
      jest.spyOn(t.app.get(Clock), 'now').mockReturnValue(new Date(Date.now() + 25 * HOUR));
      expect(
        (await request(t.server).get(`/warnings/${id}`).set('authorization', admAuth)).status,
      ).toBe(404);
      const unknown = await request(t.server)
        .get('/warnings/00000000-0000-4000-8000-000000000000')
        .set('authorization', admAuth);
      expect(unknown.status).toBe(404);
      const bad = await request(t.server).get('/warnings/nope').set('authorization', admAuth);
      expect(bad.status).toBe(400);
      expect(bad.body.errors).toEqual([{ field: 'id', message: 'id must be a UUID' }]);
    });
  });

  describe('PATCH /warnings/:id', () => {
    let id: string;
    beforeEach(async () => {
      id = await createWarning(Role.PRESIDENT, Organization.DEV, 'original');
    });

    it('changes only the fields given (ADM)', async () => {
      const before = (await request(t.server).get(`/warnings/${id}`).set('authorization', admAuth))
        .body;
      const res = await request(t.server)
        .patch(`/warnings/${id}`)
        .set('authorization', admAuth)
        .send({ title: ' renamed ' });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ ...before, title: 'renamed' });
    });

    it('changes every field at once, target_org back to null', async () => {
      const expiresAt = inHours(48);
      const res = await request(t.server)
        .patch(`/warnings/${id}`)
        .set('authorization', admAuth)
        .send({
          title: 'new',
          description: 'new description',
          target_role: 'USER',
          target_org: null,
          expires_at: expiresAt,
        });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        id,
        title: 'new',
        description: 'new description',
        target_role: 'USER',
        target_org: null,
        expires_at: expiresAt,
        created_by: adm.id,
      });
    });

    it.each([
      ['an expires_at in the past', { expires_at: inHours(-1) }, 'expires_at'],
      ['a null title', { title: null }, 'title'],
      ['a blank description', { description: ' ' }, 'description'],
      ['a null target_role', { target_role: null }, 'target_role'],
      ['an unknown organization', { target_org: 'ACME' }, 'target_org'],
      ['an unknown field', { created_at: inHours(1) }, 'created_at'],
    ])('400 for %s, and nothing changes', async (_label, body, field) => {
      const res = await request(t.server)
        .patch(`/warnings/${id}`)
        .set('authorization', admAuth)
        .send(body);
      expect(res.status).toBe(400);
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
      const [row] = await t.dataSource.query('SELECT title FROM warnings WHERE id = $1', [id]);
      expect(row.title).toBe('original');
    });

    it('400 for an empty body', async () => {
      const res = await request(t.server)
        .patch(`/warnings/${id}`)
        .set('authorization', admAuth)
        .send({});
      expect(res.status).toBe(400);
      expect(res.body.type).toBe('urn:portal-api:problem:empty_update');
    });

    it('403 for a non-ADM, even one the warning is addressed to', async () => {
      const reader = await createUser(t.dataSource, {
        role: Role.PRESIDENT,
        organization: Organization.DEV,
      });
      const res = await request(t.server)
        .patch(`/warnings/${id}`)
        .set('authorization', await bearer(t, reader))
        .send({ title: 'mine now' });
      expect(res.status).toBe(403);
    });

    it('404 for an unknown or expired warning, 400 for a non-UUID id', async () => {
      const unknown = await request(t.server)
        .patch('/warnings/00000000-0000-4000-8000-000000000000')
        .set('authorization', admAuth)
        .send({ title: 'x' });
      expect(unknown.status).toBe(404);
      await t.dataSource.query(
        `UPDATE warnings SET expires_at = now() - interval '1 second' WHERE id = $1`,
        [id],
      );
      const expired = await request(t.server)
        .patch(`/warnings/${id}`)
        .set('authorization', admAuth)
        .send({ expires_at: inHours(5) });
      expect(expired.status).toBe(404);
      const bad = await request(t.server)
        .patch('/warnings/123')
        .set('authorization', admAuth)
        .send({ title: 'x' });
      expect(bad.status).toBe(400);
    });
  });

  describe('DELETE /warnings/:id', () => {
    it('204 for an ADM; then it is gone', async () => {
      const id = await createWarning(Role.PRESIDENT, null);
      const res = await request(t.server).delete(`/warnings/${id}`).set('authorization', admAuth);
      expect(res.status).toBe(204);
      expect(res.text).toBe('');
      expect(
        (await request(t.server).get(`/warnings/${id}`).set('authorization', admAuth)).status,
      ).toBe(404);
      const again = await request(t.server).delete(`/warnings/${id}`).set('authorization', admAuth);
      expect(again.status).toBe(404);
    });

    it('403 for a non-ADM; the warning stays', async () => {
      const id = await createWarning(Role.PRESIDENT, null);
      const president = await createUser(t.dataSource, { role: Role.PRESIDENT });
      const res = await request(t.server)
        .delete(`/warnings/${id}`)
        .set('authorization', await bearer(t, president));
      expect(res.status).toBe(403);
      const [{ n }] = await t.dataSource.query('SELECT count(*)::int AS n FROM warnings');
      expect(n).toBe(1);
    });

    it('404 for an unknown id, 400 for a non-UUID', async () => {
      expect(
        (
          await request(t.server)
            .delete('/warnings/00000000-0000-4000-8000-000000000000')
            .set('authorization', admAuth)
        ).status,
      ).toBe(404);
      expect(
        (await request(t.server).delete('/warnings/x').set('authorization', admAuth)).status,
      ).toBe(400);
    });
  });

  it('keeps a warning when its creator is deleted (created_by becomes null)', async () => {
    const id = await createWarning(Role.PRESIDENT, null);
    const other = await createUser(t.dataSource, { role: Role.ADM, organization: null });
    await t.dataSource.query('DELETE FROM users WHERE id = $1', [adm.id]);
    const res = await request(t.server)
      .get(`/warnings/${id}`)
      .set('authorization', await bearer(t, other));
    expect(res.status).toBe(200);
    expect(res.body.created_by).toBeNull();
  });

  describe('purge', () => {
    async function insertWarning(title: string, expiresAt: string): Promise<void> {
      await t.dataSource.query(
        `INSERT INTO warnings (title, description, expires_at) VALUES ($1, 'd', $2)`,
        [title, expiresAt],
      );
    }
    async function remainingTitles(): Promise<string[]> {
      const rows: Array<{ title: string }> = await t.dataSource.query(
        'SELECT title FROM warnings ORDER BY title',
      );
      return rows.map((r) => r.title);
    }

    it('deletes only expired warnings', async () => {
      await insertWarning('expired 1', new Date(Date.now() - HOUR).toISOString());
      await insertWarning('expired 2', new Date(Date.now() - 1000).toISOString());
      await insertWarning('live', inHours(1));
      const result = await t.app.get(WarningsPurgeService).purge();
      expect(result).toEqual({ ran: true, deleted: 2 });
      expect(await remainingTitles()).toEqual(['live']);
      expect(await t.app.get(WarningsPurgeService).purge()).toEqual({ ran: true, deleted: 0 });
    });

    it('uses the Clock: what expires by its time is deleted', async () => {
      await insertWarning('in 1 hour', inHours(1));
      await insertWarning('in 3 hours', inHours(3));
      jest.spyOn(t.app.get(Clock), 'now').mockReturnValue(new Date(Date.now() + 2 * HOUR));
      expect(await t.app.get(WarningsPurgeService).purge()).toEqual({ ran: true, deleted: 1 });
      expect(await remainingTitles()).toEqual(['in 3 hours']);
    });

    it('two purges at once both finish without error and delete each row once', async () => {
      for (let i = 0; i < 20; i++) {
        await insertWarning(`expired ${i}`, new Date(Date.now() - HOUR).toISOString());
      }
      await insertWarning('live', inHours(1));
      const purger = t.app.get(WarningsPurgeService);
      const results = await Promise.all([purger.purge(), purger.purge(), purger.purge()]);
      expect(results.reduce((sum, r) => sum + r.deleted, 0)).toBe(20);
      expect(results.some((r) => r.ran)).toBe(true);
      expect(await remainingTitles()).toEqual(['live']);
    });

    it('skips while another process holds the purge lock', async () => {
      await insertWarning('expired', new Date(Date.now() - HOUR).toISOString());
      const runner = t.dataSource.createQueryRunner();
      await runner.connect();
      try {
        await runner.startTransaction();
        await runner.query('SELECT pg_advisory_xact_lock($1)', [WARNINGS_PURGE_LOCK_KEY]);
        expect(await t.app.get(WarningsPurgeService).purge()).toEqual({ ran: false, deleted: 0 });
        expect(await remainingTitles()).toEqual(['expired']);
        await runner.rollbackTransaction();
      } finally {
        await runner.release();
      }
      expect(await t.app.get(WarningsPurgeService).purge()).toEqual({ ran: true, deleted: 1 });
    });

    it('is not scheduled in tests unless enabled', () => {
      expect(t.app.get(SchedulerRegistry).doesExist('cron', WARNINGS_PURGE_JOB)).toBe(false);
    });

    it('runs on the schedule when enabled', async () => {
      const scheduled = await createTestApp({
        WARNINGS_PURGE_ENABLED: 'true',
        WARNINGS_PURGE_CRON: '* * * * * *', // every second
      });
      try {
        expect(scheduled.app.get(SchedulerRegistry).doesExist('cron', WARNINGS_PURGE_JOB)).toBe(
          true,
        );
        await insertWarning('expired', new Date(Date.now() - HOUR).toISOString());
        await insertWarning('live', inHours(1));
        const deadline = Date.now() + 5000;
        while ((await remainingTitles()).length > 1 && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 200));
        }
        expect(await remainingTitles()).toEqual(['live']);
      } finally {
        await scheduled.close();
      }
    });
  });

  describe('npm run warnings:purge (the CLI)', () => {
    const root = join(__dirname, '..');
    function runCli(env: Record<string, string>) {
      return spawnSync(
        process.execPath,
        ['-r', 'ts-node/register/transpile-only', 'src/warnings/purge-warnings.cli.ts'],
        {
          cwd: root,
          env: { PATH: process.env.PATH, NODE_ENV: 'test', LOG_LEVEL: 'silent', ...env },
          encoding: 'utf8',
          timeout: 60_000,
        },
      );
    }

    it('purges once and exits 0', async () => {
      await t.dataSource.query(
        `INSERT INTO warnings (title, description, expires_at)
         VALUES ('expired', 'd', now() - interval '1 hour'), ('live', 'd', now() + interval '1 hour')`,
      );
      const run = runCli({ DATABASE_URL: testDatabaseUrl() });
      expect(run.stderr).not.toMatch(/error/i);
      expect(run.status).toBe(0);
      expect(JSON.parse(run.stdout.trim().split('\n').pop()!)).toMatchObject({
        level: 'info',
        msg: 'purged expired warnings',
        ran: true,
        deleted: 1,
      });
      const rows = await t.dataSource.query('SELECT title FROM warnings');
      expect(rows).toEqual([{ title: 'live' }]);
    });

    it('exits non-zero when the database is unreachable', () => {
      const run = runCli({
        DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nowhere',
        DATABASE_CONNECT_TIMEOUT_MS: '500',
      });
      expect(run.status).toBe(1);
      expect(run.stderr).toMatch(/"msg":"warnings purge failed"/);
    });
  });
});
