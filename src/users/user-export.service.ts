import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type * as ExcelJS from 'exceljs';
import { loadExcelJs } from './exceljs.loader';
import { PassThrough, Readable, Writable } from 'node:stream';
import { DataSource } from 'typeorm';
import type { AuthUser } from '../common/auth-user';
import { Clock } from '../common/clock';
import { AppError } from '../common/errors/app-error';
import type { ExportFormat } from './dto/export-query.dto';
import { exportScope } from './user-permissions';
import { Organization } from './user.enums';

export const EXPORT_COLUMNS = [
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
] as const;

/** Rows per keyset page: memory holds one page, whatever the size of the table. */
export const EXPORT_PAGE_SIZE = 1000;

/** The XLSX worksheet of the users without an organization. */
export const NO_ORGANIZATION_SHEET = 'No organization';

/** XLSX worksheets in this order (the enum's), then the users without an organization. */
const SHEET_ORDER: ReadonlyArray<Organization | null> = [...Object.values(Organization), null];

interface ExportRow {
  id: string;
  name: string;
  email: string;
  ra: string | null;
  role: string;
  organization: string | null;
  course: string | null;
  year: number | null;
  state: string;
  active: string;
  last_login_at: Date | null;
  created_at: Date;
  sort_name: string;
}

// Never the password hash: the columns are named one by one.
const SELECT = `
  SELECT id, name, email, ra, role, organization, course, year, state, active,
         last_login_at, created_at, lower(name) AS sort_name
  FROM users`;
const AFTER = '(lower(name), id) > ($2, $3::uuid)';
const ORDER = 'ORDER BY lower(name), id LIMIT $1';
/**
 * Keyset pages: every user on users_name_lower_idx (lower(name), id), one organization (or
 * none) on users_organization_name_idx (organization, lower(name), id): no OFFSET scans, no
 * sort, whatever the size of the table.
 */
const PAGES = {
  all: { first: `${SELECT} ${ORDER}`, next: `${SELECT} WHERE ${AFTER} ${ORDER}` },
  organization: {
    first: `${SELECT} WHERE organization = $2::user_organization ${ORDER}`,
    next: `${SELECT} WHERE organization = $4::user_organization AND ${AFTER} ${ORDER}`,
  },
  none: {
    first: `${SELECT} WHERE organization IS NULL ${ORDER}`,
    next: `${SELECT} WHERE organization IS NULL AND ${AFTER} ${ORDER}`,
  },
};

/** Which users a stream of pages covers: everyone, one organization, or those without one. */
type Scope = { all: true } | { organization: Organization | null };

interface Sheet {
  name: string;
  pages: AsyncGenerator<ExportRow[]>;
}

export interface ExportFile {
  stream: Readable;
  contentType: string;
  filename: string;
}

const CONTENT_TYPES: Record<ExportFormat, string> = {
  csv: 'text/csv; charset=utf-8',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
};

function values(row: ExportRow): Array<string | number | null> {
  return [
    row.id,
    row.name,
    row.email,
    row.ra,
    row.role,
    row.organization,
    row.course,
    row.year,
    row.state,
    row.active,
    row.last_login_at ? row.last_login_at.toISOString() : null,
    row.created_at.toISOString(),
  ];
}

/**
 * RFC 4180 field; a value a spreadsheet would run as a formula (=, +, -, @, tab, CR first)
 * gets a leading apostrophe (OWASP CSV injection advice). The import strips it again.
 */
export function csvField(value: string | number | null): string {
  if (value === null) return '';
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * GET /users/export: users streamed page by page. CSV: one file sorted like the list. XLSX: one
 * worksheet per organization (then "No organization"), each written whole before the next,
 * so memory holds one page whatever the number of users.
 */
@Injectable()
export class UserExportService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {}

  /**
   * Checks who may export what, and reads the first page before answering, so a denial or a
   * database failure is still a clean problem answer.
   */
  async open(
    actor: AuthUser,
    format: ExportFormat,
    requested: Organization | undefined,
  ): Promise<ExportFile> {
    const scope = exportScope(actor, requested);
    if ('code' in scope) throw AppError.forbidden(scope.detail, scope.code);
    const { organization } = scope;
    const stamp = this.clock
      .now()
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z');
    const filename = `users-${organization ? `${organization}-` : ''}${stamp}.${format}`;
    let stream: Readable;
    if (format === 'csv') {
      const where: Scope = organization ? { organization } : { all: true };
      stream = csvStream(this.pages(where, await this.page(where, null)));
    } else {
      const sheets = this.sheets(organization ? [organization] : SHEET_ORDER);
      const first = await sheets.next();
      stream = xlsxStream(
        first.done ? null : first.value,
        sheets,
        organization ?? NO_ORGANIZATION_SHEET,
      );
    }
    return { stream, contentType: CONTENT_TYPES[format], filename };
  }

  private page(scope: Scope, after: ExportRow | null): Promise<ExportRow[]> {
    const size = EXPORT_PAGE_SIZE;
    if ('all' in scope) {
      return after
        ? this.dataSource.query(PAGES.all.next, [size, after.sort_name, after.id])
        : this.dataSource.query(PAGES.all.first, [size]);
    }
    if (scope.organization === null) {
      return after
        ? this.dataSource.query(PAGES.none.next, [size, after.sort_name, after.id])
        : this.dataSource.query(PAGES.none.first, [size]);
    }
    return after
      ? this.dataSource.query(PAGES.organization.next, [
          size,
          after.sort_name,
          after.id,
          scope.organization,
        ])
      : this.dataSource.query(PAGES.organization.first, [size, scope.organization]);
  }

  private async *pages(scope: Scope, first: ExportRow[]): AsyncGenerator<ExportRow[]> {
    let page = first;
    while (page.length > 0) {
      yield page;
      if (page.length < EXPORT_PAGE_SIZE) return;
      page = await this.page(scope, page[page.length - 1]);
    }
  }

  /** One worksheet per organization that has users, in SHEET_ORDER. */
  private async *sheets(organizations: ReadonlyArray<Organization | null>): AsyncGenerator<Sheet> {
    for (const organization of organizations) {
      const scope: Scope = { organization };
      const first = await this.page(scope, null);
      if (first.length === 0) continue;
      yield { name: organization ?? NO_ORGANIZATION_SHEET, pages: this.pages(scope, first) };
    }
  }
}

