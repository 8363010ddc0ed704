export interface FieldError {
  field: string;
  message: string;
}

/**
 * A domain error with a stable machine-readable code. The global filter turns it into
 * RFC 9457 problem+json; `code` becomes the problem `type`.
 */
export class AppError extends Error {
  constructor(
    public readonly status: number,
    public readonly code: string,
    public readonly title: string,
    public readonly detail: string,
    public readonly errors?: FieldError[],
    public readonly headers?: Record<string, string>,
  ) {
    super(detail);
    this.name = 'AppError';
  }

  static badRequest(detail: string, errors?: FieldError[], code = 'bad_request'): AppError {
    return new AppError(400, code, 'Bad Request', detail, errors);
  }

  static validation(errors: FieldError[], detail = 'The request is not valid.'): AppError {
    return new AppError(400, 'validation_failed', 'Bad Request', detail, errors);
  }

  static unauthorized(detail = 'Authentication is required.', code = 'unauthorized'): AppError {
    return new AppError(401, code, 'Unauthorized', detail);
  }

  static forbidden(detail = 'You may not do this.', code = 'forbidden'): AppError {
    return new AppError(403, code, 'Forbidden', detail);
  }

  static notFound(detail = 'Not found.', code = 'not_found'): AppError {
    return new AppError(404, code, 'Not Found', detail);
  }

  static conflict(detail: string, code = 'conflict'): AppError {
    return new AppError(409, code, 'Conflict', detail);
  }

  static tooManyRequests(detail: string, retryAfterSeconds: number, code = 'locked'): AppError {
    return new AppError(429, code, 'Too Many Requests', detail, undefined, {
      'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))),
    });
  }

  static unavailable(detail: string, code = 'service_unavailable'): AppError {
    return new AppError(503, code, 'Service Unavailable', detail);
  }
}

export const PROBLEM_TYPE_PREFIX = 'urn:portal-api:problem:';
