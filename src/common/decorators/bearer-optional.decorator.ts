import {
  applyDecorators,
  createParamDecorator,
  ExecutionContext,
  SetMetadata,
} from '@nestjs/common';
import { ApiBearerAuth, ApiSecurity } from '@nestjs/swagger';
import type { AuthUser } from '../auth-user';
import { AppError } from '../errors/app-error';

export const BEARER_OPTIONAL = 'auth:bearerOptional';
export const BEARER_ERROR = Symbol('portal-api.bearerError');

/**
 * A route that works with or without a bearer token (POST /auth/logout: a refresh token
 * alone will do). Without an Authorization header the guard lets the request through; with a
 * bad one it keeps the error for the handler (see Bearer) instead of answering 401 at once.
 */
export const BearerOptional = (): MethodDecorator =>
  applyDecorators(SetMetadata(BEARER_OPTIONAL, true), ApiSecurity({}), ApiBearerAuth());

/** On a BearerOptional route: the caller, or why there is none (no token, a bad token). */
export type BearerResult =
  { user: AuthUser; error?: undefined } | { user?: undefined; error: AppError };

export const Bearer = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): BearerResult => {
    const req = ctx.switchToHttp().getRequest<{ user?: AuthUser; [BEARER_ERROR]?: AppError }>();
    if (req.user) return { user: req.user };
    return { error: req[BEARER_ERROR] ?? AppError.unauthorized('A bearer token is required.') };
  },
);
