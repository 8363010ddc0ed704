import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import { User } from '../../users/entities/user.entity';

export enum BookingStatus {
  PENDING = 'pending',
  ACCEPTED = 'accepted',
  REJECTED = 'rejected',
}

export const DURATION_MIN = 1;
export const DURATION_MAX = 1440;

/** A user's request to book an event; an ADM accepts or rejects it once. */
@Entity({ name: 'booking_requests' })
@Check('booking_requests_duration_range', `"duration_minutes" BETWEEN 1 AND 1440`)
@Check('booking_requests_decision', `("status" = 'pending') = ("decided_at" IS NULL)`)
// GET /booking-requests, newest first (created_at DESC, id DESC, scanned backwards): a page
// reads about `limit` rows, no sort. The ADM's list:
@Index('booking_requests_created_at_idx', ['createdAt', 'id'])
// One requester's list (a user's own, an ADM's requested_by), by status or one scan per
// status merged (also the FK's cascade):
@Index('booking_requests_requested_by_idx', ['requestedBy', 'status', 'createdAt', 'id'])
// The ADM's list filtered by status (the pending queue):
@Index('booking_requests_status_created_at_idx', ['status', 'createdAt', 'id'])
// A status with an event_time range (from/to) that holds few rows:
@Index('booking_requests_status_event_time_idx', ['status', 'eventTime'])
export class BookingRequest {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'event_time', type: 'timestamptz' })
  eventTime: Date;

  @Column({ name: 'duration_minutes', type: 'smallint' })
  durationMinutes: number;

  @Column({ type: 'varchar', length: 200 })
  topic: string;

  @Column({ name: 'address_street', type: 'varchar', length: 200 })
  addressStreet: string;

  @Column({ name: 'address_city', type: 'varchar', length: 100 })
  addressCity: string;

  @Column({ name: 'address_state', type: 'varchar', length: 100, nullable: true })
  addressState: string | null;

  /** The ISO 3166 English short name (see countries.ts). */
  @Column({ name: 'address_country', type: 'varchar', length: 100 })
  addressCountry: string;

  @Column({ name: 'requested_by', type: 'uuid' })
  requestedBy: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE', nullable: false })
  @JoinColumn({
    name: 'requested_by',
    foreignKeyConstraintName: 'booking_requests_requested_by_fkey',
  })
  requester?: User;

  /** The requester's email when the request was made. */
  @Column({ name: 'requester_email', type: 'varchar', length: 320 })
  requesterEmail: string;

  @Column({
    type: 'enum',
    enum: BookingStatus,
    enumName: 'booking_request_status',
    default: BookingStatus.PENDING,
  })
  status: BookingStatus;

  /** The deciding ADM's note, if any. */
  @Column({ type: 'varchar', length: 1000, nullable: true })
  reason: string | null;

  @Column({ name: 'decided_by', type: 'uuid', nullable: true })
  decidedBy: string | null;

  @ManyToOne(() => User, { onDelete: 'SET NULL', nullable: true })
  @JoinColumn({ name: 'decided_by', foreignKeyConstraintName: 'booking_requests_decided_by_fkey' })
  decider?: User | null;

  @Column({ name: 'decided_at', type: 'timestamptz', nullable: true })
  decidedAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
