import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AppError } from '../errors/app-error';
import { Role } from '../../users/user.enums';
import type { AuthUser } from '../auth-user';
import { ROLES } from '../decorators/roles.decorator';

/** Global: enforces @Roles(...) after the JWT guard has set request.user. */
@Injectable()
export class RolesGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!roles || roles.length === 0) return true;
    const user = context.switchToHttp().getRequest<{ user?: AuthUser }>().user;
    if (!user || !roles.includes(user.role)) {
      throw AppError.forbidden(`Only ${roles.join(' or ')} may do this.`, 'role_required');
    }
    return true;
  }
}
