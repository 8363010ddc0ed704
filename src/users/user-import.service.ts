import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Readable } from 'node:stream';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import type { AuthUser } from '../common/auth-user';
import { AppError } from '../common/errors/app-error';
import { AppConfig } from '../config/app-config';
import {
  IMPORT_LIST_CAP,
  type ImportResultDto,
  type ImportWarningDto,
  type SkippedRowDto,
} from './dto/import-result.dto';
import { tryLockImport } from './import-lock';
import {
  csvRows,
  detectDelimiter,
  detectFormat,
  MalformedRow,
  peek,
  RecordTooLargeError,
  SourceRow,
  spool,
  SpooledFile,
  UnsupportedFileError,
} from './user-import.readers';
import { ColumnMap, ImportRow, ImportRules, mapHeader, parseImportRow } from './user-import.rows';
import type { FieldWarning } from './user-email-rules';
import { Role } from './user.enums';
import {
  XLSX_LIMITS,
  xlsxFileRows,
  XlsxFormatError,
  XlsxLimitError,
  XlsxLimits,
  XlsxUnsupportedError,
} from './xlsx-reader';

export interface Upload {
  stream: Readable;
  filename: string;
  mimetype: string;
}

/** Rows per multi-row INSERT, each batch in its own transaction with its audit row. */
export const IMPORT_BATCH_SIZE = 2000;

/** Longest CSV record, in characters: a real row is < 2 KB (an export row ~300 B). */
export const CSV_MAX_RECORD_SIZE = 64 * 1024;

/** The bounds of one import. IMPORT_MAX_ROWS sets `maxRows`; the others are fixed. */
export interface ImportLimits {
  maxRows: number;
  maxRecordSize: number;
  xlsx: XlsxLimits;
}

// One statement per batch whatever its size: eight array parameters, unnested server-side.
const INSERT_BATCH = `
  INSERT INTO users (name, email, role, organization, state, ra, course, year)
  SELECT * FROM unnest(
    $1::varchar[], $2::varchar[], $3::user_role[], $4::user_organization[],
    $5::user_state[], $6::varchar[], $7::user_course[], $8::smallint[]
  )
  ON CONFLICT (email) DO NOTHING
  RETURNING id, email`;

interface PendingRow extends ImportRow {
  row: number;
  warning?: FieldWarning;
}

/**
 * POST /users/import: the file is parsed as it streams in (an XLSX is first spooled to a
 * temporary file: its zip directory is at the end), each row validated in memory, duplicates
 * within the file caught by a set of emails, and valid rows inserted in batches
 * (INSERT ... ON CONFLICT (email) DO NOTHING), so an email already in the database is reported
 * as skipped and re-uploading a file is harmless. Imported users get no password.
 *
 * Bounded: rows (IMPORT_MAX_ROWS), record size, the XLSX's inflated bytes and shared strings,
 * and the answer's lists (IMPORT_LIST_CAP each, with totals). One import per user at a time,
 * across replicas: an advisory lock on the connection the batches run on.
 */
