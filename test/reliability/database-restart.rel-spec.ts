import { AppProcess, runMigrations, sleep, waitFor } from './support/app-process';
import { authHeader, DbUser, insertUser } from './support/fixtures';
import { httpRequest, json, runLoad, tally } from './support/http';
import { PgServer } from './support/postgres';
import { contractViolations, isDatabaseUnavailableProblem } from './support/problem';

const CONNECT_TIMEOUT_MS = 1000;
/** /ping gives up on the database after 2 s; a request gets the connect timeout plus slack. */
const MAX_LATENCY_MS = CONNECT_TIMEOUT_MS + 2500;

describe('the database restarts under load', () => {
  let pg: PgServer;
  let app: AppProcess;
  let admin: DbUser;
  let url: string;

  beforeAll(async () => {
    // This scenario owns its server: it is the only one that stops it.
    pg = await PgServer.start();
    url = await pg.createDatabase('restart');
    await runMigrations(url);
    admin = await insertUser(url, 'ADM');
    app = await AppProcess.start({
      DATABASE_URL: url,
      DATABASE_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS),
      DATABASE_POOL_SIZE: '4',
    });
  });

  afterAll(async () => {
    await app?.kill();
    await pg?.dispose();
  });

  it('answers 503 problem+json during the outage, keeps running, and recovers by itself', async () => {
    const auth = authHeader(admin);
    expect((await httpRequest(app.port, { path: '/ping' })).status).toBe(200);
    expect((await httpRequest(app.port, { path: '/users/me', headers: auth })).status).toBe(200);

    const outage: Promise<void> = (async () => {
      await sleep(1500);
      await pg.stop();
      // While the server is away: /ping says 503, an authenticated request 503 problem+json.
      await waitFor(
        '/ping to say 503',
        async () => (await httpRequest(app.port, { path: '/ping' })).status === 503,
        5000,
      );
      const me = await httpRequest(app.port, { path: '/users/me', headers: auth });
      expect(isDatabaseUnavailableProblem(me)).toBe(true);
      await sleep(2500);
      await pg.start();
    })();

    let i = 0;
    const results = await runLoad({
      port: app.port,
      concurrency: 8,
      durationMs: 12_000,
      maxRequests: 20_000,
      next: () => (i++ % 4 === 0 ? { path: '/ping' } : { path: '/users/me', headers: auth }),
    });
    await outage;
    if (process.env.RELIABILITY_VERBOSE) {
      console.log({ results: tally(results), slowestMs: Math.max(...results.map((r) => r.ms)) });
    }

    // The process never died, no request hung, nothing but 200 and 503 problem+json came back.
    expect(app.running).toBe(true);
    expect(tally(results)).not.toHaveProperty('500');
    const statuses = new Set(results.map((r) => r.status));
    expect([...statuses].sort()).toEqual(expect.arrayContaining([200, 503]));
    expect([...statuses].filter((s) => s !== 200 && s !== 503)).toEqual([]);
    // /ping has its own contract: 503 {status: "error", database: "down"}; the rest problem+json.
    const pings = results.filter((r) => r.path === '/ping');
    const others = results.filter((r) => r.path !== '/ping');
    const pingDown = pings.filter((r) => r.status === 503);
    expect(pingDown.length).toBeGreaterThan(0);
    expect(pingDown.map((r) => json(r))).toContainEqual(
      expect.objectContaining({ status: 'error', database: 'down' }),
    );
    expect(
      pings.filter((r) => r.status === 503 && (json(r) as { status?: string })?.status !== 'error'),
    ).toEqual([]);
    const violations = others.flatMap((r) => contractViolations(r, [503]));
    expect(violations.slice(0, 10)).toEqual([]);
    const unavailable = others.filter((r) => r.status === 503);
    expect(unavailable.length).toBeGreaterThan(0);
    expect(unavailable.filter((r) => !isDatabaseUnavailableProblem(r)).slice(0, 5)).toEqual([]);
    const slowest = Math.max(...results.map((r) => r.ms));
    expect(slowest).toBeLessThan(MAX_LATENCY_MS);

    // Recovery without a restart: /ping 200 and the same token works again.
    await waitFor(
      '/ping to say 200 again',
      async () => (await httpRequest(app.port, { path: '/ping' })).status === 200,
      15_000,
    );
    await waitFor(
      'GET /users/me to answer 200 again',
      async () =>
        (await httpRequest(app.port, { path: '/users/me', headers: auth })).status === 200,
      5000,
    );
    const after = await runLoad({
      port: app.port,
      concurrency: 4,
      durationMs: 1500,
      maxRequests: 400,
      next: () => ({ path: '/users/me', headers: auth }),
    });
    expect(tally(after)).toEqual({ '200': after.length });
    const me = json(after[0]) as { id: string };
    expect(me.id).toBe(admin.id);
    expect(app.running).toBe(true);

    // The outage was logged as JSON lines (5xx are logged), never as plain text, and no failed
    // query's parameters (user ids here; emails and password hashes elsewhere) reached the log.
    const complaints = app.complaints();
    expect(complaints.length).toBeGreaterThan(0);
    expect(complaints.filter((l) => !l.startsWith('{')).slice(0, 3)).toEqual([]);
    expect(complaints.filter((l) => l.includes(admin.id)).slice(0, 3)).toEqual([]);
  });
});
