/**
 * Issue 12, bounded memory while streaming: reading keeps every row lean (no decoded fields), pooling takes the
 * decoded rows batch by batch as reading produces them, and the rows that need their fields (attributions, the
 * reduction experiment, the ranking panel) are read again from their offsets with exactly the fields and raw-file
 * ranges the first read gave them.
 */
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { decodedText } from '../../src/engine/data/decodedText';
import { readFieldValues } from '../../src/engine/data/fieldValues';
import { openDataset, readDataset } from '../../src/engine/data/readDataset';
import { readRowsAt } from '../../src/engine/data/readRowsAt';
import { NumericFeaturizer } from '../../src/engine/featurize/numeric';
import { WordsFeaturizer } from '../../src/engine/featurize/words';
import { attributeRows } from '../../src/engine/pipeline/attribute';
import { fit } from '../../src/engine/pipeline/fit';
import { poolAll, prepare } from '../../src/engine/pipeline/prepare';
import { ownRows } from '../../src/engine/model/identicalRows';
import { Standardizer } from '../../src/engine/pipeline/standardize';
import { TextGroups, findTextDuplicates } from '../../src/engine/reasons/textDuplicates';
import { DataError, type DatasetRow } from '../../src/engine/types';
import { FittedStates, RowTexts } from '../../src/worker/state';
import { fixtureFolder, rng } from './helpers';

const { fixture } = fixtureFolder('memscore-streaming-');
const shared = path.resolve(process.env.MEMSCORE_DATA ?? path.join(__dirname, '../../../shared/data'));

const WORDS = ['free money now', 'meeting moved to tuesday', 'cheap pills offer', 'lunch with the team'];
const labelOf = (i: number) => (i % 3 === 0 ? 'spam' : 'ham');

/** JSONL with a BOM, CRLF and LF line ends, escapes, astral characters, a bad line, a blank line, a number field. */
function trickyJsonl(): string {
  let s = '\ufeff';
  for (let i = 0; i < 120; i++) {
    const w = WORDS[i % 4];
    let line: string;
    if (i === 7) line = '{"id": "bad", "text": "never closed';
    else if (i === 8) line = '';
    else if (i === 9) line = JSON.stringify({ id: `r${i}`, subject: 'no label' });
    else if (i === 11)
      line = `{"id":"r${i}","subject":12345,"text":"caf\\u00e9 \\"q\\" \\ud83d\\ude00 a\\\\b\\nc\\td ${w}","label":"${labelOf(i)}"}`;
    else if (i % 5 === 0)
      line = JSON.stringify({ id: `r${i}`, text: `${w} 😀 é\n"line" ${i}`, label: labelOf(i) });
    else line = JSON.stringify({ id: `r${i}`, subject: `s${i}`, text: `${w} ${i % 7}`, label: labelOf(i) });
    s += line + (i % 2 ? '\r\n' : '\n');
  }
  return s;
}

/**
 * CSV with a BOM, CRLF, multi-line quoted fields, doubled quotes, a row with too many columns, an unterminated
 * quote (the rows after it are read again from the next line), blank and whitespace-only lines.
 */
function trickyCsv(): string {
  let s = '\ufeffid,subject,text,label\r\n';
  for (let i = 0; i < 150; i++) {
    const w = WORDS[i % 4];
    if (i === 10) s += `r${i},too,many,cells,here\r\n`;
    else if (i === 60) s += `r${i},"never closed,${w},${labelOf(i)}\r\n`;
    else if (i === 70) s += '\r\n   \r\n';
    else if (i % 4 === 0)
      s += `r${i},"multi\r\nline ""subj"" ${i}","${w}, comma\nnewline é",${labelOf(i)}\r\n`;
    else s += `r${i},subj ${i},${w} ${i % 5},${labelOf(i)}\r\n`;
  }
  return s;
}

/** Every span check of a field: each character, the whole value, the empty span, random spans. */
function spansOf(length: number, seed: number): [number, number][] {
  const r = rng(seed);
  const spans: [number, number][] = [
    [0, 0],
    [0, length],
  ];
  const step = Math.max(1, Math.floor(length / 2000));
  for (let s = 0; s < length; s += step) spans.push([s, s + 1]);
  for (let k = 0; k < 200 && length > 1; k++) {
    const a = Math.floor(r() * length);
    spans.push([a, a + 1 + Math.floor(r() * (length - a))]);
  }
  return spans;
}

