import { ActiveStatus, Organization, Role } from './user.enums';

/**
 * The permission rules between users (from the seed), as pure functions: no database, no Nest.
 *
 * - Acting on yourself is allowed (within the field rules below).
 * - Otherwise the caller must be ACTIVE (the JWT guard refuses inactive callers anyway).
 * - ADM may act on anyone, but may not change another ADM's role.
 * - USER may not act on others.
 * - PRESIDENT may act only on USERs of its own organization, and may create only USERs of its
 *   own organization (so it can never turn a USER into something else either).
 * - Nobody changes their own role.
 * - Nobody but ADM changes an organization (their own included).
 * - A password is set through PATCH by ADM only (everyone else uses POST /auth/password).
 * - Added here: only ADM changes their own `state` (the approval status is decided by others).
 *
 * Every function answers null when allowed, or a Denial (a stable code and a sentence) that
 * the service turns into a 403.
 */

export interface Actor {
  id: string;
  role: Role;
  organization: Organization | null;
  active: ActiveStatus;
}

export interface Target {
  id: string;
  role: Role;
  organization: Organization | null;
}

export interface Denial {
  code: string;
  detail: string;
}

/** The fields PATCH may touch; only the ones whose value actually changes are passed in. */
export interface UserChanges {
  name?: string;
  role?: Role;
  organization?: Organization | null;
  course?: unknown;
  year?: unknown;
  ra?: unknown;
  state?: unknown;
  active?: ActiveStatus;
  password?: string;
}

const deny = (code: string, detail: string): Denial => ({ code, detail });

export function isSelf(actor: Actor, target: Pick<Target, 'id'>): boolean {
  return actor.id === target.id;
}

/** Whether a PRESIDENT's organization covers the target: a USER of the same (non-null) org. */
function presidentCovers(actor: Actor, target: Pick<Target, 'role' | 'organization'>): boolean {
  return (
    actor.organization !== null &&
    target.role === Role.USER &&
    target.organization === actor.organization
  );
}

/** May the actor act on (read, update, delete) this existing user at all? */
export function checkActOn(actor: Actor, target: Target): Denial | null {
  if (isSelf(actor, target)) return null;
  if (actor.active !== ActiveStatus.ACTIVE) {
    return deny('inactive_caller', 'Only an ACTIVE user may act on other users.');
  }
  switch (actor.role) {
    case Role.ADM:
      return null;
    case Role.PRESIDENT:
      return presidentCovers(actor, target)
        ? null
        : deny(
            'outside_organization',
            'A PRESIDENT may act only on USERs of its own organization.',
          );
    default:
      return deny('cannot_act_on_others', 'A USER may not act on other users.');
  }
}

/** GET /users/:id: a user the caller may not act on is answered 404 (existence not leaked). */
export function canView(actor: Actor, target: Target): boolean {
  return checkActOn(actor, target) === null;
}

/**
 * In lists, a USER sees itself in full but of others only a summary (name, role, organization;
 * no id, email, RA, course or dates).
 */
export function hidesIdOf(actor: Actor, target: Pick<Target, 'id'>): boolean {
  return actor.role === Role.USER && !isSelf(actor, target);
}

/** POST /users and each row of POST /users/import: the user that would be created. */
export function checkCreate(
  actor: Actor,
  created: { role: Role; organization: Organization | null },
): Denial | null {
  if (actor.active !== ActiveStatus.ACTIVE) {
    return deny('inactive_caller', 'Only an ACTIVE user may create users.');
  }
  switch (actor.role) {
    case Role.ADM:
      return null;
    case Role.PRESIDENT:
      if (created.role !== Role.USER) {
        return deny('role_not_allowed', 'A PRESIDENT may create only USERs.');
      }
      if (actor.organization === null || created.organization !== actor.organization) {
        return deny(
          'outside_organization',
          'A PRESIDENT may create only USERs of its own organization.',
        );
      }
      return null;
    default:
      return deny('cannot_act_on_others', 'A USER may not create users.');
  }
}

/**
 * GET /users/export: an ADM exports everyone, or one organization when it names one; a
 * PRESIDENT its own organization (also when it names none), never another's. Answers the
 * organization to export (undefined: every user) or a Denial.
 */
export function exportScope(
  actor: Actor,
  requested: Organization | undefined,
): { organization: Organization | undefined } | Denial {
  if (actor.active !== ActiveStatus.ACTIVE) {
    return deny('inactive_caller', 'Only an ACTIVE user may export users.');
  }
  switch (actor.role) {
    case Role.ADM:
      return { organization: requested };
    case Role.PRESIDENT:
      if (actor.organization === null) {
        return deny('outside_organization', 'A PRESIDENT without an organization exports nothing.');
      }
      if (requested !== undefined && requested !== actor.organization) {
        return deny('outside_organization', 'A PRESIDENT may export only its own organization.');
      }
      return { organization: actor.organization };
    default:
      return deny('cannot_act_on_others', 'A USER may not export users.');
  }
}

/** PATCH /users/:id, given only the fields whose value changes. */
export function checkUpdate(actor: Actor, target: Target, changes: UserChanges): Denial | null {
  const general = checkActOn(actor, target);
  if (general) return general;
  const self = isSelf(actor, target);

  if (changes.role !== undefined) {
    if (self) return deny('own_role_change', 'Nobody may change their own role.');
    if (actor.role === Role.ADM && target.role === Role.ADM) {
      return deny('admin_role_change', "An ADM may not change another ADM's role.");
    }
    if (actor.role !== Role.ADM) {
      // A PRESIDENT acts on USERs only and may not turn one into anything else.
      return deny('role_not_allowed', 'Only an ADM may change a role.');
    }
  }
  if (changes.organization !== undefined && actor.role !== Role.ADM) {
    return deny('organization_change', 'Only an ADM may change an organization.');
  }
  if (changes.password !== undefined && actor.role !== Role.ADM) {
    return deny(
      'password_change',
      'Only an ADM may set a password here; use POST /auth/password for your own.',
    );
  }
  if (changes.state !== undefined && self && actor.role !== Role.ADM) {
    return deny('own_state_change', 'Your approval state is decided by someone else.');
  }
  return null;
}

/** DELETE /users/:id (the last-ADM guard needs the database and lives in the service). */
export function checkDelete(actor: Actor, target: Target): Denial | null {
  return checkActOn(actor, target);
}

/** A role change, a password change or a deactivation ends every token issued before. */
export function bumpsTokenVersion(changes: UserChanges): boolean {
  return (
    changes.role !== undefined ||
    changes.password !== undefined ||
    (changes.active !== undefined && changes.active !== ActiveStatus.ACTIVE)
  );
}
