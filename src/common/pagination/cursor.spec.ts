import { AppError } from '../errors/app-error';
import { decodeCursor, encodeCursor, fingerprint, ListOrder } from './cursor';

const ORDER: ListOrder = {
  list: 'things',
  keys: [
    { expr: 'created_at', type: 'timestamptz' },
    { expr: 'id', type: 'uuid' },
  ],
  direction: 'DESC',
};
const NAMES: ListOrder = {
  list: 'names',
  keys: [
    { expr: 'lower(name)', type: 'text' },
    { expr: 'id', type: 'uuid' },
  ],
  direction: 'ASC',
};
const ID = '0f8fad5b-d9cb-469f-a165-70867728950e';
const AT = '2030-01-01T10:00:00.123456Z';

function refusal(fn: () => unknown): { code: string; field?: string; message?: string } {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    const e = err as AppError;
    expect(e.status).toBe(400);
    return { code: e.code, field: e.errors?.[0]?.field, message: e.errors?.[0]?.message };
  }
  throw new Error('not refused');
}

describe('cursor', () => {
  const print = fingerprint('things', { role: 'USER', org: 'DEV' });

  it('round-trips the key, as url-safe text', () => {
    const cursor = encodeCursor('things', print, [AT, ID]);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor, ORDER, print)).toEqual([AT, ID]);
  });

  it('round-trips any name (accents, quotes, emoji, up to the column length)', () => {
    const p = fingerprint('names', {});
    for (const name of ['élida d\'ávila "x" \\ 🎉', 'a'.repeat(200), '']) {
      expect(decodeCursor(encodeCursor('names', p, [name, ID]), NAMES, p)).toEqual([name, ID]);
    }
  });

  it('fingerprints ignore key order and undefined members, not values', () => {
    expect(fingerprint('l', { a: 1, b: undefined, c: 'x' })).toBe(
      fingerprint('l', { c: 'x', a: 1 }),
    );
    expect(fingerprint('l', { a: 1 })).not.toBe(fingerprint('l', { a: 2 }));
    expect(fingerprint('l', { a: 1 })).not.toBe(fingerprint('m', { a: 1 }));
    expect(fingerprint('l', { at: new Date(0) })).not.toBe(fingerprint('l', { at: new Date(1) }));
    expect(fingerprint('l', { a: null })).not.toBe(fingerprint('l', { a: 'null' }));
  });

  it('refuses another list, other filters, an altered or malformed cursor; always naming cursor', () => {
    const good = encodeCursor('things', print, [AT, ID]);
    const cases: Array<[string, string, RegExp]> = [
      [encodeCursor('names', print, [AT, ID]), 'things', /another list/],
      [
        encodeCursor('things', fingerprint('things', { role: 'ADM' }), [AT, ID]),
        'x',
        /other filters/,
      ],
      [
        `${good.slice(0, 5)}${good[5] === 'a' ? 'b' : 'a'}${good.slice(6)}`,
        'x',
        /altered|not a cursor/,
      ],
      [good.slice(0, -2), 'x', /altered|not a cursor/],
      ['', 'x', /not a cursor/],
      ['abc', 'x', /not a cursor/],
      ['a+b/c=', 'x', /not a cursor/],
      [Buffer.from('[1,"things","x",[]]').toString('base64url'), 'x', /altered|not a cursor/],
      ['A'.repeat(3000), 'x', /not a cursor/],
    ];
    for (const [cursor, , message] of cases) {
      const r = refusal(() => decodeCursor(cursor, ORDER, print));
      expect(r).toEqual({
        code: 'invalid_cursor',
        field: 'cursor',
        message: expect.stringMatching(message),
      });
    }
  });

  it('refuses a non-canonical encoding of a good cursor (stray bits in the last character)', () => {
    const good = encodeCursor('things', print, [AT, ID]);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = good[good.length - 1];
    const twins = [...alphabet].filter(
      (c) =>
        c !== last &&
        Buffer.from(good.slice(0, -1) + c, 'base64url').equals(Buffer.from(good, 'base64url')),
    );
    for (const twin of twins) {
      expect(refusal(() => decodeCursor(good.slice(0, -1) + twin, ORDER, print)).code).toBe(
        'invalid_cursor',
      );
    }
  });

  it.each([
    ['a timestamp in milliseconds', ['2030-01-01T10:00:00.123Z', ID]],
    ['a timestamp with an offset', ['2030-01-01T10:00:00.123456+00:00', ID]],
    ['an impossible date', ['2030-02-30T10:00:00.000000Z', ID]],
    ['an impossible hour', ['2030-01-01T24:00:00.000000Z', ID]],
    ['year zero', ['0000-01-01T00:00:00.000000Z', ID]],
    ['an upper-case uuid', [AT, ID.toUpperCase()]],
    ['a non-uuid', [AT, 'not-a-uuid']],
    ['a number', [AT, 7]],
    ['a key too short', [AT]],
    ['a key too long', [AT, ID, ID]],
  ])('refuses a well-formed cursor carrying %s', (_label, key) => {
    const cursor = encodeCursor('things', print, key as string[]);
    expect(refusal(() => decodeCursor(cursor, ORDER, print)).code).toBe('invalid_cursor');
  });

  it.each([
    ['a NUL', 'a\u0000b'],
    ['a lone surrogate', 'a\uD800b'],
    ['an over-long text', 'x'.repeat(1001)],
  ])('refuses a text key with %s', (_label, name) => {
    const p = fingerprint('names', {});
    const cursor = encodeCursor('names', p, [name, ID]);
    expect(refusal(() => decodeCursor(cursor, NAMES, p)).code).toBe('invalid_cursor');
  });

  it('accepts leap days and the last microsecond of a year', () => {
    for (const at of ['2028-02-29T00:00:00.000000Z', '2030-12-31T23:59:59.999999Z']) {
      expect(decodeCursor(encodeCursor('things', print, [at, ID]), ORDER, print)).toEqual([at, ID]);
    }
  });
});
