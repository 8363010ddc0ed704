import { ApiPropertyOptional, OmitType, PartialType } from '@nestjs/swagger';
import { Organization } from '../user.enums';
import { CreateUserDto } from './create-user.dto';

/**
 * PATCH /users/:id: any subset of the create fields but email, under the same rules.
 * Present means "change it": a field sent as null is validated, so only those the create
 * body already lets be null (organization, course, year, ra) may be cleared.
 */
export class UpdateUserDto extends PartialType(OmitType(CreateUserDto, ['email'] as const), {
  skipNullProperties: false,
}) {
  // Documentation only: the rules are inherited.
  @ApiPropertyOptional({ enum: Organization, nullable: true, description: 'ADM only' })
  declare organization?: Organization | null;

  @ApiPropertyOptional({ description: 'ADM only; same rules as on create' })
  declare password?: string;
}
