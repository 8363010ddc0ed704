import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AppError } from '../errors/app-error';
import { AccessTokenVerifier } from '../../auth/access-token.verifier';
import type { AuthUser } from '../auth-user';
import { IS_PUBLIC } from '../decorators/public.decorator';
import { BEARER_ERROR, BEARER_OPTIONAL } from '../decorators/bearer-optional.decorator';

const BEARER = /^Bearer\s+([A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]+)\s*$/i;

/**
 * Global: every route needs a valid bearer token unless marked @Public() (or
 * @BearerOptional(): without an Authorization header the request goes on with no caller; a bad
 * header's 401 is kept on the request for the route, which may accept another credential).
 */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: AccessTokenVerifier,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (isPublic) return true;
    const req = context.switchToHttp().getRequest<{
      headers: Record<string, string | string[] | undefined>;
      user?: AuthUser;
      [BEARER_ERROR]?: AppError;
    }>();
    const optional = this.reflector.getAllAndOverride<boolean>(BEARER_OPTIONAL, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!optional) return this.authenticate(req);
    if (!req.headers.authorization) return true;
    try {
      return await this.authenticate(req);
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      req[BEARER_ERROR] = err;
      return true;
    }
  }

  private async authenticate(req: {
    headers: Record<string, string | string[] | undefined>;
    user?: AuthUser;
  }): Promise<boolean> {
    const header = req.headers.authorization;
    if (typeof header !== 'string' || header.length === 0) {
      throw AppError.unauthorized('A bearer token is required.', 'unauthorized');
    }
    const match = BEARER.exec(header);
    if (!match) throw AppError.unauthorized('The token is not valid.', 'invalid_token');
    req.user = await this.verifier.verify(match[1]);
    return true;
  }
}
