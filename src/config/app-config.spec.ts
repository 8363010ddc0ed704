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
  const CLIENT = '0b6e7c0a-3f8e-4c1a-9d4e-5a1b2c3d4e5f';
  const TENANT = '9188040d-6c67-4c5b-b112-36a304b66dad';
  const prod = {
    NODE_ENV: 'production',
    DATABASE_URL: 'postgres://h/db',
    JWT_SECRET: 'x'.repeat(32),
  };

  it('is off by default, with the public authority, a 5 s key timeout and no domain list', () => {
    const c = loadConfig({});
    expect(c.microsoftClientId).toBeUndefined();
    expect(c.microsoftTenantIds).toEqual([]);
    expect(c.microsoftAuthority).toBe('https://login.microsoftonline.com');
    expect(c.microsoftKeysTimeoutMs).toBe(5000);
    expect(c.allowedEmailDomains).toEqual([]);
  });

  it('reads the client, tenants (lower-case), a local authority and a domain list', () => {
    const c = loadConfig({
      MICROSOFT_CLIENT_ID: CLIENT.toUpperCase(),
      MICROSOFT_TENANT_IDS: ` ${TENANT.toUpperCase()}, ,72f988bf-86f1-41af-91ab-2d7cd011db47,`,
      MICROSOFT_AUTHORITY: 'http://127.0.0.1:4010/',
      MICROSOFT_KEYS_TIMEOUT_MS: '300',
      ALLOWED_EMAIL_DOMAINS: ' Maua.br, ,sub.example.com,',
    });
    expect(c.microsoftClientId).toBe(CLIENT);
    expect(c.microsoftTenantIds).toEqual([TENANT, '72f988bf-86f1-41af-91ab-2d7cd011db47']);
    expect(c.microsoftAuthority).toBe('http://127.0.0.1:4010');
    expect(c.microsoftKeysTimeoutMs).toBe(300);
    expect(c.allowedEmailDomains).toEqual(['maua.br', 'sub.example.com']);
  });

  it.each([
    [{ MICROSOFT_CLIENT_ID: 'portal-app' }, /MICROSOFT_CLIENT_ID/],
    [{ MICROSOFT_TENANT_IDS: 'common' }, /MICROSOFT_TENANT_IDS/],
    [{ MICROSOFT_TENANT_IDS: `${TENANT},organizations` }, /MICROSOFT_TENANT_IDS/],
    [{ MICROSOFT_AUTHORITY: 'ftp://login.example.com' }, /MICROSOFT_AUTHORITY/],
    [{ MICROSOFT_AUTHORITY: 'not a url' }, /MICROSOFT_AUTHORITY/],
    [{ MICROSOFT_AUTHORITY: 'https://login.example.com/?x=1' }, /MICROSOFT_AUTHORITY/],
    [{ MICROSOFT_KEYS_TIMEOUT_MS: 'soon' }, /MICROSOFT_KEYS_TIMEOUT_MS/],
    [{ MICROSOFT_KEYS_TIMEOUT_MS: '10' }, /MICROSOFT_KEYS_TIMEOUT_MS/],
    [{ MICROSOFT_KEYS_TIMEOUT_MS: '600000' }, /MICROSOFT_KEYS_TIMEOUT_MS/],
    [{ ALLOWED_EMAIL_DOMAINS: 'maua.br,not a domain' }, /ALLOWED_EMAIL_DOMAINS/],
    [{ ALLOWED_EMAIL_DOMAINS: '@maua.br' }, /ALLOWED_EMAIL_DOMAINS/],
  ])('refuses %p', (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('in production with a client id, requires the tenant list and the domain list', () => {
    expect(() => loadConfig({ ...prod, MICROSOFT_CLIENT_ID: CLIENT })).toThrow(ConfigError);
    try {
      loadConfig({ ...prod, MICROSOFT_CLIENT_ID: CLIENT });
    } catch (e) {
      expect((e as ConfigError).problems).toEqual([
        expect.stringMatching(/^MICROSOFT_TENANT_IDS is required in production/),
        expect.stringMatching(/^ALLOWED_EMAIL_DOMAINS is required in production/),
      ]);
    }
    expect(() =>
      loadConfig({ ...prod, MICROSOFT_CLIENT_ID: CLIENT, MICROSOFT_TENANT_IDS: TENANT }),
    ).toThrow(/ALLOWED_EMAIL_DOMAINS is required/);
    expect(() =>
      loadConfig({
        ...prod,
        MICROSOFT_CLIENT_ID: CLIENT,
        MICROSOFT_TENANT_IDS: TENANT,
        ALLOWED_EMAIL_DOMAINS: 'maua.br',
        MICROSOFT_AUTHORITY: 'http://127.0.0.1:4010',
      }),
    ).toThrow(/MICROSOFT_AUTHORITY must be an https URL in production/);
    const c = loadConfig({
      ...prod,
      MICROSOFT_CLIENT_ID: CLIENT,
      MICROSOFT_TENANT_IDS: TENANT,
      ALLOWED_EMAIL_DOMAINS: 'maua.br',
    });
    expect(c.microsoftTenantIds).toEqual([TENANT]);
  });

  it('in production without a client id, Microsoft sign-in is off and nothing more is required', () => {
    expect(loadConfig(prod).microsoftClientId).toBeUndefined();
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
