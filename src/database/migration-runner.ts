import { DataSource, Migration, MigrationExecutor, QueryRunner } from 'typeorm';
import { MIGRATOR_ROLE } from './database-roles';

/** Any fixed 64-bit number, the same in every process that runs migrations. */
export const MIGRATION_LOCK_KEY = 7_346_221_901;

export interface MigrationLogger {
  log(message: string): void;
}

/**
 * Runs pending migrations while holding a Postgres advisory lock, so two tasks starting at
 * once never apply the same migration twice: the second waits, then finds nothing to do.
 * They run on the connection holding the lock, as the migrator role once the database has it
 * (see actAsMigrator), so whatever they create belongs to the migrator.
 */
export async function runMigrationsWithLock(
  dataSource: DataSource,
  logger: MigrationLogger = console,
  lockTimeoutMs = 5 * 60_000,
): Promise<Migration[]> {
  // The lock belongs to one session, so take it on a dedicated connection.
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    const deadline = Date.now() + lockTimeoutMs;
    for (;;) {
      const rows = (await runner.query('SELECT pg_try_advisory_lock($1) AS locked', [
        MIGRATION_LOCK_KEY,
      ])) as Array<{ locked: boolean }>;
      if (rows[0]?.locked) break;
      if (Date.now() > deadline) {
        throw new Error(`timed out after ${lockTimeoutMs} ms waiting for the migration lock`);
      }
      logger.log('another process holds the migration lock; waiting');
      await new Promise((r) => setTimeout(r, 500));
    }
    try {
      if (await actAsMigrator(runner)) logger.log(`running migrations as ${MIGRATOR_ROLE}`);
      const executor = new MigrationExecutor(dataSource, runner);
      executor.transaction = 'each';
      const applied = await executor.executePendingMigrations();
      for (const m of applied) logger.log(`applied migration ${m.name}`);
      if (applied.length === 0) logger.log('no pending migrations');
      return applied;
    } finally {
      // A migration may have changed the role too (the one that creates the roles does).
      await runner.query('RESET ROLE');
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await runner.release();
  }
}

/**
 * SET ROLE portal_migrator when the database has been set up for it (the role exists and may
 * create in schema public), so migrations create objects the migrator owns, whichever login
 * runs them (its own, a rotation's clone of it, the RDS master user, a local superuser).
 * Before that (a fresh database), migrations run as the session user, and the migration that
 * creates the roles hands the objects over. Returns whether the role was taken.
 */
export async function actAsMigrator(runner: QueryRunner): Promise<boolean> {
  const rows = (await runner.query(
    `SELECT has_schema_privilege(r.oid, 'public', 'CREATE') AS ready
       FROM pg_roles r WHERE r.rolname = $1`,
    [MIGRATOR_ROLE],
  )) as Array<{ ready: boolean }>;
  if (!rows[0]?.ready) return false;
  try {
    await runner.query(`SET ROLE ${MIGRATOR_ROLE}`);
  } catch (err) {
    throw new Error(
      `the database user cannot act as ${MIGRATOR_ROLE} (${(err as Error).message}): migrations ` +
        `run as a member of ${MIGRATOR_ROLE}; see docs/deploy.md, "Database roles"`,
      { cause: err },
    );
  }
  return true;
}

/** Names of the migrations this build knows that the database has not applied yet. */
export async function pendingMigrationNames(dataSource: DataSource): Promise<string[]> {
  const table = dataSource.options.migrationsTableName ?? 'migrations';
  const exists: Array<{ t: string | null }> = await dataSource.query(
    'SELECT to_regclass($1)::text AS t',
    [table],
  );
  const known = dataSource.migrations.map((m) => m.name ?? m.constructor.name);
  if (!exists[0]?.t) return known;
  const rows: Array<{ name: string }> = await dataSource.query(`SELECT name FROM "${table}"`);
  const applied = new Set(rows.map((r) => r.name));
  return known.filter((name) => !applied.has(name));
}
