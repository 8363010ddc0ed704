import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { User } from '../entities/user.entity';
import { ActiveStatus, Course, Organization, Role, UserState } from '../user.enums';

/** What leaves the server about a user. Built field by field: a password hash cannot leak. */
export class UserResponseDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty() email: string;
  @ApiPropertyOptional({ nullable: true, type: String }) ra: string | null;
  @ApiProperty({ enum: Role }) role: Role;
  @ApiPropertyOptional({ enum: Organization, nullable: true }) organization: Organization | null;
  @ApiPropertyOptional({ enum: Course, nullable: true }) course: Course | null;
  @ApiPropertyOptional({ nullable: true, type: Number }) year: number | null;
  @ApiProperty({ enum: UserState }) state: UserState;
  @ApiProperty({ enum: ActiveStatus }) active: ActiveStatus;
  @ApiPropertyOptional({ nullable: true, type: String, format: 'date-time' }) last_login_at:
    string | null;
  @ApiProperty({ format: 'date-time' }) created_at: string;
  @ApiProperty({ format: 'date-time' }) updated_at: string;

  static from(user: User): UserResponseDto {
    return {
      id: user.id,
      name: user.name,
      email: user.email,
      ra: user.ra,
      role: user.role,
      organization: user.organization,
      course: user.course,
      year: user.year,
      state: user.state,
      active: user.active,
      last_login_at: user.lastLoginAt ? user.lastLoginAt.toISOString() : null,
      created_at: user.createdAt.toISOString(),
      updated_at: user.updatedAt.toISOString(),
    };
  }
}

/** Something accepted but worth a look, e.g. a given `ra` that disagrees with the address. */
export class FieldWarningDto {
  @ApiProperty({ example: 'ra' }) field: string;
  @ApiProperty({ example: 'ra_differs_from_email', description: 'stable, snake_case' })
  code: string;
  @ApiProperty() message: string;
}

/** POST /users: the user, plus `warnings` (empty when there is nothing to flag). */
export class CreatedUserResponseDto extends UserResponseDto {
  @ApiProperty({ type: [FieldWarningDto] }) warnings: FieldWarningDto[];

  static withWarnings(user: User, warnings: FieldWarningDto[]): CreatedUserResponseDto {
    return { ...UserResponseDto.from(user), warnings: warnings.map((w) => ({ ...w })) };
  }
}
