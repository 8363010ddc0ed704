import { Agent } from 'node:http';
import { Client } from 'pg';
import { AppProcess, runMigrations, sleep, waitFor, within } from './support/app-process';
import { authHeader, DbUser, insertUser } from './support/fixtures';
import { httpRequest, HttpResult, json, runLoad, tally } from './support/http';
import { createSharedDatabase, waitForLockWaiters } from './support/postgres';
import { contractViolations } from './support/problem';

const IN_FLIGHT = 6;

describe('SIGTERM under load', () => {
  let url: string;
  let admin: DbUser;
  let app: AppProcess | undefined;
  let locker: Client | undefined;
  let keepAlive: Agent;

  beforeAll(async () => {
    url = await createSharedDatabase('shutdown');
    await runMigrations(url);
    admin = await insertUser(url, 'ADM');
  });

  beforeEach(() => {
    keepAlive = new Agent({ keepAlive: true });
  });

  afterEach(async () => {
    keepAlive.destroy();
    await locker?.end().catch(() => undefined);
    locker = undefined;
    await app?.kill();
    app = undefined;
  });

  it('finishes in-flight requests, refuses new connections and exits 0 within 10 s', async () => {
    app = await AppProcess.start({ DATABASE_URL: url, LOG_LEVEL: 'info' });
    const port = app.port;
    const auth = authHeader(admin);
    expect((await httpRequest(port, { path: '/users/me', headers: auth })).status).toBe(200);

    // Slow requests: lock the users table so every authenticated request waits in the database.
    locker = new Client({ connectionString: url });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE users IN ACCESS EXCLUSIVE MODE');
    // Over keep-alive connections, as a load balancer sends them: the process must not wait for
    // the client to close them (keepAliveTimeout is 65 s).
    const inFlight = Array.from({ length: IN_FLIGHT }, () =>
      httpRequest(port, { path: '/users/me', headers: auth, timeoutMs: 20_000, agent: keepAlive }),
    );
    await waitForLockWaiters(url, IN_FLIGHT);

    // Background load over keep-alive connections, running through the shutdown.
    let loadStop = false;
    const load = runLoad({
      port,
      concurrency: 4,
      durationMs: 8000,
      maxRequests: 20_000,
      next: () => ({ path: '/ping', timeoutMs: 5000 }),
      stop: () => loadStop || !app?.running,
    });
    await sleep(300);

    const sigtermAt = Date.now();
    app.signal('SIGTERM');

    // New connections are refused soon after the signal, while the in-flight ones still wait.
    const probes: HttpResult[] = [];
    await waitFor(
      'new connections to be refused',
      async () => {
        const probe = await httpRequest(port, { path: '/ping', timeoutMs: 2000 });
        probes.push(probe);
        return probe.error === 'ECONNREFUSED';
      },
      3000,
      50,
    );
    const refusedAfterMs = Date.now() - sigtermAt;
    expect(app.running).toBe(true);

    // Let the in-flight requests finish: every one of them completes with 200.
    await sleep(500);
    await locker.query('COMMIT');
    const finished = await Promise.all(inFlight);
    expect(finished.map((r) => r.status)).toEqual(Array(IN_FLIGHT).fill(200));
    for (const r of finished) expect((json(r) as { id: string }).id).toBe(admin.id);
    expect(finished.map((r) => r.headers.connection)).toEqual(Array(IN_FLIGHT).fill('close'));

    const exit = await within(app.exited, 10_000);
    const exitedAfterMs = Date.now() - sigtermAt;
    loadStop = true;
    const background = await load;
    if (process.env.RELIABILITY_VERBOSE) {
      console.log({
        refusedAfterMs,
        exitedAfterMs,
        probes: tally(probes),
        load: tally(background),
      });
    }
    expect(exit).toEqual({ code: 0, signal: null });
    expect(exitedAfterMs).toBeLessThan(10_000);
    expect(refusedAfterMs).toBeLessThan(3000);

    // The background load saw 200s, then 503 problem+json or refused/closed connections: never a
    // 500, never a hang.
    const answered = background.filter((r) => r.status > 0);
    expect(answered.length).toBeGreaterThan(0);
    expect(answered.filter((r) => r.status !== 200 && r.status !== 503)).toEqual([]);
    expect(background.filter((r) => r.error === 'TIMEOUT')).toEqual([]);
    const answeredProbes = probes.filter((r) => r.status > 0);
    expect(
      [...answered, ...answeredProbes]
        .filter((r) => r.status === 503)
        .flatMap((r) => contractViolations(r, [503])),
    ).toEqual([]);
  });
});
