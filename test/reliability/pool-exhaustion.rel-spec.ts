import { Client } from 'pg';
import { AppProcess, runMigrations } from './support/app-process';
import { authHeader, DbUser, insertUser } from './support/fixtures';
import { httpRequest, json, runLoad, tally } from './support/http';
import { createSharedDatabase, waitForLockWaiters } from './support/postgres';
import { contractViolations, isDatabaseUnavailableProblem } from './support/problem';

const POOL_SIZE = 2;
const STATEMENT_TIMEOUT_MS = 3000;
const CONNECT_TIMEOUT_MS = 1000;
const REQUESTS = 8;
const SLACK_MS = 1000;

describe('pool exhaustion and a slow query', () => {
  let url: string;
  let admin: DbUser;
  let app: AppProcess;
  let locker: Client | undefined;

  beforeAll(async () => {
    url = await createSharedDatabase('pool');
    await runMigrations(url);
    admin = await insertUser(url, 'ADM');
    app = await AppProcess.start({
      DATABASE_URL: url,
      DATABASE_POOL_SIZE: String(POOL_SIZE),
      DATABASE_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS),
      DATABASE_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS),
    });
  });

  afterEach(async () => {
    await locker?.end().catch(() => undefined);
    locker = undefined;
  });

  afterAll(async () => {
    await app?.kill();
  });

  it('a blocked query ends at statement_timeout with 503, waiting for a client ends at the connect timeout with 503', async () => {
    const auth = authHeader(admin);
    expect((await httpRequest(app.port, { path: '/users/me', headers: auth })).status).toBe(200);

    // Every query on users now waits: the app's pool of 2 fills up with blocked queries.
    locker = new Client({ connectionString: url });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE users IN ACCESS EXCLUSIVE MODE');

    const holders = Array.from({ length: POOL_SIZE }, () =>
      httpRequest(app.port, { path: '/users/me', headers: auth, timeoutMs: 20_000 }),
    );
    await waitForLockWaiters(url, POOL_SIZE);
    // The pool is exhausted: these wait for a free client.
    const waiters = Array.from({ length: REQUESTS - POOL_SIZE }, () =>
      httpRequest(app.port, { path: '/users/me', headers: auth, timeoutMs: 20_000 }),
    );
    const ping = await httpRequest(app.port, { path: '/ping', timeoutMs: 20_000 });

    const waited = await Promise.all(waiters);
    const held = await Promise.all(holders);
    if (process.env.RELIABILITY_VERBOSE) {
      console.log({
        held: held.map((r) => [r.status, r.ms]),
        waited: waited.map((r) => [r.status, r.ms]),
        ping: [ping.status, ping.ms, ping.text],
      });
    }

    // The slow queries were cancelled by statement_timeout: 503 problem+json, not a hang.
    for (const r of held) {
      expect(isDatabaseUnavailableProblem(r)).toBe(true);
      expect(contractViolations(r, [503])).toEqual([]);
      expect(r.ms).toBeGreaterThanOrEqual(STATEMENT_TIMEOUT_MS - 100);
      expect(r.ms).toBeLessThan(STATEMENT_TIMEOUT_MS + SLACK_MS);
    }
    // pg-pool's connectionTimeoutMillis also bounds the wait for a free client (pg-pool puts a
    // timer on each queued request): they give up after ~1 s, long before the holders finish.
    for (const r of waited) {
      expect(isDatabaseUnavailableProblem(r)).toBe(true);
      expect(r.ms).toBeGreaterThanOrEqual(CONNECT_TIMEOUT_MS - 100);
      expect(r.ms).toBeLessThan(CONNECT_TIMEOUT_MS + SLACK_MS);
    }
    // /ping cannot get a client either: it says 503 within its own 2 s budget.
    expect(ping.status).toBe(503);
    expect(ping.ms).toBeLessThan(2000 + SLACK_MS);
    expect(app.running).toBe(true);

    // Released: the same pool serves again.
    await locker.query('ROLLBACK');
    const after = await runLoad({
      port: app.port,
      concurrency: 4,
      durationMs: 1000,
      maxRequests: 200,
      next: () => ({ path: '/users/me', headers: auth }),
    });
    expect(tally(after)).toEqual({ '200': after.length });
    expect((json(after[0]) as { id: string }).id).toBe(admin.id);
  });

  it('under sustained load on a blocked table: only 503 problem+json, every answer within the bounds', async () => {
    const auth = authHeader(admin);
    locker = new Client({ connectionString: url });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE users IN ACCESS EXCLUSIVE MODE');
    const results = await runLoad({
      port: app.port,
      concurrency: 12,
      durationMs: 5000,
      maxRequests: 2000,
      next: (i) => (i % 5 === 0 ? { path: '/ping' } : { path: '/users/me', headers: auth }),
    });
    await locker.query('ROLLBACK');

    const users = results.filter((r) => r.path === '/users/me');
    expect(tally(users)).toEqual({ '503': users.length });
    expect(users.flatMap((r) => contractViolations(r, [503])).slice(0, 5)).toEqual([]);
    expect(users.filter((r) => !isDatabaseUnavailableProblem(r))).toEqual([]);
    // The worst case: wait for a client (connect timeout), then block until statement_timeout.
    expect(Math.max(...results.map((r) => r.ms))).toBeLessThan(
      CONNECT_TIMEOUT_MS + STATEMENT_TIMEOUT_MS + SLACK_MS,
    );
    expect(app.running).toBe(true);
    expect((await httpRequest(app.port, { path: '/users/me', headers: auth })).status).toBe(200);
  });
});
