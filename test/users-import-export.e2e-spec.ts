import { parse as parseCsv } from 'csv-parse/sync';
import * as ExcelJS from 'exceljs';
import { randomUUID } from 'node:crypto';
import { PassThrough } from 'node:stream';
import request from 'supertest';
import { AuditLogEntry } from '../src/audit/entities/audit-log.entity';
import { AppError } from '../src/common/errors/app-error';
import { User } from '../src/users/entities/user.entity';
import { EXPORT_PAGE_SIZE } from '../src/users/user-export.service';
import { UserImportService } from '../src/users/user-import.service';
import { Organization, Role } from '../src/users/user.enums';
import { truncateAll } from './utils/db';
import { expectProblem } from './utils/problem';
import { bearer, createUser, UserOverrides } from './utils/factories';
import { createTestApp, TestApp } from './utils/test-app';

const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const EXPORT_HEADER = [
  'id',
  'name',
  'email',
  'ra',
  'role',
  'organization',
  'course',
  'year',
  'state',
  'active',
  'last_login_at',
  'created_at',
];

/** Collects a binary answer (supertest only buffers text and JSON by itself). */
function binary(res: request.Response, done: (err: Error | null, body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  res.on('data', (chunk: Buffer) => chunks.push(chunk));
  res.on('end', () => done(null, Buffer.concat(chunks)));
}

async function xlsxFile(rows: Array<Array<string | number | null>>): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  const sheet = workbook.addWorksheet('people');
  for (const row of rows) sheet.addRow(row);
  workbook.addWorksheet('ignored').addRow(['name', 'email']);
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

/** The import answer: every list and total, so a test states only what it is about. */
function answer(partial: {
  created?: number;
  created_emails?: string[];
  skipped?: unknown[];
  skipped_total?: number;
  warnings?: unknown[];
  warnings_total?: number;
}) {
  return {
    created: 0,
    created_emails: [],
    skipped: [],
    warnings: [],
    ...partial,
    skipped_total: partial.skipped_total ?? partial.skipped?.length ?? 0,
    warnings_total: partial.warnings_total ?? partial.warnings?.length ?? 0,
  };
}

function csvRows(buffer: Buffer): string[][] {
  return parseCsv(buffer.toString('utf8'), { relax_column_count: false });
}

/** Every worksheet of an exported workbook, opened with exceljs: its name and its rows. */
async function readWorkbook(buffer: Buffer): Promise<Array<{ name: string; rows: string[][] }>> {
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.load(buffer as unknown as ArrayBuffer);
  return workbook.worksheets.map((sheet) => ({ name: sheet.name, rows: sheetRows(sheet) }));
}

function sheetRows(sheet: ExcelJS.Worksheet): string[][] {
  const rows: string[][] = [];
  sheet.eachRow((row) => {
    const values = row.values as unknown[];
    rows.push(
      EXPORT_HEADER.map((_c, i) => {
        const v = values[i + 1];
        if (v === undefined || v === null) return '';
        return typeof v === 'string' || typeof v === 'number' ? String(v) : JSON.stringify(v);
      }),
    );
  });
  return rows;
}

describe('users import and export', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  beforeEach(async () => {
    await truncateAll(t.dataSource);
  });
  afterAll(async () => {
    await t.close();
  });

  const make = (overrides: UserOverrides = {}) => createUser(t.dataSource, overrides);
  const adm = () => make({ role: Role.ADM, organization: null, name: 'Admin' });
  const president = (organization = Organization.DEV) =>
    make({ role: Role.PRESIDENT, organization, name: `President ${organization}` });

  const upload = async (
    user: User,
    content: Buffer | string,
    filename = 'users.csv',
    contentType = 'text/csv',
  ) =>
    request(t.server)
      .post('/users/import')
      .set('authorization', await bearer(t, user))
      .attach('file', Buffer.isBuffer(content) ? content : Buffer.from(content), {
        filename,
        contentType,
      });

  const exportAs = async (user: User, format?: string, organization?: string) => {
    const query = new URLSearchParams();
    if (format !== undefined) query.set('format', format);
    if (organization !== undefined) query.set('organization', organization);
    const req = request(t.server)
      .get(`/users/export${query.size > 0 ? `?${query.toString()}` : ''}`)
      .set('authorization', await bearer(t, user));
    return req.buffer(true).parse(binary);
  };

  const stored = (email: string) =>
    t.dataSource.getRepository(User).findOne({
      where: { email },
      select: {
        id: true,
        name: true,
        email: true,
        role: true,
        organization: true,
        state: true,
        active: true,
        ra: true,
        course: true,
        year: true,
        passwordHash: true,
      },
    });

  describe('POST /users/import', () => {
    it('imports a CSV: valid rows created without password, others skipped with row and reason', async () => {
      const caller = await adm();
      await make({ email: 'already@example.com' });
      const csv = [
        'Name,EMAIL,Role,Organization,State,RA,Course,Year,notes', // 1: header, any case, extra column
        'Ana Lima,Ana@Example.com,USER,DEV,APPROVED,21.01234-5,CIC,2,hello', // 2
        '"Souza, Bia",bia@example.com,user,nawat,pending,,,,', // 3: quoted comma, lower-case enums
        '', // 4: blank line
        'X,bad-email,KING,DEV,APPROVED,,,9,', // 5: several problems
        'Carlos Dias,ana@example.com,USER,DEV,APPROVED,,,,', // 6: duplicate within the file
        'Dora Maia,ALREADY@example.com,USER,DEV,APPROVED,,,,', // 7: already registered
        'Eva Rocha,eva@example.com,PRESIDENT,ESPORTS,,,ECM,0,', // 8: blank state -> PENDING
        'Fabio Reis,fabio@example.com,USER,ACME,APPROVED,123,XYZ,,', // 9
        'Gil Nunes,,USER,DEV,APPROVED,,,,', // 10: no email
        '"Hugo\nMulti Line",hugo@example.com,ADM,,APPROVED,,,,', // 11-12: quoted newline
        "'=Ivo Formula,ivo@example.com,USER,DEV,APPROVED,,,,", // 13: neutralized formula
      ].join('\r\n');
      const res = await upload(caller, csv);
      expect(res.status).toBe(200);
      expect(res.body).toEqual(
        answer({
          created: 5,
          created_emails: [
            'ana@example.com',
            'bia@example.com',
            'eva@example.com',
            'hugo@example.com',
            'ivo@example.com',
          ],
          skipped: [
            {
              row: 5,
              email: 'bad-email',
              reason: expect.stringMatching(/name must be.*email is not valid.*role must be.*year/),
            },
            {
              row: 6,
              email: 'ana@example.com',
              reason: 'duplicate email in the file (first on row 2)',
            },
            { row: 7, email: 'already@example.com', reason: 'email already registered' },
            {
              row: 9,
              email: 'fabio@example.com',
              reason: expect.stringMatching(/organization must be.*ra must.*course/),
            },
            { row: 10, email: null, reason: 'email is missing' },
          ],
        }),
      );

      expect(await stored('ana@example.com')).toMatchObject({
        name: 'Ana Lima',
        role: 'USER',
        organization: 'DEV',
        state: 'APPROVED',
        active: 'ACTIVE',
        ra: '21.01234-5',
        course: 'CIC',
        year: 2,
        passwordHash: null,
      });
      expect(await stored('bia@example.com')).toMatchObject({
        name: 'Souza, Bia',
        organization: 'NAWAT',
        state: 'PENDING',
        ra: null,
        year: null,
      });
      expect(await stored('eva@example.com')).toMatchObject({
        role: 'PRESIDENT',
        state: 'PENDING',
        year: 0,
      });
      expect(await stored('hugo@example.com')).toMatchObject({
        name: 'Hugo\nMulti Line',
        role: 'ADM',
        organization: null,
      });
      expect((await stored('ivo@example.com'))!.name).toBe('=Ivo Formula');

      const audit = await t.dataSource
        .getRepository(AuditLogEntry)
        .find({ where: { action: 'user.import' } });
      expect(audit).toHaveLength(1);
      expect(audit[0]).toMatchObject({ actorId: caller.id, targetType: 'user', targetId: null });
      expect(audit[0].after).toMatchObject({ file: 'users.csv', created: 5 });
      expect((audit[0].after as { users: unknown[] }).users).toHaveLength(5);
    });

    it('imports the same file twice: the second time everything is already registered', async () => {
      const caller = await adm();
      const csv =
        'name,email,role,organization,state\nAna Lima,ana@example.com,USER,DEV,APPROVED\n';
      expect((await upload(caller, csv)).body).toEqual(
        answer({ created: 1, created_emails: ['ana@example.com'] }),
      );
      expect((await upload(caller, csv)).body).toEqual(
        answer({
          skipped: [{ row: 2, email: 'ana@example.com', reason: 'email already registered' }],
        }),
      );
    });

    it('reads semicolon-separated CSV with a BOM (Excel in many locales)', async () => {
      const caller = await adm();
      const csv =
        '\uFEFFname;email;role;organization;state\r\nJoão Silva;joao@example.com;USER;GUARDIAN;APPROVED\r\n';
      const res = await upload(caller, csv, 'export.csv', 'application/vnd.ms-excel');
      expect(res.body).toEqual(answer({ created: 1, created_emails: ['joao@example.com'] }));
      expect(await stored('joao@example.com')).toMatchObject({
        name: 'João Silva',
        organization: 'GUARDIAN',
      });
    });

    it('reports a malformed CSV line and goes on', async () => {
      const caller = await adm();
      const csv = [
        'name,email,role,organization,state',
        'Ana Lima,ana@example.com,USER,DEV,APPROVED',
        '"Broken"x,b@example.com,USER,DEV,APPROVED',
      ].join('\n');
      const res = await upload(caller, csv);
      expect(res.status).toBe(200);
      expect(res.body.created).toBe(1);
      expect(res.body.skipped).toEqual([
        { row: 3, email: null, reason: expect.stringMatching(/^malformed CSV/) },
      ]);
    });

    it('imports an XLSX (first worksheet), with row numbers of the sheet', async () => {
      const caller = await adm();
      const file = await xlsxFile([
        ['NAME', 'Email', 'role', 'organization', 'state', 'ra', 'course', 'year'],
        ['Ana Lima', 'ana@example.com', 'USER', 'DEV', 'APPROVED', '21012345', 'CIC', 3],
        ['Bia Souza', 'bia@example.com', 'USER', 'METAVERSO', 'REJECTED', null, null, null],
        ['Bad Year', 'bad@example.com', 'USER', 'DEV', 'APPROVED', null, null, 7],
        ['Ana Again', 'ANA@example.com', 'USER', 'DEV', 'APPROVED', null, null, null],
      ]);
      const res = await upload(caller, file, 'people.xlsx', XLSX_TYPE);
      expect(res.status).toBe(200);
      expect(res.body).toEqual(
        answer({
          created: 2,
          created_emails: ['ana@example.com', 'bia@example.com'],
          skipped: [
            {
              row: 4,
              email: 'bad@example.com',
              reason: 'year must be a whole number from 0 to 5',
            },
            {
              row: 5,
              email: 'ana@example.com',
              reason: 'duplicate email in the file (first on row 2)',
            },
          ],
        }),
      );
      expect(await stored('ana@example.com')).toMatchObject({
        ra: '21012345',
        course: 'CIC',
        year: 3,
        passwordHash: null,
      });
      expect(await stored('bia@example.com')).toMatchObject({
        organization: 'METAVERSO',
        state: 'REJECTED',
      });
    });

    it('detects XLSX by its content even under a generic type and name', async () => {
      const caller = await adm();
      const file = await xlsxFile([
        ['name', 'email', 'role', 'organization', 'state'],
        ['Ana Lima', 'ana@example.com', 'USER', 'DEV', 'APPROVED'],
      ]);
      const res = await upload(caller, file, 'upload', 'application/octet-stream');
      expect(res.body).toEqual(answer({ created: 1, created_emails: ['ana@example.com'] }));
    });

    it('a PRESIDENT imports USERs of its own organization only', async () => {
      const caller = await president(Organization.NAWAT);
      const csv = [
        'name,email,role,organization,state',
        'Own Org,own@example.com,USER,NAWAT,APPROVED',
        'Blank Org,blank@example.com,USER,,APPROVED',
        'Other Org,other@example.com,USER,DEV,APPROVED',
        'Promoted,boss@example.com,PRESIDENT,NAWAT,APPROVED',
        'Admin,adm@example.com,ADM,NAWAT,APPROVED',
      ].join('\n');
      const res = await upload(caller, csv);
      expect(res.status).toBe(200);
      expect(res.body).toEqual(
        answer({
          created: 2,
          created_emails: ['own@example.com', 'blank@example.com'],
          skipped: [
            {
              row: 4,
              email: 'other@example.com',
              reason: 'forbidden: A PRESIDENT may create only USERs of its own organization.',
            },
            {
              row: 5,
              email: 'boss@example.com',
              reason: 'forbidden: A PRESIDENT may create only USERs.',
            },
            {
              row: 6,
              email: 'adm@example.com',
              reason: 'forbidden: A PRESIDENT may create only USERs.',
            },
          ],
        }),
      );
      expect((await stored('blank@example.com'))!.organization).toBe('NAWAT');
      expect(await stored('other@example.com')).toBeNull();
    });

    it('403 for a USER', async () => {
      const user = await make();
      const res = await upload(user, 'name,email,role,organization,state\n');
      expectProblem(res, 403, 'role_required');
    });

    it('400 for a file that is neither CSV nor XLSX', async () => {
      const caller = await adm();
      const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
      expectProblem(
        await upload(caller, png, 'photo.png', 'image/png'),
        400,
        'import_unsupported_file',
      );
      expectProblem(
        await upload(caller, png, 'photo.csv', 'text/csv'),
        400,
        'import_unsupported_file',
      );
      const xls = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, 0, 0]);
      const legacy = await upload(caller, xls, 'old.xls', 'application/vnd.ms-excel');
      expectProblem(legacy, 400, 'import_unsupported_file');
      expect(legacy.body.detail).toMatch(/\.xls/);
    });

    it('400 for an empty file, a file with only blank lines, and a damaged XLSX', async () => {
      const caller = await adm();
      expectProblem(await upload(caller, ''), 400, 'import_empty_file');
      expectProblem(await upload(caller, '\n\n\r\n'), 400, 'import_empty_file');
      const damaged = Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(200, 7)]);
      expectProblem(
        await upload(caller, damaged, 'users.xlsx', XLSX_TYPE),
        400,
        'import_unreadable_file',
      );
    });

    it('a header-only file creates nobody', async () => {
      const caller = await adm();
      const res = await upload(caller, 'name,email,role,organization,state\n');
      expect(res.body).toEqual(answer({}));
    });

    it('400 naming the required columns that are missing', async () => {
      const caller = await adm();
      const res = await upload(caller, 'name,e-mail,role\nAna,ana@example.com,USER\n');
      expectProblem(res, 400, 'import_missing_columns');
      expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual([
        'email',
        'organization',
        'state',
      ]);
      expect(await t.dataSource.getRepository(User).count()).toBe(1);
    });

    it('400 when the request is not multipart or holds no file', async () => {
      const caller = await adm();
      const auth = await bearer(t, caller);
      const json = await request(t.server)
        .post('/users/import')
        .set('authorization', auth)
        .send({ file: 'name,email' });
      expectProblem(json, 400, 'multipart_required');
      const noFile = await request(t.server)
        .post('/users/import')
        .set('authorization', auth)
        .field('note', 'no file here');
      expectProblem(noFile, 400, 'import_file_required');
    });

    it('400 for a broken multipart envelope (found by the reliability fuzzer)', async () => {
      const caller = await adm();
      const auth = await bearer(t, caller);
      const noBoundary = await request(t.server)
        .post('/users/import')
        .set('authorization', auth)
        .set('content-type', 'multipart/form-data; boundary=')
        .send('[]');
      expectProblem(noBoundary, 400, 'multipart_malformed');
      const cutShort = await request(t.server)
        .post('/users/import')
        .set('authorization', auth)
        .set('content-type', 'multipart/form-data; boundary=XyZ')
        .send(
          '--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\nname,em',
        );
      expect(cutShort.status).toBe(400);
      expect(cutShort.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(await t.dataSource.getRepository(User).count()).toBe(1);
    });

    it('inserts across several batches and reports duplicates of earlier batches', async () => {
      const caller = await adm();
      const lines = ['name,email,role,organization,state'];
      for (let i = 0; i < 4500; i++) lines.push(`User ${i},u${i}@example.com,USER,DEV,APPROVED`);
      lines.push('Late Dup,u10@example.com,USER,DEV,APPROVED');
      const res = await upload(caller, lines.join('\n'));
      expect(res.status).toBe(200);
      expect(res.body.created).toBe(4500);
      expect(res.body.skipped).toEqual([
        {
          row: 4502,
          email: 'u10@example.com',
          reason: 'duplicate email in the file (first on row 12)',
        },
      ]);
      expect(await t.dataSource.getRepository(User).count()).toBe(4501);
      const batches = await t.dataSource
        .getRepository(AuditLogEntry)
        .count({ where: { action: 'user.import' } });
      expect(batches).toBe(3);
    });
    it('stops at the upload size limit with a 413 that says what was already created', async () => {
      const caller = await adm();
      const file = new PassThrough();
      const importing = t.app.get(UserImportService).import(
        {
          id: caller.id,
          email: caller.email,
          role: Role.ADM,
          organization: null,
          state: caller.state,
          active: caller.active,
          sessionId: randomUUID(),
          tokenVersion: caller.tokenVersion,
        },
        { stream: file, filename: 'big.csv', mimetype: 'text/csv' },
      );
      file.write('name,email,role,organization,state\n');
      for (let i = 0; i < 2500; i++)
        file.write(`User ${i},big${i}@example.com,USER,DEV,APPROVED\n`);
      // Once the first batch is in, do what busboy does at the multipart fileSize limit.
      const users = t.dataSource.getRepository(User);
      for (let i = 0; i < 200 && (await users.count()) < 2001; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      file.emit('limit');
      file.end();

      const err = await importing.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(AppError);
      expect(err).toMatchObject({ status: 413, code: 'import_file_too_large' });
      expect((err as AppError).detail).toMatch(/2000 user\(s\) from earlier rows were created/);
      expect(await t.dataSource.getRepository(User).count()).toBe(2001);
    });
  });

  describe('GET /users/export', () => {
    async function seedForExport(): Promise<User> {
      const caller = await adm();
      await make({
        name: 'bob "the builder", jr',
        email: 'bob@example.com',
        ra: '21.01234-5',
        year: 2,
        organization: Organization.NAWAT,
      });
      await make({ name: '=HYPERLINK("x")', email: 'formula@example.com' });
      await make({ name: 'alice', email: 'alice@example.com' });
      await t.dataSource.query(
        `UPDATE users SET last_login_at = '2025-01-02T03:04:05Z' WHERE email = 'alice@example.com'`,
      );
      return caller;
    }

    async function namesInOrder(): Promise<string[]> {
      const rows: Array<{ name: string }> = await t.dataSource.query(
        'SELECT name FROM users ORDER BY lower(name), id',
      );
      expect(rows).toHaveLength(4);
      return rows.map((r) => r.name);
    }

    it('streams a CSV of every user sorted by name, without password hashes', async () => {
      const caller = await seedForExport();
      const res = await exportAs(caller, 'csv');
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
      expect(res.headers['content-disposition']).toMatch(
        /^attachment; filename="users-\d{8}T\d{6}Z\.csv"$/,
      );
      expect(res.headers['cache-control']).toBe('no-store');
      const text = (res.body as Buffer).toString('utf8');
      expect(text).not.toMatch(/\$2b\$|password/);
      const rows: string[][] = parseCsv(text, { relax_column_count: false });
      expect(rows[0]).toEqual(EXPORT_HEADER);
      // The database's collation decides where "=" sorts; the export follows the database.
      expect(rows.slice(1).map((r) => r[1].replace(/^'=/, '='))).toEqual(await namesInOrder());
      expect(rows.find((r) => r[2] === 'formula@example.com')![1]).toBe('\'=HYPERLINK("x")');
      const alice = rows.find((r) => r[2] === 'alice@example.com')!;
      expect(alice[10]).toBe('2025-01-02T03:04:05.000Z');
      const bob = rows.find((r) => r[2] === 'bob@example.com')!;
      expect(bob).toEqual([
        expect.stringMatching(/^[0-9a-f-]{36}$/),
        'bob "the builder", jr',
        'bob@example.com',
        '21.01234-5',
        'USER',
        'NAWAT',
        '',
        '2',
        'APPROVED',
        'ACTIVE',
        '',
        expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      ]);
    });

    it('defaults to CSV', async () => {
      const caller = await adm();
      const res = await exportAs(caller);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/csv/);
    });

    it('streams an XLSX with one worksheet per organization, named after it, users without one last', async () => {
      const caller = await seedForExport();
      const res = await exportAs(caller, 'xlsx');
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe(XLSX_TYPE);
      expect(res.headers['content-disposition']).toMatch(/filename="users-\d{8}T\d{6}Z\.xlsx"$/);
      const sheets = await readWorkbook(res.body as Buffer);
      expect(sheets.map((s) => s.name)).toEqual(['DEV', 'NAWAT', 'No organization']);
      for (const sheet of sheets) expect(sheet.rows[0]).toEqual(EXPORT_HEADER);
      const emails = (name: string) =>
        sheets
          .find((s) => s.name === name)!
          .rows.slice(1)
          .map((r) => r[2]);
      const devInOrder: Array<{ email: string }> = await t.dataSource.query(
        `SELECT email FROM users WHERE organization = 'DEV' ORDER BY lower(name), id`,
      );
      expect(emails('DEV')).toEqual(devInOrder.map((r) => r.email));
      expect(emails('DEV').sort()).toEqual(['alice@example.com', 'formula@example.com']);
      expect(emails('NAWAT')).toEqual(['bob@example.com']);
      expect(emails('No organization')).toEqual([caller.email]);

      const rows = sheets.flatMap((s) => s.rows.slice(1));
      // A string cell in XLSX, never a formula: no apostrophe needed.
      expect(rows.find((r) => r[2] === 'formula@example.com')![1]).toBe('=HYPERLINK("x")');
      const bob = rows.find((r) => r[2] === 'bob@example.com')!;
      expect(bob.slice(3, 10)).toEqual([
        '21.01234-5',
        'USER',
        'NAWAT',
        '',
        '2',
        'APPROVED',
        'ACTIVE',
      ]);
      expect((res.body as Buffer).toString('latin1')).not.toMatch(/\$2b\$/);
    });

    it('pages through more users than one page per worksheet, with equal names, losing none', async () => {
      const caller = await adm();
      const total = EXPORT_PAGE_SIZE * 3 + 37;
      await t.dataSource.query(
        `INSERT INTO users (name, email, role, state, organization)
         SELECT 'Same ' || (i % 3), 'bulk' || i || '@example.com', 'USER', 'APPROVED',
                (ARRAY['DEV', 'GUARDIAN', NULL])[1 + i % 3]::user_organization
         FROM generate_series(1, $1) AS i`,
        [total],
      );
      const sortedByNameThenId = (rows: string[][]) => {
        const keys = rows.map((r) => [r[1].toLowerCase(), r[0]]);
        const sorted = [...keys].sort((a, b) =>
          a[0] === b[0] ? (a[1] < b[1] ? -1 : 1) : a[0] < b[0] ? -1 : 1,
        );
        expect(keys).toEqual(sorted);
      };

      const csv = csvRows((await exportAs(caller, 'csv')).body as Buffer).slice(1);
      expect(csv).toHaveLength(total + 1);
      expect(new Set(csv.map((r) => r[0])).size).toBe(total + 1);
      sortedByNameThenId(csv);

      const sheets = await readWorkbook((await exportAs(caller, 'xlsx')).body as Buffer);
      expect(sheets.map((s) => s.name)).toEqual(['DEV', 'GUARDIAN', 'No organization']);
      const all = sheets.flatMap((s) => s.rows.slice(1));
      expect(all).toHaveLength(total + 1);
      expect(new Set(all.map((r) => r[0]))).toEqual(new Set(csv.map((r) => r[0])));
      for (const sheet of sheets) {
        const data = sheet.rows.slice(1);
        expect(data.length).toBeGreaterThan(EXPORT_PAGE_SIZE);
        const org = sheet.name === 'No organization' ? '' : sheet.name;
        expect(data.every((r) => r[5] === org)).toBe(true);
        sortedByNameThenId(data);
      }
    });

    it('?organization= limits the export to one organization (CSV, and one XLSX worksheet)', async () => {
      const caller = await seedForExport();
      const csv = await exportAs(caller, 'csv', 'DEV');
      expect(csv.status).toBe(200);
      expect(csv.headers['content-disposition']).toMatch(/filename="users-DEV-\d{8}T\d{6}Z\.csv"$/);
      const rows = csvRows(csv.body as Buffer);
      expect(rows[0]).toEqual(EXPORT_HEADER);
      expect(
        rows
          .slice(1)
          .map((r) => r[2])
          .sort(),
      ).toEqual(['alice@example.com', 'formula@example.com']);

      const xlsx = await readWorkbook((await exportAs(caller, 'xlsx', 'NAWAT')).body as Buffer);
      expect(xlsx.map((s) => s.name)).toEqual(['NAWAT']);
      expect(xlsx[0].rows.slice(1).map((r) => r[2])).toEqual(['bob@example.com']);

      // An organization without users: the header alone, in a worksheet of its name.
      const empty = await readWorkbook((await exportAs(caller, 'xlsx', 'ESPORTS')).body as Buffer);
      expect(empty).toEqual([{ name: 'ESPORTS', rows: [EXPORT_HEADER] }]);
      expect(csvRows((await exportAs(caller, 'csv', 'ESPORTS')).body as Buffer)).toEqual([
        EXPORT_HEADER,
      ]);
    });

    it("a PRESIDENT exports its own organization's users, asked or not, and no other's", async () => {
      await seedForExport();
      const p = await president(Organization.NAWAT);
      for (const organization of [undefined, 'NAWAT']) {
        const res = await exportAs(p, 'xlsx', organization);
        expect(res.status).toBe(200);
        expect(res.headers['content-disposition']).toMatch(/filename="users-NAWAT-/);
        const sheets = await readWorkbook(res.body as Buffer);
        expect(sheets.map((s) => s.name)).toEqual(['NAWAT']);
        expect(
          sheets[0].rows
            .slice(1)
            .map((r) => r[2])
            .sort(),
        ).toEqual(['bob@example.com', p.email].sort());
      }
      const csv = await exportAs(p, 'csv');
      expect(csvRows(csv.body as Buffer)).toHaveLength(3);

      const other = await request(t.server)
        .get('/users/export?format=xlsx&organization=DEV')
        .set('authorization', await bearer(t, p));
      expectProblem(other, 403, 'outside_organization');
      const orphan = await make({ role: Role.PRESIDENT, organization: null });
      const none = await request(t.server)
        .get('/users/export')
        .set('authorization', await bearer(t, orphan));
      expectProblem(none, 403, 'outside_organization');
    });

    it('round-trips: importing an export skips every row as already registered', async () => {
      const caller = await seedForExport();
      const exported = await exportAs(caller, 'csv');
      const res = await upload(caller, exported.body as Buffer, 'users.csv');
      expect(res.status).toBe(200);
      expect(res.body.created).toBe(0);
      expect(res.body.skipped).toHaveLength(4);
      expect(
        res.body.skipped.every((s: { reason: string }) => s.reason === 'email already registered'),
      ).toBe(true);
    });

    it('400 for an unknown format or organization, naming the field', async () => {
      const caller = await adm();
      const res = await request(t.server)
        .get('/users/export?format=pdf')
        .set('authorization', await bearer(t, caller));
      expectProblem(res, 400, 'validation_failed');
      expect(res.body.errors).toEqual([{ field: 'format', message: 'format must be csv or xlsx' }]);
      for (const bad of ['ACME', 'dev', '', 'DEV&organization=NAWAT']) {
        const org = await request(t.server)
          .get(`/users/export?format=xlsx&organization=${bad}`)
          .set('authorization', await bearer(t, caller));
        expectProblem(org, 400, 'validation_failed');
        expect(org.body.errors).toEqual([expect.objectContaining({ field: 'organization' })]);
      }
    });

    it('403 for a USER', async () => {
      const res = await request(t.server)
        .get('/users/export?format=csv')
        .set('authorization', await bearer(t, await make()));
      expectProblem(res, 403, 'role_required');
    });
  });
});
