import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { Page } from '../common/dto/page.dto';
import { AuditLogQueryDto } from './dto/audit-log-query.dto';
import { AuditLogEntry } from './entities/audit-log.entity';

/** Reads the audit log (AuditService writes it). */
@Injectable()
export class AuditLogService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Newest first (created_at DESC, id DESC); each filter is an exact match. */
  async list(query: AuditLogQueryDto): Promise<Page<AuditLogEntry>> {
    const qb = this.dataSource.getRepository(AuditLogEntry).createQueryBuilder('a');
    if (query.action !== undefined) qb.andWhere('a.action = :action', { action: query.action });
    if (query.target_type !== undefined) {
      qb.andWhere('a.targetType = :targetType', { targetType: query.target_type });
    }
    if (query.actor_id !== undefined)
      qb.andWhere('a.actorId = :actorId', { actorId: query.actor_id });
    const [items, total] = await qb
      .orderBy('a.createdAt', 'DESC')
      .addOrderBy('a.id', 'DESC')
      .take(query.limit)
      .skip(query.offset)
      .getManyAndCount();
    return { items, total, limit: query.limit, offset: query.offset };
  }
}
