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
import { DataSource, EntityManager, QueryRunner } from 'typeorm';
import { AuditService } from '../../src/audit/audit.service';
import { User } from '../../src/users/entities/user.entity';
import { ActiveStatus, Organization, Role, UserState } from '../../src/users/user.enums';
import { ExitCode, ToolError } from '../ecs/common';
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
  /** How long to wait for another rotation of the same secret to end (default 60 s). */
  lockWaitMs?: number;
}

export const DEFAULT_LOCK_WAIT_MS = 60_000;
const LOCK_POLL_MS = 500;

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
 * 1. store a new password as AWSPENDING, or, whenever an AWSPENDING version exists, resume it
 *    instead of generating another one (on a secret's first version, AWS attaches AWSCURRENT
 *    too: pending == current is still an unfinished rotation);
 * 2. in one transaction, set the user's bcrypt hash (creating the user if missing), bump
 *    token_version (every token issued before is refused), reset the lockout, set role and
 *    active, and write an audit row;
 * 3. verify the stored hash against the pending password;
 * 4. describe the secret again (as the AWS rotation template's finishSecret does) and move
 *    AWSCURRENT to the pending version from whichever version holds it now (it becomes
 *    AWSPREVIOUS), then drop the AWSPENDING label.
 *
 * The whole rotation holds a PostgreSQL advisory lock keyed by the secret's ARN: a second
 * rotation of the same secret waits for it (lockWaitMs), then gives up with BUSY.
 * Until step 4, AWSCURRENT keeps the old value; after it, the database already has the new one.
 */
export async function rotatePassword(
  opts: RotationOptions,
  deps: RotationDeps,
): Promise<RotationResult> {
  // Before any secret is touched (or even created): a refused run leaves nothing half done.
  await refuseMicrosoftLinked(deps.dataSource.manager, opts.email.trim().toLowerCase());
  const arn = await ensureSecret(deps.secrets, opts.secretId, deps.out);
  const lock = await acquireLock(deps.dataSource, arn, deps.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS);
  try {
    return await rotateLocked(opts, deps, arn);
  } finally {
    await releaseLock(lock, arn);
  }
}

async function rotateLocked(
  opts: RotationOptions,
  deps: RotationDeps,
  arn: string,
): Promise<RotationResult> {
  const { secrets, out } = deps;
  const email = opts.email.trim().toLowerCase();
  const step = async (s: RotationStep) => {
    await deps.afterStep?.(s);
  };

  // Read under the lock: what an earlier run left is final now.
  const stages = await versionStages(secrets, arn);
  const currentId = versionWith(stages, CURRENT);
  const pendingId = versionWith(stages, PENDING);

  let versionId: string;
  let password: string;
  const resumed = pendingId !== undefined;
  if (pendingId !== undefined) {
    versionId = pendingId;
    const value = await secrets.send(
      new GetSecretValueCommand({ SecretId: arn, VersionId: versionId, VersionStage: PENDING }),
    );
    if (!value.SecretString) {
      throw new RotationError(`the AWSPENDING version ${versionId} has no string value`);
    }
    password = value.SecretString;
    out(
      `resuming the unfinished rotation: AWSPENDING version ${versionId}` +
        (pendingId === currentId ? ' (also AWSCURRENT: the first version of the secret)' : ''),
    );
  } else {
    versionId = randomUUID();
    password = (deps.generate ?? generatePassword)();
    // The version id is the request token: a retried call stores the same version once.
    await secrets.send(
      new PutSecretValueCommand({
        SecretId: arn,
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

  const previousId = await promote(secrets, arn, versionId);
  out(
    `promoted version ${versionId} to AWSCURRENT` +
      (previousId && previousId !== versionId ? ` (was ${previousId})` : ''),
  );
  await step('promoted');

  return { userId, versionId, resumed, userCreated: created };
}

/**
 * Moves AWSCURRENT to versionId from the version that holds it now (read again: someone may
 * have moved it since the rotation began), then drops AWSPENDING. Refuses when AWSPENDING is
 * no longer on versionId: another writer took over the rotation. Returns the previous holder.
 */
async function promote(
  secrets: SecretsManagerClient,
  arn: string,
  versionId: string,
): Promise<string | undefined> {
  const now = await versionStages(secrets, arn);
  const pendingNow = versionWith(now, PENDING);
  if (pendingNow !== versionId) {
    throw new RotationError(
      `AWSPENDING moved to ${pendingNow ? `version ${pendingNow}` : 'no version'} during the ` +
        `rotation of version ${versionId}; AWSCURRENT was not changed: run again`,
    );
  }
  const currentNow = versionWith(now, CURRENT);
  if (currentNow !== versionId) {
    await secrets.send(
      new UpdateSecretVersionStageCommand({
        SecretId: arn,
        VersionStage: CURRENT,
        MoveToVersionId: versionId,
        ...(currentNow ? { RemoveFromVersionId: currentNow } : {}),
      }),
    );
  }
  await secrets.send(
    new UpdateSecretVersionStageCommand({
      SecretId: arn,
      VersionStage: PENDING,
      RemoveFromVersionId: versionId,
    }),
  );
  return currentNow;
}

/** The advisory lock key: one per secret, whichever name or ARN the caller used. */
const lockKey = (arn: string) => `portal-api:rotate-password:${arn}`;

/**
 * A session-level advisory lock on its own connection, held for the whole rotation (a crash
 * ends the session and frees it). Waits up to waitMs for another rotation to release it.
 */
async function acquireLock(dataSource: DataSource, arn: string, waitMs: number) {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    const until = Date.now() + waitMs;
    for (;;) {
      const rows = (await runner.query(
        'SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked',
        [lockKey(arn)],
      )) as Array<{ locked: boolean }>;
      if (rows[0]?.locked) return runner;
      if (Date.now() >= until) {
        throw new ToolError(
          ExitCode.BUSY,
          `another rotation of ${arn} is running (it holds the advisory lock); ` +
            'run again when it has finished',
        );
      }
      await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
    }
  } catch (err) {
    await runner.release();
    throw err;
  }
}

async function releaseLock(runner: QueryRunner, arn: string): Promise<void> {
  try {
    await runner.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [lockKey(arn)]);
  } finally {
    await runner.release();
  }
}

type Stages = Record<string, string[]>;

function versionWith(stages: Stages, label: string): string | undefined {
  return Object.entries(stages).find(([, labels]) => labels.includes(label))?.[0];
}

async function versionStages(secrets: SecretsManagerClient, arn: string): Promise<Stages> {
  const d = await secrets.send(new DescribeSecretCommand({ SecretId: arn }));
  return d.VersionIdsToStages ?? {};
}

/**
 * The secret's ARN; a secret named by name (not ARN) is created when missing, without a value:
 * its first version goes through AWSPENDING like every later one.
 */
async function ensureSecret(
  secrets: SecretsManagerClient,
  secretId: string,
  out: (line: string) => void,
): Promise<string> {
  try {
    const d = await secrets.send(new DescribeSecretCommand({ SecretId: secretId }));
    if (d.ARN) return d.ARN;
    throw new RotationError(`DescribeSecret answered no ARN for ${secretId}`);
  } catch (err) {
    if ((err as Error).name !== 'ResourceNotFoundException' || secretId.startsWith('arn:')) {
      throw err;
    }
  }
  try {
    const created = await secrets.send(
      new CreateSecretCommand({
        Name: secretId,
        Description: 'portal-api: a user password kept by tools/rotate-password',
      }),
    );
    out(`created the secret ${secretId}`);
    if (created.ARN) return created.ARN;
  } catch (err) {
    // Another first run created it at the same moment: use that one.
    if ((err as Error).name !== 'ResourceExistsException') throw err;
  }
  const d = await secrets.send(new DescribeSecretCommand({ SecretId: secretId }));
  if (!d.ARN) throw new RotationError(`DescribeSecret answered no ARN for ${secretId}`);
  return d.ARN;
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
      // Checked again under the row lock: linked since the first check, still refused.
      await refuseMicrosoftLinked(manager, email);
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

/**
 * The rotation gives an account a password and a role (ADM, usually). An account linked to a
 * Microsoft identity would then be that role for whoever holds the identity too, so it is
 * refused (exit code 2): rotate a password-only account.
 */
async function refuseMicrosoftLinked(manager: EntityManager, email: string): Promise<void> {
  const rows: Array<{ microsoft_tid: string }> = await manager.query(
    'SELECT microsoft_tid FROM users WHERE email = $1 AND microsoft_tid IS NOT NULL',
    [email],
  );
  if (rows.length > 0) {
    throw new ToolError(
      ExitCode.USAGE,
      `${email} is linked to a Microsoft identity (tenant ${rows[0].microsoft_tid}); the rotation ` +
        'only manages password accounts and will not give it a password or a role. Use an ' +
        'address that is not linked to Microsoft; nothing was changed.',
    );
  }
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
