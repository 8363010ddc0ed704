import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { SpanKind } from '@opentelemetry/api';
import type { InstrumentationBase } from '@opentelemetry/instrumentation';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { freePort } from '../src/common/free-port';
import { loadTelemetryConfig } from '../src/config/app-config';
import { Metrics } from '../src/observability/metrics';
import { setActiveTracing } from '../src/observability/telemetry-state';
import { startTracing, Tracing } from '../src/observability/tracing';
import { Organization, Role } from '../src/users/user.enums';
import { WarningsService } from '../src/warnings/warnings.service';
import { truncateAll } from './utils/db';
import { bearer, createUser, tokenFor } from './utils/factories';
import { SseClient } from './utils/sse';
import { createTestApp, TestApp } from './utils/test-app';

/**
 * Jest loads modules through its own registry, not Node's require, so the instrumentations'
 * require hooks never see http, pg and pg-pool here: patch the instances this test file uses
 * (the ones the app gets) by hand. In the built app the preload does this through the hooks
 * (test/reliability/lazy-loading.rel-spec.ts runs it with a collector).
 */
const PATCHED = ['http', 'pg', 'pg-pool'];
function patchJestModules(instrumentations: InstrumentationBase[], undo = false): void {
  for (const instrumentation of instrumentations) {
    for (const def of instrumentation.getModuleDefinitions()) {
      if (!PATCHED.includes(def.name)) continue;
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const exports = require(def.name) as unknown;
      if (undo) def.unpatch?.(exports, undefined);
      else def.patch?.(exports, undefined);
    }
  }
}

