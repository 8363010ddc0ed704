import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { buildDataSourceOptions } from '../../ormconfig';
import { Clock } from '../common/clock';
import { ConfigError } from '../config/config-error';
import { loadDatabaseConfig } from '../config/database-config';
import { resolveDatabaseSecret } from '../config/secrets';
import { startEmbeddedPostgres } from '../database/embedded-postgres';
import { WarningsPurgeService } from './warnings-purge.service';

function log(level: 'info' | 'error', msg: string, extra: object = {}): void {
  const line = JSON.stringify({ level, time: new Date().toISOString(), msg, ...extra });
  if (level === 'error') console.error(line);
  else console.log(line);
}

/**
 * `npm run warnings:purge`: deletes expired warnings once and exits (0 on success, also when
 * another process held the purge lock; 1 on failure, 78 on bad settings). Meant for an ECS
 * scheduled task: it reads the database settings only (DATABASE_URL or DATABASE_SECRET_ID, ...),
 * never the signing keys.
 */
async function main(): Promise<void> {
  const config = loadDatabaseConfig(
    await resolveDatabaseSecret(process.env, { log: (m) => log('info', m) }),
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
      poolSize: 1,
      statementTimeoutMs: config.databaseStatementTimeoutMs,
      connectTimeoutMs: config.databaseConnectTimeoutMs,
      applicationName: 'portal-api-warnings-purge',
    }),
  );
  try {
    await dataSource.initialize();
    const result = await new WarningsPurgeService(dataSource, new Clock()).purge();
    log(
      'info',
      result.ran
        ? 'purged expired warnings'
        : 'another process holds the purge lock; nothing to do',
      result,
    );
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
    log('error', 'warnings purge failed', {
      err: err instanceof Error ? err.message : String(err),
    });
    process.exit(1);
  },
);
