import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtAuthGuard } from '../common/guards/jwt-auth.guard';
import { ApprovalGuard } from '../common/guards/approval.guard';
import { RolesGuard } from '../common/guards/roles.guard';
import { SessionsModule } from '../sessions/sessions.module';
import { AccessTokenVerifier } from './access-token.verifier';
import { AdminBootstrapService } from './admin-bootstrap.service';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { JwksController } from './jwks.controller';
import { JwtStrategy } from './jwt.strategy';
import { LoginLockout } from './login-lockout.service';
import { MicrosoftAccounts } from './microsoft-accounts.service';
import { MicrosoftIdTokenVerifier } from './microsoft-id-token.verifier';
import { MicrosoftSigningKeys } from './microsoft-signing-keys';
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
    MicrosoftSigningKeys,
    MicrosoftIdTokenVerifier,
    MicrosoftAccounts,
    AdminBootstrapService,
    SigningKeysNotice,
    // Global guards run in this order: who is calling, is the account approved, its role.
    { provide: APP_GUARD, useClass: JwtAuthGuard },
    { provide: APP_GUARD, useClass: ApprovalGuard },
    { provide: APP_GUARD, useClass: RolesGuard },
  ],
  exports: [TokenService, PasswordHasher, AccessTokenVerifier, AuthService, SessionsModule],
})
export class AuthModule {}
