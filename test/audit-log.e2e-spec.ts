import request from 'supertest';
import { Organization, Role } from '../src/users/user.enums';
import { User } from '../src/users/entities/user.entity';
import { truncateAll } from './utils/db';
import { bearer, createUser } from './utils/factories';
import { createTestApp, TestApp } from './utils/test-app';

const PROBLEM = /application\/problem\+json/;
const ENTRY_KEYS = [
  'id',
  'actor_id',
  'actor_email',
  'action',
  'target_type',
  'target_id',
  'before',
  'after',
  'created_at',
].sort();

interface Entry {
  id: string;
  actor_id: string | null;
  actor_email: string | null;
  action: string;
  target_type: string;
  target_id: string | null;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  created_at: string;
}

function inHours(hours: number): string {
  return new Date(Date.now() + hours * 3_600_000).toISOString();
}

describe('audit log', () => {
  let t: TestApp;
  let adm: User;
  let admAuth: string;
  let user: User;
  let userAuth: string;

  beforeAll(async () => {
    t = await createTestApp();
  });
  beforeEach(async () => {
    await truncateAll(t.dataSource);
    adm = await createUser(t.dataSource, {
      email: 'boss@example.com',
      role: Role.ADM,
      organization: null,
    });
    admAuth = await bearer(t, adm);
    user = await createUser(t.dataSource, { role: Role.USER, organization: Organization.DEV });
    userAuth = await bearer(t, user);
  });
  afterAll(async () => {
    await t.close();
  });

  async function auditLog(query = '', auth = admAuth): Promise<Entry[]> {
    const res = await request(t.server).get(`/audit-log${query}`).set('authorization', auth);
    expect(res.status).toBe(200);
    return res.body.items as Entry[];
  }

  async function createWarning(title = 'w'): Promise<Record<string, unknown>> {
    const res = await request(t.server)
      .post('/warnings')
      .set('authorization', admAuth)
      .send({ title, description: 'd', target_org: 'DEV', expires_at: inHours(5) });
    expect(res.status).toBe(201);
    return res.body as Record<string, unknown>;
  }

  async function createBooking(): Promise<Record<string, unknown>> {
    const res = await request(t.server)
      .post('/booking-requests')
      .set('authorization', userAuth)
      .send({
        event_time: inHours(48),
        duration_minutes: 60,
        topic: 'talk',
        address: { street: 's', city: 'c', country: 'JP' },
      });
    expect(res.status).toBe(201);
    return res.body as Record<string, unknown>;
  }

  it('records warning create, update and delete with before and after, newest first', async () => {
    const created = await createWarning('first');
    const id = created.id as string;
    const updated = await request(t.server)
      .patch(`/warnings/${id}`)
      .set('authorization', admAuth)
      .send({ title: 'second' });
    expect(updated.status).toBe(200);
    expect(
      (await request(t.server).delete(`/warnings/${id}`).set('authorization', admAuth)).status,
    ).toBe(204);

    const res = await request(t.server).get('/audit-log').set('authorization', admAuth);
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(['items', 'next_cursor']);
    expect(res.body.next_cursor).toBeNull();
    const [del, upd, crt] = res.body.items as Entry[];
    for (const e of [del, upd, crt]) {
      expect(Object.keys(e).sort()).toEqual(ENTRY_KEYS);
      expect(e).toMatchObject({
        actor_id: adm.id,
        actor_email: 'boss@example.com',
        target_type: 'warning',
        target_id: id,
      });
      expect(e.created_at).toBe(new Date(e.created_at).toISOString());
    }
    expect(crt).toMatchObject({ action: 'warning.create', before: null, after: created });
    expect(upd).toMatchObject({ action: 'warning.update', before: created, after: updated.body });
    expect(del).toMatchObject({ action: 'warning.delete', before: updated.body, after: null });
  });

  it('records booking accept, reject and ADM delete; not what a user does', async () => {
    const accepted = await createBooking();
    const rejected = await createBooking();
    const ownDeleted = await createBooking();
    const acc = await request(t.server)
      .post(`/booking-requests/${accepted.id as string}/accept`)
      .set('authorization', admAuth)
      .send({ reason: 'ok' });
    expect(acc.status).toBe(200);
    expect(
      (
        await request(t.server)
          .post(`/booking-requests/${rejected.id as string}/reject`)
          .set('authorization', admAuth)
      ).status,
    ).toBe(200);
    expect(
      (
        await request(t.server)
          .delete(`/booking-requests/${ownDeleted.id as string}`)
          .set('authorization', userAuth)
      ).status,
    ).toBe(204);
    expect(
      (
        await request(t.server)
          .delete(`/booking-requests/${accepted.id as string}`)
          .set('authorization', admAuth)
      ).status,
    ).toBe(204);

    const entries = await auditLog('?target_type=booking');
    expect(entries.map((e) => [e.action, e.target_id])).toEqual([
      ['booking.delete', accepted.id],
      ['booking.reject', rejected.id],
      ['booking.accept', accepted.id],
    ]);
    const [del, , accept] = entries;
    expect(accept).toMatchObject({
      actor_id: adm.id,
      before: { status: 'pending', reason: null, decided_by: null, decided_at: null },
      after: {
        status: 'accepted',
        reason: 'ok',
        decided_by: adm.id,
        decided_at: acc.body.decided_at,
      },
    });
    expect(del).toMatchObject({ before: acc.body, after: null });
  });

  it('writes nothing for refused actions (409, 400, 404)', async () => {
    const booking = await createBooking();
    const url = `/booking-requests/${booking.id as string}`;
    await request(t.server).post(`${url}/accept`).set('authorization', admAuth);
    expect(
      (await request(t.server).post(`${url}/reject`).set('authorization', admAuth)).status,
    ).toBe(409);
    const warning = await createWarning();
    expect(
      (
        await request(t.server)
          .patch(`/warnings/${warning.id as string}`)
          .set('authorization', admAuth)
          .send({ expires_at: inHours(-1) })
      ).status,
    ).toBe(400);
    expect(
      (
        await request(t.server)
          .delete('/warnings/00000000-0000-4000-8000-000000000000')
          .set('authorization', admAuth)
      ).status,
    ).toBe(404);
    expect((await auditLog()).map((e) => e.action)).toEqual(['warning.create', 'booking.accept']);
  });

  it('commits the audit row with the change: when it cannot be written, the change is undone', async () => {
    const booking = await createBooking();
    // TypeORM prints the failed INSERT; the failure is the point here.
    const quiet = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    await t.dataSource.query(
      `ALTER TABLE audit_log ADD CONSTRAINT test_refuse_audit CHECK (action NOT IN ('warning.create', 'booking.accept'))`,
    );
    try {
      const warning = await request(t.server)
        .post('/warnings')
        .set('authorization', admAuth)
        .send({ title: 't', description: 'd', expires_at: inHours(1) });
      expect(warning.status).toBe(500);
      expect(warning.headers['content-type']).toMatch(PROBLEM);
      const accept = await request(t.server)
        .post(`/booking-requests/${booking.id as string}/accept`)
        .set('authorization', admAuth);
      expect(accept.status).toBe(500);
    } finally {
      await t.dataSource.query('ALTER TABLE audit_log DROP CONSTRAINT test_refuse_audit');
      quiet.mockRestore();
    }
    const [{ n }] = await t.dataSource.query('SELECT count(*)::int AS n FROM warnings');
    expect(n).toBe(0);
    const [row] = await t.dataSource.query('SELECT status FROM booking_requests');
    expect(row.status).toBe('pending');
  });

  it('filters by action, target_type and actor_id, and pages with total', async () => {
    const other = await createUser(t.dataSource, { role: Role.ADM, organization: null });
    await createWarning('a');
    await createWarning('b');
    const booking = await createBooking();
    await request(t.server)
      .post(`/booking-requests/${booking.id as string}/reject`)
      .set('authorization', await bearer(t, other));

    expect((await auditLog('?action=warning.create')).map((e) => e.after?.title)).toEqual([
      'b',
      'a',
    ]);
    expect((await auditLog('?target_type=booking')).map((e) => e.action)).toEqual([
      'booking.reject',
    ]);
    expect((await auditLog(`?actor_id=${other.id}`)).map((e) => e.action)).toEqual([
      'booking.reject',
    ]);
    expect(await auditLog(`?actor_id=${user.id}`)).toEqual([]);
    expect(await auditLog('?action=user.create')).toEqual([]);

    const first = await request(t.server)
      .get('/audit-log?limit=1&count=true')
      .set('authorization', admAuth);
    expect(first.body).toMatchObject({ total: 3, next_cursor: expect.any(String) });
    const page = await request(t.server)
      .get(`/audit-log?limit=1&count=true&cursor=${first.body.next_cursor}`)
      .set('authorization', admAuth);
    expect(page.body).toMatchObject({ total: 3, next_cursor: expect.any(String) });
    expect(page.body.items.map((e: Entry) => e.after?.title)).toEqual(['b']);
    const filtered = await request(t.server)
      .get(`/audit-log?limit=1&action=warning.create&cursor=${first.body.next_cursor}`)
      .set('authorization', admAuth);
    expect(filtered.status).toBe(400);
    expect(filtered.body.errors).toEqual([{ field: 'cursor', message: expect.any(String) }]);
  });

  it('403 for a PRESIDENT and a USER, 401 without a token', async () => {
    await createWarning();
    const president = await createUser(t.dataSource, { role: Role.PRESIDENT });
    for (const auth of [userAuth, await bearer(t, president)]) {
      const res = await request(t.server).get('/audit-log').set('authorization', auth);
      expect(res.status).toBe(403);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.body).toMatchObject({ status: 403, type: 'urn:portal-api:problem:role_required' });
    }
    expect((await request(t.server).get('/audit-log')).status).toBe(401);
  });

  it.each([
    '?actor_id=someone',
    '?limit=0',
    '?offset=2',
    '?count=maybe',
    '?action=a%00b',
    '?target_type=%00',
    `?action=${'x'.repeat(65)}`,
    '?target=warning',
  ])('400 for %s', async (query) => {
    const res = await request(t.server).get(`/audit-log${query}`).set('authorization', admAuth);
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(PROBLEM);
  });

  it('documents the new routes in OpenAPI', async () => {
    const res = await request(t.server).get('/docs-json');
    expect(Object.keys(res.body.paths)).toEqual(
      expect.arrayContaining([
        '/warnings',
        '/warnings/{id}',
        '/booking-requests',
        '/booking-requests/{id}',
        '/booking-requests/{id}/accept',
        '/booking-requests/{id}/reject',
        '/audit-log',
      ]),
    );
  });
});
