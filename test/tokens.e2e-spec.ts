import * as jwt from 'jsonwebtoken';
import { createPublicKey } from 'node:crypto';
import request from 'supertest';
import { generateSigningJwk, SigningJwk } from '../src/auth/signing-keys';
import { TokenService } from '../src/auth/token.service';
import { User } from '../src/users/entities/user.entity';
import { truncateAll } from './utils/db';
import { bearer, createUser, DEFAULT_PASSWORD, sessionFor, tokenFor } from './utils/factories';
import { expectProblem } from './utils/problem';
import { createTestApp, TEST_SIGNING_KEYS, TestApp } from './utils/test-app';
import { claimsFor, forgeToken, signingKeyOf } from './utils/tokens';

const keySet = (current: SigningJwk, ...others: SigningJwk[]): string =>
  JSON.stringify({ current: current.kid, keys: [current, ...others] });
const publicOnly = ({ d: _d, ...pub }: SigningJwk): SigningJwk => pub;

/** GET /users/me with this Authorization header. */
const me = (t: TestApp, authorization: string) =>
  request(t.server).get('/users/me').set('authorization', authorization);

describe('access tokens (ES256, kid, typ at+jwt) and the passport-jwt guard', () => {
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

  it('verifies against the public keys of /.well-known/jwks.json alone', async () => {
    const user = await createUser(t.dataSource, { email: 'ana@example.com' });
    const signIn = await request(t.server)
      .post('/auth/token')
      .send({ email: 'ana@example.com', password: DEFAULT_PASSWORD })
      .expect(200);
    const jwks = await request(t.server).get('/.well-known/jwks.json');
    expect(jwks.status).toBe(200);
    expect(jwks.headers['content-type']).toMatch(/application\/json/);
    expect(jwks.headers['cache-control']).toBe('public, max-age=300');
    expect(JSON.stringify(jwks.body)).not.toMatch(/"d"/);
    const { kid } = jwt.decode(signIn.body.access_token, { complete: true })!.header;
    const jwk = jwks.body.keys.find((k: { kid: string }) => k.kid === kid);
    expect(jwk).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    const claims = jwt.verify(
      signIn.body.access_token,
      createPublicKey({ key: jwk, format: 'jwk' }),
      {
        algorithms: ['ES256'],
        issuer: 'portal-api',
        audience: 'portal-api',
      },
    ) as jwt.JwtPayload;
    expect(claims.sub).toBe(user.id);
  });

  it('serves the key set of JWT_SIGNING_KEYS: current, next and previous, public parts only', async () => {
    const [current, next, previous] = [
      generateSigningJwk(),
      generateSigningJwk(),
      generateSigningJwk(),
    ];
    const app = await createTestApp({
      JWT_SIGNING_KEYS: keySet(current, next, publicOnly(previous)),
    });
    try {
      const res = await request(app.server).get('/.well-known/jwks.json').expect(200);
      expect(res.body).toEqual({
        keys: [current, next, previous].map((k) => ({
          kty: 'EC',
          crv: 'P-256',
          x: k.x,
          y: k.y,
          kid: k.kid,
          alg: 'ES256',
          use: 'sig',
        })),
      });
    } finally {
      await app.close();
    }
  });

  describe('refusals: 401 problem+json, never 500', () => {
    let user: User;
    let sid: string;
    const { kid, key } = signingKeyOf(TEST_SIGNING_KEYS);
    const header = { alg: 'ES256', typ: 'at+jwt', kid };
    const es256 = { es256: key };

    beforeEach(async () => {
      user = await createUser(t.dataSource);
      sid = (await sessionFor(t, user)).sessionId;
    });

    it('accepts a hand-made token with the right header and claims (the control case)', async () => {
      const token = forgeToken(header, claimsFor(t, user, sid), es256);
      await me(t, `Bearer ${token}`).expect(200);
      const typ = forgeToken(
        { ...header, typ: 'application/AT+JWT' },
        claimsFor(t, user, sid),
        es256,
      );
      await me(t, `Bearer ${typ}`).expect(200);
    });

    it.each<[string, (c: Record<string, unknown>) => Record<string, unknown>]>([
      ['another issuer', (c) => ({ ...c, iss: 'https://evil.example.com' })],
      ['another audience', (c) => ({ ...c, aud: 'another-api' })],
      ['no sid', ({ sid: _s, ...c }) => c],
      ['a sid that is not a UUID', (c) => ({ ...c, sid: 'not-a-uuid' })],
      ['an unknown sid', (c) => ({ ...c, sid: '6f1c2e1e-3a4b-4c5d-8e9f-0a1b2c3d4e5f' })],
      ['no jti', ({ jti: _j, ...c }) => c],
      ['no exp', ({ exp: _e, ...c }) => c],
      ['no iat', ({ iat: _i, ...c }) => c],
      ['a sub that is not a UUID', (c) => ({ ...c, sub: 'admin' })],
      ['another user as sub', (c) => ({ ...c, sub: '6f1c2e1e-3a4b-4c5d-8e9f-0a1b2c3d4e5f' })],
      ['an old token_version', (c) => ({ ...c, token_version: -1 })],
      ['an exp that is not a number', (c) => ({ ...c, exp: 'tomorrow' })],
      ['a future nbf', (c) => ({ ...c, nbf: Math.floor(Date.now() / 1000) + 600 })],
    ])('invalid_token for claims with %s', async (_what, change) => {
      const token = forgeToken(header, change(claimsFor(t, user, sid)), es256);
      const res = await me(t, `Bearer ${token}`);
      expectProblem(res, 401, 'invalid_token');
      expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    });

    it.each<[string, () => string]>([
      ['typ JWT', () => forgeToken({ ...header, typ: 'JWT' }, claimsFor(t, user, sid), es256)],
      ['no typ', () => forgeToken({ alg: 'ES256', kid }, claimsFor(t, user, sid), es256)],
      [
        'an unknown kid',
        () => forgeToken({ ...header, kid: 'k-unknown' }, claimsFor(t, user, sid), es256),
      ],
      ['no kid', () => forgeToken({ alg: 'ES256', typ: 'at+jwt' }, claimsFor(t, user, sid), es256)],
      ['alg none', () => forgeToken({ ...header, alg: 'none' }, claimsFor(t, user, sid), 'none')],
      [
        'HS256 keyed with the public key (algorithm confusion)',
        () =>
          forgeToken({ ...header, alg: 'HS256' }, claimsFor(t, user, sid), {
            hs256: createPublicKey(key).export({ format: 'pem', type: 'spki' }),
          }),
      ],
      [
        'ES256 by another key under our kid',
        () =>
          forgeToken(header, claimsFor(t, user, sid), {
            es256: signingKeyOf(JSON.stringify({ keys: [generateSigningJwk()] })).key,
          }),
      ],
      [
        'a payload changed after signing',
        () => {
          const [h, , s] = forgeToken(header, claimsFor(t, user, sid), es256).split('.');
          const other = Buffer.from(
            JSON.stringify({ ...claimsFor(t, user, sid), token_version: 0 }),
          ).toString('base64url');
          return `${h}.${other}.${s}`;
        },
      ],
      [
        'a truncated signature',
        () => forgeToken(header, claimsFor(t, user, sid), es256).slice(0, -10),
      ],
      ['three dots of nothing', () => 'a.b.c'],
      ['a header that is not JSON', () => `${Buffer.from('{nope').toString('base64url')}.e30.c2ln`],
      [
        'a header that is a JSON array',
        () => `${Buffer.from('[1]').toString('base64url')}.e30.c2ln`,
      ],
      ['an oversized token', () => `${'a'.repeat(5000)}.${'b'.repeat(100)}.c`],
      ['two tokens', () => `${forgeToken(header, claimsFor(t, user, sid), es256)} x.y.z`],
    ])('invalid_token for %s', async (_what, make) => {
      const res = await me(t, `Bearer ${make()}`);
      expectProblem(res, 401, 'invalid_token');
    });

    it('token_expired for an expired token, even a day old', async () => {
      for (const age of [1, 86400]) {
        const claims = { ...claimsFor(t, user, sid), exp: Math.floor(Date.now() / 1000) - age };
        const res = await me(t, `Bearer ${forgeToken(header, claims, es256)}`);
        expectProblem(res, 401, 'token_expired');
        expect(res.headers['www-authenticate']).toMatch(/^Bearer error="invalid_token"/);
      }
    });

    it.each([
      ['no header', 'unauthorized', undefined],
      ['an empty header', 'unauthorized', ''],
      ['Basic credentials', 'invalid_token', 'Basic YWRtaW46YWRtaW4='],
      ['Bearer and nothing', 'invalid_token', 'Bearer '],
      ['a bare token', 'invalid_token', 'eyJhbGciOi.eyJzdWIi.c2ln'],
    ])('%s: 401 %s', async (_what, code, value) => {
      const req = request(t.server).get('/users/me');
      if (value !== undefined) void req.set('authorization', value);
      const res = await req;
      expectProblem(res, 401, code);
    });

    it('a deactivated user: 401 account_inactive, whatever its sessions', async () => {
      const auth = await bearer(t, user);
      await t.dataSource.query(`UPDATE users SET active = 'FREEZED' WHERE id = $1`, [user.id]);
      expectProblem(await me(t, auth), 401, 'account_inactive');
    });
  });

  describe('key rotation', () => {
    it('a token of a previous key verifies until it expires; a key dropped from the set does not', async () => {
      const [k1, k2] = [generateSigningJwk(), generateSigningJwk()];
      const before = await createTestApp({ JWT_SIGNING_KEYS: keySet(k1) });
      const after = await createTestApp({ JWT_SIGNING_KEYS: keySet(k2, publicOnly(k1)) });
      const later = await createTestApp({ JWT_SIGNING_KEYS: keySet(k2) });
      try {
        const user = await createUser(t.dataSource);
        const old = await bearer(before, user);
        await me(after, old).expect(200);
        expectProblem(await me(later, old), 401, 'invalid_token');
      } finally {
        await Promise.all([before, after, later].map((a) => a.close()));
      }
    });

    it('a fleet mid-deploy (old set with the next key staged, new set) keeps working both ways', async () => {
      const [k1, k2, k3] = [generateSigningJwk(), generateSigningJwk(), generateSigningJwk()];
      // What generate-and-store-keys.sh --rotate makes: k2 was staged in the old set.
      const oldTask = await createTestApp({ JWT_SIGNING_KEYS: keySet(k1, k2) });
      const newTask = await createTestApp({ JWT_SIGNING_KEYS: keySet(k2, k3, publicOnly(k1)) });
      try {
        const user = await createUser(t.dataSource);
        const fromOld = await bearer(oldTask, user);
        const fromNew = await bearer(newTask, user);
        expect(jwt.decode(fromOld.slice(7), { complete: true })!.header.kid).toBe(k1.kid);
        expect(jwt.decode(fromNew.slice(7), { complete: true })!.header.kid).toBe(k2.kid);
        for (const task of [oldTask, newTask]) {
          await me(task, fromOld).expect(200);
          await me(task, fromNew).expect(200);
        }
      } finally {
        await Promise.all([oldTask.close(), newTask.close()]);
      }
    });
  });

  describe("passport's process-wide registry", () => {
    it("two apps with different key sets in one process each refuse the other's tokens", async () => {
      const a = await createTestApp({ JWT_SIGNING_KEYS: keySet(generateSigningJwk()) });
      // b is constructed last: its JwtStrategy instance is the one passport holds for 'jwt'.
      const b = await createTestApp({ JWT_SIGNING_KEYS: keySet(generateSigningJwk()) });
      try {
        const user = await createUser(t.dataSource);
        const [fromA, fromB] = [await bearer(a, user), await bearer(b, user)];
        // Interleaved, and at once: the key set comes with each request, not from a global.
        const results = await Promise.all([
          me(a, fromA),
          me(b, fromB),
          me(a, fromB),
          me(b, fromA),
          me(a, fromA),
          me(b, fromB),
        ]);
        expect(results.map((r) => r.status)).toEqual([200, 200, 401, 401, 200, 200]);
        expectProblem(results[2], 401, 'invalid_token');
        expectProblem(results[3], 401, 'invalid_token');
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });

    it('and with the same keys but another issuer or audience, too', async () => {
      const keys = keySet(generateSigningJwk());
      const a = await createTestApp({
        JWT_SIGNING_KEYS: keys,
        JWT_ISSUER: 'https://a.example.com',
      });
      const b = await createTestApp({ JWT_SIGNING_KEYS: keys, JWT_AUDIENCE: 'another-audience' });
      try {
        const user = await createUser(t.dataSource);
        const [fromA, fromB] = [await bearer(a, user), await bearer(b, user)];
        await me(a, fromA).expect(200);
        await me(b, fromB).expect(200);
        expectProblem(await me(a, fromB), 401, 'invalid_token');
        expectProblem(await me(b, fromA), 401, 'invalid_token');
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });

    it('without JWT_SIGNING_KEYS each app makes its own pair; tokens do not cross', async () => {
      const a = await createTestApp({ JWT_SIGNING_KEYS: '' });
      const b = await createTestApp({ JWT_SIGNING_KEYS: '' });
      try {
        expect(a.config.jwtSigningKeysGenerated).toBe(true);
        const user = await createUser(t.dataSource);
        const fromA = await bearer(a, user);
        await me(a, fromA).expect(200);
        expectProblem(await me(b, fromA), 401, 'invalid_token');
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });
  });

  it('the OpenAPI document: public routes need no token, logout takes either, sessions need one', async () => {
    const doc = (await request(t.server).get('/docs-json').expect(200)).body as {
      security: unknown;
      paths: Record<string, Record<string, { security?: unknown; summary?: string }>>;
    };
    expect(doc.security).toEqual([{ bearer: [] }]);
    for (const [path, method] of [
      ['/auth/token', 'post'],
      ['/auth/refresh', 'post'],
      ['/auth/microsoft', 'post'],
      ['/.well-known/jwks.json', 'get'],
      ['/ping', 'get'],
    ]) {
      // Either way OpenAPI says "no security requirement" ([] from an explicit ApiOperation).
      expect([
        { path, security: [] },
        { path, security: [{}] },
      ]).toContainEqual({
        path,
        security: doc.paths[path][method].security,
      });
    }
    expect(doc.paths['/auth/logout'].post.security).toEqual([{}, { bearer: [] }]);
    expect(doc.paths['/auth/sessions'].get.security).toEqual([{ bearer: [] }]);
    expect(doc.paths['/auth/sessions/{id}'].delete.security).toEqual([{ bearer: [] }]);
    for (const [path, method] of [
      ['/auth/refresh', 'post'],
      ['/auth/logout', 'post'],
      ['/auth/sessions', 'get'],
      ['/auth/sessions/{id}', 'delete'],
      ['/.well-known/jwks.json', 'get'],
    ]) {
      expect(doc.paths[path][method].summary).toEqual(expect.any(String));
    }
  });

  it('JWT_EXPIRES_IN sets the lifetime; the token says so', async () => {
    const short = await createTestApp({ JWT_EXPIRES_IN: '5m' });
    try {
      const user = await createUser(t.dataSource);
      const token = await tokenFor(short, user);
      const claims = jwt.decode(token) as jwt.JwtPayload;
      expect(claims.exp! - claims.iat!).toBe(300);
      const session = await sessionFor(short, user);
      expect(short.app.get(TokenService).pair(user, session).expires_in).toBe(300);
    } finally {
      await short.close();
    }
  });
});
