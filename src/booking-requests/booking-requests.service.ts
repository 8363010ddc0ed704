import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import type { AuthUser } from '../common/auth-user';
import { Clock } from '../common/clock';
import type { ListOrder } from '../common/pagination/cursor';
import { fetchPage, KeysetQuery, Page } from '../common/pagination/keyset';
import { raw, Sql, sql } from '../common/pagination/sql';
import { AppError } from '../common/errors/app-error';
import { isIsoDate } from '../common/validation/iso-date-time.validator';
import { Role } from '../users/user.enums';
import { BookingRequestResponseDto } from './dto/booking-request-response.dto';
import { CreateBookingRequestDto } from './dto/create-booking-request.dto';
import { ListBookingRequestsQueryDto } from './dto/list-booking-requests-query.dto';
import { BookingRequest, BookingStatus } from './entities/booking-request.entity';

const TARGET_TYPE = 'booking';
const DAY_MS = 24 * 60 * 60 * 1000;

/** Newest first; the cursor holds created_at (to the microsecond) and id. */
const BOOKING_ORDER: ListOrder = {
  list: 'booking-requests',
  keys: [
    { expr: 'created_at', type: 'timestamptz' },
    { expr: 'id', type: 'uuid' },
  ],
  direction: 'DESC',
};

const BOOKING_COLUMNS =
  'id, event_time, duration_minutes, topic, address_street, address_city, address_state, ' +
  'address_country, requested_by, requester_email, status, reason, decided_by, decided_at, ' +
  'created_at, updated_at';

interface BookingRow extends Record<string, unknown> {
  id: string;
  event_time: Date;
  duration_minutes: number;
  topic: string;
  address_street: string;
  address_city: string;
  address_state: string | null;
  address_country: string;
  requested_by: string;
  requester_email: string;
  status: BookingStatus;
  reason: string | null;
  decided_by: string | null;
  decided_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

function toBooking(row: BookingRow): BookingRequest {
  return Object.assign(new BookingRequest(), {
    id: row.id,
    eventTime: row.event_time,
    durationMinutes: row.duration_minutes,
    topic: row.topic,
    addressStreet: row.address_street,
    addressCity: row.address_city,
    addressState: row.address_state,
    addressCountry: row.address_country,
    requestedBy: row.requested_by,
    requesterEmail: row.requester_email,
    status: row.status,
    reason: row.reason,
    decidedBy: row.decided_by,
    decidedAt: row.decided_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  });
}

export type Decision = BookingStatus.ACCEPTED | BookingStatus.REJECTED;

@Injectable()
export class BookingRequestsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  /** Any ACTIVE user; the request is theirs and pending. */
  async create(caller: AuthUser, dto: CreateBookingRequestDto): Promise<BookingRequest> {
    const eventTime = new Date(dto.event_time);
    if (eventTime.getTime() <= this.clock.now().getTime()) {
      throw AppError.validation(
        [{ field: 'event_time', message: 'event_time must be in the future' }],
        'event_time must be in the future.',
      );
    }
    const repo = this.dataSource.getRepository(BookingRequest);
    const booking = repo.create({
      eventTime,
      durationMinutes: dto.duration_minutes,
      topic: dto.topic,
      addressStreet: dto.address.street,
      addressCity: dto.address.city,
      addressState: dto.address.state ? dto.address.state : null,
      addressCountry: dto.address.country,
      requestedBy: caller.id,
      requesterEmail: caller.email,
      status: BookingStatus.PENDING,
      reason: null,
      decidedBy: null,
      decidedAt: null,
    });
    await repo.save(booking);
    return booking;
  }

  /**
   * Newest request first (created_at DESC, id DESC), in keyset pages. An ADM sees every
   * request; anyone else only their own. from/to bound event_time, both inclusive; a date-only
   * `to` covers its day.
   */
  async list(caller: AuthUser, query: ListBookingRequestsQueryDto): Promise<Page<BookingRequest>> {
    const page = await fetchPage<BookingRow>(this.dataSource, this.listQuery(caller, query), query);
    return { ...page, items: page.items.map(toBooking) };
  }

  /**
   * GET /booking-requests as one keyset query. An ADM's list reads
   * booking_requests_created_at_idx, or booking_requests_status_created_at_idx with a status.
   * A list of one requester (the caller's own, or an ADM's requested_by) reads
   * booking_requests_requested_by_idx (requested_by, status, created_at, id): with a status in
   * one ordered scan, without one as one scan per status, merged. Either way a page reads about
   * `limit` rows, however many requests the requester has.
   */
  listQuery(caller: AuthUser, query: ListBookingRequestsQueryDto): KeysetQuery {
    const from = query.from === undefined ? undefined : new Date(query.from);
    const to = query.to === undefined ? undefined : toBound(query.to);
    if (from && to && (from > to.at || (!to.inclusive && from.getTime() === to.at.getTime()))) {
      throw AppError.validation(
        [{ field: 'from', message: 'from must not be after to' }],
        'from must not be after to.',
      );
    }
    const owner = caller.role === Role.ADM ? null : caller.id;
    const conditions: Sql[] = [];
    if (owner) conditions.push(sql`requested_by = ${owner}`);
    if (query.requested_by) conditions.push(sql`requested_by = ${query.requested_by}`);
    if (from) conditions.push(sql`event_time >= ${from}`);
    if (to) conditions.push(sql`event_time ${raw(to.inclusive ? '<=' : '<')} ${to.at}`);
    const statuses =
      query.status !== undefined
        ? [query.status]
        : owner || query.requested_by
          ? Object.values(BookingStatus)
          : [];
    const branches =
      statuses.length === 0
        ? [conditions]
        : statuses.map((status) => [...conditions, sql`status = ${status}`]);
    return {
      order: BOOKING_ORDER,
      select: raw(BOOKING_COLUMNS),
      from: raw('booking_requests'),
      branches,
      context: {
        owner,
        requested_by: query.requested_by,
        status: query.status,
        from,
        to: to && { at: to.at, inclusive: to.inclusive },
      },
    };
  }

