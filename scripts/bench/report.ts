import { failures, LoadResult } from './load';

export const TARGETS = {
  ratio: 0.7,
  coldStartMs: 1500,
  importSeconds: 20,
  exportPeakRssMb: 200,
};

export interface Machine {
  date: string;
  cpus: number;
  cpuModel: string;
  memory: string;
  os: string;
  node: string;
  postgres: string;
  database: string;
  /** 1-minute load average at the start and the end of the run. */
  load: string;
}

export interface Settings {
  durationS: number;
  warmupS: number;
  readConnections: number[];
  writeConnections: number;
  bcryptCost: number;
  poolSize: number;
  /** NODE_OPTIONS given to the app (BENCH_NODE_OPTIONS), if any. */
  nodeOptions?: string;
}

export interface Scenario {
  /** e.g. "GET /warnings" */
  endpoint: string;
  caller: string;
  server: 'app' | 'baseline';
  load: LoadResult;
  /** The app's peak RSS during the measured run (not sampled for the baseline). */
  peakRssBytes?: number;
}

export type Optional<T> = { available: false; reason: string } | ({ available: true } & T);

export type ImportResult = Optional<{
  rows: number;
  seconds?: number;
  status?: number;
  created?: number;
  skipped?: number;
  firstSkipped?: string;
  peakRssBytes?: number;
  error?: string;
}>;

export type ExportResult = Optional<{
  users: number;
  seedSeconds: number;
  seconds?: number;
  status?: number;
  bytes?: number;
  rows?: number;
  startRssBytes?: number;
  peakRssBytes?: number;
  error?: string;
}>;

export interface BenchReport {
  machine: Machine;
  settings: Settings;
  seed: { users: number; warnings: number; bookings: number; seconds: number };
  sameAnswers: Array<{ endpoint: string; same: boolean }>;
  scenarios: Scenario[];
  coldStarts: Array<{ wallMs: number; cpuMs: number | null }>;
  memory: { idleBeforeBytes: number; peakUnderLoadBytes: number; idleAfterBytes: number };
  importResult: ImportResult;
  exportResult: ExportResult;
  totalSeconds: number;
}

export interface Ratio {
  endpoint: string;
  connections: number;
  app: LoadResult;
  baseline: LoadResult;
  ratio: number;
}

export function ratios(scenarios: Scenario[]): Ratio[] {
  const out: Ratio[] = [];
  for (const app of scenarios.filter((s) => s.server === 'app')) {
    const base = scenarios.find(
      (s) =>
        s.server === 'baseline' &&
        s.endpoint === app.endpoint &&
        s.load.connections === app.load.connections,
    );
    if (base) {
      out.push({
        endpoint: app.endpoint,
        connections: app.load.connections,
        app: app.load,
        baseline: base.load,
        ratio: base.load.reqPerSec > 0 ? app.load.reqPerSec / base.load.reqPerSec : 0,
      });
    }
  }
  return out;
}

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const mb = (bytes: number | undefined): string =>
  bytes === undefined || bytes === 0 ? 'n/a' : `${(bytes / 1024 / 1024).toFixed(0)} MB`;
const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const ms = (n: number): string => (n < 10 ? n.toFixed(1) : int(n));
const yes = (ok: boolean): string => (ok ? 'yes' : '**no**');

function codes(r: LoadResult): string {
  const parts = Object.entries(r.statusCodes)
    .filter(([code]) => !code.startsWith('2'))
    .map(([code, n]) => `${code}×${n}`);
  return parts.length ? ` (${parts.join(', ')})` : '';
}

interface Check {
  what: string;
  target: string;
  measured: string;
  met: boolean | null;
}

