import { DataSource } from 'typeorm';
import { buildDataSourceOptions } from '../../ormconfig';
import { ConfigError, loadConfig } from '../config/app-config';
import { databaseLoginEnv, resolveSecrets } from '../config/secrets';
import { APP_ROLE, DatabaseLogin, MIGRATOR_ROLE, provisionLogin } from './database-roles';
import { runMigrationsWithLock } from './migration-runner';

/** The master user's URL and the two logins to provision. */
export interface BootstrapPlan {
  masterUrl: string;
  logins: DatabaseLogin[];
}

const enc = (s: string) => decodeURIComponent(s);

function loginOf(url: string, role: DatabaseLogin['role']): DatabaseLogin {
  const u = new URL(url);
  return { username: enc(u.username), password: enc(u.password), role };
}

function sameServer(a: string, b: string): boolean {
  const [x, y] = [new URL(a), new URL(b)];
  return x.host === y.host && x.pathname === y.pathname;
}

/** Reads the three logins (from Secrets Manager when given ids) and checks they fit together. */
export async function planBootstrap(env: NodeJS.ProcessEnv): Promise<BootstrapPlan> {
  const only = (e: NodeJS.ProcessEnv): NodeJS.ProcessEnv => ({
    DATABASE_URL: e.DATABASE_URL,
    DATABASE_SECRET_ID: e.DATABASE_SECRET_ID,
    DATABASE_HOST: e.DATABASE_HOST,
    DATABASE_PORT: e.DATABASE_PORT,
    DATABASE_NAME: e.DATABASE_NAME,
  });
  const problems: string[] = [];
  const urlOf = async (name: string, e: NodeJS.ProcessEnv): Promise<string | undefined> => {
    if (!e.DATABASE_URL && !e.DATABASE_SECRET_ID) {
      problems.push(`${name} is required`);
      return undefined;
    }
    return (await resolveSecrets(only(e))).DATABASE_URL;
  };
  const hasMaster = !!(env.DATABASE_MASTER_URL || env.DATABASE_MASTER_SECRET_ID);
  const hasMigrator = !!(env.DATABASE_MIGRATOR_URL || env.DATABASE_MIGRATOR_SECRET_ID);
  const master = hasMaster
    ? await urlOf('DATABASE_MASTER_SECRET_ID', databaseLoginEnv(env, 'DATABASE_MASTER'))
    : (problems.push('DATABASE_MASTER_SECRET_ID (or DATABASE_MASTER_URL) is required'), undefined);
  const migrator = hasMigrator
    ? await urlOf('DATABASE_MIGRATOR_SECRET_ID', databaseLoginEnv(env, 'DATABASE_MIGRATOR'))
    : (problems.push('DATABASE_MIGRATOR_SECRET_ID (or DATABASE_MIGRATOR_URL) is required'),
      undefined);
  const app = await urlOf('DATABASE_SECRET_ID (or DATABASE_URL)', env);
  if (problems.length > 0 || !master || !migrator || !app) throw new ConfigError(problems);

  const logins = [loginOf(migrator, MIGRATOR_ROLE), loginOf(app, APP_ROLE)];
  const masterUser = enc(new URL(master).username);
  for (const login of logins) {
    if (login.username === masterUser) {
      problems.push(`the ${login.role} login must not be the master user "${masterUser}"`);
    }
  }
  if (logins[0].username === logins[1].username) {
    problems.push(`the migrator and app logins must differ (both "${logins[0].username}")`);
  }
  if (!sameServer(master, migrator) || !sameServer(master, app)) {
    problems.push('the master, migrator and app logins must name the same host and database');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { masterUrl: master, logins };
}

/** Applies the migrations and provisions the logins, connected as the master user. */
export async function bootstrapDatabase(
  dataSource: DataSource,
  logins: DatabaseLogin[],
  log: (message: string) => void,
): Promise<void> {
  await runMigrationsWithLock(dataSource, { log });
  for (const login of logins) {
    const outcome = await provisionLogin(dataSource, login);
    log(`login ${login.username} ${outcome}, member of ${login.role}`);
  }
}

/**
 * `npm run db:bootstrap` (in the image: node dist/src/database/bootstrap.js): once per database,
 * and again whenever in doubt (it is idempotent). As the RDS master user it
 *   1. applies pending migrations (the DatabaseRoles migration creates portal_migrator and
 *      portal_app, hands the schema to the migrator and grants the app its DML);
 *   2. creates the two logins, or resets their passwords to what their secrets hold, and makes
 *      them members: the migrator login of portal_migrator, the app login of portal_app.
 * Passwords travel as SCRAM verifiers and are never logged.
 *
 * environment:
 *   DATABASE_MASTER_SECRET_ID or DATABASE_MASTER_URL      the master user
 *   DATABASE_MIGRATOR_SECRET_ID or DATABASE_MIGRATOR_URL  the migrator login
 *   DATABASE_SECRET_ID or DATABASE_URL                    the app login
 *   DATABASE_SSL, DATABASE_SSL_CA; DATABASE_HOST, DATABASE_PORT, DATABASE_NAME (secrets without them)
 */
async function main(): Promise<void> {
  const plan = await planBootstrap(process.env);
  const config = loadConfig({
    DATABASE_URL: plan.masterUrl,
    DATABASE_SSL: process.env.DATABASE_SSL,
    DATABASE_SSL_CA: process.env.DATABASE_SSL_CA,
  });
  const dataSource = new DataSource(
    buildDataSourceOptions({
      url: plan.masterUrl,
      ssl: config.databaseSsl,
      poolSize: 2,
      statementTimeoutMs: 3_600_000,
      connectTimeoutMs: config.databaseConnectTimeoutMs,
      applicationName: 'portal-api-bootstrap',
    }),
  );
  await dataSource.initialize();
  try {
    await bootstrapDatabase(dataSource, plan.logins, (m) =>
      console.log(JSON.stringify({ level: 'info', msg: m })),
    );
  } finally {
    await dataSource.destroy();
  }
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      const e = err as Error;
      console.error(
        JSON.stringify({
          level: 'error',
          msg: 'database bootstrap failed',
          err: e instanceof ConfigError ? e.problems.join('; ') : e.message,
        }),
      );
      process.exit(e instanceof ConfigError ? 78 : 1);
    },
  );
}
