import { DataSource } from 'typeorm';
import { buildDataSourceOptions } from '../../ormconfig';
import { ConfigError } from '../config/config-error';
import { loadDatabaseConfig } from '../config/database-config';
import { databaseLoginEnv, resolveDatabaseSecret } from '../config/secrets';
import { runMigrationsWithLock } from './migration-runner';
import { startEmbeddedPostgres } from './embedded-postgres';

function log(level: 'info' | 'error', msg: string, extra: object = {}): void {
  const line = JSON.stringify({ level, time: new Date().toISOString(), msg, ...extra });
  if (level === 'error') console.error(line);
  else console.log(line);
}

/**
 * `npm run migration:run`: applies pending migrations under the advisory lock and exits.
 * This is the command the deploy tool runs as a one-off ECS task before updating the service.
 * It reads the database settings only (DATABASE_URL or DATABASE_SECRET_ID, DATABASE_SSL, ...):
 * a migrator task needs no signing keys, and no access to their secret. It connects as the
 * migrator login (DATABASE_MIGRATOR_SECRET_ID or DATABASE_MIGRATOR_URL) when one is named.
 */
async function main(): Promise<void> {
  const config = loadDatabaseConfig(
    await resolveDatabaseSecret(databaseLoginEnv(process.env, 'DATABASE_MIGRATOR'), {
      log: (m) => log('info', m),
    }),
  );
  const embedded = config.databaseUrl
    ? undefined
    : await startEmbeddedPostgres({
        dir: config.embeddedPgDir,
        port: config.embeddedPgPort,
        log: (m) => log('info', `embedded PostgreSQL: ${m}`),
      });
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
  try {
    await dataSource.initialize();
    await runMigrationsWithLock(dataSource, { log: (m) => log('info', m) });
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy();
    await embedded?.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    if (err instanceof ConfigError) {
      log('error', err.message, { problems: err.problems });
      process.exit(78); // EX_CONFIG, as the app
    }
    log('error', 'migration failed', { err: err instanceof Error ? err.message : String(err) });
    process.exit(1);
  },
);
