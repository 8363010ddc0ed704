import { MigrationInterface, QueryRunner } from 'typeorm';

export class WarningsAndBookingRequests1795449587010 implements MigrationInterface {
  name = 'WarningsAndBookingRequests1795449587010';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            CREATE TYPE "public"."booking_request_status" AS ENUM('pending', 'accepted', 'rejected')
        `);
    await queryRunner.query(`
            CREATE TABLE "booking_requests" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "event_time" TIMESTAMP WITH TIME ZONE NOT NULL,
                "duration_minutes" smallint NOT NULL,
                "topic" character varying(200) NOT NULL,
                "address_street" character varying(200) NOT NULL,
                "address_city" character varying(100) NOT NULL,
                "address_state" character varying(100),
                "address_country" character varying(100) NOT NULL,
                "requested_by" uuid NOT NULL,
                "requester_email" character varying(320) NOT NULL,
                "status" "public"."booking_request_status" NOT NULL DEFAULT 'pending',
                "reason" character varying(1000),
                "decided_by" uuid,
                "decided_at" TIMESTAMP WITH TIME ZONE,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "booking_requests_decision" CHECK (("status" = 'pending') = ("decided_at" IS NULL)),
                CONSTRAINT "booking_requests_duration_range" CHECK (
                    "duration_minutes" BETWEEN 1 AND 1440
                ),
                CONSTRAINT "PK_62c29ee249979fe0bcdcde33dae" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE INDEX "booking_requests_status_event_time_idx" ON "booking_requests" ("status", "event_time")
        `);
    await queryRunner.query(`
            CREATE INDEX "booking_requests_requested_by_created_at_idx" ON "booking_requests" ("requested_by", "created_at")
        `);
    await queryRunner.query(`
            CREATE TABLE "warnings" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "title" character varying(200) NOT NULL,
                "description" character varying(5000) NOT NULL,
                "target_role" "public"."user_role" NOT NULL DEFAULT 'PRESIDENT',
                "target_org" "public"."user_organization",
                "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "created_by" uuid,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "PK_90d86ac75b7dcd1e29e9755e78e" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE INDEX "warnings_expires_at_idx" ON "warnings" ("expires_at")
        `);
    await queryRunner.query(`
            CREATE INDEX "warnings_visibility_idx" ON "warnings" ("target_role", "target_org", "expires_at")
        `);
    await queryRunner.query(`
            ALTER TABLE "booking_requests"
            ADD CONSTRAINT "booking_requests_requested_by_fkey" FOREIGN KEY ("requested_by") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    await queryRunner.query(`
            ALTER TABLE "booking_requests"
            ADD CONSTRAINT "booking_requests_decided_by_fkey" FOREIGN KEY ("decided_by") REFERENCES "users"("id") ON DELETE
            SET NULL ON UPDATE NO ACTION
        `);
    await queryRunner.query(`
            ALTER TABLE "warnings"
            ADD CONSTRAINT "warnings_created_by_fkey" FOREIGN KEY ("created_by") REFERENCES "users"("id") ON DELETE
            SET NULL ON UPDATE NO ACTION
        `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            ALTER TABLE "warnings" DROP CONSTRAINT "warnings_created_by_fkey"
        `);
    await queryRunner.query(`
            ALTER TABLE "booking_requests" DROP CONSTRAINT "booking_requests_decided_by_fkey"
        `);
    await queryRunner.query(`
            ALTER TABLE "booking_requests" DROP CONSTRAINT "booking_requests_requested_by_fkey"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."warnings_visibility_idx"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."warnings_expires_at_idx"
        `);
    await queryRunner.query(`
            DROP TABLE "warnings"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."booking_requests_requested_by_created_at_idx"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."booking_requests_status_event_time_idx"
        `);
    await queryRunner.query(`
            DROP TABLE "booking_requests"
        `);
    await queryRunner.query(`
            DROP TYPE "public"."booking_request_status"
        `);
  }
}
