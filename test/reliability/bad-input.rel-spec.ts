import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { Socket } from 'node:net';
import { AppProcess, runMigrations } from './support/app-process';
import { DbUser, insertUser, signToken } from './support/fixtures';
import { FuzzContext, requestFor, strayRequest, wellFormedRequestFor } from './support/fuzz';
import { httpRequest, RequestSpec } from './support/http';
import { loadOpenApi, operations } from './support/openapi';
import { createSharedDatabase, withClient } from './support/postgres';
import { contractViolations } from './support/problem';
import { isOpenToUnapproved } from '../utils/approval';
import { FakeEntra, newTenantId } from '../utils/fake-entra';

/**
 * Property-based bad input against every operation /docs-json lists (so routes merged later are
 * covered without touching this file): never a 500, never a stack trace or SQL in a body, every
 * 4xx an RFC 9457 problem+json. RELIABILITY_FUZZ_RUNS and RELIABILITY_FUZZ_SEED tune and replay.
 */
const doc = loadOpenApi();
const ops = operations(doc);
const RUNS = Number(process.env.RELIABILITY_FUZZ_RUNS ?? 150);
const SEED = process.env.RELIABILITY_FUZZ_SEED
  ? Number(process.env.RELIABILITY_FUZZ_SEED)
  : undefined;
/**
 * A time budget for the whole file, shared out per operation: the suite must stay within its
 * time on 2 cores however many routes the features add (fewer runs per route, never a timeout).
 */
const BUDGET_MS = Number(process.env.RELIABILITY_FUZZ_BUDGET_MS ?? 150_000);
const TIME_LIMIT_MS = Math.max(3000, Math.floor(BUDGET_MS / (ops.length + 1)));

// Microsoft sign-in runs against a loopback fake Entra: two allowed tenants, and one that is
// not allowed (anyone can make a tenant and set a user's mail in it to any address).
const HOME = newTenantId();
const PARTNER = newTenantId();
const ATTACKER = newTenantId();
const VICTIM_EMAIL = 'victim.admin@maua.br';
const VICTIM_OID = randomUUID();