@Injectable()
export class UserImportService {
  readonly limits: ImportLimits;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly config: AppConfig,
  ) {
    this.limits = {
      maxRows: config.importMaxRows,
      maxRecordSize: CSV_MAX_RECORD_SIZE,
      xlsx: XLSX_LIMITS,
    };
  }

  async import(actor: AuthUser, upload: Upload): Promise<ImportResultDto> {
    if (actor.role === Role.PRESIDENT && actor.organization === null) {
      throw AppError.forbidden(
        'A PRESIDENT without an organization may not import users.',
        'outside_organization',
      );
    }
    // The upload may fail (client gone) while the lock is taken, before anything reads it: an
    // 'error' event without a listener would end the process. The reader sees the error anyway.
    upload.stream.on('error', () => undefined);
    const session = await tryLockImport(this.dataSource, actor.id);
    if (!session) {
      upload.stream.resume(); // let the rest of the upload drain
      throw AppError.conflict(
        'Another import of yours is still running; try again when it has finished.',
        'import_in_progress',
      );
    }
    try {
      return await this.run(actor, upload, session.manager);
    } finally {
      await session.release();
    }
  }

  private async run(
    actor: AuthUser,
    upload: Upload,
    manager: EntityManager,
  ): Promise<ImportResultDto> {
    let peeked: Awaited<ReturnType<typeof peek>>;
    try {
      peeked = await peek(upload.stream, 64 * 1024);
    } catch (err) {
      throw readError(err, this.limits);
    }
    const { head, stream } = peeked;
    if (head.length === 0) {
      throw AppError.badRequest('The file is empty.', undefined, 'import_empty_file');
    }
    let format: 'csv' | 'xlsx';
    try {
      format = detectFormat(head, upload.filename, upload.mimetype);
    } catch (err) {
      stream.destroy();
      throw readError(err, this.limits);
    }

    // Past the upload limit busboy would quietly truncate the file: stop instead.
    upload.stream.once('limit', () => upload.stream.destroy(new FileTooLargeError()));

    const run = new ImportRun(manager, this.audit, actor, upload.filename, this.limits.maxRows, {
      allowedEmailDomains: this.config.allowedEmailDomains,
    });
    let spooled: SpooledFile | undefined;
    try {
      let rows: AsyncGenerator<SourceRow | MalformedRow>;
      if (format === 'csv') {
        rows = csvRows(stream, {
          delimiter: detectDelimiter(head),
          maxRecordSize: this.limits.maxRecordSize,
        });
      } else {
        try {
          spooled = await spool(stream);
        } catch (err) {
          throw readError(err, this.limits);
        }
        rows = xlsxFileRows(spooled.path, this.limits.xlsx);
      }
      const iterator = rows[Symbol.asyncIterator]();
      try {
        for (;;) {
          let next: IteratorResult<SourceRow | MalformedRow>;
          try {
            next = await iterator.next();
          } catch (err) {
            throw readError(err, this.limits);
          }
          if (next.done) break;
          await run.add(next.value);
        }
      } finally {
        await iterator.return?.(undefined);
      }
      await run.flush();
    } catch (err) {
      stream.destroy();
      throw run.withProgress(err);
    } finally {
      await spooled?.remove();
    }
    return run.result();
  }
}

/**
 * Keeps the `cap` entries with the lowest row numbers and counts all of them. Entries arrive
 * almost in row order (only a batch's "already registered" rows come late), so a sort now and
 * then keeps memory at 2 x cap whatever the file holds.
 */
class CappedRows<T extends { row: number }> {
  private items: T[] = [];
  total = 0;

  constructor(private readonly cap: number) {}

  add(item: T): void {
    this.total++;
    this.items.push(item);
    if (this.items.length >= 2 * this.cap) this.trim();
  }

  list(): T[] {
    this.trim();
    return this.items;
  }

  private trim(): void {
    this.items.sort((a, b) => a.row - b.row);
    if (this.items.length > this.cap) this.items.length = this.cap;
  }
}

/** The state of one import: header, emails seen, the batch being filled, the outcome. */
class ImportRun {
  private map?: ColumnMap;
  private readonly seen = new Map<string, number>();
  private batch: PendingRow[] = [];
  private batchNo = 0;
  private rows = 0;
  private created = 0;
  private readonly createdEmails: string[] = [];
  private readonly skipped = new CappedRows<SkippedRowDto>(IMPORT_LIST_CAP);
  private readonly warnings = new CappedRows<ImportWarningDto>(IMPORT_LIST_CAP);

  constructor(
    private readonly manager: EntityManager,
    private readonly audit: AuditService,
    private readonly actor: AuthUser,
    private readonly filename: string,
    private readonly maxRows: number,
    private readonly rules: ImportRules,
  ) {}

  async add(source: SourceRow | MalformedRow): Promise<void> {
    if ('malformed' in source) {
      // A line the CSV reader could not read: a row, skipped.
      this.countRow(source.row);
      this.skipped.add({
        row: source.row,
        email: null,
        reason: `malformed CSV (${source.malformed})`,
      });
      return;
    }
    if (source.cells.every((c) => c.trim() === '')) return; // blank lines are not rows
    if (!this.map) {
      const header = mapHeader(source.cells);
      if ('missing' in header) {
        throw AppError.badRequest(
          `The header row lacks the column(s) ${header.missing.join(', ')}.`,
          header.missing.map((field) => ({ field, message: `column ${field} is required` })),
          'import_missing_columns',
        );
      }
      this.map = header.map;
      return;
    }
    this.countRow(source.row);
    const parsed = parseImportRow(source.cells, this.map, this.actor, this.rules);
    if (!parsed.ok) {
      this.skipped.add({ row: source.row, email: parsed.email, reason: parsed.reason });
      return;
    }
    const firstRow = this.seen.get(parsed.value.email);
    if (firstRow !== undefined) {
      this.skipped.add({
        row: source.row,
        email: parsed.value.email,
        reason: `duplicate email in the file (first on row ${firstRow})`,
      });
      return;
    }
    this.seen.set(parsed.value.email, source.row);
    this.batch.push({ ...parsed.value, row: source.row, warning: parsed.warning });
    if (this.batch.length >= IMPORT_BATCH_SIZE) await this.flush();
  }

