import { randomBytes } from 'node:crypto';
import { Client, DatabaseError } from 'pg';
import request from 'supertest';
import { DataSource, MigrationInterface, QueryRunner } from 'typeorm';
import { buildDataSourceOptions } from '../ormconfig';
import { bootstrapDatabase } from '../src/database/bootstrap';
import {
  APP_ROLE,
  DatabaseLogin,
  MIGRATOR_ROLE,
  provisionLogin,
  scramSha256Verifier,
} from '../src/database/database-roles';
import { actAsMigrator, runMigrationsWithLock } from '../src/database/migration-runner';
import { Role } from '../src/users/user.enums';
import { testDatabaseUrl } from './setup/test-database';
import { truncateAll } from './utils/db';
import { bearer, createUser } from './utils/factories';
import { createTestApp } from './utils/test-app';

/**
 * The two database roles the DatabaseRoles migration sets up (docs/deploy.md, "Database roles"):
 * portal_migrator owns the schema, portal_app has DML only, and on audit_log only INSERT and
 * SELECT. The global setup ran the migrations as the test server's superuser, as a fresh
 * database's first run does; logins made here join the roles the way `npm run db:bootstrap`
 * makes them on RDS.
 */
describe('database roles', () => {
  let admin: DataSource;
  const logins: string[] = [];

  const suffix = () => randomBytes(4).toString('hex');
  const urlFor = (login: DatabaseLogin) => {
    const url = new URL(testDatabaseUrl());
    url.username = login.username;
    url.password = login.password;
    return url.toString();
  };
  async function login(role: DatabaseLogin['role']): Promise<DatabaseLogin> {
    const l: DatabaseLogin = {
      username: `portal_test_${role === APP_ROLE ? 'app' : 'migrate'}_${suffix()}`,
      password: randomBytes(18).toString('base64url'),
      role,
    };
    await provisionLogin(admin, l);
    logins.push(l.username);
    return l;
  }
  async function connectAs(l: DatabaseLogin): Promise<Client> {
    const client = new Client({ connectionString: urlFor(l) });
    await client.connect();
    return client;
  }
  async function sqlState(p: Promise<unknown>): Promise<string | undefined> {
    try {
      await p;
      return undefined;
    } catch (err) {
      return (err as DatabaseError).code;
    }
  }

  beforeAll(async () => {
    admin = new DataSource(buildDataSourceOptions({ url: testDatabaseUrl(), poolSize: 2 }));
    await admin.initialize();
    await truncateAll(admin);
  });
  afterAll(async () => {
    await truncateAll(admin);
    // Logins own nothing here: dropping them also drops their memberships.
    for (const name of logins) await admin.query(`DROP ROLE IF EXISTS "${name}"`);
    await admin.destroy();
  });

  it('the migrator owns every table, sequence, type and function of the schema', async () => {
    const rows = await admin.query<Array<{ object: string; owner: string }>>(`
      SELECT c.oid::regclass::text AS object, pg_get_userbyid(c.relowner) AS owner
        FROM pg_class c
       WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
      UNION ALL
      SELECT t.oid::regtype::text, pg_get_userbyid(t.typowner)
        FROM pg_type t
       WHERE t.typnamespace = 'public'::regnamespace AND t.typtype IN ('e', 'd')
      UNION ALL
      SELECT p.oid::regprocedure::text, pg_get_userbyid(p.proowner)
        FROM pg_proc p
       WHERE p.pronamespace = 'public'::regnamespace`);
    expect(rows.map((r) => r.object)).toEqual(expect.arrayContaining(['users', 'audit_log']));
    expect(rows.filter((r) => r.owner !== MIGRATOR_ROLE)).toEqual([]);
  });

  it('the app role has DML on every table, only INSERT and SELECT on audit_log, SELECT on migrations', async () => {
    const rows = await admin.query<Array<{ table: string; privileges: string[] }>>(
      `SELECT c.relname AS table,
              ARRAY(SELECT p FROM unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE',
                                               'REFERENCES', 'TRIGGER']) p
                     WHERE has_table_privilege($1, c.oid, p)) AS privileges
         FROM pg_class c
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
        ORDER BY 1`,
      [APP_ROLE],
    );
    const expected = (table: string) =>
      table === 'audit_log'
        ? ['SELECT', 'INSERT']
        : table === 'migrations'
          ? ['SELECT']
          : ['SELECT', 'INSERT', 'UPDATE', 'DELETE'];
    expect(rows.length).toBeGreaterThanOrEqual(5);
    for (const row of rows)
      expect(row).toEqual({ table: row.table, privileges: expected(row.table) });
    const schema = await admin.query<Array<{ usage: boolean; create: boolean }>>(
      `SELECT has_schema_privilege($1, 'public', 'USAGE') AS usage,
              has_schema_privilege($1, 'public', 'CREATE') AS create`,
      [APP_ROLE],
    );
    expect(schema).toEqual([{ usage: true, create: false }]);
  });

  describe('a login of the app role', () => {
    let app: DatabaseLogin;
    let client: Client;
    beforeAll(async () => {
      app = await login(APP_ROLE);
      client = await connectAs(app);
    });
    afterAll(async () => {
      await client.end();
    });

    it('writes and reads audit_log, and can neither change nor delete it', async () => {
      const inserted = await client.query<{ id: string }>(
        `INSERT INTO audit_log (action, target_type) VALUES ('test.append', 'test') RETURNING id`,
      );
      const id = inserted.rows[0].id;
      await expect(
        client.query('SELECT action FROM audit_log WHERE id = $1', [id]),
      ).resolves.toMatchObject({ rows: [{ action: 'test.append' }] });
      // 42501: insufficient_privilege.
      await expect(
        sqlState(
          client.query(`UPDATE audit_log SET action = 'test.rewritten' WHERE id = $1`, [id]),
        ),
      ).resolves.toBe('42501');
      await expect(
        sqlState(client.query('DELETE FROM audit_log WHERE id = $1', [id])),
      ).resolves.toBe('42501');
      await expect(sqlState(client.query('TRUNCATE audit_log'))).resolves.toBe('42501');
      const [row] = await admin.query<Array<{ action: string }>>(
        'SELECT action FROM audit_log WHERE id = $1',
        [id],
      );
      expect(row).toEqual({ action: 'test.append' });
    });

    it('inserts, updates and deletes rows of the other tables', async () => {
      const email = `roles-${suffix()}@example.com`;
      const created = await client.query<{ id: string }>(
        `INSERT INTO users (name, email, role) VALUES ('Role Test', $1, 'USER') RETURNING id`,
        [email],
      );
      const id = created.rows[0].id;
      await expect(
        client.query(`UPDATE users SET name = 'Role Test 2' WHERE id = $1`, [id]),
      ).resolves.toMatchObject({ rowCount: 1 });
      await expect(client.query('DELETE FROM users WHERE id = $1', [id])).resolves.toMatchObject({
        rowCount: 1,
      });
    });

    it('cannot change the schema, nor record a migration', async () => {
      await expect(sqlState(client.query('CREATE TABLE app_made (id int)'))).resolves.toBe('42501');
      await expect(sqlState(client.query('ALTER TABLE users ADD COLUMN x int'))).resolves.toBe(
        '42501',
      );
      await expect(sqlState(client.query('DROP TABLE warnings'))).resolves.toBe('42501');
      await expect(sqlState(client.query('CREATE INDEX app_idx ON users (name)'))).resolves.toBe(
        '42501',
      );
      await expect(
        sqlState(client.query(`INSERT INTO migrations (timestamp, name) VALUES (1, 'Fake1')`)),
      ).resolves.toBe('42501');
      await expect(sqlState(client.query(`SET ROLE ${MIGRATOR_ROLE}`))).resolves.toBe('42501');
    });

    it('cannot run migrations (it is no member of the migrator role)', async () => {
      const ds = new DataSource({
        ...buildDataSourceOptions({ url: urlFor(app), poolSize: 2 }),
        logging: false,
      });
      await ds.initialize();
      const runner = ds.createQueryRunner();
      try {
        await expect(actAsMigrator(runner)).rejects.toThrow(
          /cannot act as portal_migrator .*docs\/deploy\.md/,
        );
      } finally {
        await runner.release();
        await ds.destroy();
      }
    });

    it('runs the whole API: users, warnings, the audit trail', async () => {
      const t = await createTestApp({ DATABASE_URL: urlFor(app) });
      try {
        const adm = await createUser(t.dataSource, { role: Role.ADM, organization: null });
        const auth = await bearer(t, adm);
        const created = await request(t.server)
          .post('/users')
          .set('authorization', auth)
          .send({
            name: 'Made By App Role',
            email: `app-role-${suffix()}@example.com`,
            role: 'USER',
            organization: 'DEV',
          });
        expect(created.status).toBe(201);
        const id = (created.body as { id: string }).id;
        await request(t.server)
          .patch(`/users/${id}`)
          .set('authorization', auth)
          .send({ name: 'Renamed By App Role' })
          .expect(200);
        await request(t.server).delete(`/users/${id}`).set('authorization', auth).expect(204);
        const warning = await request(t.server)
          .post('/warnings')
          .set('authorization', auth)
          .send({
            title: 'Roles',
            description: 'written by the app role',
            expires_at: new Date(Date.now() + 3_600_000).toISOString(),
          });
        expect(warning.status).toBe(201);
        await request(t.server).get('/warnings').set('authorization', auth).expect(200);
        const audit = await admin.query<Array<{ action: string }>>(
          'SELECT action FROM audit_log WHERE target_id = $1 ORDER BY created_at',
          [id],
        );
        expect(audit.length).toBeGreaterThanOrEqual(3);
      } finally {
        await t.close();
      }
    });
  });

  describe('a login of the migrator role', () => {
    /** What a later migration looks like: a new table, nothing about grants. */
    class LaterTable9999999999999 implements MigrationInterface {
      name = 'LaterTable9999999999999';
      async up(q: QueryRunner): Promise<void> {
        await q.query(`CREATE TABLE "later_table" ("id" serial PRIMARY KEY, "note" text)`);
      }
      async down(q: QueryRunner): Promise<void> {
        await q.query(`DROP TABLE "later_table"`);
      }
    }

    it('runs migrations as portal_migrator, and the app may use what they create', async () => {
      const migrator = await login(MIGRATOR_ROLE);
      const base = buildDataSourceOptions({ url: urlFor(migrator), poolSize: 2 });
      const ds = new DataSource({
        ...base,
        migrations: [...(base.migrations as string[]), LaterTable9999999999999],
      });
      await ds.initialize();
      try {
        const applied = await runMigrationsWithLock(ds, { log: () => undefined });
        expect(applied.map((m) => m.name)).toEqual(['LaterTable9999999999999']);
        const [owner] = await admin.query<Array<{ owner: string }>>(
          `SELECT tableowner AS owner FROM pg_tables WHERE tablename = 'later_table'`,
        );
        expect(owner).toEqual({ owner: MIGRATOR_ROLE });
        // Back to the login's own identity once the run is over (the pool reuses connections).
        await expect(ds.query('SELECT current_user AS u')).resolves.toEqual([
          { u: migrator.username },
        ]);

        const app = await login(APP_ROLE);
        const client = await connectAs(app);
        try {
          await client.query(`INSERT INTO later_table (note) VALUES ('a')`);
          await client.query(`UPDATE later_table SET note = 'b'`);
          await expect(client.query('SELECT note FROM later_table')).resolves.toMatchObject({
            rows: [{ note: 'b' }],
          });
          await client.query('DELETE FROM later_table');
        } finally {
          await client.end();
        }
      } finally {
        await ds.undoLastMigration({ transaction: 'each' });
        await ds.destroy();
      }
      const gone = await admin.query(`SELECT to_regclass('later_table') AS t`);
      expect(gone).toEqual([{ t: null }]);
    });
  });

  describe('the RDS path: a master user that is not a superuser', () => {
    /**
     * RDS's master user has CREATEROLE and owns the database, but is no superuser. It applied the
     * older migrations itself, then runs db:bootstrap. The roles exist in this test cluster
     * already (the global setup made them as superuser), so the master is given what creating
     * them gives it: ADMIN on them, and from PostgreSQL 16 on nothing more (no SET, no INHERIT).
     */
    it('applies the roles migration over its own tables and provisions the logins', async () => {
      const id = suffix();
      const db = `portal_rds_${id}`;
      const masterName = `portal_test_master_${id}`;
      const logins: DatabaseLogin[] = [
        {
          username: `portal_test_rm_${id}`,
          password: randomBytes(18).toString('base64url'),
          role: MIGRATOR_ROLE,
        },
        {
          username: `portal_test_ra_${id}`,
          password: randomBytes(18).toString('base64url'),
          role: APP_ROLE,
        },
      ];
      const master: DatabaseLogin = {
        username: masterName,
        password: randomBytes(18).toString('base64url'),
        role: APP_ROLE,
      };
      const [{ v }] = await admin.query<Array<{ v: string }>>(
        `SELECT current_setting('server_version_num') AS v`,
      );
      const adminOnly =
        Number(v) >= 160000 ? 'WITH ADMIN TRUE, INHERIT FALSE, SET FALSE' : 'WITH ADMIN OPTION';
      await admin.query(
        `CREATE ROLE "${masterName}" LOGIN CREATEROLE PASSWORD '${master.password}'`,
      );
      await admin.query(`GRANT ${MIGRATOR_ROLE}, ${APP_ROLE} TO "${masterName}" ${adminOnly}`);
      // CREATE/DROP DATABASE checkpoint and touch the disk: no statement timeout for them.
      const su = new Client({ connectionString: testDatabaseUrl(), statement_timeout: 0 });
      await su.connect();
      await su.query(`CREATE DATABASE "${db}" OWNER "${masterName}"`);
      const urlOf = (l: DatabaseLogin) => {
        const u = new URL(urlFor(l));
        u.pathname = `/${db}`;
        return u.toString();
      };
      const connect = (l: DatabaseLogin, migrations?: unknown[]) => {
        const base = buildDataSourceOptions({ url: urlOf(l), poolSize: 2 });
        return new DataSource({
          ...base,
          logging: false,
          migrations: (migrations ?? base.migrations) as string[],
        });
      };
      try {
        // Before this release: the older migrations, as the master, who owns their tables.
        const old = connect(master);
        await old.initialize();
        const rolesMigration = old.migrations.findIndex(
          (m) => m.name === 'DatabaseRoles1796171208386',
        );
        expect(rolesMigration).toBeGreaterThan(0);
        (old.migrations as unknown[]).splice(rolesMigration);
        await runMigrationsWithLock(old, { log: () => undefined });
        await old.destroy();

        const boot = connect(master);
        await boot.initialize();
        const messages: string[] = [];
        try {
          await bootstrapDatabase(boot, logins, (m) => messages.push(m));
        } finally {
          await boot.destroy();
        }
        expect(messages).toContain('applied migration DatabaseRoles1796171208386');

        const check = new Client({ connectionString: urlOf(logins[1]) });
        await check.connect();
        try {
          const owners = await check.query<{ owner: string }>(
            `SELECT DISTINCT tableowner AS owner FROM pg_tables WHERE schemaname = 'public'`,
          );
          expect(owners.rows).toEqual([{ owner: MIGRATOR_ROLE }]);
          await check.query(`INSERT INTO audit_log (action, target_type) VALUES ('rds', 'test')`);
          await expect(sqlState(check.query('DELETE FROM audit_log'))).resolves.toBe('42501');
        } finally {
          await check.end();
        }
        // The migrator login runs a later migration as portal_migrator.
        class RdsLater9999999999998 implements MigrationInterface {
          name = 'RdsLater9999999999998';
          async up(q: QueryRunner): Promise<void> {
            await q.query('CREATE TABLE rds_later (id int)');
          }
          async down(q: QueryRunner): Promise<void> {
            await q.query('DROP TABLE rds_later');
          }
        }
        const base = buildDataSourceOptions({ url: urlOf(logins[0]) });
        const later = connect(logins[0], [...(base.migrations as string[]), RdsLater9999999999998]);
        await later.initialize();
        try {
          const applied = await runMigrationsWithLock(later, { log: () => undefined });
          expect(applied.map((m) => m.name)).toEqual(['RdsLater9999999999998']);
          const [row] = await later.query<Array<{ owner: string }>>(
            `SELECT tableowner AS owner FROM pg_tables WHERE tablename = 'rds_later'`,
          );
          expect(row).toEqual({ owner: MIGRATOR_ROLE });
        } finally {
          await later.destroy();
        }
      } finally {
        await su.query(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`);
        await su.end();
        for (const l of logins) await admin.query(`DROP ROLE IF EXISTS "${l.username}"`);
        await admin.query(`REVOKE ${MIGRATOR_ROLE}, ${APP_ROLE} FROM "${masterName}" CASCADE`);
        await admin.query(`DROP ROLE IF EXISTS "${masterName}"`);
      }
    });
  });

  describe('provisioning logins (npm run db:bootstrap)', () => {
    it('creates the logins, then on a second run resets their passwords; both log in', async () => {
      const migrator: DatabaseLogin = {
        username: `portal_test_boot_m_${suffix()}`,
        password: randomBytes(18).toString('base64url'),
        role: MIGRATOR_ROLE,
      };
      const app: DatabaseLogin = {
        username: `portal_test_boot_a_${suffix()}`,
        password: randomBytes(18).toString('base64url'),
        role: APP_ROLE,
      };
      logins.push(migrator.username, app.username);
      const messages: string[] = [];
      await bootstrapDatabase(admin, [migrator, app], (m) => messages.push(m));
      expect(messages).toEqual(
        expect.arrayContaining([
          'no pending migrations',
          `login ${migrator.username} created, member of portal_migrator`,
          `login ${app.username} created, member of portal_app`,
        ]),
      );
      const rotated = { ...app, password: randomBytes(18).toString('base64url') };
      messages.length = 0;
      await bootstrapDatabase(admin, [migrator, rotated], (m) => messages.push(m));
      expect(messages).toContain(`login ${app.username} updated, member of portal_app`);
      expect(messages.join('\n')).not.toContain(rotated.password);

      const members = await admin.query<Array<{ login: string; role: string }>>(
        `SELECT m.rolname AS login, r.rolname AS role
           FROM pg_auth_members am
           JOIN pg_roles m ON m.oid = am.member JOIN pg_roles r ON r.oid = am.roleid
          WHERE m.rolname = ANY($1) ORDER BY 2`,
        [[migrator.username, app.username]],
      );
      expect(members).toEqual([
        { login: app.username, role: APP_ROLE },
        { login: migrator.username, role: MIGRATOR_ROLE },
      ]);

      // The server stores the SCRAM verifier it was sent (never the password itself)...
      const [stored] = await admin.query<Array<{ secret: string }>>(
        'SELECT rolpassword AS secret FROM pg_authid WHERE rolname = $1',
        [app.username],
      );
      const salt = Buffer.from(/^SCRAM-SHA-256\$4096:([^$]+)\$/.exec(stored.secret)![1], 'base64');
      expect(stored.secret).toBe(scramSha256Verifier(rotated.password, salt));
      // ...and the login signs in with the password.
      const client = await connectAs(rotated);
      await expect(client.query('SELECT current_user AS u')).resolves.toMatchObject({
        rows: [{ u: app.username }],
      });
      await client.end();
    });

    it('refuses a group role or a superuser as a login', async () => {
      await expect(
        provisionLogin(admin, { username: APP_ROLE, password: 'x'.repeat(20), role: APP_ROLE }),
      ).rejects.toThrow(/"portal_app" is a group role, not a login/);
      const [me] = await admin.query<Array<{ u: string }>>('SELECT current_user AS u');
      await expect(
        provisionLogin(admin, { username: me.u, password: 'x'.repeat(20), role: APP_ROLE }),
      ).rejects.toThrow(/is a superuser: the portal_app login must not be one/);
    });
  });
});
