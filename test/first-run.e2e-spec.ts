import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../src/common/free-port';
import { findRunningEmbeddedPostgres } from '../src/database/running-embedded-postgres';
import { DEFAULT_SEED_PASSWORD } from '../src/seed/mock-users';

/**
 * A first run as a new user makes it: `npm start` without DATABASE_URL (the TypeScript entry
 * point through ts-node instead of a build), on an embedded PostgreSQL of its own, then
 * `npm run seed` while it runs, then again once it has stopped.
 */

const ROOT = join(__dirname, '..');
const TS_NODE = join(ROOT, 'node_modules', 'ts-node', 'dist', 'bin.js');

interface Run {
  proc: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

function run(script: string, env: Record<string, string>): Run {
  const proc = spawn(process.execPath, [TS_NODE, '-T', script], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      BCRYPT_COST: '4',
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  proc.stdout.on('data', (c: Buffer) => (text += c.toString('utf8')));
  proc.stderr.on('data', (c: Buffer) => (text += c.toString('utf8')));
  const exited = once(proc, 'exit').then(([code]) => code as number | null);
  return { proc, output: () => text, exited };
}

async function until(check: () => boolean, what: string, r: Run, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (r.proc.exitCode !== null)
      throw new Error(`exited while waiting for ${what}:\n${r.output()}`);
    if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms:\n${r.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('first run (npm start on the embedded database)', () => {
  let dir: string;
  let app: Run | undefined;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'first-run-pg-'));
  });
  afterAll(async () => {
    if (app && app.proc.exitCode === null) {
      app.proc.kill('SIGKILL');
      await app.exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('loads the mock data, prints one block to sign in with, and npm run seed finds the running database', async () => {
    const port = await freePort();
    const pgPort = await freePort();
    app = run('src/main.ts', {
      NODE_ENV: 'development',
      PORT: String(port),
      HOST: '127.0.0.1',
      EMBEDDED_PG_DIR: dir,
      EMBEDDED_PG_PORT: String(pgPort),
    });
    const started = app;
    await until(
      () => /npm run seed` loads them again/.test(started.output()),
      'block',
      app,
      150_000,
    );

    const output = app.output();
    expect(output.match(/portal-api is ready/g)).toHaveLength(1);
    expect(output).toContain(`API       http://127.0.0.1:${port}`);
    expect(output).toContain(`Docs      http://127.0.0.1:${port}/docs`);
    expect(output).toContain(`password "${DEFAULT_SEED_PASSWORD}"`);
    for (const email of [
      'admin@example.com',
      'president.dev@example.com',
      'president.nawat@example.com',
      'user.dev@example.com',
      'user.nawat@example.com',
    ]) {
      expect(output).toContain(email);
    }
    expect(output).not.toContain('disconnected@example.com'); // cannot sign in

    const signIn = await fetch(`http://127.0.0.1:${port}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'admin@example.com', password: DEFAULT_SEED_PASSWORD }),
    });
    expect(signIn.status).toBe(200);
    const { access_token: token } = (await signIn.json()) as { access_token: string };
    const warnings = await fetch(`http://127.0.0.1:${port}/warnings`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(((await warnings.json()) as { items: unknown[] }).items.length).toBeGreaterThan(0);

    // While it runs: the seed finds the server through the data folder, whatever port its own
    // configuration names.
    const running = findRunningEmbeddedPostgres(dir);
    expect(running).toMatchObject({ port: pgPort });
    const during = run('scripts/seed.ts', {
      EMBEDDED_PG_DIR: dir,
      EMBEDDED_PG_PORT: String(await freePort()),
    });
    expect(await during.exited).toBe(0);
    expect(during.output()).toContain(
      `Using the embedded PostgreSQL already running in ${dir} (pid ${running!.pid}, port ${pgPort})`,
    );
    expect(during.output()).toMatch(/0 created, 6 already there; 0 warning\(s\) created/);
    expect((await fetch(`http://127.0.0.1:${port}/ping`)).status).toBe(200);

    app.proc.kill('SIGTERM');
    expect(await app.exited).toBe(0);
    expect(findRunningEmbeddedPostgres(dir)).toBeNull();

    // Stopped: the seed starts the embedded server itself, and stops it again.
    const after = run('scripts/seed.ts', {
      EMBEDDED_PG_DIR: dir,
      EMBEDDED_PG_PORT: String(await freePort()),
    });
    expect(await after.exited).toBe(0);
    expect(after.output()).not.toContain('already running');
    expect(after.output()).toMatch(/0 created, 6 already there/);
    expect(findRunningEmbeddedPostgres(dir)).toBeNull();
  }, 300_000);
});
