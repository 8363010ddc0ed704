import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsEnum, IsOptional, IsString, Length } from 'class-validator';
import { IsIsoDateTime } from '../../common/validation/iso-date-time.validator';
import { Trim } from '../../common/validation/trim.transform';
import { Organization, Role } from '../../users/user.enums';

export const TITLE_MAX = 200;
export const DESCRIPTION_MAX = 5000;

/** POST /warnings. Title and description are trimmed first. */
export class CreateWarningDto {
  @ApiProperty({ minLength: 1, maxLength: TITLE_MAX })
  @Trim()
  @IsString()
  @Length(1, TITLE_MAX)
  title: string;

  @ApiProperty({ minLength: 1, maxLength: DESCRIPTION_MAX })
  @Trim()
  @IsString()
  @Length(1, DESCRIPTION_MAX)
  description: string;

  @ApiPropertyOptional({ enum: Role, default: Role.PRESIDENT })
  @IsOptional()
  @IsEnum(Role)
  target_role?: Role;

  @ApiPropertyOptional({
    enum: Organization,
    nullable: true,
    description: 'null or ALL: every organization',
  })
  @IsOptional()
  @IsEnum(Organization)
  target_org?: Organization | null;

  @ApiProperty({ format: 'date-time', description: 'must be in the future' })
  @IsIsoDateTime()
  expires_at: string;
}
