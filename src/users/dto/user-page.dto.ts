import { ApiExtraModels, ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';
import type { Page } from '../../common/pagination/keyset';
import { UserResponseDto } from './user-response.dto';
import { UserSummaryDto } from './user-summary.dto';

/** OpenAPI shape of GET /users (PageOf, with items that are full users or summaries). */
@ApiExtraModels(UserResponseDto, UserSummaryDto)
export class UserPageDto implements Page<UserResponseDto | UserSummaryDto> {
  @ApiProperty({
    type: 'array',
    items: {
      oneOf: [{ $ref: getSchemaPath(UserResponseDto) }, { $ref: getSchemaPath(UserSummaryDto) }],
    },
    description:
      'Full users for an ADM or PRESIDENT, and for a USER its own entry; a USER gets every ' +
      'other user as a UserSummaryDto ({id: null, name, role, organization}).',
  })
  items: Array<UserResponseDto | UserSummaryDto>;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'pass as ?cursor= for the next page (same filters); null on the last page',
  })
  next_cursor: string | null;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    description: 'the exact number of matching rows; only with ?count=true',
  })
  total?: number;
}
