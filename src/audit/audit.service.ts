import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AuditLogEntry } from './entities/audit-log.entity';

export interface AuditActor {
  id: string;
  email: string;
}

export interface AuditRecord {
  /** Only id and email are stored; an AuthUser can be passed as it is. */
  actor: AuditActor | null;
  action: string;
  targetType: string;
  targetId: string | null;
  before?: object | null;
  after?: object | null;
}

/** Writes audit rows; pass the transaction's manager so the row commits with the change. */
@Injectable()
export class AuditService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async record(
    entry: AuditRecord,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<void> {
    const row = manager.create(AuditLogEntry, {
      actorId: entry.actor?.id ?? null,
      actorEmail: entry.actor?.email ?? null,
      action: entry.action,
      targetType: entry.targetType,
      targetId: entry.targetId,
      before: (entry.before ?? null) as Record<string, unknown> | null,
      after: (entry.after ?? null) as Record<string, unknown> | null,
    });
    await manager.save(AuditLogEntry, row, { reload: false });
  }
}
