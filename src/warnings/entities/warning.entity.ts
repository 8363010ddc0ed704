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
// GET /warnings, newest first (created_at DESC, id DESC, scanned backwards): each index puts
// the rows of one list in page order, so a page reads about `limit` rows, not every match.
// An ADM's list:
@Index('warnings_created_at_idx', ['createdAt', 'id'])
// A user's list: one ordered scan per term of "target_org null, ALL or mine", merged; also an
// ADM's list filtered by role and organization (and as_role / as_organization). The null term
// has an index of its own: PostgreSQL keeps an index's order after `col = x` but not after
// `col IS NULL`, so warnings_audience_idx would need a sort there.
@Index('warnings_audience_idx', ['targetRole', 'targetOrg', 'createdAt', 'id'])
@Index('warnings_audience_no_org_idx', ['targetRole', 'createdAt', 'id'], {
  where: '"target_org" IS NULL',
})
// An ADM's list filtered by role only, or by organization only:
@Index('warnings_role_created_at_idx', ['targetRole', 'createdAt', 'id'])
@Index('warnings_org_created_at_idx', ['targetOrg', 'createdAt', 'id'])
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