/** The row read again equals the row read the first time: every kept value, field, segment and range. */
function assertSameRow(again: DatasetRow, first: DatasetRow): void {
  const where = `line ${first.line}`;
  assert.equal(again.index, first.index, where);
  assert.equal(again.line, first.line, where);
  assert.equal(again.offset, first.offset, where);
  assert.equal(again.id, first.id, where);
  assert.equal(again.label, first.label, where);
  assert.deepEqual(again.numeric, first.numeric, where);
  assert.equal(again.fields.length, first.fields.length, where);
  first.fields.forEach((f, k) => {
    const g = again.fields[k];
    assert.equal(g.name, f.name, where);
    assert.equal(g.value, f.value, where);
    assert.deepEqual(g.segments, f.segments, `${where}: segments of ${f.name}`);
    for (const [s, e] of spansOf(f.value.length, first.line))
      assert.deepEqual(g.rangeOf(s, e), f.rangeOf(s, e), `${where}: ${f.name}.rangeOf(${s}, ${e})`);
  });
}

/** readDataset's rows, and the same rows read again from their offsets (in shuffled order). */
async function rereadAll(file: string, opts: Parameters<typeof readDataset>[1] = {}) {
  const first = await readDataset(file, opts);
  const r = rng(first.rows.length);
  const order = first.rows.map((_, i) => i).sort(() => r() - 0.5);
  const again = await readRowsAt(
    file,
    first.schema,
    order.map((i) => first.rows[i]),
    { maxRowChars: opts.maxRowChars },
  );
  return { first, again: order.map((i, k) => ({ i, row: again[k] })) };
}

describe('readRowsAt: a row read again from its offset is the row of the first read', () => {
  const cases: [string, () => string, object?][] = [
    ['JSONL: BOM, CRLF, escapes, a row after a bad line', trickyJsonl, { text: ['subject', 'text'] }],
    [
      'CSV: BOM, CRLF, multi-line quoted fields, rows after an unterminated quote',
      trickyCsv,
      {
        text: ['subject', 'text'],
      },
    ],
  ];
  for (const [name, make, opts] of cases) {
    it(name, async () => {
      const file = fixture(name.startsWith('CSV') ? 'csv' : 'jsonl', make());
      const { first, again } = await rereadAll(file, opts);
      assert.ok(first.skipped.length >= 2, 'the fixture has skipped rows');
      assert.ok(first.rows.length > 100);
      for (const { i, row } of again) assertSameRow(row, first.rows[i]);
    });
  }

  it('TSV with a stray quote, and a numeric CSV with missing cells', async () => {
    let tsv = 'id\ttext\tlabel\n';
    for (let i = 0; i < 60; i++) tsv += `r${i}\t${i === 20 ? '"' : ''}${WORDS[i % 4]} ${i}\t${labelOf(i)}\n`;
    let csv = 'label,a,b,c\r\n';
    for (let i = 0; i < 60; i++)
      csv += `${labelOf(i)},${i % 7},${i === 5 ? 'NaN' : (i * 3) % 11},${i === 6 ? '' : -i}\r\n`;
    for (const file of [fixture('tsv', tsv), fixture('csv', csv)]) {
      const { first, again } = await rereadAll(file);
      for (const { i, row } of again) assertSameRow(row, first.rows[i]);
    }
  });

  it('a line longer than a read piece (1 MiB), with escapes across the piece boundaries', async () => {
    const long = Array.from({ length: 90_000 }, (_, i) => `w${i} caf\\u00e9`).join(' ');
    const file = fixture(
      'jsonl',
      `{"id":"a","text":"short one","label":"x"}\n{"id":"b","text":"${long}","label":"y"}\n{"id":"c","text":"after","label":"x"}\n`,
    );
    const { first, again } = await rereadAll(file, { maxRowChars: 3_000_000 });
    assert.ok(first.rows[1].fields[0].value.length > 1 << 20);
    for (const { i, row } of again) assertSameRow(row, first.rows[i]);
  });

  it('the shared spam data (JSONL and CSV), every row', async (t) => {
    const files = ['spam.train.jsonl', 'spam.train.csv'].map((f) => path.join(shared, f));
    if (!files.every(existsSync)) return t.skip(`no shared data at ${shared}`);
    for (const file of files) {
      const { first, again } = await rereadAll(file);
      for (const { i, row } of again) assertSameRow(row, first.rows[i]);
    }
  });

  it('a row that is no longer where it was: a DataError naming the file and line', async () => {
    const file = fixture('jsonl', trickyJsonl());
    const first = await readDataset(file);
    writeFileSync(file, `\n${trickyJsonl()}`);
    await assert.rejects(readRowsAt(file, first.schema, [first.rows[3]]), (err: unknown) => {
      assert.ok(err instanceof DataError);
      assert.match(err.message, new RegExp(`:${first.rows[3].line}: .*the file changed since it was read`));
      return true;
    });
  });
});