export function checks(report: BenchReport): Check[] {
  const out: Check[] = [];
  for (const r of ratios(report.scenarios)) {
    out.push({
      what: `${r.endpoint}, ${r.connections} connections: app / baseline`,
      target: `>= ${TARGETS.ratio}`,
      measured: `${r.ratio.toFixed(2)} (${int(r.app.reqPerSec)} / ${int(r.baseline.reqPerSec)} req/s)`,
      met: r.ratio >= TARGETS.ratio,
    });
  }
  const appRuns = report.scenarios.filter((s) => s.server === 'app');
  const failed = appRuns.reduce((n, s) => n + failures(s.load), 0);
  out.push({
    what: 'errors and non-2xx answers, every app scenario',
    target: '0',
    measured: int(failed),
    met: failed === 0,
  });
  const cold = median(report.coldStarts.map((c) => c.wallMs));
  out.push({
    what: 'cold start to the first 200 on /ping (median)',
    target: `< ${TARGETS.coldStartMs} ms`,
    measured: `${int(cold)} ms`,
    met: cold < TARGETS.coldStartMs,
  });
  const imp = report.importResult;
  if (!imp.available) {
    out.push({
      what: 'import of 100k users',
      target: '< 20 s',
      measured: 'not available',
      met: null,
    });
  } else {
    const ok =
      imp.seconds !== undefined && imp.seconds < TARGETS.importSeconds && imp.created === imp.rows;
    out.push({
      what: `import of ${int(imp.rows)} users`,
      target: `< ${TARGETS.importSeconds} s, every row created`,
      measured: imp.error
        ? `failed: ${imp.error}`
        : `${imp.seconds?.toFixed(1)} s, ${int(imp.created ?? 0)} created`,
      met: ok,
    });
  }
  const exp = report.exportResult;
  if (!exp.available) {
    out.push({
      what: 'export of 1M users, peak RSS',
      target: '< 200 MB',
      measured: 'not available',
      met: null,
    });
  } else {
    const peakMb = (exp.peakRssBytes ?? Infinity) / 1024 / 1024;
    const ok = !exp.error && peakMb < TARGETS.exportPeakRssMb && exp.rows === exp.users;
    out.push({
      what: `export of ${int(exp.users)} users (CSV), peak RSS`,
      target: `< ${TARGETS.exportPeakRssMb} MB, every row exported`,
      measured: exp.error
        ? `failed: ${exp.error}`
        : `${mb(exp.peakRssBytes)}, ${int(exp.rows ?? 0)} rows`,
      met: ok,
    });
  }
  return out;
}

