import { Injectable } from '@nestjs/common';
import * as jwt from 'jsonwebtoken';
import { randomUUID } from 'node:crypto';
import { AppConfig } from '../config/app-config';
import type { IssuedRefreshToken } from '../sessions/sessions.service';
import type { User } from '../users/entities/user.entity';
import { ACCESS_TOKEN_TYP } from './jwt-claims';
import { ACCESS_TOKEN_ALGORITHM } from './signing-keys';

/** What every sign-in and refresh answers. */
export interface TokenPair {
  access_token: string;
  token_type: 'bearer';
  /** Seconds until the access token expires. */
  expires_in: number;
  refresh_token: string;
  /** Seconds until the refresh token stops working unless it is used. */
  refresh_expires_in: number;
}

export type TokenSubject = Pick<User, 'id' | 'tokenVersion'>;

/** Signs access tokens with the current key of JWT_SIGNING_KEYS (ES256, kid, typ at+jwt). */
@Injectable()
export class TokenService {
  constructor(private readonly config: AppConfig) {}

  accessToken(user: TokenSubject, sessionId: string): string {
    const keys = this.config.jwtSigningKeys;
    return jwt.sign({ sid: sessionId, token_version: user.tokenVersion }, keys.currentPrivateKey, {
      algorithm: ACCESS_TOKEN_ALGORITHM,
      keyid: keys.currentKid,
      header: { alg: ACCESS_TOKEN_ALGORITHM, typ: ACCESS_TOKEN_TYP },
      issuer: this.config.jwtIssuer,
      audience: this.config.jwtAudience,
      subject: user.id,
      jwtid: randomUUID(),
      expiresIn: this.config.jwtExpiresInSeconds,
    });
  }

  pair(user: TokenSubject, session: IssuedRefreshToken): TokenPair {
    return {
      access_token: this.accessToken(user, session.sessionId),
      token_type: 'bearer',
      expires_in: this.config.jwtExpiresInSeconds,
      refresh_token: session.refreshToken,
      refresh_expires_in: session.refreshExpiresIn,
    };
  }
}
