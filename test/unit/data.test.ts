import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { readDataset } from '../../src/engine/data/readDataset';
import { DataError, type FieldValue } from '../../src/engine/types';
import { fixtureFolder } from './helpers';

const { fixture } = fixtureFolder('memscore-data-');

/** Raw physical lines of a file (line 1 without BOM), as an editor would show them. */
function rawLines(file: string): string[] {
  return readFileSync(file, 'utf8')
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/);
}

/** The raw text that rangeOf gives for the first occurrence of `word` in the field. */
function rawOf(file: string, f: FieldValue, word: string): { line: number; raw: string } {
  const i = f.value.indexOf(word);
  assert.ok(i >= 0, `'${word}' in ${JSON.stringify(f.value)}`);
  const r = f.rangeOf(i, i + word.length);
  return { line: r.line, raw: rawLines(file)[r.line - 1].slice(r.start, r.end) };
}

async function rejects(p: Promise<unknown>, re: RegExp): Promise<DataError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof DataError, String(err));
    assert.match(err.message, re);
    return err;
  }
  assert.fail(`expected a DataError matching ${re}`);
}

const jsonl = (rows: object[]): string => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

describe('readDataset: JSONL', () => {
  it('decodes escapes and maps spans to exact raw columns', async () => {
    const line1 =
      '{"id": "a1", "text": "line1\\nsaid \\"hi\\" caf\\u00e9 \\ud83d\\ude00 smile\\\\path r\\u00e9sum\\u00e9 end", "label": "pos"}';
    const file = fixture('jsonl', line1 + '\n' + '{"id":"a2","text":"plain 😀 word","label":"neg"}\n');
    const res = await readDataset(file);
    assert.equal(res.rows.length, 2);
    assert.deepEqual(res.schema, {
      format: 'jsonl',
      labelField: 'label',
      textFields: ['text'],
      idField: 'id',
    });
    const f = res.rows[0].fields[0];
    assert.equal(f.value, 'line1\nsaid "hi" café 😀 smile\\path résumé end');
    assert.deepEqual(rawOf(file, f, 'café'), { line: 1, raw: 'caf\\u00e9' });
    assert.deepEqual(rawOf(file, f, '"hi"'), { line: 1, raw: '\\"hi\\"' });
    assert.deepEqual(rawOf(file, f, '😀'), { line: 1, raw: '\\ud83d\\ude00' });
    assert.deepEqual(rawOf(file, f, 'smile'), { line: 1, raw: 'smile' });
    assert.deepEqual(rawOf(file, f, 'résumé'), { line: 1, raw: 'r\\u00e9sum\\u00e9' });
    assert.deepEqual(rawOf(file, f, 'end'), { line: 1, raw: 'end' });
    assert.deepEqual(rawOf(file, f, 'said'), { line: 1, raw: 'said' });
    // raw (unescaped) astral character on line 2: two UTF-16 units in the raw line too
    const g = res.rows[1].fields[0];
    assert.deepEqual(rawOf(file, g, 'word'), { line: 2, raw: 'word' });
    assert.deepEqual(rawOf(file, g, '😀'), { line: 2, raw: '😀' });
    assert.equal(res.rows[1].line, 2);
    assert.equal(res.rows[1].id, 'a2');
    assert.deepEqual(res.classes, ['neg', 'pos']);
  });

  it('maps a number-valued text field to its raw token', async () => {
    const file = fixture('jsonl', '{"text": 12345, "label": "a"}\n{"text": "words here", "label": "b"}\n');
    const res = await readDataset(file, { text: ['text'] });
    const f = res.rows[0].fields[0];
    assert.equal(f.value, '12345');
    assert.deepEqual(rawOf(file, f, '234'), { line: 1, raw: '234' });
  });

  it('skips malformed JSON, non-objects, missing labels, missing text and blank lines', async () => {
    const file = fixture(
      'jsonl',
      [
        '{"text": "good one", "label": "x"}',
        '{"text": "broken", "label": ',
        '',
        '   ',
        '[1, 2, 3]',
        '{"text": "no label here"}',
        '{"text": "empty label", "label": ""}',
        '{"body": "no text", "label": "y"}',
        '{"text": "good two", "label": "y"}',
      ].join('\n'),
    );
    const res = await readDataset(file, { text: ['text'], label: 'label' });
    assert.deepEqual(
      res.rows.map((r) => [r.index, r.line, r.id]),
      [
        [0, 1, '0'],
        [1, 9, '1'],
      ],
    );
    const reasons = res.skipped.map((s) => [s.line, s.reason]);
    assert.equal(reasons.length, 5);
    assert.equal(reasons[0][0], 2);
    assert.match(String(reasons[0][1]), /malformed JSON/);
    assert.equal(reasons[1][0], 5);
    assert.match(String(reasons[1][1]), /not a JSON object/);
    assert.deepEqual(reasons[2], [6, "missing label 'label'"]);
    assert.deepEqual(reasons[3], [7, "empty label 'label'"]);
    assert.deepEqual(reasons[4], [8, "missing text field 'text'"]);
  });

  it('throws on the first bad row when strict', async () => {
    const file = fixture('jsonl', '{"text":"a","label":"x"}\n{"text":"b","label":"y"}\n{oops\n');
    const err = await rejects(readDataset(file, { strict: true }), /malformed JSON/);
    assert.equal(err.line, 3);
    assert.equal(err.file, file);
  });

  it('skips invalid UTF-8 with the line, and keeps the rest', async () => {
    const file = fixture(
      'jsonl',
      Buffer.concat([
        Buffer.from('{"text":"fine","label":"x"}\n{"text":"bad '),
        Buffer.from([0xff, 0xfe, 0xc3]),
        Buffer.from('","label":"y"}\n{"text":"also fine","label":"y"}\n'),
      ]),
    );
    const res = await readDataset(file);
    assert.equal(res.rows.length, 2);
    assert.deepEqual(res.skipped, [{ line: 2, reason: 'invalid UTF-8 on line 2' }]);
  });

  it('skips a 10 MB row with a reason and reads the rest', async () => {
    const big = 'x'.repeat(10 * 1024 * 1024);
    const file = fixture(
      'jsonl',
      `{"text":"first row","label":"a"}\n{"text":"${big}","label":"b"}\n{"text":"third row","label":"b"}\n`,
    );
    const res = await readDataset(file);
    assert.deepEqual(
      res.rows.map((r) => r.line),
      [1, 3],
    );
    assert.equal(res.skipped.length, 1);
    assert.equal(res.skipped[0].line, 2);
    assert.match(res.skipped[0].reason, /^row is 10485\d\d\d characters, above the limit of 1000000$/);
  });

  it('rejects an empty file, one class, and an unknown label field', async () => {
    await rejects(readDataset(fixture('jsonl', '')), /no rows/);
    await rejects(readDataset(fixture('jsonl', '\n\n')), /no rows/);
    await rejects(
      readDataset(
        fixture(
          'jsonl',
          jsonl([
            { text: 'a b', label: 'only' },
            { text: 'c d', label: 'only' },
          ]),
        ),
      ),
      /needs at least two classes.*'only'/,
    );
    await rejects(
      readDataset(fixture('jsonl', jsonl([{ text: 'a', label: 'x' }])), { label: 'nope' }),
      /label field 'nope' does not exist; available fields: text, label/,
    );
  });

  it('infers the label by few distinct values and never uses group as text', async () => {
    const rows = Array.from({ length: 40 }, (_, i) => ({
      uid: `u${i}`,
      group: i % 3 === 0 ? 'easy_ham_group_long_name_here' : 'hard',
      verdict: i % 2 ? 'good' : 'bad',
      review: `this is review number ${i} with some words`,
    }));
    const res = await readDataset(fixture('jsonl', jsonl(rows)));
    assert.equal(res.schema.labelField, 'verdict');
    assert.deepEqual(res.schema.textFields, ['review']);
    assert.equal(res.schema.idField, 'uid');
    assert.equal(res.rows[5].id, 'u5');
    assert.ok(res.warnings.some((w) => /label field inferred as 'verdict'/.test(w)));
  });

  it('reports progress and honours an abort signal', async () => {
    const file = fixture(
      'jsonl',
      jsonl([
        { text: 'a', label: 'x' },
        { text: 'b', label: 'y' },
      ]),
    );
    const seen: number[] = [];
    await readDataset(file, { onProgress: (p) => seen.push(p.done) });
    assert.ok(seen.length >= 1 && seen[seen.length - 1] === readFileSync(file).length);
    const ac = new AbortController();
    ac.abort(new Error('stop now'));
    await assert.rejects(readDataset(file, { signal: ac.signal }), /stop now/);
  });
});

