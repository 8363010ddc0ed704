import 'reflect-metadata';
import { ConfigError, loadTelemetryConfig } from '../config/app-config';
import { setActiveTracing } from './telemetry-state';

/**
 * main.ts's first import: starts tracing before http, fastify and pg are loaded, so their
 * instrumentations can patch them, and only when OTEL_EXPORTER_OTLP_ENDPOINT is set: otherwise
 * not one OpenTelemetry module is loaded (test/reliability/lazy-loading.rel-spec.ts checks).
 * A bad telemetry variable is left to the configuration check in main.ts, which names it and
 * exits 78.
 */
function start(): void {
  let config;
  try {
    config = loadTelemetryConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) return;
    throw err;
  }
  if (!config.otlpEndpoint) return;
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only when on
  const { startTracing } = require('./tracing') as typeof import('./tracing');
  setActiveTracing(startTracing(config));
}

start();
