import { isEmail } from 'class-validator';

/** What POST /auth/microsoft needs from Graph's "me" answer. */
export interface MicrosoftProfile {
  /** Entra ID object id. */
  id: string;
  /** Lower-case: `mail`, or `userPrincipalName` when mail is null. */
  email: string;
  displayName: string | null;
}

const MAX_ID_LENGTH = 64; // users.microsoft_id
const MAX_EMAIL_LENGTH = 320; // users.email
const MAX_NAME_LENGTH = 200; // users.name

/** A student address: `21.01234-5@domain` gives the RA `21.01234-5`. */
const STUDENT_EMAIL = /^(\d{2}\.\d{5}-\d)@/;

/**
 * Reads Graph's JSON; null when it lacks a usable id or email (the caller answers 503:
 * Graph said 200 but sent something we cannot use).
 */
export function parseGraphProfile(body: unknown): MicrosoftProfile | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return null;
  const { id, mail, userPrincipalName, displayName } = body as Record<string, unknown>;
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH) return null;
  const address = typeof mail === 'string' && mail.length > 0 ? mail : userPrincipalName;
  if (typeof address !== 'string') return null;
  const email = address.trim().toLowerCase();
  if (email.length > MAX_EMAIL_LENGTH || !isEmail(email)) return null;
  return {
    id,
    email,
    displayName: typeof displayName === 'string' ? displayName : null,
  };
}

/** The RA encoded in a student address, else null. */
export function raFromEmail(email: string): string | null {
  return STUDENT_EMAIL.exec(email)?.[1] ?? null;
}

/** A name of 2..200 characters: the display name, else the address's local part, else the address. */
export function nameForProfile(profile: Pick<MicrosoftProfile, 'email' | 'displayName'>): string {
  const candidates = [
    profile.displayName?.trim() ?? '',
    profile.email.split('@')[0],
    profile.email,
  ];
  const name = candidates.find((c) => [...c].length >= 2) ?? profile.email;
  return [...name].slice(0, MAX_NAME_LENGTH).join('');
}

/** True when no domain list is configured, or the address's domain is on it (exact match). */
export function isEmailDomainAllowed(email: string, allowedDomains: readonly string[]): boolean {
  if (allowedDomains.length === 0) return true;
  const domain = email.slice(email.lastIndexOf('@') + 1).toLowerCase();
  return allowedDomains.includes(domain);
}
