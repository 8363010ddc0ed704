import type { PoolClient } from 'pg';
import type { DataSource, EntityManager } from 'typeorm';

/**
 * First key of the two-key advisory lock that keeps one import per user at a time, across
 * replicas (two-key locks live apart from the one-key ones of migrations and the last-ADM
 * check); the second key is hashtext(user id).
 */
export const IMPORT_LOCK_NAMESPACE = 73_462_219;

/** The connection that holds a user's import lock; the import's batches run on it too. */
export interface ImportSession {
  manager: EntityManager;
  /** Unlocks and gives the connection back; never throws. */
  release(): Promise<void>;
}

/**
 * Takes the user's import lock on a dedicated pooled connection, or answers null when another
 * import of the same user holds it (in this process or another replica). Session-level lock:
 * it outlives each batch's transaction and dies with the connection if the process does.
 */
export async function tryLockImport(
  dataSource: DataSource,
  userId: string,
): Promise<ImportSession | null> {
  const runner = dataSource.createQueryRunner();
  const client = (await runner.connect()) as PoolClient;
  let locked = false;
  try {
    const rows = (await runner.query(
      'SELECT pg_try_advisory_lock($1::int, hashtext($2)) AS locked',
      [IMPORT_LOCK_NAMESPACE, userId],
    )) as Array<{ locked: boolean }>;
    locked = rows[0]?.locked === true;
  } finally {
    if (!locked) await runner.release();
  }
  if (!locked) return null;
  return {
    manager: runner.manager,
    release: async () => {
      try {
        await runner.query('SELECT pg_advisory_unlock($1::int, hashtext($2))', [
          IMPORT_LOCK_NAMESPACE,
          userId,
        ]);
      } catch {
        // The lock must not go back to the pool with the connection: end the session (which
        // frees the lock server-side); the pool drops an ending client instead of reusing it.
        void client.end().catch(() => undefined);
      } finally {
        await runner.release();
      }
    },
  };
}
