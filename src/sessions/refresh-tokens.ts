import { createHash, randomBytes } from 'node:crypto';

/** 32 random bytes: 256 bits, as base64url (43 characters, no padding). */
export const REFRESH_TOKEN_BYTES = 32;
const REFRESH_TOKEN = /^[A-Za-z0-9_-]{43}$/;

/** A new opaque refresh token. */
export function newRefreshToken(): string {
  return randomBytes(REFRESH_TOKEN_BYTES).toString('base64url');
}

/**
 * What the database keeps of a refresh token: its SHA-256. A token of 256 random bits cannot
 * be guessed from its hash, so no salt or slow hash is needed, and the lookup stays one index
 * probe. Undefined for anything that is not shaped like one of our tokens (no lookup then).
 */
export function refreshTokenHash(token: unknown): Buffer | undefined {
  if (typeof token !== 'string' || !REFRESH_TOKEN.test(token)) return undefined;
  return createHash('sha256').update(token).digest();
}
