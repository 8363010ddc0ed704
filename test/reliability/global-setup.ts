import 'reflect-metadata';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppProcess, assertBuilt } from './support/app-process';
import { httpRequest } from './support/http';
import { OPENAPI_FILE_ENV } from './support/openapi';
import { PgServer, SHARED_PG_ENV } from './support/postgres';

/**
 * Once per `npm run test:reliability`: a PostgreSQL server of the suite's own (the scenarios that
 * never stop it create their databases there), and the OpenAPI document of this build, saved to
 * a file so specs can declare one test per route synchronously.
 */
export default async function globalSetup(): Promise<void> {
  assertBuilt();
  const pg = await PgServer.start();
  (globalThis as { __REL_PG__?: PgServer }).__REL_PG__ = pg;
  process.env[SHARED_PG_ENV] = `postgres://postgres:postgres@127.0.0.1:${pg.port}`;

  const url = await pg.createDatabase('openapi_probe');
  const app = await AppProcess.start({ DATABASE_URL: url, RUN_MIGRATIONS_ON_START: 'true' });
  try {
    const res = await httpRequest(app.port, { path: '/docs-json' });
    if (res.status !== 200) throw new Error(`GET /docs-json answered ${res.status}: ${res.text}`);
    const file = join(mkdtempSync(join(tmpdir(), 'portal-api-rel-')), 'openapi.json');
    writeFileSync(file, res.text);
    process.env[OPENAPI_FILE_ENV] = file;
  } finally {
    await app.kill();
  }
}