  /** The owner or an ADM; 404 for anyone else, as for an unknown id. */
  async get(caller: AuthUser, id: string): Promise<BookingRequest> {
    const booking = await this.dataSource.getRepository(BookingRequest).findOne({ where: { id } });
    if (!booking || (caller.role !== Role.ADM && booking.requestedBy !== caller.id)) {
      throw notFound();
    }
    return booking;
  }

  /**
   * ADM only. One conditional UPDATE decides: of two admins deciding at once, the second
   * waits on the row lock, then finds it no longer pending and gets 409.
   */
  async decide(
    caller: AuthUser,
    id: string,
    status: Decision,
    reason: string | null | undefined,
  ): Promise<BookingRequest> {
    return this.dataSource.transaction(async (manager) => {
      const now = this.clock.now();
      const result = await manager
        .createQueryBuilder()
        .update(BookingRequest)
        .set({
          status,
          reason: reason ? reason : null,
          decidedBy: caller.id,
          decidedAt: now,
          updatedAt: now,
        })
        .where('id = :id AND status = :pending', { id, pending: BookingStatus.PENDING })
        .returning(['id'])
        .execute();
      if (!result.affected) {
        const current = await manager.findOne(BookingRequest, { where: { id } });
        if (!current) throw notFound();
        throw AppError.conflict(
          `This booking request is already ${current.status}; only a pending one can be decided.`,
          'booking_request_not_pending',
        );
      }
      const booking = await manager.findOneOrFail(BookingRequest, { where: { id } });
      await this.record(
        manager,
        caller,
        status === BookingStatus.ACCEPTED ? 'booking.accept' : 'booking.reject',
        id,
        { status: BookingStatus.PENDING, reason: null, decided_by: null, decided_at: null },
        {
          status: booking.status,
          reason: booking.reason,
          decided_by: booking.decidedBy,
          decided_at: booking.decidedAt?.toISOString() ?? null,
        },
      );
      return booking;
    });
  }

  /**
   * An ADM deletes any request (audited). The owner deletes their own while it is pending
   * (403 once decided). Anyone else gets 404, as for an unknown id.
   */
  async remove(caller: AuthUser, id: string): Promise<void> {
    if (caller.role === Role.ADM) {
      await this.dataSource.transaction(async (manager) => {
        const booking = await manager.findOne(BookingRequest, {
          where: { id },
          lock: { mode: 'pessimistic_write' },
        });
        if (!booking) throw notFound();
        await manager.delete(BookingRequest, { id });
        await this.record(
          manager,
          caller,
          'booking.delete',
          id,
          BookingRequestResponseDto.from(booking),
          null,
        );
      });
      return;
    }
    // Conditional, like decide(): an owner's delete racing an ADM's decision cannot remove
    // a request that has just been decided.
    const result = await this.dataSource
      .createQueryBuilder()
      .delete()
      .from(BookingRequest)
      .where('id = :id AND requested_by = :owner AND status = :pending', {
        id,
        owner: caller.id,
        pending: BookingStatus.PENDING,
      })
      .execute();
    if (result.affected) return;
    const booking = await this.dataSource.getRepository(BookingRequest).findOne({ where: { id } });
    if (!booking || booking.requestedBy !== caller.id) throw notFound();
    throw AppError.forbidden(
      `This booking request is already ${booking.status}; only an ADM can delete it now.`,
      'booking_request_not_pending',
    );
  }

  private record(
    manager: EntityManager,
    caller: AuthUser,
    action: string,
    targetId: string,
    before: object | null,
    after: object | null,
  ): Promise<void> {
    return this.audit.record(
      {
        actor: caller,
        action,
        targetType: TARGET_TYPE,
        targetId,
        before,
        after,
      },
      manager,
    );
  }
}

/** A date-only `to` covers its whole (UTC) day: event_time < the next midnight. */
function toBound(value: string): { at: Date; inclusive: boolean } {
  if (isIsoDate(value)) {
    return { at: new Date(Date.parse(`${value}T00:00:00Z`) + DAY_MS), inclusive: false };
  }
  return { at: new Date(value), inclusive: true };
}

function notFound(): AppError {
  return AppError.notFound('No booking request with that id.', 'booking_request_not_found');
}
