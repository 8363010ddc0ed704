import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsEnum, IsIn, IsOptional } from 'class-validator';
import { Organization } from '../user.enums';

export const EXPORT_FORMATS = ['csv', 'xlsx'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export class ExportQueryDto {
  @ApiPropertyOptional({ enum: EXPORT_FORMATS, default: 'csv' })
  @IsOptional()
  @IsIn(EXPORT_FORMATS, { message: 'format must be csv or xlsx' })
  format: ExportFormat = 'csv';

  @ApiPropertyOptional({
    enum: Organization,
    description:
      "only this organization's users (one worksheet in XLSX); a PRESIDENT's own by default",
  })
  @IsOptional()
  @IsEnum(Organization, {
    message: `organization must be one of ${Object.values(Organization).join(', ')}`,
  })
  organization?: Organization;
}
