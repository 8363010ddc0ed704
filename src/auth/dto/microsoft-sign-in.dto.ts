import { ApiProperty } from '@nestjs/swagger';
import { IsNotEmpty, IsString, Matches, MaxLength } from 'class-validator';

export class MicrosoftSignInDto {
  @ApiProperty({
    description:
      'The Entra ID (OpenID Connect) ID token the front end received for the user (MSAL ' +
      '`idToken`): a compact JWS signed RS256 by the tenant, audience MICROSOFT_CLIENT_ID.',
    maxLength: 16_384,
    pattern: '^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]*$',
  })
  @IsString()
  @IsNotEmpty()
  @MaxLength(16_384)
  // The shape of a compact JWS; whether it is a good one is for the verifier (401).
  @Matches(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/, {
    message: 'id_token must be a JWT (three base64url parts separated by dots)',
  })
  id_token: string;
}
