import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { Session } from './session.entity';

/**
 * Every refresh token a session was given, by its SHA-256 (the token itself is never stored).
 * The live one has spent_at null; a spent one presented again is reuse, and revokes the
 * session. Rows go with their session.
 */
@Entity({ name: 'refresh_tokens' })
export class RefreshToken {
  /** SHA-256 of the token: 256 random bits need no salt or slow hash. */
  @PrimaryColumn({ name: 'token_hash', type: 'bytea' })
  tokenHash: Buffer;

  @Index('refresh_tokens_session_id_idx')
  @Column({ name: 'session_id', type: 'uuid' })
  sessionId: string;

  @ManyToOne(() => Session, { onDelete: 'CASCADE', nullable: false })
  @JoinColumn({ name: 'session_id', foreignKeyConstraintName: 'refresh_tokens_session_id_fkey' })
  session?: Session;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  /** When it was exchanged for the next one; null while it is the session's live token. */
  @Column({ name: 'spent_at', type: 'timestamptz', nullable: true })
  spentAt: Date | null;
}