describe('readDataset: CSV/TSV', () => {
  it('handles BOM, CRLF, quoted commas, doubled quotes and embedded newlines', async () => {
    const content =
      '\uFEFFid,text,label\r\n' +
      '1,"hello, world ""quoted"" tail",pos\r\n' +
      '2,"first part\r\nsecond LINE here",neg\r\n' +
      '3,plain words,neg\r\n';
    const file = fixture('csv', content);
    const res = await readDataset(file);
    assert.deepEqual(res.schema, { format: 'csv', labelField: 'label', textFields: ['text'], idField: 'id' });
    assert.deepEqual(
      res.rows.map((r) => [r.id, r.line, r.label]),
      [
        ['1', 2, 'pos'],
        ['2', 3, 'neg'],
        ['3', 5, 'neg'],
      ],
    );
    const f0 = res.rows[0].fields[0];
    assert.equal(f0.value, 'hello, world "quoted" tail');
    assert.deepEqual(rawOf(file, f0, 'world'), { line: 2, raw: 'world' });
    assert.deepEqual(rawOf(file, f0, '"quoted"'), { line: 2, raw: '""quoted""' });
    assert.deepEqual(rawOf(file, f0, 'tail'), { line: 2, raw: 'tail' });
    const f1 = res.rows[1].fields[0];
    assert.equal(f1.value, 'first part\r\nsecond LINE here');
    assert.deepEqual(rawOf(file, f1, 'part'), { line: 3, raw: 'part' });
    assert.deepEqual(rawOf(file, f1, 'LINE'), { line: 4, raw: 'LINE' });
    assert.deepEqual(f1.rangeOf(0, 2), { line: 3, start: 3, end: 5 });
    // a span crossing the line break is cut at the end of the first line
    const cross = f1.rangeOf(f1.value.indexOf('part'), f1.value.indexOf('LINE'));
    assert.deepEqual(cross, { line: 3, start: 9, end: 13 });
    assert.deepEqual(rawOf(file, res.rows[2].fields[0], 'words'), { line: 5, raw: 'words' });
  });

  it('reads TSV and skips ragged rows', async () => {
    const file = fixture('tsv', 'text\tlabel\nsome text here\ta\ttoo many\nother text\tb\nmore text\ta\n');
    const res = await readDataset(file);
    assert.equal(res.schema.format, 'tsv');
    assert.deepEqual(
      res.rows.map((r) => [r.line, r.fields[0].value, r.label]),
      [
        [3, 'other text', 'b'],
        [4, 'more text', 'a'],
      ],
    );
    assert.deepEqual(res.skipped, [{ line: 2, reason: 'expected 2 columns (as in the header), found 3' }]);
    assert.deepEqual(rawOf(file, res.rows[1].fields[0], 'text'), { line: 4, raw: 'text' });
  });

  it('skips an unterminated quoted field and invalid UTF-8 in CSV', async () => {
    const file = fixture(
      'csv',
      Buffer.concat([
        Buffer.from('text,label\nok one,a\nbad '),
        Buffer.from([0xff]),
        Buffer.from(',b\nok two,b\n"never closed,a\n'),
      ]),
    );
    const res = await readDataset(file);
    assert.deepEqual(
      res.rows.map((r) => r.line),
      [2, 4],
    );
    assert.deepEqual(
      res.skipped.map((s) => s.line),
      [3, 5],
    );
    assert.equal(res.skipped[0].reason, 'invalid UTF-8 on line 3');
    assert.match(res.skipped[1].reason, /unterminated/);
  });

  it('detects tabular numeric CSV', async () => {
    const lines = ['f1,f2,species'];
    for (let i = 0; i < 30; i++)
      lines.push(`${i * 0.5},${i % 2 ? '' : -i},${i % 3 ? 'setosa' : 'virginica'}`);
    const file = fixture('csv', lines.join('\n') + '\n');
    const res = await readDataset(file);
    assert.equal(res.schema.labelField, 'species');
    assert.deepEqual(res.schema.textFields, []);
    assert.deepEqual(res.schema.numericFields, ['f1', 'f2']);
    const r = res.rows[1];
    assert.ok(r.numeric instanceof Float64Array);
    assert.equal(r.numeric[0], 0.5);
    assert.ok(Number.isNaN(r.numeric[1]));
    assert.deepEqual(
      res.rows[2].fields.map((f) => [f.name, f.value]),
      [
        ['f1', '1'],
        ['f2', '-2'],
      ],
    );
    assert.deepEqual(rawOf(file, res.rows[2].fields[1], '-2'), { line: 4, raw: '-2' });
    assert.deepEqual(res.classes, ['setosa', 'virginica']);
  });
});

