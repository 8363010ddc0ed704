/** Anything that runs a statement: a DataSource, an EntityManager, a QueryRunner. */
interface Queryable {
  query(sql: string, parameters?: unknown[]): Promise<unknown>;
}

/**
 * Ends every live session of a user, so its refresh tokens and access tokens stop working at
 * once: a role change, a deactivation, a password set by someone else or by the rotation CLI.
 * One statement; pass the transaction's manager so it commits with the change that caused it.
 */
export async function revokeUserSessions(db: Queryable, userId: string): Promise<void> {
  await db.query(
    'UPDATE sessions SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL',
    [userId],
  );
}
