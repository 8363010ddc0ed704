import { DataSource, Migration } from 'typeorm';

/** Any fixed 64-bit number, the same in every process that runs migrations. */
export const MIGRATION_LOCK_KEY = 7_346_221_901;

export interface MigrationLogger {
  log(message: string): void;
}

/**
 * Runs pending migrations while holding a Postgres advisory lock, so two tasks starting at
 * once never apply the same migration twice: the second waits, then finds nothing to do.
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
      const applied = await dataSource.runMigrations({ transaction: 'each' });
      for (const m of applied) logger.log(`applied migration ${m.name}`);
      if (applied.length === 0) logger.log('no pending migrations');
      return applied;
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await runner.release();
  }
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
