import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { generateSigningKeysJson } from '../auth/signing-keys';
import { ConfigError, loadConfig } from './app-config';
import { databaseLoginEnv, regionOf, resolveDatabaseSecret, resolveSecrets } from './secrets';

const sm = mockClient(SecretsManagerClient);
const KEYS = generateSigningKeysJson();
const PRIVATE_D: string = JSON.parse(KEYS).keys[0].d;

function secrets(values: Record<string, string>) {
  sm.on(GetSecretValueCommand).callsFake((input: { SecretId: string }) => {
    const value = values[input.SecretId];
    if (value === undefined) {
      throw Object.assign(new Error("Secrets Manager can't find the specified secret."), {
        name: 'ResourceNotFoundException',
      });
    }
    return { SecretString: value, VersionId: 'v1' };
  });
}

async function problemsOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems.join('\n');
  }
  throw new Error('expected a ConfigError');
}

describe('resolveSecrets', () => {
  beforeEach(() => sm.reset());

  it('returns the environment untouched and calls nothing without secret ids', async () => {
    const env = { DATABASE_URL: 'postgres://h/db', JWT_SIGNING_KEYS: KEYS };
    await expect(resolveSecrets(env)).resolves.toBe(env);
    expect(sm.calls()).toHaveLength(0);
  });

  it('fills DATABASE_URL and JWT_SIGNING_KEYS from secret strings, without touching the input', async () => {
    secrets({
      'portal/db': 'postgres://app:pw@db.internal:5432/portal\n',
      'portal/jwt': `${KEYS}\n`,
    });
    const env = {
      DATABASE_SECRET_ID: 'portal/db',
      JWT_SIGNING_KEYS_SECRET_ID: 'portal/jwt',
      PORT: '8080',
    };
    const logs: string[] = [];
    const out = await resolveSecrets(env, { log: (m) => logs.push(m) });
    expect(out).toMatchObject({
      DATABASE_URL: 'postgres://app:pw@db.internal:5432/portal',
      JWT_SIGNING_KEYS: KEYS,
      PORT: '8080',
    });
    expect(env).not.toHaveProperty('DATABASE_URL');
    expect(sm.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input.SecretId)).toEqual([
      'portal/db',
      'portal/jwt',
    ]);
    // The log names the secret, never the value.
    expect(logs.join('\n')).toContain('portal/db');
    expect(logs.join('\n')).not.toContain('pw@');
    expect(logs.join('\n')).toContain('JWT_SIGNING_KEYS read from secret portal/jwt');
    expect(logs.join('\n')).not.toContain(PRIVATE_D);
    // And the result goes through the normal validation.
    const config = loadConfig({ ...out, NODE_ENV: 'production' });
    expect(config.databaseUrl).toBe('postgres://app:pw@db.internal:5432/portal');
    expect(config.jwtSigningKeys.currentKid).toBe(JSON.parse(KEYS).current);
    expect(config.jwtSigningKeysGenerated).toBe(false);
  });

  it('builds the URL from an RDS secret, escaping the credentials', async () => {
    secrets({
      rds: JSON.stringify({
        engine: 'postgres',
        username: 'portal admin',
        password: 'p@ss:w/rd?#',
        host: 'db.abc.rds.amazonaws.com',
        port: 5432,
        dbname: 'portal',
      }),
    });
    const out = await resolveSecrets({ DATABASE_SECRET_ID: 'rds' });
    expect(out.DATABASE_URL).toBe(
      'postgres://portal%20admin:p%40ss%3Aw%2Frd%3F%23@db.abc.rds.amazonaws.com:5432/portal',
    );
    const parsed = new URL(out.DATABASE_URL!);
    expect(decodeURIComponent(parsed.password)).toBe('p@ss:w/rd?#');
  });

  it('takes host, port and database from the environment for an RDS-managed master secret', async () => {
    secrets({ managed: JSON.stringify({ username: 'postgres', password: 'pw' }) });
    const out = await resolveSecrets({
      DATABASE_SECRET_ID: 'managed',
      DATABASE_HOST: 'db.internal',
      DATABASE_PORT: '6432',
      DATABASE_NAME: 'portal',
    });
    expect(out.DATABASE_URL).toBe('postgres://postgres:pw@db.internal:6432/portal');
  });

  it('refuses a key set id next to the plain variable, and a bad key set stops the start', async () => {
    const both = await problemsOf(
      resolveSecrets({ JWT_SIGNING_KEYS_SECRET_ID: 'x', JWT_SIGNING_KEYS: KEYS }),
    );
    expect(both).toMatch(/JWT_SIGNING_KEYS or JWT_SIGNING_KEYS_SECRET_ID, not both/);
    expect(sm.calls()).toHaveLength(0);

    // The old HS256 secret format in the new place: the configuration refuses it.
    secrets({ old: 'an-old-hs256-secret-an-old-hs256-secret' });
    const out = await resolveSecrets({ JWT_SIGNING_KEYS_SECRET_ID: 'old' });
    expect(() => loadConfig(out)).toThrow(/JWT_SIGNING_KEYS is not valid JSON/);
  });

  it('refuses a secret id next to the plain variable', async () => {
    const problems = await problemsOf(
      resolveSecrets({ DATABASE_SECRET_ID: 'x', DATABASE_URL: 'postgres://h/db' }),
    );
    expect(problems).toMatch(/DATABASE_URL or DATABASE_SECRET_ID, not both/);
    expect(sm.calls()).toHaveLength(0);
  });

  it('stops with every problem named, and never the secret value', async () => {
    secrets({
      'db-no-host': JSON.stringify({ username: 'u', password: 'hunter2-secret' }),
    });
    const problems = await problemsOf(
      resolveSecrets({ DATABASE_SECRET_ID: 'db-no-host', JWT_SIGNING_KEYS_SECRET_ID: 'missing' }),
    );
    expect(problems).toMatch(/secret "db-no-host" has no host/);
    expect(problems).toMatch(/JWT_SIGNING_KEYS_SECRET_ID: cannot read secret "missing"/);
    expect(problems).not.toMatch(/hunter/);
  });

  it('reports a secret that cannot be read', async () => {
    secrets({});
    const problems = await problemsOf(resolveSecrets({ JWT_SIGNING_KEYS_SECRET_ID: 'missing' }));
    expect(problems).toMatch(
      /JWT_SIGNING_KEYS_SECRET_ID: cannot read secret "missing": ResourceNotFoundException/,
    );
  });

  it('uses the region of an ARN', async () => {
    secrets({ 'arn:aws:secretsmanager:sa-east-1:123456789012:secret:portal/jwt-AbCdEf': KEYS });
    const regions: Array<string | undefined> = [];
    await resolveSecrets(
      {
        JWT_SIGNING_KEYS_SECRET_ID:
          'arn:aws:secretsmanager:sa-east-1:123456789012:secret:portal/jwt-AbCdEf',
      },
      {
        clientFor: (region) => {
          regions.push(region);
          return new SecretsManagerClient({ region: region ?? 'us-east-1' });
        },
      },
    );
    expect(regions).toEqual(['sa-east-1']);
    expect(regionOf('portal/jwt')).toBeUndefined();
  });
});

