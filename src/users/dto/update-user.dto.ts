import { ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsByteLength,
  IsEnum,
  IsInt,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  Min,
  MinLength,
  ValidateIf,
} from 'class-validator';
import { ActiveStatus, Course, Organization, RA_PATTERN, Role, UserState } from '../user.enums';
import { PASSWORD_MAX_BYTES, PASSWORD_MIN_LENGTH, Trim } from './user-fields';

// Present means "change it"; null is refused for the fields that cannot be empty.
const present = (_o: object, v: unknown): boolean => v !== undefined;

/** PATCH /users/:id: any subset; organization, course, year and ra may be set to null. */
export class UpdateUserDto {
  @ApiPropertyOptional({ minLength: 2, maxLength: 200 })
  @ValidateIf(present)
  @Trim()
  @IsString()
  @Length(2, 200)
  name?: string;

  @ApiPropertyOptional({ enum: Role })
  @ValidateIf(present)
  @IsEnum(Role)
  role?: Role;

  @ApiPropertyOptional({ enum: Organization, nullable: true })
  @IsOptional()
  @IsEnum(Organization)
  organization?: Organization | null;

  @ApiPropertyOptional({ enum: Course, nullable: true })
  @IsOptional()
  @IsEnum(Course)
  course?: Course | null;

  @ApiPropertyOptional({ minimum: 0, maximum: 5, nullable: true, type: Number })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(5)
  year?: number | null;

  @ApiPropertyOptional({ pattern: RA_PATTERN.source, nullable: true })
  @IsOptional()
  @Trim()
  @IsString()
  @Matches(RA_PATTERN, { message: 'ra must look like 21.01234-5 or 21012345' })
  ra?: string | null;

  @ApiPropertyOptional({ enum: UserState })
  @ValidateIf(present)
  @IsEnum(UserState)
  state?: UserState;

  @ApiPropertyOptional({ enum: ActiveStatus })
  @ValidateIf(present)
  @IsEnum(ActiveStatus)
  active?: ActiveStatus;

  @ApiPropertyOptional({ minLength: PASSWORD_MIN_LENGTH, description: 'ADM only' })
  @ValidateIf(present)
  @IsString()
  @MinLength(PASSWORD_MIN_LENGTH)
  @IsByteLength(1, PASSWORD_MAX_BYTES, {
    message: `password must be at most ${PASSWORD_MAX_BYTES} bytes`,
  })
  password?: string;
}
