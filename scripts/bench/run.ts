import * as bcrypt from 'bcrypt';
import * as jwt from 'jsonwebtoken';
import { execFileSync } from 'node:child_process';
import { createPrivateKey, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Client } from 'pg';
import { generateSigningKeysJson, SigningJwk } from '../../src/auth/signing-keys';
import { freePort } from '../../src/common/free-port';
import { EmbeddedDatabase, startEmbeddedPostgres } from '../../src/database/embedded-postgres';
import { failures, LoadRequest, LoadResult, runLoad } from './load';
import {
  cpuMs,
  NodeProcess,
  rssBytes,
  RssSampler,
  sleep,
  spawnNode,
  tail,
  waitForOk,
} from './processes';
import {
  BenchReport,
  checks,
  ExportResult,
  ImportResult,
  Machine,
  median,
  renderMarkdown,
  Scenario,
} from './report';
import {
  analyze,
  BENCH_PASSWORD,
  countRows,
  ORGANIZATIONS,
  seedBookings,
  seedUsers,
  seedWarnings,
} from './seed';

/**
 * `npm run bench`: seeds a real PostgreSQL, starts the built app as a real process and loads
 * it with autocannon next to a bare Fastify + pg baseline, then measures cold start, memory,
 * and (when those routes exist) the users import and export. Writes docs/benchmarks.md.
 *
 * Loopback only, and bounded: every load run by duration and request count, every wait by a
 * deadline, the whole run by BENCH_TIMEOUT_S.
 *
 * Environment:
 *   BENCH_DATABASE_URL   an empty database to use (its public schema is dropped and rebuilt);
 *                        unset: a throw-away embedded PostgreSQL on a free port
 *   BENCH_DURATION_S     measured seconds per scenario (10)
 *   BENCH_WARMUP_S       warm-up seconds per scenario, not counted (2)
 *   BENCH_CONNECTIONS    connection counts for the authenticated reads (10,50)
 *   BENCH_OUTPUT         where the report goes (docs/benchmarks.md)
 *   BENCH_TIMEOUT_S      the whole run's limit (900)
 *   BENCH_NODE_OPTIONS   NODE_OPTIONS for the app processes, e.g. --max-old-space-size=128
 */

const ROOT = resolve(__dirname, '..', '..', '..');
const APP_MAIN = join(ROOT, 'dist', 'src', 'main.js');
const MIGRATE = join(ROOT, 'dist', 'src', 'database', 'migrate.js');
const BASELINE = join(__dirname, 'baseline-server.js');

const USERS = 10_000;
const WARNINGS = 100_000;
const BOOKINGS = 100_000;
const IMPORT_ROWS = 100_000;
const EXPORT_USERS = 1_000_000;
const BCRYPT_COST = 12;
const POOL_SIZE = 10;
const COLD_STARTS = 5;

function intEnv(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new Error(`${name} must be a whole number from ${min} to ${max}`);
  }
  return n;
}

const DURATION_S = intEnv('BENCH_DURATION_S', 10, 1, 120);
const WARMUP_S = intEnv('BENCH_WARMUP_S', 2, 0, 60);
const TIMEOUT_S = intEnv('BENCH_TIMEOUT_S', 900, 60, 7200);
const READ_CONNECTIONS = (process.env.BENCH_CONNECTIONS || '10,50').split(',').map((c) => {
  const n = Number(c.trim());
  if (!Number.isInteger(n) || n < 1 || n > 500) {
    throw new Error('BENCH_CONNECTIONS must list whole numbers from 1 to 500');
  }
  return n;
});
const WRITE_CONNECTIONS = 10;
const APP_NODE_OPTIONS = process.env.BENCH_NODE_OPTIONS?.trim() || imageNodeOptions();

/** By default the app runs with the production image's NODE_OPTIONS (docker/Dockerfile). */
function imageNodeOptions(): string | undefined {
  try {
    const dockerfile = readFileSync(join(ROOT, 'docker', 'Dockerfile'), 'utf8');
    return /NODE_OPTIONS="([^"]+)"/.exec(dockerfile)?.[1];
  } catch {
    return undefined;
  }
}
const OUTPUT = resolve(ROOT, process.env.BENCH_OUTPUT || join('docs', 'benchmarks.md'));

