import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Hand-written (an expression index; entity: synchronize false). Serves the XLSX export's
 * worksheets and `?organization=`: one organization's users in list order (lower(name), id),
 * read in keyset pages without a sort. Its leading column also serves what
 * users_organization_idx does.
 */
export class UsersOrganizationNameIndex1796171000000 implements MigrationInterface {
  name = 'UsersOrganizationNameIndex1796171000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            CREATE INDEX "users_organization_name_idx" ON "users" ("organization", lower("name"), "id")
        `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            DROP INDEX "public"."users_organization_name_idx"
        `);
  }
}
