import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A stream ticket belongs to the session of the access token that asked for it, so ending the
 * session (logout, revocation) voids its unredeemed tickets and the stream it would open.
 * Tickets live 30 s: the unredeemed ones of the moment are dropped rather than guessed at.
 */
export class StreamTicketSessions1796180000000 implements MigrationInterface {
  name = 'StreamTicketSessions1796180000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DELETE FROM "stream_tickets"`);
    await queryRunner.query(`ALTER TABLE "stream_tickets" ADD "session_id" uuid NOT NULL`);
    await queryRunner.query(
      `CREATE INDEX "stream_tickets_session_id_idx" ON "stream_tickets" ("session_id")`,
    );
    await queryRunner.query(`
            ALTER TABLE "stream_tickets"
            ADD CONSTRAINT "stream_tickets_session_id_fkey" FOREIGN KEY ("session_id") REFERENCES "sessions"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "stream_tickets" DROP CONSTRAINT "stream_tickets_session_id_fkey"`,
    );
    await queryRunner.query(`DROP INDEX "public"."stream_tickets_session_id_idx"`);
    await queryRunner.query(`ALTER TABLE "stream_tickets" DROP COLUMN "session_id"`);
  }
}
