import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import * as bcrypt from 'bcrypt';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AuditService } from '../../src/audit/audit.service';
import { revokeUserSessions } from '../../src/sessions/revoke-user-sessions';
import { User } from '../../src/users/entities/user.entity';
import { ActiveStatus, Organization, Role, UserState } from '../../src/users/user.enums';
import { generatePassword } from './password';

export const CURRENT = 'AWSCURRENT';
export const PENDING = 'AWSPENDING';

export interface RotationOptions {
  secretId: string;
  email: string;
  role: Role;
  /** Keep (or create) the account DISCONNECTED: the password is stored but cannot sign in. */
  disabled: boolean;
  /** For a user that does not exist yet. */
  name: string;
  organization: Organization | null;
  bcryptCost: number;
}

/** The points after which a crash is survivable; the tests stop the rotation at each. */
export type RotationStep = 'pending-stored' | 'user-written' | 'verified' | 'promoted';

export interface RotationDeps {
  secrets: SecretsManagerClient;
  dataSource: DataSource;
  /** Progress lines. Never given the password. */
  out: (line: string) => void;
  generate?: () => string;
  afterStep?: (step: RotationStep) => void | Promise<void>;
}

export interface RotationResult {
  userId: string;
  versionId: string;
  /** An earlier run had stored AWSPENDING and not finished: its password was used. */
  resumed: boolean;
  userCreated: boolean;
}

export class RotationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RotationError';
  }
}

/**
 * Rotates a user's password through Secrets Manager's staging labels, so a crash at any point
 * is finished by running it again:
 *
 * 1. store a new password as AWSPENDING (or, when an unfinished AWSPENDING version exists,
 *    reuse it instead of generating another one);
 * 2. in one transaction, set the user's bcrypt hash (creating the user if missing), bump
 *    token_version (every token issued before is refused), reset the lockout, set role and
 *    active, and write an audit row;
 * 3. verify the stored hash against the pending password;
 * 4. move AWSCURRENT to the pending version (the old one becomes AWSPREVIOUS), then drop the
 *    AWSPENDING label.
 *
 * Until step 4, AWSCURRENT keeps the old value; after it, the database already has the new one.
 */
export async function rotatePassword(
  opts: RotationOptions,
  deps: RotationDeps,
): Promise<RotationResult> {
  const { secrets, out } = deps;
  const email = opts.email.trim().toLowerCase();
  const step = async (s: RotationStep) => {
    await deps.afterStep?.(s);
  };

  const stages = await versionStages(secrets, opts.secretId, out);
  const currentId = versionWith(stages, CURRENT);
  const pendingId = versionWith(stages, PENDING);

  let versionId: string;
  let password: string;
  const resumed = pendingId !== undefined && pendingId !== currentId;
  if (resumed) {
    versionId = pendingId;
    const value = await secrets.send(
      new GetSecretValueCommand({
        SecretId: opts.secretId,
        VersionId: versionId,
        VersionStage: PENDING,
      }),
    );
    if (!value.SecretString) {
      throw new RotationError(`the AWSPENDING version ${versionId} has no string value`);
    }
    password = value.SecretString;
    out(`resuming the unfinished rotation: AWSPENDING version ${versionId}`);
  } else {
    versionId = randomUUID();
    password = (deps.generate ?? generatePassword)();
    // The version id is the request token: a retried call stores the same version once.
    await secrets.send(
      new PutSecretValueCommand({
        SecretId: opts.secretId,
        ClientRequestToken: versionId,
        SecretString: password,
        VersionStages: [PENDING],
      }),
    );
    out(`stored a new password as AWSPENDING version ${versionId}`);
  }
  await step('pending-stored');

  const { userId, created } = await writeUser(deps.dataSource, opts, email, password, versionId);
  out(
    `${created ? 'created' : 'updated'} user ${email} (${userId}): role ${opts.role}, ` +
      `${opts.disabled ? ActiveStatus.DISCONNECTED : ActiveStatus.ACTIVE}, earlier tokens revoked`,
  );
  await step('user-written');

  await verify(deps.dataSource, userId, opts, password);
  out('verified: the database holds the pending password');
  await step('verified');

  await secrets.send(
    new UpdateSecretVersionStageCommand({
      SecretId: opts.secretId,
      VersionStage: CURRENT,
      MoveToVersionId: versionId,
      ...(currentId && currentId !== versionId ? { RemoveFromVersionId: currentId } : {}),
    }),
  );
  await secrets.send(
    new UpdateSecretVersionStageCommand({
      SecretId: opts.secretId,
      VersionStage: PENDING,
      RemoveFromVersionId: versionId,
    }),
  );
  out(`promoted version ${versionId} to AWSCURRENT` + (currentId ? ` (was ${currentId})` : ''));
  await step('promoted');

  return { userId, versionId, resumed, userCreated: created };
}

