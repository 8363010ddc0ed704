import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsEnum, IsOptional, IsString, Length, ValidateIf } from 'class-validator';
import { IsIsoDateTime } from '../../common/validation/iso-date-time.validator';
import { Trim } from '../../common/validation/trim.transform';
import { Organization, Role } from '../../users/user.enums';
import { DESCRIPTION_MAX, TITLE_MAX } from './create-warning.dto';

// Absent means "leave as is"; null is refused except for target_org (null: every organization).
const present = (_: object, value: unknown): boolean => value !== undefined;

/** PATCH /warnings/:id: any subset of the fields, at least one. */
export class UpdateWarningDto {
  @ApiPropertyOptional({ minLength: 1, maxLength: TITLE_MAX })
  @ValidateIf(present)
  @Trim()
  @IsString()
  @Length(1, TITLE_MAX)
  title?: string;

  @ApiPropertyOptional({ minLength: 1, maxLength: DESCRIPTION_MAX })
  @ValidateIf(present)
  @Trim()
  @IsString()
  @Length(1, DESCRIPTION_MAX)
  description?: string;

  @ApiPropertyOptional({ enum: Role })
  @ValidateIf(present)
  @IsEnum(Role)
  target_role?: Role;

  @ApiPropertyOptional({ enum: Organization, nullable: true })
  @IsOptional()
  @IsEnum(Organization)
  target_org?: Organization | null;

  @ApiPropertyOptional({ format: 'date-time', description: 'must be in the future' })
  @ValidateIf(present)
  @IsIsoDateTime()
  expires_at?: string;
}
