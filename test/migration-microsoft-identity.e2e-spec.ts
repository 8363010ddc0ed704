import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { buildDataSourceOptions } from '../ormconfig';
import { runMigrationsWithLock } from '../src/database/migration-runner';
import { testDatabaseUrl } from './setup/test-database';
import { truncateAll } from './utils/db';

const MIGRATION = 'MicrosoftIdentity1796171093141';

describe(`migration ${MIGRATION}`, () => {
  let ds: DataSource;

  const applied = async (): Promise<boolean> => {
    const rows: unknown[] = await ds.query('SELECT 1 FROM migrations WHERE name = $1', [MIGRATION]);
    return rows.length > 0;
  };
  /** Reverts migrations, newest first, until this one is no longer applied. */
  const revertThrough = async (): Promise<void> => {
    while (await applied()) await ds.undoLastMigration({ transaction: 'each' });
  };

  beforeAll(async () => {
    // Quiet: some statements here are meant to fail.
    ds = new DataSource({
      ...buildDataSourceOptions({ url: testDatabaseUrl(), poolSize: 2 }),
      logging: false,
    });
    await ds.initialize();
    await truncateAll(ds);
  });
  afterAll(async () => {
    // Leave the database as every other spec expects it: fully migrated and empty.
    await runMigrationsWithLock(ds, { log: () => undefined });
    await truncateAll(ds);
    await ds.destroy();
  });

  it('drops the Graph-era links (untrusted, no tenant) and audits each one', async () => {
    await revertThrough();
    const [linked] = await ds.query(
      `INSERT INTO users (name, email, role, microsoft_id) VALUES ('Ana', 'ana@maua.br', 'ADM', 'old-object-id')
       RETURNING id`,
    );
    await ds.query(`INSERT INTO users (name, email, role) VALUES ('Bia', 'bia@maua.br', 'USER')`);

    await runMigrationsWithLock(ds, { log: () => undefined });

    const users = await ds.query(
      'SELECT email, microsoft_tid, microsoft_oid FROM users ORDER BY email',
    );
    expect(users).toEqual([
      { email: 'ana@maua.br', microsoft_tid: null, microsoft_oid: null },
      { email: 'bia@maua.br', microsoft_tid: null, microsoft_oid: null },
    ]);
    const columns = await ds.query(
      `SELECT column_name FROM information_schema.columns
       WHERE table_name = 'users' AND column_name LIKE 'microsoft%' ORDER BY column_name`,
    );
    expect(columns.map((c: { column_name: string }) => c.column_name)).toEqual([
      'microsoft_oid',
      'microsoft_tid',
    ]);
    const audit = await ds.query(
      `SELECT actor_id, action, target_type, target_id, before, after FROM audit_log`,
    );
    expect(audit).toEqual([
      {
        actor_id: null,
        action: 'user.microsoft_unlink',
        target_type: 'user',
        target_id: linked.id,
        before: expect.objectContaining({ microsoft_id: 'old-object-id' }),
        after: null,
      },
    ]);
  });

  it('enforces one account per identity, and tid and oid set together', async () => {
    const tid = randomUUID();
    const oid = randomUUID();
    await ds.query(
      `INSERT INTO users (name, email, role, microsoft_tid, microsoft_oid) VALUES ('Ana', 'a@maua.br', 'USER', $1, $2)`,
      [tid, oid],
    );
    await expect(
      ds.query(
        `INSERT INTO users (name, email, role, microsoft_tid, microsoft_oid) VALUES ('Bia', 'b@maua.br', 'USER', $1, $2)`,
        [tid, oid],
      ),
    ).rejects.toThrow(/users_microsoft_identity_key/);
    // The same object id in another tenant is another identity.
    await ds.query(
      `INSERT INTO users (name, email, role, microsoft_tid, microsoft_oid) VALUES ('Cid', 'c@maua.br', 'USER', $1, $2)`,
      [randomUUID(), oid],
    );
    await expect(
      ds.query(
        `INSERT INTO users (name, email, role, microsoft_tid) VALUES ('Dan', 'd@maua.br', 'USER', $1)`,
        [tid],
      ),
    ).rejects.toThrow(/users_microsoft_identity_pair/);
  });

  it('down() puts the object ids back into microsoft_id (where one is not shared)', async () => {
    await truncateAll(ds);
    const shared = randomUUID();
    const unique = randomUUID();
    for (const [email, tid, oid] of [
      ['a@maua.br', randomUUID(), unique],
      ['b@maua.br', randomUUID(), shared],
      ['c@maua.br', randomUUID(), shared],
    ]) {
      await ds.query(
        `INSERT INTO users (name, email, role, microsoft_tid, microsoft_oid) VALUES ('Someone', $1, 'USER', $2, $3)`,
        [email, tid, oid],
      );
    }
    await revertThrough();
    const rows = await ds.query('SELECT email, microsoft_id FROM users ORDER BY email');
    expect(rows).toEqual([
      { email: 'a@maua.br', microsoft_id: unique },
      { email: 'b@maua.br', microsoft_id: null },
      { email: 'c@maua.br', microsoft_id: null },
    ]);
  });
});
