import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Equals, IsOptional, IsString } from 'class-validator';
import { AppError, FieldError } from '../../common/errors/app-error';

/**
 * POST /auth/refresh body, JSON or the OAuth2 form (`grant_type=refresh_token` optional). Any
 * string that is not a live refresh token is a 401, not a 400: a cut or garbled token is a bad
 * credential, not a bad request.
 */
export class RefreshRequestDto {
  @ApiProperty({ description: 'The refresh token of the last sign-in or refresh.' })
  @IsString()
  refresh_token: string;

  @ApiPropertyOptional({ enum: ['refresh_token'], description: 'OAuth2 clients send it.' })
  @IsOptional()
  @Equals('refresh_token', { message: 'grant_type must be "refresh_token"' })
  grant_type?: string;
}

/**
 * POST /auth/logout body: the refresh token of the session to end, or no body at all (then the
 * bearer token's session ends). Read by parseLogoutBody: the global pipe refuses a missing body.
 */
export class LogoutRequestDto {
  @ApiPropertyOptional({
    description: "The session's refresh token; without it, the bearer token's session ends.",
  })
  refresh_token?: string;
}

/** The logout body: nothing, or `{refresh_token}` (a string); anything else is a 400. */
export function parseLogoutBody(body: unknown): LogoutRequestDto {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw AppError.badRequest('The request body must be a JSON object.');
  }
  const errors: FieldError[] = Object.keys(body)
    .filter((k) => k !== 'refresh_token')
    .map((field) => ({ field, message: `property ${field} should not exist` }));
  const token = (body as Record<string, unknown>).refresh_token;
  if (token !== undefined && typeof token !== 'string') {
    errors.push({ field: 'refresh_token', message: 'refresh_token must be a string' });
  }
  if (errors.length > 0) throw AppError.validation(errors);
  return typeof token === 'string' ? { refresh_token: token } : {};
}
