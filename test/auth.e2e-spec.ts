import request from 'supertest';
import { AdminBootstrapService } from '../src/auth/admin-bootstrap.service';
import { AuditLogEntry } from '../src/audit/entities/audit-log.entity';
import { Clock } from '../src/common/clock';
import { User } from '../src/users/entities/user.entity';
import { ActiveStatus, Organization, Role, UserState } from '../src/users/user.enums';
import { truncateAll } from './utils/db';
import { bearer, createUser, DEFAULT_PASSWORD, tokenPairFor } from './utils/factories';
import { createTestApp, TestApp } from './utils/test-app';

const PROBLEM = /application\/problem\+json/;
const INVALID_CREDENTIALS = {
  type: 'urn:portal-api:problem:invalid_credentials',
  title: 'Unauthorized',
  status: 401,
  detail: 'The email or password is not correct.',
};

async function row(t: TestApp, id: string): Promise<User> {
  return t.dataSource.getRepository(User).findOneOrFail({
    where: { id },
    select: {
      id: true,
      email: true,
      role: true,
      organization: true,
      state: true,
      active: true,
      passwordHash: true,
      failedLoginCount: true,
      lockedUntil: true,
      lastLoginAt: true,
      tokenVersion: true,
      updatedAt: true,
    },
  });
}

/** Moves the app's clock (the lockout reads "now" from it). */
function setNow(t: TestApp, at: Date): void {
  jest.spyOn(t.app.get(Clock), 'now').mockReturnValue(at);
}

