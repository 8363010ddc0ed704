import { DataSource } from 'typeorm';
import { buildDataSourceOptions } from '../../ormconfig';
import { loadConfig } from '../config/app-config';
import { databaseLoginEnv, resolveSecrets } from '../config/secrets';
import { runMigrationsWithLock } from './migration-runner';
import { startEmbeddedPostgres } from './embedded-postgres';

/**
 * `npm run migration:run`: applies pending migrations under the advisory lock and exits.
 * This is the command the deploy tool runs as a one-off ECS task before updating the service.
 * It connects as the migrator login (DATABASE_MIGRATOR_SECRET_ID or DATABASE_MIGRATOR_URL) when
 * one is named, else as DATABASE_URL / DATABASE_SECRET_ID.
 */
async function main(): Promise<void> {
  // As the migrator login when DATABASE_MIGRATOR_SECRET_ID (or _URL) names it.
  const config = loadConfig(
    await resolveSecrets(databaseLoginEnv(process.env, 'DATABASE_MIGRATOR')),
  );
  const embedded = config.databaseUrl
    ? undefined
    : await startEmbeddedPostgres({ dir: config.embeddedPgDir, port: config.embeddedPgPort });
  const dataSource = new DataSource(
    buildDataSourceOptions({
      url: config.databaseUrl ?? embedded!.url,
      ssl: config.databaseSsl,
      poolSize: 2,
      // Migrations may legitimately run long (index builds).
      statementTimeoutMs: 3_600_000,
      connectTimeoutMs: config.databaseConnectTimeoutMs,
      applicationName: 'portal-api-migrate',
    }),
  );
  await dataSource.initialize();
  try {
    await runMigrationsWithLock(dataSource, {
      log: (m) => console.log(JSON.stringify({ level: 'info', msg: m })),
    });
  } finally {
    await dataSource.destroy();
    await embedded?.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(
      JSON.stringify({ level: 'error', msg: 'migration failed', err: (err as Error).message }),
    );
    process.exit(1);
  },
);
