import type { DataSource, EntityManager } from 'typeorm';
import { Organization, Role } from '../../users/user.enums';
import { WarningEventKind } from '../entities/warning-event.entity';
import { canSeeWarning, isInAudience, WarningAudience } from '../warning-visibility';

/**
 * The write and read sides of warning_events, the table GET /warnings/stream is fed from.
 *
 * Writers (WarningsService, the purge, the expiry sweep) call recordWarningEvents inside the
 * transaction that changes the warning. It takes one transaction-scoped advisory lock before
 * the insert, so ids are handed out in commit order: when event N is visible, every event
 * before N is too, and "the events after N" (a Last-Event-ID replay, a replica catching up
 * after a reconnect) can never skip one that commits late. Writes to warnings are rare admin
 * actions; the lock is held from the insert to the commit only. The NOTIFY is sent at commit,
 * carries only the id (a warning does not fit NOTIFY's 8000 bytes) and tells every replica to
 * read the table.
 */

export const WARNING_EVENTS_CHANNEL = 'portal_warning_events';
/** Any fixed 64-bit number, distinct from the migration and purge keys. */
export const WARNING_EVENTS_LOCK_KEY = 7_346_221_903;
/** Events are kept this long: a client away up to an hour resumes exactly (with margin). */
export const WARNING_EVENTS_RETENTION_MS = 90 * 60_000;

/** The warning JSON as the API answers it (WarningResponseDto). */
export interface WarningJson {
  id: string;
  target_role: Role;
  target_org: Organization | null;
  expires_at: string;
  [field: string]: unknown;
}

export interface NewWarningEvent {
  warningId: string;
  kind: WarningEventKind;
  targetRole: Role;
  targetOrg: Organization | null;
  previousRole?: Role | null;
  previousOrg?: Organization | null;
  payload?: WarningJson | null;
}

export interface StoredWarningEvent {
  /** The stream position (bigint in PostgreSQL; ids stay far below 2^53). */
  id: number;
  warningId: string;
  kind: WarningEventKind;
  targetRole: Role;
  targetOrg: Organization | null;
  previousRole: Role | null;
  previousOrg: Organization | null;
  payload: WarningJson | null;
}

/** Inside the caller's transaction: serialize on the events lock, insert, notify at commit. */
export async function recordWarningEvents(
  manager: EntityManager,
  events: readonly NewWarningEvent[],
): Promise<void> {
  if (events.length === 0) return;
  await manager.query('SELECT pg_advisory_xact_lock($1)', [WARNING_EVENTS_LOCK_KEY]);
  const params: unknown[] = [];
  const values = events.map((e) => {
    const at = params.length;
    params.push(
      e.warningId,
      e.kind,
      e.targetRole,
      e.targetOrg,
      e.previousRole ?? null,
      e.previousOrg ?? null,
      e.payload ? JSON.stringify(e.payload) : null,
    );
    return `($${at + 1}::uuid, $${at + 2}, $${at + 3}::user_role, $${at + 4}::user_organization, $${at + 5}::user_role, $${at + 6}::user_organization, $${at + 7}::jsonb)`;
  });
  const rows: Array<{ id: string }> = await manager.query(
    `INSERT INTO warning_events
       (warning_id, kind, target_role, target_org, previous_role, previous_org, payload)
     VALUES ${values.join(', ')} RETURNING id`,
    params,
  );
  await manager.query('SELECT pg_notify($1, $2)', [
    WARNING_EVENTS_CHANNEL,
    rows[rows.length - 1].id,
  ]);
}

/**
 * The rows of a `DELETE|UPDATE ... RETURNING` run through TypeORM's query(), which answers
 * those two commands with [rows, affected count] and every other one with the rows.
 */
export async function returning<T>(
  db: DataSource | EntityManager,
  sql: string,
  params: unknown[],
): Promise<T[]> {
  const raw: unknown = await db.query(sql, params);
  if (
    Array.isArray(raw) &&
    raw.length === 2 &&
    Array.isArray(raw[0]) &&
    typeof raw[1] === 'number'
  ) {
    return raw[0] as T[];
  }
  return raw as T[];
}

interface StreamState {
  expirySweptUntil: Date;
  purgedThrough: Record<string, number>;
}

/**
 * The shared bookkeeping row, under the events lock. The migration creates it; if it is gone
 * (a truncated table), it is recreated announcing the expiries of the retention window again
 * (a client may hear of one twice, never not at all). Times here are the database's: one clock
 * for every replica.
 */
async function lockedState(manager: EntityManager): Promise<StreamState> {
  await manager.query('SELECT pg_advisory_xact_lock($1)', [WARNING_EVENTS_LOCK_KEY]);
  await manager.query(
    `INSERT INTO warning_stream_state (id, expiry_swept_until)
     VALUES (1, statement_timestamp() - $1 * interval '1 millisecond')
     ON CONFLICT (id) DO NOTHING`,
    [WARNING_EVENTS_RETENTION_MS],
  );
  const rows: Array<{ expiry_swept_until: Date; purged_through: Record<string, number> }> =
    await manager.query(
      'SELECT expiry_swept_until, purged_through FROM warning_stream_state WHERE id = 1',
    );
  return {
    expirySweptUntil: rows[0].expiry_swept_until,
    purgedThrough: rows[0].purged_through,
  };
}

