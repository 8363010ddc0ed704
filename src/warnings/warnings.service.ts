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
import { Organization, Role } from '../users/user.enums';
import { CreateWarningDto } from './dto/create-warning.dto';
import { ListWarningsQueryDto } from './dto/list-warnings-query.dto';
import { UpdateWarningDto } from './dto/update-warning.dto';
import { WarningResponseDto } from './dto/warning-response.dto';
import { Warning } from './entities/warning.entity';
import { WarningEventKind } from './entities/warning-event.entity';
import { recordWarningEvents, WarningJson } from './stream/warning-events';
import { canSeeWarning, isExpired, WarningAudience } from './warning-visibility';

const TARGET_TYPE = 'warning';

/** Newest first; the cursor holds created_at (to the microsecond) and id. */
const WARNING_ORDER: ListOrder = {
  list: 'warnings',
  keys: [
    { expr: 'created_at', type: 'timestamptz' },
    { expr: 'id', type: 'uuid' },
  ],
  direction: 'DESC',
};

type Audience = 'everything' | WarningAudience;

/** The target_org values a user of this audience sees: none (null), ALL and its own. */
function audienceOrganizations(audience: WarningAudience): Array<Organization | null> {
  const orgs: Array<Organization | null> = [null, Organization.ALL];
  if (audience.organization !== null && !orgs.includes(audience.organization)) {
    orgs.push(audience.organization);
  }
  return orgs;
}

const WARNING_COLUMNS =
  'id, title, description, target_role, target_org, expires_at, created_by, created_at';

interface WarningRow extends Record<string, unknown> {
  id: string;
  title: string;
  description: string;
  target_role: Role;
  target_org: Organization | null;
  expires_at: Date;
  created_by: string | null;
  created_at: Date;
}

function toWarning(row: WarningRow): Warning {
  return Object.assign(new Warning(), {
    id: row.id,
    title: row.title,
    description: row.description,
    targetRole: row.target_role,
    targetOrg: row.target_org,
    expiresAt: row.expires_at,
    createdBy: row.created_by,
    createdAt: row.created_at,
  });
}

