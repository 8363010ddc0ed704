import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Two database roles (docs/deploy.md, "Database roles"), both NOLOGIN groups that logins join:
 *
 * - portal_migrator owns the schema: every table, sequence, type and function in `public`.
 *   Migrations run as it (the migration runner does SET ROLE portal_migrator).
 * - portal_app has DML only: SELECT, INSERT, UPDATE, DELETE on every table, except audit_log
 *   (INSERT and SELECT: the audit trail is append-only) and the migrations table (SELECT).
 *   Tables that later migrations create get the same grants from the default privileges.
 *
 * Runs as a superuser (local, tests) or the RDS master user (npm run db:bootstrap): creating
 * roles and handing over objects the current user owns need that. Objects owned by anyone else
 * stop the migration with an error naming them, rather than leaving the app without grants.
 * The roles are created only when missing (they belong to the cluster, so another database may
 * have made them), and down() leaves them in place for the same reason.
 */
export class DatabaseRoles1796171208386 implements MigrationInterface {
  name = 'DatabaseRoles1796171208386';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            DO $$
            DECLARE
                role_name text;
            BEGIN
                FOREACH role_name IN ARRAY ARRAY['portal_migrator', 'portal_app'] LOOP
                    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = role_name) THEN
                        BEGIN
                            EXECUTE format('CREATE ROLE %I NOLOGIN', role_name);
                        EXCEPTION WHEN duplicate_object OR unique_violation THEN
                            NULL; -- created at the same moment from another database
                        END;
                    END IF;
                END LOOP;
                -- Handing objects to the migrator and setting its default privileges need the
                -- right to SET ROLE to it (a superuser has it implicitly; the RDS master user
                -- created the role, so it may grant it to itself). From PostgreSQL 16 on, the
                -- creator holds the role WITH ADMIN only, without SET: MEMBER is not enough.
                IF current_setting('server_version_num')::int >= 160000 THEN
                    IF NOT pg_has_role(current_user, 'portal_migrator', 'SET') THEN
                        EXECUTE format(
                            'GRANT portal_migrator TO %I WITH INHERIT TRUE, SET TRUE',
                            current_user
                        );
                    END IF;
                ELSIF NOT pg_has_role(current_user, 'portal_migrator', 'MEMBER') THEN
                    EXECUTE format('GRANT portal_migrator TO %I', current_user);
                END IF;
            END
            $$
        `);
    await queryRunner.query(`
            DO $$
            BEGIN
                EXECUTE format(
                    'GRANT CONNECT ON DATABASE %I TO portal_migrator, portal_app',
                    current_database()
                );
            END
            $$
        `);
    // Only the migrator creates objects (PostgreSQL before 15 let every role create in public).
    await queryRunner.query(`REVOKE CREATE ON SCHEMA public FROM PUBLIC`);
    await queryRunner.query(`GRANT USAGE, CREATE ON SCHEMA public TO portal_migrator`);
    await queryRunner.query(`GRANT USAGE ON SCHEMA public TO portal_app`);
    await this.changeOwner(queryRunner, 'portal_migrator');
    await queryRunner.query(`
            GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO portal_app
        `);
    await queryRunner.query(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO portal_app`);
    await queryRunner.query(`REVOKE UPDATE, DELETE, TRUNCATE ON "audit_log" FROM portal_app`);
    await queryRunner.query(
      `REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON "migrations" FROM portal_app`,
    );
    await queryRunner.query(`
            ALTER DEFAULT PRIVILEGES FOR ROLE portal_migrator IN SCHEMA public
            GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO portal_app
        `);
    await queryRunner.query(`
            ALTER DEFAULT PRIVILEGES FOR ROLE portal_migrator IN SCHEMA public
            GRANT USAGE, SELECT ON SEQUENCES TO portal_app
        `);
    // The migrations after this one in the same run create their objects as the migrator.
    // (SET, not SET LOCAL: it outlives this migration's transaction on the runner's connection;
    // the runner resets it at the end.)
    await queryRunner.query(`SET ROLE portal_migrator`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`RESET ROLE`);
    await queryRunner.query(`
            ALTER DEFAULT PRIVILEGES FOR ROLE portal_migrator IN SCHEMA public
            REVOKE USAGE, SELECT ON SEQUENCES FROM portal_app
        `);
    await queryRunner.query(`
            ALTER DEFAULT PRIVILEGES FOR ROLE portal_migrator IN SCHEMA public
            REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM portal_app
        `);
    await queryRunner.query(`REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM portal_app`);
    await queryRunner.query(`REVOKE ALL ON ALL TABLES IN SCHEMA public FROM portal_app`);
    // Back to the user undoing the migration (it owned them before, or is the master user).
    await this.changeOwner(queryRunner, 'session_user');
    await queryRunner.query(`REVOKE USAGE ON SCHEMA public FROM portal_app`);
    await queryRunner.query(`REVOKE USAGE, CREATE ON SCHEMA public FROM portal_migrator`);
    await queryRunner.query(`
            DO $$
            BEGIN
                EXECUTE format(
                    'REVOKE CONNECT ON DATABASE %I FROM portal_migrator, portal_app',
                    current_database()
                );
            END
            $$
        `);
    // Not restored: CREATE on public for PUBLIC (a hardening that older servers lacked), and the
    // roles themselves (they belong to the cluster: DROP ROLE by hand once no database uses them).
  }

  /**
   * ALTER ... OWNER TO for every table, view, sequence (not owned by a column), enum, domain
   * and function of schema public that is not already the target's and not part of an extension.
   * `target` is a role name, or `session_user`.
   */
  private async changeOwner(queryRunner: QueryRunner, target: string): Promise<void> {
    const to = target === 'session_user' ? 'session_user' : `'${target}'`;
    await queryRunner.query(`
            DO $$
            DECLARE
                new_owner name := ${to};
                new_owner_id oid := (SELECT oid FROM pg_roles WHERE rolname = new_owner);
                item record;
            BEGIN
                FOR item IN
                    SELECT format('ALTER %s %s OWNER TO %I',
                               CASE c.relkind
                                   WHEN 'v' THEN 'VIEW'
                                   WHEN 'm' THEN 'MATERIALIZED VIEW'
                                   WHEN 'S' THEN 'SEQUENCE'
                                   WHEN 'f' THEN 'FOREIGN TABLE'
                                   ELSE 'TABLE'
                               END,
                               c.oid::regclass, new_owner) AS statement,
                           c.oid::regclass::text AS object
                    FROM pg_class c
                    WHERE c.relnamespace = 'public'::regnamespace
                      AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
                      AND c.relowner <> new_owner_id
                      AND NOT EXISTS (
                          SELECT FROM pg_depend d
                          WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                            AND d.deptype IN ('a', 'i', 'e'))
                    UNION ALL
                    SELECT format('ALTER %s %s OWNER TO %I',
                               CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END,
                               t.oid::regtype, new_owner),
                           t.oid::regtype::text
                    FROM pg_type t
                    WHERE t.typnamespace = 'public'::regnamespace
                      AND t.typtype IN ('e', 'd')
                      AND t.typowner <> new_owner_id
                      AND NOT EXISTS (
                          SELECT FROM pg_depend d
                          WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid
                            AND d.deptype = 'e')
                    UNION ALL
                    SELECT format('ALTER ROUTINE %s OWNER TO %I', p.oid::regprocedure, new_owner),
                           p.oid::regprocedure::text
                    FROM pg_proc p
                    WHERE p.pronamespace = 'public'::regnamespace
                      AND p.proowner <> new_owner_id
                      AND NOT EXISTS (
                          SELECT FROM pg_depend d
                          WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                            AND d.deptype = 'e')
                LOOP
                    BEGIN
                        EXECUTE item.statement;
                    EXCEPTION WHEN insufficient_privilege THEN
                        RAISE EXCEPTION 'cannot give % to %: %', item.object, new_owner, SQLERRM
                            USING HINT = 'Run the migrations as the owner of every object in '
                                || 'schema public, or as the RDS master user (npm run db:bootstrap).';
                    END;
                END LOOP;
            END
            $$
        `);
  }
}