describe('reading streams', () => {
  const many = () => {
    const lines: string[] = [];
    for (let i = 0; i < 3000; i++)
      lines.push(
        JSON.stringify({
          id: `r${i}`,
          text: `${WORDS[i % 4]} ${i} ${'pad '.repeat(i % 9)}`,
          label: labelOf(i),
        }),
      );
    return fixture('jsonl', lines.join('\n') + '\n');
  };

  it('hands out decoded rows in batches while reading, and keeps every row lean', async () => {
    const file = many();
    const reader = await openDataset(file, { keepText: true });
    const batches: { size: number; share: number; first: number }[] = [];
    const seen: DatasetRow[] = [];
    const read = await reader.read((batch) => {
      batches.push({ size: batch.length, share: reader.share(), first: batch[0].index });
      seen.push(...batch);
    });
    assert.ok(batches.length >= 11 && batches.every((b) => b.size <= 256));
    assert.ok(batches[0].share < 0.5, `the first batch comes early (after ${batches[0].share} of the file)`);
    const all = await readDataset(file);
    assert.equal(read.rows.length, all.rows.length);
    read.rows.forEach((r, i) => {
      assert.equal('fields' in r, false, 'a kept row has no decoded fields');
      const { fields, ...lean } = all.rows[i];
      assert.deepEqual({ ...r, text: undefined }, { ...lean, text: undefined });
      assert.equal(r.text, fields.map((f) => f.value).join('\n'));
      assert.equal(seen[i].fields[0].value, fields[0].value);
    });
    assert.ok(
      Math.abs(reader.estimatedRows - read.rows.length) < 0.1 * read.rows.length,
      `estimate ${reader.estimatedRows} for ${read.rows.length} rows`,
    );
  });

  it('prepare() pools exactly what pooling all decoded rows at once gives (words and numeric)', async () => {
    const text = many();
    let csv = 'label,a,b,c,d\n';
    for (let i = 0; i < 900; i++)
      csv += `${labelOf(i)},${i % 7},${i === 5 ? 'NA' : (i * 3) % 11},${-i},${(i * i) % 13}\n`;
    const numeric = fixture('csv', csv);
    for (const [file, make] of [
      [text, () => new WordsFeaturizer()],
      [numeric, () => new NumericFeaturizer()],
    ] as const) {
      const prep = await prepare(file, {});
      const all = await readDataset(file);
      const f = make();
      if (f.poolsFrom === 'row') f.fit(all.rows);
      const ref = await poolAll(f, all.rows, () => undefined, undefined, 'featurizing');
      Standardizer.fit(ref.X, all.rows.length, f.dim).applyRows(ref.X, all.rows.length);
      const name = path.basename(file);
      if (file === text) {
        // The text fixture repeats its rows: each distinct (vector, label) is stored once (HeadData.of), and the
        // standardization weighs it by its copies, so the sums run in another order (equal to rounding).
        assert.ok(prep.data.of && prep.data.X.length < ref.X.length / 10, `${name}: rows share X's rows`);
        const own = ownRows(prep.data, f.dim).X;
        assert.equal(own.length, ref.X.length);
        let err = 0;
        for (let k = 0; k < own.length; k++) err = Math.max(err, Math.abs(own[k] - ref.X[k]));
        assert.ok(err < 1e-12, `${name}: the same pooled, standardized features (largest difference ${err})`);
      } else {
        assert.equal(prep.data.of, undefined, `${name}: distinct rows keep a row of X each`);
        assert.deepEqual(prep.data.X, ref.X, `${name}: the same pooled, standardized features`);
      }
      assert.deepEqual(prep.warnings, all.warnings);
      assert.deepEqual(prep.skipped, all.skipped);
      assert.ok(prep.rows.every((r) => !('fields' in r)));
    }
  });

  it('attributions read their rows again: the same tokens and ranges as featurizing the first read', async () => {
    const file = fixture('csv', trickyCsv());
    const prep = await prepare(file, { data: { text: ['subject', 'text'] } });
    const fitted = fit(prep, {});
    const idx = [0, 3, 4, 50, 51, prep.rows.length - 1];
    const got = await attributeRows(prep, fitted, idx, 8);
    const all = await readDataset(file, { text: ['subject', 'text'] });
    const feats = await new WordsFeaturizer().featurize(idx.map((i) => all.rows[i]));
    idx.forEach((i, k) => {
      const tokens = got.get(i)!.tokens.map(({ text, line, start, end }) => ({ text, line, start, end }));
      const ref = feats[k].tokens.map(({ text, line, start, end }) => ({ text, line, start, end }));
      assert.deepEqual(tokens, ref, `row ${i}`);
    });
  });

  it("the worker's row text and search read rows again and stream the file; the same as the decoded rows", async () => {
    const file = fixture('csv', trickyCsv());
    const data = { text: ['subject', 'text'], label: 'label' };
    const texts = new RowTexts(new FittedStates());
    const all = await readDataset(file, data);
    const lines = [all.rows[5].line, all.rows[0].line, 999_999, all.rows[80].line];
    const got = await texts.decoded(file, data, lines);
    assert.deepEqual(
      got,
      [5, 0, 80].map((i) => ({ line: all.rows[i].line, ...decodedText(all.rows[i], false) })),
    );
    const find = (needle: string) =>
      all.rows
        .filter(
          (r) =>
            r.id.toLowerCase().includes(needle) || decodedText(r, false).text.toLowerCase().includes(needle),
        )
        .map((r) => r.line);
    for (const needle of ['comma', 'comma\nnew', 'r1', 'lunch', 'lunch with', 'nothing like this'])
      assert.deepEqual(await texts.find(file, data, needle), find(needle.toLowerCase()), needle);
  });

  it('a group column is read streaming: the same values as the decoded rows', async () => {
    const file = fixture('csv', trickyCsv());
    const prep = await prepare(file, { data: { text: ['text'] } });
    const values = await readFieldValues(file, prep.read.schema, 'subject', prep.rows);
    const all = await readDataset(file, { text: ['subject'], label: 'label', allowSingleClass: true });
    const byLine = new Map(all.rows.map((r) => [r.line, r.fields[0].value]));
    assert.deepEqual(
      values,
      prep.rows.map((r) => byLine.get(r.line)),
    );
  });

  it('near-duplicate detection on the texts grouped while reading: the same as on the kept texts', async () => {
    const lines: string[] = [];
    const r = rng(5);
    for (let i = 0; i < 700; i++) {
      const base = WORDS[i % 4];
      // Exact copies, near copies (one word changed), blank texts and unique rows.
      const text =
        i % 10 === 0
          ? '  '
          : i % 3 === 0
            ? `${base} and more words here`
            : `${base} ${Math.floor(r() * 1e6)}`;
      lines.push(
        JSON.stringify({
          id: `r${i}`,
          subject: i % 5 ? 'hello there' : 'HELLO  there',
          text,
          label: labelOf(i),
        }),
      );
    }
    const file = fixture('jsonl', lines.join('\n') + '\n');
    const data = { text: ['subject', 'text'] };
    const prep = await prepare(file, { data });
    assert.ok(prep.textGroups);
    const texts = (await readDataset(file, data)).rows.map((row) =>
      row.fields.map((f) => f.value).join('\n'),
    );
    const streamed = await findTextDuplicates(prep.textGroups);
    assert.deepEqual(streamed, await findTextDuplicates(texts));
    assert.ok(
      streamed.stats.exactDuplicateRows > 100 && streamed.stats.nearPairs > 0,
      'the fixture has both',
    );
    // A subset (held-out rows, rows without a vector): as if only its texts had been grouped.
    const keep = texts.map((_, i) => i).filter((i) => i % 7 !== 2 && i % 11 !== 0);
    const all = new TextGroups();
    for (const t of texts) all.add(t);
    assert.deepEqual(
      await findTextDuplicates(all.subset(keep)),
      await findTextDuplicates(keep.map((i) => texts[i])),
    );
    const off = await prepare(file, { data, reasons: { enabled: false } });
    assert.equal(off.textGroups, undefined, 'no grouping with the reasons off');
  });
});
