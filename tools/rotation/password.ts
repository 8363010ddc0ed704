import { randomInt } from 'node:crypto';

const LOWER = 'abcdefghijkmnopqrstuvwxyz';
const UPPER = 'ABCDEFGHJKLMNPQRSTUVWXYZ';
const DIGITS = '23456789';
// No quotes, backslash, dollar, backtick or space: safe to paste into a shell or a form.
const SYMBOLS = '!#%+-.:=?@^_~';
const CLASSES = [LOWER, UPPER, DIGITS, SYMBOLS];
const ALPHABET = CLASSES.join('');

export const PASSWORD_LENGTH = 32;

/**
 * A random password from crypto.randomInt (uniform, no modulo bias), with at least one
 * character of each class so it passes any composition rule. 32 characters of a 70-symbol
 * alphabet: about 196 bits. Well under bcrypt's 72-byte limit.
 */
export function generatePassword(length = PASSWORD_LENGTH): string {
  if (length < CLASSES.length) throw new Error('password too short');
  for (;;) {
    let password = '';
    for (let i = 0; i < length; i++) password += ALPHABET[randomInt(ALPHABET.length)];
    if (CLASSES.every((cls) => [...password].some((ch) => cls.includes(ch)))) return password;
  }
}

export const PASSWORD_CLASSES = CLASSES;
