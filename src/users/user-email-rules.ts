/**
 * Rules that follow from a new user's email address, shared by POST /users and the import
 * (pure functions: no database, no Nest).
 */

/** A student address: `21.01234-5@domain` gives the RA `21.01234-5`. */
const STUDENT_EMAIL = /^(\d{2}\.\d{5}-\d)@/;

/** Something the server accepted but wants the caller to look at (`warnings[]` in answers). */
export interface FieldWarning {
  field: string;
  /** Stable, snake_case. */
  code: string;
  message: string;
}

export const RA_DIFFERS_FROM_EMAIL = 'ra_differs_from_email';

/** The RA encoded in a student address, else null. */
export function raFromEmail(email: string): string | null {
  return STUDENT_EMAIL.exec(email)?.[1] ?? null;
}

/** True when no domain list is configured, or the address's domain is on it (exact match). */
export function isEmailDomainAllowed(email: string, allowedDomains: readonly string[]): boolean {
  if (allowedDomains.length === 0) return true;
  const domain = email.slice(email.lastIndexOf('@') + 1).toLowerCase();
  return allowedDomains.includes(domain);
}

/** `21.01234-5` and `21012345` are the same student number. */
function raDigits(ra: string): string {
  return ra.replace(/\D/g, '');
}

/**
 * The RA to store for a new user: the given one when there is one (even if it disagrees with
 * the address, which is then flagged), else the one in a student address, else null.
 */
export function resolveRa(
  email: string,
  given: string | null | undefined,
): { ra: string | null; warning?: FieldWarning } {
  const fromEmail = raFromEmail(email);
  if (given === undefined || given === null || given === '') return { ra: fromEmail };
  if (fromEmail !== null && raDigits(fromEmail) !== raDigits(given)) {
    return {
      ra: given,
      warning: {
        field: 'ra',
        code: RA_DIFFERS_FROM_EMAIL,
        message: `ra ${given} differs from the RA in the email (${fromEmail}); the given ra was kept.`,
      },
    };
  }
  return { ra: given };
}
