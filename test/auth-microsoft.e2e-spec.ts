import { randomUUID } from 'node:crypto';
import { generateKeyPair, SignJWT } from 'jose';
import request from 'supertest';
import { AuditLogEntry } from '../src/audit/entities/audit-log.entity';
import { Clock } from '../src/common/clock';
import { User } from '../src/users/entities/user.entity';
import { ActiveStatus, Organization, Role, UserState } from '../src/users/user.enums';
import { truncateAll } from './utils/db';
import { createUser } from './utils/factories';
import { FakeEntra, newTenantId } from './utils/fake-entra';
import { expectProblem } from './utils/problem';
import { createTestApp, TestApp } from './utils/test-app';

/** The claims of the access token the API issued (not verified here: the API checks it). */
function accessClaims(token: string): { sub: string } {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
}

// Tenants the app allows; each failure scenario gets a tenant of its own, so the app's key
// cache of one scenario never hides another.
const HOME = newTenantId();
const PARTNER = newTenantId();
const ROTATING = newTenantId();
const DOWN = newTenantId();
const SLOW = newTenantId();
const FAILING = newTenantId();
const GARBAGE = newTenantId();
const ALLOWED = [HOME, PARTNER, ROTATING, DOWN, SLOW, FAILING, GARBAGE];
// A real tenant with real keys that the app does not allow: anyone can make one.
const ATTACKER = newTenantId();

