import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { ConfigError } from '../config/app-config';
import { planBootstrap } from './bootstrap';

const sm = mockClient(SecretsManagerClient);
const HOST = 'db.abc.sa-east-1.rds.amazonaws.com';

async function problemsOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems.join('\n');
  }
  throw new Error('expected a ConfigError');
}

describe('planBootstrap', () => {
  beforeEach(() => sm.reset());

  it('reads the master and both logins from their secrets (RDS JSON)', async () => {
    const secrets: Record<string, object> = {
      master: {
        username: 'portal_admin',
        password: 'm-pw',
        host: HOST,
        port: 5432,
        dbname: 'portal',
      },
      migrator: {
        username: 'portal_migrate',
        password: 'mi/pw',
        host: HOST,
        port: 5432,
        dbname: 'portal',
      },
      app: { username: 'portal_api', password: 'a@pw', host: HOST, port: 5432, dbname: 'portal' },
    };
    sm.on(GetSecretValueCommand).callsFake((input: { SecretId: string }) => ({
      SecretString: JSON.stringify(secrets[input.SecretId]),
    }));
    const plan = await planBootstrap({
      DATABASE_MASTER_SECRET_ID: 'master',
      DATABASE_MIGRATOR_SECRET_ID: 'migrator',
      DATABASE_SECRET_ID: 'app',
      JWT_SIGNING_KEYS_SECRET_ID: 'not-read',
    });
    expect(plan.masterUrl).toBe(`postgres://portal_admin:m-pw@${HOST}:5432/portal`);
    expect(plan.logins).toEqual([
      { username: 'portal_migrate', password: 'mi/pw', role: 'portal_migrator' },
      { username: 'portal_api', password: 'a@pw', role: 'portal_app' },
    ]);
    expect(sm.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input.SecretId)).toEqual([
      'master',
      'migrator',
      'app',
    ]);
  });

  it('takes URLs for local use', async () => {
    const plan = await planBootstrap({
      DATABASE_MASTER_URL: 'postgres://postgres:pg@localhost:5432/portal',
      DATABASE_MIGRATOR_URL: 'postgres://m:mpw@localhost:5432/portal',
      DATABASE_URL: 'postgres://a:apw@localhost:5432/portal',
    });
    expect(plan.logins.map((l) => l.username)).toEqual(['m', 'a']);
    expect(sm.calls()).toHaveLength(0);
  });

  it('names every missing login', async () => {
    const problems = await problemsOf(planBootstrap({}));
    expect(problems).toMatch(/DATABASE_MASTER_SECRET_ID \(or DATABASE_MASTER_URL\) is required/);
    expect(problems).toMatch(
      /DATABASE_MIGRATOR_SECRET_ID \(or DATABASE_MIGRATOR_URL\) is required/,
    );
    expect(problems).toMatch(/DATABASE_SECRET_ID \(or DATABASE_URL\) is required/);
  });

  it('refuses logins that are the master user, each other, or on another server', async () => {
    const base = 'postgres://%s:pw@localhost:5432/portal';
    expect(
      await problemsOf(
        planBootstrap({
          DATABASE_MASTER_URL: base.replace('%s', 'postgres'),
          DATABASE_MIGRATOR_URL: base.replace('%s', 'postgres'),
          DATABASE_URL: base.replace('%s', 'postgres'),
        }),
      ),
    ).toMatch(/portal_migrator login must not be the master user "postgres"[\s\S]*must differ/);
    expect(
      await problemsOf(
        planBootstrap({
          DATABASE_MASTER_URL: base.replace('%s', 'postgres'),
          DATABASE_MIGRATOR_URL: base.replace('%s', 'm'),
          DATABASE_URL: 'postgres://a:pw@elsewhere:5432/portal',
        }),
      ),
    ).toMatch(/must name the same host and database/);
  });
});