type Stages = Record<string, string[]>;

function versionWith(stages: Stages, label: string): string | undefined {
  return Object.entries(stages).find(([, labels]) => labels.includes(label))?.[0];
}

/** The secret's versions and labels; a secret named by name (not ARN) is created if missing. */
async function versionStages(
  secrets: SecretsManagerClient,
  secretId: string,
  out: (line: string) => void,
): Promise<Stages> {
  try {
    const d = await secrets.send(new DescribeSecretCommand({ SecretId: secretId }));
    return d.VersionIdsToStages ?? {};
  } catch (err) {
    if ((err as Error).name !== 'ResourceNotFoundException' || secretId.startsWith('arn:')) {
      throw err;
    }
  }
  // No value yet: the first version goes through AWSPENDING like every later one.
  await secrets.send(
    new CreateSecretCommand({
      Name: secretId,
      Description: 'portal-api: a user password kept by tools/rotate-password',
    }),
  );
  out(`created the secret ${secretId}`);
  return {};
}

async function writeUser(
  dataSource: DataSource,
  opts: RotationOptions,
  email: string,
  password: string,
  versionId: string,
): Promise<{ userId: string; created: boolean }> {
  const passwordHash = await bcrypt.hash(password, opts.bcryptCost);
  const active = opts.disabled ? ActiveStatus.DISCONNECTED : ActiveStatus.ACTIVE;
  return dataSource.transaction(async (manager) => {
    const users = manager.getRepository(User);
    const existing = await users.findOne({
      where: { email },
      lock: { mode: 'pessimistic_write' },
    });
    let userId: string;
    if (existing) {
      userId = existing.id;
      await users
        .createQueryBuilder()
        .update(User)
        .set({
          passwordHash,
          role: opts.role,
          active,
          failedLoginCount: 0,
          lockedUntil: null,
          tokenVersion: () => '"token_version" + 1',
        })
        .where('id = :id', { id: userId })
        .execute();
      await revokeUserSessions(manager, userId);
    } else {
      const user = users.create({
        name: opts.name,
        email,
        role: opts.role,
        organization: opts.organization,
        state: UserState.APPROVED,
        active,
        passwordHash,
      });
      await users.insert(user);
      userId = user.id;
    }
    await new AuditService(dataSource).record(
      {
        actor: null,
        action: 'user.password_rotate',
        targetType: 'user',
        targetId: userId,
        before: existing ? { role: existing.role, active: existing.active } : null,
        after: { role: opts.role, active, secret_version: versionId },
      },
      manager,
    );
    return { userId, created: !existing };
  });
}

async function verify(
  dataSource: DataSource,
  userId: string,
  opts: RotationOptions,
  password: string,
): Promise<void> {
  const row = await dataSource
    .getRepository(User)
    .createQueryBuilder('u')
    .addSelect('u.passwordHash')
    .where('u.id = :id', { id: userId })
    .getOne();
  const problems: string[] = [];
  if (!row) problems.push('the user is gone');
  else {
    if (!row.passwordHash || !(await bcrypt.compare(password, row.passwordHash))) {
      problems.push('the stored hash does not match the pending password');
    }
    if (row.role !== opts.role) problems.push(`the role is ${row.role}`);
    const active = opts.disabled ? ActiveStatus.DISCONNECTED : ActiveStatus.ACTIVE;
    if (row.active !== active) problems.push(`the account is ${row.active}`);
  }
  if (problems.length > 0) {
    throw new RotationError(
      `verification failed (${problems.join('; ')}); AWSCURRENT was not changed: run again`,
    );
  }
}
