import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { DestinationStream } from 'pino';
import { DataSource } from 'typeorm';
import { AppModule } from '../../src/app.module';
import { generateSigningKeysJson } from '../../src/auth/signing-keys';
import { configureApp, createFastifyAdapter } from '../../src/app.setup';
import { createLogger } from '../../src/common/logging';
import { AppConfig, loadConfig } from '../../src/config/app-config';
import { testDatabaseUrl } from '../setup/test-database';

export interface TestApp {
  app: NestFastifyApplication;
  /** The Node server, for supertest: request(t.server). */
  server: ReturnType<NestFastifyApplication['getHttpServer']>;
  dataSource: DataSource;
  config: AppConfig;
  close(): Promise<void>;
}

/** One key set for every app of a test file, so their tokens work in each other. */
export const TEST_SIGNING_KEYS = generateSigningKeysJson();

/**
 * The whole app in-process, on the test database; env overrides go through the real config
 * loader. `logTo` receives the app's log lines (JSON) instead of silence.
 */
export async function createTestApp(
  env: Record<string, string> = {},
  { logTo }: { logTo?: DestinationStream } = {},
): Promise<TestApp> {
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: testDatabaseUrl(),
    JWT_SIGNING_KEYS: TEST_SIGNING_KEYS,
    BCRYPT_COST: '4',
    LOG_LEVEL: 'silent',
    DATABASE_POOL_SIZE: '5',
    ...env,
  });
  const logger = logTo
    ? createLogger('info', logTo)
    : createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.register(config),
    createFastifyAdapter(logger),
    { logger: false },
  );
  await configureApp(app, logger);
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return {
    app,
    server: app.getHttpServer(),
    dataSource: app.get(DataSource),
    config,
    close: () => app.close(),
  };
}
