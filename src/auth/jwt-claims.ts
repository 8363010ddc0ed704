/** What an access token carries (RFC 9068 names, plus the session and the user's key version). */
export interface AccessTokenClaims {
  iss: string;
  aud: string;
  /** The user id. */
  sub: string;
  iat: number;
  exp: number;
  /** A fresh UUID per token. */
  jti: string;
  /** The session (sessions.id): revoking it stops the token at once. */
  sid: string;
  /** users.token_version when the token was issued. */
  token_version: number;
}

/** The `typ` header of an access token (RFC 9068 section 2.1). */
export const ACCESS_TOKEN_TYP = 'at+jwt';
