import { ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { TokenExpiredError } from 'jsonwebtoken';
import { AccessTokenVerifier, invalidToken, tokenExpired } from '../../auth/access-token.verifier';
import { attachVerifier } from '../../auth/jwt.strategy';
import type { AuthUser } from '../auth-user';
import { BEARER_ERROR, BEARER_OPTIONAL } from '../decorators/bearer-optional.decorator';
import { IS_PUBLIC } from '../decorators/public.decorator';
import { AppError } from '../errors/app-error';

/**
 * Global: every route needs a valid bearer access token unless marked @Public() (or
 * @BearerOptional()). Built on passport's AuthGuard('jwt') (see JwtStrategy); every refusal is
 * a 401 problem+json with a stable code: unauthorized (no token), invalid_token, token_expired,
 * account_inactive.
 */
@Injectable()
export class JwtAuthGuard extends AuthGuard('jwt') {
  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: AccessTokenVerifier,
  ) {
    super();
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const req = context.switchToHttp().getRequest<FastifyRequest>();
    // This app's keys and database, whichever app's strategy passport holds (see JwtStrategy).
    attachVerifier(req, this.verifier);
    if (!this.reflector.getAllAndOverride<boolean>(BEARER_OPTIONAL, targets)) {
      return (await super.canActivate(context)) as boolean;
    }
    if (!req.headers.authorization) return true;
    try {
      return (await super.canActivate(context)) as boolean;
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      (req as FastifyRequest & { [BEARER_ERROR]?: AppError })[BEARER_ERROR] = err;
      return true;
    }
  }

  /** passport's verdict: the user, or the reason turned into an AppError. */
  override handleRequest<TUser = AuthUser>(
    err: unknown,
    user: TUser | false,
    info: unknown,
    context: ExecutionContext,
  ): TUser {
    // Errors from validate(): AppErrors (refusals) and database trouble (the filter's 503).
    if (err) throw err instanceof Error ? err : invalidToken();
    if (user) return user;
    if (info instanceof AppError) throw info;
    if (info instanceof TokenExpiredError) throw tokenExpired();
    const req = context.switchToHttp().getRequest<FastifyRequest>();
    if (!req.headers.authorization) {
      throw new AppError(
        401,
        'unauthorized',
        'Unauthorized',
        'A bearer token is required.',
        undefined,
        {
          'WWW-Authenticate': 'Bearer',
        },
      );
    }
    throw invalidToken();
  }
}
