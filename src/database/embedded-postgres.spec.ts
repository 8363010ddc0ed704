import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Client } from 'pg';
import { freePort } from '../common/free-port';
import { EmbeddedPostgresError, startEmbeddedPostgres } from './embedded-postgres';

/**
 * As root, PostgreSQL runs as the "postgres" user (issue #19). These scenarios need root, as
 * in CI and containers; the folder checks they exercise do not arise for other users.
 */
const asRoot = process.getuid?.() === 0 ? describe : describe.skip;

async function query(url: string, sql: string): Promise<unknown[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows as unknown[];
  } finally {
    await client.end();
  }
}

function installedNativeDir(): string {
  const entry = require.resolve(`@embedded-postgres/${process.platform}-${process.arch}`);
  return join(resolve(dirname(entry), '..'), 'native');
}

asRoot('embedded PostgreSQL as root, from a folder the postgres user cannot enter', () => {
  let scratch: string;
  let sharedRoot: string;
  let project: string;
  const postgresUid = () => Number(execFileSync('id', ['-u', 'postgres']).toString().trim());

  beforeAll(() => {
    // mkdtemp makes mode-700 folders, like /root and every `mktemp -d`.
    scratch = mkdtempSync(join(tmpdir(), 'portal-api-epg-spec-'));
    expect(statSync(scratch).mode & 0o777).toBe(0o700);
    project = join(scratch, 'portal-api');
    mkdirSync(project);
    // The shared folder's parent must be reachable: /var/tmp in real use, a folder of ours here.
    sharedRoot = mkdtempSync(join('/var/tmp', 'portal-api-epg-spec-'));
    chmodSync(sharedRoot, 0o755);
  });

  afterAll(() => {
    rmSync(scratch, { recursive: true, force: true });
    rmSync(sharedRoot, { recursive: true, force: true });
  });

  it('moves the binaries and the default data folder where postgres can reach them, and keeps the data', async () => {
    // The binaries inside the private folder too, as after `git clone` + `npm ci` in /root.
    const nativeDir = join(project, 'node_modules', 'native');
    cpSync(installedNativeDir(), nativeDir, { recursive: true, verbatimSymlinks: true });
    const logs: string[] = [];
    const options = {
      projectDir: project,
      port: await freePort(),
      database: 'spec_db',
      nativeDir,
      sharedRoot,
      log: (m: string) => logs.push(m),
    };

    const first = await startEmbeddedPostgres(options);
    try {
      await query(first.url, 'CREATE TABLE kept (id int); INSERT INTO kept VALUES (42)');
    } finally {
      await first.stop();
    }
    const shared = join(sharedRoot, 'portal-api-embedded-postgres');
    expect(dirname(first.dir)).toBe(shared);
    expect(first.dir).toMatch(/\/portal-api-[0-9a-f]{12}$/);
    const st = statSync(first.dir);
    expect(st.uid).toBe(postgresUid());
    expect(st.mode & 0o777).toBe(0o700);
    expect(statSync(shared).mode & 0o777).toBe(0o755);
    expect(readFileSync(`${first.dir}.origin`, 'utf8').trim()).toBe(
      join(project, 'data', 'postgres'),
    );
    expect(existsSync(join(project, 'data', 'postgres'))).toBe(false);
    expect(existsSync(join(shared, 'postgres-custom-linux-x64', 'bin', 'postgres'))).toBe(
      process.platform === 'linux' && process.arch === 'x64',
    );
    // The log says where the data is, and why.
    expect(logs.join('\n')).toContain(first.dir);
    expect(logs.join('\n')).toMatch(/cannot enter .*portal-api-epg-spec-\w+ \(mode 700\)/);

    // A restart finds the same cluster, data included.
    const second = await startEmbeddedPostgres(options);
    try {
      expect(second.dir).toBe(first.dir);
      await expect(query(second.url, 'SELECT id FROM kept')).resolves.toEqual([{ id: 42 }]);
    } finally {
      await second.stop();
    }
  });

  it('never moves a folder given explicitly (EMBEDDED_PG_DIR): it says what to do instead', async () => {
    const dir = join(project, 'explicit', 'pg');
    const start = startEmbeddedPostgres({ dir, port: await freePort(), sharedRoot });
    await expect(start).rejects.toBeInstanceOf(EmbeddedPostgresError);
    await expect(start).rejects.toThrow(
      new RegExp(
        `EMBEDDED_PG_DIR=${dir}: PostgreSQL refuses to run as root, so it runs as the "postgres" ` +
          `user, who cannot enter ${scratch} \\(mode 700\\)\\. Either unset EMBEDDED_PG_DIR`,
      ),
    );
    await expect(start).rejects.toThrow(/or set DATABASE_URL/);
    expect(existsSync(dir)).toBe(false);
  });

  it('refuses to leave an existing cluster behind in the unreachable default folder', async () => {
    const other = join(scratch, 'older-clone');
    mkdirSync(join(other, 'data', 'postgres'), { recursive: true });
    writeFileSync(join(other, 'data', 'postgres', 'PG_VERSION'), '17\n');
    await expect(
      startEmbeddedPostgres({ projectDir: other, port: await freePort(), sharedRoot }),
    ).rejects.toThrow(/data\/postgres holds a cluster, but .* Move it/);
  });
});

describe('embedded PostgreSQL, any user', () => {
  it('creates the database on an existing cluster and deletes a throw-away folder on stop', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portal-api-epg-spec-'));
    const port = await freePort();
    const first = await startEmbeddedPostgres({ dir, port, database: 'one' });
    await first.stop();
    const second = await startEmbeddedPostgres({ dir, port, database: 'two', persistent: false });
    try {
      expect(second.dir).toBe(dir);
      await expect(query(second.url, 'SELECT current_database() AS db')).resolves.toEqual([
        { db: 'two' },
      ]);
    } finally {
      await second.stop();
    }
    expect(existsSync(dir)).toBe(false);
  });
});
