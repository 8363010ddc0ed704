import { DataSource } from 'typeorm';
import { buildDataSourceOptions } from '../ormconfig';
import { pendingMigrationNames, runMigrationsWithLock } from '../src/database/migration-runner';
import { testDatabaseUrl } from './setup/test-database';

describe('migrations', () => {
  let ds: DataSource;

  beforeAll(async () => {
    ds = new DataSource(buildDataSourceOptions({ url: testDatabaseUrl(), poolSize: 4 }));
    await ds.initialize();
  });
  afterAll(async () => {
    await ds.destroy();
  });

  it('match the entities exactly (no drift: a changed entity needs a migration)', async () => {
    const sql = await ds.driver.createSchemaBuilder().log();
    expect(sql.upQueries.map((q) => q.query)).toEqual([]);
  });

  it('are all applied', async () => {
    expect(await pendingMigrationNames(ds)).toEqual([]);
  });

  it('two runners at once: both finish, nothing applied twice', async () => {
    const other = new DataSource(buildDataSourceOptions({ url: testDatabaseUrl(), poolSize: 4 }));
    await other.initialize();
    try {
      const [a, b] = await Promise.all([
        runMigrationsWithLock(ds, { log: () => undefined }),
        runMigrationsWithLock(other, { log: () => undefined }),
      ]);
      expect(a).toEqual([]);
      expect(b).toEqual([]);
      const rows = await ds.query<Array<{ name: string; n: string }>>(
        'SELECT name, count(*)::text AS n FROM migrations GROUP BY name HAVING count(*) > 1',
      );
      expect(rows).toEqual([]);
    } finally {
      await other.destroy();
    }
  });

  it('every migration can be reverted and re-applied', async () => {
    const count = ds.migrations.length;
    for (let i = 0; i < count; i++) await ds.undoLastMigration({ transaction: 'each' });
    expect(await pendingMigrationNames(ds)).toHaveLength(count);
    await runMigrationsWithLock(ds, { log: () => undefined });
    expect(await pendingMigrationNames(ds)).toEqual([]);
    const sql = await ds.driver.createSchemaBuilder().log();
    expect(sql.upQueries).toEqual([]);
  });
});
