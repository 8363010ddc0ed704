import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * GET /warnings/stream (issue #17): warning_events (every change to a warning, written in the
 * change's transaction; its id is the stream position Last-Event-ID resumes from),
 * warning_stream_state (one row: how far expiries are announced, what the retention purge
 * removed) and stream_tickets (single-use EventSource tickets, stored hashed). Generated from
 * the entities, plus the state row.
 */
export class WarningStream1796176417820 implements MigrationInterface {
  name = 'WarningStream1796176417820';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            CREATE TABLE "stream_tickets" (
                "ticket_hash" bytea NOT NULL,
                "user_id" uuid NOT NULL,
                "token_version" integer NOT NULL,
                "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "PK_bed1d860ad2b9d65d96c21bb8c4" PRIMARY KEY ("ticket_hash")
            )
        `);
    await queryRunner.query(`
            CREATE INDEX "stream_tickets_user_id_idx" ON "stream_tickets" ("user_id")
        `);
    await queryRunner.query(`
            CREATE INDEX "stream_tickets_expires_at_idx" ON "stream_tickets" ("expires_at")
        `);
    await queryRunner.query(`
            CREATE TABLE "warning_events" (
                "id" bigint GENERATED ALWAYS AS IDENTITY NOT NULL,
                "warning_id" uuid NOT NULL,
                "kind" character varying(16) NOT NULL,
                "target_role" "public"."user_role" NOT NULL,
                "target_org" "public"."user_organization",
                "previous_role" "public"."user_role",
                "previous_org" "public"."user_organization",
                "payload" jsonb,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "PK_db25e38bc7e34ca783298ccef44" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE INDEX "warning_events_created_at_idx" ON "warning_events" ("created_at")
        `);
    await queryRunner.query(`
            CREATE TABLE "warning_stream_state" (
                "id" smallint NOT NULL,
                "expiry_swept_until" TIMESTAMP WITH TIME ZONE NOT NULL,
                "purged_through" jsonb NOT NULL DEFAULT '{}',
                CONSTRAINT "warning_stream_state_single_row" CHECK ("id" = 1),
                CONSTRAINT "PK_439d3c20959bebac2ae486ab1d2" PRIMARY KEY ("id")
            )
        `);
    // Expiries before this migration had no listeners: announce from now on.
    await queryRunner.query(`
            INSERT INTO "warning_stream_state" ("id", "expiry_swept_until") VALUES (1, now())
        `);
    await queryRunner.query(`
            ALTER TABLE "stream_tickets"
            ADD CONSTRAINT "stream_tickets_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            ALTER TABLE "stream_tickets" DROP CONSTRAINT "stream_tickets_user_id_fkey"
        `);
    await queryRunner.query(`
            DROP TABLE "warning_stream_state"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."warning_events_created_at_idx"
        `);
    await queryRunner.query(`
            DROP TABLE "warning_events"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."stream_tickets_expires_at_idx"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."stream_tickets_user_id_idx"
        `);
    await queryRunner.query(`
            DROP TABLE "stream_tickets"
        `);
  }
}
