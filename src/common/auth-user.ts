import { ActiveStatus, Organization, Role } from '../users/user.enums';

/** The caller, as re-read from the database on every request (never trusted from the token). */
export interface AuthUser {
  id: string;
  email: string;
  role: Role;
  organization: Organization | null;
  active: ActiveStatus;
}
