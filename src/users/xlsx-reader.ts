import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { posix } from 'node:path';
import { pipeline, type Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { createInflateRaw } from 'node:zlib';
import { SaxesParser, type SaxesTagPlain } from 'saxes';

/**
 * A bounded reader for the first worksheet of an uploaded XLSX file (a zip of XML parts), for
 * POST /users/import. An upload is hostile until read: a few KB of deflate can expand into
 * gigabytes (a zip bomb), one shared string can be hundreds of MB, a directory can list a
 * million entries. So the file is read from a temporary copy through its zip directory, only
 * the parts needed are inflated (package and workbook relationships, workbook, shared
 * strings, the first worksheet), every inflated byte is counted against the limits below, and
 * no text run can grow past `maxTextBytes`. Rows come out as the sheet is parsed.
 */

export interface XlsxLimits {
  /** Inflated bytes read from the archive, all parts together. */
  maxUncompressedBytes: number;
  /** Inflated size of the shared-strings part (xl/sharedStrings.xml). */
  maxSharedStringsBytes: number;
  /** Entries of the shared-strings table. */
  maxSharedStrings: number;
  /** Longest stretch of XML without a tag: bounds one text, attribute or cell value. */
  maxTextBytes: number;
}

export const XLSX_LIMITS: XlsxLimits = {
  maxUncompressedBytes: 128 * 1024 * 1024,
  maxSharedStringsBytes: 32 * 1024 * 1024,
  maxSharedStrings: 1_000_000,
  maxTextBytes: 64 * 1024,
};

/** The workbook, relationship parts and the like are small; a large one is not a spreadsheet. */
const MAX_SMALL_PART_BYTES = 1024 * 1024;
const MAX_ZIP_ENTRIES = 10_000;
const MAX_DIRECTORY_BYTES = 8 * 1024 * 1024;
/** Excel's own limits: columns A..XFD, rows 1..1048576. */
const MAX_COLUMNS = 16_384;
const MAX_ROW_NUMBER = 1_048_576;
const READ_CHUNK = 16 * 1024;

/** The file is not a readable XLSX (damaged zip or XML). */
export class XlsxFormatError extends Error {}
/** The file is a workbook this reader does not take (encrypted, no worksheet, ...). */
export class XlsxUnsupportedError extends Error {}
/** The file is over one of the limits (decompressed size, shared strings, text length). */
export class XlsxLimitError extends Error {}

export interface XlsxRow {
  /** 1-based row number in the sheet. */
  row: number;
  cells: string[];
}

interface ZipEntry {
  flags: number;
  method: number;
  compressedSize: number;
  localHeaderOffset: number;
}

interface Budget {
  total: number;
  remaining: number;
}

interface Relationship {
  id: string;
  type: string;
  target: string;
}

/** Rows of the first worksheet (in workbook order) of the XLSX file at `path`. */
export async function* xlsxFileRows(
  path: string,
  limits: XlsxLimits = XLSX_LIMITS,
): AsyncGenerator<XlsxRow> {
  const file = await open(path, 'r');
  let entries: Map<string, ZipEntry>;
  let size: number;
  try {
    size = (await file.stat()).size;
    entries = await readDirectory(file, size);
  } finally {
    await file.close();
  }
  const budget: Budget = {
    total: limits.maxUncompressedBytes,
    remaining: limits.maxUncompressedBytes,
  };
  const part = (name: string): ZipEntry | undefined => entries.get(name.toLowerCase());
  const bytes = (entry: ZipEntry, maxBytes: number, what: string) =>
    entryBytes(path, size, entry, budget, maxBytes, what);

  let workbookPath = 'xl/workbook.xml';
  const packageRels = part('_rels/.rels');
  if (packageRels) {
    const rels = await readRelationships(
      bytes(packageRels, MAX_SMALL_PART_BYTES, 'a part'),
      limits,
    );
    const office = rels.find((r) => r.type.endsWith('/officeDocument'));
    if (office) workbookPath = resolveTarget('', office.target);
  }
  const workbook = part(workbookPath);
  if (!workbook) throw new XlsxFormatError('The XLSX file has no workbook part.');
  const workbookDir = posix.dirname(workbookPath);
  const relsPath = posix.join(workbookDir, '_rels', `${posix.basename(workbookPath)}.rels`);
  const relsEntry = part(relsPath);
  const rels = relsEntry
    ? await readRelationships(bytes(relsEntry, MAX_SMALL_PART_BYTES, 'a part'), limits)
    : [];
  const sheetIds = await readSheetIds(bytes(workbook, MAX_SMALL_PART_BYTES, 'a part'), limits);

  const byId = new Map(rels.map((r) => [r.id, r]));
  const first = sheetIds
    .map((id) => byId.get(id))
    .find((r): r is Relationship => r !== undefined && r.type.endsWith('/worksheet'));
  if (!first) throw new XlsxUnsupportedError('The XLSX file has no worksheet.');
  const sheet = part(resolveTarget(workbookDir, first.target));
  if (!sheet) throw new XlsxFormatError('The first worksheet of the XLSX file is missing.');

  const stringsRel = rels.find((r) => r.type.endsWith('/sharedStrings'));
  const stringsEntry = stringsRel ? part(resolveTarget(workbookDir, stringsRel.target)) : undefined;
  const strings = stringsEntry
    ? await readSharedStrings(
        bytes(stringsEntry, limits.maxSharedStringsBytes, 'the shared strings'),
        limits,
      )
    : [];

  yield* readSheet(bytes(sheet, Number.MAX_SAFE_INTEGER, 'the worksheet'), strings, limits);
}

/** A relationship target, relative to the folder of the part that names it, as a zip path. */
function resolveTarget(fromDir: string, target: string): string {
  const path = target.startsWith('/') ? target.slice(1) : posix.join(fromDir, target);
  return posix.normalize(path).replace(/^(\.\.\/)+/, '');
}

// ---- zip

/** The central directory: entry names (lower-case) to where their data lies. */
async function readDirectory(file: FileHandle, size: number): Promise<Map<string, ZipEntry>> {
  try {
    const tailLength = Math.min(size, 22 + 0xffff);
    const tail = await readAt(file, size - tailLength, tailLength);
    let eocd = -1;
    for (let i = tailLength - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === 0x06054b50) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw new XlsxFormatError('The XLSX file has no zip directory.');
    let count = tail.readUInt16LE(eocd + 10);
    let dirSize = tail.readUInt32LE(eocd + 12);
    let dirOffset = tail.readUInt32LE(eocd + 16);
    if (count === 0xffff || dirSize === 0xffffffff || dirOffset === 0xffffffff) {
      // Zip64: a locator right before the end record points at the zip64 end record.
      const locator = eocd - 20;
      if (locator < 0 || tail.readUInt32LE(locator) !== 0x07064b50) {
        throw new XlsxFormatError('The zip64 directory of the XLSX file is damaged.');
      }
      const record = await readAt(file, Number(tail.readBigUInt64LE(locator + 8)), 56);
      if (record.readUInt32LE(0) !== 0x06064b50) {
        throw new XlsxFormatError('The zip64 directory of the XLSX file is damaged.');
      }
      count = Number(record.readBigUInt64LE(32));
      dirSize = Number(record.readBigUInt64LE(40));
      dirOffset = Number(record.readBigUInt64LE(48));
    }
    if (count > MAX_ZIP_ENTRIES || dirSize > MAX_DIRECTORY_BYTES) {
      throw new XlsxLimitError(
        `The XLSX file holds more than ${MAX_ZIP_ENTRIES} parts; a spreadsheet has a few dozen.`,
      );
    }
    if (dirOffset + dirSize > size) throw new XlsxFormatError('The XLSX zip directory is cut.');
    const dir = await readAt(file, dirOffset, dirSize);
    const entries = new Map<string, ZipEntry>();
    let p = 0;
    for (let i = 0; i < count; i++) {
      if (dir.readUInt32LE(p) !== 0x02014b50) {
        throw new XlsxFormatError('The XLSX zip directory is damaged.');
      }
      const flags = dir.readUInt16LE(p + 8);
      const method = dir.readUInt16LE(p + 10);
      let compressedSize = dir.readUInt32LE(p + 20);
      const uncompressedSize = dir.readUInt32LE(p + 24);
      const nameLength = dir.readUInt16LE(p + 28);
      const extraLength = dir.readUInt16LE(p + 30);
      const commentLength = dir.readUInt16LE(p + 32);
      let localHeaderOffset = dir.readUInt32LE(p + 42);
      const name = dir.toString('utf8', p + 46, p + 46 + nameLength);
      // Zip64 extra field: the 64-bit values of the fields set to 0xFFFFFFFF, in this order.
      let e = p + 46 + nameLength;
      const extraEnd = e + extraLength;
      while (e + 4 <= extraEnd) {
        const id = dir.readUInt16LE(e);
        const length = dir.readUInt16LE(e + 2);
        if (id === 0x0001) {
          let q = e + 4;
          if (uncompressedSize === 0xffffffff) q += 8;
          if (compressedSize === 0xffffffff) {
            compressedSize = Number(dir.readBigUInt64LE(q));
            q += 8;
          }
          if (localHeaderOffset === 0xffffffff) localHeaderOffset = Number(dir.readBigUInt64LE(q));
        }
        e += 4 + length;
      }
      p = extraEnd + commentLength;
      entries.set(name.replace(/^\/+/, '').toLowerCase(), {
        flags,
        method,
        compressedSize,
        localHeaderOffset,
      });
    }
    return entries;
  } catch (err) {
    // A Buffer read past the end (RangeError): the directory lies about its own sizes.
    if (err instanceof RangeError) throw new XlsxFormatError('The XLSX zip directory is damaged.');
    throw err;
  }
}

async function readAt(file: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  const { bytesRead } = await file.read(buffer, 0, length, position);
  if (bytesRead !== length) throw new XlsxFormatError('The XLSX file is cut short.');
  return buffer;
}

/** One entry's bytes, inflated as they are read and counted against the limits. */
async function* entryBytes(
  path: string,
  size: number,
  entry: ZipEntry,
  budget: Budget,
  maxBytes: number,
  what: string,
): AsyncGenerator<Buffer> {
  if (entry.flags & 0x1) throw new XlsxUnsupportedError('Encrypted XLSX files are not supported.');
  if (entry.method !== 0 && entry.method !== 8) {
    throw new XlsxUnsupportedError('The XLSX file uses a compression this server does not read.');
  }
  const file = await open(path, 'r');
  let header: Buffer;
  try {
    header = await readAt(file, entry.localHeaderOffset, 30);
  } finally {
    await file.close();
  }
  if (header.readUInt32LE(0) !== 0x04034b50) {
    throw new XlsxFormatError('An entry of the XLSX file is damaged.');
  }
  const start = entry.localHeaderOffset + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
  if (start + entry.compressedSize > size) {
    throw new XlsxFormatError('An entry of the XLSX file is cut short.');
  }
  if (entry.compressedSize === 0) return;
  const raw = createReadStream(path, {
    start,
    end: start + entry.compressedSize - 1,
    highWaterMark: READ_CHUNK,
  });
  let source: Readable = raw;
  if (entry.method === 8) {
    const inflate = createInflateRaw({ chunkSize: READ_CHUNK });
    pipeline(raw, inflate, () => undefined);
    source = inflate;
  }
  let seen = 0;
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      seen += chunk.length;
      budget.remaining -= chunk.length;
      if (seen > maxBytes) {
        throw new XlsxLimitError(
          `${capitalize(what)} of the XLSX file decompress to more than ${mib(maxBytes)}.`,
        );
      }
      if (budget.remaining < 0) {
        throw new XlsxLimitError(`The XLSX file decompresses to more than ${mib(budget.total)}.`);
      }
      yield chunk;
    }
  } catch (err) {
    if (err instanceof XlsxLimitError) throw err;
    throw new XlsxFormatError(`${capitalize(what)} of the XLSX file could not be inflated.`);
  } finally {
    raw.destroy();
    source.destroy();
  }
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function mib(bytes: number): string {
  return `${Math.round(bytes / 1024 / 1024)} MiB`;
}