describe('POST /auth/token', () => {
  let t: TestApp;

  const login = (body: object) => request(t.server).post('/auth/token').send(body);
  const form = (body: string) =>
    request(t.server)
      .post('/auth/token')
      .set('content-type', 'application/x-www-form-urlencoded')
      .send(body);

  beforeAll(async () => {
    t = await createTestApp();
  });
  beforeEach(async () => {
    await truncateAll(t.dataSource);
  });
  afterEach(() => {
    jest.restoreAllMocks();
  });
  afterAll(async () => {
    await t.close();
  });

  describe('success', () => {
    it('signs in with the OAuth2 password form and the token works', async () => {
      const user = await createUser(t.dataSource, { email: 'ana@example.com' });
      const res = await form(
        `username=ana%40example.com&password=${encodeURIComponent(DEFAULT_PASSWORD)}`,
      );
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/application\/json/);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body).toEqual({
        access_token: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/),
        token_type: 'bearer',
        expires_in: 900,
        refresh_token: expect.stringMatching(/^[\w-]{43}$/),
        refresh_expires_in: 7 * 86400,
      });
      const me = await request(t.server)
        .get('/users/me')
        .set('authorization', `Bearer ${res.body.access_token}`);
      expect(me.status).toBe(200);
      expect(me.body.id).toBe(user.id);
    });

    it('accepts grant_type=password and a scope, as OAuth2 clients send them', async () => {
      await createUser(t.dataSource, { email: 'ana@example.com' });
      const res = await form(
        `grant_type=password&scope=&username=ana%40example.com&password=${encodeURIComponent(DEFAULT_PASSWORD)}`,
      );
      expect(res.status).toBe(200);
      expect(res.body.token_type).toBe('bearer');
    });

    it('signs in with JSON {email, password}', async () => {
      await createUser(t.dataSource, { email: 'ana@example.com' });
      const res = await login({ email: 'ana@example.com', password: DEFAULT_PASSWORD });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        access_token: expect.any(String),
        token_type: 'bearer',
        expires_in: 900,
        refresh_token: expect.any(String),
        refresh_expires_in: 7 * 86400,
      });
    });

    it('compares the email case-insensitively', async () => {
      await createUser(t.dataSource, { email: 'ana.lima@example.com' });
      const json = await login({ email: ' Ana.LIMA@Example.COM ', password: DEFAULT_PASSWORD });
      expect(json.status).toBe(200);
      const viaForm = await form(
        `username=ANA.Lima%40EXAMPLE.com&password=${encodeURIComponent(DEFAULT_PASSWORD)}`,
      );
      expect(viaForm.status).toBe(200);
    });

    it('sets last_login_at and resets the failure count, without touching updated_at', async () => {
      const at = new Date('2030-01-02T03:04:05.000Z');
      const user = await createUser(t.dataSource, { email: 'ana@example.com' });
      await login({ email: 'ana@example.com', password: 'wrong password' }).expect(401);
      await login({ email: 'ana@example.com', password: 'wrong password' }).expect(401);
      expect((await row(t, user.id)).failedLoginCount).toBe(2);
      setNow(t, at);
      await login({ email: 'ana@example.com', password: DEFAULT_PASSWORD }).expect(200);
      const after = await row(t, user.id);
      expect(after.failedLoginCount).toBe(0);
      expect(after.lockedUntil).toBeNull();
      expect(after.lastLoginAt?.toISOString()).toBe(at.toISOString());
      expect(after.updatedAt.toISOString()).toBe(user.updatedAt.toISOString());
    });

    it('signs an ES256 access token for a new session, with the RFC 9068 claims', async () => {
      const user = await createUser(t.dataSource, { email: 'pres@example.com' });
      const res = await login({ email: 'pres@example.com', password: DEFAULT_PASSWORD });
      const [header, payload] = res.body.access_token
        .split('.')
        .slice(0, 2)
        .map((part: string) => JSON.parse(Buffer.from(part, 'base64url').toString()));
      expect(header).toEqual({
        alg: 'ES256',
        typ: 'at+jwt',
        kid: t.config.jwtSigningKeys.currentKid,
      });
      const sessions: Array<{ id: string }> = await t.dataSource.query(
        'SELECT id FROM sessions WHERE user_id = $1',
        [user.id],
      );
      expect(sessions).toHaveLength(1);
      expect(payload).toEqual({
        iss: 'portal-api',
        aud: 'portal-api',
        sub: user.id,
        sid: sessions[0].id,
        jti: expect.stringMatching(/^[0-9a-f-]{36}$/),
        token_version: 0,
        iat: expect.any(Number),
        exp: expect.any(Number),
      });
      expect(payload.exp - payload.iat).toBe(900);
    });
  });

  describe('refusals', () => {
    it('answers the same 401 for an unknown email, a wrong password and no password', async () => {
      await createUser(t.dataSource, { email: 'ana@example.com' });
      await createUser(t.dataSource, { email: 'imported@example.com', password: null });

      const unknown = await login({ email: 'nobody@example.com', password: DEFAULT_PASSWORD });
      const wrong = await login({ email: 'ana@example.com', password: 'not the password' });
      const none = await login({ email: 'imported@example.com', password: DEFAULT_PASSWORD });
      const viaForm = await form('username=nobody%40example.com&password=whatever');
      for (const res of [unknown, wrong, none, viaForm]) {
        expect(res.status).toBe(401);
        expect(res.headers['content-type']).toMatch(PROBLEM);
        expect(res.body).toEqual(INVALID_CREDENTIALS);
        expect(res.headers['retry-after']).toBeUndefined();
      }
    });

    it('creates no row for an unknown email', async () => {
      await login({ email: 'nobody@example.com', password: 'x' }).expect(401);
      expect(await t.dataSource.getRepository(User).count()).toBe(0);
    });

    it.each([ActiveStatus.DISCONNECTED, ActiveStatus.FREEZED])(
      'refuses a %s user, but only says so once the password is right',
      async (active) => {
        const user = await createUser(t.dataSource, { email: 'off@example.com', active });
        const wrong = await login({ email: 'off@example.com', password: 'not the password' });
        expect(wrong.status).toBe(401);
        expect(wrong.body).toEqual(INVALID_CREDENTIALS);

        const right = await login({ email: 'off@example.com', password: DEFAULT_PASSWORD });
        expect(right.status).toBe(401);
        expect(right.headers['content-type']).toMatch(PROBLEM);
        expect(right.body).toEqual({
          type: 'urn:portal-api:problem:account_inactive',
          title: 'Unauthorized',
          status: 401,
          detail: 'This account is not active.',
        });
        expect(right.body.access_token).toBeUndefined();
        expect((await row(t, user.id)).lastLoginAt).toBeNull();
      },
    );

    it.each([
      ['an empty object', {}, 'email'],
      ['no password', { email: 'ana@example.com' }, 'password'],
      ['no email', { password: 'x' }, 'email'],
      ['an empty password', { email: 'ana@example.com', password: '' }, 'password'],
      ['a numeric email', { email: 12, password: 'x' }, 'email'],
      ['an object password', { email: 'ana@example.com', password: { $ne: 1 } }, 'password'],
      ['an unknown field', { email: 'ana@example.com', password: 'x', role: 'ADM' }, 'role'],
      [
        'both email and username',
        { email: 'a@example.com', username: 'a', password: 'x' },
        'username',
      ],
      ['a too long email', { email: `${'a'.repeat(320)}@example.com`, password: 'x' }, 'email'],
    ])('400 for %s', async (_what, body, field) => {
      const res = await login(body);
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.body).toMatchObject({
        type: 'urn:portal-api:problem:validation_failed',
        status: 400,
      });
      expect(res.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
    });

    it.each([
      ['another grant type', 'grant_type=client_credentials&username=a&password=b', 'grant_type'],
      ['an unknown field', 'username=a&password=b&client_secret=s', 'client_secret'],
      ['a repeated username', 'username=a&username=b&password=b', 'username'],
      ['no password', 'username=a', 'password'],
    ])('400 for a form with %s', async (_what, body, field) => {
      const res = await form(body);
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
    });

    it('400 for a JSON body that is not an object, or not JSON', async () => {
      const array = await request(t.server)
        .post('/auth/token')
        .set('content-type', 'application/json')
        .send('["a"]');
      expect(array.status).toBe(400);
      expect(array.headers['content-type']).toMatch(PROBLEM);
      const broken = await request(t.server)
        .post('/auth/token')
        .set('content-type', 'application/json')
        .send('{"email": ');
      expect(broken.status).toBe(400);
      expect(broken.headers['content-type']).toMatch(PROBLEM);
    });
  });

  describe('lockout', () => {
    const EMAIL = 'locked@example.com';
    const wrong = () => login({ email: EMAIL, password: 'not the password' });
    const right = () => login({ email: EMAIL, password: DEFAULT_PASSWORD });

    it('locks after 5 failures in a row: 429 with Retry-After, even for the right password', async () => {
      const now = new Date('2030-05-01T12:00:00.000Z');
      setNow(t, now);
      const user = await createUser(t.dataSource, { email: EMAIL });
      for (let i = 1; i <= 5; i++) {
        const res = await wrong();
        expect(res.status).toBe(401);
        expect(res.body).toEqual(INVALID_CREDENTIALS);
      }
      const locked = await row(t, user.id);
      expect(locked.failedLoginCount).toBe(5);
      expect(locked.lockedUntil?.toISOString()).toBe('2030-05-01T12:15:00.000Z');

      for (const attempt of [right, wrong]) {
        const res = await attempt();
        expect(res.status).toBe(429);
        expect(res.headers['content-type']).toMatch(PROBLEM);
        expect(res.headers['retry-after']).toBe('900');
        expect(res.body).toEqual({
          type: 'urn:portal-api:problem:account_locked',
          title: 'Too Many Requests',
          status: 429,
          detail: expect.stringMatching(/locked/),
        });
      }
      // Attempts while locked neither extend the lock nor count.
      expect((await row(t, user.id)).lockedUntil?.toISOString()).toBe('2030-05-01T12:15:00.000Z');

      setNow(t, new Date('2030-05-01T12:14:00.500Z'));
      const later = await right();
      expect(later.status).toBe(429);
      expect(later.headers['retry-after']).toBe('60');
    });

    it('unlocks once the lock has expired, and the success resets the state', async () => {
      const start = new Date('2030-05-01T12:00:00.000Z');
      setNow(t, start);
      const user = await createUser(t.dataSource, { email: EMAIL });
      for (let i = 0; i < 5; i++) await wrong().expect(401);
      await right().expect(429);

      setNow(t, new Date(start.getTime() + 15 * 60_000));
      const res = await right();
      expect(res.status).toBe(200);
      expect(res.body.token_type).toBe('bearer');
      const after = await row(t, user.id);
      expect(after.failedLoginCount).toBe(0);
      expect(after.lockedUntil).toBeNull();
    });

    it('unlocks when locked_until is set in the past directly in the database', async () => {
      const user = await createUser(t.dataSource, { email: EMAIL });
      await t.dataSource.query(
        `UPDATE users SET failed_login_count = 5, locked_until = now() + interval '1 hour' WHERE id = $1`,
        [user.id],
      );
      await right().expect(429);
      await t.dataSource.query(
        `UPDATE users SET locked_until = now() - interval '1 second' WHERE id = $1`,
        [user.id],
      );
      await right().expect(200);
    });

    it('after an expired lock, a wrong password starts a fresh count', async () => {
      const start = new Date('2030-05-01T12:00:00.000Z');
      setNow(t, start);
      const user = await createUser(t.dataSource, { email: EMAIL });
      for (let i = 0; i < 5; i++) await wrong().expect(401);

      setNow(t, new Date(start.getTime() + 16 * 60_000));
      await wrong().expect(401);
      const after = await row(t, user.id);
      expect(after.failedLoginCount).toBe(1);
      expect(after.lockedUntil).toBeNull();
      await right().expect(200);
    });

    it('a success resets the count: failures must be in a row', async () => {
      const user = await createUser(t.dataSource, { email: EMAIL });
      for (let i = 0; i < 4; i++) await wrong().expect(401);
      await right().expect(200);
      for (let i = 0; i < 4; i++) await wrong().expect(401);
      await right().expect(200);
      expect((await row(t, user.id)).failedLoginCount).toBe(0);
    });

    it('counts concurrent failures exactly: 5 at once, then the 6th is 429', async () => {
      const user = await createUser(t.dataSource, { email: EMAIL });
      const results = await Promise.all(Array.from({ length: 5 }, () => wrong()));
      expect(results.map((r) => r.status)).toEqual([401, 401, 401, 401, 401]);
      const after = await row(t, user.id);
      expect(after.failedLoginCount).toBe(5);
      expect(after.lockedUntil).not.toBeNull();
      const sixth = await right();
      expect(sixth.status).toBe(429);
      expect(Number(sixth.headers['retry-after'])).toBeGreaterThan(890);
    });

    it('with more concurrent failures than the limit, exactly 5 count and the rest are 429', async () => {
      const user = await createUser(t.dataSource, { email: EMAIL });
      const results = await Promise.all(Array.from({ length: 9 }, () => wrong()));
      const statuses = results.map((r) => r.status).sort();
      expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429, 429, 429]);
      expect((await row(t, user.id)).failedLoginCount).toBe(5);
    });

    it('keeps lockouts per account', async () => {
      await createUser(t.dataSource, { email: EMAIL });
      await createUser(t.dataSource, { email: 'other@example.com' });
      for (let i = 0; i < 5; i++) await wrong().expect(401);
      await right().expect(429);
      await login({ email: 'other@example.com', password: DEFAULT_PASSWORD }).expect(200);
    });

    it('a locked inactive account answers 429 too (the lock comes first)', async () => {
      await createUser(t.dataSource, { email: EMAIL, active: ActiveStatus.FREEZED });
      for (let i = 0; i < 5; i++) await wrong().expect(401);
      await right().expect(429);
    });

    it('follows LOGIN_MAX_FAILURES and LOGIN_LOCK_DURATION', async () => {
      const strict = await createTestApp({ LOGIN_MAX_FAILURES: '2', LOGIN_LOCK_DURATION: '1m' });
      try {
        await createUser(t.dataSource, { email: EMAIL });
        const attempt = (password: string) =>
          request(strict.server).post('/auth/token').send({ email: EMAIL, password });
        await attempt('wrong').expect(401);
        await attempt('wrong').expect(401);
        const res = await attempt(DEFAULT_PASSWORD);
        expect(res.status).toBe(429);
        expect(res.headers['retry-after']).toBe('60');
      } finally {
        await strict.close();
      }
    });
  });
});

