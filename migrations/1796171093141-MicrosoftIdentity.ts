import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The Microsoft identity becomes the pair (tenant id, object id) of a validated OpenID Connect
 * ID token: users.microsoft_tid + users.microsoft_oid, unique together, both set or both null.
 * It replaces users.microsoft_id.
 *
 * Existing microsoft_id values are NOT carried over, on purpose:
 * - they were written by the Graph /me sign-in, which found the account by Graph's `mail`
 *   (a field any tenant admin can set to any address) and silently re-linked it, so no
 *   stored link can be trusted to belong to the account's owner (the "nOAuth" takeover);
 * - they hold no tenant id, and an object id alone is not an identity.
 * Each dropped link is written to audit_log (`user.microsoft_unlink`, with the old id in
 * `before`), so nothing is lost. Those people sign in again with Microsoft: their account has
 * no identity any more, so it is linked on that first sign-in when its email's domain is in
 * ALLOWED_EMAIL_DOMAINS (audited as `user.microsoft_link`); otherwise the sign-in answers
 * 409 and an administrator decides.
 *
 * down() restores microsoft_id from microsoft_oid (the same kind of value) where that object id
 * is not shared by two tenants' users; the tenant ids are lost on the way down.
 */
export class MicrosoftIdentity1796171093141 implements MigrationInterface {
  name = 'MicrosoftIdentity1796171093141';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            INSERT INTO "audit_log" ("actor_id", "actor_email", "action", "target_type", "target_id", "before", "after")
            SELECT NULL, NULL, 'user.microsoft_unlink', 'user', "id",
                   jsonb_build_object('microsoft_id', "microsoft_id",
                                      'reason', 'Graph sign-in link dropped by the OpenID Connect migration'),
                   NULL
            FROM "users"
            WHERE "microsoft_id" IS NOT NULL
        `);
    await queryRunner.query(`
            DROP INDEX "public"."users_microsoft_id_key"
        `);
    await queryRunner.query(`
            ALTER TABLE "users" DROP COLUMN "microsoft_id"
        `);
    await queryRunner.query(`
            ALTER TABLE "users"
            ADD "microsoft_tid" character varying(36)
        `);
    await queryRunner.query(`
            ALTER TABLE "users"
            ADD "microsoft_oid" character varying(36)
        `);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "users_microsoft_identity_key" ON "users" ("microsoft_tid", "microsoft_oid")
        `);
    await queryRunner.query(`
            ALTER TABLE "users"
            ADD CONSTRAINT "users_microsoft_identity_pair" CHECK (
                    ("microsoft_tid" IS NULL) = ("microsoft_oid" IS NULL)
                )
        `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            ALTER TABLE "users"
            ADD "microsoft_id" character varying(64)
        `);
    await queryRunner.query(`
            UPDATE "users" SET "microsoft_id" = "microsoft_oid"
            WHERE "microsoft_oid" IN (
                SELECT "microsoft_oid" FROM "users" WHERE "microsoft_oid" IS NOT NULL
                GROUP BY "microsoft_oid" HAVING count(*) = 1
            )
        `);
    await queryRunner.query(`
            ALTER TABLE "users" DROP CONSTRAINT "users_microsoft_identity_pair"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."users_microsoft_identity_key"
        `);
    await queryRunner.query(`
            ALTER TABLE "users" DROP COLUMN "microsoft_oid"
        `);
    await queryRunner.query(`
            ALTER TABLE "users" DROP COLUMN "microsoft_tid"
        `);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "users_microsoft_id_key" ON "users" ("microsoft_id")
            WHERE "microsoft_id" IS NOT NULL
        `);
  }
}
