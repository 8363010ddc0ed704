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
export function isAddressedTo(
  warning: Pick<WarningTarget, 'targetRole' | 'targetOrg'>,
  caller: WarningAudience,
): boolean {
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

/** ADM hears of every warning; anyone else of those addressed to them (expired or not). */
export function isInAudience(
  warning: Pick<WarningTarget, 'targetRole' | 'targetOrg'>,
  caller: WarningAudience,
): boolean {
  return caller.role === Role.ADM || isAddressedTo(warning, caller);
}

/**
 * Who may read a warning: nobody once it has expired; ADM every other one; anyone else only
 * those addressed to them. WarningsService.list applies the same rule in SQL, and
 * GET /warnings/stream the same rule to each event (src/warnings/stream/warning-events.ts).
 */
export function canSeeWarning(warning: WarningTarget, caller: WarningAudience, now: Date): boolean {
  return !isExpired(warning, now) && isInAudience(warning, caller);
}