export function renderMarkdown(report: BenchReport): string {
  const { machine: m, settings: s } = report;
  const L: string[] = [];
  L.push('# Benchmarks');
  L.push('');
  L.push(
    `Generated by \`npm run bench\` (scripts/bench/run.ts) on ${m.date}; re-running it ` +
      'overwrites this file. Numbers are from one run on the machine below: compare runs on ' +
      'the same machine, not across machines.',
  );
  L.push('');
  L.push('## Machine');
  L.push('');
  L.push('| | |');
  L.push('| --- | --- |');
  L.push(`| CPU | ${m.cpus} cores (\`nproc\`), ${m.cpuModel} |`);
  L.push(`| memory (\`free -h\`) | ${m.memory} |`);
  L.push(`| OS | ${m.os} |`);
  L.push(`| Node.js | ${m.node} |`);
  L.push(`| PostgreSQL | ${m.postgres} |`);
  L.push(`| database | ${m.database} |`);
  L.push(`| load average (1 min) | ${m.load} |`);
  L.push('');
  L.push('## Setup');
  L.push('');
  L.push(
    `- Data: ${int(report.seed.users)} users, ${int(report.seed.warnings)} warnings, ` +
      `${int(report.seed.bookings)} booking requests, seeded with set-based SQL after the ` +
      `migrations in ${report.seed.seconds.toFixed(1)} s, then \`VACUUM ANALYZE\`. One warning ` +
      'in ten has expired (the purge is off during the run so every scenario sees the same rows).',
  );
  L.push(
    '- The app runs as `node dist/src/main.js` with `NODE_ENV=production`, `LOG_LEVEL=warn`, ' +
      `\`BCRYPT_COST=${s.bcryptCost}\`` +
      (s.nodeOptions ? `, \`NODE_OPTIONS=${s.nodeOptions}\`` : '') +
      `, a pool of ${s.poolSize} connections, on 127.0.0.1. The ` +
      'load generator (autocannon, in the bench process), the app and PostgreSQL share the ' +
      'same cores.',
  );
  L.push(
    `- Every scenario: ${s.warmupS} s of warm-up (not counted), then ${s.durationS} s measured, ` +
      'one request at a time per connection (no pipelining). Each connection cycles through ' +
      'tokens of 50 different users (5 ADMs for the ADM list), signed with the app\u2019s secret.',
  );
  L.push(
    '- Baseline: scripts/bench/baseline-server.ts, bare Fastify + pg with the same pool size, ' +
      'the same HS256 verification (jsonwebtoken) and user re-read as the app\u2019s guard, and ' +
      'the first page (limit + 1 rows in the list\u2019s order, no count) in one plain statement. ' +
      report.sameAnswers
        .map(
          (a) =>
            `Its items for ${a.endpoint} ${a.same ? 'are identical to' : 'DIFFER from'} the app\u2019s.`,
        )
        .join(' '),
  );
  L.push('');
  L.push('## Targets');
  L.push('');
  L.push('| what | target | measured | met |');
  L.push('| --- | --- | --- | --- |');
  for (const c of checks(report)) {
    L.push(`| ${c.what} | ${c.target} | ${c.measured} | ${c.met === null ? 'n/a' : yes(c.met)} |`);
  }
  L.push('');
  L.push('## Throughput and latency');
  L.push('');
  L.push(
    '| scenario | caller | server | connections | req/s | p50 ms | p99 ms | requests | errors | non-2xx | app peak RSS | ratio to baseline |',
  );
  L.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  const rs = ratios(report.scenarios);
  for (const sc of report.scenarios) {
    const r = sc.load;
    const ratio =
      sc.server === 'app'
        ? rs.find((x) => x.endpoint === sc.endpoint && x.connections === r.connections)
        : undefined;
    L.push(
      `| ${sc.endpoint} | ${sc.caller} | ${sc.server} | ${r.connections} | ${int(r.reqPerSec)} | ` +
        `${ms(r.p50Ms)} | ${ms(r.p99Ms)} | ${int(r.requests)} | ${int(r.errors)} | ` +
        `${int(r.non2xx)}${codes(r)} | ${sc.server === 'app' ? mb(sc.peakRssBytes) : ''} | ` +
        `${ratio ? ratio.ratio.toFixed(2) : ''} |`,
    );
  }
  L.push('');
  L.push(
    `POST /auth/token is bound by bcrypt: every sign-in hashes at cost ${s.bcryptCost} ` +
      '(a few hundred ms of CPU on a libuv thread), so its rate measures the CPU, not the API. ' +
      'POST /booking-requests inserts one row per request in its own transaction.',
  );
  L.push('');
  L.push('## Cold start');
  L.push('');
  L.push(
    'From spawning `node dist/src/main.js` (migrated database, `DATABASE_URL` set) to the first ' +
      '200 on `/ping`, polled every 10 ms.',
  );
  L.push('');
  L.push('| run | wall ms | CPU ms used by then |');
  L.push('| --- | --- | --- |');
  report.coldStarts.forEach((c, i) =>
    L.push(`| ${i + 1} | ${int(c.wallMs)} | ${c.cpuMs === null ? 'n/a' : int(c.cpuMs)} |`),
  );
  const cpu = report.coldStarts.map((c) => c.cpuMs).filter((c): c is number => c !== null);
  L.push(
    `| **median** | **${int(median(report.coldStarts.map((c) => c.wallMs)))}** | ` +
      `${cpu.length ? int(median(cpu)) : 'n/a'} |`,
  );
  L.push('');
  L.push('## Memory (app RSS)');
  L.push('');
  L.push('| when | RSS |');
  L.push('| --- | --- |');
  L.push(`| idle, after start | ${mb(report.memory.idleBeforeBytes)} |`);
  L.push(`| peak under load (sampled every 100 ms) | ${mb(report.memory.peakUnderLoadBytes)} |`);
  L.push(`| idle, after the load | ${mb(report.memory.idleAfterBytes)} |`);
  L.push('');
  L.push(
    'RSS under load includes garbage V8 has not collected yet: by default it lets the heap grow ' +
      'well past the live data between full collections. `BENCH_NODE_OPTIONS=' +
      '--max-old-space-size=<MB>` runs the app with a bounded heap to compare.',
  );
  L.push('');
  L.push('## Import and export');
  L.push('');
  const imp = report.importResult;
  if (!imp.available) {
    L.push(`- Import of 100k users: not available (${imp.reason}).`);
  } else {
    L.push(
      `- Import: \`POST /users/import\` as ADM with a CSV of ${int(imp.rows)} new users ` +
        `(freshly started app): ` +
        (imp.error
          ? `failed: ${imp.error}.`
          : `HTTP ${imp.status} in ${imp.seconds?.toFixed(1)} s, ${int(imp.created ?? 0)} created, ` +
            `${int(imp.skipped ?? 0)} skipped${imp.firstSkipped ? ` (first: ${imp.firstSkipped})` : ''}; ` +
            `app peak RSS ${mb(imp.peakRssBytes)}.`),
    );
  }
  const exp = report.exportResult;
  if (!exp.available) {
    L.push(`- Export of 1M users: not available (${exp.reason}).`);
  } else {
    L.push(
      `- Export: users topped up to ${int(exp.users)} with SQL (${exp.seedSeconds.toFixed(1)} s), ` +
        'then `GET /users/export?format=csv` as ADM from a freshly started app, body read and ' +
        'discarded: ' +
        (exp.error
          ? `failed: ${exp.error}.`
          : `HTTP ${exp.status}, ${int(exp.rows ?? 0)} rows, ${mb(exp.bytes)} in ` +
            `${exp.seconds?.toFixed(1)} s; app RSS ${mb(exp.startRssBytes)} before, ` +
            `peak ${mb(exp.peakRssBytes)} during.`),
    );
  }
  L.push('');
  L.push(`Whole run: ${report.totalSeconds.toFixed(0)} s.`);
  L.push('');
  return L.join('\n');
}
