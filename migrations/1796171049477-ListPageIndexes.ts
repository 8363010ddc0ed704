import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Keyset pages on every list (issue #13): one index per list order and main filter, with the
 * order's columns (and id, the tie-breaker) last, so a page is an ordered index scan that reads
 * about `limit` rows. test/list-plans.e2e-spec.ts checks the plans. Generated from the
 * entities, plus the users' expression indexes (lower(name), the digits of ra) by hand.
 */
export class ListPageIndexes1796171049477 implements MigrationInterface {
  name = 'ListPageIndexes1796171049477';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            DROP INDEX "public"."audit_log_created_at_idx"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."users_role_idx"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."users_organization_idx"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."booking_requests_requested_by_created_at_idx"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."warnings_visibility_idx"
        `);
    await queryRunner.query(`
            CREATE INDEX "audit_log_target_type_idx" ON "audit_log" ("target_type", "created_at", "id")
        `);
    await queryRunner.query(`
            CREATE INDEX "audit_log_action_idx" ON "audit_log" ("action", "created_at", "id")
        `);
    await queryRunner.query(`
            CREATE INDEX "audit_log_actor_idx" ON "audit_log" ("actor_id", "created_at", "id")
        `);
    await queryRunner.query(`
            CREATE INDEX "audit_log_created_at_idx" ON "audit_log" ("created_at", "id")
        `);
    await queryRunner.query(`
            CREATE INDEX "booking_requests_status_created_at_idx" ON "booking_requests" ("status", "created_at", "id")
        `);
    await queryRunner.query(`
            CREATE INDEX "booking_requests_requested_by_idx" ON "booking_requests" ("requested_by", "status", "created_at", "id")
        `);
    await queryRunner.query(`
            CREATE INDEX "warnings_org_created_at_idx" ON "warnings" ("target_org", "created_at", "id")
        `);
    await queryRunner.query(`
            CREATE INDEX "warnings_role_created_at_idx" ON "warnings" ("target_role", "created_at", "id")
        `);
    await queryRunner.query(`
            CREATE INDEX "warnings_audience_idx" ON "warnings" ("target_role", "target_org", "created_at", "id")
        `);
    await queryRunner.query(`
            CREATE INDEX "warnings_audience_no_org_idx" ON "warnings" ("target_role", "created_at", "id")
            WHERE "target_org" IS NULL
        `);
    await queryRunner.query(`
            CREATE INDEX "users_role_name_idx" ON "users" ("role", lower("name"), "id")
        `);
    await queryRunner.query(`
            CREATE INDEX "users_organization_name_idx" ON "users" ("organization", lower("name"), "id")
        `);
    await queryRunner.query(`
            CREATE INDEX "users_state_name_idx" ON "users" ("state", lower("name"), "id")
        `);
    await queryRunner.query(`
            CREATE INDEX "users_ra_digits_idx" ON "users" (regexp_replace("ra", '[^0-9]', '', 'g'))
        `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            DROP INDEX "public"."warnings_audience_no_org_idx"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."users_ra_digits_idx"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."users_state_name_idx"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."users_organization_name_idx"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."users_role_name_idx"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."warnings_audience_idx"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."warnings_role_created_at_idx"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."warnings_org_created_at_idx"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."booking_requests_requested_by_idx"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."booking_requests_status_created_at_idx"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."audit_log_created_at_idx"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."audit_log_actor_idx"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."audit_log_action_idx"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."audit_log_target_type_idx"
        `);
    await queryRunner.query(`
            CREATE INDEX "warnings_visibility_idx" ON "warnings" USING btree ("target_role", "target_org", "expires_at")
        `);
    await queryRunner.query(`
            CREATE INDEX "booking_requests_requested_by_created_at_idx" ON "booking_requests" USING btree ("requested_by", "created_at")
        `);
    await queryRunner.query(`
            CREATE INDEX "users_organization_idx" ON "users" USING btree ("organization")
        `);
    await queryRunner.query(`
            CREATE INDEX "users_role_idx" ON "users" USING btree ("role")
        `);
    await queryRunner.query(`
            CREATE INDEX "audit_log_created_at_idx" ON "audit_log" USING btree ("created_at")
        `);
  }
}
