import type * as SecretsManagerSdk from '@aws-sdk/client-secrets-manager';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfigError } from './config-error';

/**
 * Secrets Manager at start: `DATABASE_SECRET_ID` and `JWT_SIGNING_KEYS_SECRET_ID` name secrets
 * whose values become `DATABASE_URL` and `JWT_SIGNING_KEYS` before the configuration is loaded
 * (and validated). Values are never logged; a secret that cannot be read stops the process
 * like any other bad setting.
 */
export interface SecretSources {
  /** A client for the secret's region (the region of an ARN, else the default chain's). */
  clientFor?: (region: string | undefined) => SecretsManagerClient;
  /** Told which variable came from which secret id (never the value). */
  log?: (message: string) => void;
}

/** Returns a copy of env with DATABASE_URL / JWT_SIGNING_KEYS filled in from Secrets Manager. */
export function resolveSecrets(
  env: NodeJS.ProcessEnv = process.env,
  sources: SecretSources = {},
): Promise<NodeJS.ProcessEnv> {
  return resolve(env, sources, 'all');
}

/**
 * DATABASE_SECRET_ID alone, for the migration and purge tasks: every other secret id is left
 * unread, so their task roles need no access to the signing keys.
 */
export function resolveDatabaseSecret(
  env: NodeJS.ProcessEnv = process.env,
  sources: SecretSources = {},
): Promise<NodeJS.ProcessEnv> {
  return resolve(env, sources, 'database');
}

