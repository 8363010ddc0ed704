import { plainToInstance, Transform, Type } from 'class-transformer';
import {
  IsBoolean,
  IsEmail,
  IsFQDN,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  IsUrl,
  IsUUID,
  Matches,
  Max,
  Min,
  MinLength,
  validateSync,
} from 'class-validator';
import { validateCronExpression } from 'cron';
import { randomBytes } from 'node:crypto';

const toBool = ({ value }: { value: unknown }): unknown => {
  if (typeof value !== 'string') return value;
  const v = value.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off', ''].includes(v)) return false;
  return value;
};

const DURATION = /^\d+\s*(s|m|h|d)?$/;

/** "a.edu, B.org," -> ["a.edu", "b.org"] (blanks dropped). */
const toLowerList = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string'
    ? value
        .split(',')
        .map((d) => d.trim().toLowerCase())
        .filter((d) => d.length > 0)
    : value;

/**
 * Tracing and metrics. Validated on their own too (loadTelemetryConfig): tracing must start
 * before the app's modules load, so src/observability/preload.ts reads these first.
 */
class TelemetryVariables {
  /** OTLP/HTTP collector (the ADOT sidecar: http://localhost:4318). Unset: tracing is off. */
  @IsOptional()
  @IsUrl(
    { protocols: ['http', 'https'], require_protocol: true, require_tld: false },
    { message: 'OTEL_EXPORTER_OTLP_ENDPOINT must be an http(s) URL, e.g. http://localhost:4318' },
  )
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;

  @IsString()
  @Matches(/^[\w.-]{1,100}$/, { message: 'OTEL_SERVICE_NAME must be letters, digits, . _ -' })
  OTEL_SERVICE_NAME = 'portal-api';

  /** Share of new traces recorded (parent-based: a caller's sampled flag is followed). */
  @Type(() => Number)
  @IsNumber({}, { message: 'OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1' })
  @Min(0, { message: 'OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1' })
  @Max(1, { message: 'OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1' })
  OTEL_TRACES_SAMPLER_ARG = 1;

  @Type(() => Number)
  @IsInt()
  @Min(1000)
  OTEL_METRIC_EXPORT_INTERVAL = 60_000;

  /** Prometheus text format at http://METRICS_HOST:METRICS_PORT/metrics. Unset: none. */
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'METRICS_PORT must be a port number' })
  @Min(1, { message: 'METRICS_PORT must be a port number' })
  @Max(65535, { message: 'METRICS_PORT must be a port number' })
  METRICS_PORT?: number;

  @IsString()
  METRICS_HOST = '127.0.0.1';
}

/** Raw environment, validated once at start. Names match the variables. */
class EnvironmentVariables extends TelemetryVariables {
  @IsIn(['development', 'test', 'production'])
  NODE_ENV: 'development' | 'test' | 'production' = 'development';

  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 3000;

  @IsString()
  HOST = '0.0.0.0';

  @IsOptional()
  @Matches(/^postgres(ql)?:\/\/.+/, { message: 'DATABASE_URL must be a postgres:// URL' })
  DATABASE_URL?: string;

  @Transform(toBool)
  @IsBoolean()
  DATABASE_SSL = false;

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

  @IsString()
  EMBEDDED_PG_DIR = 'data/postgres';

  @Type(() => Number)
  @IsInt()
  @Min(1024)
  @Max(65535)
  EMBEDDED_PG_PORT = 5433;

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

  /** The portal's Entra ID app (client) id: the `aud` of the ID tokens. Unset: sign-in off. */
  @IsOptional()
  @IsUUID('all', { message: 'MICROSOFT_CLIENT_ID must be an application (client) id, a GUID' })
  MICROSOFT_CLIENT_ID?: string;

  @IsOptional()
  @Transform(toLowerList)
  @IsUUID('all', {
    each: true,
    message: 'MICROSOFT_TENANT_IDS must be a comma-separated list of tenant ids (GUIDs)',
  })
  MICROSOFT_TENANT_IDS?: string[];

