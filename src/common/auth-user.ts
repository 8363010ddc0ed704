import { ActiveStatus, Organization, Role, UserState } from '../users/user.enums';

/** The caller, as re-read from the database on every request (never trusted from the token). */
export interface AuthUser {
  id: string;
  email: string;
  role: Role;
  organization: Organization | null;
  /** The approval state: only APPROVED callers pass the approval guard (see AllowUnapproved). */
  state: UserState;
  active: ActiveStatus;
  /** The session the access token belongs to (its `sid` claim). */
  sessionId: string;
  /**
   * users.token_version when the token was checked: a long-lived connection (GET
   * /warnings/stream) re-checks it with AccessTokenVerifier.revalidate.
   */
  tokenVersion: number;
}
