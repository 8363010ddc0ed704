import { Transform, TransformFnParams } from 'class-transformer';

import { PASSWORD_MAX_BYTES, PASSWORD_MIN_CHARS } from '../../auth/password-policy';

/** Passwords set through the users API follow the same length rules as POST /auth/password. */
export const PASSWORD_MIN_LENGTH = PASSWORD_MIN_CHARS;
export { PASSWORD_MAX_BYTES };

const trimString = ({ value }: TransformFnParams): unknown =>
  typeof value === 'string' ? value.trim() : value;

const normalizeEmail = ({ value }: TransformFnParams): unknown =>
  typeof value === 'string' ? value.trim().toLowerCase() : value;

/** Surrounding whitespace is never meaningful in a name or a student number. */
export const Trim = (): PropertyDecorator => Transform(trimString);

/** Emails are compared case-insensitively and stored lower-case. */
export const NormalizeEmail = (): PropertyDecorator => Transform(normalizeEmail);
