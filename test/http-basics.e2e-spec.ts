import request from 'supertest';
import { generateSigningKeysJson } from '../src/auth/signing-keys';
import { createTestApp, TestApp } from './utils/test-app';
import { truncateAll } from './utils/db';
import { bearer, createUser } from './utils/factories';

const PROBLEM = /application\/problem\+json/;

describe('HTTP basics', () => {
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

  it('answers an unknown route with a 404 problem', async () => {
    const res = await request(t.server).get('/nope');
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toMatch(PROBLEM);
    expect(res.body).toEqual({
      type: 'urn:portal-api:problem:not_found',
      title: 'Not Found',
      status: 404,
      detail: 'No such route.',
    });
  });

  it('echoes a sane x-request-id and makes one up otherwise', async () => {
    const given = await request(t.server).get('/ping').set('x-request-id', 'abc-123');
    expect(given.headers['x-request-id']).toBe('abc-123');
    const made = await request(t.server).get('/ping').set('x-request-id', 'bad id\twith junk');
    expect(made.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('sets security headers', async () => {
    const res = await request(t.server).get('/ping');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['strict-transport-security']).toBeDefined();
    expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(res.headers['content-security-policy']).toContain(
      "img-src 'self' data: validator.swagger.io",
    );
  });

  it('sets them on errors and unknown routes too', async () => {
    for (const res of [
      await request(t.server).get('/warnings'),
      await request(t.server).get('/no-such-route'),
    ]) {
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    }
  });

  it('serves the OpenAPI document and UI without a token', async () => {
    const json = await request(t.server).get('/docs-json');
    expect(json.status).toBe(200);
    expect(json.body.openapi).toMatch(/^3\./);
    expect(Object.keys(json.body.paths)).toEqual(expect.arrayContaining(['/ping', '/users/me']));
    const ui = await request(t.server).get('/docs');
    expect(ui.status).toBe(200);
    expect(ui.text).toMatch(/swagger/i);
  });

  describe('bearer tokens', () => {
    it('401 without a token', async () => {
      const res = await request(t.server).get('/users/me');
      expect(res.status).toBe(401);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.body).toMatchObject({ status: 401, type: 'urn:portal-api:problem:unauthorized' });
    });

    it('401 for a garbage token and for one signed with another key', async () => {
      const garbage = await request(t.server)
        .get('/users/me')
        .set('authorization', 'Bearer abc.def.ghi');
      expect(garbage.status).toBe(401);
      const other = await createTestApp({ JWT_SIGNING_KEYS: generateSigningKeysJson() });
      try {
        const user = await createUser(t.dataSource);
        const res = await request(t.server)
          .get('/users/me')
          .set('authorization', await bearer(other, user));
        expect(res.status).toBe(401);
        expect(res.body.type).toBe('urn:portal-api:problem:invalid_token');
      } finally {
        await other.close();
      }
    });

    it('401 for an expired token', async () => {
      const short = await createTestApp({ JWT_EXPIRES_IN: '1s' });
      try {
        const user = await createUser(t.dataSource);
        const auth = await bearer(short, user);
        await new Promise((r) => setTimeout(r, 2100));
        const res = await request(short.server).get('/users/me').set('authorization', auth);
        expect(res.status).toBe(401);
        expect(res.body.type).toBe('urn:portal-api:problem:token_expired');
      } finally {
        await short.close();
      }
    });

    it('401 once the user is deleted, disabled or re-keyed', async () => {
      const user = await createUser(t.dataSource);
      const auth = await bearer(t, user);
      expect((await request(t.server).get('/users/me').set('authorization', auth)).status).toBe(
        200,
      );

      await t.dataSource.query(`UPDATE users SET token_version = token_version + 1 WHERE id = $1`, [
        user.id,
      ]);
      expect((await request(t.server).get('/users/me').set('authorization', auth)).status).toBe(
        401,
      );

      const other = await createUser(t.dataSource);
      const otherAuth = await bearer(t, other);
      await t.dataSource.query(`UPDATE users SET active = 'FREEZED' WHERE id = $1`, [other.id]);
      const frozen = await request(t.server).get('/users/me').set('authorization', otherAuth);
      expect(frozen.status).toBe(401);
      expect(frozen.body.type).toBe('urn:portal-api:problem:account_inactive');

      const third = await createUser(t.dataSource);
      const thirdAuth = await bearer(t, third);
      await t.dataSource.query(`DELETE FROM users WHERE id = $1`, [third.id]);
      expect(
        (await request(t.server).get('/users/me').set('authorization', thirdAuth)).status,
      ).toBe(401);
    });

    it('GET /users/me returns the caller without a password hash', async () => {
      const user = await createUser(t.dataSource, { name: 'Ana Lima', email: 'ana@example.com' });
      const res = await request(t.server)
        .get('/users/me')
        .set('authorization', await bearer(t, user));
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        id: user.id,
        name: 'Ana Lima',
        email: 'ana@example.com',
        role: 'USER',
      });
      expect(Object.keys(res.body).sort()).toEqual(
        [
          'id',
          'name',
          'email',
          'ra',
          'role',
          'organization',
          'course',
          'year',
          'state',
          'active',
          'last_login_at',
          'created_at',
          'updated_at',
        ].sort(),
      );
      expect(JSON.stringify(res.body)).not.toMatch(/password|\$2b\$/);
    });
  });
});

describe('bodies fastify refuses before Nest', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers malformed JSON with a 400 problem', async () => {
    const user = await createUser(t.dataSource);
    const res = await request(t.server)
      .post('/users/me')
      .set('authorization', await bearer(t, user))
      .set('content-type', 'application/json')
      .send('{"name": ');
    expect([400, 404]).toContain(res.status);
    expect(res.headers['content-type']).toMatch(PROBLEM);
    expect(JSON.stringify(res.body)).not.toMatch(/at .*\.js:\d+/);
  });

  it('answers malformed JSON on a public route with a 400 problem', async () => {
    const res = await request(t.server)
      .post('/ping')
      .set('content-type', 'application/json')
      .send('{"a": ');
    expect(res.headers['content-type']).toMatch(PROBLEM);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
  });
});
