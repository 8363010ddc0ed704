import * as bcrypt from 'bcrypt';
import request from 'supertest';
import { AuditLogEntry } from '../src/audit/entities/audit-log.entity';
import { User } from '../src/users/entities/user.entity';
import { ActiveStatus, Course, Organization, Role, UserState } from '../src/users/user.enums';
import { truncateAll } from './utils/db';
import { expectProblem } from './utils/problem';
import { bearer, createUser, UserOverrides } from './utils/factories';
import { createTestApp, TestApp } from './utils/test-app';

const UNKNOWN_ID = '5b0c3c1e-8a4d-4c1b-9f57-2f1f0e6c9a11';
const PASSWORD = 'a-strong-password-123';

describe('users', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  beforeEach(async () => {
    await truncateAll(t.dataSource);
  });
  afterAll(async () => {
    await t.close();
  });

  const make = (overrides: UserOverrides = {}) => createUser(t.dataSource, overrides);
  const adm = (overrides: UserOverrides = {}) =>
    make({ role: Role.ADM, organization: null, name: 'Admin', ...overrides });
  const president = (organization = Organization.DEV, overrides: UserOverrides = {}) =>
    make({ role: Role.PRESIDENT, organization, name: `President ${organization}`, ...overrides });
  const plain = (organization = Organization.DEV, overrides: UserOverrides = {}) =>
    make({ role: Role.USER, organization, ...overrides });

  const api = () => request(t.server);
  const get = async (user: User, path: string) =>
    api()
      .get(path)
      .set('authorization', await bearer(t, user));
  const post = async (user: User, path: string, body: object) =>
    api()
      .post(path)
      .set('authorization', await bearer(t, user))
      .send(body);
  const patch = async (user: User, path: string, body: object) =>
    api()
      .patch(path)
      .set('authorization', await bearer(t, user))
      .send(body);
  const del = async (user: User, path: string) =>
    api()
      .delete(path)
      .set('authorization', await bearer(t, user));

  const reload = (id: string) =>
    t.dataSource.getRepository(User).findOne({
      where: { id },
      select: {
        id: true,
        name: true,
        email: true,
        role: true,
        organization: true,
        state: true,
        active: true,
        passwordHash: true,
        tokenVersion: true,
      },
    });
  const auditRows = (action: string) =>
    t.dataSource.getRepository(AuditLogEntry).find({ where: { action } });

  describe('GET /users', () => {
    it('401 without a token', async () => {
      expectProblem(await api().get('/users'), 401, 'unauthorized');
    });

    it('pages by cursor, sorted by name case-insensitively then id; total on request', async () => {
      const caller = await adm({ name: 'Zed Admin' });
      for (const name of ['bob', 'Alice', 'carol', 'alfred', 'Bob', 'CAROLINE']) {
        await plain(Organization.DEV, { name });
      }
      const first = await get(caller, '/users?limit=3&count=true');
      expect(first.status).toBe(200);
      expect(Object.keys(first.body).sort()).toEqual(['items', 'next_cursor', 'total']);
      expect(first.body.total).toBe(7);
      expect(first.body.items.map((u: { name: string }) => u.name)).toEqual([
        'alfred',
        'Alice',
        expect.stringMatching(/^bob$/i),
      ]);

      const all = await get(caller, '/users?limit=100');
      expect(Object.keys(all.body).sort()).toEqual(['items', 'next_cursor']);
      expect(all.body.next_cursor).toBeNull();
      const names = all.body.items.map((u: { name: string }) => u.name.toLowerCase());
      expect(names).toEqual(['alfred', 'alice', 'bob', 'bob', 'carol', 'caroline', 'zed admin']);
      // Equal names are ordered by id, so pages never overlap or skip.
      const bobs = all.body.items.filter((u: { name: string }) => /^bob$/i.test(u.name));
      expect(bobs[0].id < bobs[1].id).toBe(true);

      // Page by page through the ties: the same rows, in the same order, none twice.
      const paged: string[] = [];
      let cursor: string | null = null;
      do {
        const query: string = cursor ? `&cursor=${cursor}` : '';
        const page = await get(caller, `/users?limit=3${query}`);
        expect(page.status).toBe(200);
        expect(page.body.items.length).toBeGreaterThan(0);
        paged.push(...page.body.items.map((u: { id: string }) => u.id));
        cursor = page.body.next_cursor;
      } while (cursor);
      expect(paged).toEqual(all.body.items.map((u: { id: string }) => u.id));
    });

    it('filters by name (case-insensitive contains, % and _ literal)', async () => {
      const caller = await adm();
      await plain(Organization.DEV, { name: 'Ana Lima' });
      await plain(Organization.DEV, { name: 'Mariana Souza' });
      await plain(Organization.DEV, { name: '100% Real' });
      await plain(Organization.DEV, { name: '100x Real' });
      await plain(Organization.DEV, { name: 'snake_case' });
      await plain(Organization.DEV, { name: 'snakeXcase' });

      const ana = await get(caller, '/users?name=ANA');
      expect(ana.body.items.map((u: { name: string }) => u.name)).toEqual([
        'Ana Lima',
        'Mariana Souza',
      ]);
      const percent = await get(caller, `/users?name=${encodeURIComponent('100%')}`);
      expect(percent.body.items.map((u: { name: string }) => u.name)).toEqual(['100% Real']);
      const underscore = await get(caller, '/users?name=e_c');
      expect(underscore.body.items.map((u: { name: string }) => u.name)).toEqual(['snake_case']);
    });

    it('filters by ra (punctuation ignored), state, role, active, course, year, organization', async () => {
      const caller = await adm({ name: 'Admin' });
      const target = await plain(Organization.NAWAT, {
        name: 'Target',
        ra: '21.01234-5',
        state: UserState.PENDING,
        course: Course.CIC,
        year: 3,
        active: ActiveStatus.FREEZED,
      });
      await plain(Organization.DEV, {
        name: 'Other',
        ra: '22.00000-1',
        course: Course.ECM,
        year: 1,
      });
      await president(Organization.NAWAT);

      const only = async (query: string, expected: string[]) => {
        const res = await get(caller, `/users?${query}&count=true`);
        expect(res.status).toBe(200);
        expect(res.body.items.map((u: { name: string }) => u.name).sort()).toEqual(expected.sort());
        expect(res.body.total).toBe(expected.length);
        expect(res.body.next_cursor).toBeNull();
      };
      await only('ra=21012345', ['Target']);
      await only('ra=21.01234-5', ['Target']);
      await only('state=PENDING', ['Target']);
      await only('role=PRESIDENT', ['President NAWAT']);
      await only('role=ADM', ['Admin']);
      await only('active=FREEZED', ['Target']);
      await only('course=CIC', ['Target']);
      await only('year=3', ['Target']);
      await only('year=0', []);
      await only('organization=NAWAT', ['Target', 'President NAWAT']);
      await only('organization=NAWAT&role=USER&year=3', ['Target']);
      const res = await get(caller, '/users?ra=21012345');
      expect(res.body.items[0]).toMatchObject({ id: target.id, ra: '21.01234-5', year: 3 });
    });

    it.each([
      ['role=KING', 'role'],
      ['state=approved', 'state'],
      ['active=YES', 'active'],
      ['course=XYZ', 'course'],
      ['organization=ACME', 'organization'],
      ['year=6', 'year'],
      ['year=abc', 'year'],
      ['year=1.5', 'year'],
      ['ra=123', 'ra'],
      ['name=a%00b', 'name'],
      ['limit=0', 'limit'],
      ['limit=101', 'limit'],
      ['offset=0', 'offset'],
      ['offset=-1', 'offset'],
      ['count=yes', 'count'],
      ['cursor=not*base64', 'cursor'],
      ['sort=name', 'sort'],
    ])('400 for a bad filter: %s', async (query, field) => {
      const caller = await adm();
      const res = await get(caller, `/users?${query}`);
      expectProblem(res, 400, 'validation_failed');
      expect(res.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
    });

    it('a USER sees only {id: null, name, role, organization} of others, and itself in full', async () => {
      const me = await plain(Organization.DEV, { name: 'Me', ra: '21.01234-5' });
      await plain(Organization.NAWAT, { name: 'Other', ra: '22.00000-1', course: Course.CIC });
      await adm({ name: 'Boss' });
      const res = await get(me, '/users');
      expect(res.status).toBe(200);
      const byName = Object.fromEntries(res.body.items.map((u: { name: string }) => [u.name, u]));
      expect(byName.Other).toEqual({
        id: null,
        name: 'Other',
        role: 'USER',
        organization: 'NAWAT',
      });
      expect(byName.Boss).toEqual({ id: null, name: 'Boss', role: 'ADM', organization: null });
      expect(byName.Me).toMatchObject({
        id: me.id,
        email: me.email,
        ra: '21.01234-5',
        state: 'APPROVED',
        created_at: expect.any(String),
      });
      // Filters still apply, but only narrow what the summary shows.
      const filtered = await get(me, '/users?ra=22000001');
      expect(filtered.body.items).toEqual([
        { id: null, name: 'Other', role: 'USER', organization: 'NAWAT' },
      ]);
    });

    it('an ADM and a PRESIDENT see every user in full', async () => {
      const boss = await adm({ name: 'Boss' });
      const p = await president(Organization.DEV);
      const other = await plain(Organization.NAWAT, { name: 'Other' });
      for (const caller of [boss, p]) {
        const seen = await get(caller, '/users');
        expect(seen.status).toBe(200);
        expect(seen.body.items).toHaveLength(3);
        for (const item of seen.body.items) {
          expect(item).toEqual(
            expect.objectContaining({
              id: expect.any(String),
              email: expect.any(String),
              state: expect.any(String),
              created_at: expect.any(String),
            }),
          );
        }
        expect(seen.body.items.find((u: { id: string }) => u.id === other.id)).toMatchObject({
          email: other.email,
        });
      }
    });

    it('documents the items as a full user or a summary (oneOf)', async () => {
      const doc = (await api().get('/docs-json')).body;
      const page = doc.paths['/users'].get.responses['200'].content['application/json'].schema;
      const pageSchema = doc.components.schemas[page.$ref.split('/').pop()];
      expect(pageSchema.properties.items.items.oneOf).toEqual([
        { $ref: '#/components/schemas/UserResponseDto' },
        { $ref: '#/components/schemas/UserSummaryDto' },
      ]);
      const summary = doc.components.schemas.UserSummaryDto;
      expect(Object.keys(summary.properties).sort()).toEqual(
        ['id', 'name', 'organization', 'role'].sort(),
      );
    });

    it('never returns a password hash', async () => {
      const caller = await adm();
      await plain();
      const res = await get(caller, '/users');
      expect(JSON.stringify(res.body)).not.toMatch(/password|\$2b\$/);
    });
  });

  describe('GET /users/:id', () => {
    it('ADM reads anyone', async () => {
      const caller = await adm();
      for (const target of [await plain(), await president(Organization.NAWAT), await adm()]) {
        const res = await get(caller, `/users/${target.id}`);
        expect(res.status).toBe(200);
        expect(res.body).toMatchObject({ id: target.id, email: target.email, role: target.role });
        expect(JSON.stringify(res.body)).not.toMatch(/password|\$2b\$/);
      }
    });

    it('a USER reads itself; anyone else is 404 (existence not revealed)', async () => {
      const me = await plain();
      expect((await get(me, `/users/${me.id}`)).status).toBe(200);
      for (const other of [await plain(), await president(), await adm()]) {
        expectProblem(await get(me, `/users/${other.id}`), 404, 'user_not_found');
      }
    });

    it('a PRESIDENT reads USERs of its organization; others are 404', async () => {
      const p = await president(Organization.DEV);
      const mine = await plain(Organization.DEV);
      expect((await get(p, `/users/${mine.id}`)).body).toMatchObject({ id: mine.id });
      expect((await get(p, `/users/${p.id}`)).status).toBe(200);
      for (const other of [
        await plain(Organization.NAWAT),
        await president(Organization.DEV, { name: 'Co President' }),
        await adm(),
      ]) {
        expectProblem(await get(p, `/users/${other.id}`), 404, 'user_not_found');
      }
    });

    it('400 for an id that is not a UUID, 404 for an unknown one', async () => {
      const caller = await adm();
      expectProblem(await get(caller, '/users/not-a-uuid'), 400, 'validation_failed');
      expectProblem(await get(caller, `/users/${UNKNOWN_ID}`), 404, 'user_not_found');
    });
  });

  describe('POST /users', () => {
    const body = (overrides: object = {}) => ({
      name: 'Nova Pessoa',
      email: 'Nova.Pessoa@Example.COM',
      role: 'USER',
      organization: 'DEV',
      course: 'CIC',
      year: 2,
      ra: '21.01234-5',
      ...overrides,
    });

    it('ADM creates a user: 201, email lower-cased, password hashed, audited', async () => {
      const caller = await adm();
      const res = await post(caller, '/users', body({ password: PASSWORD, state: 'APPROVED' }));
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        name: 'Nova Pessoa',
        email: 'nova.pessoa@example.com',
        ra: '21.01234-5',
        role: 'USER',
        organization: 'DEV',
        course: 'CIC',
        year: 2,
        state: 'APPROVED',
        active: 'ACTIVE',
        last_login_at: null,
        created_at: expect.any(String),
        updated_at: expect.any(String),
        warnings: [],
      });
      const stored = await reload(res.body.id);
      expect(stored!.passwordHash).toMatch(/^\$2b\$04\$/);
      expect(await bcrypt.compare(PASSWORD, stored!.passwordHash!)).toBe(true);

      const [audit] = await auditRows('user.create');
      expect(audit).toMatchObject({
        actorId: caller.id,
        actorEmail: caller.email,
        targetType: 'user',
        targetId: res.body.id,
        before: null,
      });
      expect(audit.after).toMatchObject({ email: 'nova.pessoa@example.com', password_set: true });
      expect(JSON.stringify(audit)).not.toMatch(/\$2b\$|password_hash|passwordHash/);
    });

    it('without a password the user has none (cannot sign in); defaults PENDING, ACTIVE', async () => {
      const caller = await adm();
      const res = await post(caller, '/users', {
        name: 'No Pass',
        email: 'nopass@example.com',
        role: 'ADM',
      });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        state: 'PENDING',
        active: 'ACTIVE',
        organization: null,
        ra: null,
        course: null,
        year: null,
      });
      expect((await reload(res.body.id))!.passwordHash).toBeNull();
    });

    it('409 for an email already registered, whatever its case', async () => {
      const caller = await adm();
      await plain(Organization.DEV, { email: 'taken@example.com' });
      const res = await post(caller, '/users', body({ email: 'taken@example.com' }));
      expectProblem(res, 409, 'user_email_taken');
      const upper = await post(caller, '/users', body({ email: '  TAKEN@Example.com ' }));
      expectProblem(upper, 409, 'user_email_taken');
    });

    it('409 for the second of two identical requests sent at once', async () => {
      const caller = await adm();
      const auth = await bearer(t, caller);
      const results = await Promise.all(
        [1, 2, 3].map(() => api().post('/users').set('authorization', auth).send(body())),
      );
      expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409]);
    });

    it.each([
      ['an unknown field', { token_version: 5 }, 'token_version'],
      ['a password hash', { password_hash: 'x' }, 'password_hash'],
      ['a short name', { name: 'A' }, 'name'],
      ['a bad email', { email: 'not-an-email' }, 'email'],
      ['an unknown role', { role: 'KING' }, 'role'],
      ['an unknown organization', { organization: 'ACME' }, 'organization'],
      ['an unknown course', { course: 'XYZ' }, 'course'],
      ['a year out of range', { year: 6 }, 'year'],
      ['a year as text', { year: '2' }, 'year'],
      ['a bad ra', { ra: '2101' }, 'ra'],
      ['a bad state', { state: 'DONE' }, 'state'],
      ['a null active', { active: null }, 'active'],
      ['a weak password', { password: 'short-pass' }, 'password'],
      ['a password over 72 bytes', { password: 'é'.repeat(40) }, 'password'],
    ])('400 for %s', async (_label, overrides, field) => {
      const caller = await adm();
      const res = await post(caller, '/users', body(overrides));
      expectProblem(res, 400, 'validation_failed');
      expect(res.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
    });

    it('400 for a missing required field and for a body that is not an object', async () => {
      const caller = await adm();
      const missing = await post(caller, '/users', { name: 'No Email', role: 'USER' });
      expectProblem(missing, 400, 'validation_failed');
      expect(missing.body.errors.map((e: { field: string }) => e.field)).toContain('email');
      const array = await post(caller, '/users', [body()]);
      expect(array.status).toBe(400);
    });

    it('403 for a USER', async () => {
      expectProblem(await post(await plain(), '/users', body()), 403, 'role_required');
    });

    it('a PRESIDENT creates USERs of its own organization (by default too)', async () => {
      const p = await president(Organization.NAWAT);
      const explicit = await post(p, '/users', body({ organization: 'NAWAT' }));
      expect(explicit.status).toBe(201);
      expect(explicit.body).toMatchObject({ role: 'USER', organization: 'NAWAT' });
      const implicit = await post(
        p,
        '/users',
        body({ email: 'second@example.com', organization: undefined }),
      );
      expect(implicit.status).toBe(201);
      expect(implicit.body.organization).toBe('NAWAT');
      expect(await auditRows('user.create')).toHaveLength(2);
    });

    it('403 when a PRESIDENT creates outside its organization or anything but a USER', async () => {
      const p = await president(Organization.NAWAT);
      expectProblem(
        await post(p, '/users', body({ organization: 'DEV' })),
        403,
        'outside_organization',
      );
      expectProblem(
        await post(p, '/users', body({ organization: null })),
        403,
        'outside_organization',
      );
      expectProblem(
        await post(p, '/users', body({ role: 'PRESIDENT', organization: 'NAWAT' })),
        403,
        'role_not_allowed',
      );
      expectProblem(
        await post(p, '/users', body({ role: 'ADM', organization: 'NAWAT' })),
        403,
        'role_not_allowed',
      );
      expect(await t.dataSource.getRepository(User).count()).toBe(1);
    });
    it('takes the ra from a student address when none is given', async () => {
      const caller = await adm();
      for (const ra of [undefined, null]) {
        const email = ra === undefined ? '21.01234-5@maua.br' : '22.00042-1@maua.br';
        const res = await post(caller, '/users', body({ email, ra }));
        expect(res.status).toBe(201);
        expect(res.body.ra).toBe(email.split('@')[0]);
        expect(res.body.warnings).toEqual([]);
        const stored = await t.dataSource.getRepository(User).findOneBy({ id: res.body.id });
        expect(stored!.ra).toBe(email.split('@')[0]);
      }
      const other = await post(caller, '/users', body({ email: 'ana@maua.br', ra: undefined }));
      expect(other.body.ra).toBeNull();
    });

    it('keeps a given ra that disagrees with the address, and flags it in warnings', async () => {
      const caller = await adm();
      const res = await post(
        caller,
        '/users',
        body({ email: '21.01234-5@maua.br', ra: '23.99999-9' }),
      );
      expect(res.status).toBe(201);
      expect(res.body.ra).toBe('23.99999-9');
      expect(res.body.warnings).toEqual([
        {
          field: 'ra',
          code: 'ra_differs_from_email',
          message: expect.stringMatching(/23\.99999-9.*21\.01234-5/),
        },
      ]);
      // The same number written without punctuation agrees.
      const same = await post(
        caller,
        '/users',
        body({ email: '21.05555-5@maua.br', ra: '21055555' }),
      );
      expect(same.body).toMatchObject({ ra: '21055555', warnings: [] });
    });

    it('ALLOWED_EMAIL_DOMAINS: another domain is 400 naming the email; PATCH cannot change it', async () => {
      const strict = await createTestApp({ ALLOWED_EMAIL_DOMAINS: 'maua.br' });
      try {
        const caller = await createUser(strict.dataSource, {
          role: Role.ADM,
          organization: null,
          email: 'admin@elsewhere.org',
        });
        const auth = await bearer(strict, caller);
        const refused = await request(strict.server)
          .post('/users')
          .set('authorization', auth)
          .send(body({ email: 'ana@gmail.com' }));
        expectProblem(refused, 400, 'email_domain_not_allowed');
        expect(refused.body.errors).toEqual([
          { field: 'email', message: 'email must be an address of maua.br' },
        ]);
        // A look-alike domain is not the domain.
        const lookalike = await request(strict.server)
          .post('/users')
          .set('authorization', auth)
          .send(body({ email: 'ana@evil-maua.br' }));
        expectProblem(lookalike, 400, 'email_domain_not_allowed');
        expect(await strict.dataSource.getRepository(User).count()).toBe(1);

        const ok = await request(strict.server)
          .post('/users')
          .set('authorization', auth)
          .send(body({ email: 'Ana@MAUA.br' }));
        expect(ok.status).toBe(201);
        const moved = await request(strict.server)
          .patch(`/users/${ok.body.id}`)
          .set('authorization', auth)
          .send({ email: 'ana@gmail.com' });
        expectProblem(moved, 400, 'validation_failed');
        expect(moved.body.errors).toEqual([expect.objectContaining({ field: 'email' })]);
      } finally {
        await strict.close();
      }
    });
  });

  describe('PATCH /users/:id', () => {
    it('a USER edits its own profile', async () => {
      const me = await plain(Organization.DEV, { name: 'Old Name' });
      const res = await patch(me, `/users/${me.id}`, {
        name: '  New Name ',
        course: 'ECM',
        year: 4,
        ra: '21012345',
      });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        id: me.id,
        name: 'New Name',
        course: 'ECM',
        year: 4,
        ra: '21012345',
      });
      const cleared = await patch(me, `/users/${me.id}`, { course: null, year: null, ra: null });
      expect(cleared.body).toMatchObject({ course: null, year: null, ra: null });
    });

    it('sending your own role or organization unchanged is not a change', async () => {
      const me = await plain(Organization.DEV);
      const res = await patch(me, `/users/${me.id}`, { role: 'USER', organization: 'DEV' });
      expect(res.status).toBe(200);
      expect(await auditRows('user.update')).toHaveLength(0);
    });

    it.each([
      ['role', { role: 'ADM' }, 'own_role_change'],
      ['organization', { organization: 'NAWAT' }, 'organization_change'],
      ['password', { password: PASSWORD }, 'password_change'],
      ['state', { state: 'REJECTED' }, 'own_state_change'],
    ])('403 when a USER changes its own %s', async (_field, change, code) => {
      const me = await plain(Organization.DEV, { state: UserState.REJECTED });
      // Approved first: an account that is not approved is stopped before any rule.
      expectProblem(await patch(me, `/users/${me.id}`, change), 403, 'account_not_approved');
      await t.dataSource.getRepository(User).update(me.id, { state: UserState.APPROVED });
      expectProblem(await patch(me, `/users/${me.id}`, change), 403, code);
    });

    it('403 when a PRESIDENT changes its own role or organization', async () => {
      const p = await president();
      expectProblem(await patch(p, `/users/${p.id}`, { role: 'ADM' }), 403, 'own_role_change');
      expectProblem(
        await patch(p, `/users/${p.id}`, { organization: 'NAWAT' }),
        403,
        'organization_change',
      );
    });

    it('403 when a USER acts on anybody else', async () => {
      const me = await plain(Organization.DEV);
      for (const other of [await plain(Organization.DEV), await adm()]) {
        expectProblem(
          await patch(me, `/users/${other.id}`, { name: 'Hacked' }),
          403,
          'cannot_act_on_others',
        );
        expectProblem(await patch(me, `/users/${other.id}`, {}), 403, 'cannot_act_on_others');
      }
    });

    it('a PRESIDENT manages USERs of its organization, within limits', async () => {
      const p = await president(Organization.DEV);
      const member = await plain(Organization.DEV, { state: UserState.PENDING });
      const ok = await patch(p, `/users/${member.id}`, { state: 'APPROVED', name: 'Approved' });
      expect(ok.status).toBe(200);
      expect(ok.body).toMatchObject({ state: 'APPROVED', name: 'Approved' });

      expectProblem(
        await patch(p, `/users/${member.id}`, { role: 'PRESIDENT' }),
        403,
        'role_not_allowed',
      );
      expectProblem(
        await patch(p, `/users/${member.id}`, { organization: 'NAWAT' }),
        403,
        'organization_change',
      );
      expectProblem(
        await patch(p, `/users/${member.id}`, { password: PASSWORD }),
        403,
        'password_change',
      );
      for (const other of [
        await plain(Organization.NAWAT),
        await president(Organization.DEV, { name: 'Co President' }),
        await adm(),
      ]) {
        expectProblem(
          await patch(p, `/users/${other.id}`, { name: 'Nope' }),
          403,
          'outside_organization',
        );
      }
    });

    it("ADM changes anyone's fields but not another ADM's role nor its own", async () => {
      const caller = await adm();
      const other = await adm({ name: 'Other Admin' });
      const changed = await patch(caller, `/users/${other.id}`, {
        name: 'Renamed Admin',
        organization: 'ALL',
      });
      expect(changed.status).toBe(200);
      expect(changed.body).toMatchObject({ name: 'Renamed Admin', organization: 'ALL' });
      expectProblem(
        await patch(caller, `/users/${other.id}`, { role: 'USER' }),
        403,
        'admin_role_change',
      );
      expectProblem(
        await patch(caller, `/users/${caller.id}`, { role: 'USER' }),
        403,
        'own_role_change',
      );
      const own = await patch(caller, `/users/${caller.id}`, { organization: 'NAWAT' });
      expect(own.body.organization).toBe('NAWAT');
    });

    it('a role change bumps token_version: the old token is refused at once', async () => {
      const caller = await adm();
      const target = await plain();
      const oldAuth = await bearer(t, target);
      expect((await api().get('/users/me').set('authorization', oldAuth)).status).toBe(200);

      const res = await patch(caller, `/users/${target.id}`, { role: 'PRESIDENT' });
      expect(res.status).toBe(200);
      expect(res.body.role).toBe('PRESIDENT');
      expect((await reload(target.id))!.tokenVersion).toBe(target.tokenVersion + 1);
      const refused = await api().get('/users/me').set('authorization', oldAuth);
      expectProblem(refused, 401, 'invalid_token');
      const fresh = await get((await reload(target.id))!, '/users/me');
      expect(fresh.status).toBe(200);
    });

    it('ADM sets a password: hashed, lockout lifted, token_version bumped, audited without it', async () => {
      const caller = await adm();
      const target = await plain(Organization.DEV, { password: null });
      await t.dataSource.query(
        `UPDATE users SET failed_login_count = 5, locked_until = now() + interval '10 minutes' WHERE id = $1`,
        [target.id],
      );
      const oldAuth = await bearer(t, target);
      const res = await patch(caller, `/users/${target.id}`, { password: PASSWORD });
      expect(res.status).toBe(200);
      expect(JSON.stringify(res.body)).not.toMatch(/password/);
      const stored = await reload(target.id);
      expect(await bcrypt.compare(PASSWORD, stored!.passwordHash!)).toBe(true);
      expect(stored!.tokenVersion).toBe(target.tokenVersion + 1);
      const [lock] = await t.dataSource.query(
        'SELECT failed_login_count, locked_until FROM users WHERE id = $1',
        [target.id],
      );
      expect(lock).toEqual({ failed_login_count: 0, locked_until: null });
      expect((await api().get('/users/me').set('authorization', oldAuth)).status).toBe(401);

      const [audit] = await auditRows('user.update');
      expect(audit.after).toMatchObject({ password_changed: true });
      expect(JSON.stringify(audit)).not.toMatch(/\$2b\$|a-strong-password|password_hash/);
    });

    it('a deactivation bumps token_version, so reactivating does not revive old tokens', async () => {
      const caller = await adm();
      const target = await plain();
      const oldAuth = await bearer(t, target);
      expect(
        (await patch(caller, `/users/${target.id}`, { active: 'DISCONNECTED' })).body.active,
      ).toBe('DISCONNECTED');
      expect((await patch(caller, `/users/${target.id}`, { active: 'ACTIVE' })).body.active).toBe(
        'ACTIVE',
      );
      expect((await reload(target.id))!.tokenVersion).toBe(target.tokenVersion + 1);
      expectProblem(
        await api().get('/users/me').set('authorization', oldAuth),
        401,
        'invalid_token',
      );
    });

    it('other changes keep tokens valid', async () => {
      const caller = await adm();
      const target = await plain();
      const auth = await bearer(t, target);
      await patch(caller, `/users/${target.id}`, { name: 'Still Valid', state: 'REJECTED' });
      expect((await api().get('/users/me').set('authorization', auth)).status).toBe(200);
    });

    it('writes an audit row with before and after, never a hash', async () => {
      const caller = await adm();
      const target = await plain(Organization.DEV, { name: 'Before Name' });
      await patch(caller, `/users/${target.id}`, { name: 'After Name' });
      const rows = await auditRows('user.update');
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        actorId: caller.id,
        targetId: target.id,
        before: expect.objectContaining({ name: 'Before Name' }),
        after: expect.objectContaining({ name: 'After Name', password_changed: false }),
      });
      expect(JSON.stringify(rows[0])).not.toMatch(/\$2b\$|password_hash|passwordHash/);
    });

    it('409 when the last active ADM would deactivate itself', async () => {
      const only = await adm();
      expectProblem(
        await patch(only, `/users/${only.id}`, { active: 'FREEZED' }),
        409,
        'last_admin',
      );
      await adm({ name: 'Second Admin' });
      const res = await patch(only, `/users/${only.id}`, { active: 'FREEZED' });
      expect(res.status).toBe(200);
    });

    it.each([
      ['an unknown field', { email: 'new@example.com' }, 'email'],
      ['a null name', { name: null }, 'name'],
      ['a null role', { role: null }, 'role'],
      ['a bad year', { year: 9 }, 'year'],
      ['a bad active', { active: 'GONE' }, 'active'],
      ['a weak password', { password: 'short' }, 'password'],
    ])('400 for %s', async (_label, change, field) => {
      const caller = await adm();
      const target = await plain();
      const res = await patch(caller, `/users/${target.id}`, change);
      expectProblem(res, 400, 'validation_failed');
      expect(res.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
    });

    it('400 for a non-UUID id, 404 for an unknown one', async () => {
      const caller = await adm();
      expectProblem(await patch(caller, '/users/123', { name: 'X Y' }), 400, 'validation_failed');
      expectProblem(
        await patch(caller, `/users/${UNKNOWN_ID}`, { name: 'X Y' }),
        404,
        'user_not_found',
      );
    });
  });

  describe('DELETE /users/:id', () => {
    it('ADM deletes a user: 204, gone, audited', async () => {
      const caller = await adm();
      const target = await president(Organization.NAWAT);
      const res = await del(caller, `/users/${target.id}`);
      expect(res.status).toBe(204);
      expect(res.text).toBe('');
      expect(await reload(target.id)).toBeNull();
      const [audit] = await auditRows('user.delete');
      expect(audit).toMatchObject({
        actorId: caller.id,
        targetId: target.id,
        before: expect.objectContaining({ email: target.email }),
        after: null,
      });
      expect(JSON.stringify(audit)).not.toMatch(/\$2b\$|password_hash/);
    });

    it('ADM may delete another ADM', async () => {
      const caller = await adm();
      const other = await adm({ name: 'Other Admin' });
      expect((await del(caller, `/users/${other.id}`)).status).toBe(204);
    });

    it('anyone may delete themselves; the old token then stops working', async () => {
      const me = await plain();
      const auth = await bearer(t, me);
      expect((await api().delete(`/users/${me.id}`).set('authorization', auth)).status).toBe(204);
      expect((await api().get('/users/me').set('authorization', auth)).status).toBe(401);
    });

    it('409 for the last active ADM, even deleting itself; fine once another exists', async () => {
      const only = await adm();
      expectProblem(await del(only, `/users/${only.id}`), 409, 'last_admin');
      await adm({ name: 'Disconnected Admin', active: ActiveStatus.DISCONNECTED });
      expectProblem(await del(only, `/users/${only.id}`), 409, 'last_admin');
      await adm({ name: 'Second Admin' });
      expect((await del(only, `/users/${only.id}`)).status).toBe(204);
    });

    it('two last ADMs deleting themselves at once: exactly one succeeds', async () => {
      const a = await adm({ name: 'Admin A' });
      const b = await adm({ name: 'Admin B' });
      const [authA, authB] = [await bearer(t, a), await bearer(t, b)];
      const results = await Promise.all([
        api().delete(`/users/${a.id}`).set('authorization', authA),
        api().delete(`/users/${b.id}`).set('authorization', authB),
      ]);
      expect(results.map((r) => r.status).sort()).toEqual([204, 409]);
      const [{ n }] = await t.dataSource.query(
        `SELECT count(*)::int AS n FROM users WHERE role = 'ADM'`,
      );
      expect(n).toBe(1);
    });

    it('403 for a USER deleting someone else', async () => {
      const me = await plain();
      const other = await plain();
      expectProblem(await del(me, `/users/${other.id}`), 403, 'cannot_act_on_others');
      expect(await reload(other.id)).not.toBeNull();
    });

    it('a PRESIDENT deletes USERs of its organization only', async () => {
      const p = await president(Organization.DEV);
      const member = await plain(Organization.DEV);
      expect((await del(p, `/users/${member.id}`)).status).toBe(204);
      for (const other of [await plain(Organization.NAWAT), await adm()]) {
        expectProblem(await del(p, `/users/${other.id}`), 403, 'outside_organization');
      }
    });

    it('400 for a non-UUID id, 404 for an unknown one', async () => {
      const caller = await adm();
      expectProblem(await del(caller, '/users/abc'), 400, 'validation_failed');
      expectProblem(await del(caller, `/users/${UNKNOWN_ID}`), 404, 'user_not_found');
    });
  });

  it('documents the users routes in OpenAPI', async () => {
    const res = await api().get('/docs-json');
    expect(Object.keys(res.body.paths)).toEqual(
      expect.arrayContaining(['/users', '/users/{id}', '/users/import', '/users/export']),
    );
  });
});
