import { Body, Controller, Header, HttpCode, HttpStatus, Post } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiBody,
  ApiConflictResponse,
  ApiConsumes,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
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
  @ApiOperation({
    summary: 'Sign in with a Microsoft (Entra ID) account',
    description:
      'Send the OpenID Connect ID token the front end got from Entra ID. It is verified here ' +
      '(RS256 signature with the tenant keys, iss, aud, tid in MICROSOFT_TENANT_IDS, exp/nbf). ' +
      'The identity is (tid, oid); the first sign-in links an account of the same email with ' +
      'no Microsoft identity when its domain is in ALLOWED_EMAIL_DOMAINS, or creates a USER, ' +
      'PENDING, ACTIVE. A PENDING account may only read GET /users/me until approved.',
    // Public: no bearer token.
    security: [],
  })
  @ApiBody({ type: MicrosoftSignInDto })
  @ApiOkResponse({ type: TokenResponseDto })
  @ApiBadRequestResponse({ description: 'Malformed body (validation_failed).' })
  @ApiUnauthorizedResponse({
    description:
      'microsoft_token_rejected: bad signature, algorithm, iss, aud, tenant, exp or nbf, or ' +
      'no email for a new account; account_inactive.',
  })
  @ApiForbiddenResponse({
    description:
      'email_domain_not_allowed: a first sign-in of an address outside ALLOWED_EMAIL_DOMAINS.',
  })
  @ApiNotFoundResponse({
    description: 'microsoft_sign_in_disabled: MICROSOFT_CLIENT_ID is not set on this server.',
  })
  @ApiConflictResponse({
    description:
      'microsoft_identity_conflict: the account of this email is linked to another Microsoft ' +
      'identity, or may not be linked (its domain is not in ALLOWED_EMAIL_DOMAINS).',
  })
  @ApiTooManyRequestsResponse({ description: 'account_locked; see Retry-After.' })
  @ApiServiceUnavailableResponse({
    description:
      "microsoft_keys_unavailable: the tenant's signing keys could not be fetched in time.",
  })
  async microsoft(@Body() body: MicrosoftSignInDto): Promise<TokenResponseDto> {
    return this.auth.signInWithMicrosoft(body.id_token);
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
