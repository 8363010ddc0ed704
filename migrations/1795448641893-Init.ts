import { MigrationInterface, QueryRunner } from 'typeorm';

export class Init1795448641893 implements MigrationInterface {
  name = 'Init1795448641893';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            CREATE TABLE "audit_log" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "actor_id" uuid,
                "actor_email" character varying(320),
                "action" character varying(64) NOT NULL,
                "target_type" character varying(32) NOT NULL,
                "target_id" uuid,
                "before" jsonb,
                "after" jsonb,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "PK_07fefa57f7f5ab8fc3f52b3ed0b" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE INDEX "audit_log_created_at_idx" ON "audit_log" ("created_at")
        `);
    await queryRunner.query(`
            CREATE INDEX "audit_log_target_idx" ON "audit_log" ("target_type", "target_id")
        `);
    await queryRunner.query(`
            CREATE TYPE "public"."user_role" AS ENUM('ADM', 'PRESIDENT', 'USER')
        `);
    await queryRunner.query(`
            CREATE TYPE "public"."user_organization" AS ENUM(
                'DEV',
                'ESPORTS',
                'METAVERSO',
                'GUARDIAN',
                'NAWAT',
                'ALL'
            )
        `);
    await queryRunner.query(`
            CREATE TYPE "public"."user_course" AS ENUM(
                'ECM',
                'ECA',
                'CIC',
                'EMC',
                'ADM',
                'EET',
                'EEN',
                'EQM',
                'SIN',
                'DSG',
                'ETC',
                'EAL',
                'EPM',
                'IAD',
                'ARQ',
                'RI'
            )
        `);
    await queryRunner.query(`
            CREATE TYPE "public"."user_state" AS ENUM('APPROVED', 'PENDING', 'REJECTED')
        `);
    await queryRunner.query(`
            CREATE TYPE "public"."user_active" AS ENUM('ACTIVE', 'DISCONNECTED', 'FREEZED')
        `);
    await queryRunner.query(`
            CREATE TABLE "users" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "name" character varying(200) NOT NULL,
                "email" character varying(320) NOT NULL,
                "ra" character varying(12),
                "role" "public"."user_role" NOT NULL,
                "organization" "public"."user_organization",
                "course" "public"."user_course",
                "year" smallint,
                "state" "public"."user_state" NOT NULL DEFAULT 'PENDING',
                "active" "public"."user_active" NOT NULL DEFAULT 'ACTIVE',
                "password_hash" character varying(100),
                "failed_login_count" integer NOT NULL DEFAULT '0',
                "locked_until" TIMESTAMP WITH TIME ZONE,
                "last_login_at" TIMESTAMP WITH TIME ZONE,
                "token_version" integer NOT NULL DEFAULT '0',
                "microsoft_id" character varying(64),
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "users_name_length" CHECK (char_length("name") >= 2),
                CONSTRAINT "users_year_range" CHECK (
                    "year" IS NULL
                    OR (
                        "year" >= 0
                        AND "year" <= 5
                    )
                ),
                CONSTRAINT "users_email_lower_case" CHECK ("email" = lower("email")),
                CONSTRAINT "PK_a3ffb1c0c8416b9fc6f907b7433" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "users_email_key" ON "users" ("email")
        `);
    await queryRunner.query(`
            CREATE INDEX "users_role_idx" ON "users" ("role")
        `);
    await queryRunner.query(`
            CREATE INDEX "users_organization_idx" ON "users" ("organization")
        `);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "users_microsoft_id_key" ON "users" ("microsoft_id")
            WHERE "microsoft_id" IS NOT NULL
        `);
    // Hand-written: the users list is sorted by name case-insensitively (entity: synchronize false).
    await queryRunner.query(`
            CREATE INDEX "users_name_lower_idx" ON "users" (lower("name"), "id")
        `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            DROP INDEX "public"."users_name_lower_idx"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."users_microsoft_id_key"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."users_organization_idx"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."users_role_idx"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."users_email_key"
        `);
    await queryRunner.query(`
            DROP TABLE "users"
        `);
    await queryRunner.query(`
            DROP TYPE "public"."user_active"
        `);
    await queryRunner.query(`
            DROP TYPE "public"."user_state"
        `);
    await queryRunner.query(`
            DROP TYPE "public"."user_course"
        `);
    await queryRunner.query(`
            DROP TYPE "public"."user_organization"
        `);
    await queryRunner.query(`
            DROP TYPE "public"."user_role"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."audit_log_target_idx"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."audit_log_created_at_idx"
        `);
    await queryRunner.query(`
            DROP TABLE "audit_log"
        `);
  }
}
