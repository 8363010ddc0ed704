import { Controller, Get, Query } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiForbiddenResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { Roles } from '../common/decorators/roles.decorator';
import { Role } from '../users/user.enums';
import { AuditLogService } from './audit-log.service';
import { AuditLogEntryResponseDto, AuditLogPageDto } from './dto/audit-log-entry-response.dto';
import { AuditLogQueryDto } from './dto/audit-log-query.dto';

@ApiTags('audit-log')
@ApiBearerAuth()
@Controller('audit-log')
export class AuditLogController {
  constructor(private readonly auditLog: AuditLogService) {}

  @Get()
  @Roles(Role.ADM)
  @ApiOperation({ summary: 'Admin actions, newest first (ADM)' })
  @ApiOkResponse({ type: AuditLogPageDto })
  @ApiForbiddenResponse({ description: 'Not an ADM' })
  async list(@Query() query: AuditLogQueryDto): Promise<AuditLogPageDto> {
    const page = await this.auditLog.list(query);
    return { ...page, items: page.items.map((e) => AuditLogEntryResponseDto.from(e)) };
  }
}