// ---- XML

type Parser = SaxesParser<{ xmlns: false }>;

/** The local name of an element or attribute: `x:row` is `row`. */
function local(name: string): string {
  const colon = name.indexOf(':');
  return colon === -1 ? name : name.slice(colon + 1);
}

function attribute(tag: SaxesTagPlain, name: string): string | undefined {
  for (const [key, value] of Object.entries(tag.attributes)) {
    if (local(key) === name) return value;
  }
  return undefined;
}

/**
 * Feeds the bytes to the parser, yielding after each chunk so the caller can take what the
 * handlers collected. A stretch of more than maxTextBytes without a `<` (one text node or
 * attribute value: neither may hold a raw `<`) stops it before the parser buffers it.
 */
async function* feed(
  chunks: AsyncIterable<Buffer>,
  parser: Parser,
  limits: XlsxLimits,
): AsyncGenerator<void> {
  const decoder = new StringDecoder('utf8');
  let run = 0;
  const tooLong = (): XlsxLimitError =>
    new XlsxLimitError(
      `A value in the XLSX file is longer than ${limits.maxTextBytes / 1024} KiB.`,
    );
  for await (const chunk of chunks) {
    const first = chunk.indexOf(0x3c);
    if (first === -1) {
      run += chunk.length;
      if (run > limits.maxTextBytes) throw tooLong();
    } else {
      if (run + first > limits.maxTextBytes) throw tooLong();
      run = chunk.length - chunk.lastIndexOf(0x3c) - 1;
    }
    write(parser, decoder.write(chunk));
    yield;
  }
  write(parser, decoder.end());
  try {
    parser.close();
  } catch (err) {
    throw asFormatError(err);
  }
  yield;
}

