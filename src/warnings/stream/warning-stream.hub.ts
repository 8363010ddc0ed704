import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { ServerResponse } from 'node:http';
import { Client, type ClientConfig } from 'pg';
import { DataSource } from 'typeorm';
import { AccessTokenVerifier } from '../../auth/access-token.verifier';
import type { AuthUser } from '../../common/auth-user';
import { Clock } from '../../common/clock';
import { AppError } from '../../common/errors/app-error';
import { AppConfig } from '../../config/app-config';
import { Metrics } from '../../observability/metrics';
import { UserState } from '../../users/user.enums';
import {
  announceExpiries,
  deliveryFor,
  eventsAfter,
  hasResumeGap,
  nextExpiry,
  purgeWarningEvents,
  readPurgedThrough,
  sseEventId,
  sseMessage,
  StoredWarningEvent,
  WARNING_EVENTS_CHANNEL,
  warningOfEvent,
} from './warning-events';
import { StreamTicketsService } from './stream-tickets.service';

/** `retry:` sent to every client: how long EventSource waits before it reconnects. */
export const STREAM_RETRY_MS = 3000;
/** Events read per query, live or replayed. */
const BATCH = 500;
/** A client that lets this much pile up unread is closed (it resumes with Last-Event-ID). */
const MAX_BUFFERED_BYTES = 256 * 1024;
/** The maintenance tick: is an expiry due? And, less often, the slower chores. */
const TICK_MS = 1000;
const SAFETY_SWEEP_MS = 30_000;
const RETENTION_PURGE_MS = 60_000;
const RECONNECT_MIN_MS = 250;
const RECONNECT_MAX_MS = 10_000;

/** Why the server ended a stream: sent as the last event, `closed`, before the end. */
export type CloseReason = 'too_many_streams' | 'unauthorized' | 'shutting_down' | 'slow_consumer';

export interface ResumePoint {
  position: number;
  warningId?: string;
}

/** Per open stream: a handful of fields (no timers, no buffers of its own). */
interface LiveStream {
  caller: AuthUser;
  readonly res: ServerResponse;
  /** The last event this stream has been given or has skipped. */
  position: number;
  /** False while its replay runs: the live dispatch leaves it alone. */
  live: boolean;
}

/**
 * GET /warnings/stream in one process. Every replica runs one of these:
 * - one dedicated pg Client (not a pool client) LISTENs on WARNING_EVENTS_CHANNEL; a
 *   notification means "read warning_events after the last id you dispatched" (`head`). When
 *   the database goes away it reconnects with backoff and catches up from `head`, so nothing
 *   committed meanwhile is missed;
 * - each event is offered to every live stream once, in id order; deliveryFor decides by the
 *   caller's audience (GET /warnings's rule) whether it becomes `warning`, `warning-removed`
 *   or nothing;
 * - shared timers, not per-stream ones: the heartbeat comment, the re-check of every caller
 *   (AccessTokenVerifier.revalidate: a deleted, deactivated or re-keyed user loses its streams
 *   within STREAM_AUTH_CHECK_INTERVAL_MS), and the maintenance tick (expiry sweep, retention
 *   purge of events and tickets, a safety catch-up in case a notification was lost).
 */
