import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import * as ExcelJS from 'exceljs';
import { cpus, loadavg, totalmem } from 'node:os';
import { PassThrough } from 'node:stream';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { AppModule } from '../src/app.module';
import { configureApp, createFastifyAdapter } from '../src/app.setup';
import { TokenService } from '../src/auth/token.service';
import { createLogger } from '../src/common/logging';
import { loadConfig } from '../src/config/app-config';
import { runMigrationsWithLock } from '../src/database/migration-runner';
import { SessionsService } from '../src/sessions/sessions.service';
import { User } from '../src/users/entities/user.entity';
import { Organization, Role, UserState } from '../src/users/user.enums';

/**
 * `BENCH_DATABASE_URL=postgres://... npm run bench:import` (add NODE_OPTIONS=--expose-gc for
 * the live heap)
 *
 * Times POST /users/import with a 100k-row CSV and XLSX, and GET /users/export of 1M users
 * (CSV and XLSX) with the process's peak memory, through real HTTP on 127.0.0.1. Every row it
 * makes uses the @bench.example.com domain and is deleted at the end. Not a test: numbers go to
 * docs/benchmarks.md by hand.
 */

const DOMAIN = 'bench.example.com';
const IMPORT_ROWS = Number(process.env.BENCH_IMPORT_ROWS ?? 100_000);
const EXPORT_ROWS = Number(process.env.BENCH_EXPORT_ROWS ?? 1_000_000);
const ORGS = [Organization.DEV, Organization.NAWAT, Organization.ESPORTS, Organization.GUARDIAN];

function importRows(): string[][] {
  const rows = [['name', 'email', 'role', 'organization', 'state', 'ra', 'course', 'year']];
  for (let i = 0; i < IMPORT_ROWS; i++) {
    // One row in a hundred is invalid (bad year), one in a thousand repeats an earlier email.
    const email = i % 1000 === 999 ? `imp${i - 1}@${DOMAIN}` : `imp${i}@${DOMAIN}`;
    const year = i % 100 === 50 ? '9' : String(i % 6);
    rows.push([`Person ${i}`, email, 'USER', ORGS[i % ORGS.length], 'APPROVED', '', 'CIC', year]);
  }
  return rows;
}

async function xlsxBuffer(rows: string[][]): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise((resolve) => out.on('end', resolve));
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useSharedStrings: true });
  const sheet = workbook.addWorksheet('users');
  for (const row of rows) {
    const cells: Array<string | number> = [...row];
    if (cells[7] !== 'year') cells[7] = Number(cells[7]);
    sheet.addRow(cells).commit();
  }
  sheet.commit();
  await workbook.commit();
  await done;
  return Buffer.concat(chunks);
}

/**
 * Peak RSS, and peak live heap: with --expose-gc the heap is measured right after a full
 * collection (garbage V8 has not collected yet says nothing about what the code holds).
 */
class PeakMemory {
  private rss = 0;
  private heap = 0;
  private timer?: NodeJS.Timeout;
  private readonly gc = (globalThis as { gc?: () => void }).gc;

  start(): void {
    this.rss = 0;
    this.heap = 0;
    this.sample();
    this.timer = setInterval(() => this.sample(), this.gc ? 1000 : 50);
  }

  stop(): string {
    clearInterval(this.timer);
    this.sample();
    return this.gc
      ? `peak RSS ${mb(this.rss)}, peak live heap ${mb(this.heap)}`
      : `peak RSS ${mb(this.rss)}`;
  }