interface ExpiredRow {
  id: string;
  target_role: Role;
  target_org: Organization | null;
}

function expiredEvents(rows: readonly ExpiredRow[]): NewWarningEvent[] {
  return rows.map((r) => ({
    warningId: r.id,
    kind: WarningEventKind.EXPIRED,
    targetRole: r.target_role,
    targetOrg: r.target_org,
  }));
}

/**
 * No row changes when a warning's expires_at passes, so nothing else would tell the streams.
 * Every replica runs this when the next known expiry is due (and every half minute): under the
 * events lock it writes an `expired` event for each warning that expired since the last sweep,
 * then moves the mark. Whichever replica comes second finds nothing left. Returns how many.
 */
export async function announceExpiries(dataSource: DataSource): Promise<number> {
  return dataSource.transaction(async (manager) => {
    const state = await lockedState(manager);
    const [{ now }]: Array<{ now: Date }> = await manager.query(
      'SELECT statement_timestamp() AS now',
    );
    if (now.getTime() <= state.expirySweptUntil.getTime()) return 0;
    const rows: ExpiredRow[] = await manager.query(
      `SELECT id, target_role, target_org FROM warnings
       WHERE expires_at > $1 AND expires_at <= $2 ORDER BY expires_at, id`,
      [state.expirySweptUntil, now],
    );
    await recordWarningEvents(manager, expiredEvents(rows));
    await manager.query('UPDATE warning_stream_state SET expiry_swept_until = $1 WHERE id = 1', [
      now,
    ]);
    return rows.length;
  });
}

/**
 * The purge deletes expired warnings. Any whose expiry no sweep has announced yet (no replica
 * was running) gets its `expired` event here, in the purge's transaction, so a client that
 * resumes later still hears of it.
 */
export async function announcePurgedWarnings(
  manager: EntityManager,
  deleted: ReadonlyArray<ExpiredRow & { expires_at: Date }>,
): Promise<void> {
  if (deleted.length === 0) return;
  const state = await lockedState(manager);
  const unannounced = deleted.filter(
    (r) => r.expires_at.getTime() > state.expirySweptUntil.getTime(),
  );
  await recordWarningEvents(manager, expiredEvents(unannounced));
}

/**
 * The retention purge: events older than WARNING_EVENTS_RETENTION_MS are deleted, and for every audience the
 * newest deleted event addressed to it is remembered, so resumeGap can tell a client whose
 * position is older than the table whether anything it would have received is gone.
 */
export async function purgeWarningEvents(dataSource: DataSource): Promise<number> {
  return dataSource.transaction(async (manager) => {
    const state = await lockedState(manager);
    const gone = await returning<{
      id: string;
      target_role: Role;
      target_org: Organization | null;
      previous_role: Role | null;
      previous_org: Organization | null;
    }>(
      manager,
      `DELETE FROM warning_events
       WHERE created_at < statement_timestamp() - $1 * interval '1 millisecond'
       RETURNING id, target_role, target_org, previous_role, previous_org`,
      [WARNING_EVENTS_RETENTION_MS],
    );
    if (gone.length === 0) return 0;
    const horizon = { ...state.purgedThrough };
    for (const row of gone) {
      const id = Number(row.id);
      const keys = [...eventAudienceKeys(row.target_role, row.target_org)];
      if (row.previous_role) keys.push(...eventAudienceKeys(row.previous_role, row.previous_org));
      for (const key of keys) horizon[key] = Math.max(horizon[key] ?? 0, id);
    }
    await manager.query('UPDATE warning_stream_state SET purged_through = $1 WHERE id = 1', [
      JSON.stringify(horizon),
    ]);
    return gone.length;
  });
}

const ANY_ORG = '*';
const EVERYTHING = '*';

/** The purge horizon keys an event with this audience counts under (ADM hears all: "*"). */
export function eventAudienceKeys(role: Role, org: Organization | null): string[] {
  const o = org === null || org === Organization.ALL ? ANY_ORG : org;
  return [EVERYTHING, `${role}:${o}`];
}

/** The keys of the events this caller would have received. */
export function callerAudienceKeys(caller: WarningAudience): string[] {
  if (caller.role === Role.ADM) return [EVERYTHING];
  const keys = [`${caller.role}:${ANY_ORG}`];
  if (caller.organization !== null && caller.organization !== Organization.ALL) {
    keys.push(`${caller.role}:${caller.organization}`);
  }
  return keys;
}

/** True when an event after `position` that the caller would have received has been purged. */
export function hasResumeGap(
  purgedThrough: Record<string, number>,
  caller: WarningAudience,
  position: number,
): boolean {
  return callerAudienceKeys(caller).some((k) => (purgedThrough[k] ?? 0) > position);
}

