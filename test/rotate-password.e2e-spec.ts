import {
  PutSecretValueCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import * as bcrypt from 'bcrypt';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { buildDataSourceOptions } from '../ormconfig';
import { AuditLogEntry } from '../src/audit/entities/audit-log.entity';
import { User } from '../src/users/entities/user.entity';
import { ActiveStatus, Organization, Role } from '../src/users/user.enums';
import {
  rotatePassword,
  RotationDeps,
  RotationOptions,
  RotationStep,
} from '../tools/rotation/rotate-password';
import { parseRotateArgs } from '../tools/rotate-password';
import { ExitCode, ToolError } from '../tools/ecs/common';
import { testDatabaseUrl } from './setup/test-database';
import { truncateAll } from './utils/db';
import { createUser, DEFAULT_PASSWORD } from './utils/factories';
import { FakeSecretsManager } from './utils/fake-secrets-manager';

const SECRET = 'portal/test/admin-password';
const EMAIL = 'admin@example.com';

describe('rotate-password against a real database (Secrets Manager faked)', () => {
  let dataSource: DataSource;
  const sm = new FakeSecretsManager();
  let lines: string[];
  let generated: string[];

  const options = (o: Partial<RotationOptions> = {}): RotationOptions => ({
    secretId: SECRET,
    email: EMAIL,
    role: Role.ADM,
    disabled: false,
    name: 'Administrator',
    organization: Organization.ALL,
    bcryptCost: 4,
    ...o,
  });

  const deps = (o: Partial<RotationDeps> = {}): RotationDeps => ({
    secrets: new SecretsManagerClient({ region: 'sa-east-1' }),
    dataSource,
    out: (l) => lines.push(l),
    generate: () => {
      // Real passwords, recorded so the tests can tell which one ended where.
      const p = `pw-${generated.length}-${Math.random().toString(36).slice(2)}-Aa1!`;
      generated.push(p);
      return p;
    },
    ...o,
  });

  /** A crash right after the given step: the process dies, the rerun starts from scratch. */
  const crashAfter = (at: RotationStep) => ({
    afterStep: (step: RotationStep) => {
      if (step === at) throw new Error(`simulated crash after ${at}`);
    },
  });

  const userRow = async (email = EMAIL) =>
    dataSource
      .getRepository(User)
      .createQueryBuilder('u')
      .addSelect('u.passwordHash')
      .where('u.email = :email', { email })
      .getOne();

  /** The end state every finished rotation must reach. */
  async function expectConsistent(email = EMAIL) {
    const current = sm.valueAt(SECRET, 'AWSCURRENT');
    expect(current).toBeDefined();
    const row = await userRow(email);
    expect(row).not.toBeNull();
    await expect(bcrypt.compare(current!, row!.passwordHash!)).resolves.toBe(true);
    // No unfinished rotation is left behind.
    const labels = sm.labels(SECRET);
    const pending = Object.entries(labels).filter(([, l]) => l.includes('AWSPENDING'));
    expect(pending).toEqual([]);
    return { current: current!, row: row! };
  }

  beforeAll(async () => {
    dataSource = new DataSource(buildDataSourceOptions({ url: testDatabaseUrl(), poolSize: 3 }));
    await dataSource.initialize();
  });
  afterAll(async () => {
    await dataSource.destroy();
  });
  beforeEach(async () => {
    await truncateAll(dataSource);
    sm.reset();
    lines = [];
    generated = [];
  });

  it('creates the secret and the user on a first run, and never prints the password', async () => {
    const logSpy = jest.spyOn(console, 'log');
    const errSpy = jest.spyOn(console, 'error');
    try {
      const result = await rotatePassword(options(), deps());
      expect(result).toMatchObject({ resumed: false, userCreated: true });
      const { current, row } = await expectConsistent();
      expect(generated).toEqual([current]);
      expect(row).toMatchObject({
        email: EMAIL,
        role: Role.ADM,
        organization: Organization.ALL,
        active: ActiveStatus.ACTIVE,
        name: 'Administrator',
      });
      expect(sm.labels(SECRET)).toEqual({ [result.versionId]: ['AWSCURRENT'] });
      const printed = [...lines, ...logSpy.mock.calls.flat(), ...errSpy.mock.calls.flat()].join(
        '\n',
      );
      expect(printed).not.toContain(current);
      expect(lines.join('\n')).toContain(`created the secret ${SECRET}`);
      expect(lines.join('\n')).toContain(`promoted version ${result.versionId} to AWSCURRENT`);
    } finally {
      logSpy.mockRestore();
      errSpy.mockRestore();
    }
  });

  it('rotates an existing user: new hash, tokens revoked, lockout reset, old value kept as AWSPREVIOUS', async () => {
    const user = await createUser(dataSource, {
      email: EMAIL,
      role: Role.USER,
      failedLoginCount: 4,
      lockedUntil: new Date(Date.now() + 3_600_000),
      tokenVersion: 7,
    });
    sm.seed(SECRET, DEFAULT_PASSWORD);

    const result = await rotatePassword(options(), deps());

    const { current, row } = await expectConsistent();
    expect(result).toMatchObject({ userId: user.id, userCreated: false, resumed: false });
    expect(current).not.toBe(DEFAULT_PASSWORD);
    await expect(bcrypt.compare(DEFAULT_PASSWORD, row.passwordHash!)).resolves.toBe(false);
    expect(row).toMatchObject({
      id: user.id,
      role: Role.ADM,
      active: ActiveStatus.ACTIVE,
      failedLoginCount: 0,
      lockedUntil: null,
      tokenVersion: 8,
    });
    expect(sm.valueAt(SECRET, 'AWSPREVIOUS')).toBe(DEFAULT_PASSWORD);
    const audit = await dataSource.getRepository(AuditLogEntry).find();
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      actorId: null,
      action: 'user.password_rotate',
      targetType: 'user',
      targetId: user.id,
      before: { role: Role.USER, active: ActiveStatus.ACTIVE },
      after: { role: Role.ADM, active: ActiveStatus.ACTIVE, secret_version: result.versionId },
    });
    expect(JSON.stringify(audit)).not.toContain(current);
  });

  it('--disabled keeps the account DISCONNECTED', async () => {
    await createUser(dataSource, { email: EMAIL, role: Role.ADM });
    await rotatePassword(options({ disabled: true }), deps());
    const { row } = await expectConsistent();
    expect(row.active).toBe(ActiveStatus.DISCONNECTED);
  });

  it('matches the email case-insensitively', async () => {
    const user = await createUser(dataSource, { email: EMAIL });
    const result = await rotatePassword(options({ email: 'Admin@Example.COM' }), deps());
    expect(result.userId).toBe(user.id);
    expect(await dataSource.getRepository(User).count()).toBe(1);
  });

  describe('a rerun after a crash finishes the rotation', () => {
    beforeEach(async () => {
      await createUser(dataSource, { email: EMAIL, role: Role.ADM, tokenVersion: 1 });
      sm.seed(SECRET, DEFAULT_PASSWORD);
    });

    it('after the pending password was stored: the database is untouched, the rerun reuses it', async () => {
      await expect(rotatePassword(options(), deps(crashAfter('pending-stored')))).rejects.toThrow(
        /simulated crash/,
      );
      // Readers still get the working password; the database still has it.
      expect(sm.valueAt(SECRET, 'AWSCURRENT')).toBe(DEFAULT_PASSWORD);
      const before = await userRow();
      await expect(bcrypt.compare(DEFAULT_PASSWORD, before!.passwordHash!)).resolves.toBe(true);

      const result = await rotatePassword(options(), deps());

      expect(result.resumed).toBe(true);
      const { current } = await expectConsistent();
      expect(generated).toEqual([current]); // one password generated across both runs
      expect(sm.mock.commandCalls(PutSecretValueCommand)).toHaveLength(1);
      expect(lines.join('\n')).toContain('resuming the unfinished rotation');
    });

    it('after the user was written: the rerun finishes with the same password', async () => {
      await expect(rotatePassword(options(), deps(crashAfter('user-written')))).rejects.toThrow();
      expect(sm.valueAt(SECRET, 'AWSCURRENT')).toBe(DEFAULT_PASSWORD);
      const pending = sm.valueAt(SECRET, 'AWSPENDING')!;
      await expect(bcrypt.compare(pending, (await userRow())!.passwordHash!)).resolves.toBe(true);

      await rotatePassword(options(), deps());

      const { current } = await expectConsistent();
      expect(current).toBe(pending);
      expect(generated).toEqual([current]);
    });

    it('when promoting fails: the rerun finishes with the same password', async () => {
      sm.failCall(
        UpdateSecretVersionStageCommand,
        1,
        Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }),
      );
      await expect(rotatePassword(options(), deps())).rejects.toMatchObject({
        name: 'ThrottlingException',
      });
      expect(sm.valueAt(SECRET, 'AWSCURRENT')).toBe(DEFAULT_PASSWORD);
      const pending = sm.valueAt(SECRET, 'AWSPENDING')!;

      await rotatePassword(options(), deps());

      const { current } = await expectConsistent();
      expect(current).toBe(pending);
      expect(generated).toEqual([current]);
    });

    it('after AWSCURRENT moved but before AWSPENDING was dropped: usable, and a rerun finishes it', async () => {
      sm.failCall(UpdateSecretVersionStageCommand, 2, new Error('connection reset'));
      await expect(rotatePassword(options(), deps())).rejects.toThrow(/connection reset/);
      // Already usable: AWSCURRENT is the new password and the database has it.
      const current = sm.valueAt(SECRET, 'AWSCURRENT')!;
      expect(current).toBe(generated[0]);
      await expect(bcrypt.compare(current, (await userRow())!.passwordHash!)).resolves.toBe(true);

      // AWSPENDING is still there: the rerun resumes it (no new password) and drops the label.
      const result = await rotatePassword(options(), deps());

      expect(result.resumed).toBe(true);
      const end = await expectConsistent();
      expect(generated).toHaveLength(1);
      expect(end.current).toBe(generated[0]);
      expect(sm.valueAt(SECRET, 'AWSPREVIOUS')).toBe(DEFAULT_PASSWORD);

      // The next run rotates afresh.
      await rotatePassword(options(), deps());
      expect(generated).toHaveLength(2);
      expect((await expectConsistent()).current).toBe(generated[1]);
    });
  });

  describe('the first rotation of a new secret (AWS puts AWSCURRENT on its first version)', () => {
    it('a crash after storing the pending password: the rerun resumes it, no second password', async () => {
      await expect(rotatePassword(options(), deps(crashAfter('pending-stored')))).rejects.toThrow(
        /simulated crash/,
      );
      // What AWS does to a secret's first version: both labels on it.
      const [first] = Object.entries(sm.labels(SECRET));
      expect(first[1]).toEqual(['AWSCURRENT', 'AWSPENDING']);

      const result = await rotatePassword(options(), deps());

      expect(result).toMatchObject({ resumed: true, versionId: first[0], userCreated: true });
      const { current } = await expectConsistent();
      expect(generated).toEqual([current]);
      expect(sm.mock.commandCalls(PutSecretValueCommand)).toHaveLength(1);
      expect(sm.labels(SECRET)).toEqual({ [first[0]]: ['AWSCURRENT'] });
      expect(lines.join('\n')).toContain('(also AWSCURRENT: the first version of the secret)');
    });

    it('a crash after writing the user: the rerun keeps the password the user already has', async () => {
      await expect(rotatePassword(options(), deps(crashAfter('user-written')))).rejects.toThrow();
      const stored = sm.valueAt(SECRET, 'AWSCURRENT')!;
      await expect(bcrypt.compare(stored, (await userRow())!.passwordHash!)).resolves.toBe(true);

      await rotatePassword(options(), deps());

      const { current } = await expectConsistent();
      expect(current).toBe(stored);
      expect(generated).toHaveLength(1);
    });
  });

  describe('overlapping rotations of one secret', () => {
    beforeEach(async () => {
      await createUser(dataSource, { email: EMAIL, role: Role.ADM });
      sm.seed(SECRET, DEFAULT_PASSWORD);
    });

    it('hold an advisory lock on the secret: a second one gives up (BUSY) while the first runs', async () => {
      let second: unknown;
      const result = await rotatePassword(
        options(),
        deps({
          afterStep: async (step) => {
            if (step === 'user-written') {
              // Started by hand or by the schedule at the same moment, against the same secret
              // (by its ARN this time: one lock per secret, whatever it is called).
              second = await rotatePassword(
                options({ secretId: sm.arnOf(SECRET) }),
                deps({ lockWaitMs: 0 }),
              ).catch((e: unknown) => e);
            }
          },
        }),
      );
      expect(second).toBeInstanceOf(ToolError);
      expect(second).toMatchObject({
        exitCode: ExitCode.BUSY,
        message: expect.stringMatching(/another rotation of arn:aws:secretsmanager:.* is running/),
      });
      const { current } = await expectConsistent();
      expect(current).toBe(generated[0]);
      expect(generated).toHaveLength(1);
      expect(result.resumed).toBe(false);
    });

    it('a second one waits for the lock, then rotates afresh', async () => {
      let second: Promise<unknown> | undefined;
      await rotatePassword(
        options(),
        deps({
          afterStep: (step) => {
            if (step === 'pending-stored') {
              second = rotatePassword(options(), deps({ lockWaitMs: 20_000 }));
            }
          },
        }),
      );
      await expect(second).resolves.toMatchObject({ resumed: false });
      const { current } = await expectConsistent();
      expect(generated).toHaveLength(2);
      expect(current).toBe(generated[1]);
      expect(sm.valueAt(SECRET, 'AWSPREVIOUS')).toBe(generated[0]);
    });

    it('re-reads the labels before moving AWSCURRENT: a value put since is replaced, not tripped on', async () => {
      await rotatePassword(
        options(),
        deps({
          afterStep: (step) => {
            // Someone runs `aws secretsmanager put-secret-value` meanwhile.
            if (step === 'verified') sm.putCurrent(SECRET, 'typed by hand', 'v-manual');
          },
        }),
      );
      const { current } = await expectConsistent();
      expect(current).toBe(generated[0]);
      expect(sm.valueAt(SECRET, 'AWSPREVIOUS')).toBe('typed by hand');
      const moves = sm.mock
        .commandCalls(UpdateSecretVersionStageCommand)
        .map((c) => c.args[0].input)
        .filter((i) => i.VersionStage === 'AWSCURRENT');
      expect(moves).toEqual([
        expect.objectContaining({
          RemoveFromVersionId: 'v-manual',
          MoveToVersionId: expect.any(String),
        }),
      ]);
    });

    it('refuses to promote when AWSPENDING moved to another version meanwhile', async () => {
      await expect(
        rotatePassword(
          options(),
          deps({
            afterStep: async (step) => {
              if (step === 'verified') {
                // Another writer (not this tool) started a rotation of its own.
                await new SecretsManagerClient({ region: 'sa-east-1' }).send(
                  new PutSecretValueCommand({
                    SecretId: SECRET,
                    ClientRequestToken: 'v-other',
                    SecretString: 'someone else',
                    VersionStages: ['AWSPENDING'],
                  }),
                );
              }
            },
          }),
        ),
      ).rejects.toThrow(/AWSPENDING moved to version v-other during the rotation/);
      expect(sm.valueAt(SECRET, 'AWSCURRENT')).toBe(DEFAULT_PASSWORD);
    });
  });

  it('fails verification without promoting when the stored hash is not the pending password', async () => {
    await createUser(dataSource, { email: EMAIL, role: Role.ADM });
    sm.seed(SECRET, DEFAULT_PASSWORD);
    const other = await bcrypt.hash('something else entirely', 4);
    await expect(
      rotatePassword(
        options(),
        deps({
          // Someone changes the hash between the write and the check.
          afterStep: async (step) => {
            if (step === 'user-written') {
              await dataSource.query('UPDATE users SET password_hash = $1 WHERE email = $2', [
                other,
                EMAIL,
              ]);
            }
          },
        }),
      ),
    ).rejects.toThrow(
      /verification failed \(the stored hash does not match the pending password\)/,
    );
    expect(sm.valueAt(SECRET, 'AWSCURRENT')).toBe(DEFAULT_PASSWORD);
    expect(sm.valueAt(SECRET, 'AWSPENDING')).toBeDefined();

    // The rerun repairs it.
    await rotatePassword(options(), deps());
    await expectConsistent();
  });

  it('refuses an account linked to a Microsoft identity: exit code 2, nothing changed', async () => {
    const tid = '9188040d-6c67-4c5b-b112-36a304b66dad';
    const user = await createUser(dataSource, {
      email: EMAIL,
      role: Role.USER,
      microsoftTid: tid,
      microsoftOid: '00000000-0000-0000-66f3-3332eca7ea81',
    });
    sm.seed(SECRET, DEFAULT_PASSWORD);
    const before = await userRow();

    const err = await rotatePassword(options(), deps()).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(ToolError);
    expect(err).toMatchObject({ exitCode: 2 });
    expect((err as Error).message).toMatch(
      new RegExp(`^${EMAIL} is linked to a Microsoft identity \\(tenant ${tid}\\)`),
    );
    expect(await userRow()).toEqual(before);
    expect(generated).toEqual([]);
    expect(sm.mock.commandCalls(PutSecretValueCommand)).toHaveLength(0);
    expect(sm.valueAt(SECRET, 'AWSCURRENT')).toBe(DEFAULT_PASSWORD);
    expect(await dataSource.getRepository(AuditLogEntry).count()).toBe(0);
    expect(await userRow()).toMatchObject({ id: user.id, role: Role.USER });
  });

  it('the CLI prints the refusal and exits 2 before any AWS call', async () => {
    await createUser(dataSource, {
      email: EMAIL,
      microsoftTid: '9188040d-6c67-4c5b-b112-36a304b66dad',
      microsoftOid: '00000000-0000-0000-66f3-3332eca7ea81',
    });
    const run = spawnSync(
      process.execPath,
      [
        join(__dirname, '..', 'node_modules', 'ts-node', 'dist', 'bin.js'),
        '-T',
        'tools/rotate-password.ts',
        '--email',
        EMAIL,
        '--role',
        'ADM',
        '--secret-id',
        SECRET,
      ],
      {
        cwd: join(__dirname, '..'),
        env: {
          PATH: process.env.PATH ?? '',
          DATABASE_URL: testDatabaseUrl(),
          AWS_REGION: 'sa-east-1',
          // Any AWS call would fail on these; none may be made.
          AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE',
          AWS_SECRET_ACCESS_KEY: 'not-a-real-key',
          AWS_EC2_METADATA_DISABLED: 'true',
          LOG_LEVEL: 'silent',
        },
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(run.stderr).toContain(`rotate-password: ${EMAIL} is linked to a Microsoft identity`);
    expect(run.status).toBe(2);
    expect((await userRow())!.role).toBe(Role.USER);
  });

  it('refuses an account linked while the rotation was running', async () => {
    await createUser(dataSource, { email: EMAIL, role: Role.USER });
    const err = await rotatePassword(
      options(),
      deps({
        afterStep: async (step) => {
          if (step === 'pending-stored') {
            await dataSource.query(
              'UPDATE users SET microsoft_tid = $1, microsoft_oid = $1 WHERE email = $2',
              ['9188040d-6c67-4c5b-b112-36a304b66dad', EMAIL],
            );
          }
        },
      }),
    ).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'ToolError', exitCode: 2 });
    const row = await userRow();
    expect(row).toMatchObject({ role: Role.USER });
    expect(row!.passwordHash).not.toBeNull();
    await expect(bcrypt.compare(generated[0], row!.passwordHash!)).resolves.toBe(false);
  });

  it('does not create a secret named by an ARN', async () => {
    const arn = 'arn:aws:secretsmanager:sa-east-1:123456789012:secret:missing-AbCdEf';
    await expect(rotatePassword(options({ secretId: arn }), deps())).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
    expect(await dataSource.getRepository(User).count()).toBe(0);
  });
});

