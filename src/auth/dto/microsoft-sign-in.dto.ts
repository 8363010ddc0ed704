import { ApiProperty } from '@nestjs/swagger';
import { IsNotEmpty, IsString, Matches, MaxLength } from 'class-validator';

export class MicrosoftSignInDto {
  @ApiProperty({ description: 'A Microsoft Graph access token of the signing-in user.' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(16_384)
  // Sent on as a header value: visible ASCII only.
  @Matches(/^[\x21-\x7e]+$/, { message: 'access_token must be a token' })
  access_token: string;
}
