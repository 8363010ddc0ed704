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
@Check('users_microsoft_identity_pair', `("microsoft_tid" IS NULL) = ("microsoft_oid" IS NULL)`)
@Index('users_microsoft_identity_key', ['microsoftTid', 'microsoftOid'], { unique: true })
// Expression indexes, written by hand in the migrations (TypeORM cannot declare them):
// the list order (lower(name), id), alone and after each main filter, so a page of GET /users
// reads about `limit` rows; and the digits of ra, for ?ra= (21.01234-5 = 21012345).
@Index('users_name_lower_idx', { synchronize: false })
@Index('users_role_name_idx', { synchronize: false })
@Index('users_organization_name_idx', { synchronize: false })
@Index('users_state_name_idx', { synchronize: false })
@Index('users_ra_digits_idx', { synchronize: false })
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

  @Column({ type: 'enum', enum: Role, enumName: 'user_role' })
  role: Role;

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

  /**
   * The Microsoft identity (Entra ID tenant id `tid`, object id `oid` of a validated ID token)
   * that signs in as this user; both null when none is linked. Never the email.
   */
  @Column({ name: 'microsoft_tid', type: 'varchar', length: 36, nullable: true })
  microsoftTid: string | null;

  @Column({ name: 'microsoft_oid', type: 'varchar', length: 36, nullable: true })
  microsoftOid: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
