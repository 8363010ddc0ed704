import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { createSecretKey } from 'node:crypto';
import { AppConfig } from '../config/app-config';
import { JwtAuthGuard } from '../common/guards/jwt-auth.guard';
import { ApprovalGuard } from '../common/guards/approval.guard';
import { RolesGuard } from '../common/guards/roles.guard';
import { AccessTokenVerifier, JWT_ALGORITHM } from './access-token.verifier';
import { AdminBootstrapService } from './admin-bootstrap.service';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { LoginLockout } from './login-lockout.service';
import { MicrosoftAccounts } from './microsoft-accounts.service';
import { MicrosoftIdTokenVerifier } from './microsoft-id-token.verifier';
import { MicrosoftSigningKeys } from './microsoft-signing-keys';
import { PasswordHasher } from './password-hasher';
import { TokenService } from './token.service';

@Module({
  imports: [
    JwtModule.registerAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        // A KeyObject, made once: given a string, jsonwebtoken first tries (and fails) to parse
        // it as a PEM public key on every verify and sign, which costs ~0.5 ms of CPU each.
        secret: createSecretKey(Buffer.from(config.jwtSecret, 'utf8')),
        signOptions: { algorithm: JWT_ALGORITHM, expiresIn: config.jwtExpiresInSeconds },
        verifyOptions: { algorithms: [JWT_ALGORITHM] },
      }),
    }),
  ],
  controllers: [AuthController],
  providers: [
    AccessTokenVerifier,
    TokenService,
    PasswordHasher,
    AuthService,
    LoginLockout,
    MicrosoftSigningKeys,
    MicrosoftIdTokenVerifier,
    MicrosoftAccounts,
    AdminBootstrapService,
    // Global guards run in this order: who is calling, is the account approved, its role.
    { provide: APP_GUARD, useClass: JwtAuthGuard },
    { provide: APP_GUARD, useClass: ApprovalGuard },
    { provide: APP_GUARD, useClass: RolesGuard },
  ],
  exports: [TokenService, PasswordHasher, AccessTokenVerifier],
})
export class AuthModule {}