describe('observability', () => {
  describe('traces (in-memory exporter)', () => {
    const exporter = new InMemorySpanExporter();
    let tracing: Tracing;
    let t: TestApp;
    const logLines: Array<Record<string, unknown>> = [];

    beforeAll(async () => {
      tracing = startTracing(
        loadTelemetryConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' }),
        { spanProcessor: new SimpleSpanProcessor(exporter) },
      );
      patchJestModules(tracing.instrumentations);
      setActiveTracing(tracing);
      t = await createTestApp(
        {},
        {
          logTo: {
            write: (line: string) => logLines.push(JSON.parse(line) as Record<string, unknown>),
          },
        },
      );
      await truncateAll(t.dataSource);
    });
    afterAll(async () => {
      await t?.close();
      setActiveTracing(undefined);
      patchJestModules(tracing.instrumentations, true);
      await tracing.shutdown();
    });

    it('one request: a server span with route, status and role, the pg spans under it, no secrets', async () => {
      const email = 'traced.admin@example.com';
      const password = 'correct horse battery staple';
      const adm = await createUser(t.dataSource, {
        role: Role.ADM,
        organization: null,
        email,
      });
      const token = await tokenFor(t, adm);
      exporter.reset();
      logLines.length = 0;
      const parentTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
      const parentSpan = '00f067aa0ba902b7';
      const res = await request(t.server)
        .get('/warnings?limit=5')
        .set('authorization', `Bearer ${token}`)
        .set('traceparent', `00-${parentTrace}-${parentSpan}-01`);
      expect(res.status).toBe(200);

      const spans = exporter.getFinishedSpans();
      const server = spans.find((s) => s.kind === SpanKind.SERVER);
      expect(server).toBeDefined();
      // W3C trace context in: the caller's trace and span are the parent.
      expect(server!.spanContext().traceId).toBe(parentTrace);
      expect(server!.parentSpanContext?.spanId).toBe(parentSpan);
      expect(server!.name).toBe('GET /warnings');
      expect(server!.attributes).toMatchObject({
        'http.request.method': 'GET',
        'http.route': '/warnings',
        'http.response.status_code': 200,
        'user.roles': ['ADM'],
      });
      // ... and out: the answer names this request's span.
      expect(res.headers.traceparent).toBe(`00-${parentTrace}-${server!.spanContext().spanId}-01`);

      // The pg spans (the caller re-read, the page) hang under the server span.
      const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]));
      const underServer = (s: ReadableSpan): boolean => {
        for (let p = s.parentSpanContext?.spanId; p; p = byId.get(p)?.parentSpanContext?.spanId) {
          if (p === server!.spanContext().spanId) return true;
        }
        return false;
      };
      const queries = spans.filter((s) => s.attributes['db.system.name'] === 'postgresql');
      expect(queries.length).toBeGreaterThanOrEqual(2);
      for (const q of queries) {
        expect(q.kind).toBe(SpanKind.CLIENT);
        expect(underServer(q)).toBe(true);
      }
      // The guard's re-read of the caller and its session.
      const reread = queries.find((q) =>
        String(q.attributes['db.query.text']).includes('FROM sessions s JOIN users u'),
      );
      expect(reread?.attributes['db.query.text']).toContain('$1');

      // Nothing secret in any span: no token, email, password, user id (a query parameter).
      const everything = JSON.stringify(
        spans.map((s) => ({ name: s.name, attributes: s.attributes, events: s.events })),
      );
      for (const secret of [token, email, password, adm.id]) {
        expect(everything).not.toContain(secret);
      }

      // Every log line of the request carries its trace id.
      const completed = logLines.find((l) => l.msg === 'request completed');
      expect(completed).toMatchObject({ trace_id: parentTrace, span_id: expect.any(String) });
    });

    it('a ticket in the query string is redacted in the span and in the log', async () => {
      const adm = await createUser(t.dataSource, { role: Role.ADM, organization: null });
      exporter.reset();
      logLines.length = 0;
      const secret = 'Jx2m0vQ4k3mV1d0yZ8bQwq9Yk0v7p5bR2sH6tL1nC3e';
      const res = await request(t.server)
        .get(`/warnings?ticket=${secret}`)
        .set('authorization', await bearer(t, adm));
      expect(res.status).toBe(400);
      const server = exporter.getFinishedSpans().find((s) => s.kind === SpanKind.SERVER)!;
      expect(server.attributes['url.query']).toBe('ticket=REDACTED');
      const spans = JSON.stringify(exporter.getFinishedSpans().map((s) => s.attributes));
      expect(spans).not.toContain(secret);
      expect(server.attributes['http.response.status_code']).toBe(400);
      expect(JSON.stringify(logLines)).not.toContain(secret);
      expect(logLines.find((l) => l.msg === 'request completed')).toMatchObject({
        req: { url: '/warnings?ticket=[redacted]' },
      });
    });

    it('the health check and the event stream get no span', async () => {
      const adm = await createUser(t.dataSource, { role: Role.ADM, organization: null });
      await t.app.listen(0, '127.0.0.1');
      const port = (t.server.address() as AddressInfo).port;
      exporter.reset();
      await request(t.server).get('/ping');
      const stream = await SseClient.open(port, '/warnings/stream', {
        authorization: await bearer(t, adm),
      });
      await stream.next('ready');
      stream.close();
      await request(t.server).get('/ping');
      expect(exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.SERVER)).toEqual([]);
    });
  });

  describe('metrics (Prometheus endpoint on METRICS_PORT)', () => {
    let t: TestApp;
    let metricsPort: number;

    beforeAll(async () => {
      metricsPort = await freePort();
      t = await createTestApp({ METRICS_PORT: String(metricsPort) });
      await t.app.listen(0, '127.0.0.1');
      await truncateAll(t.dataSource);
    });
    afterAll(async () => {
      await t?.close();
      jest.restoreAllMocks();
    });

    async function scrape(): Promise<string> {
      const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
      expect(res.status).toBe(200);
      return res.text();
    }

    /** The value of the sample with this name whose labels include all of `labels`. */
    function sample(
      text: string,
      name: string,
      labels: Record<string, string> = {},
    ): number | undefined {
      for (const line of text.split('\n')) {
        if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
        const wanted = Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`));
        if (wanted) return Number(line.slice(line.lastIndexOf(' ') + 1));
      }
      return undefined;
    }

    it('RED per route, pool, event loop, open streams and throttled requests', async () => {
      const adm = await createUser(t.dataSource, { role: Role.ADM, organization: null });
      const auth = await bearer(t, adm);
      for (let i = 0; i < 3; i++) {
        expect((await request(t.server).get('/warnings').set('authorization', auth)).status).toBe(
          200,
        );
      }
      const user = await createUser(t.dataSource, {
        role: Role.USER,
        organization: Organization.DEV,
      });
      expect(
        (
          await request(t.server)
            .get(`/warnings/${adm.id}`)
            .set('authorization', await bearer(t, user))
        ).status,
      ).toBe(404);
      expect((await request(t.server).get('/no/such/route')).status).toBe(404);
      jest.spyOn(t.app.get(WarningsService), 'list').mockRejectedValueOnce(new Error('boom'));
      expect((await request(t.server).get('/warnings').set('authorization', auth)).status).toBe(
        500,
      );
      t.app.get(Metrics).throttled('ip');
      const port = (t.server.address() as AddressInfo).port;
      const stream = await SseClient.open(port, '/warnings/stream', { authorization: auth });
      await stream.next('ready');

      const text = await scrape();
      const get = { http_request_method: 'GET' };
      expect(
        sample(text, 'http_server_requests_total', {
          ...get,
          http_route: '/warnings',
          http_response_status_code: '200',
        }),
      ).toBe(3);
      expect(
        sample(text, 'http_server_requests_total', {
          http_route: '/warnings/:id',
          http_response_status_code: '404',
        }),
      ).toBe(1);
      expect(
        sample(text, 'http_server_requests_total', {
          http_route: 'unmatched',
          http_response_status_code: '404',
        }),
      ).toBe(1);
      expect(
        sample(text, 'http_server_errors_total', {
          http_route: '/warnings',
          http_response_status_code: '500',
        }),
      ).toBe(1);
      expect(
        sample(text, 'http_server_errors_total', { http_response_status_code: '200' }),
      ).toBeUndefined();
      expect(
        sample(text, 'http_server_request_duration_count', {
          http_route: '/warnings',
          http_response_status_code: '200',
        }),
      ).toBe(3);
      expect(sample(text, 'http_server_throttled_total', { limit: 'ip' })).toBe(1);
      expect(sample(text, 'portal_sse_streams')).toBe(1);
      expect(sample(text, 'db_client_connection_count', { state: 'used' })).toBeGreaterThanOrEqual(
        0,
      );
      expect(sample(text, 'db_client_connection_count', { state: 'idle' })).toBeGreaterThanOrEqual(
        0,
      );
      expect(sample(text, 'db_client_connection_pending_requests')).toBe(0);
      expect(sample(text, 'nodejs_eventloop_delay', { quantile: 'p99' })).toBeGreaterThan(0);
      // No raw URLs (ids) as labels.
      expect(text).not.toContain(adm.id);
      stream.close();

      // Never on the public port.
      expect((await request(t.server).get('/metrics')).status).toBe(404);
    });
  });
});
