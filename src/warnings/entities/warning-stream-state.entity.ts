import { Check, Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * One row (id 1) of bookkeeping shared by every replica, changed only under the events lock:
 * how far expiries have been announced, and the newest event the retention purge has deleted
 * per audience (so a resuming client learns whether its replay would have a hole).
 */
@Entity({ name: 'warning_stream_state' })
@Check('warning_stream_state_single_row', '"id" = 1')
export class WarningStreamState {
  @PrimaryColumn({ type: 'smallint' })
  id: number;

  /** Warnings with expires_at up to here have had their `expired` event. */
  @Column({ name: 'expiry_swept_until', type: 'timestamptz' })
  expirySweptUntil: Date;

  /** Audience key (see audienceKeys) -> id of the newest purged event addressed to it. */
  @Column({ name: 'purged_through', type: 'jsonb', default: () => `'{}'` })
  purgedThrough: Record<string, number>;
}
