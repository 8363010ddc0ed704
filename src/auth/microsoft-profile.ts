import { isEmail } from 'class-validator';

/** Who a validated Entra ID token says signs in. The identity is (tid, oid), never the email. */
export interface MicrosoftIdentity {
  /** Entra ID tenant id (lower-case GUID), one of MICROSOFT_TENANT_IDS. */
  tid: string;
  /** The user's object id in that tenant (lower-case GUID). */
  oid: string;
  /** Lower-case: the `email` claim, else `preferred_username`; null when neither is an email. */
  email: string | null;
  /** The `name` claim. */
  displayName: string | null;
}

const MAX_EMAIL_LENGTH = 320; // users.email
const MAX_NAME_LENGTH = 200; // users.name

/** A student address: `21.01234-5@domain` gives the RA `21.01234-5`. */
const STUDENT_EMAIL = /^(\d{2}\.\d{5}-\d)@/;

/** The address an ID token offers as a default for a new account: `email`, else `preferred_username`. */
export function emailFromClaims(claims: Record<string, unknown>): string | null {
  for (const value of [claims.email, claims.preferred_username]) {
    if (typeof value !== 'string') continue;
    const email = value.trim().toLowerCase();
    if (email.length > 0 && email.length <= MAX_EMAIL_LENGTH && isEmail(email)) return email;
  }
  return null;
}

/** The RA encoded in a student address, else null. */
export function raFromEmail(email: string): string | null {
  return STUDENT_EMAIL.exec(email)?.[1] ?? null;
}

/** A name of 2..200 characters: the display name, else the address's local part, else the address. */
export function nameForProfile(profile: { email: string; displayName: string | null }): string {
  const candidates = [
    profile.displayName?.trim() ?? '',
    profile.email.split('@')[0],
    profile.email,
  ];
  const name = candidates.find((c) => [...c].length >= 2) ?? profile.email;
  return [...name].slice(0, MAX_NAME_LENGTH).join('');
}

function domainOf(email: string): string {
  return email.slice(email.lastIndexOf('@') + 1).toLowerCase();
}

/** True when no domain list is configured, or the address's domain is on it (exact match). */
export function isEmailDomainAllowed(email: string, allowedDomains: readonly string[]): boolean {
  return allowedDomains.length === 0 || allowedDomains.includes(domainOf(email));
}

/** True only when the address's domain is on the list (exact match): an empty list lists none. */
export function isEmailDomainListed(email: string, allowedDomains: readonly string[]): boolean {
  return allowedDomains.includes(domainOf(email));
}
