import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { AppProcess, ROOT, runMigrations, spawnNpmScript, within } from './support/app-process';
import { insertUser, REL_PASSWORD } from './support/fixtures';
import { httpRequest, HttpResult, json } from './support/http';
import { hasOperation, loadOpenApi } from './support/openapi';
import { createSharedDatabase, withClient } from './support/postgres';
import { contractViolations } from './support/problem';

const MIGRATIONS_DIR = join(ROOT, 'dist', 'migrations');
const migrationFiles = readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.js'));
const migrationSources = migrationFiles.map((f) => readFileSync(join(MIGRATIONS_DIR, f), 'utf8'));
const packageJson = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
};

// Scenarios that light up when the features they need are merged (detected, not assumed).
const doc = loadOpenApi();
const HAS_LOGIN = hasOperation(doc, 'post', '/auth/token');
const HAS_WARNINGS_TABLE = migrationSources.some((s) =>
  /CREATE TABLE "(public"\.")?warnings"/.test(s),
);
const HAS_PURGE_SCRIPT = Boolean(packageJson.scripts['warnings:purge']);
const itIf = (condition: boolean, reason: string) => {
  if (condition) return it;
  return (name: string, fn: () => Promise<void>) => it.skip(`${name} [skipped: ${reason}]`, fn);
};

const CONCURRENT_STARTS = 2;

describe('two app processes on one database', () => {
  let url: string;
  const apps: AppProcess[] = [];

  beforeAll(async () => {
    url = await createSharedDatabase('two_instances');
  });

  afterAll(async () => {
    await Promise.all(apps.map((a) => a.kill()));
  });

  it('both migrate at start on an empty database: each migration is applied exactly once', async () => {
    // Both start at the same moment with RUN_MIGRATIONS_ON_START=true.
    const started = await Promise.all(
      Array.from({ length: CONCURRENT_STARTS }, () =>
        AppProcess.start({ DATABASE_URL: url, RUN_MIGRATIONS_ON_START: 'true' }),
      ),
    );
    apps.push(...started);

    const rows = await withClient(url, (c) =>
      c.query<{ name: string; n: number }>(
        'SELECT name, count(*)::int AS n FROM migrations GROUP BY name ORDER BY name',
      ),
    );
    expect(rows.rows.map((r) => r.n)).toEqual(rows.rows.map(() => 1));
    expect(rows.rows).toHaveLength(migrationFiles.length);
    // The lock did its job: exactly one process applied them, the other found nothing to do.
    const applied = started.map(
      (a) => a.logs().filter((l) => l.includes('applied migration')).length,
    );
    expect(applied.sort()).toEqual([0, migrationFiles.length]);

    for (const app of started) {
      const ping = await httpRequest(app.port, { path: '/ping' });
      expect(ping.status).toBe(200);
      expect(json(ping)).toEqual({ status: 'ok' });
    }
  });

  itIf(HAS_LOGIN, 'POST /auth/token is not in /docs-json yet')(
    'counts failed logins across both processes: 5 in a row lock the account (429 + Retry-After)',
    async () => {
      const [a, b] = apps;
      expect(a && b).toBeTruthy();
      const user = await insertUser(url, 'USER');
      const login = (app: AppProcess, password: string) =>
        httpRequest(app.port, {
          method: 'POST',
          path: '/auth/token',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email: user.email, password }),
        });

      // Alternate between the two processes: neither sees more than 3 of the 5 failures.
      const failures: HttpResult[] = [];
      for (let i = 0; i < 5; i++) failures.push(await login(i % 2 === 0 ? a : b, `wrong-${i}`));
      expect(failures.slice(0, 4).map((r) => r.status)).toEqual([401, 401, 401, 401]);
      expect([401, 429]).toContain(failures[4].status);
      for (const r of failures) expect(contractViolations(r)).toEqual([]);

      // Even the right password is refused now, by both processes.
      for (const app of [b, a]) {
        const locked = await login(app, REL_PASSWORD);
        expect(locked.status).toBe(429);
        expect(contractViolations(locked)).toEqual([]);
        expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
      }
    },
  );

  itIf(
    HAS_WARNINGS_TABLE && HAS_PURGE_SCRIPT,
    'no warnings table or no `npm run warnings:purge` yet',
  )('the warnings purge runs once when two start at the same moment (advisory lock)', async () => {
    await runMigrations(url);
    const admin = await insertUser(url, 'ADM');
    await withClient(url, async (c) => {
      await c.query('DELETE FROM warnings');
      // 50 expired and 5 current warnings, straight into the table.
      await c.query(
        `INSERT INTO warnings (title, description, target_role, expires_at, created_by)
           SELECT 'expired ' || g, 'd', 'USER', now() - interval '1 day', $1
             FROM generate_series(1, 50) g`,
        [admin.id],
      );
      await c.query(
        `INSERT INTO warnings (title, description, target_role, expires_at, created_by)
           SELECT 'current ' || g, 'd', 'USER', now() + interval '1 day', $1
             FROM generate_series(1, 5) g`,
        [admin.id],
      );
    });

    // Hold the table so the purge that wins the lock waits inside it; the other must not wait
    // behind it but find the lock taken and finish at once.
    const locker = new Client({ connectionString: url });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE warnings IN ACCESS EXCLUSIVE MODE');
      const runs = [0, 1].map(() => spawnNpmScript('warnings:purge', { DATABASE_URL: url }));
      const first = await within(
        Promise.race(runs.map((r, i) => r.exited.then((exit) => ({ i, exit })))),
        8000,
      );
      expect(first).toBeDefined();
      expect(first!.exit).toEqual({ code: 0, signal: null });
      // The other one is still inside the purge, behind our lock.
      const other = runs[1 - first!.i];
      expect(other.proc.exitCode).toBeNull();
      await locker.query('COMMIT');
      expect(await other.exited).toEqual({ code: 0, signal: null });
    } finally {
      await locker.end();
    }

    const left = await withClient(url, (c) =>
      c.query<{ expired: number; current: number }>(
        `SELECT count(*) FILTER (WHERE expires_at <= now())::int AS expired,
                  count(*) FILTER (WHERE expires_at > now())::int AS current FROM warnings`,
      ),
    );
    expect(left.rows[0]).toEqual({ expired: 0, current: 5 });
  });
});