describe('property-based bad input against every route in /docs-json', () => {
  let app: AppProcess;
  let entra: FakeEntra;
  let url: string;
  let ctx: FuzzContext;
  let admin: DbUser;
  let pendingAuth: string;
  /** A linked ADM that every hostile ID token below names by email (the nOAuth target). */
  let victim: DbUser;
  /** ID tokens that must never sign in as the victim, by what they try. */
  let attacks: Record<string, string>;
  const seen = new Map<string, number>();

  beforeAll(async () => {
    url = await createSharedDatabase('fuzz');
    await runMigrations(url);
    admin = await insertUser(url, 'ADM');
    const president = await insertUser(url, 'PRESIDENT', 'DEV');
    const user = await insertUser(url, 'USER', 'NAWAT');
    // Signed in, not approved: every route but sign-in and /users/me must answer it 403.
    const pending = await insertUser(url, 'USER', 'DEV', 'PENDING');
    pendingAuth = `Bearer ${signToken(pending)}`;
    victim = await withClient(url, async (c) => {
      const { rows } = await c.query<DbUser>(
        `INSERT INTO users (name, email, role, organization, state, active, microsoft_tid, microsoft_oid)
         VALUES ('Victim Admin', $1, 'ADM', 'ALL', 'APPROVED', 'ACTIVE', $2, $3)
         RETURNING id, email, role, organization, token_version`,
        [VICTIM_EMAIL, HOME, VICTIM_OID],
      );
      return rows[0];
    });
    // Targets that exist, for path ids (never the callers themselves: a fuzzed DELETE or PATCH
    // of the caller would only turn the rest of the run into 401s).
    const victims = await Promise.all([
      insertUser(url, 'USER', 'DEV'),
      insertUser(url, 'PRESIDENT', 'NAWAT'),
    ]);
    const ghost: DbUser = {
      id: randomUUID(),
      email: 'ghost@example.com',
      role: 'ADM',
      organization: null,
      token_version: 0,
    };

    entra = await FakeEntra.start();
    for (const tid of [HOME, PARTNER, ATTACKER]) await entra.addTenant(tid);
    const stranger = await FakeEntra.newKey();
    const now = Math.floor(Date.now() / 1000);
    const asVictim = { oid: VICTIM_OID, email: VICTIM_EMAIL };
    attacks = {
      'victim email from a tenant that is not allowed': await entra.idToken(ATTACKER, {
        claims: { email: VICTIM_EMAIL },
      }),
      "victim's tid and oid claimed by a tenant that is not allowed": await entra.idToken(
        ATTACKER,
        { claims: { ...asVictim, tid: HOME, iss: entra.issuer(HOME) } },
      ),
      'victim email from another allowed tenant': await entra.idToken(PARTNER, {
        claims: { email: VICTIM_EMAIL },
      }),
      'victim email as preferred_username from another allowed tenant': await entra.idToken(
        PARTNER,
        { claims: { email: undefined, preferred_username: VICTIM_EMAIL } },
      ),
      "victim's oid in another allowed tenant": await entra.idToken(PARTNER, {
        claims: asVictim,
      }),
      "victim email from another user of the victim's tenant": await entra.idToken(HOME, {
        claims: { email: VICTIM_EMAIL },
      }),
      "victim's identity, alg none": entra.unsignedIdToken(HOME, { claims: asVictim }),
      "victim's identity, HS256 with the public key": await entra.hs256WithPublicKey(HOME, {
        claims: asVictim,
      }),
      "victim's identity, signed by an unpublished key": await entra.idToken(HOME, {
        claims: asVictim,
        key: stranger,
        kid: entra.keysOf(HOME)[0].kid,
      }),
      "victim's identity, expired": await entra.idToken(HOME, {
        claims: { ...asVictim, iat: now - 7200, nbf: now - 7200, exp: now - 600 },
      }),
      "victim's identity, for another app": await entra.idToken(HOME, {
        claims: { ...asVictim, aud: randomUUID() },
      }),
    };

    ctx = {
      doc,
      knownIds: victims.map((v) => v.id),
      authorizations: [
        undefined,
        `Bearer ${signToken(admin)}`,
        `Bearer ${signToken(admin)}`,
        `Bearer ${signToken(president)}`,
        `Bearer ${signToken(user)}`,
        `Bearer ${signToken(user)}`,
        pendingAuth,
        pendingAuth,
        `Bearer ${signToken(admin, { expiresIn: -60 })}`,
        `Bearer ${signToken(admin, { secret: 'another-secret-another-secret-another-1' })}`,
        `Bearer ${signToken(ghost)}`,
        `Bearer ${signToken({ ...admin, id: 'not-a-uuid' })}`,
        'Bearer abc.def.ghi',
        'Bearer ',
        'Basic YWRtaW46YWRtaW4=',
        `Bearer ${'a'.repeat(4000)}.b.c`,
        'bearer\t' + signToken(user),
      ],
      samples: {
        id_token: [
          ...Object.values(attacks),
          // Good tokens too, so the fuzz reaches account creation and linking.
          await entra.idToken(HOME, { claims: { email: 'new.student@maua.br' } }),
          await entra.idToken(PARTNER, { claims: { email: '21.00001-1@maua.br' } }),
          await entra.idToken(HOME, { claims: { email: 'someone@elsewhere.org' } }),
        ],
      },
    };
    app = await AppProcess.start({
      DATABASE_URL: url,
      LOG_LEVEL: 'warn',
      MICROSOFT_CLIENT_ID: entra.clientId,
      MICROSOFT_TENANT_IDS: `${HOME},${PARTNER}`,
      MICROSOFT_AUTHORITY: entra.authority,
      ALLOWED_EMAIL_DOMAINS: 'maua.br,example.com',
    });
  });

  afterAll(async () => {
    if (process.env.RELIABILITY_VERBOSE) console.log(Object.fromEntries(seen));
    await app?.kill();
    await entra?.stop();
  });

  async function check(spec: RequestSpec): Promise<void> {
    const res = await httpRequest(app.port, spec);
    const key = `${spec.method} ${res.status}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
    // -1: node's own client refused to send it (an illegal header value); not the server's doing.
    if (res.status === -1) return;
    const violations = contractViolations(res);
    // Whatever the fuzz sends to POST /auth/microsoft, it never signs in as the victim.
    if (spec.path.startsWith('/auth/microsoft') && res.status === 200) {
      const sub = subjectOf(res.text);
      if (sub === victim.id)
        violations.push(`${spec.method} ${spec.path}: signed in as the victim`);
    }
    if (violations.length > 0) {
      const sent = JSON.stringify({ ...spec, body: String(spec.body ?? '').slice(0, 500) });
      throw new Error(`${violations.join('\n')}\nrequest: ${sent}`);
    }
  }

  function params(): fc.Parameters<[RequestSpec]> {
    return {
      numRuns: RUNS,
      seed: SEED,
      interruptAfterTimeLimit: TIME_LIMIT_MS,
      markInterruptAsFailure: false,
      endOnFailure: false,
    };
  }

  it('has operations to attack', () => {
    expect(ops.length).toBeGreaterThan(0);
    expect(ops.map((o) => `${o.method} ${o.path}`)).toEqual(
      expect.arrayContaining(['GET /ping', 'GET /users/me']),
    );
  });

  it('hostile ID tokens (nOAuth and forgeries) never sign in as the victim', async () => {
    const answers: Record<string, string> = {};
    for (const [what, idToken] of Object.entries(attacks)) {
      const res = await httpRequest(app.port, {
        method: 'POST',
        path: '/auth/microsoft',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id_token: idToken }),
      });
      expect(contractViolations(res)).toEqual([]);
      answers[what] = `${res.status} ${(JSON.parse(res.text) as { type?: string }).type}`;
    }
    const rejected = '401 urn:portal-api:problem:microsoft_token_rejected';
    const conflict = '409 urn:portal-api:problem:microsoft_identity_conflict';
    expect(answers).toEqual({
      'victim email from a tenant that is not allowed': rejected,
      "victim's tid and oid claimed by a tenant that is not allowed": rejected,
      'victim email from another allowed tenant': conflict,
      'victim email as preferred_username from another allowed tenant': conflict,
      "victim's oid in another allowed tenant": conflict,
      "victim email from another user of the victim's tenant": conflict,
      "victim's identity, alg none": rejected,
      "victim's identity, HS256 with the public key": rejected,
      "victim's identity, signed by an unpublished key": rejected,
      "victim's identity, expired": rejected,
      "victim's identity, for another app": rejected,
    });
    // The tenant that is not allowed never even had its keys fetched.
    expect(entra.fetchesOf(ATTACKER)).toBe(0);
  });

  it('a PENDING account gets 403 account_not_approved on every guarded operation', async () => {
    const guarded = ops.filter((o) => !isOpenToUnapproved(o.method, o.path));
    expect(guarded.length).toBeGreaterThan(10);
    for (const op of guarded) {
      await fc.assert(
        fc.asyncProperty(wellFormedRequestFor(ctx, op, pendingAuth), async (spec) => {
          const res = await httpRequest(app.port, spec);
          expect(contractViolations(res)).toEqual([]);
          expect({ op: `${op.method} ${op.path}`, status: res.status, text: res.text }).toEqual({
            op: `${op.method} ${op.path}`,
            status: 403,
            text: expect.stringContaining('urn:portal-api:problem:account_not_approved'),
          });
        }),
        { numRuns: 15, seed: SEED, interruptAfterTimeLimit: 3000, markInterruptAsFailure: false },
      );
    }
    expect(app.running).toBe(true);
  });

  it.each(ops.map((o) => [`${o.method} ${o.path}`, o] as const))('%s', async (_name, op) => {
    await fc.assert(fc.asyncProperty(requestFor(ctx, op), check), params());
    expect(app.running).toBe(true);
  });

  it('paths and methods that are no route', async () => {
    await fc.assert(fc.asyncProperty(strayRequest(ctx), check), params());
    expect(app.running).toBe(true);
  });

  it('malformed HTTP on a raw socket gets a 4xx problem, not a 500 or a hang', async () => {
    const raw = [
      'GET /ping HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n',
      'GET /ping HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n',
      'GET /ping HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello',
      'POST /users/me HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\nzz\r\n{}\r\n0\r\n\r\n',
      `GET /ping HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      'GET /ping HTTP/9.9\r\nHost: x\r\n\r\n',
      'HEAD /users/me HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n\r\n',
      'BREW /ping HTTP/1.1\r\nHost: x\r\n\r\n',
      `GET /${'a'.repeat(70_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
    ];
    for (const request of raw) {
      const answer = await rawRequest(app.port, request);
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(answer)?.[1] ?? 0);
      const where = `${JSON.stringify(request.slice(0, 80))} -> ${answer.slice(0, 300)}`;
      expect({ where, ok: status >= 400 && status < 500 }).toEqual({ where, ok: true });
      expect({ where, problem: /content-type: application\/problem\+json/i.test(answer) }).toEqual({
        where,
        problem: true,
      });
      expect(answer).not.toMatch(/\.(js|ts):\d+/);
    }
    expect(app.running).toBe(true);
  });

  it('left no 5xx or crash in the log', () => {
    const complaints = app.complaints().filter((l) => !/"level":"warn"/.test(l));
    expect(complaints.slice(0, 5)).toEqual([]);
  });

  it('left the victim as it was: same identity, never signed in, never linked again', async () => {
    const rows = await withClient(url, async (c) => {
      const user = await c.query(
        'SELECT microsoft_tid, microsoft_oid, last_login_at, role FROM users WHERE id = $1',
        [victim.id],
      );
      const links = await c.query(
        `SELECT count(*)::int AS n FROM audit_log WHERE action = 'user.microsoft_link' AND target_id = $1`,
        [victim.id],
      );
      const sameEmail = await c.query('SELECT count(*)::int AS n FROM users WHERE email = $1', [
        VICTIM_EMAIL,
      ]);
      return { user: user.rows[0], links: links.rows[0].n, sameEmail: sameEmail.rows[0].n };
    });
    expect(rows).toEqual({
      user: { microsoft_tid: HOME, microsoft_oid: VICTIM_OID, last_login_at: null, role: 'ADM' },
      links: 0,
      sameEmail: 1,
    });
  });
});

/** The `sub` of the access token in a token answer, if any. */
function subjectOf(text: string): string | undefined {
  try {
    const token = (JSON.parse(text) as { access_token?: string }).access_token;
    if (!token) return undefined;
    return (
      JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as { sub?: string }
    ).sub;
  } catch {
    return undefined;
  }
}

/** Writes bytes to a fresh connection and returns what comes back before close (bounded). */
function rawRequest(port: number, data: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const chunks: Buffer[] = [];
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(Buffer.concat(chunks).toString('latin1'));
    };
    const timer = setTimeout(done, 5000);
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      // One answer is enough: stop once the headers and a body have arrived.
      if (/\r\n\r\n[\s\S]+/.test(Buffer.concat(chunks).toString('latin1'))) setTimeout(done, 50);
    });
    socket.on('error', done);
    socket.on('close', done);
    socket.connect(port, '127.0.0.1', () => socket.write(data));
  });
}
