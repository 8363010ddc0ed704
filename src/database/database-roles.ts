import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { escapeIdentifier, escapeLiteral } from 'pg';

// The database roles (docs/deploy.md, "Database roles"). Both are NOLOGIN groups, created by
// the migration DatabaseRoles1796171208386; logins join them (npm run db:bootstrap).

/** Owns the schema; migrations run as it. */
export const MIGRATOR_ROLE = 'portal_migrator';
/** DML only (audit_log: INSERT and SELECT); the API, the purge and the rotation run as it. */
export const APP_ROLE = 'portal_app';

/** Runs one statement; a TypeORM DataSource or QueryRunner fits. */
export interface Queryable {
  query(sql: string, parameters?: unknown[]): Promise<unknown>;
}

export interface DatabaseLogin {
  username: string;
  password: string;
  /** The group role the login joins. */
  role: typeof MIGRATOR_ROLE | typeof APP_ROLE;
}

/**
 * The SCRAM-SHA-256 verifier PostgreSQL stores for a password (RFC 5802/7677, as `\password`
 * computes it). Sending the verifier instead of the password keeps the password out of the
 * statement text, and so out of any server log of statements.
 */
export function scramSha256Verifier(
  password: string,
  salt: Buffer = randomBytes(16),
  iterations = 4096,
): string {
  // PostgreSQL runs SASLprep over the password; printable ASCII is left as it is.
  if (!/^[\x20-\x7e]+$/.test(password)) {
    throw new Error('database passwords must be printable ASCII');
  }
  const salted = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  const b64 = (b: Buffer) => b.toString('base64');
  return `SCRAM-SHA-256$${iterations}:${b64(salt)}$${b64(storedKey)}:${b64(serverKey)}`;
}

/**
 * Creates the login (or sets its password when it exists) and makes it a member of its group
 * role. Refuses a name that is one of the group roles, or a login that is a superuser.
 * Needs a superuser or a role with CREATEROLE and ADMIN on the group (the RDS master user).
 */
export async function provisionLogin(
  db: Queryable,
  login: DatabaseLogin,
): Promise<'created' | 'updated'> {
  if ([MIGRATOR_ROLE, APP_ROLE].includes(login.username)) {
    throw new Error(`"${login.username}" is a group role, not a login: pick another user name`);
  }
  const rows = (await db.query('SELECT rolsuper FROM pg_roles WHERE rolname = $1', [
    login.username,
  ])) as Array<{ rolsuper: boolean }>;
  if (rows[0]?.rolsuper) {
    throw new Error(`"${login.username}" is a superuser: the ${login.role} login must not be one`);
  }
  const name = escapeIdentifier(login.username);
  const password = escapeLiteral(scramSha256Verifier(login.password));
  if (rows.length === 0) await db.query(`CREATE ROLE ${name} LOGIN INHERIT PASSWORD ${password}`);
  else await db.query(`ALTER ROLE ${name} WITH LOGIN INHERIT PASSWORD ${password}`);
  await db.query(`GRANT ${escapeIdentifier(login.role)} TO ${name}`);
  return rows.length === 0 ? 'created' : 'updated';
}
