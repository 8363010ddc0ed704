import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import { ActiveStatus, Course, Organization, Role, UserState } from '../user.enums';

@Entity({ name: 'users' })
@Check('users_email_lower_case', `"email" = lower("email")`)
@Check('users_year_range', `"year" IS NULL OR ("year" >= 0 AND "year" <= 5)`)
@Check('users_name_length', `char_length("name") >= 2`)
@Index('users_name_lower_idx', { synchronize: false })
@Index('users_organization_name_idx', { synchronize: false })
export class User {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'varchar', length: 200 })
  name: string;

  /** Always stored lower-case (see the check), so the unique index is case-insensitive. */
  @Index('users_email_key', { unique: true })
  @Column({ type: 'varchar', length: 320 })
  email: string;

  @Column({ type: 'varchar', length: 12, nullable: true })
  ra: string | null;

  @Index('users_role_idx')
  @Column({ type: 'enum', enum: Role, enumName: 'user_role' })
  role: Role;

  @Index('users_organization_idx')
  @Column({ type: 'enum', enum: Organization, enumName: 'user_organization', nullable: true })
  organization: Organization | null;

  @Column({ type: 'enum', enum: Course, enumName: 'user_course', nullable: true })
  course: Course | null;

  @Column({ type: 'smallint', nullable: true })
  year: number | null;

  @Column({ type: 'enum', enum: UserState, enumName: 'user_state', default: UserState.PENDING })
  state: UserState;

  @Column({
    type: 'enum',
    enum: ActiveStatus,
    enumName: 'user_active',
    default: ActiveStatus.ACTIVE,
  })
  active: ActiveStatus;

  /** bcrypt hash; null until a password is set. Never selected by default, never serialized. */
  @Column({ name: 'password_hash', type: 'varchar', length: 100, nullable: true, select: false })
  passwordHash: string | null;

  @Column({ name: 'failed_login_count', type: 'integer', default: 0 })
  failedLoginCount: number;

  @Column({ name: 'locked_until', type: 'timestamptz', nullable: true })
  lockedUntil: Date | null;

  @Column({ name: 'last_login_at', type: 'timestamptz', nullable: true })
  lastLoginAt: Date | null;

  /** Bumped on password or role change: every token issued before is refused. */
  @Column({ name: 'token_version', type: 'integer', default: 0 })
  tokenVersion: number;

  /** Microsoft Entra ID object id, for sign-in with a Microsoft account. */
  @Index('users_microsoft_id_key', { unique: true, where: '"microsoft_id" IS NOT NULL' })
  @Column({ name: 'microsoft_id', type: 'varchar', length: 64, nullable: true })
  microsoftId: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
