import * as bcrypt from 'bcrypt';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { buildDataSourceOptions } from '../ormconfig';
import { AppModule } from '../src/app.module';
import { PasswordHasher } from '../src/auth/password-hasher';
import { Clock } from '../src/common/clock';
import { loadConfig } from '../src/config/app-config';
import { MockDataBootstrapService } from '../src/seed/mock-data-bootstrap.service';
import { SeedModule } from '../src/seed/seed.module';
import { User } from '../src/users/entities/user.entity';
import { ActiveStatus, UserState } from '../src/users/user.enums';
import { seedMockData } from '../src/seed/mock-data';
import { DEFAULT_SEED_PASSWORD, SEED_USERS, seedMockUsers } from '../src/seed/mock-users';
import { SEED_WARNINGS, seedMockWarnings } from '../src/seed/mock-warnings';
import { Warning } from '../src/warnings/entities/warning.entity';
import { canSeeWarning } from '../src/warnings/warning-visibility';
import { testDatabaseUrl } from './setup/test-database';
import { truncateAll } from './utils/db';
import { createTestApp } from './utils/test-app';

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

describe('mock data seed', () => {
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

    let hashed = false;
    const again = await seedMockUsers(ds, () => {
      hashed = true;
      return bcrypt.hash('another-password', 4);
    });
    expect(again.created).toEqual([]);
    expect(again.existing).toHaveLength(SEED_USERS.length);
    expect(hashed).toBe(false); // nothing missing: no bcrypt work
    const after = await users();
    expect(after).toHaveLength(SEED_USERS.length);
    expect(after.every((u) => u.passwordHash === hash)).toBe(true);
  });

  it('loads mock warnings so that every mock user sees at least one, once', async () => {
    const now = new Date();
    await seedMockData(ds, { passwordHash: () => bcrypt.hash('seed-password-123', 4), now });
    const warnings = await ds.getRepository(Warning).find();
    expect(warnings.map((w) => w.title).sort()).toEqual(SEED_WARNINGS.map((w) => w.title).sort());
    const admin = await ds.getRepository(User).findOneByOrFail({ email: 'admin@example.com' });
    expect(warnings.every((w) => w.createdBy === admin.id && w.expiresAt > now)).toBe(true);
    for (const user of SEED_USERS) {
      const seen = warnings.filter((w) =>
        canSeeWarning(w, { role: user.role, organization: user.organization }, now),
      );
      // An ADM sees them all; everyone else needs one addressed to it, not just any.
      expect([user.email, seen.length > 0]).toEqual([user.email, true]);
    }
    expect(await seedMockWarnings(ds, now)).toEqual({
      created: [],
      existing: SEED_WARNINGS.map((w) => w.title),
    });
    expect(await ds.getRepository(Warning).count()).toBe(SEED_WARNINGS.length);

    // Once the purge has removed an expired one, the seed brings it back.
    await ds.query(`DELETE FROM warnings WHERE title = $1`, [SEED_WARNINGS[0].title]);
    expect((await seedMockWarnings(ds, now)).created).toEqual([SEED_WARNINGS[0].title]);
  });

  it('`npm run seed` works against DATABASE_URL and is idempotent', () => {
    const env = { DATABASE_URL: testDatabaseUrl(), SEED_PASSWORD: 'seed-password-123' };
    const first = runSeedCli(env);
    expect(first.stderr).not.toMatch(/seed failed/);
    expect(first.status).toBe(0);
    expect(first.stdout).toMatch(/6 created, 0 already there; 5 warning\(s\) created, 0 already/);
    const second = runSeedCli(env);
    expect(second.status).toBe(0);
    expect(second.stdout).toMatch(/0 created, 6 already there; 0 warning\(s\) created, 5 already/);
    expect(second.stdout).not.toMatch(/seed-password-123/);
  });

  it('refuses to run in production, and a bad SEED_PASSWORD', () => {
    const res = runSeedCli({ NODE_ENV: 'production', DATABASE_URL: testDatabaseUrl() });
    expect(res.status).toBe(1);
    expect(res.stderr).toMatch(/refusing to load mock users with NODE_ENV=production/);
    const short = runSeedCli({ DATABASE_URL: testDatabaseUrl(), SEED_PASSWORD: 'short' });
    expect(short.status).toBe(1);
    expect(short.stderr).toMatch(/SEED_PASSWORD must be at least 12 characters/);
  });

  describe('at start (SEED_ON_START)', () => {
    it('development: the mock users and warnings are there when the app is up; they sign in', async () => {
      const t = await createTestApp({ SEED_ON_START: 'true' });
      try {
        expect(await t.dataSource.getRepository(User).count()).toBe(SEED_USERS.length);
        for (const user of SEED_USERS.filter((u) => u.active === ActiveStatus.ACTIVE)) {
          const signIn = await request(t.server)
            .post('/auth/token')
            .send({ email: user.email, password: DEFAULT_SEED_PASSWORD });
          expect([user.email, signIn.status]).toEqual([user.email, 200]);
          const list = await request(t.server)
            .get('/warnings')
            .set('authorization', `Bearer ${signIn.body.access_token}`);
          expect(list.status).toBe(200);
          expect([user.email, list.body.items.length > 0]).toEqual([user.email, true]);
        }
      } finally {
        await t.close();
      }
    });

    it('on by default only with the embedded database outside production', () => {
      expect(loadConfig({}).seedOnStart).toBe(true);
      expect(loadConfig({ NODE_ENV: 'test' }).seedOnStart).toBe(true);
      expect(loadConfig({ DATABASE_URL: testDatabaseUrl() }).seedOnStart).toBe(false);
      expect(loadConfig({ SEED_ON_START: 'false' }).seedOnStart).toBe(false);
      expect(() => loadConfig({ NODE_ENV: 'production', SEED_ON_START: 'true' })).toThrow(
        /SEED_ON_START cannot be true in production/,
      );
    });

    it('production never seeds', async () => {
      const t = await createTestApp({ NODE_ENV: 'production' });
      try {
        expect(t.config.seedOnStart).toBe(false);
        expect(await t.dataSource.getRepository(User).count()).toBe(0);
        expect(await t.dataSource.getRepository(Warning).count()).toBe(0);
      } finally {
        await t.close();
      }
      // Even a configuration that says otherwise (built by hand, not through loadConfig):
      // the module is left out, and the service would refuse anyway.
      const config = loadConfig({ DATABASE_URL: testDatabaseUrl(), SEED_ON_START: 'true' });
      config.nodeEnv = 'production';
      expect(AppModule.register(config).imports).not.toContain(SeedModule);
      const service = new MockDataBootstrapService(
        ds,
        new PasswordHasher(config),
        new Clock(),
        config,
      );
      await service.onApplicationBootstrap();
      expect(service.result).toBeUndefined();
      expect(await ds.getRepository(User).count()).toBe(0);
    });
  });
});
