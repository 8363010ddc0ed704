import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { buildDataSourceOptions } from '../../ormconfig';
import { runMigrationsWithLock } from '../../src/database/migration-runner';
import { provideTestDatabase, resetSchema, TEST_DB_ENV } from './test-database';

/** Once per `jest` run: a database, a clean schema, every migration applied. */
export default async function globalSetup(): Promise<void> {
  const { url, embedded } = await provideTestDatabase();
  (globalThis as { __EMBEDDED_PG__?: unknown }).__EMBEDDED_PG__ = embedded;
  process.env[TEST_DB_ENV] = url;
  await resetSchema(url);
  const ds = new DataSource(buildDataSourceOptions({ url, poolSize: 2 }));
  await ds.initialize();
  try {
    await runMigrationsWithLock(ds, { log: () => undefined });
  } finally {
    await ds.destroy();
  }
}
