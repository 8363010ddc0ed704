import { Global, Injectable, Module, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { DataSource } from 'typeorm';
import { AppConfig, TelemetryConfig } from '../config/app-config';
import { Metrics } from './metrics';
import type { MetricsExport } from './metrics-export';

/** Metrics are collected when something reads them: a Prometheus port or an OTLP collector. */
export function metricsWanted(config: TelemetryConfig): boolean {
  return config.metricsPort !== undefined || config.otlpEndpoint !== undefined;
}

interface PoolCounts {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
}

/** Starts the metrics SDK when wanted, with the process-wide gauges (pool, event loop). */
@Injectable()
export class MetricsLifecycle implements OnModuleInit, OnApplicationShutdown {
  private export?: MetricsExport;
  private loopDelay?: IntervalHistogram;
  private resetTimer?: NodeJS.Timeout;

  constructor(
    private readonly config: AppConfig,
    private readonly metrics: Metrics,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  async onModuleInit(): Promise<void> {
    if (!metricsWanted(this.config.telemetry)) return;
    const pool = () =>
      (this.dataSource.driver as unknown as { master?: PoolCounts }).master ?? undefined;
    this.metrics.gauge(
      'db.client.connection.count',
      'PostgreSQL pool connections by state (used: checked out by a query)',
      '{connection}',
      (observe) => {
        const p = pool();
        if (!p) return;
        observe(p.totalCount - p.idleCount, { state: 'used' });
        observe(p.idleCount, { state: 'idle' });
      },
    );
    this.metrics.gauge(
      'db.client.connection.pending_requests',
      'Queries waiting for a PostgreSQL pool connection',
      '{request}',
      (observe) => {
        const p = pool();
        if (p) observe(p.waitingCount);
      },
    );
    // Event-loop lag over a one-minute window (p99 and max), sampled every 20 ms.
    const loop = monitorEventLoopDelay({ resolution: 20 });
    loop.enable();
    this.loopDelay = loop;
    this.resetTimer = setInterval(() => loop.reset(), 60_000);
    this.resetTimer.unref();
    this.metrics.gauge(
      'nodejs.eventloop.delay',
      'Event-loop delay over the last minute, by percentile (p50, p99, max)',
      's',
      (observe) => {
        if (loop.count === 0) return;
        observe(loop.percentile(50) / 1e9, { quantile: 'p50' });
        observe(loop.percentile(99) / 1e9, { quantile: 'p99' });
        observe(loop.max / 1e9, { quantile: 'max' });
      },
    );
    const { startMetricsExport } = await import('./metrics-export');
    this.export = await startMetricsExport(this.config.telemetry, this.metrics);
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.resetTimer);
    this.loopDelay?.disable();
    await this.export?.shutdown();
  }
}

@Global()
@Module({ providers: [Metrics, MetricsLifecycle], exports: [Metrics] })
export class ObservabilityModule {}
