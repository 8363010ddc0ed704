import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { Socket } from 'node:net';
import { AppProcess, runMigrations } from './support/app-process';
import { Pool } from 'pg';
import { generateSigningKeysJson } from '../../src/auth/signing-keys';
import { DbUser, insertUser, signToken, startSession } from './support/fixtures';
import { FuzzContext, requestFor, strayRequest } from './support/fuzz';
import { httpRequest, json, RequestSpec } from './support/http';
import { loadOpenApi, operations } from './support/openapi';
import { createSharedDatabase } from './support/postgres';
import { contractViolations } from './support/problem';

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

/** Placeholders check() replaces just before sending: a token of a new session of that role... */
const FRESH = '{{fresh-session-of}}';
const fresh = (role: DbUser['role']) => `Bearer ${FRESH}${role}`;
/** ...and a refresh token, live or already spent. */
const LIVE_REFRESH = '{{live-refresh-token}}';
const SPENT_REFRESH = '{{spent-refresh-token}}';

describe('property-based bad input against every route in /docs-json', () => {
  let app: AppProcess;
  let graph: Server;
  let ctx: FuzzContext;
  let admin: DbUser;
  let pool: Pool;
  let callers: Record<DbUser['role'], DbUser>;
  const seen = new Map<string, number>();

  beforeAll(async () => {
    const url = await createSharedDatabase('fuzz');
    await runMigrations(url);
    admin = await insertUser(url, 'ADM');
    const president = await insertUser(url, 'PRESIDENT', 'DEV');
    const user = await insertUser(url, 'USER', 'NAWAT');
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
      session_id: randomUUID(),
    };
    pool = new Pool({ connectionString: url, max: 2 });
    callers = { ADM: admin, PRESIDENT: president, USER: user };
    ctx = {
      doc,
      knownIds: victims.map((v) => v.id),
      // A live refresh token (a new session each time) and a spent one (reuse), for
      // /auth/refresh and /auth/logout.
      knownValues: { refresh_token: [LIVE_REFRESH, SPENT_REFRESH] },
      authorizations: [
        undefined,
        // Valid tokens, each of a new session when sent: a fuzzed logout or DELETE of a
        // session must not turn the rest of the run into 401s.
        fresh('ADM'),
        fresh('ADM'),
        fresh('PRESIDENT'),
        fresh('USER'),
        fresh('USER'),
        `Bearer ${signToken(admin, { expiresIn: -60 })}`,
        `Bearer ${signToken(admin, { keys: generateSigningKeysJson() })}`,
        `Bearer ${signToken(ghost)}`,
        `Bearer ${signToken({ ...admin, id: 'not-a-uuid' })}`,
        `Bearer ${signToken({ ...admin, session_id: 'not-a-uuid' })}`,
        'Bearer abc.def.ghi',
        'Bearer ',
        'Basic YWRtaW46YWRtaW4=',
        `Bearer ${'a'.repeat(4000)}.b.c`,
        `bearer\t${FRESH}USER`,
      ],
    };
    // A stand-in for Microsoft Graph that refuses every token, as the real one does for
    // random strings (there is no internet here; an unreachable Graph is a 503 by design).
    graph = createServer((_req, res) => {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end('{"error":{"code":"InvalidAuthenticationToken"}}');
    });
    await new Promise<void>((resolve) => graph.listen(0, '127.0.0.1', resolve));
    const graphPort = (graph.address() as AddressInfo).port;
    app = await AppProcess.start({
      DATABASE_URL: url,
      LOG_LEVEL: 'warn',
      GRAPH_ENDPOINT: `http://127.0.0.1:${graphPort}/v1.0/me`,
    });
  });

  afterAll(async () => {
    if (process.env.RELIABILITY_VERBOSE) console.log(Object.fromEntries(seen));
    await app?.kill();
    await pool?.end();
    await new Promise((resolve) => graph?.close(resolve));
  });

  /** Turns the placeholders of a request into live credentials, minted just before it goes. */
  async function mint(spec: RequestSpec): Promise<RequestSpec> {
    const headers = { ...(spec.headers ?? {}) };
    const auth = headers.authorization;
    if (auth?.includes(FRESH)) {
      const role = auth.slice(auth.indexOf(FRESH) + FRESH.length) as DbUser['role'];
      const caller = callers[role];
      const { sessionId } = await startSession(pool, caller.id);
      headers.authorization = auth.replace(`${FRESH}${role}`, signToken(caller, { sessionId }));
    }
    let body = spec.body;
    if (typeof body === 'string') {
      for (const [placeholder, spent] of [
        [LIVE_REFRESH, false],
        [SPENT_REFRESH, true],
      ] as const) {
        if (body.includes(placeholder)) {
          const { refreshToken } = await startSession(pool, callers.USER.id, { spent });
          body = body.split(placeholder).join(refreshToken);
        }
      }
    }
    return { ...spec, headers, body };
  }

  async function check(unminted: RequestSpec): Promise<void> {
    const spec = await mint(unminted);
    const res = await httpRequest(app.port, spec);
    const key = `${spec.method} ${res.status}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
    // -1: node's own client refused to send it (an illegal header value); not the server's doing.
    if (res.status === -1) return;
    const violations = contractViolations(res);
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

  it('its placeholders become live credentials: a fresh bearer and a live refresh token work', async () => {
    const post = async (body: string) =>
      httpRequest(
        app.port,
        await mint({
          method: 'POST',
          path: '/auth/refresh',
          headers: { 'content-type': 'application/json' },
          body,
        }),
      );
    expect((await post(`{"refresh_token":"${LIVE_REFRESH}"}`)).status).toBe(200);
    const spent = await post(`{"refresh_token":"${SPENT_REFRESH}"}`);
    expect([spent.status, json(spent)]).toEqual([
      401,
      expect.objectContaining({ type: 'urn:portal-api:problem:refresh_token_reused' }),
    ]);
    const me = await httpRequest(
      app.port,
      await mint({ path: '/users/me', headers: { authorization: fresh('USER') } }),
    );
    expect(me.status).toBe(200);
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
});

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
