import { Controller, Delete, Get, Header, HttpCode, HttpStatus } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { AuthUser } from '../common/auth-user';
import { AllowUnapproved } from '../common/decorators/allow-unapproved.decorator';
import { CurrentUser } from '../common/decorators/current-user.decorator';
import { AppError } from '../common/errors/app-error';
import { UuidParam } from '../common/pipes/uuid.pipe';
import { SessionListDto, SessionResponseDto } from './dto/session-response.dto';
import { SessionsService } from './sessions.service';

// Signing a device out must not wait for an approval: open to PENDING and REJECTED callers.
@ApiTags('auth')
@ApiBearerAuth()
@AllowUnapproved()
@Controller('auth/sessions')
export class SessionsController {
  constructor(private readonly sessions: SessionsService) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: "The caller's live sessions (devices signed in)" })
  @ApiOkResponse({ type: SessionListDto })
  @ApiUnauthorizedResponse({ description: 'No valid access token.' })
  async list(@CurrentUser() caller: AuthUser): Promise<SessionListDto> {
    const sessions = await this.sessions.listLive(caller.id);
    return { items: sessions.map((s) => SessionResponseDto.from(s, caller.sessionId)) };
  }

  @Delete(':id')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: "End one of the caller's sessions (sign that device out)" })
  @ApiNoContentResponse({ description: "Ended: the session's tokens stop working at once." })
  @ApiBadRequestResponse({ description: 'The id is not a UUID.' })
  @ApiUnauthorizedResponse({ description: 'No valid access token.' })
  @ApiNotFoundResponse({ description: "No such live session of the caller's." })
  async end(@CurrentUser() caller: AuthUser, @UuidParam('id') id: string): Promise<void> {
    if (!(await this.sessions.end(caller.id, id))) {
      throw AppError.notFound('No live session of yours has that id.', 'session_not_found');
    }
  }
}
