import {
  ArgumentsHost,
  Catch,
  ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
} from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { QueryFailedError } from 'typeorm';
import { AppError, FieldError, PROBLEM_TYPE_PREFIX } from '../errors/app-error';

export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: FieldError[];
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Payload Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

const CODES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  408: 'request_timeout',
  409: 'conflict',
  413: 'payload_too_large',
  414: 'uri_too_long',
  415: 'unsupported_media_type',
  429: 'too_many_requests',
  431: 'request_header_fields_too_large',
  500: 'internal',
  503: 'service_unavailable',
};

// Postgres SQLSTATEs that mean "the database is unavailable or overloaded", not a bug.
const UNAVAILABLE_SQLSTATES = new Set(['57014', '57P01', '57P02', '57P03', '53300', '55P03']);
const CONNECTION_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
]);

export function problem(
  status: number,
  detail: string,
  code?: string,
  errors?: FieldError[],
): ProblemDetails {
  const body: ProblemDetails = {
    type: PROBLEM_TYPE_PREFIX + (code ?? CODES[status] ?? 'error'),
    title: TITLES[status] ?? (status >= 500 ? 'Server Error' : 'Client Error'),
    status,
    detail,
  };
  if (errors?.length) body.errors = errors;
  return body;
}

export function isDatabaseUnavailable(err: unknown): boolean {
  const e = err as {
    code?: unknown;
    message?: unknown;
    statusCode?: unknown;
    driverError?: { code?: unknown };
  };
  // A client that hangs up mid-request is an ECONNRESET too, but with an HTTP 4xx status.
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) return false;
  const code = typeof e?.code === 'string' ? e.code : undefined;
  const driverCode = typeof e?.driverError?.code === 'string' ? e.driverError.code : undefined;
  if (code && (UNAVAILABLE_SQLSTATES.has(code) || CONNECTION_ERRNOS.has(code))) return true;
  if (driverCode && UNAVAILABLE_SQLSTATES.has(driverCode)) return true;
  if (code?.startsWith('08') || driverCode?.startsWith('08')) return true;
  const message = typeof e?.message === 'string' ? e.message : '';
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|terminating connection|the database system is (starting up|shutting down)|Cannot use a pool after calling end/i.test(
    message,
  );
}

/** Maps any thrown value to a problem+json body; exported for reuse (fastify error handler). */
export function toProblem(err: unknown): {
  body: ProblemDetails;
  headers?: Record<string, string>;
} {
  if (err instanceof AppError) {
    return {
      body: { ...problem(err.status, err.detail, err.code, err.errors), title: err.title },
      headers: err.headers,
    };
  }
  if (err instanceof HttpException) {
    const status = err.getStatus();
    const res = err.getResponse();
    let detail = err.message;
    if (typeof res === 'object' && res !== null) {
      const m = (res as { message?: unknown }).message;
      if (typeof m === 'string') detail = m;
      else if (Array.isArray(m)) detail = m.join('; ');
    }
    if (status === 404 && /^Cannot (GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)/.test(detail)) {
      detail = 'No such route.';
    }
    return { body: problem(status, detail) };
  }
  if (isDatabaseUnavailable(err)) {
    return {
      body: problem(503, 'The database is unavailable; try again shortly.', 'database_unavailable'),
    };
  }
  if (err instanceof QueryFailedError) {
    const code = (err.driverError as { code?: string } | undefined)?.code;
    if (code === '23505') return { body: problem(409, 'The resource already exists.', 'conflict') };
    if (code === '22P02' || code === '22007' || code === '22008' || code === '22003') {
      return { body: problem(400, 'A value has the wrong format.', 'bad_request') };
    }
  }
  // Fastify's own errors (bad JSON, wrong content type, body too large) carry a 4xx statusCode.
  const statusCode = (err as { statusCode?: unknown })?.statusCode;
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    const message = (err as { message?: unknown }).message;
    return {
      body: problem(
        statusCode,
        typeof message === 'string' ? message : 'The request is not valid.',
      ),
    };
  }
  return { body: problem(500, 'An unexpected error occurred.', 'internal') };
}

/** The one place errors become HTTP answers: RFC 9457 problem+json, no stack traces. */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const { body, headers } = toProblem(exception);
    if (body.status >= 500) {
      // Only 5xx are logged. A deliberate AppError (a dependency we know is down) is a warning
      // with its code; anything else is a bug or an outage and gets the full error.
      if (exception instanceof AppError) {
        this.logger.warn({ code: exception.code, status: body.status }, body.detail);
      } else {
        this.logger.error({ err: exception, status: body.status }, body.detail);
      }
    }
    if (reply.sent) return;
    if (headers) void reply.headers(headers);
    void reply
      .status(body.status ?? HttpStatus.INTERNAL_SERVER_ERROR)
      .type('application/problem+json')
      .send(body);
  }
}
