import { csvField } from './user-export.service';
import { detectDelimiter, detectFormat, UnsupportedFileError } from './user-import.readers';
import { ColumnMap, mapHeader, parseImportRow } from './user-import.rows';
import type { Actor } from './user-permissions';
import { ActiveStatus, Organization, Role } from './user.enums';

const adm: Actor = {
  id: 'a',
  role: Role.ADM,
  organization: null,
  active: ActiveStatus.ACTIVE,
};
const president: Actor = {
  id: 'p',
  role: Role.PRESIDENT,
  organization: Organization.NAWAT,
  active: ActiveStatus.ACTIVE,
};

function header(): ColumnMap {
  const result = mapHeader(['Name', ' EMAIL ', 'role', 'Organization', 'state', 'ra', 'x', 'year']);
  if ('missing' in result) throw new Error('unexpected');
  return result.map;
}

describe('import rows', () => {
  it('maps the header case-insensitively, ignores unknown columns, names missing ones', () => {
    expect(header()).toEqual({
      name: 0,
      email: 1,
      role: 2,
      organization: 3,
      state: 4,
      ra: 5,
      year: 7,
    });
    expect(mapHeader(['name', 'role', 'course'])).toEqual({
      missing: ['email', 'organization', 'state'],
    });
  });

  it('accepts a valid row, normalizing case and blanks', () => {
    const row = [' Ana Lima ', 'Ana@Example.COM', 'user', 'dev', '', '', 'ignored', '3.0'];
    expect(parseImportRow(row, header(), adm)).toEqual({
      ok: true,
      value: {
        name: 'Ana Lima',
        email: 'ana@example.com',
        role: Role.USER,
        organization: Organization.DEV,
        state: 'PENDING',
        ra: null,
        course: null,
        year: 3,
      },
    });
  });

  it('names every problem of a bad row', () => {
    const result = parseImportRow(
      ['A', 'nope', 'KING', 'ACME', 'DONE', '1', '', '6'],
      header(),
      adm,
    );
    expect(result).toEqual({
      ok: false,
      email: 'nope',
      reason: expect.stringMatching(
        /^name must.*; email is not valid; role must.*; organization must.*; state must.*; ra must.*; year must/,
      ),
    });
  });

  it('strips the apostrophe the CSV export puts before a formula-like value', () => {
    const result = parseImportRow(
      ["'=Ana", 'a@example.com', 'USER', '', 'APPROVED'],
      header(),
      adm,
    );
    expect(result).toMatchObject({ ok: true, value: { name: '=Ana' } });
  });

  it("gives a PRESIDENT's blank organization its own, and refuses other organizations and roles", () => {
    const map = header();
    expect(
      parseImportRow(['Ana Lima', 'a@example.com', 'USER', '', 'APPROVED'], map, president),
    ).toMatchObject({ ok: true, value: { organization: Organization.NAWAT } });
    expect(
      parseImportRow(['Ana Lima', 'a@example.com', 'USER', 'DEV', 'APPROVED'], map, president),
    ).toMatchObject({ ok: false, reason: expect.stringMatching(/^forbidden: /) });
    expect(
      parseImportRow(['Ana Lima', 'a@example.com', 'ADM', 'NAWAT', 'APPROVED'], map, president),
    ).toMatchObject({ ok: false, reason: 'forbidden: A PRESIDENT may create only USERs.' });
  });

  it('refuses a valid row whose email domain is not allowed, with the reason email_domain_not_allowed', () => {
    const rules = { allowedEmailDomains: ['maua.br'] };
    const row = (email: string) => ['Ana Lima', email, 'USER', 'DEV', 'APPROVED'];
    expect(parseImportRow(row('a@maua.br'), header(), adm, rules)).toMatchObject({ ok: true });
    expect(parseImportRow(row('a@gmail.com'), header(), adm, rules)).toEqual({
      ok: false,
      email: 'a@gmail.com',
      reason: 'email_domain_not_allowed',
    });
    // The row's own problems are named first.
    expect(parseImportRow(['A', 'a@gmail.com', 'USER', 'DEV', ''], header(), adm, rules)).toEqual({
      ok: false,
      email: 'a@gmail.com',
      reason: expect.stringMatching(/^name must/),
    });
    expect(parseImportRow(row('a@gmail.com'), header(), adm)).toMatchObject({ ok: true });
  });

  it('takes a blank ra from a student address; flags a given one that disagrees', () => {
    const row = (email: string, ra: string) => ['Ana Lima', email, 'USER', 'DEV', '', ra];
    expect(parseImportRow(row('21.01234-5@maua.br', ''), header(), adm)).toEqual({
      ok: true,
      value: expect.objectContaining({ ra: '21.01234-5' }),
    });
    expect(parseImportRow(row('21.01234-5@maua.br', '21012345'), header(), adm)).toEqual({
      ok: true,
      value: expect.objectContaining({ ra: '21012345' }),
    });
    expect(parseImportRow(row('21.01234-5@maua.br', '22.00001-1'), header(), adm)).toEqual({
      ok: true,
      value: expect.objectContaining({ ra: '22.00001-1' }),
      warning: {
        field: 'ra',
        code: 'ra_differs_from_email',
        message: expect.stringContaining('21.01234-5'),
      },
    });
  });
});

describe('file detection', () => {
  const zip = Buffer.from([0x50, 0x4b, 0x03, 0x04, 1, 2]);
  it('recognizes XLSX by magic bytes, CSV by name or type', () => {
    expect(detectFormat(zip, 'whatever.bin', 'application/octet-stream')).toBe('xlsx');
    expect(detectFormat(Buffer.from('a,b\n'), 'users.CSV', '')).toBe('csv');
    expect(detectFormat(Buffer.from('a,b\n'), 'upload', 'text/csv; charset=utf-8')).toBe('csv');
  });

  it('refuses binary data, legacy XLS and unknown types', () => {
    expect(() => detectFormat(Buffer.from([0x61, 0, 0x62]), 'users.csv', 'text/csv')).toThrow(
      UnsupportedFileError,
    );
    expect(() =>
      detectFormat(Buffer.from([0xd0, 0xcf, 0x11, 0xe0]), 'old.xls', 'application/vnd.ms-excel'),
    ).toThrow(/xls/);
    expect(() => detectFormat(Buffer.from('{}'), 'data.json', 'application/json')).toThrow(
      UnsupportedFileError,
    );
  });

  it('picks the delimiter of the header line', () => {
    expect(detectDelimiter(Buffer.from('name,email,role\n'))).toBe(',');
    expect(detectDelimiter(Buffer.from('\uFEFFname;email;role\r\na,b;c'))).toBe(';');
    expect(detectDelimiter(Buffer.from('name\temail\trole\n'))).toBe('\t');
    expect(detectDelimiter(Buffer.from('name\n'))).toBe(',');
  });
});

describe('CSV export fields', () => {
  it('quotes per RFC 4180 and neutralizes formula-like text', () => {
    expect(csvField(null)).toBe('');
    expect(csvField(3)).toBe('3');
    expect(csvField(-3)).toBe('-3');
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('=SUM(A1)')).toBe("'=SUM(A1)");
    expect(csvField('@cmd')).toBe("'@cmd");
    expect(csvField('+1,2')).toBe('"\'+1,2"');
  });
});