describe('rotate-password arguments', () => {
  it('reads the secret id from the environment and defaults the new user', () => {
    expect(
      parseRotateArgs(['--email', 'Root@Example.com', '--role', 'adm'], {
        ADMIN_PASSWORD_SECRET_ID: 'portal/admin',
      }),
    ).toEqual({
      email: 'root@example.com',
      role: Role.ADM,
      disabled: false,
      secretId: 'portal/admin',
      name: 'Administrator',
      organization: Organization.ALL,
    });
    expect(
      parseRotateArgs(
        [
          '--email',
          'p@example.com',
          '--role',
          'PRESIDENT',
          '--disabled',
          '--secret-id',
          's',
          '--organization',
          'dev',
        ],
        {},
      ),
    ).toMatchObject({
      role: Role.PRESIDENT,
      disabled: true,
      secretId: 's',
      organization: Organization.DEV,
    });
    expect(parseRotateArgs(['--help'], {})).toBe('help');
  });

  it.each([
    [['--role', 'ADM', '--secret-id', 's'], /--email is required/],
    [['--email', 'x@example.com', '--secret-id', 's'], /--role is required/],
    [['--email', 'x@example.com', '--role', 'ROOT', '--secret-id', 's'], /--role must be one of/],
    [['--email', 'x@example.com', '--role', 'ADM'], /--secret-id or ADMIN_PASSWORD_SECRET_ID/],
    [['--email', 'nope', '--role', 'ADM', '--secret-id', 's'], /not an email/],
    [
      ['--email', 'x@example.com', '--role', 'ADM', '--secret-id', 's', '--password', 'x'],
      /Unknown option/,
    ],
  ])('%j is refused', (argv, message) => {
    expect(() => parseRotateArgs(argv, {})).toThrow(message);
  });
});
