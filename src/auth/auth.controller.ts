import { Body, Controller, Header, HttpCode, HttpStatus, Post } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiBody,
  ApiConsumes,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { AppError } from '../common/errors/app-error';
import type { AuthUser } from '../common/auth-user';
import { AuthService } from './auth.service';
import { CurrentUser } from '../common/decorators/current-user.decorator';
import { Public } from '../common/decorators/public.decorator';
import { ChangePasswordDto } from './dto/change-password.dto';
import { MicrosoftSignInDto } from './dto/microsoft-sign-in.dto';
import { TokenRequestDto } from './dto/token-request.dto';
import { TokenResponseDto } from './dto/token-response.dto';

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Public()
  @Post('token')
  @HttpCode(HttpStatus.OK)
  @Header('Cache-Control', 'no-store')
  @ApiConsumes('application/x-www-form-urlencoded', 'application/json')
  @ApiBody({ type: TokenRequestDto })
  @ApiOkResponse({ type: TokenResponseDto })
  @ApiBadRequestResponse({ description: 'Malformed body.' })
  @ApiUnauthorizedResponse({ description: 'Wrong email or password, or an inactive account.' })
  @ApiTooManyRequestsResponse({ description: 'Account locked; see Retry-After.' })
  async token(@Body() body: TokenRequestDto): Promise<TokenResponseDto> {
    if (body.email !== undefined && body.username !== undefined) {
      throw AppError.validation([
        { field: 'username', message: 'give either email or username, not both' },
      ]);
    }
    return this.auth.signInWithPassword((body.email ?? body.username)!, body.password);
  }

  @Public()
  @Post('microsoft')
  @HttpCode(HttpStatus.OK)
  @Header('Cache-Control', 'no-store')
  @ApiOkResponse({ type: TokenResponseDto })
  @ApiBadRequestResponse({ description: 'Malformed body.' })
  @ApiUnauthorizedResponse({ description: 'Microsoft refused the token, or an inactive account.' })
  @ApiForbiddenResponse({ description: 'The email domain may not sign in.' })
  @ApiTooManyRequestsResponse({ description: 'Account locked; see Retry-After.' })
  @ApiServiceUnavailableResponse({ description: 'Microsoft Graph unreachable or too slow.' })
  async microsoft(@Body() body: MicrosoftSignInDto): Promise<TokenResponseDto> {
    return this.auth.signInWithMicrosoft(body.access_token);
  }

  @Post('password')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiBearerAuth()
  @ApiNoContentResponse({ description: 'Changed; every token issued before stops working.' })
  @ApiBadRequestResponse({ description: 'Malformed body or a weak new password (errors[]).' })
  @ApiUnauthorizedResponse({ description: 'Bad token, or the current password is wrong.' })
  @ApiTooManyRequestsResponse({ description: 'Account locked; see Retry-After.' })
  async changePassword(
    @CurrentUser() caller: AuthUser,
    @Body() body: ChangePasswordDto,
  ): Promise<void> {
    await this.auth.changePassword(caller, body.current_password, body.new_password);
  }
}
