import { ApiProperty } from '@nestjs/swagger';
import type { Page } from '../../common/dto/page.dto';
import { UserResponseDto } from './user-response.dto';

/** OpenAPI shape of GET /users. */
export class UserPageDto implements Page<UserResponseDto> {
  @ApiProperty({ type: [UserResponseDto] }) items: UserResponseDto[];
  @ApiProperty() total: number;
  @ApiProperty() limit: number;
  @ApiProperty() offset: number;
}
