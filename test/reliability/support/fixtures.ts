import * as bcrypt from 'bcrypt';
import * as jwt from 'jsonwebtoken';
import { createHash, createPrivateKey, randomBytes, randomUUID } from 'node:crypto';
import type { SigningJwk } from '../../../src/auth/signing-keys';
import { REL_SIGNING_KEYS } from './app-process';
import { withClient } from './postgres';

export const REL_PASSWORD = 'reliability correct horse';

export interface DbUser {
  id: string;
  email: string;
  role: 'ADM' | 'PRESIDENT' | 'USER';
  organization: string | null;
  token_version: number;
  /** A live session of the user, made with it: authHeader() signs tokens of it. */
  session_id: string;
}

/** Anything that runs a statement: a pg Client or Pool. */
interface Queryable {
  query<R extends object>(sql: string, params?: unknown[]): Promise<{ rows: R[] }>;
}

/**
 * A new live session of the user, as a sign-in makes it, with its refresh token. `spent`: the
 * returned token was already exchanged once (its session lives on with a successor), so
 * presenting it is reuse.
 */
export async function startSession(
  db: Queryable,
  userId: string,
  { spent = false }: { spent?: boolean } = {},
): Promise<{ sessionId: string; refreshToken: string }> {
  const refreshToken = randomBytes(32).toString('base64url');
  const hash = (t: string) => createHash('sha256').update(t).digest();
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO sessions (user_id, created_at, last_used_at, expires_at)
     VALUES ($1, now(), now(), now() + interval '30 days') RETURNING id`,
    [userId],
  );
  const sessionId = rows[0].id;
  await db.query(
    'INSERT INTO refresh_tokens (token_hash, session_id, created_at, spent_at) VALUES ($1, $2, now(), $3)',
    [hash(refreshToken), sessionId, spent ? new Date() : null],
  );
  if (spent) {
    await db.query(
      'INSERT INTO refresh_tokens (token_hash, session_id, created_at) VALUES ($1, $2, now())',
      [hash(randomBytes(32).toString('base64url')), sessionId],
    );
  }
  return { sessionId, refreshToken };
}

/**
 * Inserts an ACTIVE user straight into the database (APPROVED unless told; password
 * REL_PASSWORD), with one live session.
 */
export async function insertUser(
  databaseUrl: string,
  role: DbUser['role'] = 'ADM',
  organization: string | null = 'DEV',
  state: 'APPROVED' | 'PENDING' | 'REJECTED' = 'APPROVED',
): Promise<DbUser> {
  const email = `rel-${role.toLowerCase()}-${randomUUID().slice(0, 8)}@example.com`;
  const hash = await bcrypt.hash(REL_PASSWORD, 4);
  return withClient(databaseUrl, async (c) => {
    const { rows } = await c.query<Omit<DbUser, 'session_id'>>(
      `INSERT INTO users (name, email, role, organization, state, active, password_hash)
       VALUES ($1, $2, $3, $4, $6, 'ACTIVE', $5)
       RETURNING id, email, role, organization, token_version`,
      [`Reliability ${role}`, email, role, organization, hash, state],
    );
    const { sessionId } = await startSession(c, rows[0].id);
    return { ...rows[0], session_id: sessionId };
  });
}

/**
 * An access token as the app signs it: ES256 with the current key of `keys` (the app's,
 * REL_SIGNING_KEYS, by default), kid, typ at+jwt, the app's default issuer and audience.
 */
export function signToken(
  user: Pick<DbUser, 'id' | 'token_version' | 'session_id'>,
  {
    keys = REL_SIGNING_KEYS,
    expiresIn = 900,
    sessionId = user.session_id,
  }: { keys?: string; expiresIn?: number; sessionId?: string } = {},
): string {
  const set = JSON.parse(keys) as { current: string; keys: SigningJwk[] };
  const jwk = set.keys.find((k) => k.kid === set.current)!;
  return jwt.sign(
    { sid: sessionId, token_version: user.token_version },
    createPrivateKey({ key: { ...jwk }, format: 'jwk' }),
    {
      algorithm: 'ES256',
      keyid: jwk.kid,
      header: { alg: 'ES256', typ: 'at+jwt' },
      issuer: 'portal-api',
      audience: 'portal-api',
      subject: user.id,
      jwtid: randomUUID(),
      expiresIn,
    },
  );
}

export function authHeader(user: DbUser): Record<string, string> {
  return { authorization: `Bearer ${signToken(user)}` };
}
