import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import { NoNul } from '../../common/validation/no-nul.validator';
import { PageQueryDto } from '../../common/pagination/page-query.dto';

/** GET /audit-log filters, each an exact match. */
export class AuditLogQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ example: 'booking.accept' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  @NoNul()
  action?: string;

  @ApiPropertyOptional({ example: 'warning' })
  @IsOptional()
  @IsString()
  @MaxLength(32)
  @NoNul()
  target_type?: string;

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID()
  actor_id?: string;
}
