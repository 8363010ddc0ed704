import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Readable } from 'node:stream';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import type { AuthUser } from '../common/auth-user';
import { AppError } from '../common/errors/app-error';
import type { ImportResultDto, SkippedRowDto } from './dto/import-result.dto';
import {
  csvRows,
  detectDelimiter,
  detectFormat,
  peek,
  SourceRow,
  UnsupportedFileError,
  xlsxRows,
} from './user-import.readers';
import { ColumnMap, ImportRow, mapHeader, parseImportRow } from './user-import.rows';
import { Role } from './user.enums';

export interface Upload {
  stream: Readable;
  filename: string;
  mimetype: string;
}

/** Rows per multi-row INSERT, each batch in its own transaction with its audit row. */
export const IMPORT_BATCH_SIZE = 2000;

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
}

/**
 * POST /users/import: the file is parsed as it streams in, each row validated in memory,
 * duplicates within the file caught by a set of emails, and valid rows inserted in batches
 * (INSERT ... ON CONFLICT (email) DO NOTHING), so an email already in the database is reported
 * as skipped and re-uploading a file is harmless. Imported users get no password.
 */
@Injectable()
export class UserImportService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly audit: AuditService,
  ) {}

  async import(actor: AuthUser, upload: Upload): Promise<ImportResultDto> {
    if (actor.role === Role.PRESIDENT && actor.organization === null) {
      throw AppError.forbidden(
        'A PRESIDENT without an organization may not import users.',
        'outside_organization',
      );
    }
    let peeked: Awaited<ReturnType<typeof peek>>;
    try {
      peeked = await peek(upload.stream, 64 * 1024);
    } catch (err) {
      throw readError(err);
    }
    const { head, stream } = peeked;
    if (head.length === 0) {
      throw AppError.badRequest('The file is empty.', undefined, 'import_empty_file');
    }
    let rows: AsyncGenerator<SourceRow>;
    try {
      const format = detectFormat(head, upload.filename, upload.mimetype);
      rows = format === 'csv' ? csvRows(stream, detectDelimiter(head)) : xlsxRows(stream);
    } catch (err) {
      stream.destroy();
      if (err instanceof UnsupportedFileError) {
        throw AppError.badRequest(err.message, undefined, 'import_unsupported_file');
      }
      throw err;
    }

    // Past the upload limit busboy would quietly truncate the file: stop instead.
    upload.stream.once('limit', () => upload.stream.destroy(new FileTooLargeError()));

    const run = new ImportRun(this.dataSource, this.audit, actor, upload.filename);
    try {
      const iterator = rows[Symbol.asyncIterator]();
      for (;;) {
        let next: IteratorResult<SourceRow>;
        try {
          next = await iterator.next();
        } catch (err) {
          throw readError(err);
        }
        if (next.done) break;
        await run.add(next.value);
      }
      await run.flush();
    } catch (err) {
      stream.destroy();
      throw run.withProgress(err);
    }
    return run.result();
  }
}

/** The state of one import: header, emails seen, the batch being filled, the outcome. */
class ImportRun {
  private map?: ColumnMap;
  private readonly seen = new Map<string, number>();
  private batch: PendingRow[] = [];
  private batchNo = 0;
  private created = 0;
  private readonly skipped: SkippedRowDto[] = [];

  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly actor: AuthUser,
    private readonly filename: string,
  ) {}

  async add(source: SourceRow): Promise<void> {
    if ('malformed' in source) {
      this.skipped.push({ row: source.row, email: null, reason: source.malformed });
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
    const parsed = parseImportRow(source.cells, this.map, this.actor);
    if (!parsed.ok) {
      this.skipped.push({ row: source.row, email: parsed.email, reason: parsed.reason });
      return;
    }
    const firstRow = this.seen.get(parsed.value.email);
    if (firstRow !== undefined) {
      this.skipped.push({
        row: source.row,
        email: parsed.value.email,
        reason: `duplicate email in the file (first on row ${firstRow})`,
      });
      return;
    }
    this.seen.set(parsed.value.email, source.row);
    this.batch.push({ ...parsed.value, row: source.row });
    if (this.batch.length >= IMPORT_BATCH_SIZE) await this.flush();
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
    const inserted = await this.dataSource.transaction(async (manager) => {
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
    if (inserted.length < rows.length) {
      const createdEmails = new Set(inserted.map((r) => r.email));
      for (const r of rows) {
        if (!createdEmails.has(r.email)) {
          this.skipped.push({ row: r.row, email: r.email, reason: 'email already registered' });
        }
      }
    }
  }

  /** An error part-way: the batches before it are committed; the answer says how many. */
  withProgress(err: unknown): unknown {
    if (!(err instanceof AppError) || this.created === 0) return err;
    const detail = `${err.detail} ${this.created} user(s) from earlier rows were created; uploading the corrected file again skips them.`;
    return new AppError(err.status, err.code, err.title, detail, err.errors, err.headers);
  }

  result(): ImportResultDto {
    this.skipped.sort((a, b) => a.row - b.row);
    return { created: this.created, skipped: this.skipped };
  }
}

class FileTooLargeError extends Error {}

/** An error while reading the file (not while writing to the database) is the file's fault. */
function readError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof UnsupportedFileError) {
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
  // A damaged zip or XML, or an upload cut short: the rest of the file cannot be read.
  return AppError.badRequest(
    'The file could not be read; it may be damaged.',
    undefined,
    'import_unreadable_file',
  );
}
