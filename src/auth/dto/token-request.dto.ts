import { ApiPropertyOptional, ApiProperty } from '@nestjs/swagger';
import { Equals, IsNotEmpty, IsOptional, IsString, MaxLength, ValidateIf } from 'class-validator';

/**
 * POST /auth/token body: the OAuth2 password form (`username`, `password`, optional
 * `grant_type=password` and `scope`) or JSON `{email, password}`. Exactly one of email and
 * username. Nothing else is accepted.
 */
export class TokenRequestDto {
  @ApiPropertyOptional({ description: 'The account email (JSON).', maxLength: 320 })
  @ValidateIf((o: TokenRequestDto) => o.username === undefined)
  @IsString()
  @IsNotEmpty()
  @MaxLength(320)
  email?: string;

  @ApiPropertyOptional({ description: 'The account email (OAuth2 password form).' })
  @ValidateIf((o: TokenRequestDto) => o.email === undefined)
  @IsString()
  @IsNotEmpty()
  @MaxLength(320)
  username?: string;

  @ApiProperty({ maxLength: 1024 })
  @IsString()
  @IsNotEmpty()
  @MaxLength(1024)
  password: string;

  @ApiPropertyOptional({ enum: ['password'], description: 'OAuth2 clients send it; optional.' })
  @IsOptional()
  @Equals('password', { message: 'grant_type must be "password"' })
  grant_type?: string;

  @ApiPropertyOptional({ description: 'OAuth2 scope; accepted and ignored.' })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  scope?: string;
}