async function drain(steps: AsyncGenerator<void>): Promise<void> {
  for (;;) if ((await steps.next()).done) return;
}

function write(parser: Parser, text: string): void {
  try {
    parser.write(text);
  } catch (err) {
    throw asFormatError(err);
  }
}

/** Errors thrown by our handlers pass through; saxes' own mean the XML is broken. */
function asFormatError(err: unknown): unknown {
  if (err instanceof XlsxLimitError || err instanceof XlsxFormatError) return err;
  if (err instanceof XlsxUnsupportedError) return err;
  return new XlsxFormatError('The XLSX file holds XML that cannot be read.');
}

function newParser(): Parser {
  return new SaxesParser({ xmlns: false, position: false });
}

async function readRelationships(
  chunks: AsyncIterable<Buffer>,
  limits: XlsxLimits,
): Promise<Relationship[]> {
  const parser = newParser();
  const rels: Relationship[] = [];
  parser.on('opentag', (tag) => {
    if (local(tag.name) !== 'Relationship') return;
    const id = attribute(tag, 'Id');
    const type = attribute(tag, 'Type');
    const target = attribute(tag, 'Target');
    const mode = attribute(tag, 'TargetMode');
    if (id && type && target && mode !== 'External') rels.push({ id, type, target });
  });
  await drain(feed(chunks, parser, limits));
  return rels;
}

