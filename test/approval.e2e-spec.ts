import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { User } from '../src/users/entities/user.entity';
import { Organization, Role, UserState } from '../src/users/user.enums';
import { truncateAll } from './utils/db';
import { isOpenToUnapproved } from './utils/approval';
import { bearer, createUser, DEFAULT_PASSWORD } from './utils/factories';
import { expectProblem } from './utils/problem';
import { createTestApp, TestApp } from './utils/test-app';

describe('approval state: only APPROVED accounts get past sign-in and GET /users/me', () => {
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

  const as = async (user: User, method: string, path: string, body?: object) => {
    const req = request(t.server)
      [method.toLowerCase() as 'get' | 'post' | 'patch' | 'delete'](path)
      .set('authorization', await bearer(t, user));
    return body === undefined ? req : req.send(body);
  };

  it.each([UserState.PENDING, UserState.REJECTED])(
    'a %s account gets 403 account_not_approved on every operation but sign-in and /users/me',
    async (state) => {
      const caller = await createUser(t.dataSource, { role: Role.ADM, state, organization: null });
      const doc = (await request(t.server).get('/docs-json')).body as {
        paths: Record<string, Record<string, unknown>>;
      };
      const operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
        Object.keys(methods).map((m) => ({ method: m.toUpperCase(), path })),
      );
      expect(operations.length).toBeGreaterThan(15);

      const answers: string[] = [];
      const expected: string[] = [];
      for (const op of operations) {
        const path = op.path.replace(/\{[^}]+\}/g, randomUUID());
        const res = await as(
          caller,
          op.method,
          path,
          ['POST', 'PATCH'].includes(op.method) ? {} : undefined,
        );
        const name = `${op.method} ${op.path}`;
        const notApproved =
          res.status === 403 && res.body?.type === 'urn:portal-api:problem:account_not_approved';
        answers.push(`${name}: ${notApproved ? 'account_not_approved' : 'open'}`);
        expected.push(
          `${name}: ${isOpenToUnapproved(op.method, op.path) ? 'open' : 'account_not_approved'}`,
        );
        expect(res.status).toBeLessThan(500);
      }
      expect(answers).toEqual(expected);
      expect(answers).toEqual(
        expect.arrayContaining(['GET /users/me: open', 'GET /users: account_not_approved']),
      );
    },
  );

  it('a PENDING account signs in, reads GET /users/me, and nothing else', async () => {
    const pending = await createUser(t.dataSource, {
      email: 'pending@example.com',
      state: UserState.PENDING,
    });
    const signIn = await request(t.server)
      .post('/auth/token')
      .send({ email: 'pending@example.com', password: DEFAULT_PASSWORD });
    expect(signIn.status).toBe(200);
    const auth = `Bearer ${signIn.body.access_token}`;

    const me = await request(t.server).get('/users/me').set('authorization', auth);
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id: pending.id, state: 'PENDING' });

    const denied = await request(t.server).get('/users').set('authorization', auth);
    expectProblem(denied, 403, 'account_not_approved');
    expect(denied.body.detail).toMatch(/PENDING/);
    expectProblem(
      await request(t.server)
        .post('/auth/password')
        .set('authorization', auth)
        .send({ current_password: DEFAULT_PASSWORD, new_password: 'another strong password 1' }),
      403,
      'account_not_approved',
    );
    expectProblem(
      await request(t.server)
        .patch(`/users/${pending.id}`)
        .set('authorization', auth)
        .send({ state: 'APPROVED' }),
      403,
      'account_not_approved',
    );
  });

  it('is checked before the role: a PENDING ADM is not approved, not "not an ADM"', async () => {
    const admin = await createUser(t.dataSource, {
      role: Role.ADM,
      organization: null,
      state: UserState.PENDING,
    });
    expectProblem(await as(admin, 'GET', '/audit-log'), 403, 'account_not_approved');
    const plain = await createUser(t.dataSource, { state: UserState.PENDING });
    expectProblem(await as(plain, 'GET', '/audit-log'), 403, 'account_not_approved');
  });

  it('takes effect at once both ways: approval opens the same token, rejection closes it', async () => {
    const admin = await createUser(t.dataSource, { role: Role.ADM, organization: null });
    const member = await createUser(t.dataSource, {
      organization: Organization.DEV,
      state: UserState.PENDING,
    });
    const auth = await bearer(t, member);
    const warnings = () => request(t.server).get('/warnings').set('authorization', auth);
    expectProblem(await warnings(), 403, 'account_not_approved');

    const approve = await as(admin, 'PATCH', `/users/${member.id}`, { state: 'APPROVED' });
    expect(approve.status).toBe(200);
    expect((await warnings()).status).toBe(200);

    await as(admin, 'PATCH', `/users/${member.id}`, { state: 'REJECTED' }).then((r) =>
      expect(r.status).toBe(200),
    );
    expectProblem(await warnings(), 403, 'account_not_approved');
    expect((await request(t.server).get('/users/me').set('authorization', auth)).status).toBe(200);
  });

  it('an APPROVED account is not affected', async () => {
    const user = await createUser(t.dataSource);
    expect((await as(user, 'GET', '/users')).status).toBe(200);
    expect((await as(user, 'GET', '/warnings')).status).toBe(200);
  });
});
