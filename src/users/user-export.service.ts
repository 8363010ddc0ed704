import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type * as ExcelJS from 'exceljs';
import { loadExcelJs } from './exceljs.loader';
import { PassThrough, Readable, Writable } from 'node:stream';
import { DataSource } from 'typeorm';
import { Clock } from '../common/clock';
import type { ExportFormat } from './dto/export-query.dto';

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
// Keyset pagination on the users_name_lower_idx index (lower(name), id): no OFFSET scans.
const FIRST_PAGE = `${SELECT} ORDER BY lower(name), id LIMIT $1`;
const NEXT_PAGE = `${SELECT} WHERE (lower(name), id) > ($2, $3::uuid) ORDER BY lower(name), id LIMIT $1`;

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

/** GET /users/export: every user, streamed page by page, sorted like the list. */
@Injectable()
export class UserExportService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {}

  /** Reads the first page before answering, so a database failure is still a clean 503. */
  async open(format: ExportFormat): Promise<ExportFile> {
    const first = await this.page(null);
    const pages = this.pages(first);
    const stamp = this.clock
      .now()
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z');
    return {
      stream: format === 'csv' ? csvStream(pages) : xlsxStream(pages),
      contentType: CONTENT_TYPES[format],
      filename: `users-${stamp}.${format}`,
    };
  }

  private page(after: ExportRow | null): Promise<ExportRow[]> {
    return after
      ? this.dataSource.query(NEXT_PAGE, [EXPORT_PAGE_SIZE, after.sort_name, after.id])
      : this.dataSource.query(FIRST_PAGE, [EXPORT_PAGE_SIZE]);
  }

  private async *pages(first: ExportRow[]): AsyncGenerator<ExportRow[]> {
    let page = first;
    while (page.length > 0) {
      yield page;
      if (page.length < EXPORT_PAGE_SIZE) return;
      page = await this.page(page[page.length - 1]);
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

/** exceljs' streaming writer, paused whenever the client falls behind (constant memory). */
function xlsxStream(pages: AsyncGenerator<ExportRow[]>): Readable {
  const out = new PassThrough();
  const workbook = new (loadExcelJs().stream.xlsx.WorkbookWriter)({
    stream: out,
    useStyles: false,
    useSharedStrings: false,
  });
  const sheet = workbook.addWorksheet('users');
  const write = async (): Promise<void> => {
    sheet.addRow([...EXPORT_COLUMNS]).commit();
    for await (const page of pages) {
      for (const row of page) sheet.addRow(values(row)).commit();
      await caughtUp(sheet, out);
      if (out.destroyed) return; // the client went away
    }
    sheet.commit();
    await workbook.commit();
  };
  write().catch((err: unknown) => out.destroy(err as Error));
  return out;
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
    if (zipInput?._writableState?.needDrain && !zipInput.destroyed) {
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
