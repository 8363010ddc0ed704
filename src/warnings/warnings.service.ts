import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Brackets, DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import type { AuthUser } from '../auth/auth-user';
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
   */
  async list(caller: AuthUser, query: ListWarningsQueryDto): Promise<Page<Warning>> {
    const qb = this.dataSource
      .getRepository(Warning)
      .createQueryBuilder('w')
      .where('w.expiresAt > :now', { now: this.clock.now() });
    if (caller.role !== Role.ADM) {
      qb.andWhere('w.targetRole = :callerRole', { callerRole: caller.role }).andWhere(
        new Brackets((or) => {
          or.where('w.targetOrg IS NULL').orWhere('w.targetOrg = :all', {
            all: Organization.ALL,
          });
          if (caller.organization) {
            or.orWhere('w.targetOrg = :callerOrg', { callerOrg: caller.organization });
          }
        }),
      );
    }
    if (query.role) qb.andWhere('w.targetRole = :role', { role: query.role });
    if (query.organization) {
      qb.andWhere('w.targetOrg = :organization', { organization: query.organization });
    }
    const [items, total] = await qb
      .orderBy('w.createdAt', 'DESC')
      .addOrderBy('w.id', 'DESC')
      .take(query.limit)
      .skip(query.offset)
      .getManyAndCount();
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
        actor: { id: caller.id, email: caller.email },
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