  @IsUrl(
    { protocols: ['http', 'https'], require_protocol: true, require_tld: false },
    { message: 'MICROSOFT_AUTHORITY must be an http(s) URL' },
  )
  @Matches(/^[^?#]*$/, { message: 'MICROSOFT_AUTHORITY must have no query or fragment' })
  MICROSOFT_AUTHORITY = 'https://login.microsoftonline.com';

  @Type(() => Number)
  @IsInt({ message: 'MICROSOFT_KEYS_TIMEOUT_MS must be a whole number of milliseconds' })
  @Min(100)
  @Max(60_000)
  MICROSOFT_KEYS_TIMEOUT_MS = 5_000;

  @IsOptional()
  @Transform(toLowerList)
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

  @Type(() => Number)
  @IsInt({ message: 'STREAMS_PER_USER must be a whole number from 1 to 100' })
  @Min(1, { message: 'STREAMS_PER_USER must be a whole number from 1 to 100' })
  @Max(100, { message: 'STREAMS_PER_USER must be a whole number from 1 to 100' })
  STREAMS_PER_USER = 5;

  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(60_000)
  STREAM_HEARTBEAT_MS = 15_000;

  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(60_000)
  STREAM_AUTH_CHECK_INTERVAL_MS = 5_000;
}

export interface TelemetryConfig {
  /** OTLP/HTTP base URL; undefined: no tracing and no OTLP metrics. */
  otlpEndpoint?: string;
  serviceName: string;
  traceSampleRatio: number;
  metricExportIntervalMs: number;
  /** Serve Prometheus metrics on this port (never the public PORT); undefined: none. */
  metricsPort?: number;
  metricsHost: string;
}

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/** Typed, validated configuration. Injected as a value; never read process.env elsewhere. */
export class AppConfig {
  nodeEnv: 'development' | 'test' | 'production';
  port: number;
  host: string;
  /** Undefined means: start an embedded PostgreSQL (local use only). */
  databaseUrl?: string;
  databaseSsl: boolean;
  databasePoolSize: number;
  databaseStatementTimeoutMs: number;
  databaseConnectTimeoutMs: number;
  embeddedPgDir: string;
  embeddedPgPort: number;
  runMigrationsOnStart: boolean;
  jwtSecret: string;
  jwtExpiresInSeconds: number;
  bcryptCost: number;
  loginMaxFailures: number;
  loginLockSeconds: number;
  adminEmail?: string;
  adminPassword?: string;
  /**
   * POST /auth/microsoft (OpenID Connect). Undefined client id: Microsoft sign-in is off.
   * Tenant ids are lower-case; the authority has no trailing slash.
   */
  microsoftClientId?: string;
  microsoftTenantIds: string[];
  microsoftAuthority: string;
  /** How long to wait for a tenant's signing keys before answering 503. */
  microsoftKeysTimeoutMs: number;
  /**
   * Lower-case email domains. Microsoft sign-in links an existing account only when its
   * domain is listed, and refuses (403) a new account of an unlisted one; empty (allowed only
   * outside production when Microsoft sign-in is on): no linking, any domain for new accounts.
   */
  allowedEmailDomains: string[];
  logLevel: string;
  /** Run the expired-warnings purge on a schedule in this process (off by default in tests). */
  warningsPurgeEnabled: boolean;
  warningsPurgeCron: string;
  /** Open GET /warnings/stream connections one user may hold in one process (oldest closed). */
  streamsPerUser: number;
  streamHeartbeatMs: number;
  /** How often open streams re-check their caller (deleted, deactivated, re-keyed users). */
  streamAuthCheckIntervalMs: number;
  telemetry: TelemetryConfig;
}

export function parseDurationSeconds(value: string): number {
  const m = /^(\d+)\s*(s|m|h|d)?$/.exec(value.trim());
  if (!m) throw new Error(`bad duration: ${value}`);
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  return n * { s: 1, m: 60, h: 3600, d: 86400 }[unit]!;
}

function validated<T extends object>(
  cls: new () => T,
  env: NodeJS.ProcessEnv,
): { vars: T; problems: string[] } {
  // Empty strings count as unset, as they do in most deployment tools.
  const raw = Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== undefined && v !== ''),
  );
  const vars = plainToInstance(cls, raw, { exposeDefaultValues: true });
  const errors = validateSync(vars, { skipMissingProperties: false, whitelist: false });
  return { vars, problems: errors.flatMap((e) => Object.values(e.constraints ?? {})) };
}

function telemetryOf(vars: TelemetryVariables): TelemetryConfig {
  return {
    otlpEndpoint: vars.OTEL_EXPORTER_OTLP_ENDPOINT?.replace(/\/+$/, ''),
    serviceName: vars.OTEL_SERVICE_NAME,
    traceSampleRatio: vars.OTEL_TRACES_SAMPLER_ARG,
    metricExportIntervalMs: vars.OTEL_METRIC_EXPORT_INTERVAL,
    metricsPort: vars.METRICS_PORT,
    metricsHost: vars.METRICS_HOST,
  };
}

