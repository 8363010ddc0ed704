import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsByteLength,
  IsEmail,
  IsEnum,
  IsInt,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateIf,
} from 'class-validator';
import { ActiveStatus, Course, Organization, RA_PATTERN, Role, UserState } from '../user.enums';
import { NormalizeEmail, PASSWORD_MAX_BYTES, PASSWORD_MIN_LENGTH, Trim } from './user-fields';

const present = (_o: object, v: unknown): boolean => v !== undefined;

/** POST /users. Unknown fields are refused (global ValidationPipe). */
export class CreateUserDto {
  @ApiProperty({ minLength: 2, maxLength: 200, example: 'Ana Lima' })
  @Trim()
  @IsString()
  @Length(2, 200)
  name: string;

  @ApiProperty({ format: 'email', maxLength: 320, description: 'stored lower-case' })
  @NormalizeEmail()
  @IsString()
  @MaxLength(320)
  @IsEmail()
  email: string;

  @ApiProperty({ enum: Role })
  @IsEnum(Role)
  role: Role;

  @ApiPropertyOptional({
    enum: Organization,
    nullable: true,
    description: "a PRESIDENT's own organization when a PRESIDENT leaves it out",
  })
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

  @ApiPropertyOptional({
    type: String,
    pattern: RA_PATTERN.source,
    nullable: true,
    example: '21.01234-5',
    description:
      'on create, left out or null: the RA of a student address (21.01234-5@domain), if any',
  })
  @IsOptional()
  @Trim()
  @IsString()
  @Matches(RA_PATTERN, { message: 'ra must look like 21.01234-5 or 21012345' })
  ra?: string | null;

  @ApiPropertyOptional({ enum: UserState, description: 'PENDING when left out on create' })
  @ValidateIf(present)
  @IsEnum(UserState)
  state?: UserState;

  @ApiPropertyOptional({ enum: ActiveStatus, description: 'ACTIVE when left out on create' })
  @ValidateIf(present)
  @IsEnum(ActiveStatus)
  active?: ActiveStatus;

  @ApiPropertyOptional({
    minLength: PASSWORD_MIN_LENGTH,
    description: 'without one the user cannot sign in until an ADM sets it',
  })
  @ValidateIf(present)
  @IsString()
  @MinLength(PASSWORD_MIN_LENGTH)
  @IsByteLength(1, PASSWORD_MAX_BYTES, {
    message: `password must be at most ${PASSWORD_MAX_BYTES} bytes`,
  })
  password?: string;
}
