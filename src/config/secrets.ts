import type * as SecretsManagerSdk from '@aws-sdk/client-secrets-manager';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfigError } from './config-error';

/**
 * Secrets Manager at start: `DATABASE_SECRET_ID` and `JWT_SECRET_ID` name secrets whose values
 * become `DATABASE_URL` and `JWT_SECRET` before the configuration is loaded. Values are never
 * logged; a secret that cannot be read stops the process like any other bad setting.
 */
export interface SecretSources {
  /** A client for the secret's region (the region of an ARN, else the default chain's). */
  clientFor?: (region: string | undefined) => SecretsManagerClient;
  /** Told which variable came from which secret id (never the value). */
  log?: (message: string) => void;
}

const JWT_KEYS = ['jwt_secret', 'JWT_SECRET', 'secret'];

/** Returns a copy of env with DATABASE_URL / JWT_SECRET filled in from Secrets Manager. */
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
  const jwtSecretId = scope === 'all' ? nonEmpty(env.JWT_SECRET_ID) : undefined;
  if (!databaseSecretId && !jwtSecretId) return env;

  const problems: string[] = [];
  if (databaseSecretId && nonEmpty(env.DATABASE_URL)) {
    problems.push('set DATABASE_URL or DATABASE_SECRET_ID, not both');
  }
  if (jwtSecretId && nonEmpty(env.JWT_SECRET)) {
    problems.push('set JWT_SECRET or JWT_SECRET_ID, not both');
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
  if (jwtSecretId) {
    const value = await read('JWT_SECRET_ID', jwtSecretId);
    if (value !== undefined) {
      const secret = jwtSecretFromSecret(value, jwtSecretId, problems);
      if (secret) {
        resolved.JWT_SECRET = secret;
        sources.log?.(`JWT_SECRET read from secret ${jwtSecretId}`);
      }
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

/** A JWT secret is the plain string, or JSON with one of jwt_secret, JWT_SECRET or secret. */
export function jwtSecretFromSecret(
  value: string,
  secretId: string,
  problems: string[],
): string | undefined {
  const json = parseJsonObject(value);
  if (!json) return value.trim();
  for (const key of JWT_KEYS) {
    const v = field(json, key);
    if (v) return v;
  }
  problems.push(`JWT_SECRET_ID: secret "${secretId}" has none of the keys ${JWT_KEYS.join(', ')}`);
  return undefined;
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
