import * as bcrypt from 'bcrypt';
import { randomUUID } from 'node:crypto';
import { DataSource, DeepPartial } from 'typeorm';
import { TokenPair, TokenService } from '../../src/auth/token.service';
import type { ClientInfo } from '../../src/common/client-info';
import { IssuedRefreshToken, SessionsService } from '../../src/sessions/sessions.service';
import { User } from '../../src/users/entities/user.entity';
import { ActiveStatus, Organization, Role, UserState } from '../../src/users/user.enums';
import type { TestApp } from './test-app';

export const DEFAULT_PASSWORD = 'correct horse battery staple';
let defaultHash: string | undefined;

export type UserOverrides = DeepPartial<User> & { password?: string | null };

/** Inserts a user straight into the database (ACTIVE, APPROVED, a known password by default). */
export async function createUser(
  dataSource: DataSource,
  overrides: UserOverrides = {},
): Promise<User> {
  const { password, ...rest } = overrides;
  let passwordHash: string | null;
  if (password === null) passwordHash = null;
  else if (password === undefined)
    passwordHash = defaultHash ??= await bcrypt.hash(DEFAULT_PASSWORD, 4);
  else passwordHash = await bcrypt.hash(password, 4);
  const repo = dataSource.getRepository(User);
  const user = repo.create({
    name: 'Test User',
    email: `user-${randomUUID().slice(0, 8)}@example.com`,
    role: Role.USER,
    organization: Organization.DEV,
    state: UserState.APPROVED,
    active: ActiveStatus.ACTIVE,
    ...rest,
    passwordHash,
  });
  if (user.email) user.email = user.email.toLowerCase();
  await repo.insert(user);
  return repo.findOneOrFail({ where: { id: user.id } });
}

export const TEST_CLIENT: ClientInfo = { ip: '127.0.0.1', userAgent: 'portal-api tests' };

/** A new session for the user, as a sign-in makes it: its id and live refresh token. */
export async function sessionFor(
  t: TestApp,
  user: Pick<User, 'id'>,
  client: ClientInfo = TEST_CLIENT,
): Promise<IssuedRefreshToken> {
  return t.app.get(SessionsService).start(user.id, client);
}

/** What a sign-in answers for the user: a new session's access and refresh tokens. */
export async function tokenPairFor(t: TestApp, user: User): Promise<TokenPair> {
  return t.app.get(TokenService).pair(user, await sessionFor(t, user));
}

/** A live refresh token of a new session of the user. */
export async function refreshTokenFor(t: TestApp, user: User): Promise<string> {
  return (await sessionFor(t, user)).refreshToken;
}

/** A valid bearer token for the user (ES256, a new session), signed by the app under test. */
export async function tokenFor(t: TestApp, user: User): Promise<string> {
  return (await tokenPairFor(t, user)).access_token;
}

/** `Authorization` header value for the user. */
export async function bearer(t: TestApp, user: User): Promise<string> {
  return `Bearer ${await tokenFor(t, user)}`;
}
