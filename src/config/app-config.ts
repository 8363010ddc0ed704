import { Transform, Type } from 'class-transformer';
import {
  IsBoolean,
  IsEmail,
  IsFQDN,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  Min,
  MinLength,
} from 'class-validator';
import { validateCronExpression } from 'cron';
import { randomBytes } from 'node:crypto';
import { ConfigError } from './config-error';
import {
  DatabaseConfig,
  DatabaseEnvironmentVariables,
  databaseProblems,
  databaseSettings,
  toBool,
  validateEnvironment,
} from './database-config';

export { ConfigError };

const DURATION = /^\d+\s*(s|m|h|d)?$/;

/** "a.edu, B.org," -> ["a.edu", "b.org"] (blanks dropped). */
const toDomainList = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string'
    ? value
        .split(',')
        .map((d) => d.trim().toLowerCase())
        .filter((d) => d.length > 0)
    : value;

/**
 * Raw environment, validated once at start. Names match the variables. The database ones
 * (NODE_ENV, DATABASE_*, EMBEDDED_PG_*) live in ./database-config, which the migration and
 * purge tasks load alone.
 */
class EnvironmentVariables extends DatabaseEnvironmentVariables {
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 3000;

  @IsString()
  HOST = '0.0.0.0';

  @IsOptional()
  @Transform(toBool)
  @IsBoolean()
  RUN_MIGRATIONS_ON_START?: boolean;

  @IsOptional()
  @IsString()
  @MinLength(32, { message: 'JWT_SECRET must be at least 32 characters' })
  JWT_SECRET?: string;

  @Matches(DURATION, { message: 'JWT_EXPIRES_IN must look like 900, 900s, 15m, 1h or 1d' })
  JWT_EXPIRES_IN = '15m';

  @Type(() => Number)
  @IsInt()
  @Min(4)
  @Max(15)
  BCRYPT_COST = 12;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  LOGIN_MAX_FAILURES = 5;

  @Matches(DURATION, { message: 'LOGIN_LOCK_DURATION must look like 900s, 15m or 1h' })
  LOGIN_LOCK_DURATION = '15m';

  @IsOptional()
  @IsEmail()
  ADMIN_EMAIL?: string;

  @IsOptional()
  @IsString()
  @MinLength(12, { message: 'ADMIN_PASSWORD must be at least 12 characters' })
  ADMIN_PASSWORD?: string;

  @IsUrl(
    { protocols: ['http', 'https'], require_protocol: true, require_tld: false },
    { message: 'GRAPH_ENDPOINT must be an http(s) URL' },
  )
  GRAPH_ENDPOINT = 'https://graph.microsoft.com/v1.0/me';

  @Type(() => Number)
  @IsInt({ message: 'GRAPH_TIMEOUT_MS must be a whole number of milliseconds' })
  @Min(100)
  @Max(60_000)
  GRAPH_TIMEOUT_MS = 5_000;

  @IsOptional()
  @Transform(toDomainList)
  @IsFQDN(
    {},
    { each: true, message: 'ALLOWED_EMAIL_DOMAINS must be a comma-separated list of domains' },
  )
  ALLOWED_EMAIL_DOMAINS?: string[];

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';

  @IsOptional()
  @Transform(toBool)
  @IsBoolean()
  WARNINGS_PURGE_ENABLED?: boolean;

  @IsString()
  WARNINGS_PURGE_CRON = '*/5 * * * *';
}

/** Typed, validated configuration. Injected as a value; never read process.env elsewhere. */
export class AppConfig extends DatabaseConfig {
  port: number;
  host: string;
  runMigrationsOnStart: boolean;
  jwtSecret: string;
  jwtExpiresInSeconds: number;
  bcryptCost: number;
  loginMaxFailures: number;
  loginLockSeconds: number;
  adminEmail?: string;
  adminPassword?: string;
  /** Microsoft Graph "me" URL for POST /auth/microsoft, and how long to wait for it. */
  graphEndpoint: string;
  graphTimeoutMs: number;
  /** Lower-case domains allowed to sign in with Microsoft; empty means any. */
  allowedEmailDomains: string[];
  logLevel: string;
  /** Run the expired-warnings purge on a schedule in this process (off by default in tests). */
  warningsPurgeEnabled: boolean;
  warningsPurgeCron: string;
}

export function parseDurationSeconds(value: string): number {
  const m = /^(\d+)\s*(s|m|h|d)?$/.exec(value.trim());
  if (!m) throw new Error(`bad duration: ${value}`);
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  return n * { s: 1, m: 60, h: 3600, d: 86400 }[unit]!;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const { vars, problems } = validateEnvironment(EnvironmentVariables, env);
  problems.push(...databaseProblems(vars));

  if (vars.NODE_ENV === 'production') {
    if (!vars.JWT_SECRET) problems.push('JWT_SECRET is required in production (or JWT_SECRET_ID)');
  }
  if (!!vars.ADMIN_EMAIL !== !!vars.ADMIN_PASSWORD) {
    problems.push('ADMIN_EMAIL and ADMIN_PASSWORD must be set together');
  }
  if (!validateCronExpression(vars.WARNINGS_PURGE_CRON).valid) {
    problems.push('WARNINGS_PURGE_CRON must be a cron expression, e.g. */5 * * * *');
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const config = new AppConfig();
  Object.assign(config, {
    ...databaseSettings(vars),
    port: vars.PORT,
    host: vars.HOST,
    // Local runs on the embedded database migrate themselves; deployed tasks never do
    // (the deploy tool runs migrations in a one-off task first).
    runMigrationsOnStart: vars.RUN_MIGRATIONS_ON_START ?? !vars.DATABASE_URL,
    // Outside production a missing secret gets a random one: tokens die with the process.
    jwtSecret: vars.JWT_SECRET ?? randomBytes(48).toString('base64url'),
    jwtExpiresInSeconds: parseDurationSeconds(vars.JWT_EXPIRES_IN),
    bcryptCost: vars.BCRYPT_COST,
    loginMaxFailures: vars.LOGIN_MAX_FAILURES,
    loginLockSeconds: parseDurationSeconds(vars.LOGIN_LOCK_DURATION),
    adminEmail: vars.ADMIN_EMAIL?.toLowerCase(),
    adminPassword: vars.ADMIN_PASSWORD,
    graphEndpoint: vars.GRAPH_ENDPOINT,
    graphTimeoutMs: vars.GRAPH_TIMEOUT_MS,
    allowedEmailDomains: vars.ALLOWED_EMAIL_DOMAINS ?? [],
    logLevel: vars.LOG_LEVEL,
    // Tests run the purge themselves; every other process purges on the schedule.
    warningsPurgeEnabled: vars.WARNINGS_PURGE_ENABLED ?? vars.NODE_ENV !== 'test',
    warningsPurgeCron: vars.WARNINGS_PURGE_CRON,
  } satisfies AppConfig);
  return config;
}
