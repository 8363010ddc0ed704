import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { StringDecoder } from 'node:string_decoder';
import { CsvRecordReader, type CsvRecord, type MalformedRecord } from './csv-records';

export { RecordTooLargeError } from './csv-records';

/**
 * Streaming readers for uploaded spreadsheets: each yields rows as arrays of strings with
 * the row's 1-based position in the file (the header is row 1), never the whole file.
 */

export type ImportFormat = 'csv' | 'xlsx';

export type SourceRow = CsvRecord;
export type MalformedRow = MalformedRecord;

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

/**
 * CSV rows, parsed as the bytes arrive (see csv-records.ts); a line the reader cannot read is
 * yielded as malformed and the rest of the file goes on. A record over `maxRecordSize`
 * characters throws RecordTooLargeError.
 */
export async function* csvRows(
  source: Readable,
  options: { delimiter: string; maxRecordSize: number },
): AsyncGenerator<SourceRow | MalformedRow> {
  const reader = new CsvRecordReader(options.delimiter, options.maxRecordSize);
  const decoder = new StringDecoder('utf8');
  const ready: Array<SourceRow | MalformedRow> = [];
  for await (const chunk of source as AsyncIterable<Buffer>) {
    reader.push(decoder.write(chunk), ready);
    for (const row of ready.splice(0)) yield row;
  }
  reader.push(decoder.end(), ready);
  reader.end(ready);
  for (const row of ready.splice(0)) yield row;
}

/** Where an uploaded XLSX waits while it is read (the zip directory is at its end). */
export interface SpooledFile {
  path: string;
  remove(): Promise<void>;
}

/** Copies the upload to a private temporary file; a source error (cut, too large) rejects. */
export async function spool(source: Readable): Promise<SpooledFile> {
  const dir = await mkdtemp(join(tmpdir(), 'portal-import-'));
  const remove = () => rm(dir, { recursive: true, force: true });
  const path = join(dir, 'upload.xlsx');
  try {
    await pipeline(source, createWriteStream(path, { mode: 0o600 }));
  } catch (err) {
    await remove();
    throw err;
  }
  return { path, remove };
}
