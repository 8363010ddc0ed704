import { CsvRecord, CsvRecordReader, MalformedRecord, RecordTooLargeError } from './csv-records';

type Out = Array<CsvRecord | MalformedRecord>;

/** Reads the text whole, and again one character at a time: both must agree. */
function read(text: string, delimiter = ',', maxSize = 1000): Out {
  const whole: Out = [];
  const a = new CsvRecordReader(delimiter, maxSize);
  a.push(text, whole);
  a.end(whole);
  const pieces: Out = [];
  const b = new CsvRecordReader(delimiter, maxSize);
  for (const c of text) b.push(c, pieces);
  b.end(pieces);
  expect(pieces).toEqual(whole);
  return whole;
}

describe('CsvRecordReader', () => {
  it('splits fields and records, trims around fields, skips empty lines', () => {
    expect(read('a, b ,c\n\n  \nd,,\n')).toEqual([
      { row: 1, cells: ['a', 'b', 'c'] },
      { row: 3, cells: [''] },
      { row: 4, cells: ['d', '', ''] },
    ]);
  });

  it('reads CRLF, LF and lone CR line ends, and a last line without one', () => {
    expect(read('a\r\nb\nc\rd')).toEqual([
      { row: 1, cells: ['a'] },
      { row: 2, cells: ['b'] },
      { row: 3, cells: ['c'] },
      { row: 4, cells: ['d'] },
    ]);
  });

  it('reads quoted fields: delimiters, doubled quotes and line breaks inside, spaces kept', () => {
    expect(read('"Souza, Bia","say ""hi""", " x "\n"two\r\nlines",z\nnext')).toEqual([
      { row: 1, cells: ['Souza, Bia', 'say "hi"', ' x '] },
      { row: 2, cells: ['two\r\nlines', 'z'] },
      { row: 4, cells: ['next'] },
    ]);
  });

  it('drops a leading BOM and takes a quote inside an unquoted field literally', () => {
    expect(read('\uFEFFname;ab"c;"q" ;d', ';')).toEqual([
      { row: 1, cells: ['name', 'ab"c', 'q', 'd'] },
    ]);
  });

  it('reports a record with text after a closing quote as malformed and goes on', () => {
    expect(read('ok,1\n"Broken"x,2\n"a"\t,3\n')).toEqual([
      { row: 1, cells: ['ok', '1'] },
      { row: 2, malformed: 'CSV_INVALID_CLOSING_QUOTE' },
      { row: 3, cells: ['a', '3'] },
    ]);
  });

  it('reports a quote never closed at the end as malformed', () => {
    expect(read('a,b\n"open,c\nd')).toEqual([
      { row: 1, cells: ['a', 'b'] },
      { row: 2, malformed: 'CSV_QUOTE_NOT_CLOSED' },
    ]);
  });

  it('stops at a record over the size bound, delimiters included, naming its line', () => {
    expect(() => read(`a\n${'x'.repeat(101)}\n`, ',', 100)).toThrow(RecordTooLargeError);
    expect(() => read(`a\n"${'x\n'.repeat(60)}`, ',', 100)).toThrow(/Line 2 is longer/);
    expect(() => read(`a\n${','.repeat(101)}`, ',', 100)).toThrow(RecordTooLargeError);
    expect(read(`${'x'.repeat(100)}\n${'y'.repeat(100)}`, ',', 100)).toHaveLength(2);
  });
});
