import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
} from 'typeorm';
import { User } from '../../users/entities/user.entity';
import { Organization, Role } from '../../users/user.enums';

/**
 * A notice addressed to every user of one role, optionally only those of one organization
 * (target_org null or ALL: every organization). Expired warnings are never returned and are
 * deleted by the purge.
 */
@Entity({ name: 'warnings' })
// Serves the visible-to-me query: target_role = $1 AND target_org IN (...) AND expires_at > now.
@Index('warnings_visibility_idx', ['targetRole', 'targetOrg', 'expiresAt'])
// Serves the list order (created_at DESC, id DESC): a page reads ~limit rows, not every match.
@Index('warnings_created_at_idx', ['createdAt', 'id'])
export class Warning {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'varchar', length: 200 })
  title: string;

  @Column({ type: 'varchar', length: 5000 })
  description: string;

  /** Shares the users' Postgres enum type. */
  @Column({
    name: 'target_role',
    type: 'enum',
    enum: Role,
    enumName: 'user_role',
    default: Role.PRESIDENT,
  })
  targetRole: Role;

  @Column({
    name: 'target_org',
    type: 'enum',
    enum: Organization,
    enumName: 'user_organization',
    nullable: true,
  })
  targetOrg: Organization | null;

  /** Also serves the purge (expires_at <= now). */
  @Index('warnings_expires_at_idx')
  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;

  @Column({ name: 'created_by', type: 'uuid', nullable: true })
  createdBy: string | null;

  @ManyToOne(() => User, { onDelete: 'SET NULL', nullable: true })
  @JoinColumn({ name: 'created_by', foreignKeyConstraintName: 'warnings_created_by_fkey' })
  creator?: User | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
