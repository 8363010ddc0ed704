/* eslint-disable @typescript-eslint/no-require-imports -- OpenTelemetry is required lazily on
   purpose: with tracing off (no OTEL_EXPORTER_OTLP_ENDPOINT) none of it may be loaded. */
import type { TelemetryConfig } from '../config/app-config';
import type * as Api from '@opentelemetry/api';
import type { InstrumentationBase } from '@opentelemetry/instrumentation';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { IncomingMessage } from 'node:http';

/** Query parameters never recorded in a span (url.query): the stream ticket, and OTel's own list. */
const REDACTED_QUERY_PARAMS = ['ticket', 'sig', 'Signature', 'AWSAccessKeyId', 'X-Goog-Signature'];

/**
 * Requests that get no span: the load balancer's health check (every few seconds, nothing to
 * learn) and the warning stream, whose response lasts as long as the connection (hours).
 */
export function isUntracedRequest(req: Pick<IncomingMessage, 'method' | 'url'>): boolean {
  const path = (req.url ?? '').split('?')[0];
  return path === '/ping' || (req.method === 'GET' && path === '/warnings/stream');
}

export interface Tracing {
  /** trace_id and span_id of the active span, for every log line written inside a request. */
  logFields(): { trace_id: string; span_id: string } | undefined;
  /** The W3C traceparent of this request's server span, for the response header. */
  traceparent(): string | undefined;
  /** The caller's role on the request's spans (never an id, email or token). */
  annotate(role: string): void;
  readonly instrumentations: InstrumentationBase[];
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  /** Instead of the OTLP exporter (tests: an in-memory exporter behind a simple processor). */
  spanProcessor?: SpanProcessor;
}

/**
 * Starts the OpenTelemetry SDK for traces: the Node tracer provider (W3C trace context in and
 * out, AsyncLocalStorage context), parent-based sampling at OTEL_TRACES_SAMPLER_ARG, OTLP/HTTP
 * export to OTEL_EXPORTER_OTLP_ENDPOINT, and three instrumentations: node:http (server and
 * client spans, traceparent), Fastify (@fastify/otel: the route) and pg (one span per query:
 * the statement with its $n placeholders, never the values). Must run before http, fastify
 * and pg are loaded: src/observability/preload.ts is main.ts's first import.
 */
export function startTracing(config: TelemetryConfig, options: TracingOptions = {}): Tracing {
  const api = require('@opentelemetry/api') as typeof Api;
  const { getRPCMetadata } = require('@opentelemetry/core') as typeof import('@opentelemetry/core');
  const { resourceFromAttributes } =
    require('@opentelemetry/resources') as typeof import('@opentelemetry/resources');
  const { ParentBasedSampler, TraceIdRatioBasedSampler, BatchSpanProcessor } =
    require('@opentelemetry/sdk-trace-base') as typeof import('@opentelemetry/sdk-trace-base');
  const { NodeTracerProvider } =
    require('@opentelemetry/sdk-trace-node') as typeof import('@opentelemetry/sdk-trace-node');
  const { registerInstrumentations } =
    require('@opentelemetry/instrumentation') as typeof import('@opentelemetry/instrumentation');
  const { HttpInstrumentation } =
    require('@opentelemetry/instrumentation-http') as typeof import('@opentelemetry/instrumentation-http');
  const { PgInstrumentation } =
    require('@opentelemetry/instrumentation-pg') as typeof import('@opentelemetry/instrumentation-pg');
  const { FastifyOtelInstrumentation } = require('@fastify/otel') as typeof import('@fastify/otel');

  let processor = options.spanProcessor;
  if (!processor) {
    const { OTLPTraceExporter } =
      require('@opentelemetry/exporter-trace-otlp-proto') as typeof import('@opentelemetry/exporter-trace-otlp-proto');
    processor = new BatchSpanProcessor(
      new OTLPTraceExporter({ url: `${config.otlpEndpoint}/v1/traces` }),
    );
  }
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': config.serviceName }),
    sampler: new ParentBasedSampler({
      root: new TraceIdRatioBasedSampler(config.traceSampleRatio),
    }),
    spanProcessors: [processor],
  });
  // Global tracer provider, AsyncLocalStorage context manager, W3C traceparent propagation.
  provider.register();

  const instrumentations: InstrumentationBase[] = [
    new HttpInstrumentation({
      ignoreIncomingRequestHook: (req) => isUntracedRequest(req),
      redactedQueryParamsServer: REDACTED_QUERY_PARAMS,
      redactedQueryParams: REDACTED_QUERY_PARAMS,
      // Headers are never recorded (authorization, cookies): none are listed to capture.
    }),
    new FastifyOtelInstrumentation({
      registerOnInitialization: true,
      // Its url.path is the raw URL, query string (a stream ticket) included: the path only.
      requestHook: (span, request) => {
        span.setAttribute('url.path', request.url.split('?')[0]);
      },
      // One `request` span per request, not one per hook: the cost stays flat per request.
      instrumentHooks: false,
      instrumentHandler: false,
    }),
    new PgInstrumentation({
      // Only queries made for a traced request: no spans for the stream hub's timers.
      requireParentSpan: true,
      ignoreConnectSpans: true,
      enhancedDatabaseReporting: false,
    }),
  ];
  const unregister = registerInstrumentations({ tracerProvider: provider, instrumentations });

  const serverSpan = (): Api.Span | undefined => {
    const ctx = api.context.active();
    return getRPCMetadata(ctx)?.span ?? api.trace.getSpan(ctx);
  };

  return {
    instrumentations,
    logFields() {
      const span = api.trace.getSpan(api.context.active());
      if (!span) return undefined;
      const { traceId, spanId } = span.spanContext();
      return api.isSpanContextValid(span.spanContext())
        ? { trace_id: traceId, span_id: spanId }
        : undefined;
    },
    traceparent() {
      const span = serverSpan();
      if (!span || !api.isSpanContextValid(span.spanContext())) return undefined;
      const { traceId, spanId, traceFlags } = span.spanContext();
      return `00-${traceId}-${spanId}-0${traceFlags & 1}`;
    },
    annotate(role) {
      const active = api.trace.getSpan(api.context.active());
      const root = serverSpan();
      for (const span of new Set([active, root])) span?.setAttribute('user.roles', [role]);
    },
    async shutdown() {
      unregister();
      await provider.shutdown();
    },
  };
}
