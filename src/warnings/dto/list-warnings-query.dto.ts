import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsDefined, IsEnum, IsOptional, ValidateIf } from 'class-validator';
import { PageQueryDto } from '../../common/pagination/page-query.dto';
import { Organization, Role } from '../../users/user.enums';

/** GET /warnings. The filters narrow what the caller may see; they never widen it. */
export class ListWarningsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: Role, description: 'target_role equals this' })
  @IsOptional()
  @IsEnum(Role)
  role?: Role;

  @ApiPropertyOptional({ enum: Organization, description: 'target_org equals this' })
  @IsOptional()
  @IsEnum(Organization)
  organization?: Organization;

  @ApiPropertyOptional({
    enum: Role,
    description:
      'ADM only (403 for others): list what a user of this role (and of as_organization, ' +
      'absent: of no organization) sees, by the same rule and statement as for such a user',
  })
  @ValidateIf(
    (o: ListWarningsQueryDto) => o.as_role !== undefined || o.as_organization !== undefined,
  )
  @IsDefined({ message: 'as_role is required with as_organization' })
  @IsEnum(Role)
  as_role?: Role;

  @ApiPropertyOptional({
    enum: Organization,
    description: 'ADM only, with as_role: the organization of the user to list warnings for',
  })
  @IsOptional()
  @IsEnum(Organization)
  as_organization?: Organization;
}