describe('databaseLoginEnv', () => {
  const env = { DATABASE_SECRET_ID: 'app', DATABASE_SSL: 'true', PORT: '3000' };

  it('leaves the environment alone when no other login is named', () => {
    expect(databaseLoginEnv(env, 'DATABASE_MIGRATOR')).toBe(env);
  });

  it('connects as the named login instead of the app', () => {
    expect(
      databaseLoginEnv({ ...env, DATABASE_MIGRATOR_SECRET_ID: 'migrator' }, 'DATABASE_MIGRATOR'),
    ).toEqual({
      DATABASE_SECRET_ID: 'migrator',
      DATABASE_MIGRATOR_SECRET_ID: 'migrator',
      DATABASE_SSL: 'true',
      PORT: '3000',
    });
    const local = databaseLoginEnv(
      { DATABASE_URL: 'postgres://app@h/db', DATABASE_MASTER_URL: 'postgres://master@h/db' },
      'DATABASE_MASTER',
    );
    expect(local.DATABASE_URL).toBe('postgres://master@h/db');
    expect(local).not.toHaveProperty('DATABASE_SECRET_ID');
  });

  it('refuses both a URL and a secret id for the same login', () => {
    expect(() =>
      databaseLoginEnv(
        { DATABASE_MIGRATOR_URL: 'postgres://m@h/db', DATABASE_MIGRATOR_SECRET_ID: 'm' },
        'DATABASE_MIGRATOR',
      ),
    ).toThrow(/DATABASE_MIGRATOR_URL or DATABASE_MIGRATOR_SECRET_ID, not both/);
  });
});

describe('resolveDatabaseSecret (the migration and purge tasks)', () => {
  beforeEach(() => sm.reset());

  it('reads the database secret and leaves every other secret id unread', async () => {
    secrets({ 'portal/db': 'postgres://app:pw@db.internal:5432/portal', 'portal/jwt': KEYS });
    const env = {
      DATABASE_SECRET_ID: 'portal/db',
      JWT_SIGNING_KEYS_SECRET_ID: 'portal/jwt',
      // Would be refused by the app ("not both"): none of the migrator's business.
      JWT_SIGNING_KEYS: 'x',
    };
    const out = await resolveDatabaseSecret(env);
    expect(out.DATABASE_URL).toBe('postgres://app:pw@db.internal:5432/portal');
    expect(out.JWT_SIGNING_KEYS).toBe('x');
    expect(sm.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input.SecretId)).toEqual([
      'portal/db',
    ]);
  });

  it('calls nothing without DATABASE_SECRET_ID, whatever else is set', async () => {
    const env = { DATABASE_URL: 'postgres://h/db', JWT_SIGNING_KEYS_SECRET_ID: 'portal/jwt' };
    await expect(resolveDatabaseSecret(env)).resolves.toBe(env);
    expect(sm.calls()).toHaveLength(0);
  });
});
