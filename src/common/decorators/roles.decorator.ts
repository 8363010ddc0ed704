import { SetMetadata } from '@nestjs/common';
import { Role } from '../../users/user.enums';

export const ROLES = 'auth:roles';
/** Only callers with one of these roles may use the route; others get 403. */
export const Roles = (...roles: Role[]): MethodDecorator & ClassDecorator =>
  SetMetadata(ROLES, roles);
