import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { AppConfig } from '../config/app-config';
import type { User } from '../users/entities/user.entity';
import type { JwtClaims } from './jwt-claims';

export interface TokenResponse {
  access_token: string;
  token_type: 'bearer';
  expires_in: number;
}

@Injectable()
export class TokenService {
  constructor(
    private readonly jwt: JwtService,
    private readonly config: AppConfig,
  ) {}

  async issue(
    user: Pick<User, 'id' | 'role' | 'organization' | 'tokenVersion'>,
  ): Promise<TokenResponse> {
    const claims: JwtClaims = {
      sub: user.id,
      role: user.role,
      organization: user.organization,
      token_version: user.tokenVersion,
    };
    const access_token = await this.jwt.signAsync(claims);
    return { access_token, token_type: 'bearer', expires_in: this.config.jwtExpiresInSeconds };
  }
}
