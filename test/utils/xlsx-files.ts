import { once } from 'node:events';
import { createDeflateRaw, crc32, deflateRawSync } from 'node:zlib';

/**
 * Hand-made XLSX files for the import tests: real zips (deflate, CRCs, central directory), so
 * a test can build what no spreadsheet program writes: zip bombs, huge shared strings, XML
 * with namespace prefixes, encrypted or odd entries.
 */

export interface ZipPart {
  name: string;
  /** Deflated bytes, their inflated size and CRC (see deflated()). */
  deflated: Buffer;
  size: number;
  crc: number;
  /** Stored instead of deflated (method 0); `deflated` then holds the raw bytes. */
  stored?: boolean;
  /** General-purpose flags (bit 0: encrypted). */
  flags?: number;
}

export function part(name: string, text: string | Buffer, stored = false): ZipPart {
  const data = Buffer.isBuffer(text) ? text : Buffer.from(text, 'utf8');
  return {
    name,
    deflated: stored ? data : deflateRawSync(data),
    size: data.length,
    crc: crc32(data),
    stored,
  };
}

/**
 * A part of `head` + `times` x `chunk` + `tail`, deflated as a stream: a few hundred KB that
 * inflate to hundreds of MB, without holding them in this process.
 */
export async function repeatedPart(
  name: string,
  head: string,
  chunk: string,
  times: number,
  tail: string,
): Promise<ZipPart> {
  const deflate = createDeflateRaw({ level: 9 });
  const out: Buffer[] = [];
  deflate.on('data', (b: Buffer) => out.push(b));
  const block = Buffer.from(chunk.repeat(Math.max(1, Math.floor((1024 * 1024) / chunk.length))));
  const blocks = Math.ceil((chunk.length * times) / block.length);
  let crc = crc32(head);
  let size = Buffer.byteLength(head);
  deflate.write(head);
  for (let i = 0; i < blocks; i++) {
    crc = crc32(block, crc);
    size += block.length;
    if (!deflate.write(block)) await once(deflate, 'drain');
  }
  crc = crc32(tail, crc);
  size += Buffer.byteLength(tail);
  deflate.end(tail);
  await once(deflate, 'end');
  return { name, deflated: Buffer.concat(out), size, crc };
}

/** The zip archive of the parts, in order, with its central directory. */
export function zip(parts: ZipPart[]): Buffer {
  const locals: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const p of parts) {
    const name = Buffer.from(p.name, 'utf8');
    const method = p.stored ? 0 : 8;
    const flags = p.flags ?? 0;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(p.crc >>> 0, 14);
    local.writeUInt32LE(p.deflated.length, 18);
    local.writeUInt32LE(p.size >>> 0, 22);
    local.writeUInt16LE(name.length, 26);
    locals.push(local, name, p.deflated);

    const entry = Buffer.alloc(46);
    entry.writeUInt32LE(0x02014b50, 0);
    entry.writeUInt16LE(20, 4);
    entry.writeUInt16LE(20, 6);
    entry.writeUInt16LE(flags, 8);
    entry.writeUInt16LE(method, 10);
    entry.writeUInt32LE(p.crc >>> 0, 16);
    entry.writeUInt32LE(p.deflated.length, 20);
    entry.writeUInt32LE(p.size >>> 0, 24);
    entry.writeUInt16LE(name.length, 28);
    entry.writeUInt32LE(offset, 42);
    central.push(entry, name);
    offset += 30 + name.length + p.deflated.length;
  }
  const directory = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(parts.length, 8);
  end.writeUInt16LE(parts.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

const NS = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
const REL_NS = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
const PKG_REL_NS = 'http://schemas.openxmlformats.org/package/2006/relationships';

/** The parts of a minimal workbook around a worksheet and (optionally) shared strings. */
export function workbookParts(options: {
  sheet: ZipPart | string;
  sharedStrings?: ZipPart | string;
}): ZipPart[] {
  const sheet =
    typeof options.sheet === 'string'
      ? part('xl/worksheets/sheet1.xml', options.sheet)
      : options.sheet;
  const strings =
    typeof options.sharedStrings === 'string'
      ? part('xl/sharedStrings.xml', options.sharedStrings)
      : options.sharedStrings;
  const rels = [
    `<Relationship Id="rId1" Type="${REL_NS}/worksheet" Target="worksheets/sheet1.xml"/>`,
    strings
      ? `<Relationship Id="rId2" Type="${REL_NS}/sharedStrings" Target="sharedStrings.xml"/>`
      : '',
  ].join('');
  return [
    part(
      '[Content_Types].xml',
      '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
    ),
    part(
      '_rels/.rels',
      `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="${PKG_REL_NS}"><Relationship Id="rId1" Type="${REL_NS}/officeDocument" Target="xl/workbook.xml"/></Relationships>`,
    ),
    part(
      'xl/workbook.xml',
      `<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="${NS}" xmlns:r="${REL_NS}"><sheets><sheet name="users" sheetId="1" r:id="rId1"/></sheets></workbook>`,
    ),
    part(
      'xl/_rels/workbook.xml.rels',
      `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="${PKG_REL_NS}">${rels}</Relationships>`,
    ),
    // Excel writes the sheets before the shared strings: the reader must not care.
    sheet,
    ...(strings ? [strings] : []),
  ];
}

/** `<worksheet><sheetData>rows</sheetData></worksheet>`; rows as the XML between. */
export function sheetXml(rows: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="${NS}"><sheetData>${rows}</sheetData></worksheet>`;
}

/** A row of inline-string cells (no shared strings needed). */
export function inlineRow(r: number, values: string[]): string {
  const cells = values
    .map(
      (v, i) => `<c r="${String.fromCharCode(65 + i)}${r}" t="inlineStr"><is><t>${v}</t></is></c>`,
    )
    .join('');
  return `<row r="${r}">${cells}</row>`;
}

export const HEADER = ['name', 'email', 'role', 'organization', 'state'];
