import { ApiProperty } from '@nestjs/swagger';
import { PageOf } from '../../common/pagination/page.dto';
import type { AuditLogEntry } from '../entities/audit-log.entity';

export class AuditLogEntryResponseDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid', nullable: true, type: String, description: 'null: the system' })
  actor_id: string | null;
  @ApiProperty({ nullable: true, type: String }) actor_email: string | null;
  @ApiProperty({ example: 'warning.update' }) action: string;
  @ApiProperty({ example: 'warning' }) target_type: string;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) target_id: string | null;
  @ApiProperty({ type: 'object', nullable: true, additionalProperties: true })
  before: Record<string, unknown> | null;
  @ApiProperty({ type: 'object', nullable: true, additionalProperties: true })
  after: Record<string, unknown> | null;
  @ApiProperty({ format: 'date-time' }) created_at: string;

  static from(e: AuditLogEntry): AuditLogEntryResponseDto {
    return {
      id: e.id,
      actor_id: e.actorId,
      actor_email: e.actorEmail,
      action: e.action,
      target_type: e.targetType,
      target_id: e.targetId,
      before: e.before,
      after: e.after,
      created_at: e.createdAt.toISOString(),
    };
  }
}

export class AuditLogPageDto extends PageOf(AuditLogEntryResponseDto) {}