describe('POST /auth/microsoft (OpenID Connect ID token)', () => {
  let entra: FakeEntra;
  let t: TestApp;

  const signIn = (idToken: unknown) =>
    request(t.server).post('/auth/microsoft').send({ id_token: idToken });
  const users = () => t.dataSource.getRepository(User).find({ order: { email: 'ASC' } });
  const audit = (action?: string) =>
    t.dataSource.getRepository(AuditLogEntry).find({ where: action ? { action } : {} });
  const token = (tid: string, claims: Record<string, unknown> = {}, now?: Date) =>
    entra.idToken(tid, { claims, now });

  beforeAll(async () => {
    entra = await FakeEntra.start();
    for (const tid of [...ALLOWED, ATTACKER]) await entra.addTenant(tid);
    t = await createTestApp({
      MICROSOFT_CLIENT_ID: entra.clientId,
      MICROSOFT_TENANT_IDS: ALLOWED.join(','),
      MICROSOFT_AUTHORITY: entra.authority,
      MICROSOFT_KEYS_TIMEOUT_MS: '2000', // generous for a loaded machine; 'slow' never answers
      ALLOWED_EMAIL_DOMAINS: 'maua.br, example.org',
    });
  });
  beforeEach(async () => {
    await truncateAll(t.dataSource);
    entra.mode = 'up';
    entra.fetches.length = 0;
  });
  afterEach(() => {
    jest.restoreAllMocks();
  });
  afterAll(async () => {
    await t.close();
    await entra.stop();
  });

  describe('a good token', () => {
    it('creates the account on first sign-in: USER, PENDING, ACTIVE, RA from the address, (tid, oid) stored', async () => {
      const oid = randomUUID();
      const res = await signIn(await token(HOME, { oid }));
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body).toEqual({
        access_token: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/),
        token_type: 'bearer',
        expires_in: 900,
        refresh_token: expect.any(String),
        refresh_expires_in: 7 * 86400,
      });

      const all = await users();
      expect(all).toHaveLength(1);
      expect(all[0]).toMatchObject({
        name: 'Ana Lima',
        email: '21.01234-5@maua.br',
        ra: '21.01234-5',
        role: Role.USER,
        organization: null,
        state: UserState.PENDING,
        active: ActiveStatus.ACTIVE,
        microsoftTid: HOME,
        microsoftOid: oid,
      });
      expect(all[0].lastLoginAt).not.toBeNull();
      expect(accessClaims(res.body.access_token).sub).toBe(all[0].id);

      // The keys were read from the tenant's own URL, once.
      expect(entra.fetches).toEqual([entra.keysPath(HOME)]);

      // PENDING: may read itself, nothing else.
      const auth = `Bearer ${res.body.access_token}`;
      const me = await request(t.server).get('/users/me').set('authorization', auth);
      expect(me.status).toBe(200);
      expect(me.body).toMatchObject({ id: all[0].id, state: 'PENDING', role: 'USER' });
      expectProblem(
        await request(t.server).get('/warnings').set('authorization', auth),
        403,
        'account_not_approved',
      );

      expect(await audit()).toEqual([
        expect.objectContaining({
          action: 'user.create',
          targetId: all[0].id,
          after: expect.objectContaining({
            source: 'microsoft',
            microsoft_tid: HOME,
            microsoft_oid: oid,
          }),
        }),
      ]);
    });

    it('signs the same identity in again, whatever email and name the token now carries', async () => {
      const oid = randomUUID();
      await signIn(await token(HOME, { oid })).expect(200);
      const [first] = await users();
      const again = await signIn(
        await token(HOME, { oid, email: 'ana.new@maua.br', name: 'Ana Lima Souza' }),
      );
      expect(again.status).toBe(200);
      expect(accessClaims(again.body.access_token).sub).toBe(first.id);
      const all = await users();
      expect(all).toHaveLength(1);
      // The email and name are ours to edit, not the token's.
      expect(all[0]).toMatchObject({ id: first.id, email: first.email, name: 'Ana Lima' });
      expect(await audit()).toHaveLength(1);
      // The cached keys served the second sign-in.
      expect(entra.fetchesOf(HOME)).toBeLessThanOrEqual(1);
    });

    it('uses preferred_username when there is no email claim; no RA for a non-student address', async () => {
      await signIn(
        await token(HOME, {
          email: undefined,
          preferred_username: 'Prof.X@Maua.br',
          name: 'X',
        }),
      ).expect(200);
      const [user] = await users();
      expect(user).toMatchObject({ email: 'prof.x@maua.br', ra: null, name: 'prof.x' });
    });

    it('accepts exp and nbf within the 60 s clock skew', async () => {
      const now = Math.floor(Date.now() / 1000);
      await signIn(await token(HOME, { exp: now - 30 })).expect(200);
      await signIn(
        await token(HOME, { nbf: now + 30, oid: randomUUID(), email: 'b@maua.br' }),
      ).expect(200);
    });

    it('401 account_inactive for a linked account that is not ACTIVE; 429 for a locked one', async () => {
      const oid = randomUUID();
      await createUser(t.dataSource, {
        email: 'off@maua.br',
        active: ActiveStatus.FREEZED,
        microsoftTid: HOME,
        microsoftOid: oid,
      });
      expectProblem(await signIn(await token(HOME, { oid })), 401, 'account_inactive');

      const lockedOid = randomUUID();
      await createUser(t.dataSource, {
        email: 'locked@maua.br',
        lockedUntil: new Date(Date.now() + 10 * 60_000),
        microsoftTid: HOME,
        microsoftOid: lockedOid,
      });
      const locked = await signIn(await token(HOME, { oid: lockedOid }));
      expectProblem(locked, 429, 'account_locked');
      expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
    });
  });

  describe('a token that must be rejected: 401 microsoft_token_rejected, nobody created', () => {
    async function expectRejected(idToken: string): Promise<void> {
      const res = await signIn(idToken);
      expectProblem(res, 401, 'microsoft_token_rejected');
      expect(res.body).toEqual({
        type: 'urn:portal-api:problem:microsoft_token_rejected',
        title: 'Unauthorized',
        status: 401,
        detail: expect.any(String),
      });
      expect(res.body.access_token).toBeUndefined();
      expect(await users()).toHaveLength(0);
    }

    it('for another audience (a token minted for some other app)', async () => {
      await expectRejected(await token(HOME, { aud: randomUUID() }));
      await expectRejected(await token(HOME, { aud: [randomUUID(), 'api://portal'] }));
    });

    it('for another issuer (v1.0, another tenant, a look-alike)', async () => {
      await expectRejected(await token(HOME, { iss: `https://sts.windows.net/${HOME}/` }));
      await expectRejected(await token(HOME, { iss: entra.issuer(PARTNER) }));
      await expectRejected(await token(HOME, { iss: `${entra.issuer(HOME)}/` }));
      await expectRejected(await token(HOME, { iss: undefined }));
    });

    it('for a tenant not in MICROSOFT_TENANT_IDS, without ever fetching its keys', async () => {
      await expectRejected(await token(ATTACKER));
      await expectRejected(await token(HOME, { tid: ATTACKER }));
      await expectRejected(await token(HOME, { tid: undefined }));
      expect(entra.fetchesOf(ATTACKER)).toBe(0);
      expect(entra.fetches.every((p) => !p.includes(ATTACKER))).toBe(true);
    });

    it('for a key the tenant does not publish (its kid, or the kid of another tenant)', async () => {
      const stranger = await FakeEntra.newKey();
      await expectRejected(
        await entra.idToken(HOME, { key: stranger, kid: entra.keysOf(HOME)[0].kid }),
      );
      await expectRejected(await entra.idToken(HOME, { key: stranger }));
      // Signed by the attacker tenant's real key, claiming to be HOME.
      await expectRejected(await entra.idToken(HOME, { key: entra.keysOf(ATTACKER)[0] }));
    });

    it('for a tampered payload', async () => {
      const good = await token(HOME);
      const [h, p, s] = good.split('.');
      const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
      claims.email = 'admin@maua.br';
      await expectRejected(
        `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`,
      );
    });

    it('for an expired token, and one not valid yet (beyond the skew)', async () => {
      const now = Math.floor(Date.now() / 1000);
      await expectRejected(await token(HOME, { iat: now - 7200, nbf: now - 7200, exp: now - 120 }));
      await expectRejected(await token(HOME, { exp: undefined }));
      await expectRejected(await token(HOME, { iat: now, nbf: now + 600, exp: now + 3600 }));
    });

    it('for alg none', async () => {
      await expectRejected(entra.unsignedIdToken(HOME));
      expect(entra.fetches).toEqual([]);
    });

    it('for HS256 signed with the public key as the secret', async () => {
      await expectRejected(await entra.hs256WithPublicKey(HOME));
    });

    it('for any algorithm but RS256 (RS384, RS512, PS256), even with the right key', async () => {
      const key = entra.keysOf(HOME)[0];
      for (const alg of ['RS384', 'RS512', 'PS256']) {
        const pair = await generateKeyPair(alg);
        const jwt = await new SignJWT(entra.defaultClaims(HOME))
          .setProtectedHeader({ alg, kid: key.kid })
          .sign(pair.privateKey);
        await expectRejected(jwt);
      }
    });

    it('without a usable object id, or for a new account without any email', async () => {
      await expectRejected(await token(HOME, { oid: undefined }));
      await expectRejected(await token(HOME, { oid: 'not-a-guid' }));
      await expectRejected(await token(HOME, { email: undefined, preferred_username: 'ana' }));
    });

    it('for strings shaped like a JWT that are not one', async () => {
      await expectRejected('abc.def.ghi');
      await expectRejected('eyJhbGciOiJSUzI1NiJ9.e30.');
    });
  });

  describe('key rotation', () => {
    it('an unknown kid refetches the keys, at most once a minute', async () => {
      const clock = t.app.get(Clock);
      let now = new Date();
      jest.spyOn(clock, 'now').mockImplementation(() => now);
      const oid = randomUUID();
      const claims = { oid, email: 'rot@maua.br' };

      await signIn(await entra.idToken(ROTATING, { claims, now })).expect(200);
      expect(entra.fetchesOf(ROTATING)).toBe(1);
      const old = entra.keysOf(ROTATING)[0];

      // Entra rotates: the new key is the only one published.
      await entra.rotate(ROTATING);
      const signedWithNew = await entra.idToken(ROTATING, { claims, now });
      // Less than a minute after the last fetch: not fetched again, so not found.
      expectProblem(await signIn(signedWithNew), 401, 'microsoft_token_rejected');
      expect(entra.fetchesOf(ROTATING)).toBe(1);

      now = new Date(now.getTime() + 61_000);
      const res = await signIn(signedWithNew);
      expect(res.status).toBe(200);
      expect(entra.fetchesOf(ROTATING)).toBe(2);
      const [user] = await users();
      expect(accessClaims(res.body.access_token).sub).toBe(user.id);

      // The retired key no longer verifies anything.
      expectProblem(
        await signIn(await entra.idToken(ROTATING, { claims, now, key: old })),
        401,
        'microsoft_token_rejected',
      );

      // A flood of made-up kids costs at most one fetch a minute.
      for (let i = 0; i < 5; i++) {
        expectProblem(
          await signIn(await entra.idToken(ROTATING, { claims, now, kid: randomUUID() })),
          401,
          'microsoft_token_rejected',
        );
      }
      expect(entra.fetchesOf(ROTATING)).toBe(2);
      now = new Date(now.getTime() + 61_000);
      for (let i = 0; i < 5; i++) {
        expectProblem(
          await signIn(await entra.idToken(ROTATING, { claims, now, kid: randomUUID() })),
          401,
          'microsoft_token_rejected',
        );
      }
      expect(entra.fetchesOf(ROTATING)).toBe(3);
      // And the current key still works from the cache.
      await signIn(await entra.idToken(ROTATING, { claims, now })).expect(200);
      expect(entra.fetchesOf(ROTATING)).toBe(3);
    });
  });

  describe('keys that cannot be fetched: 503 microsoft_keys_unavailable', () => {
    async function expectUnavailable(idToken: string): Promise<void> {
      const res = await signIn(idToken);
      expectProblem(res, 503, 'microsoft_keys_unavailable');
      expect(res.body).toEqual({
        type: 'urn:portal-api:problem:microsoft_keys_unavailable',
        title: 'Service Unavailable',
        status: 503,
        detail: expect.any(String),
      });
      expect(await users()).toHaveLength(0);
    }

    it('when Entra is down (connection reset), and works again once it is back', async () => {
      entra.mode = 'down';
      const idToken = await token(DOWN);
      await expectUnavailable(idToken);
      entra.mode = 'up';
      await signIn(idToken).expect(200);
    });

    it('when Entra is slower than MICROSOFT_KEYS_TIMEOUT_MS', async () => {
      entra.mode = 'slow';
      await expectUnavailable(await token(SLOW));
      expect(entra.fetchesOf(SLOW)).toBe(1);
    });

    it('when Entra answers an error, or something that is not a key set', async () => {
      entra.mode = 'error';
      await expectUnavailable(await token(FAILING));
      entra.mode = 'garbage';
      await expectUnavailable(await token(GARBAGE));
    });

    it('when a rotated key must be fetched and Entra is down', async () => {
      const clock = t.app.get(Clock);
      let now = new Date();
      jest.spyOn(clock, 'now').mockImplementation(() => now);
      const claims = { oid: randomUUID() };
      await signIn(await entra.idToken(DOWN, { claims, now })).expect(200);
      await entra.rotate(DOWN);
      now = new Date(now.getTime() + 61_000);
      entra.mode = 'down';
      const res = await signIn(await entra.idToken(DOWN, { claims, now }));
      expectProblem(res, 503, 'microsoft_keys_unavailable');
    });
  });

  describe('linking an existing account (first sign-in of an identity)', () => {
    it('links an account of an allowed domain that has no Microsoft identity (audited)', async () => {
      const existing = await createUser(t.dataSource, {
        email: 'ana.lima@maua.br',
        role: Role.PRESIDENT,
        organization: Organization.DEV,
      });
      const oid = randomUUID();
      const res = await signIn(await token(HOME, { oid, email: 'Ana.Lima@MAUA.br' }));
      expect(res.status).toBe(200);
      expect(accessClaims(res.body.access_token)).toMatchObject({ sub: existing.id });
      const all = await users();
      expect(all).toHaveLength(1);
      expect(all[0]).toMatchObject({
        id: existing.id,
        role: Role.PRESIDENT,
        state: UserState.APPROVED,
        microsoftTid: HOME,
        microsoftOid: oid,
      });
      expect(await audit('user.microsoft_link')).toEqual([
        expect.objectContaining({
          actorId: existing.id,
          targetId: existing.id,
          before: { microsoft_tid: null, microsoft_oid: null },
          after: { microsoft_tid: HOME, microsoft_oid: oid },
        }),
      ]);
      // Later sign-ins find it by the identity alone.
      const again = await signIn(await token(HOME, { oid, email: 'whatever@maua.br' }));
      expect(accessClaims(again.body.access_token).sub).toBe(existing.id);
      expect(await audit('user.microsoft_link')).toHaveLength(1);
    });

    it('does not link an account of another domain: 403 email_domain_not_allowed, nothing changes', async () => {
      const existing = await createUser(t.dataSource, { email: 'boss@partner.com' });
      const res = await signIn(await token(HOME, { email: 'boss@partner.com' }));
      expectProblem(res, 403, 'email_domain_not_allowed');
      const all = await users();
      expect(all).toHaveLength(1);
      expect(all[0]).toMatchObject({ id: existing.id, microsoftTid: null, microsoftOid: null });
      expect(await audit()).toEqual([]);
    });

    it('403 email_domain_not_allowed for a new account of another domain or a look-alike', async () => {
      for (const email of [
        'someone@gmail.com',
        'a@evilmaua.br',
        'a@sub.maua.br',
        'a@maua.br.evil.com',
      ]) {
        expectProblem(
          await signIn(await token(HOME, { oid: randomUUID(), email })),
          403,
          'email_domain_not_allowed',
        );
      }
      expect(await users()).toHaveLength(0);
    });

    it('never re-links an account linked to another identity: 409 microsoft_identity_conflict', async () => {
      const firstOid = randomUUID();
      const linked = await createUser(t.dataSource, {
        email: 'ana.lima@maua.br',
        microsoftTid: HOME,
        microsoftOid: firstOid,
      });
      // Same tenant, another object (a new account of the same person, or someone else).
      const res = await signIn(await token(HOME, { oid: randomUUID(), email: 'ana.lima@maua.br' }));
      expectProblem(res, 409, 'microsoft_identity_conflict');
      const all = await users();
      expect(all).toHaveLength(1);
      expect(all[0]).toMatchObject({ id: linked.id, microsoftTid: HOME, microsoftOid: firstOid });
      expect(await audit()).toEqual([]);
    });
  });

  describe("nOAuth: a victim's email from another tenant never reaches the victim", () => {
    let victim: User;
    const victimOid = randomUUID();

    beforeEach(async () => {
      victim = await createUser(t.dataSource, {
        name: 'The Admin',
        email: 'admin@maua.br',
        role: Role.ADM,
        organization: Organization.ALL,
        microsoftTid: HOME,
        microsoftOid: victimOid,
      });
    });

    async function expectVictimUntouched(): Promise<void> {
      const all = await users();
      expect(all).toHaveLength(1);
      expect(all[0]).toMatchObject({
        id: victim.id,
        email: 'admin@maua.br',
        role: Role.ADM,
        microsoftTid: HOME,
        microsoftOid: victimOid,
        lastLoginAt: null,
      });
      expect(await audit()).toEqual([]);
    }

    it('from a tenant that is not allowed: 401, and its keys are never fetched', async () => {
      for (const claims of [
        { email: 'admin@maua.br' },
        { email: undefined, preferred_username: 'admin@maua.br' },
        { oid: victimOid, email: 'admin@maua.br' },
      ]) {
        expectProblem(await signIn(await token(ATTACKER, claims)), 401, 'microsoft_token_rejected');
      }
      expect(entra.fetchesOf(ATTACKER)).toBe(0);
      await expectVictimUntouched();
    });

    it("from another allowed tenant whose admin set the mail to the victim's: 409, no account made", async () => {
      for (const claims of [
        { email: 'admin@maua.br' },
        { email: 'ADMIN@maua.br', preferred_username: 'attacker@partner.example' },
        { email: undefined, preferred_username: 'admin@maua.br' },
        // The victim's object id in another tenant is another identity.
        { oid: victimOid, email: 'admin@maua.br' },
      ]) {
        const res = await signIn(await token(PARTNER, { oid: randomUUID(), ...claims }));
        expectProblem(res, 409, 'microsoft_identity_conflict');
        expect(res.body.access_token).toBeUndefined();
      }
      await expectVictimUntouched();
    });

    it("from the victim's own tenant, another user with the victim's mail: 409", async () => {
      expectProblem(
        await signIn(await token(HOME, { oid: randomUUID(), email: 'admin@maua.br' })),
        409,
        'microsoft_identity_conflict',
      );
      await expectVictimUntouched();
    });

    it("only the victim's own identity signs in as the victim", async () => {
      const res = await signIn(
        await token(HOME, { oid: victimOid, email: 'someone.else@maua.br' }),
      );
      expect(res.status).toBe(200);
      expect(accessClaims(res.body.access_token)).toMatchObject({ sub: victim.id });
    });
  });

  describe('concurrent first sign-ins', () => {
    it('of one identity create one account, and every one gets a token for it', async () => {
      const idToken = await token(HOME, { oid: randomUUID() });
      const results = await Promise.all(Array.from({ length: 6 }, () => signIn(idToken)));
      expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
      const all = await users();
      expect(all).toHaveLength(1);
      expect(new Set(results.map((r) => accessClaims(r.body.access_token).sub))).toEqual(
        new Set([all[0].id]),
      );
      expect(await audit('user.create')).toHaveLength(1);
    });

    it('of one identity linking an existing account link it once', async () => {
      const existing = await createUser(t.dataSource, { email: 'ana.lima@maua.br' });
      const idToken = await token(HOME, { oid: randomUUID(), email: 'ana.lima@maua.br' });
      const results = await Promise.all(Array.from({ length: 6 }, () => signIn(idToken)));
      expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
      expect(results.every((r) => accessClaims(r.body.access_token).sub === existing.id)).toBe(
        true,
      );
      expect(await users()).toHaveLength(1);
      expect(await audit('user.microsoft_link')).toHaveLength(1);
    });

    it('of two identities with one email: one account, the other gets 409', async () => {
      const [a, b] = await Promise.all([
        token(HOME, { oid: randomUUID(), email: 'new@maua.br' }),
        token(PARTNER, { oid: randomUUID(), email: 'new@maua.br' }),
      ]);
      const results = await Promise.all([signIn(a), signIn(b), signIn(a), signIn(b)]);
      const all = await users();
      expect(all).toHaveLength(1);
      const winner = all[0].microsoftTid === HOME ? a : b;
      for (const [i, res] of results.entries()) {
        const sent = i % 2 === 0 ? a : b;
        if (sent === winner) expect(res.status).toBe(200);
        else expectProblem(res, 409, 'microsoft_identity_conflict');
      }
    });
  });

  describe('bad bodies: 400, and Entra is never asked', () => {
    it.each([
      ['no id_token', {}, 'id_token'],
      ['an empty id_token', { id_token: '' }, 'id_token'],
      ['a numeric id_token', { id_token: 42 }, 'id_token'],
      ['an id_token that is not a JWT', { id_token: 'abc' }, 'id_token'],
      ['an encrypted (JWE, five parts) token', { id_token: 'a.b.c.d.e' }, 'id_token'],
      ['an id_token with a line break', { id_token: 'a.b.c\r\nX-Evil: 1' }, 'id_token'],
      ['a huge id_token', { id_token: `a.${'b'.repeat(20_000)}.c` }, 'id_token'],
      ['the old Graph body', { access_token: 'a.b.c' }, 'access_token'],
    ])('%s', async (_what, body, field) => {
      const res = await request(t.server).post('/auth/microsoft').send(body);
      expectProblem(res, 400, 'validation_failed');
      expect(res.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
      expect(entra.fetches).toEqual([]);
    });
  });

  it('is documented as public, with its body and every answer', async () => {
    const doc = (await request(t.server).get('/docs-json')).body;
    const op = doc.paths['/auth/microsoft'].post;
    expect(op.security).toEqual([]);
    const body = op.requestBody.content['application/json'].schema;
    const schema = body.$ref ? doc.components.schemas[body.$ref.split('/').pop()] : body;
    expect(schema.required).toEqual(['id_token']);
    expect(Object.keys(schema.properties)).toEqual(['id_token']);
    expect(Object.keys(op.responses).sort()).toEqual(
      ['200', '400', '401', '403', '404', '409', '429', '503'].sort(),
    );
  });
});

