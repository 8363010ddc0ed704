import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Clock } from '../common/clock';
import { Warning } from './entities/warning.entity';

/** Any fixed 64-bit number, the same in every process that purges (not the migration key). */
export const WARNINGS_PURGE_LOCK_KEY = 7_346_221_902;

export interface PurgeResult {
  /** False when another process held the purge lock: this run did nothing. */
  ran: boolean;
  deleted: number;
}

/**
 * Deletes expired warnings. Every replica runs the schedule, so the delete happens under a
 * transaction-scoped advisory lock: whoever takes it purges, the others skip this tick.
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
      const result = await manager
        .createQueryBuilder()
        .delete()
        .from(Warning)
        .where('expires_at <= :now', { now: this.clock.now() })
        .execute();
      return { ran: true, deleted: result.affected ?? 0 };
    });
  }
}
