import { MigrationInterface, QueryRunner } from 'typeorm';

export class ListOrderIndexes1795450857994 implements MigrationInterface {
  name = 'ListOrderIndexes1795450857994';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            CREATE INDEX "booking_requests_created_at_idx" ON "booking_requests" ("created_at", "id")
        `);
    await queryRunner.query(`
            CREATE INDEX "warnings_created_at_idx" ON "warnings" ("created_at", "id")
        `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            DROP INDEX "public"."warnings_created_at_idx"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."booking_requests_created_at_idx"
        `);
  }
}
