import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { ConfigError, loadConfig } from './app-config';
import { regionOf, resolveDatabaseSecret, resolveSecrets } from './secrets';

const sm = mockClient(SecretsManagerClient);
const JWT = 'j'.repeat(48);

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
    const env = { DATABASE_URL: 'postgres://h/db', JWT_SECRET: JWT };
    await expect(resolveSecrets(env)).resolves.toBe(env);
    expect(sm.calls()).toHaveLength(0);
  });

  it('fills DATABASE_URL and JWT_SECRET from plain secret strings, without touching the input', async () => {
    secrets({ 'portal/db': 'postgres://app:pw@db.internal:5432/portal\n', 'portal/jwt': JWT });
    const env = { DATABASE_SECRET_ID: 'portal/db', JWT_SECRET_ID: 'portal/jwt', PORT: '8080' };
    const logs: string[] = [];
    const out = await resolveSecrets(env, { log: (m) => logs.push(m) });
    expect(out).toMatchObject({
      DATABASE_URL: 'postgres://app:pw@db.internal:5432/portal',
      JWT_SECRET: JWT,
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
    expect(logs.join('\n')).not.toContain(JWT);
    // And the result goes through the normal validation.
    const config = loadConfig({ ...out, NODE_ENV: 'production' });
    expect(config.databaseUrl).toBe('postgres://app:pw@db.internal:5432/portal');
    expect(config.jwtSecret).toBe(JWT);
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

  it('reads a JWT secret stored as JSON', async () => {
    secrets({ jwt: JSON.stringify({ jwt_secret: JWT }) });
    const out = await resolveSecrets({ JWT_SECRET_ID: 'jwt' });
    expect(out.JWT_SECRET).toBe(JWT);
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
      'jwt-wrong-keys': JSON.stringify({ other: 'hunter3-secret' }),
    });
    const problems = await problemsOf(
      resolveSecrets({ DATABASE_SECRET_ID: 'db-no-host', JWT_SECRET_ID: 'jwt-wrong-keys' }),
    );
    expect(problems).toMatch(/secret "db-no-host" has no host/);
    expect(problems).toMatch(/secret "jwt-wrong-keys" has none of the keys/);
    expect(problems).not.toMatch(/hunter/);
  });

  it('reports a secret that cannot be read', async () => {
    secrets({});
    const problems = await problemsOf(resolveSecrets({ JWT_SECRET_ID: 'missing' }));
    expect(problems).toMatch(
      /JWT_SECRET_ID: cannot read secret "missing": ResourceNotFoundException/,
    );
  });

  it('uses the region of an ARN', async () => {
    secrets({ 'arn:aws:secretsmanager:sa-east-1:123456789012:secret:portal/jwt-AbCdEf': JWT });
    const regions: Array<string | undefined> = [];
    await resolveSecrets(
      { JWT_SECRET_ID: 'arn:aws:secretsmanager:sa-east-1:123456789012:secret:portal/jwt-AbCdEf' },
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

describe('resolveDatabaseSecret (the migration and purge tasks)', () => {
  beforeEach(() => sm.reset());

  it('reads the database secret and leaves every other secret id unread', async () => {
    secrets({ 'portal/db': 'postgres://app:pw@db.internal:5432/portal', 'portal/jwt': JWT });
    const env = {
      DATABASE_SECRET_ID: 'portal/db',
      JWT_SECRET_ID: 'portal/jwt',
      // Would be refused by the app ("not both"): none of the migrator's business.
      JWT_SECRET: 'x',
    };
    const out = await resolveDatabaseSecret(env);
    expect(out.DATABASE_URL).toBe('postgres://app:pw@db.internal:5432/portal');
    expect(out.JWT_SECRET).toBe('x');
    expect(sm.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input.SecretId)).toEqual([
      'portal/db',
    ]);
  });

  it('calls nothing without DATABASE_SECRET_ID, whatever else is set', async () => {
    const env = { DATABASE_URL: 'postgres://h/db', JWT_SECRET_ID: 'portal/jwt' };
    await expect(resolveDatabaseSecret(env)).resolves.toBe(env);
    expect(sm.calls()).toHaveLength(0);
  });
});