/** Pulled by the HTTP response: the next page is read only when the client has taken the last. */
function csvStream(pages: AsyncGenerator<ExportRow[]>): Readable {
  async function* lines(): AsyncGenerator<string> {
    yield EXPORT_COLUMNS.join(',') + '\r\n';
    for await (const page of pages) {
      let chunk = '';
      for (const row of page) chunk += values(row).map(csvField).join(',') + '\r\n';
      yield chunk;
    }
  }
  return Readable.from(lines(), { objectMode: false });
}

/**
 * exceljs' streaming writer, paused whenever the client falls behind (constant memory). Each
 * worksheet is finished and taken whole into the zip before the next one starts: exceljs
 * queues every worksheet's stream in the zip, and one started early would buffer all its rows.
 * An export with no users at all still holds one worksheet (with the header).
 */
function xlsxStream(first: Sheet | null, rest: AsyncGenerator<Sheet>, emptyName: string): Readable {
  const out = new PassThrough();
  const workbook = new (loadExcelJs().stream.xlsx.WorkbookWriter)({
    stream: out,
    useStyles: false,
    useSharedStrings: false,
  });
  async function* all(): AsyncGenerator<Sheet> {
    if (first) yield first;
    yield* rest;
  }
  const write = async (): Promise<void> => {
    let sheets = 0;
    for await (const { name, pages } of all()) {
      sheets++;
      const sheet = workbook.addWorksheet(name);
      sheet.addRow([...EXPORT_COLUMNS]).commit();
      for await (const page of pages) {
        for (const row of page) sheet.addRow(values(row)).commit();
        await caughtUp(sheet, out);
        if (out.destroyed) return; // the client went away
      }
      const zipped = sheetZipped(workbook, sheet, out);
      sheet.commit();
      await zipped;
      if (out.destroyed) return;
    }
    if (sheets === 0)
      workbook
        .addWorksheet(emptyName)
        .addRow([...EXPORT_COLUMNS])
        .commit();
    await workbook.commit();
  };
  write().catch((err: unknown) => out.destroy(err as Error));
  return out;
}

/** Resolves once the zip has taken the worksheet whole (or the client has gone). */
function sheetZipped(
  workbook: ExcelJS.stream.xlsx.WorkbookWriter,
  sheet: ExcelJS.Worksheet,
  out: PassThrough,
): Promise<void> {
  const zip = (workbook as unknown as { zip?: NodeJS.EventEmitter }).zip;
  if (!zip) return Promise.resolve();
  const path = `xl/worksheets/sheet${sheet.id}.xml`;
  return new Promise((resolve) => {
    const done = (): void => {
      zip.off('entry', onEntry);
      out.off('close', done);
      resolve();
    };
    const onEntry = (entry: { name?: string }): void => {
      if (entry.name === path) done();
    };
    zip.on('entry', onEntry);
    out.on('close', done);
  });
}

type LegacyWritable = Writable & { _writableState?: { needDrain?: boolean } };

/**
 * Waits until the zip has taken what was written and the client has taken the zip.
 * exceljs 4.4 (unmaintained) writes each worksheet into a StreamBuf that pushes into the
 * archiver's input stream ignoring its backpressure; as deflate is slower than the database,
 * rows would pile up in memory. That input stream is reached through the StreamBuf's `pipes`
 * (a readable-stream PassThrough: `_writableState`); if exceljs ever changes that shape, only
 * the client's backpressure remains. Measured in docs/benchmarks.md.
 */
async function caughtUp(sheet: ExcelJS.Worksheet, out: PassThrough): Promise<void> {
  const buffer = (sheet as unknown as { stream?: { pipes?: LegacyWritable[] } }).stream;
  for (;;) {
    if (out.destroyed) return;
    const zipInput = buffer?.pipes?.[0];
    if (buffer?.pipes && !zipInput && !out.writableNeedDrain) {
      // The zip has not reached this worksheet yet (it is finishing the one before): wait,
      // or every row written meanwhile would pile up in the worksheet's buffer.
      await new Promise((resolve) => setImmediate(resolve));
    } else if (zipInput?._writableState?.needDrain && !zipInput.destroyed) {
      await drainedOrClosed(zipInput);
    } else if (out.writableNeedDrain) {
      await drainedOrClosed(out);
    } else {
      return;
    }
  }
}

function drainedOrClosed(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}
