import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Clock } from '../common/clock';
import { AppConfig } from '../config/app-config';

/** Any fixed 64-bit number, the same in every process (not the migration or warnings keys). */
export const SESSIONS_PURGE_LOCK_KEY = 7_346_221_903;
/** Sessions deleted per statement (with their refresh tokens): short locks, no timeouts. */
export const SESSIONS_PURGE_BATCH = 1_000;
/** At most this many batches per run; the next tick goes on. */
const MAX_BATCHES = 100;

export interface SessionsPurgeResult {
  /** False when another process held the purge lock: this run did nothing. */
  ran: boolean;
  deleted: number;
}

/**
 * Deletes ended sessions: revoked, past their absolute end, or idle for REFRESH_IDLE_TTL. Their
 * refresh tokens go with them (ON DELETE CASCADE). Every replica runs the schedule; a
 * session-level advisory lock on one connection lets one of them purge per tick, in batches so
 * a large backlog never holds long locks or hits the statement timeout.
 */
@Injectable()
export class SessionsPurgeService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly config: AppConfig,
  ) {}

  async purge(): Promise<SessionsPurgeResult> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      const rows = (await runner.query('SELECT pg_try_advisory_lock($1) AS locked', [
        SESSIONS_PURGE_LOCK_KEY,
      ])) as Array<{ locked: boolean }>;
      if (!rows[0]?.locked) return { ran: false, deleted: 0 };
      try {
        const now = this.clock.now();
        const idleCutoff = new Date(now.getTime() - this.config.refreshIdleSeconds * 1000);
        let deleted = 0;
        for (let i = 0; i < MAX_BATCHES; i++) {
          const batch = (await runner.query(
            `WITH gone AS (
               DELETE FROM sessions WHERE id IN (
                 SELECT id FROM sessions
                 WHERE revoked_at IS NOT NULL OR expires_at <= $1 OR last_used_at <= $2
                 LIMIT $3
               )
               RETURNING id
             )
             SELECT count(*)::int AS n FROM gone`,
            [now, idleCutoff, SESSIONS_PURGE_BATCH],
          )) as Array<{ n: number }>;
          const n = batch[0]?.n ?? 0;
          deleted += n;
          if (n < SESSIONS_PURGE_BATCH) break;
        }
        return { ran: true, deleted };
      } finally {
        await runner.query('SELECT pg_advisory_unlock($1)', [SESSIONS_PURGE_LOCK_KEY]);
      }
    } finally {
      await runner.release();
    }
  }
}
