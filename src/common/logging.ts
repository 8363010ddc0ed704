import type { LoggerService } from '@nestjs/common';
import {
  pino,
  stdTimeFunctions,
  type DestinationStream,
  type Logger,
  type LoggerOptions,
} from 'pino';
import { activeTracing } from '../observability/telemetry-state';

/**
 * pino's error serializer copies every own property; a TypeORM QueryFailedError carries the
 * query's `parameters` (emails, password hashes). The SQL text stays, the values do not.
 */
export function serializeError(err: Error): Record<string, unknown> {
  const out = pino.stdSerializers.err(err) as unknown as Record<string, unknown>;
  delete out.parameters;
  return out;
}

/** A URL as logged: the value of a stream ticket (?ticket=) replaced, the rest kept. */
export function redactUrl(url: string): string {
  return /[?&]ticket=/i.test(url) ? url.replace(/([?&]ticket=)[^&#]*/gi, '$1[redacted]') : url;
}

/**
 * One JSON line shape for every log line: ISO time, level as a word, no credentials.
 * Fastify logs each request with its id (x-request-id); Nest's own logs go through NestPinoLogger.
 * With tracing on, every line written inside a request carries its trace_id and span_id.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const tracing = activeTracing();
  const options: LoggerOptions = {
    level,
    timestamp: stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    base: { service: 'portal-api' },
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        '*.password',
        '*.passwordHash',
        '*.password_hash',
        '*.new_password',
        '*.current_password',
        '*.access_token',
        '*.refresh_token',
      ],
      censor: '[redacted]',
    },
    serializers: {
      req: (req: { id: string; method: string; url: string }) => ({
        id: req.id,
        method: req.method,
        url: redactUrl(req.url),
      }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      err: serializeError,
    },
    ...(tracing ? { mixin: () => tracing.logFields() ?? {} } : {}),
  };
  return destination ? pino(options, destination) : pino(options);
}

/**
 * Writes text as it is (not a JSON line) to the logger's destination, after every line logged
 * so far: stdout through pino is asynchronous, so a direct process.stdout.write would overtake
 * lines still queued. For the few human-facing blocks, such as the first-run sign-in block.
 */
export function writeRaw(logger: Logger, text: string): void {
  const destination = (logger as unknown as Record<symbol, { write(s: string): unknown }>)[
    pino.symbols.streamSym
  ];
  if (destination) destination.write(text);
  else process.stdout.write(text);
}

/**
 * Nest's LoggerService on top of the same pino instance. Nest calls it as
 * (message, ...params, context): an object message becomes the log fields and a string param
 * its text; for error(), a string param that looks like a stack trace is kept as `stack`.
 */
export class NestPinoLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  private write(level: pino.Level, message: unknown, params: unknown[]): void {
    const strings = params.filter((p): p is string => typeof p === 'string');
    const context = strings.length > 0 ? strings[strings.length - 1] : undefined;
    const rest = strings.slice(0, -1);
    const stack = rest.find((p) => p.includes('\n    at '));
    const text = rest.find((p) => p !== stack);
    if (typeof message === 'object' && message !== null && !(message instanceof Error)) {
      const { msg, ...fields } = message as { msg?: string };
      this.logger[level]({ context, ...fields, ...(stack ? { stack } : {}) }, text ?? msg);
    } else if (message instanceof Error) {
      this.logger[level]({ context, err: message }, text ?? message.message);
    } else {
      this.logger[level]({ context, ...(stack ? { stack } : {}) }, String(message));
    }
  }
}
