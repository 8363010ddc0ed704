import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsEnum, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { NoNul } from '../../common/validation/no-nul.validator';
import { PageQueryDto } from '../../common/pagination/page-query.dto';
import { ActiveStatus, Course, Organization, RA_PATTERN, Role, UserState } from '../user.enums';
import { Trim } from './user-fields';

/** GET /users filters. Every one is optional; a bad enum or number is a 400. */
export class ListUsersQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'case-insensitive part of the name', maxLength: 200 })
  @IsOptional()
  @Trim()
  @IsString()
  @MaxLength(200)
  @NoNul()
  name?: string;

  @ApiPropertyOptional({ description: 'student number; dots and dashes are ignored' })
  @IsOptional()
  @Trim()
  @IsString()
  @Matches(RA_PATTERN, { message: 'ra must look like 21.01234-5 or 21012345' })
  ra?: string;

  @ApiPropertyOptional({ enum: UserState })
  @IsOptional()
  @IsEnum(UserState)
  state?: UserState;

  @ApiPropertyOptional({ enum: Role })
  @IsOptional()
  @IsEnum(Role)
  role?: Role;

  @ApiPropertyOptional({ enum: ActiveStatus })
  @IsOptional()
  @IsEnum(ActiveStatus)
  active?: ActiveStatus;

  @ApiPropertyOptional({ enum: Course })
  @IsOptional()
  @IsEnum(Course)
  course?: Course;

  @ApiPropertyOptional({ minimum: 0, maximum: 5 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(5)
  year?: number;

  @ApiPropertyOptional({ enum: Organization })
  @IsOptional()
  @IsEnum(Organization)
  organization?: Organization;
}
