import { createHash } from 'node:crypto';
import { AppError } from '../errors/app-error';

/**
 * Opaque page cursors: base64url of a checksum and the sort key of the last row of a page, with
 * the list's name and a fingerprint of what decides its rows (the caller's visibility and the
 * filters). There is no secret: a cursor is refused when it is malformed, altered, or made for
 * another list or other filters; a forged but well-formed one can only move the start of a page
 * within rows the caller may see anyway, so strict decoding is enough.
 */

/** How a sort key part is written into a cursor and compared in SQL. */
export type SortKeyType = 'timestamptz' | 'uuid' | 'text';

export interface SortKey {
  /** A trusted SQL expression over the list's table: `created_at`, `lower(name)`. */
  expr: string;
  type: SortKeyType;
}

/** A list's order: every key in the same direction, the last one unique (the id). */
export interface ListOrder {
  /** Written into the list's cursors; a cursor from another list is refused. */
  list: string;
  keys: readonly SortKey[];
  direction: 'ASC' | 'DESC';
}

const VERSION = 1;
const CHECK_BYTES = 8;
/** Longer than any cursor this code writes (a 200-character name, JSON-escaped, is the most). */
export const MAX_CURSOR_LENGTH = 2048;
const MAX_TEXT_KEY_LENGTH = 1000;

const BASE64URL = /^[A-Za-z0-9_-]+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** A UTC instant at PostgreSQL's full precision (microseconds), as the page query writes it. */
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{6})Z$/;

function checksum(body: Buffer): Buffer {
  return createHash('sha256')
    .update('portal-api cursor\0')
    .update(body)
    .digest()
    .subarray(0, CHECK_BYTES);
}

/** JSON with sorted keys and no undefined members: equal contexts give equal text. */
function canonical(value: unknown): string {
  if (value === undefined || value === null) return 'null';
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** What ties a cursor to its list and to what decides the list's rows. */
export function fingerprint(list: string, context: unknown): string {
  return createHash('sha256')
    .update(canonical([list, context]))
    .digest()
    .subarray(0, 12)
    .toString('base64url');
}

export function encodeCursor(list: string, print: string, key: readonly string[]): string {
  const body = Buffer.from(JSON.stringify([VERSION, list, print, key]), 'utf8');
  return Buffer.concat([checksum(body), body]).toString('base64url');
}

function invalid(message: string): AppError {
  return AppError.badRequest(
    `${message} Start again from the first page (without a cursor).`,
    [{ field: 'cursor', message }],
    'invalid_cursor',
  );
}

function validInstant(value: string): boolean {
  const m = TIMESTAMP.exec(value);
  if (!m) return false;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number);
  if (y < 1) return false;
  const at = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  at.setUTCFullYear(y); // Date.UTC maps years 0..99 to 1900..1999
  return (
    at.getUTCFullYear() === y &&
    at.getUTCMonth() === mo - 1 &&
    at.getUTCDate() === d &&
    at.getUTCHours() === h &&
    at.getUTCMinutes() === mi &&
    at.getUTCSeconds() === s
  );
}

function validKeyPart(type: SortKeyType, value: unknown): value is string {
  if (typeof value !== 'string') return false;
  switch (type) {
    case 'uuid':
      return UUID.test(value);
    case 'timestamptz':
      return validInstant(value);
    case 'text':
      return (
        value.length <= MAX_TEXT_KEY_LENGTH &&
        !value.includes('\u0000') &&
        !LONE_SURROGATE.test(value)
      );
  }
}

/**
 * The sort key a cursor carries, after checking everything it can: its encoding and checksum,
 * that it belongs to this list and to these filters, and each key part's type. 400 problem
 * `invalid_cursor` naming the field `cursor` otherwise.
 */
export function decodeCursor(cursor: string, order: ListOrder, print: string): string[] {
  if (cursor.length > MAX_CURSOR_LENGTH || !BASE64URL.test(cursor)) {
    throw invalid('cursor is not a cursor of this API.');
  }
  const bytes = Buffer.from(cursor, 'base64url');
  // Only the canonical encoding is accepted (no stray bits in the last character).
  if (bytes.toString('base64url') !== cursor || bytes.length <= CHECK_BYTES) {
    throw invalid('cursor is not a cursor of this API.');
  }
  const body = bytes.subarray(CHECK_BYTES);
  if (!checksum(body).equals(bytes.subarray(0, CHECK_BYTES))) {
    throw invalid('cursor has been altered.');
  }
  let payload: unknown;
  try {
    payload = JSON.parse(body.toString('utf8'));
  } catch {
    throw invalid('cursor is not a cursor of this API.');
  }
  if (
    !Array.isArray(payload) ||
    payload.length !== 4 ||
    payload[0] !== VERSION ||
    typeof payload[1] !== 'string' ||
    typeof payload[2] !== 'string' ||
    !Array.isArray(payload[3])
  ) {
    throw invalid('cursor is not a cursor of this API.');
  }
  const [, list, givenPrint, key] = payload as [number, string, string, unknown[]];
  if (list !== order.list) throw invalid('cursor belongs to another list.');
  if (givenPrint !== print) {
    throw invalid('cursor was made for other filters (or for another caller).');
  }
  if (
    key.length !== order.keys.length ||
    !order.keys.every((k, i) => validKeyPart(k.type, key[i]))
  ) {
    throw invalid('cursor is not a cursor of this API.');
  }
  return key as string[];
}
