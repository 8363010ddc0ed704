import { ValidateBy, ValidationOptions } from 'class-validator';

/**
 * PostgreSQL text cannot hold U+0000: such a value would fail in the database (a 500) instead
 * of being refused as bad input. Put it on free-text fields that reach SQL.
 */
export function NoNul(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'noNul',
      validator: {
        validate: (value: unknown) => typeof value !== 'string' || !value.includes('\u0000'),
        defaultMessage: (args) => `${args?.property ?? 'value'} must not contain NUL characters`,
      },
    },
    options,
  );
}
