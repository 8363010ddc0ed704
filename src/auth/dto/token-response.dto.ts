import { ApiProperty } from '@nestjs/swagger';
import type { TokenResponse } from '../token.service';

export class TokenResponseDto implements TokenResponse {
  @ApiProperty() access_token: string;
  @ApiProperty({ enum: ['bearer'] }) token_type: 'bearer';
  @ApiProperty({ description: 'Seconds until the token expires.' }) expires_in: number;
}
