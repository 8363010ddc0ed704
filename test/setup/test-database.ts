import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { EmbeddedDatabase, startEmbeddedPostgres } from '../../src/database/embedded-postgres';
import { freePort } from '../../src/common/free-port';

/** Where the e2e tests find their database, written by the global setup. */
export const TEST_DB_ENV = 'PORTAL_API_TEST_DATABASE_URL';

export function testDatabaseUrl(): string {
  const url = process.env[TEST_DB_ENV];
  if (!url) throw new Error(`${TEST_DB_ENV} is not set: run the tests through jest (global setup)`);
  return url;
}

/** TEST_DATABASE_URL when given, else a throw-away embedded PostgreSQL on a free port. */
export async function provideTestDatabase(): Promise<{ url: string; embedded?: EmbeddedDatabase }> {
  if (process.env.TEST_DATABASE_URL) return { url: process.env.TEST_DATABASE_URL };
  const dir = mkdtempSync(join(tmpdir(), 'portal-api-test-pg-'));
  const embedded = await startEmbeddedPostgres({
    dir,
    port: await freePort(),
    database: 'portal_test',
    persistent: false,
  });
  return { url: embedded.url, embedded };
}

/** Empties the schema so every run starts from the migrations alone. */
export async function resetSchema(url: string): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;');
  } finally {
    await client.end();
  }
}
