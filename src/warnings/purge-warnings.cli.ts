import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { buildDataSourceOptions } from '../../ormconfig';
import { Clock } from '../common/clock';
import { loadConfig } from '../config/app-config';
import { startEmbeddedPostgres } from '../database/embedded-postgres';
import { WarningsPurgeService } from './warnings-purge.service';

function log(level: 'info' | 'error', msg: string, extra: object = {}): void {
  const line = JSON.stringify({ level, time: new Date().toISOString(), msg, ...extra });
  if (level === 'error') console.error(line);
  else console.log(line);
}

/**
 * `npm run warnings:purge`: deletes expired warnings once and exits (0 on success, also when
 * another process held the purge lock; 1 on failure). Meant for an ECS scheduled task.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const embedded = config.databaseUrl
    ? undefined
    : await startEmbeddedPostgres({ dir: config.embeddedPgDir, port: config.embeddedPgPort });
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
  await dataSource.initialize();
  try {
    const result = await new WarningsPurgeService(dataSource, new Clock()).purge();
    log(
      'info',
      result.ran
        ? 'purged expired warnings'
        : 'another process holds the purge lock; nothing to do',
      result,
    );
  } finally {
    await dataSource.destroy();
    await embedded?.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    log('error', 'warnings purge failed', {
      err: err instanceof Error ? err.message : String(err),
    });
    process.exit(1);
  },
);