describe('POST /auth/password', () => {
  let t: TestApp;
  const NEW_PASSWORD = 'a brand new passphrase';

  const change = (auth: string | undefined, body: object) => {
    const req = request(t.server).post('/auth/password');
    if (auth) void req.set('authorization', auth);
    return req.send(body);
  };

  beforeAll(async () => {
    t = await createTestApp();
  });
  beforeEach(async () => {
    await truncateAll(t.dataSource);
  });
  afterEach(() => {
    jest.restoreAllMocks();
  });
  afterAll(async () => {
    await t.close();
  });

  it('204: the new password works, the old one stops; other sessions end, this one goes on', async () => {
    const user = await createUser(t.dataSource, { email: 'ana@example.com' });
    const mine = await tokenPairFor(t, user);
    const auth = `Bearer ${mine.access_token}`;
    const other = await tokenPairFor(t, user);
    const stranger = await createUser(t.dataSource);
    const strangerAuth = await bearer(t, stranger);
    await request(t.server).get('/users/me').set('authorization', auth).expect(200);

    const res = await change(auth, {
      current_password: DEFAULT_PASSWORD,
      new_password: NEW_PASSWORD,
    });
    expect(res.status).toBe(204);
    expect(res.text).toBe('');

    // The caller's session keeps working: its access token and its refresh token.
    await request(t.server).get('/users/me').set('authorization', auth).expect(200);
    const refreshed = await request(t.server)
      .post('/auth/refresh')
      .send({ refresh_token: mine.refresh_token });
    expect(refreshed.status).toBe(200);
    // The other session of the user ended at once: access and refresh tokens.
    const old = await request(t.server)
      .get('/users/me')
      .set('authorization', `Bearer ${other.access_token}`);
    expect(old.status).toBe(401);
    expect(old.body.type).toBe('urn:portal-api:problem:invalid_token');
    const oldRefresh = await request(t.server)
      .post('/auth/refresh')
      .send({ refresh_token: other.refresh_token });
    expect(oldRefresh.status).toBe(401);
    expect(oldRefresh.body.type).toBe('urn:portal-api:problem:invalid_refresh_token');
    // Another user's session is untouched.
    await request(t.server).get('/users/me').set('authorization', strangerAuth).expect(200);

    const withOld = await request(t.server)
      .post('/auth/token')
      .send({ email: 'ana@example.com', password: DEFAULT_PASSWORD });
    expect(withOld.status).toBe(401);
    const withNew = await request(t.server)
      .post('/auth/token')
      .send({ email: 'ana@example.com', password: NEW_PASSWORD });
    expect(withNew.status).toBe(200);
    await request(t.server)
      .get('/users/me')
      .set('authorization', `Bearer ${withNew.body.access_token}`)
      .expect(200);

    const after = await row(t, user.id);
    expect(after.passwordHash).toMatch(/^\$2[aby]\$04\$/);
  });

  it('writes a user.password_change audit row without any password in it', async () => {
    const user = await createUser(t.dataSource, { email: 'ana@example.com' });
    await change(await bearer(t, user), {
      current_password: DEFAULT_PASSWORD,
      new_password: NEW_PASSWORD,
    }).expect(204);
    const rows = await t.dataSource.getRepository(AuditLogEntry).find();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      actorId: user.id,
      actorEmail: 'ana@example.com',
      action: 'user.password_change',
      targetType: 'user',
      targetId: user.id,
    });
    expect(JSON.stringify(rows[0])).not.toMatch(/passphrase|password_hash|\$2[aby]\$/);
  });

  it('401 current_password_incorrect for a wrong current password; nothing changes', async () => {
    const user = await createUser(t.dataSource, { email: 'ana@example.com' });
    const auth = await bearer(t, user);
    const res = await change(auth, {
      current_password: 'not my password',
      new_password: NEW_PASSWORD,
    });
    expect(res.status).toBe(401);
    expect(res.headers['content-type']).toMatch(PROBLEM);
    expect(res.body).toEqual({
      type: 'urn:portal-api:problem:current_password_incorrect',
      title: 'Unauthorized',
      status: 401,
      detail: 'The current password is not correct.',
    });
    // The token is still good and the old password still works.
    await request(t.server).get('/users/me').set('authorization', auth).expect(200);
    await request(t.server)
      .post('/auth/token')
      .send({ email: 'ana@example.com', password: DEFAULT_PASSWORD })
      .expect(200);
    expect(await t.dataSource.getRepository(AuditLogEntry).count()).toBe(0);
  });

  it('401 current_password_incorrect for a user who has no password yet', async () => {
    const user = await createUser(t.dataSource, { password: null });
    const res = await change(await bearer(t, user), {
      current_password: 'anything at all',
      new_password: NEW_PASSWORD,
    });
    expect(res.status).toBe(401);
    expect(res.body.type).toBe('urn:portal-api:problem:current_password_incorrect');
  });

  it('wrong current passwords count toward the lockout', async () => {
    const user = await createUser(t.dataSource, { email: 'ana@example.com' });
    const auth = await bearer(t, user);
    for (let i = 0; i < 5; i++) {
      await change(auth, { current_password: 'guess', new_password: NEW_PASSWORD }).expect(401);
    }
    const res = await change(auth, {
      current_password: DEFAULT_PASSWORD,
      new_password: NEW_PASSWORD,
    });
    expect(res.status).toBe(429);
    expect(res.headers['retry-after']).toBe('900');
  });

  it('401 without a token (the guard answers, not the route)', async () => {
    const res = await change(undefined, {
      current_password: DEFAULT_PASSWORD,
      new_password: NEW_PASSWORD,
    });
    expect(res.status).toBe(401);
    expect(res.body.type).toBe('urn:portal-api:problem:unauthorized');
  });

  it.each([
    ['shorter than 12 characters', 'short pass', 'must be at least 12 characters long'],
    ['longer than 72 bytes', 'x'.repeat(73), 'must be at most 72 bytes (UTF-8)'],
    ['the email', 'Ana.Lima@Example.com', 'must not be your email address'],
    ['the current password', DEFAULT_PASSWORD, 'must differ from the current password'],
  ])('400 weak_password when the new password is %s', async (_what, newPassword, message) => {
    const user = await createUser(t.dataSource, { email: 'ana.lima@example.com' });
    const auth = await bearer(t, user);
    const res = await change(auth, {
      current_password: DEFAULT_PASSWORD,
      new_password: newPassword,
    });
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(PROBLEM);
    expect(res.body).toEqual({
      type: 'urn:portal-api:problem:weak_password',
      title: 'Bad Request',
      status: 400,
      detail: 'The new password is too weak.',
      errors: [{ field: 'new_password', message }],
    });
    await request(t.server).get('/users/me').set('authorization', auth).expect(200);
  });

  it.each([
    ['no new password', { current_password: DEFAULT_PASSWORD }, 'new_password'],
    ['no current password', { new_password: NEW_PASSWORD }, 'current_password'],
    [
      'a numeric new password',
      { current_password: 'x', new_password: 123456789012 },
      'new_password',
    ],
    [
      'an unknown field',
      { current_password: DEFAULT_PASSWORD, new_password: NEW_PASSWORD, user_id: 'x' },
      'user_id',
    ],
  ])('400 validation_failed for %s', async (_what, body, field) => {
    const user = await createUser(t.dataSource);
    const res = await change(await bearer(t, user), body);
    expect(res.status).toBe(400);
    expect(res.body.type).toBe('urn:portal-api:problem:validation_failed');
    expect(res.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
  });
});

