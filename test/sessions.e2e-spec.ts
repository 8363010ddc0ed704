import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createHash } from 'node:crypto';
import request from 'supertest';
import { AuditLogEntry } from '../src/audit/entities/audit-log.entity';
import { Clock } from '../src/common/clock';
import { MAX_LIVE_SESSIONS_PER_USER, SessionsService } from '../src/sessions/sessions.service';
import {
  SESSIONS_PURGE_LOCK_KEY,
  SessionsPurgeService,
} from '../src/sessions/sessions-purge.service';
import { ActiveStatus, Organization, Role } from '../src/users/user.enums';
import { rotatePassword } from '../tools/rotation/rotate-password';
import { truncateAll } from './utils/db';
import {
  bearer,
  createUser,
  DEFAULT_PASSWORD,
  refreshTokenFor,
  sessionFor,
  tokenPairFor,
} from './utils/factories';
import { FakeSecretsManager } from './utils/fake-secrets-manager';
import { expectProblem } from './utils/problem';
import { createTestApp, TestApp } from './utils/test-app';

const DAY = 86_400_000;

interface SessionRow {
  id: string;
  user_id: string;
  created_at: Date;
  last_used_at: Date;
  ip: string | null;
  user_agent: string | null;
  revoked_at: Date | null;
  expires_at: Date;
}

