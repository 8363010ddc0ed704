import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { CLIENT_IP_MAX, CLIENT_USER_AGENT_MAX } from '../../common/client-info';
import { User } from '../../users/entities/user.entity';

/**
 * One sign-in on one device: every refresh token and access token it yields carries its id.
 * Revoked (logout, password change, role change, deactivation, reuse of a spent refresh token)
 * or expired (REFRESH_IDLE_TTL without a refresh, REFRESH_ABSOLUTE_TTL in all), it stops every
 * token at once. Deleting the user deletes its sessions.
 */
@Entity({ name: 'sessions' })
export class Session {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Index('sessions_user_id_idx')
  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE', nullable: false })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'sessions_user_id_fkey' })
  user?: User;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  /** The sign-in, then each refresh (access tokens alone do not move it). */
  @Column({ name: 'last_used_at', type: 'timestamptz' })
  lastUsedAt: Date;

  /** The client's address at the last sign-in or refresh. */
  @Column({ type: 'varchar', length: CLIENT_IP_MAX, nullable: true })
  ip: string | null;

  @Column({ name: 'user_agent', type: 'varchar', length: CLIENT_USER_AGENT_MAX, nullable: true })
  userAgent: string | null;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt: Date | null;

  /** Absolute end: created_at + REFRESH_ABSOLUTE_TTL. */
  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;
}
