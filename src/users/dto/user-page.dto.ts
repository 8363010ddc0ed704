import { ApiExtraModels, ApiProperty, getSchemaPath } from '@nestjs/swagger';
import type { Page } from '../../common/dto/page.dto';
import { UserResponseDto } from './user-response.dto';
import { UserSummaryDto } from './user-summary.dto';

/** OpenAPI shape of GET /users. */
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
  @ApiProperty() total: number;
  @ApiProperty() limit: number;
  @ApiProperty() offset: number;
}