describe('POST /auth/microsoft without ALLOWED_EMAIL_DOMAINS (outside production)', () => {
  let entra: FakeEntra;
  let t: TestApp;
  const TENANT = newTenantId();

  beforeAll(async () => {
    entra = await FakeEntra.start();
    await entra.addTenant(TENANT);
    t = await createTestApp({
      MICROSOFT_CLIENT_ID: entra.clientId,
      MICROSOFT_TENANT_IDS: TENANT,
      MICROSOFT_AUTHORITY: entra.authority,
    });
  });
  beforeEach(async () => {
    await truncateAll(t.dataSource);
  });
  afterAll(async () => {
    await t.close();
    await entra.stop();
  });

  it('creates accounts of any domain, but links none: an existing email is 409', async () => {
    await request(t.server)
      .post('/auth/microsoft')
      .send({ id_token: await entra.idToken(TENANT, { claims: { email: 'a@anywhere.dev' } }) })
      .expect(200);

    const existing = await createUser(t.dataSource, { email: 'b@maua.br' });
    const res = await request(t.server)
      .post('/auth/microsoft')
      .send({ id_token: await entra.idToken(TENANT, { claims: { email: 'b@maua.br' } }) });
    expectProblem(res, 409, 'microsoft_identity_conflict');
    const row = await t.dataSource.getRepository(User).findOneByOrFail({ id: existing.id });
    expect(row).toMatchObject({ microsoftTid: null, microsoftOid: null });
  });
});

describe('POST /auth/microsoft when Microsoft sign-in is off (no MICROSOFT_CLIENT_ID)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('404 microsoft_sign_in_disabled for a well-formed body', async () => {
    const entra = await FakeEntra.start();
    try {
      const tenant = newTenantId();
      await entra.addTenant(tenant);
      const res = await request(t.server)
        .post('/auth/microsoft')
        .send({ id_token: await entra.idToken(tenant) });
      expectProblem(res, 404, 'microsoft_sign_in_disabled');
      expect(res.body.detail).toMatch(/MICROSOFT_CLIENT_ID/);
      expect(entra.fetches).toEqual([]);
    } finally {
      await entra.stop();
    }
  });
});
