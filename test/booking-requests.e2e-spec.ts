import request from 'supertest';
import { Clock } from '../src/common/clock';
import { Organization, Role } from '../src/users/user.enums';
import { User } from '../src/users/entities/user.entity';
import { truncateAll } from './utils/db';
import { bearer, createUser } from './utils/factories';
import { createTestApp, TestApp } from './utils/test-app';

const PROBLEM = /application\/problem\+json/;
const DAY = 24 * 60 * 60 * 1000;
const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';
const BOOKING_KEYS = [
  'id',
  'event_time',
  'duration_minutes',
  'topic',
  'address',
  'requested_by',
  'requester_email',
  'status',
  'reason',
  'decided_by',
  'decided_at',
  'created_at',
  'updated_at',
].sort();

function inDays(days: number): string {
  return new Date(Date.now() + days * DAY).toISOString();
}

function validBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    event_time: inDays(7),
    duration_minutes: 90,
    topic: 'Robotics workshop',
    address: { street: 'Praça Mauá 1', city: 'São Caetano do Sul', state: 'SP', country: 'BR' },
    ...overrides,
  };
}

describe('booking requests', () => {
  let t: TestApp;
  let adm: User;
  let admAuth: string;
  let owner: User;
  let ownerAuth: string;
  let stranger: User;
  let strangerAuth: string;

  beforeAll(async () => {
    t = await createTestApp();
  });
  beforeEach(async () => {
    await truncateAll(t.dataSource);
    adm = await createUser(t.dataSource, { role: Role.ADM, organization: null });
    admAuth = await bearer(t, adm);
    owner = await createUser(t.dataSource, { email: 'Owner@Example.com', role: Role.USER });
    ownerAuth = await bearer(t, owner);
    stranger = await createUser(t.dataSource, {
      role: Role.PRESIDENT,
      organization: Organization.DEV,
    });
    strangerAuth = await bearer(t, stranger);
  });
  afterEach(() => {
    jest.restoreAllMocks();
  });
  afterAll(async () => {
    await t.close();
  });

  async function create(body: object = validBody(), auth = ownerAuth) {
    return request(t.server).post('/booking-requests').set('authorization', auth).send(body);
  }
  async function createId(body: object = validBody(), auth = ownerAuth): Promise<string> {
    const res = await create(body, auth);
    expect(res.status).toBe(201);
    return res.body.id as string;
  }
  function decide(id: string, action: 'accept' | 'reject', auth = admAuth, body?: object) {
    const req = request(t.server)
      .post(`/booking-requests/${id}/${action}`)
      .set('authorization', auth);
    return body === undefined ? req : req.send(body);
  }
  async function statusOf(id: string): Promise<string | undefined> {
    const rows: Array<{ status: string }> = await t.dataSource.query(
      'SELECT status FROM booking_requests WHERE id = $1',
      [id],
    );
    return rows[0]?.status;
  }

  describe('POST /booking-requests', () => {
    it('creates a pending request for the caller: 201 and the contract shape', async () => {
      const eventTime = inDays(3);
      const res = await create(
        validBody({
          event_time: eventTime,
          topic: '  Robotics workshop  ',
          address: { street: ' Rua A 10 ', city: ' Santos ', country: 'usa' },
        }),
      );
      expect(res.status).toBe(201);
      expect(Object.keys(res.body).sort()).toEqual(BOOKING_KEYS);
      expect(res.body).toMatchObject({
        event_time: eventTime,
        duration_minutes: 90,
        topic: 'Robotics workshop',
        address: { street: 'Rua A 10', city: 'Santos', state: null, country: 'United States' },
        requested_by: owner.id,
        requester_email: 'owner@example.com',
        status: 'pending',
        reason: null,
        decided_by: null,
        decided_at: null,
      });
      expect(Object.keys(res.body.address).sort()).toEqual(['city', 'country', 'state', 'street']);
      expect(res.body.created_at).toBe(new Date(res.body.created_at).toISOString());
      expect(res.body.updated_at).toBe(new Date(res.body.updated_at).toISOString());
    });

    it('lets any active role request (an ADM and a PRESIDENT too)', async () => {
      expect((await create(validBody(), admAuth)).status).toBe(201);
      expect((await create(validBody(), strangerAuth)).status).toBe(201);
    });

    it('401 without a token and for a disabled user', async () => {
      expect((await request(t.server).post('/booking-requests').send(validBody())).status).toBe(
        401,
      );
      const frozen = await createUser(t.dataSource, { active: 'FREEZED' as never });
      expect((await create(validBody(), await bearer(t, frozen))).status).toBe(401);
    });

    it.each([
      ['US', 'United States'],
      ['us', 'United States'],
      ['USA', 'United States'],
      ['United States of America', 'United States'],
      ['JP', 'Japan'],
      ['brazil', 'Brazil'],
      ['BR', 'Brazil'],
      ['BRA', 'Brazil'],
      ['gbr', 'United Kingdom'],
    ])('normalizes the country %j to %j', async (given, stored) => {
      const res = await create(
        validBody({ address: { street: 's', city: 'c', state: 'st', country: given } }),
      );
      expect(res.status).toBe(201);
      expect(res.body.address).toEqual({ street: 's', city: 'c', state: 'st', country: stored });
    });

    it('400 naming an unknown country', async () => {
      const res = await create(
        validBody({ address: { street: 's', city: 'c', country: 'Atlantis' } }),
      );
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.body).toMatchObject({
        status: 400,
        type: 'urn:portal-api:problem:validation_failed',
      });
      expect(res.body.errors).toEqual([
        { field: 'address.country', message: expect.stringContaining('"Atlantis"') },
      ]);
    });

    it('400 when event_time is in the past or now (by the Clock)', async () => {
      const past = await create(validBody({ event_time: inDays(-1) }));
      expect(past.status).toBe(400);
      expect(past.body.errors).toEqual([
        { field: 'event_time', message: 'event_time must be in the future' },
      ]);
      const now = new Date('2031-03-01T10:00:00Z');
      jest.spyOn(t.app.get(Clock), 'now').mockReturnValue(now);
      expect((await create(validBody({ event_time: now.toISOString() }))).status).toBe(400);
      expect((await create(validBody({ event_time: '2031-03-01T10:00:01Z' }))).status).toBe(201);
    });

    it('accepts durations 1 and 1440', async () => {
      expect((await create(validBody({ duration_minutes: 1 }))).status).toBe(201);
      expect((await create(validBody({ duration_minutes: 1440 }))).status).toBe(201);
    });

    it.each([
      ['duration 0', { duration_minutes: 0 }, 'duration_minutes'],
      ['duration 1441', { duration_minutes: 1441 }, 'duration_minutes'],
      ['duration 1.5', { duration_minutes: 1.5 }, 'duration_minutes'],
      ['duration as a string', { duration_minutes: '60' }, 'duration_minutes'],
      ['a missing duration', { duration_minutes: undefined }, 'duration_minutes'],
      ['a blank topic', { topic: '   ' }, 'topic'],
      ['a topic of 201 characters', { topic: 'x'.repeat(201) }, 'topic'],
      ['event_time without an offset', { event_time: '2099-01-01T10:00:00' }, 'event_time'],
      ['event_time that is no date', { event_time: 'next week' }, 'event_time'],
      ['a missing address', { address: undefined }, 'address'],
      ['an address that is a string', { address: 'Rua A' }, 'address'],
      ['a missing street', { address: { city: 'c', country: 'BR' } }, 'address.street'],
      ['a blank city', { address: { street: 's', city: ' ', country: 'BR' } }, 'address.city'],
      ['a missing country', { address: { street: 's', city: 'c' } }, 'address.country'],
      [
        'an unknown address field',
        { address: { street: 's', city: 'c', country: 'BR', zip: '1' } },
        'address.zip',
      ],
      ['a requested_by in the body', { requested_by: UNKNOWN_ID }, 'requested_by'],
      ['a status in the body', { status: 'accepted' }, 'status'],
    ])('400 for %s', async (_label, overrides, field) => {
      const res = await create(validBody(overrides));
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
      const [{ n }] = await t.dataSource.query('SELECT count(*)::int AS n FROM booking_requests');
      expect(n).toBe(0);
    });
  });

  describe('GET /booking-requests', () => {
    let ownerIds: string[];
    let strangerId: string;

    beforeEach(async () => {
      ownerIds = [
        await createId(validBody({ event_time: '2099-01-10T12:00:00Z', topic: 'o1' })),
        await createId(validBody({ event_time: '2099-01-20T12:00:00Z', topic: 'o2' })),
        await createId(validBody({ event_time: '2099-01-31T23:30:00Z', topic: 'o3' })),
      ];
      strangerId = await createId(
        validBody({ event_time: '2099-01-15T12:00:00Z', topic: 's1' }),
        strangerAuth,
      );
      expect((await decide(ownerIds[1], 'accept')).status).toBe(200);
    });

    async function topics(auth: string, query = ''): Promise<string[]> {
      const res = await request(t.server)
        .get(`/booking-requests${query}`)
        .set('authorization', auth);
      expect(res.status).toBe(200);
      return res.body.items.map((b: { topic: string }) => b.topic);
    }

    it('shows a non-ADM only their own, newest first', async () => {
      const res = await request(t.server).get('/booking-requests').set('authorization', ownerAuth);
      expect(res.status).toBe(200);
      expect(Object.keys(res.body).sort()).toEqual(['items', 'next_cursor']);
      expect(res.body.next_cursor).toBeNull();
      expect(res.body.items.map((b: { topic: string }) => b.topic)).toEqual(['o3', 'o2', 'o1']);
      for (const item of res.body.items) expect(Object.keys(item).sort()).toEqual(BOOKING_KEYS);
      expect(await topics(strangerAuth)).toEqual(['s1']);
    });

    it('shows an ADM every request, newest first', async () => {
      expect(await topics(admAuth)).toEqual(['s1', 'o3', 'o2', 'o1']);
    });

    it('filters by status and requested_by', async () => {
      expect(await topics(admAuth, '?status=pending')).toEqual(['s1', 'o3', 'o1']);
      expect(await topics(admAuth, '?status=accepted')).toEqual(['o2']);
      expect(await topics(admAuth, '?status=rejected')).toEqual([]);
      expect(await topics(admAuth, `?requested_by=${stranger.id}`)).toEqual(['s1']);
      expect(await topics(admAuth, `?requested_by=${owner.id}&status=pending`)).toEqual([
        'o3',
        'o1',
      ]);
    });

    it('filters by event_time: from/to inclusive, a date-only to covering its whole day', async () => {
      expect(await topics(admAuth, '?from=2099-01-15T12:00:00Z')).toEqual(['s1', 'o3', 'o2']);
      expect(await topics(admAuth, '?to=2099-01-15T12:00:00Z')).toEqual(['s1', 'o1']);
      expect(await topics(admAuth, '?from=2099-01-11&to=2099-01-20')).toEqual(['s1', 'o2']);
      expect(await topics(admAuth, '?from=2099-01-31&to=2099-01-31')).toEqual(['o3']);
      expect(
        await topics(admAuth, `?from=${encodeURIComponent('2099-01-20T09:00:00-03:00')}`),
      ).toEqual(['o3', 'o2']);
    });

    it('filters never widen a non-ADM list', async () => {
      expect(await topics(ownerAuth, `?requested_by=${stranger.id}`)).toEqual([]);
      expect(await topics(ownerAuth, '?status=accepted')).toEqual(['o2']);
    });

    async function page(auth: string, query: string) {
      const res = await request(t.server)
        .get(`/booking-requests${query}`)
        .set('authorization', auth);
      expect(res.status).toBe(200);
      return {
        total: res.body.total as number | undefined,
        topics: res.body.items.map((b: { topic: string }) => b.topic) as string[],
        next: res.body.next_cursor as string | null,
      };
    }

    it('pages by cursor, with the total on request', async () => {
      const first = await page(admAuth, '?limit=2&count=true');
      expect(first).toMatchObject({ total: 4, topics: ['s1', 'o3'] });
      const second = await page(admAuth, `?limit=2&count=true&cursor=${first.next}`);
      expect(second).toEqual({ total: 4, topics: ['o2', 'o1'], next: null });
    });

    it("pages an owner's list (one scan per status, merged) in order", async () => {
      const topics: string[] = [];
      let cursor: string | null = null;
      do {
        const p = await page(ownerAuth, `?limit=1${cursor ? `&cursor=${cursor}` : ''}`);
        topics.push(...p.topics);
        cursor = p.next;
      } while (cursor);
      expect(topics).toEqual(['o3', 'o2', 'o1']);
      expect((await page(admAuth, `?requested_by=${owner.id}&count=true`)).total).toBe(3);
    });

    it("refuses a cursor from another caller's list or other filters (400 naming cursor)", async () => {
      const owners = await page(ownerAuth, '?limit=1');
      const admins = await page(admAuth, '?limit=1');
      const pending = await page(admAuth, '?limit=1&status=pending');
      for (const [auth, query] of [
        [strangerAuth, `?limit=1&cursor=${owners.next}`],
        [admAuth, `?limit=1&cursor=${owners.next}`],
        [admAuth, `?limit=1&status=accepted&cursor=${pending.next}`],
        [admAuth, `?limit=1&from=2099-01-01&cursor=${admins.next}`],
      ] as const) {
        const res = await request(t.server)
          .get(`/booking-requests${query}`)
          .set('authorization', auth);
        expect(res.status).toBe(400);
        expect(res.body).toMatchObject({
          type: 'urn:portal-api:problem:invalid_cursor',
          errors: [{ field: 'cursor' }],
        });
      }
    });

    it('400 when from is after to', async () => {
      for (const q of [
        '?from=2099-02-01&to=2099-01-01',
        '?from=2099-01-02T00:00:00Z&to=2099-01-01',
        '?from=2099-01-01T10:00:01Z&to=2099-01-01T10:00:00Z',
      ]) {
        const res = await request(t.server)
          .get(`/booking-requests${q}`)
          .set('authorization', admAuth);
        expect(res.status).toBe(400);
        expect(res.body.errors).toEqual([{ field: 'from', message: 'from must not be after to' }]);
      }
    });

    it.each([
      '?status=done',
      '?from=yesterday',
      '?to=2099-13-01',
      '?from=2099-01-01T00:00:00',
      '?requested_by=me',
      '?limit=500',
      '?sort=topic',
    ])('400 for %s', async (query) => {
      const res = await request(t.server)
        .get(`/booking-requests${query}`)
        .set('authorization', admAuth);
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(PROBLEM);
    });

    it('GET /:id: 200 for the owner and an ADM, 404 for another user and an unknown id', async () => {
      const id = ownerIds[0];
      const own = await request(t.server)
        .get(`/booking-requests/${id}`)
        .set('authorization', ownerAuth);
      expect(own.status).toBe(200);
      expect(Object.keys(own.body).sort()).toEqual(BOOKING_KEYS);
      expect(own.body).toMatchObject({ id, topic: 'o1', requested_by: owner.id });
      const asAdm = await request(t.server)
        .get(`/booking-requests/${id}`)
        .set('authorization', admAuth);
      expect(asAdm.body).toEqual(own.body);

      const other = await request(t.server)
        .get(`/booking-requests/${id}`)
        .set('authorization', strangerAuth);
      expect(other.status).toBe(404);
      const unknown = await request(t.server)
        .get(`/booking-requests/${UNKNOWN_ID}`)
        .set('authorization', strangerAuth);
      expect(unknown.status).toBe(404);
      // Indistinguishable: the same body for "not yours" and "does not exist".
      expect(other.body).toEqual(unknown.body);
      expect(other.body).toMatchObject({
        type: 'urn:portal-api:problem:booking_request_not_found',
      });
      expect(strangerId).toBeDefined();
    });

    it('GET /:id: 400 for a non-UUID id', async () => {
      const res = await request(t.server)
        .get('/booking-requests/abc')
        .set('authorization', admAuth);
      expect(res.status).toBe(400);
    });
  });

  describe('accept and reject', () => {
    it('an ADM accepts a pending request: 200, decided_by, decided_at by the Clock', async () => {
      const id = await createId();
      const at = new Date(Date.now() + 60_000);
      jest.spyOn(t.app.get(Clock), 'now').mockReturnValue(at);
      const res = await decide(id, 'accept', admAuth, { reason: '  See you there  ' });
      expect(res.status).toBe(200);
      expect(Object.keys(res.body).sort()).toEqual(BOOKING_KEYS);
      expect(res.body).toMatchObject({
        id,
        status: 'accepted',
        reason: 'See you there',
        decided_by: adm.id,
        decided_at: at.toISOString(),
        updated_at: at.toISOString(),
        requested_by: owner.id,
      });
      expect(await statusOf(id)).toBe('accepted');
    });

    it('an ADM rejects without a body; the reason stays null', async () => {
      const id = await createId();
      const res = await decide(id, 'reject');
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ status: 'rejected', reason: null, decided_by: adm.id });
      expect(res.body.decided_at).not.toBeNull();
    });

    it('an empty reason is stored as null', async () => {
      const id = await createId();
      const res = await decide(id, 'reject', admAuth, { reason: '   ' });
      expect(res.body.reason).toBeNull();
    });

    it('409 for a second decision, whatever it is; the first stands', async () => {
      const id = await createId();
      expect((await decide(id, 'accept', admAuth, { reason: 'first' })).status).toBe(200);
      for (const action of ['accept', 'reject'] as const) {
        const res = await decide(id, action, admAuth, { reason: 'second' });
        expect(res.status).toBe(409);
        expect(res.headers['content-type']).toMatch(PROBLEM);
        expect(res.body).toMatchObject({
          status: 409,
          type: 'urn:portal-api:problem:booking_request_not_pending',
          detail: expect.stringContaining('already accepted'),
        });
      }
      const [row] = await t.dataSource.query('SELECT status, reason FROM booking_requests');
      expect(row).toEqual({ status: 'accepted', reason: 'first' });
    });

    it('404 for an unknown id, 400 for a non-UUID, 400 for a reason over 1000 characters', async () => {
      expect((await decide(UNKNOWN_ID, 'accept')).status).toBe(404);
      expect((await decide(UNKNOWN_ID, 'reject')).status).toBe(404);
      expect((await decide('nope', 'accept')).status).toBe(400);
      const id = await createId();
      const long = await decide(id, 'reject', admAuth, { reason: 'x'.repeat(1001) });
      expect(long.status).toBe(400);
      expect(long.body.errors.map((e: { field: string }) => e.field)).toEqual(['reason']);
      const extra = await decide(id, 'reject', admAuth, { status: 'accepted' });
      expect(extra.status).toBe(400);
      expect(await statusOf(id)).toBe('pending');
      expect((await decide(id, 'reject', admAuth, { reason: 'x'.repeat(1000) })).status).toBe(200);
    });

    it('403 for a non-ADM, the owner included', async () => {
      const id = await createId();
      for (const auth of [ownerAuth, strangerAuth]) {
        expect((await decide(id, 'accept', auth)).status).toBe(403);
        expect((await decide(id, 'reject', auth)).status).toBe(403);
      }
      expect(await statusOf(id)).toBe('pending');
    });

    it('two ADMs deciding at once over HTTP: exactly one 200 and one 409', async () => {
      const otherAdm = await createUser(t.dataSource, { role: Role.ADM, organization: null });
      const otherAuth = await bearer(t, otherAdm);
      for (let round = 0; round < 5; round++) {
        const id = await createId();
        const [a, b] = await Promise.all([
          decide(id, 'accept', admAuth, { reason: 'a' }),
          decide(id, round % 2 ? 'accept' : 'reject', otherAuth, { reason: 'b' }),
        ]);
        expect([a.status, b.status].sort()).toEqual([200, 409]);
        const winner = a.status === 200 ? a : b;
        expect(await statusOf(id)).toBe(winner.body.status);
        const audit = await t.dataSource.query(
          `SELECT actor_id FROM audit_log WHERE target_id = $1 AND action IN ('booking.accept', 'booking.reject')`,
          [id],
        );
        expect(audit).toEqual([{ actor_id: winner.body.decided_by }]);
      }
    });
  });

  describe('DELETE /booking-requests/:id', () => {
    it('the owner deletes their pending request: 204, then it is gone', async () => {
      const id = await createId();
      const res = await request(t.server)
        .delete(`/booking-requests/${id}`)
        .set('authorization', ownerAuth);
      expect(res.status).toBe(204);
      expect(res.text).toBe('');
      expect(await statusOf(id)).toBeUndefined();
      const again = await request(t.server)
        .delete(`/booking-requests/${id}`)
        .set('authorization', ownerAuth);
      expect(again.status).toBe(404);
    });

    it('403 for the owner once the request is decided; it stays', async () => {
      for (const action of ['accept', 'reject'] as const) {
        const id = await createId();
        await decide(id, action);
        const res = await request(t.server)
          .delete(`/booking-requests/${id}`)
          .set('authorization', ownerAuth);
        expect(res.status).toBe(403);
        expect(res.headers['content-type']).toMatch(PROBLEM);
        expect(res.body.type).toBe('urn:portal-api:problem:booking_request_not_pending');
        expect(await statusOf(id)).toBe(`${action}ed`);
      }
    });

    it("404 for another user's request (pending or not) and an unknown id", async () => {
      const id = await createId();
      const res = await request(t.server)
        .delete(`/booking-requests/${id}`)
        .set('authorization', strangerAuth);
      expect(res.status).toBe(404);
      await decide(id, 'accept');
      expect(
        (
          await request(t.server)
            .delete(`/booking-requests/${id}`)
            .set('authorization', strangerAuth)
        ).status,
      ).toBe(404);
      expect(await statusOf(id)).toBe('accepted');
      expect(
        (
          await request(t.server)
            .delete(`/booking-requests/${UNKNOWN_ID}`)
            .set('authorization', ownerAuth)
        ).status,
      ).toBe(404);
      expect(
        (await request(t.server).delete('/booking-requests/1').set('authorization', ownerAuth))
          .status,
      ).toBe(400);
    });

    it('an ADM deletes any request, pending or decided: 204; unknown id 404', async () => {
      const pending = await createId();
      const decided = await createId();
      await decide(decided, 'reject');
      for (const id of [pending, decided]) {
        const res = await request(t.server)
          .delete(`/booking-requests/${id}`)
          .set('authorization', admAuth);
        expect(res.status).toBe(204);
        expect(await statusOf(id)).toBeUndefined();
      }
      expect(
        (
          await request(t.server)
            .delete(`/booking-requests/${UNKNOWN_ID}`)
            .set('authorization', admAuth)
        ).status,
      ).toBe(404);
    });
  });

  describe('when users are deleted', () => {
    it("a requester's requests go with them; a decider's become decided_by null", async () => {
      const otherAdm = await createUser(t.dataSource, { role: Role.ADM, organization: null });
      const id = await createId();
      const kept = await createId(validBody(), strangerAuth);
      await decide(kept, 'accept', await bearer(t, otherAdm));
      await t.dataSource.query('DELETE FROM users WHERE id = $1', [owner.id]);
      await t.dataSource.query('DELETE FROM users WHERE id = $1', [otherAdm.id]);
      expect(await statusOf(id)).toBeUndefined();
      const res = await request(t.server)
        .get(`/booking-requests/${kept}`)
        .set('authorization', admAuth);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ status: 'accepted', decided_by: null });
      expect(res.body.decided_at).not.toBeNull();
    });
  });
});
