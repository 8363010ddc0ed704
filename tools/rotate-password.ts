import 'reflect-metadata';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DataSource } from 'typeorm';
import { buildDataSourceOptions } from '../ormconfig';
import { ConfigError } from '../src/config/config-error';
import { loadDatabaseConfig } from '../src/config/database-config';
import { regionOf, resolveDatabaseSecret } from '../src/config/secrets';
import { Organization, Role } from '../src/users/user.enums';
import { parseOptions, requireString, UsageError } from './lib/cli';
import { ExitCode, ToolError } from './ecs/common';
import { rotatePassword, RotationOptions } from './rotation/rotate-password';

export const USAGE = `usage: npm run rotate-password -- --email EMAIL --role ADM|PRESIDENT|USER [--disabled]
         [--secret-id ID] [--name NAME] [--organization ORG]
  in the image: node dist/tools/rotate-password.js --email EMAIL --role ADM ...

Generates a new password, keeps it in Secrets Manager (AWSPENDING, then AWSCURRENT) and sets
the user's bcrypt hash, under a database advisory lock on the secret. A run that stopped
half-way is finished by running it again. The password is never printed: read it from the
secret.

  --email         the user (created when missing)
  --role          the user's role
  --disabled      keep the account DISCONNECTED (a stored break-glass password)
  --secret-id     the secret (default: ADMIN_PASSWORD_SECRET_ID); created when missing
  --name          name of a user that does not exist yet (default "Administrator")
  --organization  organization of a user that does not exist yet (default ALL for ADM)

environment: DATABASE_URL or DATABASE_SECRET_ID, DATABASE_SSL, BCRYPT_COST, AWS_REGION
exit codes (docs/deploy.md): 0 rotated, 1 failed (run again), 2 usage or an account linked to
  Microsoft (refused), 8 another rotation of the secret is running (run again later), 78 bad
  configuration`;

export type RotateArgs = Omit<RotationOptions, 'bcryptCost'>;

export function parseRotateArgs(argv: string[], env: NodeJS.ProcessEnv): RotateArgs | 'help' {
  const v = parseOptions(argv, {
    email: { type: 'string' },
    role: { type: 'string' },
    disabled: { type: 'boolean' },
    'secret-id': { type: 'string' },
    name: { type: 'string' },
    organization: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (v.help) return 'help';
  const email = requireString(v, 'email').toLowerCase();
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) throw new UsageError('--email is not an email');
  const roleName = requireString(v, 'role').toUpperCase();
  const role = Object.values(Role).find((r) => r.toString() === roleName);
  if (!role) {
    throw new UsageError(`--role must be one of ${Object.values(Role).join(', ')}`);
  }
  const organization =
    typeof v.organization === 'string' ? v.organization.toUpperCase() : undefined;
  if (organization && !Object.values(Organization).includes(organization as Organization)) {
    throw new UsageError(`--organization must be one of ${Object.values(Organization).join(', ')}`);
  }
  const secretId =
    (typeof v['secret-id'] === 'string' && v['secret-id'].trim()) ||
    env.ADMIN_PASSWORD_SECRET_ID?.trim();
  if (!secretId) throw new UsageError('--secret-id or ADMIN_PASSWORD_SECRET_ID is required');
  const name = typeof v.name === 'string' ? v.name.trim() : 'Administrator';
  if (name.length < 2) throw new UsageError('--name must have at least 2 characters');
  return {
    email,
    role,
    disabled: v.disabled === true,
    secretId,
    name,
    organization:
      (organization as Organization | undefined) ?? (role === Role.ADM ? Organization.ALL : null),
  };
}

/** BCRYPT_COST as the API validates it (4..15, default 12): the hash must be one it accepts. */
export function bcryptCostOf(env: NodeJS.ProcessEnv): number {
  const raw = env.BCRYPT_COST?.trim();
  if (!raw) return 12;
  const cost = Number(raw);
  if (!Number.isInteger(cost) || cost < 4 || cost > 15) {
    throw new ConfigError(['BCRYPT_COST must be a whole number from 4 to 15']);
  }
  return cost;
}

async function main(): Promise<void> {
  const args = parseRotateArgs(process.argv.slice(2), process.env);
  if (args === 'help') {
    console.log(USAGE);
    return;
  }
  // The database settings and BCRYPT_COST only: the rotation task's role needs no access to
  // the API's signing keys (docs/deploy.md, IAM).
  const env = await resolveDatabaseSecret(process.env);
  const config = loadDatabaseConfig(env);
  const bcryptCost = bcryptCostOf(env);
  if (!config.databaseUrl) {
    throw new UsageError('DATABASE_URL or DATABASE_SECRET_ID is required');
  }
  const dataSource = new DataSource(
    buildDataSourceOptions({
      url: config.databaseUrl,
      ssl: config.databaseSsl,
      poolSize: 2,
      connectTimeoutMs: config.databaseConnectTimeoutMs,
      applicationName: 'portal-api-rotate-password',
    }),
  );
  await dataSource.initialize();
  try {
    const secrets = new SecretsManagerClient({
      region: regionOf(args.secretId),
      maxAttempts: 5,
      requestHandler: { connectionTimeout: 5_000, requestTimeout: 15_000 },
    });
    const result = await rotatePassword(
      { ...args, bcryptCost },
      { secrets, dataSource, out: (l) => console.log(l) },
    );
    console.log(
      `rotated the password of ${args.email}: secret ${args.secretId} version ${result.versionId}`,
    );
  } finally {
    await dataSource.destroy();
  }
}

if (require.main === module) {
  main().then(
    () => {
      process.exitCode = ExitCode.OK;
    },
    (err: unknown) => {
      if (err instanceof UsageError) {
        console.error(`rotate-password: ${err.message}\n\n${USAGE}`);
        process.exitCode = ExitCode.USAGE;
      } else if (err instanceof ConfigError) {
        console.error(`rotate-password: ${err.message}`);
        process.exitCode = ExitCode.CONFIG;
      } else if (err instanceof ToolError) {
        console.error(`rotate-password: ${err.message}`);
        process.exitCode = err.exitCode;
      } else {
        // Messages of AWS, pg and bcrypt errors carry no secret values.
        const e = err as Error;
        console.error(
          `rotate-password failed: ${e?.name ?? 'Error'}: ${e?.message ?? String(err)}`,
        );
        process.exitCode = ExitCode.UNEXPECTED;
      }
    },
  );
}