function log(message: string): void {
  console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);
}

function sh(cmd: string, args: string[]): string | undefined {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', timeout: 5000 }).trim();
  } catch {
    return undefined;
  }
}

function machine(postgres: string, database: string, loadAtStart: number): Machine {
  const free = sh('free', ['-h']);
  const memLine = free?.split('\n').find((l) => l.startsWith('Mem:'));
  const memCols = memLine?.split(/\s+/);
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    cpus: Number(sh('nproc', [])) || os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    memory: memCols
      ? `${memCols[1]} total, ${memCols[6] ?? '?'} available`
      : `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB total`,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    postgres,
    database,
    load: `${loadAtStart.toFixed(1)} at the start, ${os.loadavg()[0].toFixed(1)} at the end`,
  };
}

// ---------------------------------------------------------------------------------------------

interface Database {
  url: string;
  description: string;
  stop(): Promise<void>;
}

async function openDatabase(): Promise<Database> {
  const given = process.env.BENCH_DATABASE_URL;
  if (given) {
    const db = new Client({ connectionString: given });
    await db.connect();
    try {
      await db.query('DROP SCHEMA IF EXISTS public CASCADE');
      await db.query('CREATE SCHEMA public');
    } finally {
      await db.end();
    }
    return {
      url: given,
      description: 'BENCH_DATABASE_URL (a PostgreSQL server on this machine)',
      stop: () => Promise.resolve(),
    };
  }
  const port = await freePort();
  // Its own folder (as the tests do): as root, embedded-postgres runs the server as the
  // postgres user, which must be able to reach it.
  const dir = mkdtempSync(join(os.tmpdir(), 'portal-api-bench-pg-'));
  const embedded: EmbeddedDatabase = await startEmbeddedPostgres({
    dir,
    port,
    database: 'bench',
    persistent: false,
  });
  return {
    url: embedded.url,
    description: `embedded PostgreSQL (embedded-postgres package, default settings) on port ${port}`,
    stop: async () => {
      await embedded.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function runMigrations(url: string, logFile: string): Promise<void> {
  const proc = spawnNode(
    MIGRATE,
    { ...process.env, NODE_ENV: 'development', DATABASE_URL: url, LOG_LEVEL: 'warn' },
    logFile,
  );
  const timer = setTimeout(() => void proc.stop(1000), 120_000);
  const code = await new Promise<number | null>((r) => proc.child.once('exit', r));
  clearTimeout(timer);
  if (code !== 0) throw new Error(`migrations failed (exit ${code}):\n${tail(logFile)}`);
}

// ---------------------------------------------------------------------------------------------

interface App {
  proc: NodeProcess;
  url: string;
  readyAt: number;
  /** CPU time the process had used when it first answered 200. */
  cpuAtReadyMs: number | null;
}

function appEnv(dbUrl: string, keys: string, port: number): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(port),
    DATABASE_URL: dbUrl,
    DATABASE_POOL_SIZE: String(POOL_SIZE),
    JWT_SIGNING_KEYS: keys,
    LOG_LEVEL: 'warn',
    BCRYPT_COST: String(BCRYPT_COST),
    RUN_MIGRATIONS_ON_START: 'false',
    WARNINGS_PURGE_ENABLED: 'false',
    ...(APP_NODE_OPTIONS ? { NODE_OPTIONS: APP_NODE_OPTIONS } : {}),
    // Tracing and metrics as given to the bench (OTEL_EXPORTER_OTLP_ENDPOINT,
    // OTEL_TRACES_SAMPLER_ARG=0.1, METRICS_PORT, ...): compare a run with them to one without.
    ...Object.fromEntries(Object.entries(process.env).filter(([k]) => /^(OTEL_|METRICS_)/.test(k))),
  };
}

async function startApp(dbUrl: string, keys: string, logFile: string): Promise<App> {
  const port = await freePort();
  const proc = spawnNode(APP_MAIN, appEnv(dbUrl, keys, port), logFile);
  const url = `http://127.0.0.1:${port}`;
  try {
    const readyAt = await waitForOk(`${url}/ping`, proc, 60_000, 10);
    return { proc, url, readyAt, cpuAtReadyMs: cpuMs(proc.pid) };
  } catch (err) {
    await proc.stop(2000);
    throw new Error(`${(err as Error).message}\n${tail(logFile)}`, { cause: err });
  }
}

async function startBaseline(dbUrl: string, keys: string, logFile: string): Promise<App> {
  const port = await freePort();
  const proc = spawnNode(
    BASELINE,
    {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATABASE_URL: dbUrl,
      DATABASE_POOL_SIZE: String(POOL_SIZE),
      JWT_SIGNING_KEYS: keys,
    },
    logFile,
  );
  const url = `http://127.0.0.1:${port}`;
  const readyAt = await waitForOk(`${url}/ping`, proc, 30_000, 20);
  return { proc, url, readyAt, cpuAtReadyMs: null };
}

async function stopProcess(proc: NodeProcess, name: string): Promise<void> {
  const code = await proc.stop(15_000);
  if (code !== 0) log(`${name} exited with ${code} (see ${proc.logFile})`);
}

// ---------------------------------------------------------------------------------------------

interface BenchUser {
  id: string;
  email: string;
  role: string;
  organization: string | null;
  token_version: number;
}

/** An access token as the app signs it (ES256, kid, typ at+jwt), for a session of the user. */
function sign(user: BenchUser, sessionId: string, keys: string): string {
  const set = JSON.parse(keys) as { current: string; keys: SigningJwk[] };
  const jwk = set.keys.find((k) => k.kid === set.current)!;
  return jwt.sign(
    { sid: sessionId, token_version: user.token_version },
    createPrivateKey({ key: { ...jwk }, format: 'jwk' }),
    {
      algorithm: 'ES256',
      keyid: jwk.kid,
      header: { alg: 'ES256', typ: 'at+jwt' },
      issuer: 'portal-api',
      audience: 'portal-api',
      subject: user.id,
      jwtid: randomUUID(),
      expiresIn: TIMEOUT_S + 600,
    },
  );
}

async function getJson(
  url: string,
  token: string,
): Promise<{ status: number; body: unknown; text: string }> {
  const res = await fetch(url, {
    headers: { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, body, text };
}

async function expectOk(url: string, token: string, what: string): Promise<unknown> {
  const r = await getJson(url, token);
  if (r.status !== 200) throw new Error(`${what} answered ${r.status}: ${r.text.slice(0, 500)}`);
  return r.body;
}

function getRequests(path: string, tokens: string[]): LoadRequest[] {
  return tokens.map((t) => ({ method: 'GET', path, headers: { authorization: `Bearer ${t}` } }));
}

function bookingRequests(tokens: string[]): LoadRequest[] {
  const start = Date.now() + 30 * 24 * 3600_000;
  return Array.from({ length: 200 }, (_, i) => ({
    method: 'POST' as const,
    path: '/booking-requests',
    headers: {
      authorization: `Bearer ${tokens[i % tokens.length]}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({
      event_time: new Date(start + i * 3600_000).toISOString(),
      duration_minutes: 30 + (i % 90),
      topic: `Bench booking ${i}`,
      address: { street: `${i} Rua Augusta`, city: 'São Paulo', state: 'SP', country: 'BR' },
    }),
  }));
}

function tokenRequests(emails: string[]): LoadRequest[] {
  return emails.map((email) => ({
    method: 'POST',
    path: '/auth/token',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: BENCH_PASSWORD }),
  }));
}

/**
 * Warm-up (discarded), a pause so the server drains what the warm-up left in flight, then the
 * measured run, sampling `rssPid`'s memory meanwhile. `warmupS` 0: no warm-up load.
 */
async function measure(
  url: string,
  requests: LoadRequest[],
  connections: number,
  rssPid?: number,
  warmupS = WARMUP_S,
): Promise<{ load: LoadResult; peakRssBytes?: number }> {
  if (warmupS > 0) {
    await runLoad({ url, requests, connections, durationS: warmupS });
    await sleep(500);
  }
  const sampler = rssPid === undefined ? undefined : new RssSampler(rssPid, 100).start();
  const load = await runLoad({ url, requests, connections, durationS: DURATION_S });
  const peak = sampler?.stop().peakBytes;
  return { load, peakRssBytes: peak };
}

function describe(s: Scenario): string {
  const r = s.load;
  return (
    `${s.endpoint} ${s.server} c=${r.connections}: ${Math.round(r.reqPerSec)} req/s, ` +
    `p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, errors ${r.errors}, non-2xx ${r.non2xx}`
  );
}

// ---------------------------------------------------------------------------------------------

function importCsv(rows: number): string {
  const courses = ['CIC', 'ECM', 'SIN', 'EMC', 'ECA'];
  const lines = ['name,email,role,organization,course,year,ra,state'];
  for (let i = 1; i <= rows; i++) {
    const n = String(i).padStart(7, '0');
    const ra = `${String(i % 100).padStart(2, '0')}.${String(i % 100_000).padStart(5, '0')}-${i % 10}`;
    lines.push(
      `Imported User ${i},import-${n}@bench.local,USER,${ORGANIZATIONS[i % 5]},` +
        `${courses[i % 5]},${i % 6},${ra},APPROVED`,
    );
  }
  return lines.join('\n') + '\n';
}

async function runImport(
  dbUrl: string,
  keys: string,
  admToken: string,
  logDir: string,
): Promise<ImportResult> {
  const csv = importCsv(IMPORT_ROWS);
  const app = await startApp(dbUrl, keys, join(logDir, 'app-import.log'));
  const sampler = new RssSampler(app.proc.pid, 100).start();
  try {
    const form = new FormData();
    form.append('file', new Blob([csv], { type: 'text/csv' }), 'users.csv');
    const t0 = performance.now();
    const res = await fetch(`${app.url}/users/import`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admToken}` },
      body: form,
      signal: AbortSignal.timeout(180_000),
    });
    const text = await res.text();
    const seconds = (performance.now() - t0) / 1000;
    const peakRssBytes = sampler.stop().peakBytes;
    if (res.status !== 200) {
      return {
        available: true,
        rows: IMPORT_ROWS,
        seconds,
        status: res.status,
        peakRssBytes,
        error: `HTTP ${res.status}: ${text.slice(0, 300)}`,
      };
    }
    const body = JSON.parse(text) as {
      created?: number;
      skipped?: Array<{ row?: number; email?: string; reason?: string }>;
    };
    const first = body.skipped?.[0];
    return {
      available: true,
      rows: IMPORT_ROWS,
      seconds,
      status: res.status,
      created: body.created,
      skipped: body.skipped?.length ?? 0,
      firstSkipped: first ? `row ${first.row}: ${first.reason}` : undefined,
      peakRssBytes,
    };
  } catch (err) {
    return {
      available: true,
      rows: IMPORT_ROWS,
      peakRssBytes: sampler.stop().peakBytes,
      error: (err as Error).message,
    };
  } finally {
    await stopProcess(app.proc, 'app (import)');
  }
}

async function runExport(
  db: Client,
  dbUrl: string,
  keys: string,
  admToken: string,
  logDir: string,
): Promise<ExportResult> {
  const t0 = performance.now();
  const { rows } = await db.query<{ n: string }>('SELECT count(*) AS n FROM users');
  const have = Number(rows[0].n);
  if (have < EXPORT_USERS) {
    // bench-NNNNNNN numbers continue after the seeded users; the import used other addresses.
    const { rows: maxRows } = await db.query<{ n: string | null }>(
      `SELECT max(substring(email from 'bench-(\\d+)@')::int) AS n FROM users
       WHERE email LIKE 'bench-%@bench.local'`,
    );
    const from = Number(maxRows[0].n ?? 0) + 1;
    await seedUsers(db, from, from + (EXPORT_USERS - have) - 1, null);
  }
  await analyze(db, ['users']);
  const seedSeconds = (performance.now() - t0) / 1000;
  const users = (await countRows(db)).users;

  const app = await startApp(dbUrl, keys, join(logDir, 'app-export.log'));
  await sleep(1000);
  const startRssBytes = rssBytes(app.proc.pid) ?? 0;
  const sampler = new RssSampler(app.proc.pid, 100).start();
  try {
    const t1 = performance.now();
    const res = await fetch(`${app.url}/users/export?format=csv`, {
      headers: { authorization: `Bearer ${admToken}` },
      signal: AbortSignal.timeout(300_000),
    });
    let bytes = 0;
    let newlines = 0;
    if (res.body) {
      const reader = res.body.getReader();
      for (;;) {
        const { done, value } = (await reader.read()) as { done: boolean; value?: Uint8Array };
        if (done || !value) break;
        bytes += value.byteLength;
        const buf = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
        for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) newlines++;
      }
    }
    const seconds = (performance.now() - t1) / 1000;
    const peakRssBytes = sampler.stop().peakBytes;
    return {
      available: true,
      users,
      seedSeconds,
      seconds,
      status: res.status,
      bytes,
      rows: Math.max(0, newlines - 1), // minus the header line
      startRssBytes,
      peakRssBytes,
      error: res.status === 200 ? undefined : `HTTP ${res.status}`,
    };
  } catch (err) {
    return {
      available: true,
      users,
      seedSeconds,
      startRssBytes,
      peakRssBytes: sampler.stop().peakBytes,
      error: (err as Error).message,
    };
  } finally {
    await stopProcess(app.proc, 'app (export)');
  }
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const started = performance.now();
  const loadAtStart = os.loadavg()[0];
  const tmp = mkdtempSync(join(os.tmpdir(), 'portal-api-bench-'));
  const logDir = join(tmp, 'logs');
  mkdirSync(logDir);
  log(`logs in ${logDir} (kept if the run fails)`);
  let succeeded = false;

  let database: Database | undefined;
  const cleanup = async () => {
    await database?.stop().catch(() => undefined);
    database = undefined;
  };
  const watchdog = setTimeout(() => {
    console.error(`[bench] gave up after ${TIMEOUT_S} s (BENCH_TIMEOUT_S)`);
    void cleanup().finally(() => process.exit(2));
  }, TIMEOUT_S * 1000);
  watchdog.unref();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void cleanup().finally(() => process.exit(130)));
  }

  try {
    database = await openDatabase();
    const dbUrl = database.url;
    log(`database: ${database.description}`);
    await runMigrations(dbUrl, join(logDir, 'migrate.log'));

    const db = new Client({ connectionString: dbUrl });
    await db.connect();
    try {
      const { rows: v } = await db.query<{ v: string }>('SELECT version() AS v');
      const pgVersion = v[0].v.replace(/ on .*/, '').replace(/,.*/, '');

      // --- seed -------------------------------------------------------------------------
      log(`seeding ${USERS} users, ${WARNINGS} warnings, ${BOOKINGS} booking requests`);
      const passwordHash = await bcrypt.hash(BENCH_PASSWORD, BCRYPT_COST);
      const t0 = performance.now();
      await seedUsers(db, 1, USERS, passwordHash);
      await seedWarnings(db, WARNINGS);
      await seedBookings(db, BOOKINGS);
      await analyze(db, ['users', 'warnings', 'booking_requests']);
      const seedSeconds = (performance.now() - t0) / 1000;
      const counts = await countRows(db);
      log(`seeded in ${seedSeconds.toFixed(1)} s: ${JSON.stringify(counts)}`);

      const keys = generateSigningKeysJson();
      // Each token user signed in once: a live session its tokens carry (as the app checks).
      const signedIn = async (u: BenchUser) => {
        const { rows } = await db.query<{ id: string }>(
          `INSERT INTO sessions (user_id, created_at, last_used_at, expires_at)
           VALUES ($1, now(), now(), now() + interval '30 days') RETURNING id`,
          [u.id],
        );
        return sign(u, rows[0].id, keys);
      };
      const pick = async (role: string, limit: number) =>
        (
          await db.query<BenchUser>(
            `SELECT id, email, role, organization, token_version FROM users
             WHERE role = $1 AND password_hash IS NOT NULL ORDER BY email LIMIT $2`,
            [role, limit],
          )
        ).rows;
      const users = await pick('USER', 200);
      const adms = await pick('ADM', 5);
      const userTokens = await Promise.all(users.slice(0, 50).map(signedIn));
      const admTokens = await Promise.all(adms.map(signedIn));

      // --- the app and the baseline -----------------------------------------------------
      const app = await startApp(dbUrl, keys, join(logDir, 'app.log'));
      log(`app ready on ${app.url}`);
      const baseline = await startBaseline(dbUrl, keys, join(logDir, 'baseline.log'));
      log(`baseline ready on ${baseline.url}`);

      const docs = (await (
        await fetch(`${app.url}/docs-json`, { signal: AbortSignal.timeout(10_000) })
      ).json()) as { paths?: Record<string, Record<string, unknown>> };
      const hasImport = Boolean(docs.paths?.['/users/import']?.post);
      const hasExport = Boolean(docs.paths?.['/users/export']?.get);

      const warningsPath = '/warnings';
      const bookingsPath = '/booking-requests?limit=20';
      const sameAnswers: BenchReport['sameAnswers'] = [];
      for (const [path, token, label] of [
        [warningsPath, userTokens[0], 'GET /warnings (USER)'],
        [bookingsPath, admTokens[0], 'GET /booking-requests?limit=20 (ADM)'],
      ] as const) {
        const a = await expectOk(`${app.url}${path}`, token, `app ${label}`);
        const b = await expectOk(`${baseline.url}${path}`, token, `baseline ${label}`);
        const items = (a as { items?: unknown[] }).items ?? [];
        if (items.length === 0) throw new Error(`app ${label} returned no items`);
        // The items, and whether there is a next page; each side's cursor is its own.
        const comparable = (page: unknown) => {
          const p = page as { items?: unknown[]; next_cursor?: unknown };
          return JSON.stringify({ items: p.items, more: typeof p.next_cursor === 'string' });
        };
        sameAnswers.push({ endpoint: label, same: comparable(a) === comparable(b) });
      }
      log(`answers: ${JSON.stringify(sameAnswers)}`);

      await sleep(2000);
      const idleBeforeBytes = rssBytes(app.proc.pid) ?? 0;

      const scenarios: Scenario[] = [];
      const record = (s: Scenario) => {
        scenarios.push(s);
        log(describe(s));
      };

      const ping = await measure(
        app.url,
        [{ method: 'GET', path: '/ping', headers: {} }],
        WRITE_CONNECTIONS,
        app.proc.pid,
      );
      record({ endpoint: 'GET /ping', caller: 'anyone', server: 'app', ...ping });

      const reads = [
        {
          endpoint: 'GET /warnings',
          caller: 'USER',
          requests: getRequests(warningsPath, userTokens),
        },
        {
          endpoint: 'GET /booking-requests?limit=20',
          caller: 'ADM',
          requests: getRequests(bookingsPath, admTokens),
        },
      ];
      let appFirst = true;
      for (const read of reads) {
        for (const connections of READ_CONNECTIONS) {
          // App and baseline back to back, so both see the same machine state; which goes
          // first alternates, so a drift in the machine's load does not favour one side.
          const runApp = async () => {
            const a = await measure(app.url, read.requests, connections, app.proc.pid);
            record({ endpoint: read.endpoint, caller: read.caller, server: 'app', ...a });
          };
          const runBaseline = async () => {
            const b = await measure(baseline.url, read.requests, connections);
            record({ endpoint: read.endpoint, caller: read.caller, server: 'baseline', ...b });
          };
          if (appFirst) {
            await runApp();
            await runBaseline();
          } else {
            await runBaseline();
            await runApp();
          }
          appFirst = !appFirst;
        }
      }
      await stopProcess(baseline.proc, 'baseline');

      const post = await measure(
        app.url,
        bookingRequests(userTokens),
        WRITE_CONNECTIONS,
        app.proc.pid,
      );
      record({ endpoint: 'POST /booking-requests', caller: 'USER', server: 'app', ...post });

      // Sign-ins are slow by design (bcrypt): a load warm-up would leave the server hashing
      // for seconds into the measured run, so warm up with two sign-ins in a row instead.
      const signIns = tokenRequests(users.map((u) => u.email));
      for (const r of signIns.slice(0, 2)) {
        const res = await fetch(`${app.url}${r.path}`, {
          method: 'POST',
          headers: r.headers as Record<string, string>,
          body: r.body,
          signal: AbortSignal.timeout(30_000),
        });
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`POST /auth/token answered ${res.status}`);
      }
      const token = await measure(app.url, signIns, WRITE_CONNECTIONS, app.proc.pid, 0);
      record({ endpoint: 'POST /auth/token', caller: 'anyone', server: 'app', ...token });

      await sleep(3000);
      const idleAfterBytes = rssBytes(app.proc.pid) ?? 0;
      const peakUnderLoadBytes = Math.max(...scenarios.map((s) => s.peakRssBytes ?? 0));
      await stopProcess(app.proc, 'app');
      const counted = scenarios.filter((s) => s.server === 'app');
      if (counted.some((s) => failures(s.load) > 0)) {
        log(`some requests failed; the app's log: ${join(logDir, 'app.log')}`);
      }

      // --- cold start -------------------------------------------------------------------
      const coldStarts: BenchReport['coldStarts'] = [];
      for (let i = 0; i < COLD_STARTS; i++) {
        const cold = await startApp(dbUrl, keys, join(logDir, `app-cold-${i + 1}.log`));
        coldStarts.push({ wallMs: cold.readyAt - cold.proc.startedAt, cpuMs: cold.cpuAtReadyMs });
        await stopProcess(cold.proc, 'app (cold start)');
      }
      log(`cold start: ${coldStarts.map((c) => Math.round(c.wallMs)).join(', ')} ms`);

      // --- import and export (when the routes exist) -------------------------------------
      const missing = (route: string) => `${route} is not in /docs-json of this build`;
      let importResult: ImportResult = {
        available: false,
        reason: missing('POST /users/import'),
      };
      if (hasImport) {
        log(`importing ${IMPORT_ROWS} users`);
        importResult = await runImport(dbUrl, keys, admTokens[0], logDir);
        log(`import: ${JSON.stringify(importResult)}`);
      }
      let exportResult: ExportResult = {
        available: false,
        reason: missing('GET /users/export'),
      };
      if (hasExport) {
        log(`exporting ${EXPORT_USERS} users`);
        exportResult = await runExport(db, dbUrl, keys, admTokens[0], logDir);
        log(`export: ${JSON.stringify(exportResult)}`);
      }

      // --- report -----------------------------------------------------------------------
      const report: BenchReport = {
        machine: machine(pgVersion, database.description, loadAtStart),
        settings: {
          durationS: DURATION_S,
          warmupS: WARMUP_S,
          readConnections: READ_CONNECTIONS,
          writeConnections: WRITE_CONNECTIONS,
          bcryptCost: BCRYPT_COST,
          poolSize: POOL_SIZE,
          nodeOptions: APP_NODE_OPTIONS,
        },
        seed: { ...counts, seconds: seedSeconds },
        sameAnswers,
        scenarios,
        coldStarts,
        memory: { idleBeforeBytes, peakUnderLoadBytes, idleAfterBytes },
        importResult,
        exportResult,
        totalSeconds: (performance.now() - started) / 1000,
      };
      mkdirSync(dirname(OUTPUT), { recursive: true });
      writeFileSync(OUTPUT, renderMarkdown(report));
      log(`wrote ${OUTPUT}`);
      for (const c of checks(report)) {
        const met = c.met === null ? 'n/a' : c.met ? 'met' : 'NOT MET';
        log(`${met.padEnd(7)} ${c.what}: ${c.measured} (target ${c.target})`);
      }
      log(`cold start median ${Math.round(median(coldStarts.map((c) => c.wallMs)))} ms`);
      succeeded = true;
    } finally {
      await db.end();
    }
  } finally {
    await cleanup();
    clearTimeout(watchdog);
    if (succeeded) rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(
      `[bench] failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
    );
    process.exit(1);
  },
);
