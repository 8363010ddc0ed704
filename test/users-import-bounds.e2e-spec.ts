import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import request from 'supertest';
import type { AuthUser } from '../src/common/auth-user';
import type { ImportResultDto } from '../src/users/dto/import-result.dto';
import { User } from '../src/users/entities/user.entity';
import { UserImportService } from '../src/users/user-import.service';
import { Organization, Role } from '../src/users/user.enums';
import { truncateAll } from './utils/db';
import { bearer, createUser, UserOverrides } from './utils/factories';
import { expectProblem } from './utils/problem';
import { createTestApp, TestApp } from './utils/test-app';
import { HEADER, inlineRow, repeatedPart, sheetXml, workbookParts, zip } from './utils/xlsx-files';

const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const CSV_HEADER = 'name,email,role,organization,state,ra';

/** The caller as the guard would hand it to the service. */
function caller(user: User): AuthUser {
  return {
    id: user.id,
    email: user.email,
    role: user.role,
    organization: user.organization,
    active: user.active,
    state: user.state,
    sessionId: '00000000-0000-4000-8000-000000000000',
    tokenVersion: user.tokenVersion,
  };
}

describe('users import: bounds, email rules, one at a time', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ ALLOWED_EMAIL_DOMAINS: 'maua.br, example.com' });
  });
  beforeEach(async () => {
    await truncateAll(t.dataSource);
  });
  afterAll(async () => {
    await t.close();
  });

  const make = (overrides: UserOverrides = {}) => createUser(t.dataSource, overrides);
  const adm = () => make({ role: Role.ADM, organization: null, name: 'Admin' });
  const users = () => t.dataSource.getRepository(User).count();

  const upload = async (
    app: TestApp,
    user: User,
    content: Buffer | string,
    filename = 'users.csv',
    contentType = 'text/csv',
  ) =>
    request(app.server)
      .post('/users/import')
      .set('authorization', await bearer(app, user))
      .attach('file', Buffer.isBuffer(content) ? content : Buffer.from(content), {
        filename,
        contentType,
      });

  const validCsv = (emails: string[]) =>
    [CSV_HEADER, ...emails.map((e, i) => `User ${i},${e},USER,DEV,APPROVED,`)].join('\n');

  async function expectHealthy(user: User): Promise<void> {
    const ping = await request(t.server).get('/ping');
    expect(ping.status).toBe(200);
    const email = `healthy-${Date.now()}@example.com`;
    const res = await upload(t, user, validCsv([email]));
    expect(res.status).toBe(200);
    expect(res.body.created_emails).toEqual([email]);
  }

  describe('bounds', () => {
    it('a 1 MB junk CSV (valid header, then ~500k junk lines) is a 413; the process stays healthy', async () => {
      const admin = await adm();
      const junk = `${CSV_HEADER}\n${'x\n'.repeat(500_000)}`;
      expect(junk.length).toBeGreaterThan(1_000_000);
      const res = await upload(t, admin, junk);
      expectProblem(res, 413, 'import_too_many_rows');
      expect(res.body.detail).toMatch(/more than 200000 rows.*split it/);
      expect(await users()).toBe(1);
      await expectHealthy(admin);
    });

    it('lists the first 1,000 skipped rows and created emails, and counts them all', async () => {
      const admin = await adm();
      const lines = [CSV_HEADER];
      for (let i = 0; i < 1500; i++) {
        lines.push(`User ${i},u${i}@example.com,USER,DEV,APPROVED,`);
        lines.push('junk', 'more junk');
      }
      const res = await upload(t, admin, lines.join('\n'));
      expect(res.status).toBe(200);
      const body = res.body as ImportResultDto;
      expect(body.created).toBe(1500);
      expect(body.created_emails).toHaveLength(1000);
      expect(body.created_emails.slice(0, 2)).toEqual(['u0@example.com', 'u1@example.com']);
      expect(body.created_emails[999]).toBe('u999@example.com');
      expect(body.skipped_total).toBe(3000);
      expect(body.skipped).toHaveLength(1000);
      expect(body.skipped[0]).toEqual({ row: 3, email: null, reason: expect.any(String) });
      const rows = body.skipped.map((s) => s.row);
      expect(rows).toEqual([...rows].sort((a, b) => a - b));
      expect(rows[999]).toBe(1 + 3 * 500); // the first 1,000 by row number
    });

    it('IMPORT_MAX_ROWS: a 413 past the bound; the batches before it stay, and the answer says so', async () => {
      const small = await createTestApp({ IMPORT_MAX_ROWS: '2500' });
      try {
        const admin = await createUser(small.dataSource, { role: Role.ADM, organization: null });
        const emails = Array.from({ length: 3000 }, (_, i) => `bulk${i}@example.com`);
        const res = await upload(small, admin, validCsv(emails));
        expectProblem(res, 413, 'import_too_many_rows');
        expect(res.body.detail).toMatch(
          /more than 2500 rows \(row 2502 is one too many\).*2000 user\(s\) from earlier rows were created and stay created/,
        );
        expect(await users()).toBe(2001);
        // Uploading the first rows again skips the committed ones and creates the rest.
        const again = await upload(small, admin, validCsv(emails.slice(0, 2500)));
        expect(again.status).toBe(200);
        expect(again.body).toMatchObject({ created: 500, skipped_total: 2000 });
      } finally {
        await small.close();
      }
    });

    it('a CSV record over 64 KiB is a 413 (an unclosed quote would swallow the whole file)', async () => {
      const admin = await adm();
      const csv = [
        CSV_HEADER,
        'Ana Lima,ana@example.com,USER,DEV,APPROVED,',
        `"Open quote${'a'.repeat(100_000)},b@example.com,USER,DEV,APPROVED,`,
        'Bia Souza,bia@example.com,USER,DEV,APPROVED,',
      ].join('\n');
      const res = await upload(t, admin, csv);
      expectProblem(res, 413, 'import_record_too_large');
      expect(res.body.detail).toMatch(/Line 3 is longer than 64 KiB/);
      await expectHealthy(admin);
    });

    it('an XLSX zip bomb (one 200 MB shared string in 200 KB) is a 413; no temporary file stays', async () => {
      const admin = await adm();
      const strings = await repeatedPart(
        'xl/sharedStrings.xml',
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>',
        'AAAAAAAA',
        25 * 1024 * 1024,
        '</t></si></sst>',
      );
      const bomb = zip(
        workbookParts({
          sheet: sheetXml('<row r="1"><c r="A1" t="s"><v>0</v></c></row>'),
          sharedStrings: strings,
        }),
      );
      expect(bomb.length).toBeLessThan(512 * 1024);
      const previousTmp = process.env.TMPDIR;
      const spool = mkdtempSync(join(tmpdir(), 'import-spool-'));
      process.env.TMPDIR = spool;
      try {
        const res = await upload(t, admin, bomb, 'bomb.xlsx', XLSX_TYPE);
        expectProblem(res, 413, 'import_xlsx_too_large');
        expect(res.body.detail).toMatch(/longer than 64 KiB/);
        expect(readdirSync(spool)).toEqual([]);
      } finally {
        process.env.TMPDIR = previousTmp;
        rmSync(spool, { recursive: true, force: true });
      }
      await expectHealthy(admin);
    });

    it('an XLSX counts its rows too', async () => {
      const small = await createTestApp({ IMPORT_MAX_ROWS: '3' });
      try {
        const admin = await createUser(small.dataSource, { role: Role.ADM, organization: null });
        const rows = [inlineRow(1, HEADER)];
        for (let i = 2; i <= 5; i++) {
          rows.push(inlineRow(i, [`User ${i}`, `x${i}@example.com`, 'USER', 'DEV', 'APPROVED']));
        }
        const file = zip(workbookParts({ sheet: sheetXml(rows.join('')) }));
        const res = await upload(small, admin, file, 'users.xlsx', XLSX_TYPE);
        expectProblem(res, 413, 'import_too_many_rows');
        expect(await users()).toBe(1);
      } finally {
        await small.close();
      }
    });
  });

  describe('rules of each row', () => {
    it('ALLOWED_EMAIL_DOMAINS: other domains are skipped with the reason email_domain_not_allowed', async () => {
      const admin = await adm();
      const csv = [
        CSV_HEADER,
        'Ana Lima,ana@maua.br,USER,DEV,APPROVED,',
        'Bia Souza,bia@gmail.com,USER,DEV,APPROVED,',
        'Caio Reis,caio@sub.maua.br,USER,DEV,APPROVED,',
        'Dora Maia,dora@Example.com,USER,DEV,APPROVED,',
        'X,eva@gmail.com,USER,DEV,APPROVED,', // invalid anyway: the row's own problems come first
      ].join('\n');
      const res = await upload(t, admin, csv);
      expect(res.status).toBe(200);
      expect(res.body.created_emails).toEqual(['ana@maua.br', 'dora@example.com']);
      expect(res.body.skipped).toEqual([
        { row: 3, email: 'bia@gmail.com', reason: 'email_domain_not_allowed' },
        { row: 4, email: 'caio@sub.maua.br', reason: 'email_domain_not_allowed' },
        { row: 6, email: 'eva@gmail.com', reason: expect.stringMatching(/^name must be/) },
      ]);
    });

    it('takes the ra from a student address; a given ra that disagrees is kept and listed in warnings', async () => {
      const admin = await adm();
      const csv = [
        CSV_HEADER,
        'Ana Lima,21.01234-5@maua.br,USER,DEV,APPROVED,', // derived
        'Bia Souza,22.00001-1@maua.br,USER,DEV,APPROVED,23.99999-9', // kept, flagged
        'Caio Reis,21.05555-5@maua.br,USER,DEV,APPROVED,21055555', // the same number
        'Dora Maia,dora@maua.br,USER,DEV,APPROVED,', // none to derive
      ].join('\n');
      const res = await upload(t, admin, csv);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ created: 4, warnings_total: 1 });
      expect(res.body.warnings).toEqual([
        {
          row: 3,
          email: '22.00001-1@maua.br',
          field: 'ra',
          code: 'ra_differs_from_email',
          message: expect.stringMatching(/23\.99999-9.*22\.00001-1/),
        },
      ]);
      const ra = async (email: string) =>
        (await t.dataSource.getRepository(User).findOneBy({ email }))!.ra;
      expect(await ra('21.01234-5@maua.br')).toBe('21.01234-5');
      expect(await ra('22.00001-1@maua.br')).toBe('23.99999-9');
      expect(await ra('21.05555-5@maua.br')).toBe('21055555');
      expect(await ra('dora@maua.br')).toBeNull();
    });
  });

  describe('one import at a time per user', () => {
    it('409 while another import of the same user runs, in this replica or another; released after', async () => {
      const admin = await adm();
      const other = await make({ role: Role.PRESIDENT, organization: Organization.DEV });
      const replica = await createTestApp();
      try {
        const file = new PassThrough();
        const running = t.app.get(UserImportService).import(caller(admin), {
          stream: file,
          filename: 'slow.csv',
          mimetype: 'text/csv',
        });
        file.write(`${CSV_HEADER}\nSlow One,slow@example.com,USER,DEV,APPROVED,\n`);

        const here = await upload(t, admin, validCsv(['here@example.com']));
        expectProblem(here, 409, 'import_in_progress');
        const there = await upload(replica, admin, validCsv(['there@example.com']));
        expectProblem(there, 409, 'import_in_progress');
        // Another user is not held up.
        const someoneElse = await upload(t, other, validCsv(['else@example.com']));
        expect(someoneElse.status).toBe(200);

        file.end();
        const result = await running;
        expect(result).toMatchObject({ created: 1, created_emails: ['slow@example.com'] });
        const after = await upload(replica, admin, validCsv(['after@example.com']));
        expect(after.status).toBe(200);
        expect(await users()).toBe(5);
      } finally {
        await replica.close();
      }
    });

    it('the lock is released when an import fails, whatever the failure', async () => {
      const admin = await adm();
      expectProblem(await upload(t, admin, 'name,role\nx,USER\n'), 400, 'import_missing_columns');
      expectProblem(await upload(t, admin, ''), 400, 'import_empty_file');
      const damaged = Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(100, 1)]);
      expectProblem(
        await upload(t, admin, damaged, 'users.xlsx', XLSX_TYPE),
        400,
        'import_unreadable_file',
      );
      const cut = new PassThrough();
      const failing = t.app.get(UserImportService).import(caller(admin), {
        stream: cut,
        filename: 'cut.csv',
        mimetype: 'text/csv',
      });
      cut.write(`${CSV_HEADER}\n`);
      cut.destroy(new Error('client went away'));
      await expect(failing).rejects.toMatchObject({ status: 400 });
      const ok = await upload(t, admin, validCsv(['fine@example.com']));
      expect(ok.status).toBe(200);
      const locks: Array<{ n: number }> = await t.dataSource.query(
        `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2`,
      );
      expect(locks[0].n).toBe(0);
    });
  });
});
