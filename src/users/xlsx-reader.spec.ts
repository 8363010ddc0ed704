import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  inlineRow,
  part,
  repeatedPart,
  sheetXml,
  workbookParts,
  zip,
  ZipPart,
} from '../../test/utils/xlsx-files';
import {
  XLSX_LIMITS,
  xlsxFileRows,
  XlsxFormatError,
  XlsxLimitError,
  XlsxLimits,
  XlsxRow,
  XlsxUnsupportedError,
} from './xlsx-reader';

describe('xlsxFileRows', () => {
  let dir: string;
  let n = 0;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'xlsx-reader-spec-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function file(content: Buffer | ZipPart[]): string {
    const path = join(dir, `f${n++}.xlsx`);
    writeFileSync(path, Buffer.isBuffer(content) ? content : zip(content));
    return path;
  }

  async function read(path: string, limits: Partial<XlsxLimits> = {}): Promise<XlsxRow[]> {
    const rows: XlsxRow[] = [];
    for await (const row of xlsxFileRows(path, { ...XLSX_LIMITS, ...limits })) rows.push(row);
    return rows;
  }

  async function failure(path: string, limits: Partial<XlsxLimits> = {}): Promise<Error> {
    try {
      await read(path, limits);
    } catch (err) {
      return err as Error;
    }
    throw new Error('expected the read to fail');
  }

  it('reads shared, inline, rich-text, number, boolean, error and date cells, with their row numbers', async () => {
    const strings =
      '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">' +
      '<si><t>name</t></si>' +
      '<si><r><t>Ana </t></r><r><rPr><b/></rPr><t xml:space="preserve">Lima</t></r><rPh><t>アナ</t></rPh></si>' +
      '<si><t>a&amp;b@example.com</t></si>' +
      '</sst>';
    const sheet = sheetXml(
      '<row r="1"><c r="A1" t="s"><v>0</v></c></row>' +
        '<row r="3"><c r="A3" t="s"><v>1</v></c><c r="B3" t="s"><v>2</v></c>' +
        '<c r="D3"><v>3.0</v></c><c r="E3" t="b"><v>1</v></c><c r="F3" t="e"><v>#N/A</v></c>' +
        '<c r="G3" t="inlineStr"><is><t>inline</t></is></c><c r="H3" t="d"><v>2025-01-02T03:04:05Z</v></c>' +
        '<c r="I3" t="str"><f>A3</f><v>formula</v></c><c r="J3" t="s"><v>99</v></c></row>',
    );
    const rows = await read(file(workbookParts({ sheet, sharedStrings: strings })));
    expect(rows).toEqual([
      { row: 1, cells: ['name'] },
      {
        row: 3,
        cells: [
          'Ana Lima',
          'a&b@example.com',
          '',
          '3',
          'true',
          '',
          'inline',
          '2025-01-02T03:04:05.000Z',
          'formula',
          '',
        ],
      },
    ]);
  });

  it('takes the first sheet of the workbook, not of the zip, and reads prefixed and stored parts', async () => {
    const parts = workbookParts({ sheet: sheetXml(inlineRow(1, ['first'])) });
    const workbook = parts.findIndex((p) => p.name === 'xl/workbook.xml');
    parts[workbook] = part(
      'xl/workbook.xml',
      '<x:workbook xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main" ' +
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">' +
        '<x:sheets><x:sheet name="b" sheetId="2" r:id="rId3"/><x:sheet name="a" sheetId="1" r:id="rId1"/></x:sheets></x:workbook>',
    );
    const rels = parts.findIndex((p) => p.name === 'xl/_rels/workbook.xml.rels');
    parts[rels] = part(
      'xl/_rels/workbook.xml.rels',
      '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">' +
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>' +
        '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="/xl/worksheets/sheet2.xml"/>' +
        '</Relationships>',
    );
    parts.push(
      part(
        'xl/worksheets/sheet2.xml',
        '<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:sheetData>' +
          '<x:row><x:c t="inlineStr"><x:is><x:t>second</x:t></x:is></x:c><x:c><x:v>7</x:v></x:c></x:row>' +
          '</x:sheetData></x:worksheet>',
        true,
      ),
    );
    expect(await read(file(parts))).toEqual([{ row: 1, cells: ['second', '7'] }]);
  });

  it('stops a zip bomb: one shared string of 200 MB is refused after 64 KiB', async () => {
    const strings = await repeatedPart(
      'xl/sharedStrings.xml',
      '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>',
      'AAAAAAAA',
      25 * 1024 * 1024,
      '</t></si></sst>',
    );
    expect(strings.deflated.length).toBeLessThan(1024 * 1024);
    const err = await failure(
      file(workbookParts({ sheet: sheetXml(inlineRow(1, ['name'])), sharedStrings: strings })),
    );
    expect(err).toBeInstanceOf(XlsxLimitError);
    expect(err.message).toMatch(/longer than 64 KiB/);
  });

  it('bounds the inflated bytes of the whole file and of the shared strings', async () => {
    const rows = Array.from({ length: 2000 }, (_, i) => inlineRow(i + 1, ['x'.repeat(100)])).join(
      '',
    );
    const path = file(workbookParts({ sheet: sheetXml(rows) }));
    expect(await read(path)).toHaveLength(2000);
    const total = await failure(path, { maxUncompressedBytes: 100_000 });
    expect(total).toBeInstanceOf(XlsxLimitError);
    expect(total.message).toMatch(/decompresses to more than/);

    const strings = Array.from({ length: 5000 }, (_, i) => `<si><t>s${i}</t></si>`).join('');
    const withStrings = file(
      workbookParts({
        sheet: sheetXml(inlineRow(1, ['name'])),
        sharedStrings: `<sst>${strings}</sst>`,
      }),
    );
    expect(await read(withStrings)).toHaveLength(1);
    expect(await failure(withStrings, { maxSharedStringsBytes: 10_000 })).toBeInstanceOf(
      XlsxLimitError,
    );
    const count = await failure(withStrings, { maxSharedStrings: 4999 });
    expect(count).toBeInstanceOf(XlsxLimitError);
    expect(count.message).toMatch(/more than 4999 shared strings/);
  });

  it('bounds a long inline cell and a long attribute', async () => {
    const long = file(workbookParts({ sheet: sheetXml(inlineRow(1, ['y'.repeat(70_000)])) }));
    expect(await failure(long)).toBeInstanceOf(XlsxLimitError);
    const attribute = file(
      workbookParts({ sheet: sheetXml(`<row r="1" spans="${'1'.repeat(70_000)}"></row>`) }),
    );
    expect(await failure(attribute)).toBeInstanceOf(XlsxLimitError);
  });

  it('refuses encrypted entries, workbooks without a worksheet, and damaged files', async () => {
    const encrypted = workbookParts({ sheet: sheetXml(inlineRow(1, ['a'])) });
    encrypted[4] = { ...encrypted[4], flags: 1 };
    expect(await failure(file(encrypted))).toBeInstanceOf(XlsxUnsupportedError);

    const noSheet = workbookParts({ sheet: sheetXml('') }).map((p) =>
      p.name === 'xl/_rels/workbook.xml.rels'
        ? part(
            p.name,
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"/>',
          )
        : p,
    );
    expect(await failure(file(noSheet))).toBeInstanceOf(XlsxUnsupportedError);

    expect(await failure(file(Buffer.from('PK\x03\x04 not a zip at all')))).toBeInstanceOf(
      XlsxFormatError,
    );
    const brokenXml = file(workbookParts({ sheet: '<worksheet><sheetData><row></sheetData>' }));
    expect(await failure(brokenXml)).toBeInstanceOf(XlsxFormatError);
    const entity = file(
      workbookParts({ sheet: sheetXml('<row r="1"><c><v>&boom;</v></c></row>') }),
    );
    expect(await failure(entity)).toBeInstanceOf(XlsxFormatError);
    const farColumn = file(
      workbookParts({ sheet: sheetXml('<row r="1"><c r="ZZZZ1"><v>1</v></c></row>') }),
    );
    expect(await failure(farColumn)).toBeInstanceOf(XlsxFormatError);
    const zipBytes = zip(workbookParts({ sheet: sheetXml(inlineRow(1, ['a'])) }));
    expect(await failure(file(zipBytes.subarray(0, zipBytes.length - 30)))).toBeInstanceOf(
      XlsxFormatError,
    );
  });

  it('refuses a directory of more entries than a spreadsheet has', async () => {
    const parts = workbookParts({ sheet: sheetXml(inlineRow(1, ['a'])) });
    for (let i = 0; i < 10_001; i++) parts.push(part(`junk/${i}`, '', true));
    const err = await failure(file(parts));
    expect(err).toBeInstanceOf(XlsxLimitError);
  });
});
