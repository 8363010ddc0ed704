import { PageOf } from '../../common/pagination/page.dto';
import { UserResponseDto } from './user-response.dto';

/** OpenAPI shape of GET /users. */
export class UserPageDto extends PageOf(UserResponseDto) {}