describe('readDataset: shared spam data', () => {
  const dataDir = [
    path.resolve(__dirname, '../../../shared/data'),
    path.resolve(process.cwd(), '../shared/data'),
  ].find((d) => existsSync(path.join(d, 'spam.train.jsonl')));
  const skip = dataDir ? false : 'shared data (../shared/data/spam.train.jsonl) is absent';

  it('reads spam.train.jsonl', { skip }, async () => {
    const res = await readDataset(path.join(dataDir!, 'spam.train.jsonl'));
    assert.equal(res.rows.length, 4000);
    assert.equal(res.schema.labelField, 'label');
    assert.deepEqual(res.classes, ['ham', 'spam']);
    assert.ok(res.schema.textFields.includes('text'));
    assert.ok(!res.schema.textFields.includes('group'));
    // every word of the first 200 rows maps back to its exact raw JSON encoding
    const lines = rawLines(path.join(dataDir!, 'spam.train.jsonl'));
    for (const row of res.rows.slice(0, 200)) {
      for (const f of row.fields) {
        for (const m of f.value.matchAll(/\S+/g)) {
          const r = f.rangeOf(m.index, m.index + m[0].length);
          assert.equal(JSON.parse(`"${lines[r.line - 1].slice(r.start, r.end)}"`), m[0]);
        }
      }
    }
  });

  it('spam.train.csv matches the JSONL', { skip }, async () => {
    const csvFile = path.join(dataDir!, 'spam.train.csv');
    if (!existsSync(csvFile)) return;
    const a = await readDataset(path.join(dataDir!, 'spam.train.jsonl'));
    const b = await readDataset(csvFile);
    assert.equal(b.rows.length, a.rows.length);
    for (let i = 0; i < 50; i++) {
      assert.equal(b.rows[i].id, a.rows[i].id);
      assert.equal(b.rows[i].label, a.rows[i].label);
      assert.deepEqual(
        b.rows[i].fields.map((f) => f.value),
        a.rows[i].fields.map((f) => f.value),
      );
    }
    const lines = rawLines(csvFile);
    for (const row of b.rows.slice(0, 200)) {
      for (const f of row.fields) {
        for (const m of f.value.matchAll(/\S+/g)) {
          const r = f.rangeOf(m.index, m.index + m[0].length);
          assert.equal(lines[r.line - 1].slice(r.start, r.end).replace(/""/g, '"'), m[0]);
        }
      }
    }
  });
});
