import type { FieldError } from '../common/errors/app-error';

export const PASSWORD_MIN_CHARS = 12;
/** bcrypt reads only the first 72 bytes; a longer password would be silently cut. */
export const PASSWORD_MAX_BYTES = 72;

/**
 * The rules a new password must meet (POST /auth/password): at least 12 characters, at most
 * 72 bytes (UTF-8), not the account's email (or the part before the @), and not the current
 * password. Returns one error per broken rule, for `errors[]` on field `new_password`.
 */
export function passwordPolicyErrors(
  password: string,
  context: { email: string; currentPassword?: string },
): FieldError[] {
  const field = 'new_password';
  const errors: FieldError[] = [];
  if ([...password].length < PASSWORD_MIN_CHARS) {
    errors.push({ field, message: `must be at least ${PASSWORD_MIN_CHARS} characters long` });
  }
  if (Buffer.byteLength(password, 'utf8') > PASSWORD_MAX_BYTES) {
    errors.push({ field, message: `must be at most ${PASSWORD_MAX_BYTES} bytes (UTF-8)` });
  }
  const lower = password.trim().toLowerCase();
  const email = context.email.toLowerCase();
  if (lower === email || lower === email.split('@')[0]) {
    errors.push({ field, message: 'must not be your email address' });
  }
  if (context.currentPassword !== undefined && password === context.currentPassword) {
    errors.push({ field, message: 'must differ from the current password' });
  }
  return errors;
}
