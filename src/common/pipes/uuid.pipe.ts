import { Param, ParseUUIDPipe } from '@nestjs/common';
import { AppError } from '../errors/app-error';

/**
 * A path id that must be a UUID: anything else is a 400 before it can reach a query
 * (an undefined or malformed id must never become a TypeORM where-clause).
 */
export const UuidParam = (name = 'id'): ParameterDecorator =>
  Param(
    name,
    new ParseUUIDPipe({
      exceptionFactory: () =>
        AppError.validation(
          [{ field: name, message: `${name} must be a UUID` }],
          `${name} must be a UUID.`,
        ),
    }),
  );
