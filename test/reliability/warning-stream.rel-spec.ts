import { AppProcess, runMigrations, waitFor, within } from './support/app-process';
import { authHeader, DbUser, insertUser } from './support/fixtures';
import { httpRequest, json } from './support/http';
import { createSharedDatabase, PgServer } from './support/postgres';
import { SseClient } from '../utils/sse';

/**
 * GET /warnings/stream across real processes (issue #17): a warning created through one
 * replica reaches the clients of every replica (LISTEN/NOTIFY on each process's own
 * connection, the rows read from warning_events), and a database restart under open streams
 * loses nothing: the listener reconnects and catches up from the table, and a client that was
 * away resumes with Last-Event-ID.
 */

async function createWarning(app: AppProcess, admin: DbUser, title: string): Promise<string> {
  const res = await httpRequest(app.port, {
    method: 'POST',
    path: '/warnings',
    headers: { ...authHeader(admin), 'content-type': 'application/json' },
    body: JSON.stringify({
      title,
      description: 'reliability',
      target_role: 'USER',
      expires_at: new Date(Date.now() + 3_600_000).toISOString(),
    }),
  });
  expect({ title, status: res.status }).toEqual({ title, status: 201 });
  return (json(res) as { id: string }).id;
}

async function connect(app: AppProcess, user: DbUser, lastEventId?: string): Promise<SseClient> {
  // A replica answers 503 stream_unavailable until its listener has read the table once.
  let client: SseClient | undefined;
  await waitFor(
    'the stream to open',
    async () => {
      client?.close();
      client = await SseClient.open(app.port, '/warnings/stream', {
        ...authHeader(user),
        ...(lastEventId ? { 'last-event-id': lastEventId } : {}),
      });
      return client.status === 200;
    },
    15_000,
    200,
  );
  await client!.next('ready', 10_000);
  return client!;
}

const titles = (c: SseClient) => c.dataOf<{ title: string }>('warning').map((w) => w.title);

describe('warning stream across replicas', () => {
  let url: string;
  const apps: AppProcess[] = [];
  const clients: SseClient[] = [];

  beforeAll(async () => {
    url = await createSharedDatabase('stream_replicas');
    await runMigrations(url);
  });

  afterAll(async () => {
    for (const c of clients) c.close();
    await Promise.all(apps.map((a) => a.kill()));
  });

  it('one create, through either process, reaches a client on each', async () => {
    const admin = await insertUser(url, 'ADM');
    const user = await insertUser(url, 'USER', 'DEV');
    apps.push(
      ...(await Promise.all([
        AppProcess.start({ DATABASE_URL: url }),
        AppProcess.start({ DATABASE_URL: url }),
      ])),
    );
    const [a, b] = apps;
    const onA = await connect(a, user);
    const onB = await connect(b, user);
    clients.push(onA, onB);

    await createWarning(a, admin, 'through A');
    await createWarning(b, admin, 'through B');
    for (const c of [onA, onB]) {
      await c.next('warning', 5000, 1);
      expect(titles(c)).toEqual(['through A', 'through B']);
    }
    // The same position on both replicas: the id comes from the table, not the process.
    expect(onA.events.filter((e) => e.event === 'warning').map((e) => e.id)).toEqual(
      onB.events.filter((e) => e.event === 'warning').map((e) => e.id),
    );
  });
});

describe('warning stream and SIGTERM', () => {
  it('open streams end at once with `closed` shutting_down; the process exits 0 without waiting on them', async () => {
    const url = await createSharedDatabase('stream_sigterm');
    await runMigrations(url);
    const user = await insertUser(url, 'USER', 'DEV');
    const app = await AppProcess.start({ DATABASE_URL: url });
    const clients = await Promise.all([1, 2, 3].map(() => connect(app, user)));
    try {
      const started = Date.now();
      app.signal('SIGTERM');
      expect(await within(app.exited, 10_000)).toEqual({ code: 0, signal: null });
      // main.ts gives up after 25 s: it never came near that.
      expect(Date.now() - started).toBeLessThan(5000);
      for (const c of clients) {
        await c.waitEnded();
        expect(c.dataOf('closed')).toEqual([{ reason: 'shutting_down' }]);
      }
    } finally {
      for (const c of clients) c.close();
      await app.kill();
    }
  });
});

describe('warning stream through a database restart', () => {
  let pg: PgServer;
  let app: AppProcess;
  let url: string;
  const clients: SseClient[] = [];

  beforeAll(async () => {
    pg = await PgServer.start();
    url = await pg.createDatabase('stream_restart');
    await runMigrations(url);
    app = await AppProcess.start({
      DATABASE_URL: url,
      DATABASE_CONNECT_TIMEOUT_MS: '1000',
      STREAM_AUTH_CHECK_INTERVAL_MS: '500',
    });
  });

  afterAll(async () => {
    for (const c of clients) c.close();
    await app?.kill();
    await pg?.dispose();
  });

  it('open streams survive it, the listener catches up, and Last-Event-ID resumes: nothing is missed', async () => {
    const admin = await insertUser(url, 'ADM');
    const user = await insertUser(url, 'USER', 'DEV');
    const stays = await connect(app, user);
    const leaves = await connect(app, user);
    clients.push(stays, leaves);
    await createWarning(app, admin, 'before');
    await leaves.next('warning');
    const lastSeen = leaves.events.filter((e) => e.event === 'warning').pop()!.id!;
    leaves.close();
    await createWarning(app, admin, 'while away');

    await pg.stop();
    // The outage is longer than several caller checks: the streams must not be closed for it.
    await waitFor(
      '/ping to say 503',
      async () => (await httpRequest(app.port, { path: '/ping' })).status === 503,
      10_000,
    );
    await new Promise((r) => setTimeout(r, 2000));
    await pg.start();
    await waitFor(
      '/ping to say 200 again',
      async () => (await httpRequest(app.port, { path: '/ping' })).status === 200,
      20_000,
    );

    // Created at once, maybe before the listener is back: its catch-up delivers them.
    for (let i = 1; i <= 3; i++) await createWarning(app, admin, `after ${i}`);
    await stays.next('warning', 15_000, 4);
    expect(stays.ended).toBe(false);
    expect(titles(stays)).toEqual(['before', 'while away', 'after 1', 'after 2', 'after 3']);
    expect(stays.dataOf('closed')).toEqual([]);

    const back = await connect(app, user, lastSeen);
    clients.push(back);
    expect(titles(back)).toEqual(['while away', 'after 1', 'after 2', 'after 3']);
    expect(JSON.parse((await back.next('ready')).data)).toEqual({ replayed: 4 });

    // And both are live afterwards.
    await createWarning(app, admin, 'live');
    await back.next('warning', 5000, 4);
    await stays.next('warning', 5000, 5);
    expect(titles(back).at(-1)).toBe('live');
    expect(titles(stays).at(-1)).toBe('live');
    expect(app.running).toBe(true);
    const reconnects = app.logs().filter((l) => l.includes('warning stream listener connected'));
    expect(reconnects.length).toBeGreaterThanOrEqual(2);
  });
});
