import { generateSigningKeysJson } from '../auth/signing-keys';
import { RDS_CA_BUNDLE } from '../database/database-tls';
import { ConfigError, loadConfig, parseDurationSeconds } from './app-config';

const KEYS = generateSigningKeysJson();

describe('loadConfig', () => {
  it('applies defaults for local use', () => {
    const c = loadConfig({});
    expect(c.port).toBe(3000);
    expect(c.databaseUrl).toBeUndefined();
    expect(c.runMigrationsOnStart).toBe(true);
    expect(c.jwtExpiresInSeconds).toBe(900);
    expect(c.bcryptCost).toBe(12);
    expect(c.jwtIssuer).toBe('portal-api');
    expect(c.jwtAudience).toBe('portal-api');
    expect(c.refreshIdleSeconds).toBe(7 * 86400);
    expect(c.refreshAbsoluteSeconds).toBe(30 * 86400);
  });

  it('makes a P-256 key pair per process when no key set is given (outside production)', () => {
    const a = loadConfig({});
    const b = loadConfig({});
    expect(a.jwtSigningKeysGenerated).toBe(true);
    expect(a.jwtSigningKeys.currentPrivateKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(a.jwtSigningKeys.currentKid).not.toBe(b.jwtSigningKeys.currentKid);
    const given = loadConfig({ JWT_SIGNING_KEYS: KEYS });
    expect(given.jwtSigningKeysGenerated).toBe(false);
    expect(given.jwtSigningKeys.currentKid).toBe(JSON.parse(KEYS).current);
  });

  it('reads typed values', () => {
    const c = loadConfig({
      PORT: '8080',
      DATABASE_URL: 'postgres://u@h/db',
      JWT_SIGNING_KEYS: KEYS,
      JWT_EXPIRES_IN: '10m',
      JWT_ISSUER: 'https://portal.example.com',
      JWT_AUDIENCE: 'portal-web',
      REFRESH_IDLE_TTL: '12h',
      REFRESH_ABSOLUTE_TTL: '14d',
      DATABASE_SSL: 'true',
      ADMIN_EMAIL: 'Admin@Example.com',
      ADMIN_PASSWORD: 'a-long-password',
    });
    expect(c.port).toBe(8080);
    expect(c.runMigrationsOnStart).toBe(false);
    expect(c.jwtExpiresInSeconds).toBe(600);
    expect(c.jwtIssuer).toBe('https://portal.example.com');
    expect(c.jwtAudience).toBe('portal-web');
    expect(c.refreshIdleSeconds).toBe(12 * 3600);
    expect(c.refreshAbsoluteSeconds).toBe(14 * 86400);
    expect(c.databaseSsl).toEqual({ caFile: RDS_CA_BUNDLE });
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

  it('requires a database and a signing key set in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/DATABASE_URL is required/);
    expect(() => loadConfig({ NODE_ENV: 'production', DATABASE_URL: 'postgres://h/db' })).toThrow(
      /JWT_SIGNING_KEYS is required in production/,
    );
    const c = loadConfig({
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://h/db',
      JWT_SIGNING_KEYS: KEYS,
    });
    expect(c.jwtSigningKeysGenerated).toBe(false);
  });

  it('refuses the HS256 settings that are gone, naming what replaces them', () => {
    expect(() => loadConfig({ JWT_SECRET: 'x'.repeat(48) })).toThrow(
      /JWT_SECRET is no longer read.*JWT_SIGNING_KEYS/,
    );
    expect(() => loadConfig({ JWT_SECRET_ID: 'portal/jwt' })).toThrow(
      /JWT_SECRET_ID is no longer read/,
    );
  });

  it('stops on a bad key set without printing any key material', () => {
    const key = JSON.parse(KEYS).keys[0];
    try {
      loadConfig({ JWT_SIGNING_KEYS: JSON.stringify({ keys: [{ ...key, crv: 'P-384' }] }) });
      throw new Error('expected a ConfigError');
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const message = (e as ConfigError).message;
      expect(message).toMatch(/JWT_SIGNING_KEYS: keys\[0\].*P-256/);
      expect(message).not.toContain(key.d);
      expect(message).not.toContain(key.x);
    }
    expect(() => loadConfig({ JWT_SIGNING_KEYS: 'not json' })).toThrow(/not valid JSON/);
  });

  it.each([
    [{ JWT_EXPIRES_IN: '16m' }, /JWT_EXPIRES_IN must be between 1s and 15m/],
    [{ JWT_EXPIRES_IN: '1h' }, /JWT_EXPIRES_IN must be between 1s and 15m/],
    [{ JWT_EXPIRES_IN: '0' }, /JWT_EXPIRES_IN must be between/],
    [{ JWT_EXPIRES_IN: 'soon' }, /JWT_EXPIRES_IN must look like/],
    [{ REFRESH_IDLE_TTL: '40d' }, /REFRESH_IDLE_TTL must not be longer than REFRESH_ABSOLUTE_TTL/],
    [{ REFRESH_IDLE_TTL: '30s' }, /REFRESH_IDLE_TTL must be between 1m and 365d/],
    [{ REFRESH_ABSOLUTE_TTL: '400d' }, /REFRESH_ABSOLUTE_TTL must be between 1m and 365d/],
    [{ REFRESH_ABSOLUTE_TTL: 'a month' }, /REFRESH_ABSOLUTE_TTL must look like/],
    [{ JWT_ISSUER: 'x'.repeat(257) }, /JWT_ISSUER must be at most 256/],
  ])('refuses token lifetimes and names out of range: %p', (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('refuses half an admin', () => {
    expect(() => loadConfig({ ADMIN_EMAIL: 'a@b.co' })).toThrow(/set together/);
  });
});

describe('database TLS settings', () => {
  it('is off by default, and verifies against the shipped RDS bundle when on', () => {
    expect(loadConfig({}).databaseSsl).toBe(false);
    expect(loadConfig({ DATABASE_SSL: 'true' }).databaseSsl).toEqual({ caFile: RDS_CA_BUNDLE });
    expect(
      loadConfig({ DATABASE_SSL: 'true', DATABASE_SSL_CA: RDS_CA_BUNDLE }).databaseSsl,
    ).toEqual({ caFile: RDS_CA_BUNDLE });
  });

  it('stops on a CA file that cannot be read or holds no certificate', () => {
    expect(() =>
      loadConfig({ DATABASE_SSL: 'true', DATABASE_SSL_CA: '/nonexistent/ca.pem' }),
    ).toThrow(/DATABASE_SSL_CA: cannot read \/nonexistent\/ca\.pem: ENOENT/);
    expect(() => loadConfig({ DATABASE_SSL: 'true', DATABASE_SSL_CA: __filename })).toThrow(
      /DATABASE_SSL_CA: .* holds no PEM certificate/,
    );
    // Not read at all while TLS is off.
    expect(loadConfig({ DATABASE_SSL_CA: '/nonexistent/ca.pem' }).databaseSsl).toBe(false);
  });

  it('refuses TLS parameters in DATABASE_URL, which would replace the verified settings', () => {
    expect(() =>
      loadConfig({ DATABASE_URL: 'postgres://u:p@h/db?sslmode=no-verify', DATABASE_SSL: 'true' }),
    ).toThrow(
      /DATABASE_URL must not carry sslmode: TLS is set by DATABASE_SSL and DATABASE_SSL_CA/,
    );
    expect(() => loadConfig({ DATABASE_URL: 'postgres://u:p@h/db?ssl=true' })).toThrow(
      /DATABASE_URL must not carry ssl\b/,
    );
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
    JWT_SIGNING_KEYS: KEYS,
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
