// First: tracing, when on, must patch http, fastify and pg before anything loads them.
import './observability/preload';
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DataSource } from 'typeorm';
import { AppModule } from './app.module';
import { configureApp, createFastifyAdapter } from './app.setup';
import { AppConfig, ConfigError, loadConfig } from './config/app-config';
import { resolveSecrets } from './config/secrets';
import { EmbeddedDatabase, startEmbeddedPostgres } from './database/embedded-postgres';
import { runMigrationsWithLock } from './database/migration-runner';
import { createLogger, writeRaw } from './common/logging';
import { firstRunBanner, localUrl } from './seed/first-run';
import { activeTracing } from './observability/telemetry-state';

const SHUTDOWN_GRACE_MS = 25_000; // ECS kills 30 s after SIGTERM

const logger = createLogger(process.env.LOG_LEVEL || 'info');
function log(level: 'info' | 'error', msg: string, extra: object = {}): void {
  logger[level](extra, msg);
}

async function bootstrap(): Promise<void> {
  let config: AppConfig;
  try {
    // DATABASE_SECRET_ID / JWT_SIGNING_KEYS_SECRET_ID: read from Secrets Manager before validation.
    config = loadConfig(await resolveSecrets(process.env, { log: (m) => log('info', m) }));
  } catch (err) {
    if (err instanceof ConfigError) {
      log('error', err.message, { problems: err.problems });
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }

  logger.level = config.logLevel;

  let embedded: EmbeddedDatabase | undefined;
  if (!config.databaseUrl) {
    log('info', 'DATABASE_URL is not set: starting embedded PostgreSQL');
    embedded = await startEmbeddedPostgres({
      dir: config.embeddedPgDir,
      port: config.embeddedPgPort,
      log: (m) => log('info', `embedded PostgreSQL: ${m}`),
    });
    log('info', `embedded PostgreSQL on port ${config.embeddedPgPort}, data in ${embedded.dir}`);
    config.databaseUrl = embedded.url;
  }

  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.register(config),
    createFastifyAdapter(logger),
    { bufferLogs: true },
  );
  await configureApp(app, logger);

  if (config.runMigrationsOnStart) {
    await runMigrationsWithLock(app.get(DataSource), { log: (m) => log('info', m) });
  }

  let shuttingDown = false;
  const shutdown = (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    log('info', `${signal} received: finishing in-flight requests`);
    const force = setTimeout(() => {
      log('error', 'shutdown took too long; exiting');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS);
    force.unref();
    // app.close() ends the warning streams, stops accepting connections, waits for in-flight
    // requests, closes the pool; then the last spans are sent.
    app
      .close()
      .then(() => activeTracing()?.shutdown())
      .then(() => embedded?.stop())
      .then(
        () => process.exit(0),
        (err: unknown) => {
          log('error', 'error during shutdown', { err: String(err) });
          process.exit(1);
        },
      );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));

  await app.listen({ port: config.port, host: config.host });
  log('info', `portal-api listening on ${config.host}:${config.port}`);

  if (config.seedOnStart && config.nodeEnv !== 'production') {
    // The mock data was loaded at bootstrap: say where to go and how to sign in, once.
    const address = app.getHttpServer().address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    writeRaw(
      logger,
      firstRunBanner({
        url: localUrl(config.host, port),
        docs: true,
        customPassword: config.seedPassword !== undefined,
      }),
    );
  }
}

bootstrap().catch((err: unknown) => {
  log('error', 'failed to start', { err: err instanceof Error ? err.message : String(err) });
  process.exit(1);
});
