import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Client } from 'pg';
import { testDatabaseUrl } from './setup/test-database';

/**
 * The migration task and the scheduled warnings purge (issue #20) read the database settings
 * only. Run as the image runs them, NODE_ENV=production, with nothing but DATABASE_URL: no
 * signing keys, no admin, nothing else. (The smoke test and the image check run the compiled
 * commands the same way.)
 */
const ROOT = join(__dirname, '..');

interface Run {
  code: number | null;
  output: string;
}

/** The entry point from the TypeScript sources, with exactly this environment. */
function runEntryPoint(script: string, env: Record<string, string>): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', join(ROOT, script)],
      {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, output });
    });
  });
}

async function admin<T>(fn: (c: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: testDatabaseUrl() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

describe('database tasks with nothing but DATABASE_URL and NODE_ENV=production', () => {
  jest.setTimeout(180_000);
  const name = `portal_tasks_${randomBytes(4).toString('hex')}`;
  let url: string;

  beforeAll(async () => {
    await admin((c) => c.query(`CREATE DATABASE ${name}`));
    const u = new URL(testDatabaseUrl());
    u.pathname = `/${name}`;
    url = u.toString();
  });

  afterAll(async () => {
    await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  });

  it('migrate.ts applies every migration, then finds nothing pending', async () => {
    const first = await runEntryPoint('src/database/migrate.ts', {
      NODE_ENV: 'production',
      DATABASE_URL: url,
    });
    expect(first.output).toMatch(/applied migration Init\d+/);
    expect(first.code).toBe(0);

    // Signing-key settings the app would refuse, and a secret id it would have to read from
    // AWS (which fails here: no region, no credentials): the migrator touches none of them.
    const second = await runEntryPoint('src/database/migrate.ts', {
      NODE_ENV: 'production',
      DATABASE_URL: url,
      JWT_SECRET: 'short',
      JWT_SECRET_ID: 'portal-api/prod/jwt-secret',
    });
    expect(second.output).toContain('no pending migrations');
    expect(second.output).not.toMatch(/JWT|secretsmanager|Region/i);
    expect(second.code).toBe(0);
  });

  it('purge-warnings.cli.ts purges with the same environment', async () => {
    const run = await runEntryPoint('src/warnings/purge-warnings.cli.ts', {
      NODE_ENV: 'production',
      DATABASE_URL: url,
      JWT_SECRET_ID: 'portal-api/prod/jwt-secret',
    });
    expect(run.output).toMatch(/"msg":"purged expired warnings"/);
    expect(run.code).toBe(0);
  });

  it('stops with the configuration exit code when the database setting is missing', async () => {
    const run = await runEntryPoint('src/database/migrate.ts', { NODE_ENV: 'production' });
    expect(run.output).toContain('DATABASE_URL is required in production');
    expect(run.code).toBe(78);
  });
});