export async function readPurgedThrough(dataSource: DataSource): Promise<Record<string, number>> {
  const rows: Array<{ purged_through: Record<string, number> }> = await dataSource.query(
    'SELECT purged_through FROM warning_stream_state WHERE id = 1',
  );
  return rows[0]?.purged_through ?? {};
}

interface EventRow {
  id: string;
  warning_id: string;
  kind: WarningEventKind;
  target_role: Role;
  target_org: Organization | null;
  previous_role: Role | null;
  previous_org: Organization | null;
  payload: WarningJson | null;
}

/** Events after `after` (and up to `upTo`, if given), oldest first, at most `limit`. */
export async function eventsAfter(
  db: DataSource | EntityManager,
  after: number,
  limit: number,
  upTo?: number,
): Promise<StoredWarningEvent[]> {
  const rows: EventRow[] = await db.query(
    `SELECT id, warning_id, kind, target_role, target_org, previous_role, previous_org, payload
     FROM warning_events WHERE id > $1 AND id <= $2 ORDER BY id LIMIT $3`,
    [after, upTo ?? Number.MAX_SAFE_INTEGER, limit],
  );
  return rows.map((r) => ({
    id: Number(r.id),
    warningId: r.warning_id,
    kind: r.kind,
    targetRole: r.target_role,
    targetOrg: r.target_org,
    previousRole: r.previous_role,
    previousOrg: r.previous_org,
    payload: r.payload,
  }));
}

/** When the next unannounced expiry is due (the database's clock), or null if none is. */
export async function nextExpiry(dataSource: DataSource): Promise<Date | null> {
  const rows: Array<{ at: Date | null }> = await dataSource.query(
    `SELECT min(expires_at) AS at FROM warnings
     WHERE expires_at > coalesce(
       (SELECT expiry_swept_until FROM warning_stream_state WHERE id = 1), statement_timestamp())`,
  );
  return rows[0]?.at ?? null;
}

/** The warning an event names, if the event is still in the table. */
export async function warningOfEvent(
  db: DataSource | EntityManager,
  id: number,
): Promise<string | undefined> {
  const rows: Array<{ warning_id: string }> = await db.query(
    'SELECT warning_id FROM warning_events WHERE id = $1',
    [id],
  );
  return rows[0]?.warning_id;
}

export type RemovalReason = 'deleted' | 'expired' | 'retargeted';

export type Delivery =
  | { event: 'warning'; data: WarningJson }
  | { event: 'warning-removed'; data: { id: string; reason: RemovalReason } };

/**
 * What one caller receives for one event, by GET /warnings's rule (canSeeWarning): a created
 * or changed warning they may see arrives as `warning`; one that a change moved away from
 * them as `warning-removed` (retargeted); a deletion or expiry as `warning-removed` when it was
 * addressed to them (ADM: always). A change replayed after the warning has expired is skipped:
 * its `expired` event follows.
 */
export function deliveryFor(
  event: StoredWarningEvent,
  caller: WarningAudience,
  now: Date,
): Delivery | null {
  const target = { targetRole: event.targetRole, targetOrg: event.targetOrg };
  switch (event.kind) {
    case WarningEventKind.CREATED:
    case WarningEventKind.UPDATED: {
      if (!event.payload) return null;
      const expiresAt = new Date(event.payload.expires_at);
      if (canSeeWarning({ ...target, expiresAt }, caller, now)) {
        return { event: 'warning', data: event.payload };
      }
      if (expiresAt.getTime() <= now.getTime()) return null;
      const before = event.previousRole
        ? { targetRole: event.previousRole, targetOrg: event.previousOrg }
        : undefined;
      if (before && isInAudience(before, caller)) {
        return { event: 'warning-removed', data: { id: event.warningId, reason: 'retargeted' } };
      }
      return null;
    }
    case WarningEventKind.DELETED:
    case WarningEventKind.EXPIRED:
      return isInAudience(target, caller)
        ? { event: 'warning-removed', data: { id: event.warningId, reason: event.kind } }
        : null;
    default:
      return null;
  }
}

/** `id:` of an event: its position, then the warning it is about ("42.6f1c2e1e-..."). */
export function sseEventId(event: StoredWarningEvent): string {
  return `${event.id}.${event.warningId}`;
}

const LAST_EVENT_ID =
  /^(\d{1,15})(?:\.([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}))?$/i;

/** "42" or "42.<warning id>" -> the position (and the warning); undefined if malformed. */
export function parseLastEventId(
  value: string,
): { position: number; warningId?: string } | undefined {
  const m = LAST_EVENT_ID.exec(value.trim());
  if (!m) return undefined;
  return { position: Number(m[1]), warningId: m[2]?.toLowerCase() };
}

/** One SSE message. Data is JSON, so it never holds a newline. */
export function sseMessage(event: string, data: unknown, id?: string): string {
  return `event: ${event}\n${id === undefined ? '' : `id: ${id}\n`}data: ${JSON.stringify(data)}\n\n`;
}
