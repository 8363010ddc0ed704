import { Organization, Role } from '../users/user.enums';

export interface WarningAudience {
  role: Role;
  organization: Organization | null;
}

export interface WarningTarget {
  targetRole: Role;
  targetOrg: Organization | null;
  expiresAt: Date;
}

/** A warning is addressed to a user of its role, in its organization or in any (null, ALL). */
export function isAddressedTo(warning: WarningTarget, caller: WarningAudience): boolean {
  return (
    warning.targetRole === caller.role &&
    (warning.targetOrg === null ||
      warning.targetOrg === Organization.ALL ||
      warning.targetOrg === caller.organization)
  );
}

/** Expired at its expires_at instant: from then on it is never returned. */
export function isExpired(warning: Pick<WarningTarget, 'expiresAt'>, now: Date): boolean {
  return warning.expiresAt.getTime() <= now.getTime();
}

/**
 * Who may read a warning: nobody once it has expired; ADM every other one; anyone else only
 * those addressed to them. WarningsService.list applies the same rule in SQL.
 */
export function canSeeWarning(warning: WarningTarget, caller: WarningAudience, now: Date): boolean {
  if (isExpired(warning, now)) return false;
  return caller.role === Role.ADM || isAddressedTo(warning, caller);
}
