import { isISO8601, ValidateBy, ValidationOptions } from 'class-validator';

/** A full date-time with an explicit offset: 2030-01-31T14:00:00Z, 2030-01-31T11:00-03:00. */
const DATE_TIME_WITH_OFFSET =
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

export function isIsoDateTime(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    DATE_TIME_WITH_OFFSET.test(value) &&
    isISO8601(value, { strict: true }) &&
    !Number.isNaN(Date.parse(value))
  );
}

export function isIsoDate(value: unknown): value is string {
  return typeof value === 'string' && DATE_ONLY.test(value) && isISO8601(value, { strict: true });
}

/**
 * An ISO 8601 date-time with an offset (a time without one would mean the server's zone).
 * The DTO keeps the string; services turn it into a Date.
 */
export function IsIsoDateTime(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isIsoDateTime',
      validator: {
        validate: (value) => isIsoDateTime(value),
        defaultMessage: (args) =>
          `${args?.property} must be an ISO 8601 date-time with an offset, e.g. 2030-01-31T14:00:00Z`,
      },
    },
    options,
  );
}

/** An ISO 8601 date (2030-01-31) or a date-time with an offset. */
export function IsIsoDateOrDateTime(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isIsoDateOrDateTime',
      validator: {
        validate: (value) => isIsoDate(value) || isIsoDateTime(value),
        defaultMessage: (args) =>
          `${args?.property} must be an ISO 8601 date (2030-01-31) or a date-time with an offset`,
      },
    },
    options,
  );
}
