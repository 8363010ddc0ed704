import { ApiProperty } from '@nestjs/swagger';
import type { TokenPair } from '../token.service';

/** Every sign-in and refresh answers this pair. */
export class TokenResponseDto implements TokenPair {
  @ApiProperty({ description: 'ES256 JWS (`typ` at+jwt, `kid`); send as `Authorization: Bearer`.' })
  access_token: string;
  @ApiProperty({ enum: ['bearer'] }) token_type: 'bearer';
  @ApiProperty({ description: 'Seconds until the access token expires (at most 900).' })
  expires_in: number;
  @ApiProperty({
    description: 'Opaque, single use: POST /auth/refresh spends it and answers a new pair.',
  })
  refresh_token: string;
  @ApiProperty({ description: 'Seconds until the refresh token stops working unless used.' })
  refresh_expires_in: number;
}
