import { Transform, Type } from 'class-transformer';
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
  MaxLength,
  MinLength,
} from 'class-validator';
import { validateCronExpression } from 'cron';
import {
  generateSigningKeysJson,
  parseSigningKeySet,
  SigningKeySet,
  SigningKeysError,
} from '../auth/signing-keys';
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

/**
 * Raw environment, validated once at start. Names match the variables. The database ones
 * (NODE_ENV, DATABASE_*, EMBEDDED_PG_*) live in ./database-config, which the migration and
 * purge tasks load alone; the telemetry ones (above) are validated beside these.
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

  /** The key set (JSON, see docs/security.md); or JWT_SIGNING_KEYS_SECRET_ID (secrets.ts). */
  @IsOptional()
  @IsString()
  JWT_SIGNING_KEYS?: string;

  @IsString()
  @MinLength(1)
  @MaxLength(256, { message: 'JWT_ISSUER must be at most 256 characters' })
  JWT_ISSUER = 'portal-api';

  @IsString()
  @MinLength(1)
  @MaxLength(256, { message: 'JWT_AUDIENCE must be at most 256 characters' })
  JWT_AUDIENCE = 'portal-api';

  @Matches(DURATION, { message: 'JWT_EXPIRES_IN must look like 900, 900s, 15m or 10m' })
  JWT_EXPIRES_IN = '15m';

  @Matches(DURATION, { message: 'REFRESH_IDLE_TTL must look like 12h, 7d or 604800' })
  REFRESH_IDLE_TTL = '7d';

  @Matches(DURATION, { message: 'REFRESH_ABSOLUTE_TTL must look like 30d or 2592000' })
  REFRESH_ABSOLUTE_TTL = '30d';

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

  @Type(() => Number)
  @IsInt({ message: 'IMPORT_MAX_ROWS must be a whole number of rows' })
  @Min(1)
  @Max(10_000_000)
  IMPORT_MAX_ROWS = 200_000;

  @IsOptional()
  @Transform(toBool)
  @IsBoolean()
  SEED_ON_START?: boolean;

  @IsOptional()
  @IsString()
  @MinLength(12, { message: 'SEED_PASSWORD must be at least 12 characters' })
  SEED_PASSWORD?: string;
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

/** Typed, validated configuration. Injected as a value; never read process.env elsewhere. */
export class AppConfig extends DatabaseConfig {
  port: number;
  host: string;
  runMigrationsOnStart: boolean;
  /** Signs access tokens (current key) and verifies them (every key of the set). */
  jwtSigningKeys: SigningKeySet;
  /** True when no key set was configured and this process made its own (never in production). */
  jwtSigningKeysGenerated: boolean;
  jwtIssuer: string;
  jwtAudience: string;
  /** Access token lifetime, at most ACCESS_TOKEN_MAX_SECONDS. */
  jwtExpiresInSeconds: number;
  /** A session ends after this long without a refresh... */
  refreshIdleSeconds: number;
  /** ...or this long after the sign-in, whatever happens. */
  refreshAbsoluteSeconds: number;
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
  /** Data rows one import may hold (header and blank lines not counted); more is a 413. */
  importMaxRows: number;
  /** Load the mock users and warnings at start (local use: never in production). */
  seedOnStart: boolean;
  /** The mock users' shared password; undefined means DEFAULT_SEED_PASSWORD (src/seed). */
  seedPassword?: string;
  /** Open GET /warnings/stream connections one user may hold in one process (oldest closed). */
  streamsPerUser: number;
  streamHeartbeatMs: number;
  /** How often open streams re-check their caller (deleted, deactivated, re-keyed users). */
  streamAuthCheckIntervalMs: number;
  telemetry: TelemetryConfig;
}

/** RFC 9068 / Auth0 guidance: access tokens are short-lived; refresh tokens carry the session. */
export const ACCESS_TOKEN_MAX_SECONDS = 15 * 60;
const MIN_SESSION_SECONDS = 60;
const MAX_SESSION_SECONDS = 365 * 86400;

export function parseDurationSeconds(value: string): number {
  const m = /^(\d+)\s*(s|m|h|d)?$/.exec(value.trim());
  if (!m) throw new Error(`bad duration: ${value}`);
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  return n * { s: 1, m: 60, h: 3600, d: 86400 }[unit]!;
}

