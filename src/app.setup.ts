import helmet from 'helmet';
import multipart from '@fastify/multipart';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { LogController, type FastifyError, type FastifyReply } from 'fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { Logger } from 'pino';
import { NestPinoLogger } from './common/logging';
import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { problem, ProblemDetailsFilter, toProblem } from './common/filters/problem-details.filter';
import { createJsonBodyParser } from './common/json-body';
import { createValidationPipe } from './common/pipes/validation.pipe';
import type { AuthUser } from './common/auth-user';
import { AppConfig } from './config/app-config';
import { Metrics } from './observability/metrics';
import { metricsWanted } from './observability/observability.module';
import { activeTracing } from './observability/telemetry-state';

const REQUEST_ID = /^[\w.-]{1,128}$/;
export const MAX_UPLOAD_BYTES = 50 * 1024 * 1024;

export function createFastifyAdapter(logger: Logger): FastifyAdapter {
  return new FastifyAdapter({
    loggerInstance: logger,
    // Requests are logged once, on completion, by the onResponse hook below.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1024 * 1024,
    // ALB idle timeout is 60 s; keep-alive must outlive it.
    keepAliveTimeout: 65_000,
    // On close, drop idle keep-alive sockets so shutdown does not wait on them.
    forceCloseConnections: 'idle',
    // The caller's x-request-id when it is sane, else a new UUID; echoed on every answer.
    genReqId: (req: IncomingMessage) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    trustProxy: true,
    // configureApp answers requests that arrive during shutdown (503 problem+json); fastify's own
    // answer would be a plain JSON body.
    return503OnClosing: false,
    // A URL fastify cannot decode (/%FF) or an over-long path parameter: a problem, like the rest.
    frameworkErrors: (error: FastifyError, _request: unknown, reply: FastifyReply) => {
      const { body } = toProblem(error);
      void reply.status(body.status).type('application/problem+json').send(body);
    },
    clientErrorHandler: writeClientErrorProblem,
  });
}

/**
 * Bytes that are not valid HTTP (a broken header, headers over 16 KB) never reach a route; Node
 * asks fastify what to write before it drops the connection. Answer with a problem too.
 */
export function writeClientErrorProblem(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  let status = 400;
  let detail = 'The request is not valid HTTP.';
  if (err.code === 'HPE_HEADER_OVERFLOW') {
    status = 431;
    detail = 'The request line and headers are too large.';
  } else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    status = 408;
    detail = 'The request did not arrive in time.';
  }
  const body = JSON.stringify(problem(status, detail));
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/problem+json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}

/**
 * Tracing and metrics hooks, added only when they are on (no cost otherwise): the response's
 * W3C traceparent, the caller's role on the request's spans, and RED metrics per route
 * pattern (`/warnings/:id`, never the raw URL; "unmatched" for paths that are no route).
 */
function observe(app: NestFastifyApplication): void {
  const fastify = app.getHttpAdapter().getInstance();
  const tracing = activeTracing();
  if (tracing) {
    fastify.addHook('onRequest', (_req, reply, done) => {
      const traceparent = tracing.traceparent();
      if (traceparent) void reply.header('traceparent', traceparent);
      done();
    });
    fastify.addHook('onSend', (req, _reply, payload, done) => {
      const user = (req as unknown as { user?: AuthUser }).user;
      if (user) tracing.annotate(user.role);
      done(null, payload);
    });
  }
  if (metricsWanted(app.get(AppConfig).telemetry)) {
    const metrics = app.get(Metrics);
    fastify.addHook('onResponse', (req, reply, done) => {
      const route = req.routeOptions.url ?? 'unmatched';
      // An event stream's "duration" is its lifetime: counted, not timed.
      const stream = String(reply.raw.getHeader('content-type') ?? '').startsWith(
        'text/event-stream',
      );
      metrics.requestCompleted(
        { method: req.method, route, status: reply.statusCode },
        stream ? undefined : reply.elapsedTime / 1000,
      );
      done();
    });
  }
}

/** Everything main.ts and the tests share: pipes, filters, headers, docs, uploads. */
export async function configureApp(app: NestFastifyApplication, logger: Logger): Promise<void> {
  app.useLogger(new NestPinoLogger(logger));
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new ProblemDetailsFilter());

  const fastify = app.getHttpAdapter().getInstance();
  app.useBodyParser('application/json', {}, createJsonBodyParser(fastify));
  fastify.addHook('onRequest', (req, reply, done) => {
    // The logger middleware reads the id from the header; the client gets it back.
    req.raw.headers['x-request-id'] = req.id;
    void reply.header('x-request-id', req.id);
    done();
  });
  // Shutdown (app.close() on SIGTERM) stops the listener and waits for open connections. A
  // response finished meanwhile says `Connection: close`, so a keep-alive client (the load
  // balancer) lets go instead of holding the process up to keepAliveTimeout; a request still
  // arriving on such a connection is answered 503 problem+json.
  let closing = false;
  fastify.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  fastify.addHook('onRequest', (_req, reply, done) => {
    if (!closing) return done();
    void reply
      .status(503)
      .type('application/problem+json')
      .send(problem(503, 'The server is shutting down; try again.', 'shutting_down'));
  });
  fastify.addHook('onSend', (_req, reply, payload, done) => {
    if (closing) void reply.header('connection', 'close');
    done(null, payload);
  });
  observe(app);
  fastify.addHook('onResponse', (req, reply, done) => {
    // /ping is polled every few seconds by the load balancer; keep it out of the logs.
    if (req.url !== '/ping' || reply.statusCode !== 200) {
      req.log.info(
        { req, res: reply, responseTime: Math.round(reply.elapsedTime) },
        'request completed',
      );
    }
    done();
  });

  // Security headers, the same on every answer. The helmet middleware is built once here:
  // the @fastify/helmet plugin rebuilt it (CSP parsing included) on every request, about a
  // tenth of the CPU of a simple authenticated GET.
  const securityHeaders = helmet({
    contentSecurityPolicy: {
      directives: {
        defaultSrc: [`'self'`],
        styleSrc: [`'self'`, `'unsafe-inline'`],
        imgSrc: [`'self'`, 'data:', 'validator.swagger.io'],
        scriptSrc: [`'self'`, `'unsafe-inline'`],
      },
    },
  });
  fastify.addHook('onRequest', (req, reply, done) => {
    securityHeaders(req.raw, reply.raw, () => done());
  });
  await app.register(multipart, { limits: { fileSize: MAX_UPLOAD_BYTES, files: 1, fields: 10 } });

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('portal-api')
      .setDescription('Organizations portal: users, warnings, booking requests.')
      .setVersion('1')
      .addBearerAuth()
      .addSecurityRequirements('bearer')
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
}
