import { JwtService } from '@nestjs/jwt';
import * as bcrypt from 'bcrypt';
import { randomUUID } from 'node:crypto';
import { REL_JWT_SECRET } from './app-process';
import { withClient } from './postgres';

export const REL_PASSWORD = 'reliability correct horse';

export interface DbUser {
  id: string;
  email: string;
  role: 'ADM' | 'PRESIDENT' | 'USER';
  organization: string | null;
  token_version: number;
}

/** Inserts an ACTIVE user straight into the database (APPROVED unless told; password REL_PASSWORD). */
export async function insertUser(
  databaseUrl: string,
  role: DbUser['role'] = 'ADM',
  organization: string | null = 'DEV',
  state: 'APPROVED' | 'PENDING' | 'REJECTED' = 'APPROVED',
): Promise<DbUser> {
  const email = `rel-${role.toLowerCase()}-${randomUUID().slice(0, 8)}@example.com`;
  const hash = await bcrypt.hash(REL_PASSWORD, 4);
  return withClient(databaseUrl, async (c) => {
    const { rows } = await c.query<DbUser>(
      `INSERT INTO users (name, email, role, organization, state, active, password_hash)
       VALUES ($1, $2, $3, $4, $6, 'ACTIVE', $5)
       RETURNING id, email, role, organization, token_version`,
      [`Reliability ${role}`, email, role, organization, hash, state],
    );
    return rows[0];
  });
}

/** A bearer token as the app signs it (same secret, HS256, the same claims). */
export function signToken(
  user: DbUser,
  { secret = REL_JWT_SECRET, expiresIn = 900 }: { secret?: string; expiresIn?: number } = {},
): string {
  return new JwtService({ secret }).sign(
    {
      sub: user.id,
      role: user.role,
      organization: user.organization,
      token_version: user.token_version,
    },
    { algorithm: 'HS256', expiresIn },
  );
}

export function authHeader(user: DbUser): Record<string, string> {
  return { authorization: `Bearer ${signToken(user)}` };
}
