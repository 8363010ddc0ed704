import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import type { AuthUser } from '../common/auth-user';
import { Clock } from '../common/clock';
import type { Page } from '../common/dto/page.dto';
import { AppError } from '../common/errors/app-error';
import { Organization, Role } from '../users/user.enums';
import { CreateWarningDto } from './dto/create-warning.dto';
import { ListWarningsQueryDto } from './dto/list-warnings-query.dto';
import { UpdateWarningDto } from './dto/update-warning.dto';
import { WarningResponseDto } from './dto/warning-response.dto';
import { Warning } from './entities/warning.entity';
import { canSeeWarning, isExpired } from './warning-visibility';

const TARGET_TYPE = 'warning';

const WARNING_COLUMNS =
  'id, title, description, target_role, target_org, expires_at, created_by, created_at';

interface WarningRow {
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
      return warning;
    });
  }

  /**
   * Newest first. Expired warnings are never listed; an ADM sees every other one, anyone else
   * those addressed to their role and organization (the SQL form of canSeeWarning).
   *
   * The hottest read of the API, so one parameterized statement of a fixed shape rather than
   * an ORM query built and hydrated on every request; the count runs only when the page does
   * not already tell the total (as TypeORM's getManyAndCount does).
   */
  async list(caller: AuthUser, query: ListWarningsQueryDto): Promise<Page<Warning>> {
    const params: unknown[] = [];
    const arg = (value: unknown): string => {
      params.push(value);
      return `$${params.length}`;
    };
    const where = [`expires_at > ${arg(this.clock.now())}`];
    if (caller.role !== Role.ADM) {
      where.push(`target_role = ${arg(caller.role)}`);
      const orgs = ['target_org IS NULL', `target_org = ${arg(Organization.ALL)}`];
      if (caller.organization) orgs.push(`target_org = ${arg(caller.organization)}`);
      where.push(`(${orgs.join(' OR ')})`);
    }
    if (query.role) where.push(`target_role = ${arg(query.role)}`);
    if (query.organization) where.push(`target_org = ${arg(query.organization)}`);
    const filter = where.join(' AND ');
    const filterParams = [...params];

    const rows: WarningRow[] = await this.dataSource.query(
      `SELECT ${WARNING_COLUMNS} FROM warnings WHERE ${filter}
       ORDER BY created_at DESC, id DESC LIMIT ${arg(query.limit)} OFFSET ${arg(query.offset)}`,
      params,
    );
    const items = rows.map(toWarning);
    const known = items.length < query.limit && (items.length > 0 || query.offset === 0);
    let total = query.offset + items.length;
    if (!known) {
      const counted: Array<{ n: string }> = await this.dataSource.query(
        `SELECT count(*) AS n FROM warnings WHERE ${filter}`,
        filterParams,
      );
      total = Number(counted[0].n);
    }
    return { items, total, limit: query.limit, offset: query.offset };
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

function notFound(): AppError {
  return AppError.notFound('No warning with that id.', 'warning_not_found');
}
