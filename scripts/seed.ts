import 'reflect-metadata';
import * as bcrypt from 'bcrypt';
import { DataSource } from 'typeorm';
import { buildDataSourceOptions } from '../ormconfig';
import { loadConfig } from '../src/config/app-config';
import { EmbeddedDatabase, startEmbeddedPostgres } from '../src/database/embedded-postgres';
import { runMigrationsWithLock } from '../src/database/migration-runner';
import { findRunningEmbeddedPostgres } from '../src/database/running-embedded-postgres';
import { seedMockData } from '../src/seed/mock-data';
import { DEFAULT_SEED_PASSWORD, SEED_USERS } from '../src/seed/mock-users';
import { SEED_WARNINGS } from '../src/seed/mock-warnings';

/**
 * `npm run seed`: loads the mock users and warnings for local use (idempotent). Uses
 * DATABASE_URL; else the embedded PostgreSQL of EMBEDDED_PG_DIR: the one `npm start` is running
 * (found through the folder's postmaster.pid), or one it starts and stops itself. Applies
 * pending migrations first. Mock users share SEED_PASSWORD (default in docs/api.md); never in
 * production.
 */
async function main(): Promise<void> {
  if (process.env.NODE_ENV === 'production') {
    throw new Error('refusing to load mock users with NODE_ENV=production');
  }
  const config = loadConfig();
  const password = config.seedPassword ?? DEFAULT_SEED_PASSWORD;

  let url = config.databaseUrl;
  let embedded: EmbeddedDatabase | undefined;
  let hint = '';
  if (!url) {
    const running = findRunningEmbeddedPostgres(config.embeddedPgDir);
    if (running) {
      console.log(
        `Using the embedded PostgreSQL already running in ${running.dir} ` +
          `(pid ${running.pid}, port ${running.port}).`,
      );
      url = running.url;
      hint =
        ` The embedded PostgreSQL in ${running.dir} (pid ${running.pid}) did not answer on port ` +
        `${running.port}: wait until \`npm start\` is up, or stop it, or run ` +
        `DATABASE_URL=${running.url} npm run seed.`;
    } else {
      try {
        embedded = await startEmbeddedPostgres({
          dir: config.embeddedPgDir,
          port: config.embeddedPgPort,
        });
      } catch (err) {
        throw new Error(
          `could not start the embedded PostgreSQL in ${config.embeddedPgDir} ` +
            `(${err instanceof Error ? err.message : String(err)}). If \`npm start\` is running ` +
            'with another EMBEDDED_PG_DIR, run this with the same one, or set DATABASE_URL.',
          { cause: err },
        );
      }
      url = embedded.url;
    }
  }

  const dataSource = new DataSource(
    buildDataSourceOptions({
      url,
      ssl: config.databaseSsl,
      poolSize: 2,
      connectTimeoutMs: config.databaseConnectTimeoutMs,
      applicationName: 'portal-api-seed',
    }),
  );
  try {
    try {
      await dataSource.initialize();
    } catch (err) {
      throw new Error(`${err instanceof Error ? err.message : String(err)}.${hint}`, {
        cause: err,
      });
    }
    await runMigrationsWithLock(dataSource, { log: () => undefined });
    const { users, warnings } = await seedMockData(dataSource, {
      passwordHash: () => bcrypt.hash(password, config.bcryptCost),
      now: new Date(),
    });
    for (const user of SEED_USERS) {
      const status = users.created.includes(user.email) ? 'created' : 'exists ';
      console.log(
        `${status}  ${user.role.padEnd(9)} ${(user.organization ?? '-').padEnd(6)} ${user.active.padEnd(12)} ${user.email}`,
      );
    }
    for (const warning of SEED_WARNINGS) {
      const status = warnings.created.includes(warning.title) ? 'created' : 'exists ';
      console.log(
        `${status}  warning to ${warning.targetRole} of ${warning.targetOrg ?? 'every organization'}: ${warning.title}`,
      );
    }
    console.log(
      `${users.created.length} created, ${users.existing.length} already there; ` +
        `${warnings.created.length} warning(s) created, ${warnings.existing.length} already there. ` +
        `New users' password: ${config.seedPassword ? 'SEED_PASSWORD' : `"${DEFAULT_SEED_PASSWORD}"`}.`,
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
