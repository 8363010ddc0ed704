import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiProperty, ApiTags } from '@nestjs/swagger';
import { Public } from '../common/decorators/public.decorator';
import { AppConfig } from '../config/app-config';
import type { PublicJwk } from './signing-keys';

class JwkDto implements PublicJwk {
  @ApiProperty({ enum: ['EC'] }) kty: 'EC';
  @ApiProperty({ enum: ['P-256'] }) crv: 'P-256';
  @ApiProperty() x: string;
  @ApiProperty() y: string;
  @ApiProperty({ description: 'Matches the `kid` header of the tokens it verifies.' }) kid: string;
  @ApiProperty({ enum: ['ES256'] }) alg: 'ES256';
  @ApiProperty({ enum: ['sig'] }) use: 'sig';
}

class JwksDto {
  @ApiProperty({ type: [JwkDto] }) keys: JwkDto[];
}

@ApiTags('auth')
@Controller('.well-known')
export class JwksController {
  constructor(private readonly config: AppConfig) {}

  @Public()
  @Get('jwks.json')
  // Rotation publishes the next key a deploy ahead, so a few minutes of caching is safe.
  @Header('Cache-Control', 'public, max-age=300')
  @ApiProduces('application/json')
  @ApiOperation({ summary: 'The public keys that verify access tokens (JWK Set, RFC 7517)' })
  @ApiOkResponse({ type: JwksDto })
  jwks(): JwksDto {
    return this.config.jwtSigningKeys.jwks;
  }
}
