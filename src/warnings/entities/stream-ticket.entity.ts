import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryColumn,
} from 'typeorm';
import { Session } from '../../sessions/entities/session.entity';
import { User } from '../../users/entities/user.entity';

/**
 * A single-use ticket for GET /warnings/stream?ticket= (browsers' EventSource cannot send an
 * Authorization header). Only the SHA-256 of the ticket is stored; redeeming deletes the row,
 * so of two requests with one ticket exactly one gets it, on whichever replica.
 */
@Entity({ name: 'stream_tickets' })
export class StreamTicket {
  @PrimaryColumn({ name: 'ticket_hash', type: 'bytea' })
  ticketHash: Buffer;

  @Index('stream_tickets_user_id_idx')
  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'stream_tickets_user_id_fkey' })
  user?: User;

  /** The session of the access token that asked for it: ending the session voids the ticket. */
  @Index('stream_tickets_session_id_idx')
  @Column({ name: 'session_id', type: 'uuid' })
  sessionId: string;

  @ManyToOne(() => Session, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'session_id', foreignKeyConstraintName: 'stream_tickets_session_id_fkey' })
  session?: Session;

  /** The caller's token_version when the ticket was issued: a later bump voids it. */
  @Column({ name: 'token_version', type: 'integer' })
  tokenVersion: number;

  @Index('stream_tickets_expires_at_idx')
  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
