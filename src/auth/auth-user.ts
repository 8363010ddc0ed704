import { ActiveStatus, Organization, Role } from '../users/user.enums';

/** The caller, as re-read from the database on every request (never trusted from the token). */
export interface AuthUser {
  id: string;
  email: string;
  role: Role;
  organization: Organization | null;
  active: ActiveStatus;
}

export interface JwtClaims {
  sub: string;
  role: Role;
  organization: Organization | null;
  token_version: number;
  iat?: number;
  exp?: number;
}
