import { parse } from 'csv-parse';
import type * as ExcelJS from 'exceljs';
import { loadExcelJs } from './exceljs.loader';
import { pipeline, Readable } from 'node:stream';

/**
 * Streaming readers for uploaded spreadsheets: each yields rows as arrays of strings with
 * the row's 1-based position in the file (the header is row 1), never the whole file.
 */

export type ImportFormat = 'csv' | 'xlsx';

export type SourceRow =
  | { row: number; cells: string[] }
  /** A line the CSV parser could not read (e.g. a stray quote); the rest of the file goes on. */
  | { row: number; malformed: string };

const ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
const OLE_MAGIC = Buffer.from([0xd0, 0xcf, 0x11, 0xe0]); // legacy .xls
const CSV_MIME = new Set([
  'text/csv',
  'text/plain',
  'application/csv',
  'text/comma-separated-values',
  // What browsers on Windows send for .csv when Excel is installed.
  'application/vnd.ms-excel',
]);

export class UnsupportedFileError extends Error {}

/**
 * XLSX by its magic bytes (a ZIP); CSV by extension or MIME type, when the start of the file
 * holds no NUL byte (a binary file named .csv is refused). Anything else is unsupported.
 */
export function detectFormat(head: Buffer, filename: string, mimetype: string): ImportFormat {
  const name = filename.toLowerCase();
  const mime = mimetype.toLowerCase().split(';')[0].trim();
  if (head.subarray(0, 4).equals(ZIP_MAGIC)) return 'xlsx';
  if (head.subarray(0, 4).equals(OLE_MAGIC)) {
    throw new UnsupportedFileError('Legacy .xls files are not supported: save as XLSX or CSV.');
  }
  const looksCsv = name.endsWith('.csv') || name.endsWith('.txt') || CSV_MIME.has(mime);
  if (looksCsv && !head.includes(0)) return 'csv';
  throw new UnsupportedFileError('The file must be a CSV or an XLSX spreadsheet.');
}

/** Reads the first bytes of a stream and hands back a stream that still yields all of them. */
export async function peek(
  source: Readable,
  bytes: number,
): Promise<{ head: Buffer; stream: Readable }> {
  const iterator = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const chunks: Buffer[] = [];
  let length = 0;
  let done = false;
  while (length < bytes) {
    const next = await iterator.next();
    if (next.done) {
      done = true;
      break;
    }
    chunks.push(next.value);
    length += next.value.length;
  }
  const head = Buffer.concat(chunks);
  async function* all(): AsyncGenerator<Buffer> {
    if (head.length > 0) yield head;
    while (!done) {
      const next = await iterator.next();
      if (next.done) return;
      yield next.value;
    }
  }
  return { head, stream: Readable.from(all(), { objectMode: false }) };
}

/** The delimiter used most in the header line: `,`, `;` (Excel in many locales) or a tab. */
export function detectDelimiter(head: Buffer): string {
  const text = head.toString('utf8').replace(/^\uFEFF/, '');
  const firstLine = text.split(/\r?\n/, 1)[0] ?? '';
  let best = ',';
  let bestCount = 0;
  for (const candidate of [',', ';', '\t']) {
    const count = firstLine.split(candidate).length - 1;
    if (count > bestCount) {
      best = candidate;
      bestCount = count;
    }
  }
  return best;
}

function countNewlines(cells: string[]): number {
  let n = 0;
  for (const c of cells) for (let i = c.indexOf('\n'); i !== -1; i = c.indexOf('\n', i + 1)) n++;
  return n;
}

/** CSV rows, parsed as the bytes arrive; the row number is the line the record starts on. */
export async function* csvRows(source: Readable, delimiter: string): AsyncGenerator<SourceRow> {
  const malformed: SourceRow[] = [];
  const parser = parse({
    delimiter,
    bom: true,
    info: true,
    trim: true,
    skip_empty_lines: true,
    relax_column_count: true,
    relax_quotes: true,
    skip_records_with_error: true,
    on_skip: (err) => {
      if (err) {
        const row = typeof err.lines === 'number' ? err.lines : 0;
        malformed.push({ row, malformed: `malformed CSV (${err.code})` });
      }
      return undefined;
    },
  });
  // pipeline() forwards a source error (e.g. the upload was cut) to the parser's iterator.
  pipeline(source, parser, () => undefined);
  for await (const entry of parser as AsyncIterable<{
    record: string[];
    info: { lines: number };
  }>) {
    while (malformed.length > 0) yield malformed.shift()!;
    yield {
      row: entry.info.lines - countNewlines(entry.record),
      cells: entry.record,
    };
  }
  while (malformed.length > 0) yield malformed.shift()!;
}

type CellValue = ExcelJS.CellValue;

/** A spreadsheet cell as the text a person sees (numbers unformatted, links by their text). */
export function cellText(value: CellValue | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') {
    if ('richText' in value && Array.isArray(value.richText)) {
      return value.richText.map((part) => part.text).join('');
    }
    if ('text' in value && typeof value.text === 'string') return value.text;
    if ('result' in value) return cellText(value.result);
  }
  return '';
}

/** Rows of the first worksheet, streamed; later worksheets are read through and ignored. */
export async function* xlsxRows(source: Readable): AsyncGenerator<SourceRow> {
  const reader = new (loadExcelJs().stream.xlsx.WorkbookReader)(source, {
    worksheets: 'emit',
    sharedStrings: 'cache',
    hyperlinks: 'ignore',
    styles: 'ignore',
    entries: 'ignore',
  });
  let first = true;
  // exceljs pipes the source into its unzipper without forwarding errors: race them in.
  for await (const worksheet of failOnError(reader, source)) {
    for await (const row of failOnError(worksheet, source)) {
      if (!first) continue;
      const values = row.values as CellValue[];
      const cells: string[] = [];
      // row.values is 1-based and sparse.
      for (let i = 1; i < values.length; i++) cells.push(cellText(values[i]));
      yield { row: row.number, cells };
    }
    first = false;
  }
  if (first) throw new UnsupportedFileError('The XLSX file has no worksheet.');
}

/**
 * Iterates `inner`, but throws as soon as `source` emits an error (instead of hanging).
 * Each step races a fresh promise, so nothing piles up on a promise that never settles.
 */
async function* failOnError<T>(inner: AsyncIterable<T>, source: Readable): AsyncGenerator<T> {
  let failure: Error | undefined = source.errored ?? undefined;
  let rejectStep: ((err: unknown) => void) | undefined;
  const onError = (err: Error): void => {
    failure = err;
    rejectStep?.(err);
  };
  source.on('error', onError);
  try {
    const iterator = inner[Symbol.asyncIterator]();
    for (;;) {
      if (failure !== undefined) throw failure;
      const next = await new Promise<IteratorResult<T>>((resolve, reject) => {
        rejectStep = reject;
        iterator.next().then(resolve, reject);
      });
      rejectStep = undefined;
      if (next.done) return;
      yield next.value;
    }
  } finally {
    source.off('error', onError);
  }
}
