import { join } from 'node:path';
import { DataSource, DataSourceOptions } from 'typeorm';
import {
  DatabaseTls,
  databaseTlsOptions,
  RDS_CA_BUNDLE,
  tlsParametersOf,
} from './src/database/database-tls';

export interface DatabaseSettings {
  url: string;
  /**
   * TLS, always verified (certificate chain and host name): `true` trusts the Amazon RDS CA
   * bundle shipped with the app, `{ caFile }` another CA file; `false`/absent is plain TCP.
   */
  ssl?: boolean | DatabaseTls;
  poolSize?: number;
  statementTimeoutMs?: number;
  connectTimeoutMs?: number;
  applicationName?: string;
}

/**
 * The one source of database options, for the app, the migration runner, the tests and
 * the TypeORM CLI. Entities and migrations are found by path so the same file works from
 * TypeScript (tests, CLI) and from compiled JavaScript (dist/, the production image).
 */
export function buildDataSourceOptions(settings: DatabaseSettings): DataSourceOptions {
  const urlTls = tlsParametersOf(settings.url);
  if (urlTls.length > 0) {
    // node-postgres lets these replace the verified TLS options below.
    throw new Error(
      `the database URL must not carry ${urlTls.join(', ')}: TLS is set by DATABASE_SSL and DATABASE_SSL_CA`,
    );
  }
  return {
    type: 'postgres',
    url: settings.url,
    ssl: settings.ssl
      ? databaseTlsOptions(settings.ssl === true ? { caFile: RDS_CA_BUNDLE } : settings.ssl)
      : false,
    entities: [join(__dirname, 'src', '**', '*.entity.{ts,js}')],
    migrations: [join(__dirname, 'migrations', '*.{ts,js}')],
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    migrationsRun: false,
    // gen_random_uuid() is built into PostgreSQL 13+: no extension to install at connect.
    uuidExtension: 'pgcrypto',
    installExtensions: false,
    logging: ['error'],
    extra: {
      max: settings.poolSize ?? 10,
      // Fail fast when the database is unreachable instead of hanging a request.
      connectionTimeoutMillis: settings.connectTimeoutMs ?? 3000,
      // A slow query ends with an error (mapped to 503) rather than holding a connection.
      statement_timeout: settings.statementTimeoutMs ?? 10_000,
      idle_in_transaction_session_timeout: 60_000,
      application_name: settings.applicationName ?? 'portal-api',
      keepAlive: true,
    },
  };
}

// Used by the TypeORM CLI (`typeorm-ts-node-commonjs -d ormconfig.ts`).
export default new DataSource(
  buildDataSourceOptions({
    url: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    ssl:
      process.env.DATABASE_SSL === 'true'
        ? { caFile: process.env.DATABASE_SSL_CA || RDS_CA_BUNDLE }
        : false,
  }),
);