/** The tracing and metrics settings alone (the preload reads them before anything else). */
export function loadTelemetryConfig(env: NodeJS.ProcessEnv = process.env): TelemetryConfig {
  const { vars, problems } = validated(TelemetryVariables, env);
  if (problems.length > 0) throw new ConfigError(problems);
  return telemetryOf(vars);
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const { vars, problems } = validated(EnvironmentVariables, env);

  if (vars.NODE_ENV === 'production') {
    if (!vars.DATABASE_URL)
      problems.push('DATABASE_URL is required in production (or DATABASE_SECRET_ID)');
    if (!vars.JWT_SECRET) problems.push('JWT_SECRET is required in production (or JWT_SECRET_ID)');
    if (vars.MICROSOFT_CLIENT_ID) {
      // Microsoft sign-in is on: which tenants may sign in, and which addresses may be linked
      // or create accounts, must be decided, not left open.
      if (!vars.MICROSOFT_TENANT_IDS?.length) {
        problems.push(
          'MICROSOFT_TENANT_IDS is required in production when MICROSOFT_CLIENT_ID is set ' +
            '(comma-separated tenant ids allowed to sign in)',
        );
      }
      if (!vars.ALLOWED_EMAIL_DOMAINS?.length) {
        problems.push(
          'ALLOWED_EMAIL_DOMAINS is required in production when MICROSOFT_CLIENT_ID is set ' +
            '(comma-separated email domains, e.g. maua.br)',
        );
      }
      if (!/^https:\/\//i.test(vars.MICROSOFT_AUTHORITY)) {
        problems.push('MICROSOFT_AUTHORITY must be an https URL in production');
      }
    }
  }
  if (!!vars.ADMIN_EMAIL !== !!vars.ADMIN_PASSWORD) {
    problems.push('ADMIN_EMAIL and ADMIN_PASSWORD must be set together');
  }
  if (vars.METRICS_PORT !== undefined && vars.METRICS_PORT === vars.PORT) {
    problems.push(
      'METRICS_PORT must differ from PORT: metrics are never served on the public port',
    );
  }
  if (!validateCronExpression(vars.WARNINGS_PURGE_CRON).valid) {
    problems.push('WARNINGS_PURGE_CRON must be a cron expression, e.g. */5 * * * *');
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const config = new AppConfig();
  Object.assign(config, {
    nodeEnv: vars.NODE_ENV,
    port: vars.PORT,
    host: vars.HOST,
    databaseUrl: vars.DATABASE_URL,
    databaseSsl: vars.DATABASE_SSL,
    databasePoolSize: vars.DATABASE_POOL_SIZE,
    databaseStatementTimeoutMs: vars.DATABASE_STATEMENT_TIMEOUT_MS,
    databaseConnectTimeoutMs: vars.DATABASE_CONNECT_TIMEOUT_MS,
    embeddedPgDir: vars.EMBEDDED_PG_DIR,
    embeddedPgPort: vars.EMBEDDED_PG_PORT,
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
    microsoftClientId: vars.MICROSOFT_CLIENT_ID?.toLowerCase(),
    microsoftTenantIds: vars.MICROSOFT_TENANT_IDS ?? [],
    microsoftAuthority: vars.MICROSOFT_AUTHORITY.replace(/\/+$/, ''),
    microsoftKeysTimeoutMs: vars.MICROSOFT_KEYS_TIMEOUT_MS,
    allowedEmailDomains: vars.ALLOWED_EMAIL_DOMAINS ?? [],
    logLevel: vars.LOG_LEVEL,
    // Tests run the purge themselves; every other process purges on the schedule.
    warningsPurgeEnabled: vars.WARNINGS_PURGE_ENABLED ?? vars.NODE_ENV !== 'test',
    warningsPurgeCron: vars.WARNINGS_PURGE_CRON,
    streamsPerUser: vars.STREAMS_PER_USER,
    streamHeartbeatMs: vars.STREAM_HEARTBEAT_MS,
    streamAuthCheckIntervalMs: vars.STREAM_AUTH_CHECK_INTERVAL_MS,
    telemetry: telemetryOf(vars),
  } satisfies AppConfig);
  return config;
}