describe('admin bootstrap (ADMIN_EMAIL + ADMIN_PASSWORD)', () => {
  let t: TestApp;
  const ADMIN = { ADMIN_EMAIL: 'Root@Example.com', ADMIN_PASSWORD: 'the admin passphrase' };

  const adminRows = () =>
    t.dataSource.getRepository(User).find({ where: { email: 'root@example.com' } });
  const auditRows = () =>
    t.dataSource.getRepository(AuditLogEntry).find({ where: { action: 'user.create' } });
  const signIn = (password: string) =>
    request(t.server).post('/auth/token').send({ email: 'root@example.com', password });

  beforeAll(async () => {
    t = await createTestApp();
  });
  beforeEach(async () => {
    await truncateAll(t.dataSource);
  });
  afterAll(async () => {
    await t.close();
  });

  it('creates the ADM at start, once', async () => {
    const first = await createTestApp(ADMIN);
    await first.close();
    const rows = await adminRows();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      email: 'root@example.com',
      role: Role.ADM,
      organization: Organization.ALL,
      state: UserState.APPROVED,
      active: ActiveStatus.ACTIVE,
    });
    await signIn(ADMIN.ADMIN_PASSWORD).expect(200);
    expect(await auditRows()).toEqual([
      expect.objectContaining({ actorId: null, targetId: rows[0].id, targetType: 'user' }),
    ]);

    const second = await createTestApp({ ...ADMIN, ADMIN_PASSWORD: 'another admin passphrase' });
    await second.close();
    expect(await adminRows()).toHaveLength(1);
    expect(await auditRows()).toHaveLength(1);
    await signIn(ADMIN.ADMIN_PASSWORD).expect(200);
  });

  it('never overwrites an existing user with that email', async () => {
    const existing = await createUser(t.dataSource, {
      email: 'root@example.com',
      role: Role.USER,
      organization: Organization.DEV,
    });
    const app = await createTestApp(ADMIN);
    await app.close();
    const rows = await adminRows();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      id: existing.id,
      role: Role.USER,
      organization: Organization.DEV,
    });
    await signIn(ADMIN.ADMIN_PASSWORD).expect(401);
    await signIn(DEFAULT_PASSWORD).expect(200);
    expect(await auditRows()).toHaveLength(0);
  });

  it('two replicas starting at once create one admin', async () => {
    const apps = await Promise.all([
      createTestApp(ADMIN),
      createTestApp(ADMIN),
      createTestApp(ADMIN),
    ]);
    await Promise.all(apps.map((a) => a.close()));
    expect(await adminRows()).toHaveLength(1);
    expect(await auditRows()).toHaveLength(1);
    await signIn(ADMIN.ADMIN_PASSWORD).expect(200);
  });

  it('concurrent bootstraps that both find no admin insert it once (ON CONFLICT)', async () => {
    const app = await createTestApp(ADMIN);
    try {
      await truncateAll(t.dataSource);
      const bootstrap = app.app.get(AdminBootstrapService);
      const created = await Promise.all([bootstrap.ensureAdmin(), bootstrap.ensureAdmin()]);
      expect(created.sort()).toEqual([false, true]);
    } finally {
      await app.close();
    }
    expect(await adminRows()).toHaveLength(1);
    expect(await auditRows()).toHaveLength(1);
  });

  it('does nothing without ADMIN_EMAIL', async () => {
    const app = await createTestApp();
    await app.close();
    expect(await t.dataSource.getRepository(User).count()).toBe(0);
  });
});
