import { ConfigError, loadConfig, parseDurationSeconds } from './app-config';

describe('loadConfig', () => {
  it('applies defaults for local use', () => {
    const c = loadConfig({});
    expect(c.port).toBe(3000);
    expect(c.databaseUrl).toBeUndefined();
    expect(c.runMigrationsOnStart).toBe(true);
    expect(c.jwtExpiresInSeconds).toBe(900);
    expect(c.bcryptCost).toBe(12);
    expect(c.jwtSecret.length).toBeGreaterThanOrEqual(32);
  });

  it('reads typed values', () => {
    const c = loadConfig({
      PORT: '8080',
      DATABASE_URL: 'postgres://u@h/db',
      JWT_SECRET: 'x'.repeat(32),
      JWT_EXPIRES_IN: '1h',
      DATABASE_SSL: 'true',
      ADMIN_EMAIL: 'Admin@Example.com',
      ADMIN_PASSWORD: 'a-long-password',
    });
    expect(c.port).toBe(8080);
    expect(c.runMigrationsOnStart).toBe(false);
    expect(c.jwtExpiresInSeconds).toBe(3600);
    expect(c.databaseSsl).toBe(true);
    expect(c.adminEmail).toBe('admin@example.com');
  });

  it('stops on bad values with every problem listed', () => {
    expect(() => loadConfig({ PORT: 'abc', BCRYPT_COST: '40', DATABASE_URL: 'mysql://x' })).toThrow(
      ConfigError,
    );
    try {
      loadConfig({ PORT: 'abc', BCRYPT_COST: '40', DATABASE_URL: 'mysql://x' });
    } catch (e) {
      const problems = (e as ConfigError).problems.join('\n');
      expect(problems).toMatch(/PORT/);
      expect(problems).toMatch(/BCRYPT_COST/);
      expect(problems).toMatch(/DATABASE_URL/);
    }
  });

  it('requires a database and a secret in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/DATABASE_URL is required/);
    expect(() => loadConfig({ NODE_ENV: 'production', DATABASE_URL: 'postgres://h/db' })).toThrow(
      /JWT_SECRET is required/,
    );
  });

  it('refuses a short JWT secret and half an admin', () => {
    expect(() => loadConfig({ JWT_SECRET: 'short' })).toThrow(/at least 32/);
    expect(() => loadConfig({ ADMIN_EMAIL: 'a@b.co' })).toThrow(/set together/);
  });
});

describe('parseDurationSeconds', () => {
  it.each([
    ['900', 900],
    ['15m', 900],
    ['2h', 7200],
    ['1d', 86400],
  ])('%s -> %d', (input, expected) => {
    expect(parseDurationSeconds(input)).toBe(expected);
  });
});

describe('Microsoft sign-in settings', () => {
  it('defaults to the public Graph /me with a 5 s timeout and any domain', () => {
    const c = loadConfig({});
    expect(c.graphEndpoint).toBe('https://graph.microsoft.com/v1.0/me');
    expect(c.graphTimeoutMs).toBe(5000);
    expect(c.allowedEmailDomains).toEqual([]);
  });

  it('reads a local endpoint, a timeout and a domain list (trimmed, lower-case, blanks dropped)', () => {
    const c = loadConfig({
      GRAPH_ENDPOINT: 'http://127.0.0.1:4010/v1.0/me',
      GRAPH_TIMEOUT_MS: '300',
      ALLOWED_EMAIL_DOMAINS: ' Maua.br, ,sub.example.com,',
    });
    expect(c.graphEndpoint).toBe('http://127.0.0.1:4010/v1.0/me');
    expect(c.graphTimeoutMs).toBe(300);
    expect(c.allowedEmailDomains).toEqual(['maua.br', 'sub.example.com']);
  });

  it.each([
    [{ GRAPH_ENDPOINT: 'ftp://graph.example.com/me' }, /GRAPH_ENDPOINT/],
    [{ GRAPH_ENDPOINT: 'not a url' }, /GRAPH_ENDPOINT/],
    [{ GRAPH_TIMEOUT_MS: 'soon' }, /GRAPH_TIMEOUT_MS/],
    [{ GRAPH_TIMEOUT_MS: '10' }, /GRAPH_TIMEOUT_MS/],
    [{ GRAPH_TIMEOUT_MS: '600000' }, /GRAPH_TIMEOUT_MS/],
    [{ ALLOWED_EMAIL_DOMAINS: 'maua.br,not a domain' }, /ALLOWED_EMAIL_DOMAINS/],
    [{ ALLOWED_EMAIL_DOMAINS: '@maua.br' }, /ALLOWED_EMAIL_DOMAINS/],
  ])('refuses %p', (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });
});

describe('warnings purge settings', () => {
  it('purges every 5 minutes, except in tests unless asked', () => {
    expect(loadConfig({}).warningsPurgeEnabled).toBe(true);
    expect(loadConfig({}).warningsPurgeCron).toBe('*/5 * * * *');
    expect(loadConfig({ NODE_ENV: 'test' }).warningsPurgeEnabled).toBe(false);
    expect(
      loadConfig({ NODE_ENV: 'test', WARNINGS_PURGE_ENABLED: 'true' }).warningsPurgeEnabled,
    ).toBe(true);
    expect(loadConfig({ WARNINGS_PURGE_ENABLED: 'false' }).warningsPurgeEnabled).toBe(false);
  });

  it('refuses a bad cron expression', () => {
    expect(() => loadConfig({ WARNINGS_PURGE_CRON: 'every five minutes' })).toThrow(
      /WARNINGS_PURGE_CRON/,
    );
  });
});

describe('import and seed settings', () => {
  it('bounds an import at 200,000 rows unless told', () => {
    expect(loadConfig({}).importMaxRows).toBe(200_000);
    expect(loadConfig({ IMPORT_MAX_ROWS: '5000' }).importMaxRows).toBe(5000);
  });

  it.each(['0', '-1', 'many', '1.5'])('refuses IMPORT_MAX_ROWS=%p', (value) => {
    expect(() => loadConfig({ IMPORT_MAX_ROWS: value })).toThrow(/IMPORT_MAX_ROWS/);
  });

  it('seeds at start with the embedded database only, never in production', () => {
    expect(loadConfig({}).seedOnStart).toBe(true);
    expect(loadConfig({ DATABASE_URL: 'postgres://h/db' }).seedOnStart).toBe(false);
    expect(loadConfig({ DATABASE_URL: 'postgres://h/db', SEED_ON_START: 'true' }).seedOnStart).toBe(
      true,
    );
    expect(loadConfig({ SEED_ON_START: 'false' }).seedOnStart).toBe(false);
    expect(() => loadConfig({ NODE_ENV: 'production', SEED_ON_START: 'true' })).toThrow(
      /SEED_ON_START cannot be true in production/,
    );
    expect(() => loadConfig({ SEED_PASSWORD: 'short' })).toThrow(/SEED_PASSWORD/);
  });
});