  private countRow(row: number): void {
    this.rows += 1;
    if (this.rows > this.maxRows) {
      throw new AppError(
        413,
        'import_too_many_rows',
        'Payload Too Large',
        `The file holds more than ${this.maxRows} rows (row ${row} is one too many); split it.`,
      );
    }
  }

  /** Inserts the pending rows in one statement and one transaction, with an audit row. */
  async flush(): Promise<void> {
    if (!this.map) {
      throw AppError.badRequest('The file has no header row.', undefined, 'import_empty_file');
    }
    const rows = this.batch;
    if (rows.length === 0) return;
    this.batch = [];
    this.batchNo += 1;
    const inserted = await this.manager.transaction(async (manager) => {
      const result: Array<{ id: string; email: string }> = await manager.query(INSERT_BATCH, [
        rows.map((r) => r.name),
        rows.map((r) => r.email),
        rows.map((r) => r.role),
        rows.map((r) => r.organization),
        rows.map((r) => r.state),
        rows.map((r) => r.ra),
        rows.map((r) => r.course),
        rows.map((r) => r.year),
      ]);
      if (result.length > 0) {
        await this.audit.record(
          {
            actor: this.actor,
            action: 'user.import',
            targetType: 'user',
            targetId: null,
            before: null,
            after: {
              file: this.filename,
              batch: this.batchNo,
              rows: { first: rows[0].row, last: rows[rows.length - 1].row },
              created: result.length,
              users: result,
            },
          },
          manager,
        );
      }
      return result;
    });
    this.created += inserted.length;
    const createdEmails = new Set(inserted.map((r) => r.email));
    for (const r of rows) {
      if (!createdEmails.has(r.email)) {
        this.skipped.add({ row: r.row, email: r.email, reason: 'email already registered' });
        continue;
      }
      if (this.createdEmails.length < IMPORT_LIST_CAP) this.createdEmails.push(r.email);
      if (r.warning) this.warnings.add({ row: r.row, email: r.email, ...r.warning });
    }
    // The emails of this file stay in `seen` (duplicates of earlier batches are still caught).
  }

  /** An error part-way: the batches before it are committed and stay; the answer says how many. */
  withProgress(err: unknown): unknown {
    if (!(err instanceof AppError) || this.created === 0) return err;
    const detail =
      `${err.detail} ${this.created} user(s) from earlier rows were created and stay ` +
      'created; uploading the corrected file again skips them.';
    return new AppError(err.status, err.code, err.title, detail, err.errors, err.headers);
  }

  result(): ImportResultDto {
    return {
      created: this.created,
      created_emails: this.createdEmails,
      skipped: this.skipped.list(),
      skipped_total: this.skipped.total,
      warnings: this.warnings.list(),
      warnings_total: this.warnings.total,
    };
  }
}

class FileTooLargeError extends Error {}

/** An error while reading the file (not while writing to the database) is the file's fault. */
function readError(err: unknown, limits: ImportLimits): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof UnsupportedFileError || err instanceof XlsxUnsupportedError) {
    return AppError.badRequest(err.message, undefined, 'import_unsupported_file');
  }
  if (err instanceof FileTooLargeError) {
    return new AppError(
      413,
      'import_file_too_large',
      'Payload Too Large',
      'The file is too large.',
    );
  }
  if (err instanceof RecordTooLargeError) {
    return new AppError(
      413,
      'import_record_too_large',
      'Payload Too Large',
      `${err.message} No row of a users file comes near that (limit ${limits.maxRecordSize / 1024} KiB).`,
    );
  }
  if (err instanceof XlsxLimitError) {
    return new AppError(413, 'import_xlsx_too_large', 'Payload Too Large', err.message);
  }
  if (err instanceof XlsxFormatError) {
    return AppError.badRequest(
      `${err.message} It may be damaged.`,
      undefined,
      'import_unreadable_file',
    );
  }
  // A damaged file, or an upload cut short: the rest of the file cannot be read.
  return AppError.badRequest(
    'The file could not be read; it may be damaged.',
    undefined,
    'import_unreadable_file',
  );
}
