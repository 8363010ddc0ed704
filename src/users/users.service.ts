import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, EntityManager, QueryFailedError, Repository } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { AuditService } from '../audit/audit.service';
import type { AuthUser } from '../common/auth-user';
import { PasswordHasher } from '../auth/password-hasher';
import type { ListOrder } from '../common/pagination/cursor';
import { fetchPage, KeysetQuery, Page } from '../common/pagination/keyset';
import { raw, Sql, sql } from '../common/pagination/sql';
import { AppError } from '../common/errors/app-error';
import { revokeUserSessions } from '../sessions/revoke-user-sessions';
import { AppConfig } from '../config/app-config';
import type { CreateUserDto } from './dto/create-user.dto';
import type { ListUsersQueryDto } from './dto/list-users-query.dto';
import type { UpdateUserDto } from './dto/update-user.dto';
import { UserResponseDto } from './dto/user-response.dto';
import { UserSummaryDto, userListItem } from './dto/user-summary.dto';
import { User } from './entities/user.entity';
import { FieldWarning, isEmailDomainAllowed, resolveRa } from './user-email-rules';
import {
  bumpsTokenVersion,
  canView,
  checkCreate,
  checkDelete,
  checkUpdate,
  Denial,
  UserChanges,
} from './user-permissions';
import { ActiveStatus, Course, Organization, Role, UserState } from './user.enums';

/** Serializes the "is another ACTIVE ADM left?" check across requests and replicas. */
const LAST_ADMIN_LOCK_KEY = 7_346_221_902;

const UPDATABLE = [
  'name',
  'role',
  'organization',
  'course',
  'year',
  'ra',
  'state',
  'active',
] as const satisfies ReadonlyArray<keyof UpdateUserDto & keyof User>;

/** By name, case-insensitively, then id; the cursor holds lower(name) as PostgreSQL wrote it. */
const USER_ORDER: ListOrder = {
  list: 'users',
  keys: [
    { expr: 'lower(name)', type: 'text' },
    { expr: 'id', type: 'uuid' },
  ],
  direction: 'ASC',
};

/** What a list item needs (never the password hash). */
const USER_COLUMNS =
  'id, name, email, ra, role, organization, course, year, state, active, last_login_at, ' +
  'created_at, updated_at';

interface UserRow extends Record<string, unknown> {
  id: string;
  name: string;
  email: string;
  ra: string | null;
  role: Role;
  organization: Organization | null;
  course: Course | null;
  year: number | null;
  state: UserState;
  active: ActiveStatus;
  last_login_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

function toUser(row: UserRow): User {
  return Object.assign(new User(), {
    id: row.id,
    name: row.name,
    email: row.email,
    ra: row.ra,
    role: row.role,
    organization: row.organization,
    course: row.course,
    year: row.year,
    state: row.state,
    active: row.active,
    lastLoginAt: row.last_login_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  });
}

/** `%`, `_` and `\` match literally inside ILIKE. */
export function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function forbidden(denial: Denial): AppError {
  return AppError.forbidden(denial.detail, denial.code);
}

function emailTaken(): AppError {
  return AppError.conflict('A user with that email already exists.', 'user_email_taken');
}

/** ALLOWED_EMAIL_DOMAINS refuses the address: a 400 naming the field. */
export function emailDomainNotAllowed(allowedDomains: readonly string[]): AppError {
  return AppError.badRequest(
    'The email is not in a domain this portal accepts.',
    [{ field: 'email', message: `email must be an address of ${allowedDomains.join(', ')}` }],
    'email_domain_not_allowed',
  );
}

function isUniqueViolation(err: unknown): boolean {
  return (
    err instanceof QueryFailedError &&
    (err.driverError as { code?: string } | undefined)?.code === '23505'
  );
}

/** The audit snapshot of a user: the public fields, never the password hash. */
function snapshot(user: User): object {
  return { ...UserResponseDto.from(user) };
}

@Injectable()
export class UsersService {
  constructor(
    @InjectRepository(User) private readonly users: Repository<User>,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly hasher: PasswordHasher,
    private readonly audit: AuditService,
    private readonly config: AppConfig,
  ) {}

