import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Clock } from '../common/clock';
import { Organization, Role } from '../users/user.enums';
import { announcePurgedWarnings, returning } from './stream/warning-events';

/** Any fixed 64-bit number, the same in every process that purges (not the migration key). */
export const WARNINGS_PURGE_LOCK_KEY = 7_346_221_902;

export interface PurgeResult {
  /** False when another process held the purge lock: this run did nothing. */
  ran: boolean;
  deleted: number;
}

/**
 * Deletes expired warnings. Every replica runs the schedule, so the delete happens under a
 * transaction-scoped advisory lock: whoever takes it purges, the others skip this tick. The
 * rows are locked by the delete before the events lock is taken, the order every writer of
 * warning_events keeps (no deadlock with a PATCH or DELETE).
 */
@Injectable()
export class WarningsPurgeService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {}

  async purge(): Promise<PurgeResult> {
    return this.dataSource.transaction(async (manager) => {
      const rows: Array<{ locked: boolean }> = await manager.query(
        'SELECT pg_try_advisory_xact_lock($1) AS locked',
        [WARNINGS_PURGE_LOCK_KEY],
      );
      if (!rows[0]?.locked) return { ran: false, deleted: 0 };
      const now = this.clock.now();
      const deleted = await returning<{
        id: string;
        target_role: Role;
        target_org: Organization | null;
        expires_at: Date;
      }>(
        manager,
        `DELETE FROM warnings WHERE expires_at <= $1
         RETURNING id, target_role, target_org, expires_at`,
        [now],
      );
      // Expiries no replica has announced yet get their event before the rows are gone.
      await announcePurgedWarnings(manager, deleted);
      return { ran: true, deleted: deleted.length };
    });
  }
}
