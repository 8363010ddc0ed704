import { Organization, Role } from '../users/user.enums';

/** What an access token carries. */
export interface JwtClaims {
  sub: string;
  role: Role;
  organization: Organization | null;
  token_version: number;
  iat?: number;
  exp?: number;
}
