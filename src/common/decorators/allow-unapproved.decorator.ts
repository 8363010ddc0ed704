import { SetMetadata } from '@nestjs/common';

export const ALLOW_UNAPPROVED = 'auth:allowUnapproved';
/**
 * Marks one of the few routes a signed-in user whose state is not APPROVED may use: reading
 * GET /users/me, and signing out. Every other authenticated route answers such a user
 * 403 account_not_approved (ApprovalGuard). Public routes need no mark.
 */
export const AllowUnapproved = (): MethodDecorator & ClassDecorator =>
  SetMetadata(ALLOW_UNAPPROVED, true);
