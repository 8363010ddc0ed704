import helmet from 'helmet';
import multipart from '@fastify/multipart';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { LogController } from 'fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { Logger } from 'pino';
import { NestPinoLogger } from './common/logging';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { ProblemDetailsFilter } from './common/filters/problem-details.filter';
import { createValidationPipe } from './common/pipes/validation.pipe';

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
    return503OnClosing: true,
  });
}

/** Everything main.ts and the tests share: pipes, filters, headers, docs, uploads. */
export async function configureApp(app: NestFastifyApplication, logger: Logger): Promise<void> {
  app.useLogger(new NestPinoLogger(logger));
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new ProblemDetailsFilter());

  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onRequest', (req, reply, done) => {
    // The logger middleware reads the id from the header; the client gets it back.
    req.raw.headers['x-request-id'] = req.id;
    void reply.header('x-request-id', req.id);
    done();
  });
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