/** The relationship ids of the workbook's sheets, in tab order. */
async function readSheetIds(chunks: AsyncIterable<Buffer>, limits: XlsxLimits): Promise<string[]> {
  const parser = newParser();
  const ids: string[] = [];
  parser.on('opentag', (tag) => {
    if (local(tag.name) !== 'sheet') return;
    const id = attribute(tag, 'id'); // r:id
    if (id) ids.push(id);
  });
  await drain(feed(chunks, parser, limits));
  return ids;
}

/** The shared-strings table: each `<si>`'s text runs joined, phonetic runs (`<rPh>`) left out. */
async function readSharedStrings(
  chunks: AsyncIterable<Buffer>,
  limits: XlsxLimits,
): Promise<string[]> {
  const parser = newParser();
  const strings: string[] = [];
  let inItem = false;
  let inText = false;
  let phonetic = 0;
  let current = '';
  const onText = (text: string): void => {
    if (!inText) return;
    current += text;
    if (current.length > limits.maxTextBytes) {
      throw new XlsxLimitError(
        `A shared string of the XLSX file is longer than ${limits.maxTextBytes / 1024} KiB.`,
      );
    }
  };
  parser.on('opentag', (tag) => {
    switch (local(tag.name)) {
      case 'si':
        inItem = true;
        current = '';
        break;
      case 't':
        inText = inItem && phonetic === 0;
        break;
      case 'rPh':
        phonetic++;
        break;
    }
  });
  parser.on('text', onText);
  parser.on('cdata', onText);
  parser.on('closetag', (tag) => {
    switch (local(tag.name)) {
      case 't':
        inText = false;
        break;
      case 'rPh':
        phonetic--;
        break;
      case 'si':
        inItem = false;
        strings.push(current);
        current = '';
        if (strings.length > limits.maxSharedStrings) {
          throw new XlsxLimitError(
            `The XLSX file has more than ${limits.maxSharedStrings} shared strings.`,
          );
        }
        break;
    }
  });
  await drain(feed(chunks, parser, limits));
  return strings;
}

