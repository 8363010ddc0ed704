import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { ListOrder } from '../common/pagination/cursor';
import { fetchPage, KeysetQuery, Page } from '../common/pagination/keyset';
import { raw, Sql, sql } from '../common/pagination/sql';
import { AuditLogQueryDto } from './dto/audit-log-query.dto';
import { AuditLogEntry } from './entities/audit-log.entity';

/** Newest first; the cursor holds created_at (to the microsecond) and id. */
const AUDIT_ORDER: ListOrder = {
  list: 'audit-log',
  keys: [
    { expr: 'created_at', type: 'timestamptz' },
    { expr: 'id', type: 'uuid' },
  ],
  direction: 'DESC',
};

const AUDIT_COLUMNS =
  'id, actor_id, actor_email, action, target_type, target_id, before, after, created_at';

interface AuditRow extends Record<string, unknown> {
  id: string;
  actor_id: string | null;
  actor_email: string | null;
  action: string;
  target_type: string;
  target_id: string | null;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  created_at: Date;
}

function toEntry(row: AuditRow): AuditLogEntry {
  return Object.assign(new AuditLogEntry(), {
    id: row.id,
    actorId: row.actor_id,
    actorEmail: row.actor_email,
    action: row.action,
    targetType: row.target_type,
    targetId: row.target_id,
    before: row.before,
    after: row.after,
    createdAt: row.created_at,
  });
}

/** Reads the audit log (AuditService writes it). ADM only (the controller checks the role). */
@Injectable()
export class AuditLogService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Newest first (created_at DESC, id DESC), in keyset pages; each filter is an exact match. */
  async list(query: AuditLogQueryDto): Promise<Page<AuditLogEntry>> {
    const page = await fetchPage<AuditRow>(this.dataSource, this.listQuery(query), query);
    return { ...page, items: page.items.map(toEntry) };
  }

  /**
   * GET /audit-log as one keyset query: audit_log_created_at_idx (created_at, id), or the
   * (actor_id | action | target_type, created_at, id) index of the filter given.
   */
  listQuery(query: AuditLogQueryDto): KeysetQuery {
    const conditions: Sql[] = [];
    if (query.actor_id !== undefined) conditions.push(sql`actor_id = ${query.actor_id}`);
    if (query.action !== undefined) conditions.push(sql`action = ${query.action}`);
    if (query.target_type !== undefined) {
      conditions.push(sql`target_type = ${query.target_type}`);
    }
    return {
      order: AUDIT_ORDER,
      select: raw(AUDIT_COLUMNS),
      from: raw('audit_log'),
      branches: [conditions],
      context: {
        actor_id: query.actor_id,
        action: query.action,
        target_type: query.target_type,
      },
    };
  }
}
