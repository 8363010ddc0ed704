import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { Clock } from '../src/common/clock';
import { ActiveStatus, Organization, Role, UserState } from '../src/users/user.enums';
import { User } from '../src/users/entities/user.entity';
import { purgeWarningEvents } from '../src/warnings/stream/warning-events';
import { WarningStreamHub } from '../src/warnings/stream/warning-stream.hub';
import { truncateAll } from './utils/db';
import { bearer, createUser } from './utils/factories';
import { SseClient } from './utils/sse';
import { createTestApp, TestApp } from './utils/test-app';

const PROBLEM = /application\/problem\+json/;
const HOUR = 60 * 60 * 1000;

interface WarningData {
  id: string;
  title: string;
  target_role: string;
}

describe('GET /warnings/stream', () => {
  let t: TestApp;
  let port: number;
  let adm: User;
  let admAuth: string;
  const open: SseClient[] = [];

  beforeAll(async () => {
    t = await createTestApp({
      STREAMS_PER_USER: '2',
      STREAM_AUTH_CHECK_INTERVAL_MS: '200',
      STREAM_HEARTBEAT_MS: '300',
    });
    await t.app.listen(0, '127.0.0.1');
    port = (t.server.address() as AddressInfo).port;
    const hub = t.app.get(WarningStreamHub);
    for (let i = 0; i < 100 && !hub.accepting; i++) await new Promise((r) => setTimeout(r, 50));
    expect(hub.accepting).toBe(true);
  });
  beforeEach(async () => {
    await truncateAll(t.dataSource);
    adm = await createUser(t.dataSource, { role: Role.ADM, organization: null });
    admAuth = await bearer(t, adm);
  });
  afterEach(() => {
    for (const c of open.splice(0)) c.close();
    jest.restoreAllMocks();
  });
  afterAll(async () => {
    await t.close();
  });

  /** Opens a stream and waits for `ready` (the replay is done, the stream is live). */
  async function connect(
    auth: string | undefined,
    {
      path = '/warnings/stream',
      headers = {},
    }: { path?: string; headers?: Record<string, string> } = {},
  ): Promise<SseClient> {
    const client = await SseClient.open(port, path, {
      ...(auth ? { authorization: auth } : {}),
      ...headers,
    });
    open.push(client);
    if (client.status === 200) await client.next('ready');
    return client;
  }

  async function userWith(role: Role, organization: Organization | null): Promise<[User, string]> {
    const user = await createUser(t.dataSource, { role, organization });
    return [user, await bearer(t, user)];
  }

  async function createWarning(
    targetRole: Role,
    targetOrg: Organization | null,
    title: string,
    expiresAt = new Date(Date.now() + 24 * HOUR),
  ): Promise<string> {
    const res = await request(t.server).post('/warnings').set('authorization', admAuth).send({
      title,
      description: 'details',
      target_role: targetRole,
      target_org: targetOrg,
      expires_at: expiresAt.toISOString(),
    });
    expect(res.status).toBe(201);
    return res.body.id as string;
  }

  const titles = (c: SseClient) => c.dataOf<WarningData>('warning').map((w) => w.title);

  it('answers an event stream: headers, retry, ready with the position', async () => {
    const [, auth] = await userWith(Role.USER, Organization.DEV);
    const c = await connect(auth, { headers: { 'x-request-id': 'stream-1' } });
    expect(c.status).toBe(200);
    expect(c.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(c.headers['cache-control']).toBe('no-cache, no-transform');
    expect(c.headers['x-request-id']).toBe('stream-1');
    expect(c.retry).toBe(3000);
    const ready = await c.next('ready');
    expect(ready.id).toMatch(/^\d+$/);
    expect(JSON.parse(ready.data)).toEqual({ replayed: 0 });
  });

  it('delivers a created warning within 1 s, to its audience and ADMs only', async () => {
    const [, devUser] = await userWith(Role.USER, Organization.DEV);
    const [, nawatPresident] = await userWith(Role.PRESIDENT, Organization.NAWAT);
    const user = await connect(devUser);
    const president = await connect(nawatPresident);
    const admin = await connect(admAuth);

    const started = Date.now();
    const first = await createWarning(Role.USER, Organization.DEV, 'for DEV users');
    const arrived = await user.next('warning', 1000);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(arrived.id).toMatch(new RegExp(`^\\d+\\.${first}$`));
    expect(JSON.parse(arrived.data)).toMatchObject({
      id: first,
      title: 'for DEV users',
      target_role: 'USER',
      target_org: 'DEV',
      description: 'details',
    });

    await createWarning(Role.PRESIDENT, Organization.ALL, 'for every president');
    await createWarning(Role.USER, Organization.NAWAT, 'for NAWAT users');
    await createWarning(Role.PRESIDENT, Organization.DEV, 'for DEV presidents');
    // The ADM hears everything; events are offered to every stream in one pass, so once it has
    // the last one, the others have been offered all four.
    await admin.next('warning', 2000, 3);
    expect(titles(admin)).toEqual([
      'for DEV users',
      'for every president',
      'for NAWAT users',
      'for DEV presidents',
    ]);
    expect(titles(user)).toEqual(['for DEV users']);
    expect(titles(president)).toEqual(['for every president']);
    // ids grow with every event.
    const positions = admin.events
      .filter((e) => e.event === 'warning')
      .map((e) => Number(e.id!.split('.')[0]));
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });

  it('a change arrives as `warning`; a move to another audience and a deletion as `warning-removed`', async () => {
    const [, userAuth] = await userWith(Role.USER, Organization.DEV);
    const [, presidentAuth] = await userWith(Role.PRESIDENT, Organization.DEV);
    const user = await connect(userAuth);
    const president = await connect(presidentAuth);
    const admin = await connect(admAuth);
    const id = await createWarning(Role.USER, null, 'v1');
    await user.next('warning');

    const patch = (body: object) =>
      request(t.server).patch(`/warnings/${id}`).set('authorization', admAuth).send(body);
    expect((await patch({ title: 'v2' })).status).toBe(200);
    expect(JSON.parse((await user.next('warning', 2000, 1)).data)).toMatchObject({ title: 'v2' });

    expect((await patch({ target_role: 'PRESIDENT' })).status).toBe(200);
    expect(JSON.parse((await user.next('warning-removed')).data)).toEqual({
      id,
      reason: 'retargeted',
    });
    expect(JSON.parse((await president.next('warning')).data)).toMatchObject({
      id,
      title: 'v2',
      target_role: 'PRESIDENT',
    });

    expect(
      (await request(t.server).delete(`/warnings/${id}`).set('authorization', admAuth)).status,
    ).toBe(204);
    expect(JSON.parse((await president.next('warning-removed')).data)).toEqual({
      id,
      reason: 'deleted',
    });
    await admin.next('warning-removed');
    expect(admin.dataOf('warning-removed')).toEqual([{ id, reason: 'deleted' }]);
    expect(titles(admin)).toEqual(['v1', 'v2', 'v2']);
    expect(user.dataOf('warning-removed')).toEqual([{ id, reason: 'retargeted' }]);
  });

  it('sends `warning-removed` (expired) when expires_at passes, and records it for replay', async () => {
    const [, userAuth] = await userWith(Role.USER, Organization.DEV);
    const user = await connect(userAuth);
    const admin = await connect(admAuth);
    const id = await createWarning(Role.USER, null, 'short', new Date(Date.now() + 1500));
    await user.next('warning');
    // The sweep runs when the next expiry is due (one shared timer, every second).
    const removed = await user.next('warning-removed', 6000);
    expect(JSON.parse(removed.data)).toEqual({ id, reason: 'expired' });
    expect(removed.id).toMatch(new RegExp(`^\\d+\\.${id}$`));
    expect(JSON.parse((await admin.next('warning-removed')).data)).toEqual({
      id,
      reason: 'expired',
    });
    const rows: Array<{ kind: string }> = await t.dataSource.query(
      'SELECT kind FROM warning_events WHERE warning_id = $1 ORDER BY id',
      [id],
    );
    expect(rows.map((r) => r.kind)).toEqual(['created', 'expired']);
  });

  it('sends a heartbeat comment on the shared timer', async () => {
    const [, auth] = await userWith(Role.USER, Organization.DEV);
    const c = await connect(auth);
    await c.until('two heartbeats', () => c.comments >= 2, 3000);
    expect(c.body()).toContain(': heartbeat\n\n');
  });

  describe('Last-Event-ID', () => {
    it('replays, from the table, exactly what the caller missed, then goes live', async () => {
      const [, auth] = await userWith(Role.USER, Organization.DEV);
      const first = await connect(auth);
      const start = (await first.next('ready')).id!;
      first.close();

      const a = await createWarning(Role.USER, Organization.DEV, 'missed 1');
      await createWarning(Role.PRESIDENT, null, 'not for users');
      await createWarning(Role.USER, Organization.NAWAT, 'not for DEV');
      const b = await createWarning(Role.USER, null, 'missed 2');
      await request(t.server)
        .patch(`/warnings/${a}`)
        .set('authorization', admAuth)
        .send({ title: 'missed 1, changed' })
        .expect(200);

      const resumed = await connect(auth, { headers: { 'last-event-id': start } });
      expect(titles(resumed)).toEqual(['missed 1', 'missed 2', 'missed 1, changed']);
      const ready = await resumed.next('ready');
      expect(JSON.parse(ready.data)).toEqual({ replayed: 3 });
      expect(resumed.dataOf<WarningData>('warning').map((w) => w.id)).toEqual([a, b, a]);

      // From the id of an event it received: only what came after it.
      const fromEvent = resumed.events.find((e) => e.event === 'warning')!.id!;
      const again = await connect(auth, { path: `/warnings/stream?last_event_id=${fromEvent}` });
      expect(titles(again)).toEqual(['missed 2', 'missed 1, changed']);

      // And live again afterwards.
      await createWarning(Role.USER, Organization.DEV, 'live');
      await again.next('warning', 2000, 2);
      expect(titles(again)).toEqual(['missed 2', 'missed 1, changed', 'live']);
    });

    it('a position it cannot replay exactly gets `resync` (unknown, from another database, purged)', async () => {
      const [, userAuth] = await userWith(Role.USER, Organization.DEV);
      const [, presidentAuth] = await userWith(Role.PRESIDENT, Organization.DEV);
      const future = await connect(userAuth, { headers: { 'last-event-id': '999999999' } });
      expect(future.dataOf('resync')).toEqual([{ reason: 'history_unavailable' }]);

      const c = await connect(userAuth);
      const start = Number((await c.next('ready')).id);
      const id = await createWarning(Role.USER, null, 'u');
      const event = await c.next('warning');
      const foreign = `${event.id!.split('.')[0]}.00000000-0000-4000-8000-000000000000`;
      const other = await connect(userAuth, { headers: { 'last-event-id': foreign } });
      expect(other.dataOf('resync')).toHaveLength(1);
      expect(event.id).toBe(`${Number(event.id!.split('.')[0])}.${id}`);

      // Events older than the retention are purged: a USER whose missed event is gone must
      // re-read; a PRESIDENT, who missed nothing that was purged, still resumes exactly.
      await t.dataSource.query(
        `UPDATE warning_events SET created_at = now() - interval '3 hours' WHERE id > $1`,
        [start],
      );
      expect(await purgeWarningEvents(t.dataSource)).toBe(1);
      const late = await connect(userAuth, { headers: { 'last-event-id': String(start) } });
      expect(late.dataOf('resync')).toEqual([{ reason: 'history_unavailable' }]);
      expect(titles(late)).toEqual([]);
      const president = await connect(presidentAuth, {
        headers: { 'last-event-id': String(start) },
      });
      expect(president.dataOf('resync')).toEqual([]);
      expect(JSON.parse((await president.next('ready')).data)).toEqual({ replayed: 0 });
    });

    it('a malformed Last-Event-ID or last_event_id is a 400 naming it; an empty one means from now', async () => {
      const [, auth] = await userWith(Role.USER, Organization.DEV);
      const empty = await connect(auth, { path: '/warnings/stream?last_event_id=' });
      expect(empty.status).toBe(200);
      expect(JSON.parse((await empty.next('ready')).data)).toEqual({ replayed: 0 });
      for (const [headers, path, field] of [
        [{ 'last-event-id': 'abc' }, '/warnings/stream', 'Last-Event-ID'],
        [{ 'last-event-id': '12.not-a-uuid' }, '/warnings/stream', 'Last-Event-ID'],
        [{}, '/warnings/stream?last_event_id=-1', 'last_event_id'],
      ] as const) {
        const res = await request(t.server).get(path).set('authorization', auth).set(headers);
        expect(res.status).toBe(400);
        expect(res.headers['content-type']).toMatch(PROBLEM);
        expect(res.body.errors).toEqual([{ field, message: expect.any(String) }]);
      }
    });
  });

  describe('authentication', () => {
    it('401 without a credential or with a bad token; 403 for an account not approved', async () => {
      const none = await request(t.server).get('/warnings/stream');
      expect(none.status).toBe(401);
      expect(none.headers['content-type']).toMatch(PROBLEM);
      const bad = await request(t.server)
        .get('/warnings/stream')
        .set('authorization', 'Bearer a.b.c');
      expect(bad.status).toBe(401);
      expect(bad.body.type).toBe('urn:portal-api:problem:invalid_token');
      const pending = await createUser(t.dataSource, { state: UserState.PENDING });
      const res = await request(t.server)
        .get('/warnings/stream')
        .set('authorization', await bearer(t, pending));
      expect(res.status).toBe(403);
      expect(res.body.type).toBe('urn:portal-api:problem:account_not_approved');
    });

    it('POST /warnings/stream/ticket: a single-use ticket, stored hashed, that opens a stream as its user', async () => {
      const [userA, authA] = await userWith(Role.USER, Organization.DEV);
      const [, authB] = await userWith(Role.PRESIDENT, Organization.DEV);
      const res = await request(t.server)
        .post('/warnings/stream/ticket')
        .set('authorization', authA);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ ticket: expect.stringMatching(/^[\w-]{43}$/), expires_in: 30 });
      const ticket = res.body.ticket as string;
      const rows: Array<{ ticket_hash: Buffer; user_id: string }> = await t.dataSource.query(
        'SELECT ticket_hash, user_id FROM stream_tickets',
      );
      expect(rows).toEqual([
        { ticket_hash: createHash('sha256').update(ticket).digest(), user_id: userA.id },
      ]);

      // With another user's bearer token as well: refused (400), and the ticket is not spent.
      const both = await request(t.server)
        .get(`/warnings/stream?ticket=${ticket}`)
        .set('authorization', authB);
      expect(both.status).toBe(400);
      expect(both.body.errors).toEqual([{ field: 'ticket', message: expect.any(String) }]);

      const stream = await connect(undefined, { path: `/warnings/stream?ticket=${ticket}` });
      expect(stream.status).toBe(200);
      await createWarning(Role.PRESIDENT, null, 'for B');
      await createWarning(Role.USER, null, 'for A');
      await stream.next('warning');
      expect(titles(stream)).toEqual(['for A']);

      const reused = await request(t.server).get(`/warnings/stream?ticket=${ticket}`);
      expect(reused.status).toBe(401);
      expect(reused.body.type).toBe('urn:portal-api:problem:invalid_stream_ticket');
      expect(await t.dataSource.query('SELECT 1 FROM stream_tickets')).toEqual([]);
    });

    it('a ticket expires after 30 s, and dies with its session, its user or a deactivation', async () => {
      const [user, auth] = await userWith(Role.USER, Organization.DEV);
      const ticketFor = async (a: string) =>
        (await request(t.server).post('/warnings/stream/ticket').set('authorization', a)).body
          .ticket as string;
      const redeem = (ticket: string) => request(t.server).get(`/warnings/stream?ticket=${ticket}`);

      const old = await ticketFor(auth);
      jest.spyOn(t.app.get(Clock), 'now').mockReturnValue(new Date(Date.now() + 31_000));
      const expired = await redeem(old);
      expect(expired.status).toBe(401);
      expect(expired.body.type).toBe('urn:portal-api:problem:invalid_stream_ticket');
      jest.restoreAllMocks();

      const beforeDeactivation = await ticketFor(auth);
      await t.dataSource.query(`UPDATE users SET active = $1 WHERE id = $2`, [
        ActiveStatus.FREEZED,
        user.id,
      ]);
      const inactive = await redeem(beforeDeactivation);
      expect(inactive.status).toBe(401);
      expect(inactive.body.type).toBe('urn:portal-api:problem:account_inactive');

      const [, loggedOutAuth] = await userWith(Role.USER, Organization.DEV);
      const beforeLogout = await ticketFor(loggedOutAuth);
      await request(t.server).post('/auth/logout').set('authorization', loggedOutAuth).expect(204);
      const loggedOut = await redeem(beforeLogout);
      expect(loggedOut.status).toBe(401);
      expect(loggedOut.body.type).toBe('urn:portal-api:problem:invalid_token');

      const [other, otherAuth] = await userWith(Role.USER, Organization.DEV);
      const orphan = await ticketFor(otherAuth);
      await t.dataSource.query('DELETE FROM users WHERE id = $1', [other.id]);
      expect((await redeem(orphan)).body.type).toBe('urn:portal-api:problem:invalid_stream_ticket');

      for (const junk of ['x', 'a'.repeat(43), '%00']) {
        const res = await redeem(junk);
        expect(res.status).toBe(401);
        expect(res.headers['content-type']).toMatch(PROBLEM);
      }
      const long = await redeem('a'.repeat(65));
      expect(long.status).toBe(400);
    });
  });

  describe('limits and closing', () => {
    it('STREAMS_PER_USER: a third stream closes the oldest with `closed` too_many_streams', async () => {
      const [, auth] = await userWith(Role.USER, Organization.DEV);
      const first = await connect(auth);
      const second = await connect(auth);
      const third = await connect(auth);
      await first.waitEnded();
      expect(first.dataOf('closed')).toEqual([{ reason: 'too_many_streams' }]);
      expect(second.ended || third.ended).toBe(false);
      await createWarning(Role.USER, null, 'still here');
      await second.next('warning');
      await third.next('warning');
      expect(t.app.get(WarningStreamHub).openStreams).toBeGreaterThanOrEqual(2);
    });

    it('closes a user’s streams within seconds when its session ends, or it is deactivated, deleted, re-keyed or unapproved', async () => {
      const changes: Array<[string, (id: string, auth: string) => Promise<unknown>]> = [
        [
          'logged out (its session revoked)',
          async (_id, auth) => {
            const res = await request(t.server).post('/auth/logout').set('authorization', auth);
            expect(res.status).toBe(204);
          },
        ],
        [
          'deactivated',
          (id) =>
            t.dataSource.query(`UPDATE users SET active = 'DISCONNECTED' WHERE id = $1`, [id]),
        ],
        [
          're-keyed',
          (id) =>
            t.dataSource.query('UPDATE users SET token_version = token_version + 1 WHERE id = $1', [
              id,
            ]),
        ],
        [
          'unapproved',
          (id) => t.dataSource.query(`UPDATE users SET state = 'PENDING' WHERE id = $1`, [id]),
        ],
        ['deleted', (id) => t.dataSource.query('DELETE FROM users WHERE id = $1', [id])],
      ];
      const [, keptAuth] = await userWith(Role.USER, Organization.DEV);
      const kept = await connect(keptAuth);
      for (const [what, change] of changes) {
        const [user, auth] = await userWith(Role.USER, Organization.DEV);
        const c = await connect(auth);
        await change(user.id, auth);
        await c.waitEnded(5000);
        expect({ what, closed: c.dataOf('closed') }).toEqual({
          what,
          closed: [{ reason: 'unauthorized' }],
        });
      }
      expect(kept.ended).toBe(false);
    });

    it('app.close() (SIGTERM) ends every stream at once with `closed` shutting_down', async () => {
      const other = await createTestApp();
      await other.app.listen(0, '127.0.0.1');
      const otherPort = (other.server.address() as AddressInfo).port;
      const hub = other.app.get(WarningStreamHub);
      for (let i = 0; i < 100 && !hub.accepting; i++) await new Promise((r) => setTimeout(r, 50));
      const clients = await Promise.all(
        [1, 2, 3].map(() =>
          SseClient.open(otherPort, '/warnings/stream', { authorization: admAuth }),
        ),
      );
      await Promise.all(clients.map((c) => c.next('ready')));
      const started = Date.now();
      await other.close();
      // Graceful shutdown does not wait on them (main.ts gives up after 25 s).
      expect(Date.now() - started).toBeLessThan(5000);
      for (const c of clients) {
        await c.waitEnded();
        expect(c.dataOf('closed')).toEqual([{ reason: 'shutting_down' }]);
      }
    });
  });
});
