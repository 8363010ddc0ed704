/**
 * A streaming CSV record reader for POST /users/import (RFC 4180 plus what spreadsheets write):
 * one delimiter character, `"` quotes with `""` for a quote inside, CRLF, LF or CR line ends,
 * a leading UTF-8 BOM, whitespace around fields dropped (not inside quotes), empty lines
 * skipped, a quote inside an unquoted field taken literally.
 *
 * Why not csv-parse: it builds (and JSON-clones the state into) an Error for every record
 * whose field count differs from the header's, even with relax_column_count, so a 1 MB file
 * of 500k one-field lines cost minutes of CPU. This reader does constant work per character,
 * stops at `maxRecordSize`, and reports a broken record (text after a closing quote, a quote
 * never closed) as malformed, going on with the next one.
 */

export interface CsvRecord {
  /** The line the record starts on (1-based; a quoted line break makes a record span two). */
  row: number;
  cells: string[];
}

export interface MalformedRecord {
  row: number;
  malformed: string;
}

/** A record longer than the bound (characters, delimiters included). */
export class RecordTooLargeError extends Error {
  constructor(
    readonly row: number,
    readonly maxSize: number,
  ) {
    super(`Line ${row} is longer than ${maxSize / 1024} KiB.`);
  }
}

const QUOTE = '"';

export class CsvRecordReader {
  private record: string[] = [];
  private field = '';
  private size = 0;
  /** Inside a quoted field. */
  private quoted = false;
  /** A `"` met inside a quoted field: the closing one, or the first of `""`. */
  private quotePending = false;
  /** The field's closing quote has passed: only whitespace may come before its end. */
  private closed = false;
  private wasQuoted = false;
  private malformed: string | null = null;
  private line = 1;
  private recordLine = 1;
  private afterCR = false;
  private started = false;

  constructor(
    private readonly delimiter: string,
    private readonly maxSize: number,
  ) {
    if (delimiter.length !== 1 || delimiter === QUOTE || delimiter === '\n' || delimiter === '\r') {
      throw new Error(`unsupported CSV delimiter ${JSON.stringify(delimiter)}`);
    }
  }

  /** Reads more text; complete records are appended to `out`. */
  push(text: string, out: Array<CsvRecord | MalformedRecord>): void {
    let i = 0;
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) i = 1;
    }
    for (; i < text.length; i++) {
      const c = text[i];
      if (this.afterCR) {
        this.afterCR = false;
        if (c === '\n') continue; // the LF of a CRLF
      }
      if (this.quoted) {
        if (!this.quotePending) {
          if (c === QUOTE) {
            this.quotePending = true;
          } else {
            if (c === '\n') this.line++;
            this.append(c);
          }
          continue;
        }
        this.quotePending = false;
        if (c === QUOTE) {
          this.append(QUOTE);
          continue;
        }
        this.quoted = false;
        this.closed = true;
      }
      if (c === this.delimiter) {
        this.endField();
        this.grow();
      } else if (c === '\n' || c === '\r') {
        this.afterCR = c === '\r';
        this.line++;
        this.endRecord(out);
      } else if (this.closed) {
        if (c !== ' ' && c !== '\t') this.malformed ??= 'CSV_INVALID_CLOSING_QUOTE';
      } else if (c === QUOTE && this.field.trim() === '') {
        this.field = '';
        this.quoted = true;
        this.wasQuoted = true;
      } else {
        this.append(c);
      }
    }
  }

  /** The end of the input: the last record, or a quote never closed. */
  end(out: Array<CsvRecord | MalformedRecord>): void {
    if (this.quoted && !this.quotePending) {
      this.malformed ??= 'CSV_QUOTE_NOT_CLOSED';
    }
    this.quoted = false;
    this.quotePending = false;
    this.endRecord(out);
  }

  private append(c: string): void {
    this.field += c;
    this.grow();
  }

  private grow(): void {
    this.size++;
    if (this.size > this.maxSize) throw new RecordTooLargeError(this.recordLine, this.maxSize);
  }

  private endField(): void {
    this.record.push(this.wasQuoted ? this.field : this.field.trim());
    this.field = '';
    this.wasQuoted = false;
    this.closed = false;
  }

  private endRecord(out: Array<CsvRecord | MalformedRecord>): void {
    const empty =
      this.record.length === 0 && this.field === '' && !this.wasQuoted && !this.malformed;
    if (!empty) {
      this.endField();
      if (this.malformed) out.push({ row: this.recordLine, malformed: this.malformed });
      else out.push({ row: this.recordLine, cells: this.record });
    }
    this.record = [];
    this.field = '';
    this.size = 0;
    this.wasQuoted = false;
    this.closed = false;
    this.malformed = null;
    this.recordLine = this.line;
  }
}