  /** The id must already be a validated UUID (see UuidParam). */
  async getById(id: string): Promise<User> {
    const user = await this.users.findOne({ where: { id } });
    if (!user) throw AppError.notFound('No user with that id.', 'user_not_found');
    return user;
  }

  /** GET /users/:id: a user the caller may not act on is answered like an unknown one. */
  async getVisible(actor: AuthUser, id: string): Promise<User> {
    const user = await this.users.findOne({ where: { id } });
    if (!user || !canView(actor, user)) {
      throw AppError.notFound('No user with that id.', 'user_not_found');
    }
    return user;
  }

  /** GET /users: filtered, sorted by name case-insensitively (then id), in keyset pages. */
  async list(
    actor: AuthUser,
    query: ListUsersQueryDto,
  ): Promise<Page<UserResponseDto | UserSummaryDto>> {
    const page = await fetchPage<UserRow>(this.dataSource, this.listQuery(actor, query), query);
    return { ...page, items: page.items.map((row) => userListItem(actor, toUser(row))) };
  }

  /**
   * GET /users as one keyset query over users_name_lower_idx (lower(name), id), or the
   * (role|organization|state, lower(name), id) index of the filter given.
   */
  listQuery(actor: AuthUser, query: ListUsersQueryDto): KeysetQuery {
    // Every ACTIVE, APPROVED user sees every user (a USER without the others' ids).
    const visibility = 'everyone';
    const conditions: Sql[] = [];
    if (query.name) {
      conditions.push(sql`name ILIKE ${`%${escapeLike(query.name)}%`} ESCAPE '\\'`);
    }
    // 21.01234-5 and 21012345 are the same student number (users_ra_digits_idx).
    const ra = query.ra?.replace(/\D/g, '');
    if (ra) conditions.push(sql`regexp_replace(ra, '[^0-9]', '', 'g') = ${ra}`);
    if (query.state !== undefined) conditions.push(sql`state = ${query.state}`);
    if (query.role !== undefined) conditions.push(sql`role = ${query.role}`);
    if (query.active !== undefined) conditions.push(sql`active = ${query.active}`);
    if (query.course !== undefined) conditions.push(sql`course = ${query.course}`);
    if (query.year !== undefined) conditions.push(sql`year = ${query.year}`);
    if (query.organization !== undefined) {
      conditions.push(sql`organization = ${query.organization}`);
    }
    return {
      order: USER_ORDER,
      select: raw(USER_COLUMNS),
      from: raw('users'),
      branches: [conditions],
      context: {
        visibility,
        name: query.name,
        ra,
        state: query.state,
        role: query.role,
        active: query.active,
        course: query.course,
        year: query.year,
        organization: query.organization,
      },
    };
  }

  /**
   * POST /users. A PRESIDENT's user lands in the PRESIDENT's organization unless given. The
   * email's domain must be allowed (ALLOWED_EMAIL_DOMAINS); `ra` defaults to the one in a
   * student address, and a given one that disagrees with it is kept and flagged.
   */
  async create(
    actor: AuthUser,
    dto: CreateUserDto,
  ): Promise<{ user: User; warnings: FieldWarning[] }> {
    const organization =
      dto.organization !== undefined
        ? dto.organization
        : actor.role === Role.PRESIDENT
          ? actor.organization
          : null;
    const denial = checkCreate(actor, { role: dto.role, organization });
    if (denial) throw forbidden(denial);
    if (!isEmailDomainAllowed(dto.email, this.config.allowedEmailDomains)) {
      throw emailDomainNotAllowed(this.config.allowedEmailDomains);
    }
    const { ra, warning } = resolveRa(dto.email, dto.ra);

    const passwordHash = dto.password ? await this.hasher.hash(dto.password) : null;
    try {
      const user = await this.dataSource.transaction(async (manager) => {
        if (await manager.exists(User, { where: { email: dto.email } })) throw emailTaken();
        const user = manager.create(User, {
          name: dto.name,
          email: dto.email,
          role: dto.role,
          organization,
          course: dto.course ?? null,
          year: dto.year ?? null,
          ra,
          state: dto.state ?? UserState.PENDING,
          active: dto.active ?? ActiveStatus.ACTIVE,
          passwordHash,
        });
        await manager.insert(User, user);
        const created = await manager.findOneOrFail(User, { where: { id: user.id } });
        await this.audit.record(
          {
            actor,
            action: 'user.create',
            targetType: 'user',
            targetId: created.id,
            before: null,
            after: { ...snapshot(created), password_set: passwordHash !== null },
          },
          manager,
        );
        return created;
      });
      return { user, warnings: warning ? [warning] : [] };
    } catch (err) {
      // Two requests for the same email at once: the unique index decides.
      if (isUniqueViolation(err)) throw emailTaken();
      throw err;
    }
  }

