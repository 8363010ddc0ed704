import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsEnum, IsOptional } from 'class-validator';
import { PageQueryDto } from '../../common/dto/page.dto';
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
}
