/**
 * Issue 13, the readers: no row is lost without a line that says so, a file that is not UTF-8 text or not a regular
 * file is refused at once with one clear reason, memory stays bounded by the row limit, and the silent switches
 * (a NaN cell, odd labels, repeated header names) come with a warning.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, openSync, closeSync, rmSync, symlinkSync, writeSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { CsvParser, csvRecords, uniqueHeader } from '../../src/engine/data/csv';
import { jsonlRecords } from '../../src/engine/data/jsonl';
import { readLines, sniffEncoding } from '../../src/engine/data/rawText';
import { readDataset } from '../../src/engine/data/readDataset';
import { DataError } from '../../src/engine/types';
import { fixtureFolder } from './helpers';

const { dir, fixture } = fixtureFolder('memscore-rel-readers-');

async function dataError(p: Promise<unknown>, re: RegExp): Promise<DataError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof DataError, `a DataError, got ${String(err)}`);
    assert.match(err.message, re);
    return err;
  }
  assert.fail(`expected a DataError matching ${re}`);
}

const words = ['free money now', 'meeting moved to tuesday', 'cheap pills offer', 'lunch with the team'];
const textRow = (i: number) => `${words[i % 4]} number ${i}`;
const labelOf = (i: number) => (i % 2 ? 'ham' : 'spam');

describe('TSV has no quoting: a field that starts with " is text', () => {
  it('keeps every row (300 of 300) and the quote as a character', async () => {
    const lines = ['id\ttext\tlabel'];
    for (let i = 0; i < 300; i++) lines.push(`r${i}\t${i === 100 ? '"' : ''}${textRow(i)}\t${labelOf(i)}`);
    const file = fixture('tsv', `${lines.join('\n')}\n`);
    const res = await readDataset(file);
    assert.equal(res.rows.length, 300);
    assert.deepEqual(res.skipped, []);
    const row = res.rows[100];
    assert.equal(row.fields[0].value, `"${textRow(100)}`);
    // The raw range of the quote is the quote itself, on line 102.
    assert.deepEqual(row.fields[0].rangeOf(0, 1), { line: 102, start: 5, end: 6 });
  });

  it('the CSV parser keeps RFC 4180 quotes, the TSV parser none', () => {
    const csv = new CsvParser(',');
    assert.equal(csv.push({ lineNo: 1, text: '"a,b",c', eol: '\n', invalid: false }) !== null, true);
    const tsv = new CsvParser('\t');
    const r = tsv.push({ lineNo: 1, text: '"a\tb"', eol: '\n', invalid: false });
    assert.ok(r && r !== 'blank');
    assert.deepEqual(
      r.cells.map((c) => c.value),
      ['"a', 'b"'],
    );
  });
});

describe('CSV: a quote that is never closed', () => {
  const rows = (n: number) => Array.from({ length: n }, (_, i) => `r${i},${textRow(i)},${labelOf(i)}`);

  it('reports the line that opened it and reads the rows after it (599 of 600 rows, 1 skipped)', async () => {
    const body = rows(600);
    body[300] = body[300].replace(',', ',"');
    const file = fixture('csv', `id,text,label\n${body.join('\n')}\n`);
    const res = await readDataset(file);
    assert.equal(res.rows.length, 599);
    assert.equal(res.skipped.length, 1);
    assert.equal(res.skipped[0].line, 302);
    assert.match(res.skipped[0].reason, /quote opened on line 302 is never closed/);
    assert.equal(res.rows[300].line, 303);
    assert.equal(res.rows.length + res.skipped.length, 600);
  });

  it('--strict fails on it, naming file and line', async () => {
    const body = rows(20);
    body[5] = body[5].replace(',', ',"');
    const file = fixture('csv', `id,text,label\n${body.join('\n')}\n`);
    await dataError(readDataset(file, { strict: true }), /:7: unterminated quoted field/);
  });

  it('a record that swallowed lines and has the wrong column count names the lines it spans', async () => {
    const body = rows(30);
    body[5] = body[5].replace(',', ',"');
    body[15] = body[15].replace(/,(ham|spam)$/, '",extra,$1');
    const file = fixture('csv', `id,text,label\n${body.join('\n')}\n`);
    const res = await readDataset(file);
    assert.equal(res.skipped.length, 1);
    assert.match(
      res.skipped[0].reason,
      /found 4 \(the record runs from line 7 to line 17: a quote left open\?\)/,
    );
  });

  it('a quoted field that swallowed row-like lines with the right column count is read, with a warning', async () => {
    const body = rows(30);
    body[5] = `r5,"${textRow(5)},spam`;
    body[15] = `r15,${textRow(15)}",spam`;
    const file = fixture('csv', `id,text,label\n${body.join('\n')}\n`);
    const res = await readDataset(file);
    assert.equal(res.rows.length + res.skipped.length, 20);
    assert.ok(
      res.warnings.some((w) =>
        /line 7: a quoted field runs from line 7 to line 17, and 10 of those lines look like rows/.test(w),
      ),
      res.warnings.join('\n'),
    );
  });
});

describe('text that is not UTF-8 is refused up front', () => {
  const text = 'id,text,label\n1,hello there,a\n2,good bye,b\n';
  it('sniffs BOMs and NUL-interleaved text', () => {
    assert.deepEqual(
      sniffEncoding(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')])),
      {
        encoding: 'UTF-16 LE',
        bom: true,
      },
    );
    assert.deepEqual(sniffEncoding(Buffer.from(text, 'utf16le')), { encoding: 'UTF-16 LE', bom: false });
    const be = Buffer.from(text, 'utf16le').swap16();
    assert.deepEqual(sniffEncoding(be), { encoding: 'UTF-16 BE', bom: false });
    const u32 = Buffer.alloc(text.length * 4);
    for (let i = 0; i < text.length; i++) u32.writeUInt32LE(text.charCodeAt(i), 4 * i);
    assert.deepEqual(sniffEncoding(u32), { encoding: 'UTF-32 LE', bom: false });
    assert.deepEqual(sniffEncoding(Buffer.from([0xff, 0xfe, 0, 0, 0x41, 0, 0, 0])), {
      encoding: 'UTF-32 LE',
      bom: true,
    });
    assert.equal(sniffEncoding(Buffer.from(text)), undefined);
    assert.equal(sniffEncoding(Buffer.from(`\ufeff${text}`)), undefined);
    assert.equal(sniffEncoding(Buffer.from('héllo wörld, ünïcode ✓ 😀\n'.repeat(20))), undefined);
    assert.equal(sniffEncoding(Buffer.alloc(4096))?.encoding, 'binary');
  });

  it('says "this file is UTF-16 LE; save it as UTF-8" for a UTF-16 CSV', async () => {
    const file = fixture('csv', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]));
    await dataError(readDataset(file), /this file is UTF-16 LE; save it as UTF-8/);
    const noBom = fixture('jsonl', Buffer.from('{"text":"hello","label":"a"}\n'.repeat(5), 'utf16le'));
    await dataError(readDataset(noBom), /this file is UTF-16 LE \(no byte-order mark.*save it as UTF-8/);
  });
});

describe('only regular files are read', () => {
  it('refuses a folder, a FIFO and a character device at once', async () => {
    const folder = path.join(dir, 'folder.jsonl');
    mkdirSync(folder);
    await dataError(readDataset(folder), /folder\.jsonl: is a folder, not a data file/);
    const fifo = path.join(dir, 'pipe.jsonl');
    execFileSync('mkfifo', [fifo]);
    // Nothing writes to the FIFO: opening it for reading would block forever. The refusal must not open it.
    await dataError(
      readDataset(fifo),
      /is a FIFO \(named pipe\), not a regular file: .*save it to a file first/,
    );
    const zero = path.join(dir, 'zero.csv');
    symlinkSync('/dev/zero', zero);
    await dataError(readDataset(zero), /is a character device, not a regular file/);
  });

  it('a missing file is a DataError in words', async () => {
    await dataError(
      readDataset(path.join(dir, 'none.jsonl')),
      /none\.jsonl: cannot read the file: no such file or folder/,
    );
  });
});

describe('the row limit holds while reading, with bounded memory', () => {
  it('readLines gives a long line in pieces no larger than pieceBytes', async () => {
    const line = 'é'.repeat(50) + 'x'.repeat(101);
    const file = fixture('jsonl', `short\n${line}\r\nend`);
    const got = [];
    for await (const l of readLines(file, { pieceBytes: 16 })) got.push(l);
    assert.equal(got[0].text, 'short');
    const pieces = got.filter((l) => l.lineNo === 2);
    assert.ok(pieces.length > 5);
    // A piece is cut once more than pieceBytes are pending: at most two reads' worth.
    for (const p of pieces)
      assert.ok(Buffer.byteLength(p.text) <= 32, `piece of ${Buffer.byteLength(p.text)} bytes`);
    assert.equal(pieces.map((p) => p.text).join(''), line);
    assert.deepEqual(
      pieces.map((p) => !!p.more),
      [...pieces.slice(1).map(() => true), false],
    );
    assert.equal(pieces[pieces.length - 1].eol, '\r\n');
    assert.equal(got[got.length - 1].text, 'end');
  });

  it('a 200 MB line is skipped with its size, and reading it keeps memory bounded', async () => {
    const file = path.join(dir, 'huge.jsonl');
    const fd = openSync(file, 'w');
    for (let i = 0; i < 4; i++) writeSync(fd, `{"text": "${textRow(i)}", "label": "${labelOf(i)}"}\n`);
    writeSync(fd, '{"text": "');
    const chunk = Buffer.alloc(1 << 23, 0x61);
    for (let i = 0; i < 25; i++) writeSync(fd, chunk);
    writeSync(fd, `", "label": "spam"}\n{"text": "after it", "label": "ham"}\n`);
    closeSync(fd);
    global.gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
    const records = [];
    for await (const r of jsonlRecords(file, { maxRowChars: 1_000_000 }))
      records.push({ line: r.line, error: r.error });
    clearInterval(timer);
    peak = Math.max(peak, process.memoryUsage().rss);
    rmSync(file);
    assert.equal(records.length, 6);
    assert.equal(records[4].line, 5);
    assert.match(records[4].error ?? '', /row is 209715229 characters, above the limit of 1000000/);
    assert.equal(records[5].error, undefined);
    // The old reader held the line twice (bytes and string): more than 400 MB. Pieces of 1 MiB need a few MB.
    assert.ok(peak - before < 120 * 2 ** 20, `memory grew by ${((peak - before) / 2 ** 20).toFixed(0)} MB`);
  });

  it('a CSV record longer than the limit keeps no cells and is skipped; the rows after it are read', async () => {
    const big = 'x'.repeat(5000);
    const file = fixture('csv', `text,label\nok one,a\n"${big}\n${big}",b\nok two,b\n`);
    const res = await readDataset(file, { maxRowChars: 3000 });
    assert.deepEqual(
      res.rows.map((r) => r.line),
      [2, 5],
    );
    assert.equal(res.skipped[0].line, 3);
    assert.match(res.skipped[0].reason, /above the limit of 3000 \(the record runs from line 3 to line 4/);
  });
});

describe('values and labels that used to switch things silently', () => {
  const numeric = (mut?: (lines: string[]) => void) => {
    const lines = ['f1,f2,f3,label'];
    for (let i = 0; i < 60; i++)
      lines.push(`${(i * 0.37).toFixed(2)},${i % 5},${(-i * 0.1).toFixed(1)},${i % 2 ? 'pos' : 'neg'}`);
    mut?.(lines);
    return lines.join('\n') + '\n';
  };

  it('a NaN cell keeps the file numeric: the cell is missing (NaN), and a warning says so', async () => {
    const file = fixture(
      'csv',
      numeric((l) => (l[5] = l[5].replace(/^[^,]+/, 'NaN'))),
    );
    const res = await readDataset(file);
    assert.deepEqual(res.schema.numericFields, ['f1', 'f2', 'f3']);
    assert.equal(res.rows.length, 60);
    assert.ok(Number.isNaN(res.rows[4].numeric![0]));
    assert.ok(
      res.warnings.some((w) => /column 'f1': 1 cell read as missing \(first: 'NaN' on line 6\)/.test(w)),
      res.warnings.join('\n'),
    );
  });

  it('NA, null, ? and empty are missing too; inf and 1e200 skip the row naming the value', async () => {
    const file = fixture(
      'csv',
      numeric((l) => {
        l[2] = l[2].replace(/^[^,]+/, 'NA');
        l[3] = l[3].replace(/^[^,]+/, '?');
        l[4] = l[4].replace(/^[^,]+/, '');
        l[7] = l[7].replace(/^[^,]+/, 'inf');
        l[9] = l[9].replace(/^[^,]+/, '1e200');
      }),
    );
    const res = await readDataset(file);
    assert.deepEqual(res.schema.numericFields, ['f1', 'f2', 'f3']);
    assert.deepEqual(
      res.skipped.map((s) => s.line),
      [8, 10],
    );
    assert.match(res.skipped[0].reason, /value 'inf' of column 'f1' is not a finite number/);
    assert.match(
      res.skipped[1].reason,
      /value '1e200' of column 'f1' is too large: above 1e\+100 it would overflow/,
    );
    assert.ok(
      res.warnings.some((w) => /column 'f1': 2 cells read as missing \(first: 'NA' on line 3\)/.test(w)),
    );
  });

  it('a numeric file with a stray word is read as text, with a warning that says which value', async () => {
    const file = fixture(
      'csv',
      numeric((l) => (l[12] = l[12].replace(/^[^,]+/, 'oops'))),
    );
    const res = await readDataset(file);
    assert.equal(res.schema.numericFields, undefined);
    assert.ok(
      res.warnings.some((w) =>
        /column 'f1' holds numbers but for 1 value \(first: 'oops' on line 13\).*--featurizer numeric/.test(
          w,
        ),
      ),
      res.warnings.join('\n'),
    );
  });

  it('labels 1, true and 1.5e308 among spam/ham: one-row classes and labels of another kind are warned about', async () => {
    const lines = [];
    for (let i = 0; i < 40; i++) {
      const label = i === 10 ? '1' : i === 20 ? 'true' : i === 30 ? '1.5e308' : JSON.stringify(labelOf(i));
      lines.push(`{"text": "${textRow(i)}", "label": ${label}}`);
    }
    const res = await readDataset(fixture('jsonl', lines.join('\n') + '\n'));
    assert.deepEqual(res.classes, ['1', '1.5e+308', 'ham', 'spam', 'true']);
    const w = res.warnings.join('\n');
    assert.match(
      w,
      /3 classes have a single row in field 'label': '1' \(line 11\), 'true' \(line 21\), '1\.5e\+308' \(line 31\)/,
    );
    assert.match(w, /label field 'label' holds strings, but 3 labels are not/);
  });

  it('repeated header names: each column keeps its own name, with a warning', async () => {
    assert.deepEqual(uniqueHeader(['f1', 'f2', 'f1', '', 'f1.1', 'f1']), {
      names: ['f1', 'f2', 'f1.2', 'column4', 'f1.1', 'f1.3'],
      renamed: [
        { column: 3, from: 'f1', to: 'f1.2' },
        { column: 4, from: '', to: 'column4' },
        { column: 6, from: 'f1', to: 'f1.3' },
      ],
    });
    const file = fixture(
      'csv',
      numeric((l) => (l[0] = 'f1,f2,f1,label')),
    );
    const res = await readDataset(file);
    assert.deepEqual(res.schema.numericFields, ['f1', 'f2', 'f1.1']);
    // The third column's values, not the first column's twice.
    assert.equal(res.rows[10].numeric![2], -1);
    assert.equal(res.rows[10].numeric![0], 3.7);
    assert.ok(
      res.warnings.some((w) => /the header names 'f1' more than once; column 3 is read as 'f1\.1'/.test(w)),
    );
  });
});

describe('"could not infer a text field" says what was found', () => {
  const jsonl = (rows: object[]) => fixture('jsonl', rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  it('for one row, identical texts and punctuation-only text', async () => {
    await dataError(
      readDataset(jsonl([{ id: 'a', text: 'only one row here', label: 'x' }])),
      /could not infer a text field \(only 1 row to judge from\): 'text' has the same value \('only one row here'\) in 1 row.*pass --text FIELD/,
    );
    const same = Array.from({ length: 20 }, (_, i) => ({ text: 'same text', label: labelOf(i) }));
    await dataError(
      readDataset(jsonl(same)),
      /'text' has the same value \('same text'\) in 20 rows, like a category/,
    );
    const punct = Array.from({ length: 20 }, (_, i) => ({
      text: '!!!' + '?'.repeat(i % 3),
      label: labelOf(i),
    }));
    await dataError(
      readDataset(jsonl(punct)),
      /'text' has 3 distinct values in 20 rows, like a category rather than free text/,
    );
  });
});

describe('csvRecords and jsonlRecords account for every record', () => {
  it('blank lines are no records; every other line is a row or an error with its line', async () => {
    const file = fixture('csv', 'text,label\n\nok,a\n  \nbad,\n"x\n');
    const recs = [];
    for await (const r of csvRecords(file, ',', { maxRowChars: 100 })) recs.push([r.line, r.error ?? 'ok']);
    assert.deepEqual(
      recs.map((r) => r[0]),
      [3, 5, 6],
    );
  });
});
