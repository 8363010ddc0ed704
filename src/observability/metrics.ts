import { Injectable } from '@nestjs/common';
import type { Counter, Histogram, Meter, ObservableResult } from '@opentelemetry/api';

/** Attribute values of the RED instruments; `route` is the route pattern, never the raw URL. */
export interface RequestAttributes {
  method: string;
  route: string;
  status: number;
}

interface Instruments {
  requests: Counter;
  errors: Counter;
  duration: Histogram;
  throttled: Counter;
}

type Gauge = (observe: (value: number, attributes?: Record<string, string>) => void) => void;

/**
 * The application's metrics, one small injectable for every feature: RED per route (the HTTP
 * hook in ObservabilityModule), open SSE streams (the warning stream hub), throttled requests
 * (the rate limiter calls throttled()), pool and event-loop gauges. Until enable() is called
 * with a meter (METRICS_PORT or OTEL_EXPORTER_OTLP_ENDPOINT set) every method is a no-op and
 * nothing of OpenTelemetry is loaded: the type imports above vanish at compile time.
 */
@Injectable()
export class Metrics {
  private instruments?: Instruments;
  private readonly gauges: Array<{ name: string; description: string; unit: string; read: Gauge }> =
    [];
  private meter?: Meter;

  get enabled(): boolean {
    return this.instruments !== undefined;
  }

  enable(meter: Meter): void {
    if (this.meter) return;
    this.meter = meter;
    this.instruments = {
      requests: meter.createCounter('http.server.requests', {
        description: 'HTTP requests answered, by method, route and status code',
      }),
      errors: meter.createCounter('http.server.errors', {
        description: 'HTTP requests answered with a 5xx status, by method, route and status code',
      }),
      duration: meter.createHistogram('http.server.request.duration', {
        description: 'Time to answer an HTTP request, by method, route and status code',
        unit: 's',
        advice: {
          explicitBucketBoundaries: [
            0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
          ],
        },
      }),
      throttled: meter.createCounter('http.server.throttled', {
        description: 'Requests refused by a rate limit (429), by limit',
      }),
    };
    for (const gauge of this.gauges) this.register(gauge);
  }

  /** One answered request (the SSE route is counted when its stream ends, without duration). */
  requestCompleted(attrs: RequestAttributes, seconds: number | undefined): void {
    const i = this.instruments;
    if (!i) return;
    const attributes = {
      'http.request.method': attrs.method,
      'http.route': attrs.route,
      'http.response.status_code': attrs.status,
    };
    i.requests.add(1, attributes);
    if (attrs.status >= 500) i.errors.add(1, attributes);
    if (seconds !== undefined) i.duration.record(seconds, attributes);
  }

  /** A request a rate limit refused; `limit` names the budget (e.g. "ip", "sign-in"). */
  throttled(limit: string): void {
    this.instruments?.throttled.add(1, { limit });
  }

  /**
   * A value read at each collection (open streams, pool clients, event-loop delay). May be
   * called before enable(): it is registered then.
   */
  gauge(name: string, description: string, unit: string, read: Gauge): void {
    const gauge = { name, description, unit, read };
    this.gauges.push(gauge);
    if (this.meter) this.register(gauge);
  }

  private register(g: { name: string; description: string; unit: string; read: Gauge }): void {
    const observable = this.meter!.createObservableGauge(g.name, {
      description: g.description,
      unit: g.unit,
    });
    observable.addCallback((result: ObservableResult) => {
      g.read((value, attributes) => result.observe(value, attributes));
    });
  }
}
