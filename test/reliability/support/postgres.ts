import { ChildProcess, fork } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import { freePort } from '../../../src/common/free-port';

/** The compiled src/database/embedded-postgres.ts (the suite runs on a build). */
const EMBEDDED_JS = resolve(
  __dirname,
  '..',
  '..',
  '..',
  'dist',
  'src',
  'database',
  'embedded-postgres.js',
);
const CONTROLLER_JS = resolve(__dirname, 'pg-controller.cjs');

/**
 * A PostgreSQL server of the suite's own (embedded-postgres, in a temp folder), which a test
 * may stop and start again: the machine's shared PostgreSQL is never touched.
 */
export class PgServer {
  private controller: ChildProcess | undefined;

  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  static async start(): Promise<PgServer> {
    const dir = mkdtempSync(join(tmpdir(), 'portal-api-rel-pg-'));
    const server = new PgServer(dir, await freePort());
    await server.start();
    return server;
  }

  get running(): boolean {
    return this.controller !== undefined;
  }

  /**
   * Starts the server (again) on the same data folder and port, with a fresh
   * startEmbeddedPostgres() handle each time. The handle lives in a small controller process
   * (embedded-postgres is an ES module that loads its binaries with import(), which Jest's
   * module sandbox cannot do); the controller stops the server if the test process dies.
   */
  async start(): Promise<void> {
    if (this.controller) return;
    if (!existsSync(EMBEDDED_JS)) throw new Error(`${EMBEDDED_JS} is missing: npm run build`);
    const controller = fork(CONTROLLER_JS, [], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        EMBEDDED_JS,
        PG_DIR: this.dir,
        PG_PORT: String(this.port),
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    await new Promise<void>((resolve, reject) => {
      controller.once('message', (m: { ready?: boolean; error?: string }) =>
        m.ready ? resolve() : reject(new Error(`embedded PostgreSQL: ${m.error}`)),
      );
      controller.once('exit', (code) => reject(new Error(`pg controller exited ${code}`)));
    });
    this.controller = controller;
  }

  /** Fast shutdown (SIGINT): open sessions are terminated, as in a database restart or failover. */
  async stop(): Promise<void> {
    const controller = this.controller;
    this.controller = undefined;
    if (!controller || controller.exitCode !== null) return;
    const exited = new Promise((r) => controller.once('exit', r));
    controller.send('stop');
    await exited;
  }

  /** Stops the server and deletes its files. */
  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  url(database: string): string {
    return `postgres://postgres:postgres@127.0.0.1:${this.port}/${database}`;
  }

  /** Creates an empty database and returns its URL. */
  async createDatabase(name: string): Promise<string> {
    await withClient(this.url('postgres'), (c) => c.query(`CREATE DATABASE "${name}"`));
    return this.url(name);
  }
}

export async function withClient<T>(url: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Where the global setup's shared server can be reached (a URL without the database). */
export const SHARED_PG_ENV = 'RELIABILITY_PG_URL';

/** A fresh empty database on the suite's shared server (for scenarios that never stop it). */
export async function createSharedDatabase(name: string): Promise<string> {
  const base = process.env[SHARED_PG_ENV];
  if (!base) throw new Error(`${SHARED_PG_ENV} is not set: run through jest.reliability.config.js`);
  const database = `${name}_${Date.now().toString(36)}`;
  await withClient(`${base}/postgres`, (c) => c.query(`CREATE DATABASE "${database}"`));
  return `${base}/${database}`;
}

/**
 * Waits until `count` of the app's sessions wait on a lock (asked from a session of its own:
 * pg_stat_activity is a snapshot inside a transaction).
 */
export async function waitForLockWaiters(
  url: string,
  count: number,
  timeoutMs = 5000,
): Promise<void> {
  await withClient(url, async (c) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { rows } = await c.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE datname = current_database() AND application_name = 'portal-api'
            AND wait_event_type = 'Lock'`,
      );
      if (rows[0].n >= count) return;
      if (Date.now() > deadline) {
        throw new Error(`only ${rows[0].n} of ${count} app sessions wait on the lock`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  });
}