describe('sessions, refresh tokens, logout', () => {
  let t: TestApp;
  let now: Date;

  const refresh = (token: unknown, userAgent = 'refresher/1.0') =>
    request(t.server)
      .post('/auth/refresh')
      .set('user-agent', userAgent)
      .send({ refresh_token: token });
  const me = (authorization: string) =>
    request(t.server).get('/users/me').set('authorization', authorization);
  const sessionRows = (userId: string): Promise<SessionRow[]> =>
    t.dataSource.query('SELECT * FROM sessions WHERE user_id = $1 ORDER BY created_at', [userId]);
  const sessionRow = async (id: string): Promise<SessionRow | undefined> => {
    const rows: SessionRow[] = await t.dataSource.query('SELECT * FROM sessions WHERE id = $1', [
      id,
    ]);
    return rows[0];
  };
  /** Moves the app's clock (sessions read "now" from it); access tokens keep real time. */
  const setNow = (at: Date) => {
    now = at;
  };

  beforeAll(async () => {
    t = await createTestApp();
  });
  beforeEach(async () => {
    await truncateAll(t.dataSource);
    now = new Date();
    jest.spyOn(t.app.get(Clock), 'now').mockImplementation(() => now);
  });
  afterEach(() => {
    jest.restoreAllMocks();
  });
  afterAll(async () => {
    await t.close();
  });

  describe('sign-in', () => {
    it('creates a session with the client, and stores the refresh token only as its SHA-256', async () => {
      const user = await createUser(t.dataSource, { email: 'ana@example.com' });
      const res = await request(t.server)
        .post('/auth/token')
        .set('user-agent', 'Mozilla/5.0\t(test) ')
        .send({ email: 'ana@example.com', password: DEFAULT_PASSWORD });
      expect(res.status).toBe(200);
      expect(res.body.refresh_token).toMatch(/^[A-Za-z0-9_-]{43}$/); // 256 bits
      expect(res.body.refresh_expires_in).toBe(7 * 86400);
      const [session] = await sessionRows(user.id);
      expect(session).toMatchObject({
        ip: '127.0.0.1',
        user_agent: 'Mozilla/5.0 (test)',
        revoked_at: null,
      });
      expect(session.expires_at.getTime() - session.created_at.getTime()).toBe(30 * DAY);
      expect(session.last_used_at).toEqual(session.created_at);
      const tokens: Array<{ token_hash: Buffer; session_id: string; spent_at: Date | null }> =
        await t.dataSource.query('SELECT * FROM refresh_tokens');
      expect(tokens).toEqual([
        {
          token_hash: createHash('sha256').update(res.body.refresh_token).digest(),
          session_id: session.id,
          created_at: session.created_at,
          spent_at: null,
        },
      ]);
      const everything = JSON.stringify(
        await t.dataSource.query(
          `SELECT s.*, encode(r.token_hash, 'escape') AS h FROM sessions s JOIN refresh_tokens r ON r.session_id = s.id`,
        ),
      );
      expect(everything).not.toContain(res.body.refresh_token);
    });

    it('keeps at most 512 characters of the User-Agent', async () => {
      const user = await createUser(t.dataSource, { email: 'ana@example.com' });
      await request(t.server)
        .post('/auth/token')
        .set('user-agent', 'x'.repeat(2000))
        .send({ email: 'ana@example.com', password: DEFAULT_PASSWORD })
        .expect(200);
      expect((await sessionRows(user.id))[0].user_agent).toBe('x'.repeat(512));
    });

    it('every sign-in is its own session', async () => {
      const user = await createUser(t.dataSource, { email: 'ana@example.com' });
      for (let i = 0; i < 3; i++) {
        await request(t.server)
          .post('/auth/token')
          .send({ email: 'ana@example.com', password: DEFAULT_PASSWORD })
          .expect(200);
      }
      expect(await sessionRows(user.id)).toHaveLength(3);
    });

    it(`keeps at most ${MAX_LIVE_SESSIONS_PER_USER} live sessions: one more ends the least recently used`, async () => {
      const user = await createUser(t.dataSource);
      const sessions = t.app.get(SessionsService);
      const first = await sessions.start(user.id, { ip: null, userAgent: null });
      for (let i = 1; i < MAX_LIVE_SESSIONS_PER_USER; i++) {
        setNow(new Date(now.getTime() + 1000));
        await sessions.start(user.id, { ip: null, userAgent: null });
      }
      expect((await sessionRow(first.sessionId))!.revoked_at).toBeNull();
      setNow(new Date(now.getTime() + 1000));
      await sessions.start(user.id, { ip: null, userAgent: null });
      expect((await sessionRow(first.sessionId))!.revoked_at).not.toBeNull();
      const live = await t.dataSource.query(
        'SELECT count(*)::int AS n FROM sessions WHERE user_id = $1 AND revoked_at IS NULL',
        [user.id],
      );
      expect(live[0].n).toBe(MAX_LIVE_SESSIONS_PER_USER);
    });
  });

  describe('POST /auth/refresh', () => {
    it('spends the token and answers a new pair of the same session', async () => {
      const user = await createUser(t.dataSource);
      const pair = await tokenPairFor(t, user);
      setNow(new Date(now.getTime() + 60_000));
      const res = await refresh(pair.refresh_token);
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body).toEqual({
        access_token: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/),
        token_type: 'bearer',
        expires_in: 900,
        refresh_token: expect.stringMatching(/^[\w-]{43}$/),
        refresh_expires_in: 7 * 86400,
      });
      expect(res.body.refresh_token).not.toBe(pair.refresh_token);
      const sid = (token: string) =>
        JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).sid;
      expect(sid(res.body.access_token)).toBe(sid(pair.access_token));
      // Both access tokens belong to the live session; the new refresh token works.
      await me(`Bearer ${pair.access_token}`).expect(200);
      await me(`Bearer ${res.body.access_token}`).expect(200);
      const [session] = await sessionRows(user.id);
      expect(session.last_used_at).toEqual(now);
      expect(session.user_agent).toBe('refresher/1.0');
      await refresh(res.body.refresh_token).expect(200);
    });

    it('accepts the OAuth2 form (grant_type=refresh_token)', async () => {
      const user = await createUser(t.dataSource);
      const token = await refreshTokenFor(t, user);
      const res = await request(t.server)
        .post('/auth/refresh')
        .set('content-type', 'application/x-www-form-urlencoded')
        .send(`grant_type=refresh_token&refresh_token=${token}`);
      expect(res.status).toBe(200);
      expect(res.body.token_type).toBe('bearer');
    });

    it('a spent token presented again is reuse: 401, the whole session ends, audited', async () => {
      const user = await createUser(t.dataSource, { email: 'ana@example.com' });
      const pair = await tokenPairFor(t, user);
      const next = await refresh(pair.refresh_token).expect(200);
      const again = await refresh(pair.refresh_token, 'thief/0.1');
      expectProblem(again, 401, 'refresh_token_reused');
      // The session is over: the newest refresh token and every access token of it.
      expectProblem(await refresh(next.body.refresh_token), 401, 'invalid_refresh_token');
      expectProblem(await me(`Bearer ${next.body.access_token}`), 401, 'invalid_token');
      expectProblem(await me(`Bearer ${pair.access_token}`), 401, 'invalid_token');
      const [session] = await sessionRows(user.id);
      expect(session.revoked_at).not.toBeNull();
      const audit = await t.dataSource.getRepository(AuditLogEntry).find();
      expect(audit).toEqual([
        expect.objectContaining({
          actorId: null,
          action: 'auth.refresh_reused',
          targetType: 'session',
          targetId: session.id,
          after: {
            user_id: user.id,
            email: 'ana@example.com',
            ip: '127.0.0.1',
            user_agent: 'thief/0.1',
          },
        }),
      ]);
      // Presented once more: still reuse, but nothing left to revoke or audit.
      expectProblem(await refresh(pair.refresh_token), 401, 'refresh_token_reused');
      expect(await t.dataSource.getRepository(AuditLogEntry).count()).toBe(1);
    });

    it('of concurrent refreshes with one token exactly one succeeds (the others are reuse)', async () => {
      for (const parallel of [2, 6]) {
        const user = await createUser(t.dataSource);
        const token = await refreshTokenFor(t, user);
        const results = await Promise.all(Array.from({ length: parallel }, () => refresh(token)));
        const statuses = results.map((r) => r.status).sort();
        expect(statuses).toEqual([200, ...Array(parallel - 1).fill(401)]);
        for (const r of results.filter((x) => x.status === 401)) {
          expectProblem(r, 401, 'refresh_token_reused');
        }
        // Exactly one next token was ever made, and the session is revoked for the reuse.
        const [session] = await sessionRows(user.id);
        const issued = await t.dataSource.query(
          'SELECT count(*)::int AS n FROM refresh_tokens WHERE session_id = $1',
          [session.id],
        );
        expect(issued[0].n).toBe(2);
        expect(session.revoked_at).not.toBeNull();
      }
    });

    it.each<[string, unknown]>([
      ['an unknown token', 'A'.repeat(43)],
      ['a truncated token', 'placeholder-truncated'],
      ['an oversized token', 'x'.repeat(200_000)],
      ['an empty string', ''],
      ['an access token', 'placeholder-access'],
      ['a token with a padding character', 'placeholder-padded'],
      ['SQL', "' OR 1=1 --"],
    ])('401 invalid_refresh_token for %s', async (what, value) => {
      const user = await createUser(t.dataSource);
      const pair = await tokenPairFor(t, user);
      const token =
        what === 'a truncated token'
          ? pair.refresh_token.slice(0, 30)
          : what === 'an access token'
            ? pair.access_token
            : what === 'a token with a padding character'
              ? `${pair.refresh_token}=`
              : value;
      expectProblem(await refresh(token), 401, 'invalid_refresh_token');
      // The real token was not touched.
      await refresh(pair.refresh_token).expect(200);
    });

    it.each<[string, object]>([
      ['no token', {}],
      ['a number', { refresh_token: 12345 }],
      ['an object', { refresh_token: { $ne: null } }],
      ['an unknown field', { refresh_token: 'A'.repeat(43), user_id: 'x' }],
      ['another grant_type', { refresh_token: 'A'.repeat(43), grant_type: 'password' }],
    ])('400 naming the field for %s', async (_what, body) => {
      const res = await request(t.server).post('/auth/refresh').send(body);
      expectProblem(res, 400);
      expect(res.body.errors?.length).toBeGreaterThan(0);
    });

    it('a session ends after REFRESH_IDLE_TTL without a refresh', async () => {
      const user = await createUser(t.dataSource);
      const pair = await tokenPairFor(t, user);
      const start = now.getTime();
      setNow(new Date(start + 7 * DAY - 1000));
      const kept = await refresh(pair.refresh_token).expect(200);
      // Idle counts from the last refresh.
      setNow(new Date(start + 14 * DAY - 2000));
      const kept2 = await refresh(kept.body.refresh_token).expect(200);
      setNow(new Date(start + 21 * DAY));
      expectProblem(await refresh(kept2.body.refresh_token), 401, 'invalid_refresh_token');
    });

    it("an ended session's access tokens stop at once (idle or absolute end, by real time)", async () => {
      const user = await createUser(t.dataSource);
      const idle = await tokenPairFor(t, user);
      const over = await tokenPairFor(t, user);
      await me(`Bearer ${idle.access_token}`).expect(200);
      await t.dataSource.query(
        `UPDATE sessions SET last_used_at = now() - interval '7 days 1 second'
         WHERE id = (SELECT session_id FROM refresh_tokens WHERE token_hash = $1)`,
        [createHash('sha256').update(idle.refresh_token).digest()],
      );
      await t.dataSource.query(
        `UPDATE sessions SET expires_at = now() - interval '1 second'
         WHERE id = (SELECT session_id FROM refresh_tokens WHERE token_hash = $1)`,
        [createHash('sha256').update(over.refresh_token).digest()],
      );
      expectProblem(await me(`Bearer ${idle.access_token}`), 401, 'invalid_token');
      expectProblem(await me(`Bearer ${over.access_token}`), 401, 'invalid_token');
    });

    it('a session ends REFRESH_ABSOLUTE_TTL after the sign-in, however often it is refreshed', async () => {
      const user = await createUser(t.dataSource);
      let token = await refreshTokenFor(t, user);
      const start = now.getTime();
      for (const day of [6, 12, 18, 24, 29]) {
        setNow(new Date(start + day * DAY));
        const res = await refresh(token).expect(200);
        token = res.body.refresh_token;
        // Never promised beyond the absolute end.
        expect(res.body.refresh_expires_in).toBe(Math.min(7 * 86400, (30 - day) * 86400));
      }
      setNow(new Date(start + 30 * DAY));
      expectProblem(await refresh(token), 401, 'invalid_refresh_token');
    });

    it('401 account_inactive for a deactivated user, without spending the token', async () => {
      const user = await createUser(t.dataSource);
      const token = await refreshTokenFor(t, user);
      await t.dataSource.query(`UPDATE users SET active = 'DISCONNECTED' WHERE id = $1`, [user.id]);
      expectProblem(await refresh(token), 401, 'account_inactive');
      await t.dataSource.query(`UPDATE users SET active = 'ACTIVE' WHERE id = $1`, [user.id]);
      await refresh(token).expect(200);
    });

    it('the refreshed access token carries the current token_version', async () => {
      const user = await createUser(t.dataSource);
      const token = await refreshTokenFor(t, user);
      await t.dataSource.query('UPDATE users SET token_version = 5 WHERE id = $1', [user.id]);
      const res = await refresh(token).expect(200);
      await me(`Bearer ${res.body.access_token}`).expect(200);
    });
  });

  describe('POST /auth/logout', () => {
    const logout = () => request(t.server).post('/auth/logout');

    it('with a refresh token alone: 204, that session ends, others go on', async () => {
      const user = await createUser(t.dataSource);
      const pair = await tokenPairFor(t, user);
      const other = await tokenPairFor(t, user);
      const res = await logout().send({ refresh_token: pair.refresh_token });
      expect(res.status).toBe(204);
      expect(res.text).toBe('');
      expectProblem(await me(`Bearer ${pair.access_token}`), 401, 'invalid_token');
      expectProblem(await refresh(pair.refresh_token), 401, 'invalid_refresh_token');
      await me(`Bearer ${other.access_token}`).expect(200);
      expectProblem(
        await logout().send({ refresh_token: pair.refresh_token }),
        401,
        'invalid_refresh_token',
      );
    });

    it("with a bearer token and no body: 204, the bearer's session ends", async () => {
      const user = await createUser(t.dataSource);
      const pair = await tokenPairFor(t, user);
      const other = await tokenPairFor(t, user);
      await logout().set('authorization', `Bearer ${pair.access_token}`).expect(204);
      expectProblem(await me(`Bearer ${pair.access_token}`), 401, 'invalid_token');
      expectProblem(await refresh(pair.refresh_token), 401, 'invalid_refresh_token');
      await me(`Bearer ${other.access_token}`).expect(200);
      await refresh(other.refresh_token).expect(200);
    });

    it('the refresh token wins over a stale bearer token', async () => {
      const user = await createUser(t.dataSource);
      const pair = await tokenPairFor(t, user);
      await logout()
        .set('authorization', 'Bearer expired.or.garbage')
        .send({ refresh_token: pair.refresh_token })
        .expect(204);
      expectProblem(await refresh(pair.refresh_token), 401, 'invalid_refresh_token');
    });

    it('401 without any credential, or with a bad one', async () => {
      expectProblem(await logout(), 401, 'unauthorized');
      expectProblem(await logout().set('authorization', 'Bearer a.b.c'), 401, 'invalid_token');
      expectProblem(await logout().send({ refresh_token: 'nope' }), 401, 'invalid_refresh_token');
    });

    it('a spent refresh token is reuse here too: 401, and the session ends', async () => {
      const user = await createUser(t.dataSource);
      const pair = await tokenPairFor(t, user);
      const next = await refresh(pair.refresh_token).expect(200);
      expectProblem(
        await logout().send({ refresh_token: pair.refresh_token }),
        401,
        'refresh_token_reused',
      );
      expectProblem(await refresh(next.body.refresh_token), 401, 'invalid_refresh_token');
    });

    it.each<[string, string, string]>([
      ['an array', 'application/json', '["x"]'],
      ['an unknown field', 'application/json', '{"session_id":"x"}'],
      ['a numeric token', 'application/json', '{"refresh_token":1}'],
    ])('400 for %s', async (_what, type, body) => {
      const user = await createUser(t.dataSource);
      const res = await logout()
        .set('authorization', await bearer(t, user))
        .set('content-type', type)
        .send(body);
      expectProblem(res, 400);
    });
  });

  describe('GET /auth/sessions and DELETE /auth/sessions/:id', () => {
    it("lists the caller's live sessions, newest use first, marking the current one", async () => {
      const user = await createUser(t.dataSource);
      const stranger = await createUser(t.dataSource);
      await tokenPairFor(t, stranger);
      const old = await sessionFor(t, user, { ip: '10.0.0.1', userAgent: 'old phone' });
      setNow(new Date(now.getTime() + 60_000));
      const ended = await sessionFor(t, user);
      await t.app.get(SessionsService).end(user.id, ended.sessionId);
      setNow(new Date(now.getTime() + 60_000));
      const mine = await tokenPairFor(t, user);
      const res = await request(t.server)
        .get('/auth/sessions')
        .set('authorization', `Bearer ${mine.access_token}`);
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      const rows = await sessionRows(user.id);
      const current = rows.find((r) => r.id !== old.sessionId && r.id !== ended.sessionId)!;
      expect(res.body).toEqual({
        items: [
          {
            id: current.id,
            created_at: current.created_at.toISOString(),
            last_used_at: current.last_used_at.toISOString(),
            ip: '127.0.0.1',
            user_agent: 'portal-api tests',
            current: true,
          },
          {
            id: old.sessionId,
            created_at: expect.any(String),
            last_used_at: expect.any(String),
            ip: '10.0.0.1',
            user_agent: 'old phone',
            current: false,
          },
        ],
      });
      expect(JSON.stringify(res.body)).not.toContain(mine.refresh_token);
    });

    it('leaves out sessions past their idle or absolute end', async () => {
      const user = await createUser(t.dataSource);
      const idle = await sessionFor(t, user);
      await t.dataSource.query(
        `UPDATE sessions SET last_used_at = now() - interval '8 days' WHERE id = $1`,
        [idle.sessionId],
      );
      const over = await sessionFor(t, user);
      await t.dataSource.query(
        `UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id = $1`,
        [over.sessionId],
      );
      const res = await request(t.server)
        .get('/auth/sessions')
        .set('authorization', await bearer(t, user));
      expect(res.body.items).toHaveLength(1);
      expect(res.body.items[0].current).toBe(true);
    });

    it('DELETE ends one of your sessions: 204, and its tokens stop at once', async () => {
      const user = await createUser(t.dataSource);
      const phone = await tokenPairFor(t, user);
      const laptop = await bearer(t, user);
      const sid = (await sessionRows(user.id))[0].id;
      const res = await request(t.server)
        .delete(`/auth/sessions/${sid}`)
        .set('authorization', laptop);
      expect(res.status).toBe(204);
      expectProblem(await me(`Bearer ${phone.access_token}`), 401, 'invalid_token');
      expectProblem(await refresh(phone.refresh_token), 401, 'invalid_refresh_token');
      await me(laptop).expect(200);
      // Gone is gone: a second DELETE is a 404.
      expectProblem(
        await request(t.server).delete(`/auth/sessions/${sid}`).set('authorization', laptop),
        404,
        'session_not_found',
      );
    });

    it("404 for someone else's session and an unknown id; 400 for a non-UUID; 401 without a token", async () => {
      const user = await createUser(t.dataSource);
      const stranger = await createUser(t.dataSource);
      const theirs = await tokenPairFor(t, stranger);
      const theirSid = (await sessionRows(stranger.id))[0].id;
      const auth = await bearer(t, user);
      const del = (id: string) =>
        request(t.server).delete(`/auth/sessions/${id}`).set('authorization', auth);
      expectProblem(await del(theirSid), 404, 'session_not_found');
      expectProblem(await del('6f1c2e1e-3a4b-4c5d-8e9f-0a1b2c3d4e5f'), 404, 'session_not_found');
      expectProblem(await del('not-a-uuid'), 400, 'validation_failed');
      await me(`Bearer ${theirs.access_token}`).expect(200);
      expectProblem(await request(t.server).get('/auth/sessions'), 401, 'unauthorized');
      expectProblem(await request(t.server).delete(`/auth/sessions/${theirSid}`), 401);
    });
  });

  describe('what ends every session of a user', () => {
    async function adminAndTarget() {
      const admin = await createUser(t.dataSource, {
        role: Role.ADM,
        organization: Organization.ALL,
      });
      const target = await createUser(t.dataSource, { role: Role.USER });
      const pairs = [await tokenPairFor(t, target), await tokenPairFor(t, target)];
      return { adminAuth: await bearer(t, admin), target, pairs };
    }

    async function expectAllEnded(pairs: Array<{ access_token: string; refresh_token: string }>) {
      for (const pair of pairs) {
        expect((await me(`Bearer ${pair.access_token}`)).status).toBe(401);
        expectProblem(await refresh(pair.refresh_token), 401, 'invalid_refresh_token');
      }
    }

    it.each<[string, object]>([
      ['a role change', { role: Role.PRESIDENT }],
      ['a deactivation', { active: ActiveStatus.FREEZED }],
    ])('%s', async (_what, patch) => {
      const { adminAuth, target, pairs } = await adminAndTarget();
      await request(t.server)
        .patch(`/users/${target.id}`)
        .set('authorization', adminAuth)
        .send(patch)
        .expect(200);
      await expectAllEnded(pairs);
      await t.dataSource.query(`UPDATE users SET active = 'ACTIVE' WHERE id = $1`, [target.id]);
      await expectAllEnded(pairs); // reactivating revives nothing
    });

    it('an edit that changes neither role, password nor activity ends nothing', async () => {
      const { adminAuth, target, pairs } = await adminAndTarget();
      await request(t.server)
        .patch(`/users/${target.id}`)
        .set('authorization', adminAuth)
        .send({ name: 'A New Name' })
        .expect(200);
      for (const pair of pairs) await me(`Bearer ${pair.access_token}`).expect(200);
    });

    it('a deletion: the sessions go with the user', async () => {
      const { adminAuth, target, pairs } = await adminAndTarget();
      await request(t.server)
        .delete(`/users/${target.id}`)
        .set('authorization', adminAuth)
        .expect(204);
      expect(await sessionRows(target.id)).toEqual([]);
      await expectAllEnded(pairs);
    });

    it('the password rotation CLI', async () => {
      const target = await createUser(t.dataSource, { email: 'rotated@example.com' });
      const pairs = [await tokenPairFor(t, target)];
      const sm = new FakeSecretsManager();
      try {
        await rotatePassword(
          {
            secretId: 'portal/test/rotated',
            email: 'rotated@example.com',
            role: Role.USER,
            disabled: false,
            name: 'Rotated',
            organization: Organization.DEV,
            bcryptCost: 4,
          },
          {
            secrets: new SecretsManagerClient({ region: 'sa-east-1' }),
            dataSource: t.dataSource,
            out: () => undefined,
            generate: () => 'a generated password for the test',
          },
        );
      } finally {
        sm.mock.restore();
      }
      await expectAllEnded(pairs);
    });
  });

  describe('purge', () => {
    it('deletes revoked, idle and expired sessions with their refresh tokens; keeps live ones', async () => {
      const user = await createUser(t.dataSource);
      const [live, revoked, idle, expired] = [
        await sessionFor(t, user),
        await sessionFor(t, user),
        await sessionFor(t, user),
        await sessionFor(t, user),
      ];
      await t.app.get(SessionsService).end(user.id, revoked.sessionId);
      await t.dataSource.query(
        `UPDATE sessions SET last_used_at = now() - interval '7 days 1 minute' WHERE id = $1`,
        [idle.sessionId],
      );
      await t.dataSource.query(
        `UPDATE sessions SET expires_at = now() - interval '1 minute' WHERE id = $1`,
        [expired.sessionId],
      );
      const result = await t.app.get(SessionsPurgeService).purge();
      expect(result).toEqual({ ran: true, deleted: 3 });
      expect((await sessionRows(user.id)).map((s) => s.id)).toEqual([live.sessionId]);
      const tokens: Array<{ session_id: string }> = await t.dataSource.query(
        'SELECT session_id FROM refresh_tokens',
      );
      expect(tokens.map((r) => r.session_id)).toEqual([live.sessionId]);
      await refresh(live.refreshToken).expect(200);
    });

    it('runs once across replicas: another holder of the lock makes it skip', async () => {
      const user = await createUser(t.dataSource);
      const gone = await sessionFor(t, user);
      await t.app.get(SessionsService).end(user.id, gone.sessionId);
      const runner = t.dataSource.createQueryRunner();
      await runner.connect();
      try {
        await runner.query('SELECT pg_advisory_lock($1)', [SESSIONS_PURGE_LOCK_KEY]);
        expect(await t.app.get(SessionsPurgeService).purge()).toEqual({ ran: false, deleted: 0 });
        await runner.query('SELECT pg_advisory_unlock($1)', [SESSIONS_PURGE_LOCK_KEY]);
      } finally {
        await runner.release();
      }
      const twice = await Promise.all([
        t.app.get(SessionsPurgeService).purge(),
        t.app.get(SessionsPurgeService).purge(),
      ]);
      expect(twice.reduce((n, r) => n + r.deleted, 0)).toBe(1);
      expect(await sessionRows(user.id)).toEqual([]);
    });

    it('deletes a backlog larger than one batch', async () => {
      const user = await createUser(t.dataSource);
      await t.dataSource.query(
        `INSERT INTO sessions (user_id, created_at, last_used_at, expires_at, revoked_at)
         SELECT $1, now(), now(), now() + interval '1 day', now() FROM generate_series(1, 2500)`,
        [user.id],
      );
      expect(await t.app.get(SessionsPurgeService).purge()).toEqual({ ran: true, deleted: 2500 });
    });
  });
});
