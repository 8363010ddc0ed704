import { plainToInstance, Transform, Type } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  validateSync,
} from 'class-validator';
import {
  DatabaseTls,
  RDS_CA_BUNDLE,
  readCaBundle,
  tlsParametersOf,
} from '../database/database-tls';
import { ConfigError } from './config-error';

export const toBool = ({ value }: { value: unknown }): unknown => {
  if (typeof value !== 'string') return value;
  const v = value.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off', ''].includes(v)) return false;
  return value;
};

/**
 * The variables every process that talks to the database reads, and nothing else. The
 * migration task and the warnings purge load only these (loadDatabaseConfig), so they never
 * need, see or validate the API's signing keys; the app's EnvironmentVariables extend them.
 */
export class DatabaseEnvironmentVariables {
  @IsIn(['development', 'test', 'production'])
  NODE_ENV: 'development' | 'test' | 'production' = 'development';

  @IsOptional()
  @Matches(/^postgres(ql)?:\/\/.+/, { message: 'DATABASE_URL must be a postgres:// URL' })
  DATABASE_URL?: string;

  @Transform(toBool)
  @IsBoolean()
  DATABASE_SSL = false;

  /** The CA file the server's certificate must chain to (default: every Amazon RDS root). */
  @IsString()
  DATABASE_SSL_CA = RDS_CA_BUNDLE;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  DATABASE_POOL_SIZE = 10;

  @Type(() => Number)
  @IsInt()
  @Min(100)
  DATABASE_STATEMENT_TIMEOUT_MS = 10_000;

  @Type(() => Number)
  @IsInt()
  @Min(100)
  DATABASE_CONNECT_TIMEOUT_MS = 3_000;

  /** Unset: data/postgres, or a folder the postgres user can reach (src/database/embedded-postgres.ts). */
  @IsOptional()
  @IsString()
  EMBEDDED_PG_DIR?: string;

  @Type(() => Number)
  @IsInt()
  @Min(1024)
  @Max(65535)
  EMBEDDED_PG_PORT = 5433;
}

/** Typed database settings: what migrating, purging and the app's pool need. */
export class DatabaseConfig {
  nodeEnv: 'development' | 'test' | 'production';
  /** Undefined means: start an embedded PostgreSQL (local use only). */
  databaseUrl?: string;
  /** Verified TLS (the CA file the server's certificate must chain to), or false for none. */
  databaseSsl: DatabaseTls | false;
  databasePoolSize: number;
  databaseStatementTimeoutMs: number;
  databaseConnectTimeoutMs: number;
  /** EMBEDDED_PG_DIR as given; undefined lets the embedded server pick data/postgres. */
  embeddedPgDir?: string;
  embeddedPgPort: number;
}

/**
 * Parses env into vars (defaults applied) and lists every validation problem. Empty strings
 * count as unset, as they do in most deployment tools.
 */
export function validateEnvironment<T extends object>(
  cls: new () => T,
  env: NodeJS.ProcessEnv,
): { vars: T; problems: string[] } {
  const raw = Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== undefined && v !== ''),
  );
  const vars = plainToInstance(cls, raw, { exposeDefaultValues: true });
  const errors = validateSync(vars, { skipMissingProperties: false, whitelist: false });
  return { vars, problems: errors.flatMap((e) => Object.values(e.constraints ?? {})) };
}

/** The rules between database variables (added to the field-by-field problems). */
export function databaseProblems(vars: DatabaseEnvironmentVariables): string[] {
  const problems: string[] = [];
  if (vars.NODE_ENV === 'production' && !vars.DATABASE_URL) {
    problems.push('DATABASE_URL is required in production (or DATABASE_SECRET_ID)');
  }
  // node-postgres lets sslmode & co. in the URL replace the verified settings: refuse them.
  const tlsParameters = vars.DATABASE_URL ? tlsParametersOf(vars.DATABASE_URL) : [];
  if (tlsParameters.length > 0) {
    problems.push(
      `DATABASE_URL must not carry ${tlsParameters.join(', ')}: TLS is set by DATABASE_SSL and DATABASE_SSL_CA`,
    );
  }
  if (vars.DATABASE_SSL) {
    try {
      readCaBundle(vars.DATABASE_SSL_CA);
    } catch (err) {
      problems.push(`DATABASE_SSL_CA: ${(err as Error).message}`);
    }
  }
  return problems;
}

export function databaseSettings(vars: DatabaseEnvironmentVariables): DatabaseConfig {
  return {
    nodeEnv: vars.NODE_ENV,
    databaseUrl: vars.DATABASE_URL,
    databaseSsl: vars.DATABASE_SSL ? { caFile: vars.DATABASE_SSL_CA } : false,
    databasePoolSize: vars.DATABASE_POOL_SIZE,
    databaseStatementTimeoutMs: vars.DATABASE_STATEMENT_TIMEOUT_MS,
    databaseConnectTimeoutMs: vars.DATABASE_CONNECT_TIMEOUT_MS,
    embeddedPgDir: vars.EMBEDDED_PG_DIR,
    embeddedPgPort: vars.EMBEDDED_PG_PORT,
  };
}

/**
 * The database settings alone, for the migration and purge entry points. Every other
 * variable (signing keys, admin, Microsoft, ...) is ignored, however it is set.
 * Resolve DATABASE_SECRET_ID first with resolveDatabaseSecret (./secrets).
 */
export function loadDatabaseConfig(env: NodeJS.ProcessEnv = process.env): DatabaseConfig {
  const { vars, problems } = validateEnvironment(DatabaseEnvironmentVariables, env);
  problems.push(...databaseProblems(vars));
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.assign(new DatabaseConfig(), databaseSettings(vars));
}
