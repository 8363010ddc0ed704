import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { Organization, Role } from '../../users/user.enums';

/** What happened to a warning: the stream tells clients `warning` or `warning-removed`. */
export enum WarningEventKind {
  CREATED = 'created',
  UPDATED = 'updated',
  DELETED = 'deleted',
  EXPIRED = 'expired',
}

/**
 * One change to a warning, written in the transaction that makes the change (see
 * src/warnings/stream/warning-events.ts). The id is the stream position: writers take one
 * advisory lock before they insert, so ids are handed out in commit order and "every event
 * after N" is exact. Kept for an hour and more (the replay window of GET /warnings/stream).
 */
@Entity({ name: 'warning_events' })
@Index('warning_events_created_at_idx', ['createdAt'])
export class WarningEvent {
  /** bigint: node-postgres returns it as a string. */
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'ALWAYS' })
  id: string;

  /** No foreign key: the event outlives a deleted warning. */
  @Column({ name: 'warning_id', type: 'uuid' })
  warningId: string;

  @Column({ type: 'varchar', length: 16 })
  kind: WarningEventKind;

  /** The audience after the change (created, updated) or of the warning removed. */
  @Column({ name: 'target_role', type: 'enum', enum: Role, enumName: 'user_role' })
  targetRole: Role;

  @Column({
    name: 'target_org',
    type: 'enum',
    enum: Organization,
    enumName: 'user_organization',
    nullable: true,
  })
  targetOrg: Organization | null;

  /** An update that moved the warning to another audience: the one before. */
  @Column({
    name: 'previous_role',
    type: 'enum',
    enum: Role,
    enumName: 'user_role',
    nullable: true,
  })
  previousRole: Role | null;

  @Column({
    name: 'previous_org',
    type: 'enum',
    enum: Organization,
    enumName: 'user_organization',
    nullable: true,
  })
  previousOrg: Organization | null;

  /** The warning as GET /warnings/:id answers it (created, updated); null for removals. */
  @Column({ type: 'jsonb', nullable: true })
  payload: Record<string, unknown> | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
