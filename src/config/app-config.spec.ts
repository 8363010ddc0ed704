import { generateSigningKeysJson } from '../auth/signing-keys';
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