/** Seconds, or undefined for a value the DURATION check has already refused. */
function seconds(value: unknown): number | undefined {
  return typeof value === 'string' && DURATION.test(value)
    ? parseDurationSeconds(value)
    : undefined;
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
  const { vars, problems } = validateEnvironment(TelemetryVariables, env);
  if (problems.length > 0) throw new ConfigError(problems);
  return telemetryOf(vars);
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const { vars, problems } = validateEnvironment(EnvironmentVariables, env);
  const telemetry = validateEnvironment(TelemetryVariables, env);
  problems.push(...telemetry.problems, ...databaseProblems(vars));

  if (vars.NODE_ENV === 'production') {
    if (!vars.JWT_SIGNING_KEYS) {
      problems.push(
        'JWT_SIGNING_KEYS is required in production (or JWT_SIGNING_KEYS_SECRET_ID; see scripts/generate-and-store-keys.sh)',
      );
    }
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
  for (const gone of ['JWT_SECRET', 'JWT_SECRET_ID']) {
    // HS256 is gone: a leftover must not look like a working setting.
    if (env[gone] !== undefined && env[gone] !== '') {
      problems.push(
        `${gone} is no longer read: access tokens are ES256; set JWT_SIGNING_KEYS or JWT_SIGNING_KEYS_SECRET_ID instead`,
      );
    }
  }
  let signingKeys: SigningKeySet | undefined;
  if (vars.JWT_SIGNING_KEYS !== undefined && typeof vars.JWT_SIGNING_KEYS === 'string') {
    try {
      signingKeys = parseSigningKeySet(vars.JWT_SIGNING_KEYS);
    } catch (err) {
      if (!(err instanceof SigningKeysError)) throw err;
      problems.push(...err.problems);
    }
  }
  const durations = {
    JWT_EXPIRES_IN: seconds(vars.JWT_EXPIRES_IN),
    REFRESH_IDLE_TTL: seconds(vars.REFRESH_IDLE_TTL),
    REFRESH_ABSOLUTE_TTL: seconds(vars.REFRESH_ABSOLUTE_TTL),
  };
  if (durations.JWT_EXPIRES_IN !== undefined) {
    if (durations.JWT_EXPIRES_IN < 1 || durations.JWT_EXPIRES_IN > ACCESS_TOKEN_MAX_SECONDS) {
      problems.push('JWT_EXPIRES_IN must be between 1s and 15m (access tokens are short-lived)');
    }
  }
  for (const name of ['REFRESH_IDLE_TTL', 'REFRESH_ABSOLUTE_TTL'] as const) {
    const v = durations[name];
    if (v !== undefined && (v < MIN_SESSION_SECONDS || v > MAX_SESSION_SECONDS)) {
      problems.push(`${name} must be between 1m and 365d`);
    }
  }
  if (
    durations.REFRESH_IDLE_TTL !== undefined &&
    durations.REFRESH_ABSOLUTE_TTL !== undefined &&
    durations.REFRESH_IDLE_TTL > durations.REFRESH_ABSOLUTE_TTL
  ) {
    problems.push('REFRESH_IDLE_TTL must not be longer than REFRESH_ABSOLUTE_TTL');
  }
  if (!!vars.ADMIN_EMAIL !== !!vars.ADMIN_PASSWORD) {
    problems.push('ADMIN_EMAIL and ADMIN_PASSWORD must be set together');
  }
  if (telemetry.vars.METRICS_PORT !== undefined && telemetry.vars.METRICS_PORT === vars.PORT) {
    problems.push(
      'METRICS_PORT must differ from PORT: metrics are never served on the public port',
    );
  }
  if (!validateCronExpression(vars.WARNINGS_PURGE_CRON).valid) {
    problems.push('WARNINGS_PURGE_CRON must be a cron expression, e.g. */5 * * * *');
  }
  if (vars.NODE_ENV === 'production' && vars.SEED_ON_START === true) {
    problems.push('SEED_ON_START cannot be true in production: mock users are for local use');
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
    // Outside production a missing key set gets a new P-256 pair: tokens die with the process.
    jwtSigningKeys: signingKeys ?? parseSigningKeySet(generateSigningKeysJson()),
    jwtSigningKeysGenerated: signingKeys === undefined,
    jwtIssuer: vars.JWT_ISSUER,
    jwtAudience: vars.JWT_AUDIENCE,
    jwtExpiresInSeconds: durations.JWT_EXPIRES_IN!,
    refreshIdleSeconds: durations.REFRESH_IDLE_TTL!,
    refreshAbsoluteSeconds: durations.REFRESH_ABSOLUTE_TTL!,
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
    importMaxRows: vars.IMPORT_MAX_ROWS,
    // A first local run (embedded database) gets accounts to sign in with.
    seedOnStart: vars.SEED_ON_START ?? (!vars.DATABASE_URL && vars.NODE_ENV !== 'production'),
    seedPassword: vars.SEED_PASSWORD,
    streamsPerUser: vars.STREAMS_PER_USER,
    streamHeartbeatMs: vars.STREAM_HEARTBEAT_MS,
    streamAuthCheckIntervalMs: vars.STREAM_AUTH_CHECK_INTERVAL_MS,
    telemetry: telemetryOf(telemetry.vars),
  } satisfies AppConfig);
  return config;
}
