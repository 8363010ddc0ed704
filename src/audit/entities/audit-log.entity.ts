import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** One row per admin action: who did what to which record, with the record before and after. */
@Entity({ name: 'audit_log' })
@Index('audit_log_target_idx', ['targetType', 'targetId'])
// GET /audit-log, newest first (created_at DESC, id DESC, scanned backwards): a page reads
// about `limit` rows, unfiltered or filtered by actor, action or target type.
@Index('audit_log_created_at_idx', ['createdAt', 'id'])
@Index('audit_log_actor_idx', ['actorId', 'createdAt', 'id'])
@Index('audit_log_action_idx', ['action', 'createdAt', 'id'])
@Index('audit_log_target_type_idx', ['targetType', 'createdAt', 'id'])
export class AuditLogEntry {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  /** The acting user; null for system actions (CLI, scheduled jobs). No FK: history outlives users. */
  @Column({ name: 'actor_id', type: 'uuid', nullable: true })
  actorId: string | null;

  @Column({ name: 'actor_email', type: 'varchar', length: 320, nullable: true })
  actorEmail: string | null;

  /** e.g. user.create, user.update, warning.delete, booking.accept */
  @Column({ type: 'varchar', length: 64 })
  action: string;

  @Column({ name: 'target_type', type: 'varchar', length: 32 })
  targetType: string;

  @Column({ name: 'target_id', type: 'uuid', nullable: true })
  targetId: string | null;

  @Column({ type: 'jsonb', nullable: true })
  before: Record<string, unknown> | null;

  @Column({ type: 'jsonb', nullable: true })
  after: Record<string, unknown> | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