  /** PATCH /users/:id. Only the fields whose value changes are checked against the rules. */
  async update(actor: AuthUser, id: string, dto: UpdateUserDto): Promise<User> {
    return this.dataSource.transaction(async (manager) => {
      const target = await this.lockUser(manager, id);
      const changes: UserChanges = {};
      const set: QueryDeepPartialEntity<User> = {};
      for (const field of UPDATABLE) {
        const value = dto[field];
        if (value !== undefined && value !== target[field]) {
          (changes as Record<string, unknown>)[field] = value;
          (set as Record<string, unknown>)[field] = value;
        }
      }
      if (dto.password !== undefined) changes.password = dto.password;

      const denial = checkUpdate(actor, target, changes);
      if (denial) throw forbidden(denial);
      if (Object.keys(changes).length === 0) return target;

      const deactivates =
        changes.active !== undefined &&
        changes.active !== ActiveStatus.ACTIVE &&
        target.active === ActiveStatus.ACTIVE;
      if (target.role === Role.ADM && deactivates) {
        await this.ensureAnotherActiveAdmin(manager, target.id);
      }
      if (changes.password !== undefined) {
        set.passwordHash = await this.hasher.hash(changes.password);
        // A new password set by an ADM also lifts a login lockout.
        set.failedLoginCount = 0;
        set.lockedUntil = null;
      }
      if (bumpsTokenVersion(changes)) {
        set.tokenVersion = () => 'token_version + 1';
        // A role change, a new password or a deactivation ends every session of the user.
        await revokeUserSessions(manager, target.id);
      }

      await manager.update(User, { id: target.id }, set);
      const updated = await manager.findOneOrFail(User, { where: { id: target.id } });
      await this.audit.record(
        {
          actor,
          action: 'user.update',
          targetType: 'user',
          targetId: target.id,
          before: snapshot(target),
          after: { ...snapshot(updated), password_changed: changes.password !== undefined },
        },
        manager,
      );
      return updated;
    });
  }

  /** DELETE /users/:id. The last ACTIVE ADM cannot be deleted (not even by itself). */
  async remove(actor: AuthUser, id: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const target = await this.lockUser(manager, id);
      const denial = checkDelete(actor, target);
      if (denial) throw forbidden(denial);
      if (target.role === Role.ADM && target.active === ActiveStatus.ACTIVE) {
        await this.ensureAnotherActiveAdmin(manager, target.id);
      }
      await manager.delete(User, { id: target.id });
      await this.audit.record(
        {
          actor,
          action: 'user.delete',
          targetType: 'user',
          targetId: target.id,
          before: snapshot(target),
          after: null,
        },
        manager,
      );
    });
  }

  private async lockUser(manager: EntityManager, id: string): Promise<User> {
    const user = await manager.findOne(User, {
      where: { id },
      lock: { mode: 'pessimistic_write' },
    });
    if (!user) throw AppError.notFound('No user with that id.', 'user_not_found');
    return user;
  }

  /**
   * Refuses to remove or deactivate the last ACTIVE ADM: nobody could administer the portal
   * any more. An advisory lock serializes the check, so two ADMs deleting themselves at once
   * cannot both pass it.
   */
  private async ensureAnotherActiveAdmin(manager: EntityManager, exceptId: string): Promise<void> {
    await manager.query('SELECT pg_advisory_xact_lock($1)', [LAST_ADMIN_LOCK_KEY]);
    const others: Array<{ n: number }> = await manager.query(
      `SELECT count(*)::int AS n FROM users WHERE role = 'ADM' AND active = 'ACTIVE' AND id <> $1`,
      [exceptId],
    );
    if ((others[0]?.n ?? 0) === 0) {
      throw AppError.conflict(
        'This is the last active ADM; make another user ADM first.',
        'last_admin',
      );
    }
  }
}