/** "AB12" -> 27 (0-based column index); -1 when the reference has no letters. */
function columnIndex(ref: string): number {
  let n = 0;
  let i = 0;
  for (; i < ref.length; i++) {
    const c = ref.charCodeAt(i);
    const upper = c >= 97 && c <= 122 ? c - 32 : c;
    if (upper < 65 || upper > 90) break;
    n = n * 26 + (upper - 64);
    if (n > MAX_COLUMNS) return MAX_COLUMNS;
  }
  return i === 0 ? -1 : n - 1;
}

/** A cell as the text a person sees (numbers unformatted, booleans true/false, errors blank). */
function cellText(type: string, value: string, strings: string[]): string {
  switch (type) {
    case 's': {
      const index = Number(value);
      return Number.isInteger(index) && index >= 0 && index < strings.length ? strings[index] : '';
    }
    case 'inlineStr':
    case 'str':
      return value;
    case 'b':
      return value === '1' ? 'true' : value === '0' ? 'false' : value;
    case 'e':
      return '';
    case 'd': {
      const date = new Date(value);
      return Number.isNaN(date.getTime()) ? value : date.toISOString();
    }
    default: {
      if (value === '') return '';
      const number = Number(value);
      return Number.isFinite(number) ? String(number) : value;
    }
  }
}

async function* readSheet(
  chunks: AsyncIterable<Buffer>,
  strings: string[],
  limits: XlsxLimits,
): AsyncGenerator<XlsxRow> {
  const parser = newParser();
  const ready: XlsxRow[] = [];
  let rowNumber = 0;
  let cells: string[] | null = null;
  let column = -1;
  let type = 'n';
  let value = '';
  let inCell = false;
  let inValue = false;
  let inInline = false;
  let inText = false;
  let phonetic = 0;
  const onText = (text: string): void => {
    if (!inValue && !inText) return;
    value += text;
    if (value.length > limits.maxTextBytes) {
      throw new XlsxLimitError(
        `A cell of the XLSX file is longer than ${limits.maxTextBytes / 1024} KiB.`,
      );
    }
  };
  parser.on('opentag', (tag) => {
    switch (local(tag.name)) {
      case 'row': {
        const r = attribute(tag, 'r');
        const n = r === undefined ? rowNumber + 1 : Number(r);
        if (!Number.isInteger(n) || n < 1 || n > MAX_ROW_NUMBER) {
          throw new XlsxFormatError('The XLSX worksheet has a bad row number.');
        }
        rowNumber = n;
        cells = [];
        column = -1;
        break;
      }
      case 'c': {
        const ref = attribute(tag, 'r');
        const index = ref === undefined ? -1 : columnIndex(ref);
        column = index === -1 ? column + 1 : index;
        if (column >= MAX_COLUMNS) {
          throw new XlsxFormatError('The XLSX worksheet has a cell past column XFD.');
        }
        type = attribute(tag, 't') ?? 'n';
        value = '';
        inCell = true;
        break;
      }
      case 'v':
        inValue = inCell;
        break;
      case 'is':
        inInline = inCell;
        break;
      case 't':
        inText = inInline && phonetic === 0;
        break;
      case 'rPh':
        phonetic++;
        break;
    }
  });
  parser.on('text', onText);
  parser.on('cdata', onText);
  parser.on('closetag', (tag) => {
    switch (local(tag.name)) {
      case 'v':
        inValue = false;
        break;
      case 't':
        inText = false;
        break;
      case 'is':
        inInline = false;
        break;
      case 'rPh':
        phonetic--;
        break;
      case 'c':
        if (cells && inCell) cells[column] = cellText(type, value, strings);
        inCell = false;
        break;
      case 'row':
        if (cells) {
          for (let i = 0; i < cells.length; i++) cells[i] ??= '';
          ready.push({ row: rowNumber, cells });
        }
        cells = null;
        break;
    }
  });
  for await (const _ of feed(chunks, parser, limits)) {
    for (const row of ready.splice(0)) yield row;
  }
}