@Injectable()
export class WarningsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  /** ADM only (the controller checks the role). */
  async create(caller: AuthUser, dto: CreateWarningDto): Promise<Warning> {
    const expiresAt = this.futureInstant(dto.expires_at);
    return this.dataSource.transaction(async (manager) => {
      const warning = manager.create(Warning, {
        title: dto.title,
        description: dto.description,
        targetRole: dto.target_role ?? Role.PRESIDENT,
        targetOrg: dto.target_org ?? null,
        expiresAt,
        createdBy: caller.id,
      });
      await manager.save(Warning, warning);
      await this.record(manager, caller, 'warning.create', warning.id, null, warning);
      await recordWarningEvents(manager, [
        {
          warningId: warning.id,
          kind: WarningEventKind.CREATED,
          targetRole: warning.targetRole,
          targetOrg: warning.targetOrg,
          payload: asJson(warning),
        },
      ]);
      return warning;
    });
  }

  /**
   * Newest first (created_at DESC, id DESC), in keyset pages. Expired warnings are never
   * listed; an ADM sees every other one, anyone else those addressed to their role and
   * organization (the SQL form of canSeeWarning). An ADM may ask for what a user of a given
   * role and organization sees (as_role, as_organization): the same rule and statement.
   */
  async list(caller: AuthUser, query: ListWarningsQueryDto): Promise<Page<Warning>> {
    const page = await fetchPage<WarningRow>(this.dataSource, this.listQuery(caller, query), query);
    return { ...page, items: page.items.map(toWarning) };
  }

  /**
   * GET /warnings as one keyset query. For a user (not ADM) the rule "my role, and no
   * organization, ALL or mine" is one branch per organization term, each read newest first
   * through warnings_audience_idx (target_role, target_org, created_at, id) and merged: a page
   * reads about `limit` rows however many warnings there are. The filters narrow the branches.
   */
  listQuery(caller: AuthUser, query: ListWarningsQueryDto): KeysetQuery {
    const audience = this.audienceFor(caller, query);
    const now = this.clock.now();
    const live = sql`expires_at > ${now}`;
    let branches: Sql[][];
    if (audience === 'everything') {
      const conditions = [live];
      if (query.role) conditions.push(sql`target_role = ${query.role}`);
      if (query.organization) conditions.push(sql`target_org = ${query.organization}`);
      branches = [conditions];
    } else if (query.role !== undefined && query.role !== audience.role) {
      branches = [];
    } else {
      branches = audienceOrganizations(audience)
        .filter((org) => query.organization === undefined || org === query.organization)
        .map((org) => [
          sql`target_role = ${audience.role}`,
          org === null ? raw('target_org IS NULL') : sql`target_org = ${org}`,
          live,
        ]);
    }
    return {
      order: WARNING_ORDER,
      select: raw(WARNING_COLUMNS),
      from: raw('warnings'),
      branches,
      context: { audience, role: query.role, organization: query.organization },
    };
  }

  /** Whose warnings the list shows: everything (an ADM) or those of one audience. */
  private audienceFor(caller: AuthUser, query: ListWarningsQueryDto): Audience {
    if (query.as_role !== undefined) {
      if (caller.role !== Role.ADM) {
        throw AppError.forbidden(
          'Only an ADM may list warnings as another audience (as_role, as_organization).',
          'role_required',
        );
      }
      if (query.as_role === Role.ADM) return 'everything';
      return { role: query.as_role, organization: query.as_organization ?? null };
    }
    if (caller.role === Role.ADM) return 'everything';
    return { role: caller.role, organization: caller.organization };
  }

  /** 404 unless the caller may see it (an expired one is gone for everybody). */
  async get(caller: AuthUser, id: string): Promise<Warning> {
    const warning = await this.dataSource.getRepository(Warning).findOne({ where: { id } });
    if (!warning || !canSeeWarning(warning, caller, this.clock.now())) throw notFound();
    return warning;
  }

  /** ADM only. Any subset of the fields; a new expires_at must be in the future. */
  async update(caller: AuthUser, id: string, dto: UpdateWarningDto): Promise<Warning> {
    if (
      dto.title === undefined &&
      dto.description === undefined &&
      dto.target_role === undefined &&
      dto.target_org === undefined &&
      dto.expires_at === undefined
    ) {
      throw AppError.badRequest(
        'Give at least one of title, description, target_role, target_org, expires_at.',
        undefined,
        'empty_update',
      );
    }
    const expiresAt = dto.expires_at === undefined ? undefined : this.futureInstant(dto.expires_at);
    return this.dataSource.transaction(async (manager) => {
      const warning = await this.findLive(manager, id);
      const before = WarningResponseDto.from(warning);
      if (dto.title !== undefined) warning.title = dto.title;
      if (dto.description !== undefined) warning.description = dto.description;
      if (dto.target_role !== undefined) warning.targetRole = dto.target_role;
      if (dto.target_org !== undefined) warning.targetOrg = dto.target_org;
      if (expiresAt !== undefined) warning.expiresAt = expiresAt;
      await manager.save(Warning, warning);
      await this.record(manager, caller, 'warning.update', id, before, warning);
      const moved =
        before.target_role !== warning.targetRole || before.target_org !== warning.targetOrg;
      await recordWarningEvents(manager, [
        {
          warningId: id,
          kind: WarningEventKind.UPDATED,
          targetRole: warning.targetRole,
          targetOrg: warning.targetOrg,
          previousRole: moved ? before.target_role : null,
          previousOrg: moved ? before.target_org : null,
          payload: asJson(warning),
        },
      ]);
      return warning;
    });
  }

  /** ADM only. */
  async remove(caller: AuthUser, id: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const warning = await this.findLive(manager, id);
      await manager.delete(Warning, { id });
      await this.record(
        manager,
        caller,
        'warning.delete',
        id,
        WarningResponseDto.from(warning),
        null,
      );
      await recordWarningEvents(manager, [
        {
          warningId: id,
          kind: WarningEventKind.DELETED,
          targetRole: warning.targetRole,
          targetOrg: warning.targetOrg,
        },
      ]);
    });
  }

  /** The row, locked for the rest of the transaction; 404 when missing or expired. */
  private async findLive(manager: EntityManager, id: string): Promise<Warning> {
    const warning = await manager.findOne(Warning, {
      where: { id },
      lock: { mode: 'pessimistic_write' },
    });
    if (!warning || isExpired(warning, this.clock.now())) throw notFound();
    return warning;
  }

  private futureInstant(value: string): Date {
    const at = new Date(value);
    if (at.getTime() <= this.clock.now().getTime()) {
      throw AppError.validation(
        [{ field: 'expires_at', message: 'expires_at must be in the future' }],
        'expires_at must be in the future.',
      );
    }
    return at;
  }

  private record(
    manager: EntityManager,
    caller: AuthUser,
    action: string,
    targetId: string,
    before: WarningResponseDto | null,
    after: Warning | null,
  ): Promise<void> {
    return this.audit.record(
      {
        actor: caller,
        action,
        targetType: TARGET_TYPE,
        targetId,
        before,
        after: after ? WarningResponseDto.from(after) : null,
      },
      manager,
    );
  }
}

/** The event payload: the warning exactly as the API answers it. */
function asJson(warning: Warning): WarningJson {
  return { ...WarningResponseDto.from(warning) };
}

function notFound(): AppError {
  return AppError.notFound('No warning with that id.', 'warning_not_found');
}
