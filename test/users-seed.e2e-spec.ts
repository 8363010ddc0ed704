import * as bcrypt from 'bcrypt';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { buildDataSourceOptions } from '../ormconfig';
import { User } from '../src/users/entities/user.entity';
import { SEED_USERS, seedMockUsers } from '../src/users/user-seeder';
import { UserState } from '../src/users/user.enums';
import { testDatabaseUrl } from './setup/test-database';
import { truncateAll } from './utils/db';

const ROOT = join(__dirname, '..');

function runSeedCli(env: Record<string, string>) {
  return spawnSync(
    process.execPath,
    [join(ROOT, 'node_modules', 'ts-node', 'dist', 'bin.js'), '-T', 'scripts/seed.ts'],
    {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', BCRYPT_COST: '4', LOG_LEVEL: 'silent', ...env },
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
}

describe('mock users seed', () => {
  let ds: DataSource;

  beforeAll(async () => {
    ds = new DataSource(buildDataSourceOptions({ url: testDatabaseUrl(), poolSize: 2 }));
    await ds.initialize();
  });
  beforeEach(async () => {
    await truncateAll(ds);
  });
  afterAll(async () => {
    await ds.destroy();
  });

  const users = () =>
    ds.getRepository(User).find({
      select: {
        email: true,
        role: true,
        organization: true,
        active: true,
        state: true,
        passwordHash: true,
      },
      order: { email: 'ASC' },
    });

  it('loads one ADM, PRESIDENTs and USERs of DEV and NAWAT, and a DISCONNECTED user, once', async () => {
    const hash = await bcrypt.hash('seed-password-123', 4);
    const first = await seedMockUsers(ds, hash);
    expect(first.created).toHaveLength(SEED_USERS.length);
    expect(first.existing).toEqual([]);

    const rows = await users();
    const summary = rows.map((u) => `${u.role} ${u.organization} ${u.active}`).sort();
    expect(summary).toEqual(
      [
        'ADM ALL ACTIVE',
        'PRESIDENT DEV ACTIVE',
        'PRESIDENT NAWAT ACTIVE',
        'USER DEV ACTIVE',
        'USER DEV DISCONNECTED',
        'USER NAWAT ACTIVE',
      ].sort(),
    );
    expect(rows.every((u) => u.state === UserState.APPROVED && u.passwordHash === hash)).toBe(true);

    const again = await seedMockUsers(ds, await bcrypt.hash('another-password', 4));
    expect(again.created).toEqual([]);
    expect(again.existing).toHaveLength(SEED_USERS.length);
    const after = await users();
    expect(after).toHaveLength(SEED_USERS.length);
    expect(after.every((u) => u.passwordHash === hash)).toBe(true);
  });

  it('`npm run seed` works against DATABASE_URL and is idempotent', () => {
    const env = { DATABASE_URL: testDatabaseUrl(), SEED_PASSWORD: 'seed-password-123' };
    const first = runSeedCli(env);
    expect(first.stderr).not.toMatch(/seed failed/);
    expect(first.status).toBe(0);
    expect(first.stdout).toMatch(/6 created, 0 already there/);
    const second = runSeedCli(env);
    expect(second.status).toBe(0);
    expect(second.stdout).toMatch(/0 created, 6 already there/);
    expect(second.stdout).not.toMatch(/seed-password-123/);
  });

  it('refuses to run in production', () => {
    const res = runSeedCli({ NODE_ENV: 'production', DATABASE_URL: testDatabaseUrl() });
    expect(res.status).toBe(1);
    expect(res.stderr).toMatch(/refusing to load mock users with NODE_ENV=production/);
  });
});
