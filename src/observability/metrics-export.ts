/* eslint-disable @typescript-eslint/no-require-imports -- loaded only when metrics are on */
import type { TelemetryConfig } from '../config/app-config';
import type { MetricReader } from '@opentelemetry/sdk-metrics';
import type { Metrics } from './metrics';

export interface MetricsExport {
  shutdown(): Promise<void>;
}

/**
 * The OpenTelemetry metrics SDK behind Metrics: a Prometheus endpoint of its own on
 * METRICS_HOST:METRICS_PORT (never the public port) and/or OTLP/HTTP export every
 * OTEL_METRIC_EXPORT_INTERVAL to the collector tracing uses. Only loaded when one is asked for.
 */
export async function startMetricsExport(
  config: TelemetryConfig,
  metrics: Metrics,
): Promise<MetricsExport> {
  const { MeterProvider, PeriodicExportingMetricReader } =
    require('@opentelemetry/sdk-metrics') as typeof import('@opentelemetry/sdk-metrics');
  const { resourceFromAttributes } =
    require('@opentelemetry/resources') as typeof import('@opentelemetry/resources');
  const readers: MetricReader[] = [];
  if (config.metricsPort !== undefined) {
    const { PrometheusExporter } =
      require('@opentelemetry/exporter-prometheus') as typeof import('@opentelemetry/exporter-prometheus');
    const prometheus = new PrometheusExporter({
      host: config.metricsHost,
      port: config.metricsPort,
      preventServerStart: true,
    });
    // Fails the start (port taken) rather than running without the metrics asked for.
    await prometheus.startServer();
    readers.push(prometheus);
  }
  if (config.otlpEndpoint) {
    const { OTLPMetricExporter } =
      require('@opentelemetry/exporter-metrics-otlp-proto') as typeof import('@opentelemetry/exporter-metrics-otlp-proto');
    readers.push(
      new PeriodicExportingMetricReader({
        exporter: new OTLPMetricExporter({ url: `${config.otlpEndpoint}/v1/metrics` }),
        exportIntervalMillis: config.metricExportIntervalMs,
      }),
    );
  }
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': config.serviceName }),
    readers,
  });
  metrics.enable(provider.getMeter('portal-api'));
  return { shutdown: () => provider.shutdown() };
}
