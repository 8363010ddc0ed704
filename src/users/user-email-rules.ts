import { isEmailDomainAllowed, raFromEmail } from '../auth/microsoft-profile';

/**
 * Rules that follow from a new user's email address, shared by POST /users and the import
 * (pure functions: no database, no Nest). The address rules themselves are the ones Microsoft
 * sign-in applies (src/auth/microsoft-profile.ts), so every way in agrees.
 */
export { isEmailDomainAllowed, raFromEmail };

/** Something the server accepted but wants the caller to look at (`warnings[]` in answers). */
export interface FieldWarning {
  field: string;
  /** Stable, snake_case. */
  code: string;
  message: string;
}

export const RA_DIFFERS_FROM_EMAIL = 'ra_differs_from_email';

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
