import { ApiProperty } from '@nestjs/swagger';
import type { AuthUser } from '../../common/auth-user';
import type { User } from '../entities/user.entity';
import { hidesIdOf } from '../user-permissions';
import { Organization, Role } from '../user.enums';
import { UserResponseDto } from './user-response.dto';

/**
 * What a USER sees of another user in GET /users: who they are and where, nothing else (no
 * id, email, RA, course, state or dates). Built field by field like UserResponseDto.
 */
export class UserSummaryDto {
  @ApiProperty({
    type: 'null',
    description: "always null: a USER does not get other users' ids",
  })
  id: null;
  @ApiProperty() name: string;
  @ApiProperty({ enum: Role }) role: Role;
  @ApiProperty({ enum: Organization, nullable: true }) organization: Organization | null;

  static from(user: User): UserSummaryDto {
    return { id: null, name: user.name, role: user.role, organization: user.organization };
  }
}

/** One item of GET /users: the full user, or its summary for a USER looking at someone else. */
export function userListItem(caller: AuthUser, user: User): UserResponseDto | UserSummaryDto {
  return hidesIdOf(caller, user) ? UserSummaryDto.from(user) : UserResponseDto.from(user);
}
