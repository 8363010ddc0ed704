import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtAuthGuard } from '../common/guards/jwt-auth.guard';
import { RolesGuard } from '../common/guards/roles.guard';
import { SessionsModule } from '../sessions/sessions.module';
import { AccessTokenVerifier } from './access-token.verifier';
import { AdminBootstrapService } from './admin-bootstrap.service';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { JwksController } from './jwks.controller';
import { JwtStrategy } from './jwt.strategy';
import { LoginLockout } from './login-lockout.service';
import { MicrosoftGraphClient } from './microsoft-graph.client';
import { PasswordHasher } from './password-hasher';
import { SigningKeysNotice } from './signing-keys.notice';
import { TokenService } from './token.service';

@Module({
  imports: [SessionsModule],
  controllers: [AuthController, JwksController],
  providers: [
    AccessTokenVerifier,
    JwtStrategy,
    TokenService,
    PasswordHasher,
    AuthService,
    LoginLockout,
    MicrosoftGraphClient,
    AdminBootstrapService,
    SigningKeysNotice,
    { provide: APP_GUARD, useClass: JwtAuthGuard },
    { provide: APP_GUARD, useClass: RolesGuard },
  ],
  exports: [TokenService, PasswordHasher, AccessTokenVerifier, AuthService, SessionsModule],
})
export class AuthModule {}
