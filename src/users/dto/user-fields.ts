import { Transform, TransformFnParams } from 'class-transformer';

/** Minimum length of a password set through the users API (bcrypt reads at most 72 bytes). */
export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_BYTES = 72;

const trimString = ({ value }: TransformFnParams): unknown =>
  typeof value === 'string' ? value.trim() : value;

const normalizeEmail = ({ value }: TransformFnParams): unknown =>
  typeof value === 'string' ? value.trim().toLowerCase() : value;

/** Surrounding whitespace is never meaningful in a name or a student number. */
export const Trim = (): PropertyDecorator => Transform(trimString);

/** Emails are compared case-insensitively and stored lower-case. */
export const NormalizeEmail = (): PropertyDecorator => Transform(normalizeEmail);