async function resolve(
  env: NodeJS.ProcessEnv,
  sources: SecretSources,
  scope: 'all' | 'database',
): Promise<NodeJS.ProcessEnv> {
  const databaseSecretId = nonEmpty(env.DATABASE_SECRET_ID);
  // Add any further secret id below this line, inside scope 'all' only.
  const keysSecretId = scope === 'all' ? nonEmpty(env.JWT_SIGNING_KEYS_SECRET_ID) : undefined;
  if (!databaseSecretId && !keysSecretId) return env;

  const problems: string[] = [];
  if (databaseSecretId && nonEmpty(env.DATABASE_URL)) {
    problems.push('set DATABASE_URL or DATABASE_SECRET_ID, not both');
  }
  if (keysSecretId && nonEmpty(env.JWT_SIGNING_KEYS)) {
    problems.push('set JWT_SIGNING_KEYS or JWT_SIGNING_KEYS_SECRET_ID, not both');
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const clientFor = sources.clientFor ?? defaultClientFor();
  const resolved: NodeJS.ProcessEnv = { ...env };
  const read = async (name: string, secretId: string): Promise<string | undefined> => {
    try {
      return await readSecretString(clientFor(regionOf(secretId)), secretId);
    } catch (err) {
      const e = err as Error;
      problems.push(`${name}: cannot read secret "${secretId}": ${e.name}: ${e.message}`);
      return undefined;
    }
  };

  if (databaseSecretId) {
    const value = await read('DATABASE_SECRET_ID', databaseSecretId);
    if (value !== undefined) {
      const url = databaseUrlFromSecret(value, env, databaseSecretId, problems);
      if (url) {
        resolved.DATABASE_URL = url;
        sources.log?.(`DATABASE_URL read from secret ${databaseSecretId}`);
      }
    }
  }
  if (keysSecretId) {
    // The key set JSON as scripts/generate-and-store-keys.sh stores it; loadConfig validates it.
    const value = await read('JWT_SIGNING_KEYS_SECRET_ID', keysSecretId);
    if (value !== undefined) {
      resolved.JWT_SIGNING_KEYS = value.trim();
      sources.log?.(`JWT_SIGNING_KEYS read from secret ${keysSecretId}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return resolved;
}

/** The region in a secret ARN (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME), if any. */
export function regionOf(secretId: string): string | undefined {
  const m = /^arn:[\w-]+:secretsmanager:([a-z0-9-]+):/.exec(secretId);
  return m?.[1];
}

function defaultClientFor(): (region: string | undefined) => SecretsManagerClient {
  const clients = new Map<string, SecretsManagerClient>();
  return (region) => {
    const key = region ?? '';
    let client = clients.get(key);
    if (!client) {
      client = new (secretsManagerSdk().SecretsManagerClient)({
        region,
        maxAttempts: 3,
        // Start-up must not hang on an unreachable endpoint.
        requestHandler: { connectionTimeout: 3_000, requestTimeout: 5_000 },
      });
      clients.set(key, client);
    }
    return client;
  };
}

async function readSecretString(client: SecretsManagerClient, secretId: string): Promise<string> {
  const { GetSecretValueCommand } = secretsManagerSdk();
  const out = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
  if (typeof out.SecretString === 'string' && out.SecretString.length > 0) {
    return out.SecretString;
  }
  if (out.SecretBinary) return Buffer.from(out.SecretBinary).toString('utf8');
  throw Object.assign(new Error('the secret has no value'), { name: 'EmptySecret' });
}

function parseJsonObject(value: string): Record<string, unknown> | undefined {
  const trimmed = value.trim();
  if (!trimmed.startsWith('{')) return undefined;
  try {
    const parsed: unknown = JSON.parse(trimmed);
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function field(obj: Record<string, unknown>, key: string): string | undefined {
  const v = obj[key];
  if (typeof v === 'number') return String(v);
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

/**
 * A database secret is either the URL itself, or JSON as RDS writes it:
 * {username, password, host?, port?, dbname?} (RDS-managed master secrets carry only username
 * and password: DATABASE_HOST, DATABASE_PORT and DATABASE_NAME fill the gaps).
 */
export function databaseUrlFromSecret(
  value: string,
  env: NodeJS.ProcessEnv,
  secretId: string,
  problems: string[],
): string | undefined {
  const json = parseJsonObject(value);
  if (!json) {
    if (value.trim().startsWith('{')) {
      problems.push(`DATABASE_SECRET_ID: secret "${secretId}" is not valid JSON`);
      return undefined;
    }
    return value.trim();
  }
  const url = field(json, 'url') ?? field(json, 'DATABASE_URL');
  if (url) return url;
  const username = field(json, 'username');
  const password = field(json, 'password');
  const host = field(json, 'host') ?? nonEmpty(env.DATABASE_HOST);
  const port = field(json, 'port') ?? nonEmpty(env.DATABASE_PORT) ?? '5432';
  const dbname = field(json, 'dbname') ?? nonEmpty(env.DATABASE_NAME) ?? 'postgres';
  const missing = [
    !username && 'username',
    !password && 'password',
    !host && 'host (or DATABASE_HOST)',
  ].filter(Boolean);
  if (missing.length > 0) {
    problems.push(`DATABASE_SECRET_ID: secret "${secretId}" has no ${missing.join(', ')}`);
    return undefined;
  }
  if (!/^\d{1,5}$/.test(port)) {
    problems.push(`DATABASE_SECRET_ID: secret "${secretId}" has a bad port`);
    return undefined;
  }
  const enc = encodeURIComponent;
  return `postgres://${enc(username!)}:${enc(password!)}@${host}:${port}/${enc(dbname)}`;
}

function nonEmpty(v: string | undefined): string | undefined {
  return v !== undefined && v !== '' ? v : undefined;
}

/**
 * The AWS SDK costs ~100 ms of every cold start; only a process given secret ids needs it.
 */
function secretsManagerSdk(): typeof SecretsManagerSdk {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('@aws-sdk/client-secrets-manager') as typeof SecretsManagerSdk;
}

/**
 * The environment of a process that connects as another database login: `<prefix>_URL` or
 * `<prefix>_SECRET_ID` become DATABASE_URL / DATABASE_SECRET_ID, and the caller's own
 * DATABASE_URL / DATABASE_SECRET_ID are dropped. Without either, the environment is unchanged
 * (the process connects as the app does, e.g. a local superuser).
 *
 * The migration task uses DATABASE_MIGRATOR (the migrator login); `npm run db:bootstrap` uses
 * DATABASE_MASTER (the RDS master user).
 */
export function databaseLoginEnv(
  env: NodeJS.ProcessEnv,
  prefix: 'DATABASE_MIGRATOR' | 'DATABASE_MASTER',
): NodeJS.ProcessEnv {
  const url = nonEmpty(env[`${prefix}_URL`]);
  const secretId = nonEmpty(env[`${prefix}_SECRET_ID`]);
  if (!url && !secretId) return env;
  if (url && secretId) {
    throw new ConfigError([`set ${prefix}_URL or ${prefix}_SECRET_ID, not both`]);
  }
  const out: NodeJS.ProcessEnv = { ...env, DATABASE_URL: url, DATABASE_SECRET_ID: secretId };
  if (!url) delete out.DATABASE_URL;
  if (!secretId) delete out.DATABASE_SECRET_ID;
  return out;
}
