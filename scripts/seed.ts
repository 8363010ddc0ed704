import 'reflect-metadata';
import * as bcrypt from 'bcrypt';
import { DataSource } from 'typeorm';
import { buildDataSourceOptions } from '../ormconfig';
import { loadConfig } from '../src/config/app-config';
import { startEmbeddedPostgres } from '../src/database/embedded-postgres';
import { runMigrationsWithLock } from '../src/database/migration-runner';
import { DEFAULT_SEED_PASSWORD, SEED_USERS, seedMockUsers } from '../src/users/user-seeder';

/**
 * `npm run seed`: loads the mock users for local use (idempotent). Uses DATABASE_URL, or the
 * embedded PostgreSQL when it is unset, and applies pending migrations first.
 * Mock users share SEED_PASSWORD (default in docs/api.md); never in production.
 */
async function main(): Promise<void> {
  if (process.env.NODE_ENV === 'production') {
    throw new Error('refusing to load mock users with NODE_ENV=production');
  }
  const password = process.env.SEED_PASSWORD || DEFAULT_SEED_PASSWORD;
  if (password.length < 12) throw new Error('SEED_PASSWORD must be at least 12 characters');
  const config = loadConfig();

  const embedded = config.databaseUrl
    ? undefined
    : await startEmbeddedPostgres({ dir: config.embeddedPgDir, port: config.embeddedPgPort });
  const dataSource = new DataSource(
    buildDataSourceOptions({
      url: config.databaseUrl ?? embedded!.url,
      ssl: config.databaseSsl,
      poolSize: 2,
      applicationName: 'portal-api-seed',
    }),
  );
  try {
    await dataSource.initialize();
    await runMigrationsWithLock(dataSource, { log: () => undefined });
    const result = await seedMockUsers(dataSource, await bcrypt.hash(password, config.bcryptCost));
    for (const user of SEED_USERS) {
      const status = result.created.includes(user.email) ? 'created' : 'exists ';
      console.log(
        `${status}  ${user.role.padEnd(9)} ${(user.organization ?? '-').padEnd(6)} ${user.active.padEnd(12)} ${user.email}`,
      );
    }
    console.log(
      `${result.created.length} created, ${result.existing.length} already there. ` +
        `New users' password: ${process.env.SEED_PASSWORD ? 'SEED_PASSWORD' : 'the default in docs/api.md, "Mock users"'}.`,
    );
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy();
    await embedded?.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`seed failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