  private sample(): void {
    this.gc?.();
    const m = process.memoryUsage();
    this.rss = Math.max(this.rss, m.rss);
    this.heap = Math.max(this.heap, m.heapUsed + m.arrayBuffers);
  }
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

async function main(): Promise<void> {
  const url = process.env.BENCH_DATABASE_URL;
  if (!url) throw new Error('set BENCH_DATABASE_URL to a database the benchmark may fill');
  const sql = new Client({ connectionString: url });
  await sql.connect();
  const cleanup = () => sql.query(`DELETE FROM users WHERE email LIKE '%@${DOMAIN}'`);

  const logger = createLogger('silent');
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: url,
    LOG_LEVEL: 'silent',
  });
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.register(config),
    createFastifyAdapter(logger),
    { logger: false },
  );
  await configureApp(app, logger);
  await runMigrationsWithLock(app.get(DataSource), { log: () => undefined });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const base = await app.getUrl();
  const lines: string[] = [];
  const report = (line: string) => {
    lines.push(line);
    console.log(line);
  };

  try {
    await cleanup();
    const repo = app.get(DataSource).getRepository(User);
    const admin = repo.create({
      name: 'Bench Admin',
      email: `admin@${DOMAIN}`,
      role: Role.ADM,
      state: UserState.APPROVED,
    });
    await repo.insert(admin);
    const session = await app.get(SessionsService).start(admin.id, { ip: null, userAgent: null });
    const access_token = app
      .get(TokenService)
      .accessToken(await repo.findOneByOrFail({ id: admin.id }), session.sessionId);
    const auth = { authorization: `Bearer ${access_token}` };

    report(
      `machine: ${cpus().length} cores, ${mb(totalmem())} RAM, node ${process.version}, ` +
        `load average ${loadavg()[0].toFixed(1)}`,
    );
    const idle = new PeakMemory();
    idle.start();
    report(`idle app: ${idle.stop()}`);
    const rows = importRows();
    const csv = Buffer.from(rows.map((r) => r.join(',')).join('\n'));
    const xlsx = await xlsxBuffer(rows);

    for (const [label, file, name, type] of [
      ['CSV', csv, 'users.csv', 'text/csv'],
      [
        'XLSX',
        xlsx,
        'users.xlsx',
        'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      ],
    ] as const) {
      await sql.query(`DELETE FROM users WHERE email LIKE 'imp%@${DOMAIN}'`);
      const form = new FormData();
      form.append('file', new Blob([file], { type }), name);
      const memory = new PeakMemory();
      memory.start();
      const started = performance.now();
      const res = await fetch(`${base}/users/import`, {
        method: 'POST',
        headers: auth,
        body: form,
      });
      const body = (await res.json()) as { created: number; skipped: unknown[] };
      const seconds = (performance.now() - started) / 1000;
      const memoryUse = memory.stop();
      if (res.status !== 200)
        throw new Error(`import answered ${res.status}: ${JSON.stringify(body)}`);
      report(
        `import ${label}: ${IMPORT_ROWS} rows (${mb(file.length)}) in ${seconds.toFixed(2)} s — ` +
          `created ${body.created}, skipped ${body.skipped.length}, ${memoryUse}`,
      );
    }

    const counted = await sql.query<{ n: string }>('SELECT count(*) AS n FROM users');
    const have = Number(counted.rows[0].n);
    const missing = Math.max(0, EXPORT_ROWS - have);
    await sql.query(
      `INSERT INTO users (name, email, role, organization, state, year)
       SELECT 'Exported ' || md5(i::text), 'exp' || i || '@${DOMAIN}', 'USER', 'DEV', 'APPROVED', i % 6
       FROM generate_series(1, $1::int) AS i`,
      [missing],
    );
    await sql.query('ANALYZE users');
    for (const format of ['csv', 'xlsx']) {
      const memory = new PeakMemory();
      memory.start();
      const started = performance.now();
      const res = await fetch(`${base}/users/export?format=${format}`, { headers: auth });
      if (res.status !== 200 || !res.body) throw new Error(`export answered ${res.status}`);
      let bytes = 0;
      let firstByte = 0;
      for await (const chunk of res.body) {
        if (bytes === 0) firstByte = performance.now() - started;
        bytes += (chunk as Uint8Array).length;
      }
      const seconds = (performance.now() - started) / 1000;
      const memoryUse = memory.stop();
      report(
        `export ${format.toUpperCase()}: ${EXPORT_ROWS} users, ${mb(bytes)} in ${seconds.toFixed(2)} s ` +
          `(first byte after ${firstByte.toFixed(0)} ms), ${memoryUse}`,
      );
    }
  } finally {
    await cleanup();
    await sql.end();
    await app.close();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`benchmark failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