@Injectable()
export class WarningStreamHub implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('WarningStream');
  private readonly streams = new Set<LiveStream>();
  /** Each user's streams, oldest first (the per-user limit closes the oldest). */
  private readonly byUser = new Map<string, LiveStream[]>();
  /** The newest event id dispatched here; undefined until the first read of the table. */
  private head: number | undefined;
  private listener: Client | undefined;
  private reconnectDelay = RECONNECT_MIN_MS;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private closing = false;
  private fetching: Promise<void> | undefined;
  private fetchAgain = false;
  private readonly timers: NodeJS.Timeout[] = [];
  private nextExpiryAt: number | null | undefined;
  private chores: Promise<void> | undefined;
  private lastSafetySweep = 0;
  private lastRetentionPurge = 0;
  private checking = false;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly verifier: AccessTokenVerifier,
    private readonly tickets: StreamTicketsService,
    metrics: Metrics,
  ) {
    metrics.gauge('portal.sse.streams', 'Open GET /warnings/stream connections', '{stream}', (o) =>
      o(this.streams.size),
    );
  }

  onApplicationBootstrap(): void {
    this.connect();
    const every = (ms: number, fn: () => void) => {
      const timer = setInterval(fn, ms);
      timer.unref();
      this.timers.push(timer);
    };
    every(this.config.streamHeartbeatMs, () => this.heartbeat());
    every(this.config.streamAuthCheckIntervalMs, () => void this.checkCallers());
    every(TICK_MS, () => this.tick());
  }

  /** SIGTERM (app.close()): every stream ends at once, so shutdown never waits on them. */
  onModuleDestroy(): Promise<void> {
    this.closing = true;
    for (const timer of this.timers) clearInterval(timer);
    clearTimeout(this.reconnectTimer);
    for (const stream of [...this.streams]) this.end(stream, 'shutting_down');
    const listener = this.listener;
    this.listener = undefined;
    return listener ? listener.end().catch(() => undefined) : Promise.resolve();
  }

  /** True once this replica has read the events table (streams are accepted from then on). */
  get accepting(): boolean {
    return !this.closing && this.head !== undefined;
  }

  get openStreams(): number {
    return this.streams.size;
  }

  /** 503 while shutting down, or before this replica has read the events table once. */
  assertAccepting(): void {
    if (this.closing) {
      throw AppError.unavailable('The server is shutting down; try again.', 'shutting_down');
    }
    if (this.head === undefined) {
      throw new AppError(
        503,
        'stream_unavailable',
        'Service Unavailable',
        'Live warnings are not available yet on this server; try again shortly.',
        undefined,
        { 'Retry-After': '5' },
      );
    }
  }

  /**
   * Answers one GET /warnings/stream: the headers, `retry:`, the replay after `resume` (or a
   * `resync` when it cannot be exact), then `ready` with the position, then live events until
   * the client leaves or the server closes the stream. Call assertAccepting() before the
   * answer's head is written.
   */
  async open(
    caller: AuthUser,
    resume: ResumePoint | undefined,
    res: ServerResponse,
  ): Promise<void> {
    this.assertAccepting();
    const head = this.head!;
    const own = this.byUser.get(caller.id) ?? [];
    while (own.length >= this.config.streamsPerUser) this.end(own[0], 'too_many_streams');

    const stream: LiveStream = { caller, res, position: head, live: false };
    this.streams.add(stream);
    own.push(stream);
    this.byUser.set(caller.id, own);
    res.on('close', () => this.forget(stream));
    res.write(`retry: ${STREAM_RETRY_MS}\n\n`);

    let replayed = 0;
    try {
      if (resume) replayed = await this.replay(stream, resume);
    } catch (err) {
      this.logger.warn({ msg: 'stream replay failed', err });
      this.end(stream);
      return;
    }
    if (!this.streams.has(stream)) return;
    stream.live = true;
    this.write(stream, sseMessage('ready', { replayed }, String(stream.position)));
  }

  /** Replays what the caller missed after `resume`; a `resync` when that cannot be exact. */
  private async replay(stream: LiveStream, resume: ResumePoint): Promise<number> {
    if (await this.cannotResume(stream.caller, resume)) {
      this.write(stream, sseMessage('resync', { reason: 'history_unavailable' }));
      stream.position = this.head!;
      return 0;
    }
    stream.position = resume.position;
    let replayed = 0;
    for (;;) {
      const upTo = this.head!;
      if (stream.position >= upTo) return replayed;
      const events = await eventsAfter(this.dataSource, stream.position, BATCH, upTo);
      if (!this.streams.has(stream)) return replayed;
      const now = this.clock.now();
      for (const event of events) {
        const delivery = deliveryFor(event, stream.caller, now);
        if (delivery) {
          this.write(stream, sseMessage(delivery.event, delivery.data, sseEventId(event)));
          replayed++;
        }
        stream.position = event.id;
      }
      // Everything up to upTo is handled once a short batch comes back; the live dispatch may
      // have moved the head meanwhile, so go round until the stream has caught up with it.
      if (events.length < BATCH) stream.position = Math.max(stream.position, upTo);
    }
  }

  /**
   * A position this database never handed out (ahead of every event, or naming another
   * warning than its event does) or one after which an event for this caller has been purged.
   */
  private async cannotResume(caller: AuthUser, resume: ResumePoint): Promise<boolean> {
    if (resume.position > this.head!) {
      await this.fetchNow();
      if (resume.position > this.head!) return true;
    }
    if (resume.warningId) {
      const named = await warningOfEvent(this.dataSource, resume.position);
      if (named !== undefined && named !== resume.warningId) return true;
    }
    return hasResumeGap(await readPurgedThrough(this.dataSource), caller, resume.position);
  }

  // ---- the LISTEN connection

  private connect(): void {
    if (this.closing) return;
    const client = new Client(this.listenerConfig());
    let gone = false;
    const lost = (err: Error) => {
      if (gone) return;
      gone = true;
      if (this.listener === client) this.listener = undefined;
      client.removeAllListeners();
      client.on('error', () => undefined);
      void client.end().catch(() => undefined);
      if (this.closing) return;
      const delay = Math.round(this.reconnectDelay * (0.5 + Math.random() / 2));
      this.reconnectDelay = Math.min(this.reconnectDelay * 2, RECONNECT_MAX_MS);
      this.logger.warn({
        msg: 'warning stream listener lost its database connection; reconnecting',
        retryInMs: delay,
        err: err.message,
      });
      this.reconnectTimer = setTimeout(() => this.connect(), delay);
      this.reconnectTimer.unref();
    };
    client.on('error', lost);
    client.on('end', () => lost(new Error('connection ended')));
    client.on('notification', () => void this.requestFetch());
    this.listener = client;
    void (async () => {
      try {
        await client.connect();
        await client.query(`LISTEN ${WARNING_EVENTS_CHANNEL}`);
        if (this.head === undefined) {
          const rows = await client.query<{ head: string }>(
            'SELECT coalesce(max(id), 0) AS head FROM warning_events',
          );
          this.head ??= Number(rows.rows[0].head);
        }
        if (this.listener !== client) return;
        this.reconnectDelay = RECONNECT_MIN_MS;
        this.logger.log({ msg: 'warning stream listener connected', head: this.head });
        // Whatever was committed while this replica was not listening.
        void this.requestFetch();
        void this.refreshNextExpiry();
      } catch (err) {
        lost(err as Error);
      }
    })();
  }

  /** The pool's own connection settings (URL, TLS, timeouts), for one more connection. */
  private listenerConfig(): ClientConfig {
    const pool = (this.dataSource.driver as unknown as { master?: { options?: ClientConfig } })
      .master;
    if (!pool?.options) throw new Error('the PostgreSQL pool has no options to copy');
    return { ...pool.options, application_name: 'portal-api-listener', keepAlive: true };
  }

  // ---- reading and dispatching events

  /** Starts a read of what is new (or asks the one in progress to go round once more). */
  private requestFetch(): Promise<void> {
    if (this.fetching) {
      this.fetchAgain = true;
      return this.fetching;
    }
    this.fetching = this.fetchLoop()
      .catch((err: unknown) =>
        this.logger.warn({ msg: 'reading warning events failed; will retry', err }),
      )
      .finally(() => {
        this.fetching = undefined;
        if (this.fetchAgain) {
          this.fetchAgain = false;
          void this.requestFetch();
        }
      });
    return this.fetching;
  }

  /** Reads and dispatches what is new now (waits for a read in progress, then reads again). */
  private async fetchNow(): Promise<void> {
    while (this.fetching) await this.fetching;
    await this.requestFetch();
  }

  private async fetchLoop(): Promise<void> {
    for (;;) {
      if (this.head === undefined || this.closing) return;
      const events = await eventsAfter(this.dataSource, this.head, BATCH);
      for (const event of events) this.dispatch(event);
      if (events.length < BATCH) return;
    }
  }

  private dispatch(event: StoredWarningEvent): void {
    if (event.id <= this.head!) return;
    this.head = event.id;
    const now = this.clock.now();
    const texts = new Map<string, string>();
    for (const stream of this.streams) {
      if (!stream.live || event.id <= stream.position) continue;
      stream.position = event.id;
      const delivery = deliveryFor(event, stream.caller, now);
      if (!delivery) continue;
      const key = delivery.event === 'warning' ? 'warning' : delivery.data.reason;
      let text = texts.get(key);
      if (text === undefined) {
        text = sseMessage(delivery.event, delivery.data, sseEventId(event));
        texts.set(key, text);
      }
      this.write(stream, text);
    }
    const expiresAt = event.payload ? Date.parse(event.payload.expires_at) : NaN;
    if (!Number.isNaN(expiresAt) && (this.nextExpiryAt == null || expiresAt < this.nextExpiryAt)) {
      this.nextExpiryAt = expiresAt;
    }
  }

  // ---- writing and closing

  private write(stream: LiveStream, text: string): void {
    const { res } = stream;
    if (res.writableEnded || res.destroyed) {
      this.forget(stream);
      return;
    }
    res.write(text);
    if (res.writableLength > MAX_BUFFERED_BYTES) this.end(stream, 'slow_consumer');
  }

  private end(stream: LiveStream, reason?: CloseReason): void {
    if (!this.forget(stream)) return;
    const { res } = stream;
    if (res.writableEnded || res.destroyed) return;
    if (reason) res.write(sseMessage('closed', { reason }));
    res.end();
  }

  /** Drops the stream from the registry; false if it was not there any more. */
  private forget(stream: LiveStream): boolean {
    if (!this.streams.delete(stream)) return false;
    const own = this.byUser.get(stream.caller.id);
    if (own) {
      const i = own.indexOf(stream);
      if (i >= 0) own.splice(i, 1);
      if (own.length === 0) this.byUser.delete(stream.caller.id);
    }
    return true;
  }

  private heartbeat(): void {
    for (const stream of this.streams) if (stream.live) this.write(stream, ': heartbeat\n\n');
  }

  /**
   * Re-reads every caller the way the JWT guard reads one (one statement for all): a user
   * deleted, not ACTIVE, re-keyed (token_version) or no longer APPROVED loses its streams; a
   * changed role or organization takes effect for the next event.
   */
  private async checkCallers(): Promise<void> {
    if (this.checking || this.streams.size === 0) return;
    this.checking = true;
    try {
      const streams = [...this.streams];
      const verdicts = await this.verifier.revalidate(streams.map((s) => s.caller));
      streams.forEach((stream, i) => {
        const verdict = verdicts[i];
        if (verdict instanceof AppError || verdict.state !== UserState.APPROVED) {
          this.end(stream, 'unauthorized');
        } else {
          stream.caller = verdict;
        }
      });
    } catch (err) {
      // The database is away: the streams stay; the next check decides.
      this.logger.warn({ msg: 'stream caller check failed', err });
    } finally {
      this.checking = false;
    }
  }

  // ---- maintenance

  private tick(): void {
    if (this.chores || this.closing || this.head === undefined) return;
    const now = Date.now();
    const expiryDue = this.nextExpiryAt != null && this.nextExpiryAt <= now;
    const safety = now - this.lastSafetySweep >= SAFETY_SWEEP_MS;
    const purge = now - this.lastRetentionPurge >= RETENTION_PURGE_MS;
    if (!expiryDue && !safety && !purge) return;
    this.chores = (async () => {
      if (expiryDue || safety) {
        if (safety) this.lastSafetySweep = now;
        await announceExpiries(this.dataSource);
        await this.refreshNextExpiry();
        // Catches up even if a notification was lost (the listener reconnects on its own).
        void this.requestFetch();
      }
      if (purge) {
        this.lastRetentionPurge = now;
        await purgeWarningEvents(this.dataSource);
        await this.tickets.purgeExpired();
      }
    })()
      .catch((err: unknown) => this.logger.warn({ msg: 'warning stream chores failed', err }))
      .finally(() => {
        this.chores = undefined;
      });
  }

  private async refreshNextExpiry(): Promise<void> {
    try {
      const at = await nextExpiry(this.dataSource);
      this.nextExpiryAt = at ? at.getTime() : null;
    } catch {
      this.nextExpiryAt = undefined;
    }
  }
}
