import { loadConfig } from './app-config';
import { ConfigError } from './config-error';
import { loadDatabaseConfig } from './database-config';

describe('loadDatabaseConfig (the migration and purge tasks)', () => {
  it('needs nothing but DATABASE_URL in production', () => {
    const c = loadDatabaseConfig({ NODE_ENV: 'production', DATABASE_URL: 'postgres://u@h/db' });
    expect(c).toEqual({
      nodeEnv: 'production',
      databaseUrl: 'postgres://u@h/db',
      databaseSsl: false,
      databasePoolSize: 10,
      databaseStatementTimeoutMs: 10_000,
      databaseConnectTimeoutMs: 3_000,
      embeddedPgDir: undefined,
      embeddedPgPort: 5433,
    });
  });

  it('ignores every setting that is not about the database, even invalid ones', () => {
    const env = {
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://u@h/db',
      JWT_SECRET: 'short',
      PORT: 'abc',
      ADMIN_EMAIL: 'not-an-email',
      WARNINGS_PURGE_CRON: 'never',
    };
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(loadDatabaseConfig(env).databaseUrl).toBe('postgres://u@h/db');
  });

  it('stops on bad database settings with every problem listed', () => {
    try {
      loadDatabaseConfig({
        NODE_ENV: 'production',
        DATABASE_SSL: 'maybe',
        DATABASE_POOL_SIZE: '0',
      });
      throw new Error('expected a ConfigError');
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const problems = (e as ConfigError).problems.join('\n');
      expect(problems).toMatch(/DATABASE_URL is required in production/);
      expect(problems).toMatch(/DATABASE_SSL/);
      expect(problems).toMatch(/DATABASE_POOL_SIZE/);
    }
  });

  it('gives the app the same database settings', () => {
    const env = {
      DATABASE_URL: 'postgres://u@h/db',
      DATABASE_SSL: 'true',
      DATABASE_POOL_SIZE: '7',
      EMBEDDED_PG_DIR: '/var/tmp/pg',
    };
    const app = loadConfig(env);
    const db = loadDatabaseConfig(env);
    for (const [key, value] of Object.entries(db)) {
      expect(app[key as keyof typeof db]).toEqual(value);
    }
    expect(db.embeddedPgDir).toBe('/var/tmp/pg');
  });
});
