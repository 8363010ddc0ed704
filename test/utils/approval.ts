/**
 * The operations (as `METHOD /openapi/path`) a signed-in caller whose state is not APPROVED may
 * still use; every other operation answers it 403 account_not_approved. Shared by the e2e
 * approval spec and the reliability fuzzer: a new route is guarded by default, and one that
 * must stay open fails both until it is listed here on purpose. Routes not built yet are
 * listed already, so that the branches that add them meet the rule, not a surprise.
 */

/** Public: no caller at all (signing in, refreshing, resetting a password, key discovery). */
export const PUBLIC_OPERATIONS: ReadonlySet<string> = new Set([
  'GET /ping',
  'POST /auth/token',
  'POST /auth/microsoft',
  'POST /auth/refresh',
  'POST /auth/password-reset',
  'POST /auth/password-reset/confirm',
  'GET /.well-known/jwks.json',
]);

/**
 * @AllowUnapproved(): reading yourself, and signing out (of this session or of any of your own:
 * revoking a stolen device's session must not wait for an approval).
 */
export const ALLOW_UNAPPROVED_OPERATIONS: ReadonlySet<string> = new Set([
  'GET /users/me',
  'POST /auth/logout',
  'GET /auth/sessions',
  'DELETE /auth/sessions/{id}',
]);

export function isOpenToUnapproved(method: string, path: string): boolean {
  const op = `${method.toUpperCase()} ${path}`;
  return PUBLIC_OPERATIONS.has(op) || ALLOW_UNAPPROVED_OPERATIONS.has(op);
}
