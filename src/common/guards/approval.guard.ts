import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AppError } from '../errors/app-error';
import { UserState } from '../../users/user.enums';
import type { AuthUser } from '../auth-user';
import { ALLOW_UNAPPROVED } from '../decorators/allow-unapproved.decorator';

/**
 * Global, after the JWT guard and before the role guard: a caller whose approval state is not
 * APPROVED (PENDING, REJECTED) gets 403 account_not_approved on every route but the ones
 * marked @AllowUnapproved(). Public routes (no caller) pass: signing in is always possible.
 */
@Injectable()
export class ApprovalGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const user = context.switchToHttp().getRequest<{ user?: AuthUser }>().user;
    if (!user || user.state === UserState.APPROVED) return true;
    const allowed = this.reflector.getAllAndOverride<boolean | undefined>(ALLOW_UNAPPROVED, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (allowed) return true;
    throw notApproved(user.state);
  }
}

/** The refusal for a caller whose state is not APPROVED (also GET /warnings/stream tickets). */
export function notApproved(state: UserState): AppError {
  return AppError.forbidden(
    `This account is ${state}, not APPROVED: until an administrator approves it, it ` +
      'may only read GET /users/me and sign out.',
    'account_not_approved',
  );
}
