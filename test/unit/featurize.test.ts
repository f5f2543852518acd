import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DatasetRow, FieldValue } from '../../src/engine/types';
import { readDataset } from '../../src/engine/data/readDataset';
import { tokenizeWords } from '../../src/engine/featurize/tokenize';
import { WordsFeaturizer, wordCoverage } from '../../src/engine/featurize/words';
import { NumericFeaturizer } from '../../src/engine/featurize/numeric';
import { loadWordVectors, SpanTable } from '../../src/engine/featurize/wordVectors';
import { poolTokens, tokenDeltaDot } from '../../src/engine/featurize/tokenVectors';
import { Standardizer } from '../../src/engine/pipeline/standardize';
import { maxAbsDiff, rng } from './helpers';

const shared = resolve(__dirname, '../../../shared/data');
const sharedFiles = ['spam.train.jsonl', 'spam.test.jsonl', 'spam-noisy10.train.jsonl', 'spam.train.csv'];
const noShared = existsSync(join(shared, 'spam.train.jsonl'))
  ? false
  : `shared data (${shared}/spam.train.jsonl) is absent`;

/** A field whose raw range is the decoded range on line `line` (identity mapping). */
function field(name: string, value: string, line = 1): FieldValue {
  return { name, value, rangeOf: (start, end) => ({ line, start, end }) };
}

function row(index: number, fields: FieldValue[], numeric?: number[]): DatasetRow {
  return {
    index,
    line: index + 1,
    offset: 0,
    id: String(index),
    label: 'x',
    fields,
    numeric: numeric ? Float64Array.from(numeric) : undefined,
  };
}

const texts = (s: string) => tokenizeWords(s).map((t) => t.text);

test('tokenizer: words, punctuation, offsets', () => {
  const s = 'FREE money!!! Win $1,000 now.';
  const toks = tokenizeWords(s);
  assert.deepEqual(
    toks.map((t) => t.text),
    ['FREE', 'money', '!', '!', '!', 'Win', '$', '1', ',', '000', 'now', '.'],
  );
  for (const t of toks) assert.equal(s.slice(t.start, t.end), t.text);
});

test('tokenizer: apostrophes, hyphens, accents, emoji', () => {
  assert.deepEqual(texts("don't it’s e-mail 'quoted'"), ["don't", 'it’s', 'e-mail', "'", 'quoted', "'"]);
  const s = 'Café naïve résumé — Zoë';
  const toks = tokenizeWords(s);
  assert.deepEqual(
    toks.map((t) => t.text),
    ['Café', 'naïve', 'résumé', '—', 'Zoë'],
  );
  for (const t of toks) assert.equal(s.slice(t.start, t.end), t.text);
  // Decomposed accent (e + U+0301) stays in the word.
  assert.deepEqual(texts('cafe\u0301 ok'), ['cafe\u0301', 'ok']);
  const e = 'great 😀 deal 👍🏽 ok';
  const et = tokenizeWords(e);
  assert.deepEqual(
    et.map((t) => t.text),
    ['great', '😀', 'deal', '👍🏽', 'ok'],
  );
  for (const t of et) assert.equal(e.slice(t.start, t.end), t.text);
  assert.equal(et[1].end - et[1].start, 2); // surrogate pair: 2 UTF-16 units
  assert.deepEqual(texts('  \n\t '), []);
  assert.deepEqual(texts('3.5 x'), ['3.5', 'x']);
});

test('tokenizer: maxTokens cap', () => {
  assert.equal(tokenizeWords('a b c d e', { maxTokens: 3 }).length, 3);
  assert.equal(tokenizeWords('a '.repeat(1000)).length, 512);
});

test('word vector asset loads', () => {
  const wv = loadWordVectors();
  assert.equal(wv.dim, 100);
  assert.ok(wv.count >= 50000, `count ${wv.count}`);
  assert.equal(wv.vectors.length, wv.count * wv.dim);
  assert.equal(wv.indexOf('the'), 0);
  assert.ok(wv.has('!') && wv.has('$'));
  assert.equal(loadWordVectors(), wv); // cached
});

test('words featurizer: vectors, OOV, baseline, ranges', async () => {
  const f = new WordsFeaturizer();
  assert.equal(f.name, 'words');
  assert.equal(f.dim, 100);
  assert.equal(f.pooling, 'mean');
  const r = row(0, [field('subject', 'The FREE'), field('text', "money qzxqvbnk! Don't", 3)]);
  const [feat] = await f.featurize([r]);
  assert.deepEqual(
    feat.tokens.map((t) => [t.text, t.field, t.line, t.start, t.end]),
    [
      ['The', 0, 1, 0, 3],
      ['FREE', 0, 1, 4, 8],
      ['money', 1, 3, 0, 5],
      ['qzxqvbnk', 1, 3, 6, 14],
      ['!', 1, 3, 14, 15],
      ["Don't", 1, 3, 16, 21],
    ],
  );
  const T = feat.tokens.length;
  assert.equal(feat.dim, 100);
  assert.equal(feat.E.length, T * 100);
  assert.equal(feat.Ebase.length, T * 100);
  assert.ok(feat.Ebase.every((x) => x === 0));
  const norm = (t: number) => Math.hypot(...feat.E.subarray(t * 100, (t + 1) * 100));
  for (const t of [0, 1, 2, 4, 5]) assert.ok(norm(t) > 0.1, `token ${feat.tokens[t].text} has a vector`);
  assert.equal(norm(3), 0, 'OOV token is the zero vector');
  // 'The' and 'the' share a vector; 'free' and 'money' differ.
  const wv = loadWordVectors();
  const the = wv.vectorAt(wv.indexOf('the'));
  for (let d = 0; d < 100; d++) assert.equal(feat.E[d], the[d]);
  assert.deepEqual(wordCoverage([r], f), { tokens: 6, oov: 1 });
});

test('words featurizer: maxTokens caps per row across fields', async () => {
  const f = new WordsFeaturizer({ maxTokens: 4 });
  const [feat] = await f.featurize([row(0, [field('a', 'one two three'), field('b', 'four five six')])]);
  assert.deepEqual(
    feat.tokens.map((t) => t.text),
    ['one', 'two', 'three', 'four'],
  );
  const [empty] = await f.featurize([row(1, [field('a', '')])]);
  assert.equal(empty.tokens.length, 0);
  assert.equal(empty.E.length, 0);
});

/**
 * The tokenizer as it was, a regular expression: the specification the scanner must match token for token.
 * (Kept here only: production code uses the scanner.)
 */
const TOKEN_RE =
  /[\p{L}\p{M}\p{N}]+(?:['’\-.][\p{L}\p{M}\p{N}]+)*|[^\s\p{L}\p{N}](?:\p{M}|\u{FE0F}|\p{Emoji_Modifier}|\u200D[^\s])*/gu;

function regexTokens(value: string, maxTokens = Infinity): [string, number, number][] {
  const out: [string, number, number][] = [];
  if (maxTokens <= 0) return out;
  TOKEN_RE.lastIndex = 0;
  for (let m = TOKEN_RE.exec(value); m !== null; m = TOKEN_RE.exec(value)) {
    out.push([m[0], m.index, m.index + m[0].length]);
    if (out.length >= maxTokens) break;
  }
  return out;
}

const scannerTokens = (value: string, maxTokens = Infinity): [string, number, number][] =>
  tokenizeWords(value, { maxTokens }).map((t) => [t.text, t.start, t.end]);

/** Alphabet of the fuzz test: every class boundary the tokenizer has (joiners, marks, ZWJ, surrogates, spaces). */
const TRICKY = [
  'a',
  'Z',
  '9',
  'é',
  '中',
  '٣',
  '𝐀',
  ' ',
  '\t',
  '\n',
  '\u00a0',
  '\u3000',
  '\ufeff',
  '\u200b',
  "'",
  '’',
  '-',
  '.',
  '!',
  '$',
  ',',
  '\u0301',
  '\u0300',
  '\ufe0f',
  '\u200d',
  '\u{1f3fd}',
  '😀',
  '👍',
  '\ud800',
  '\udc00',
  '\u2028',
];

test('tokenizer: the scanner finds exactly the tokens of the old regex (tricky text, fuzzed)', () => {
  const cases = [
    'FREE money!!! Win $1,000 now.',
    "don't it’s e-mail 'quoted' u.s.a. 3.5.1 a--b a-.b end.",
    'Café naïve résumé — Zoë cafe\u0301 \u0301lead',
    'great 😀 deal 👍🏽 ok 👨‍👩‍👧 ❤️ 1️⃣ ‍ x\u200d',
    'linux.ie rpm-list www.example.com/path?q=1 foo@bar.org',
    '\ud83d lone \ude00 surrogates \ud83d\ude00',
    '',
    '   \n\t ',
  ];
  for (const c of cases) assert.deepEqual(scannerTokens(c), regexTokens(c), JSON.stringify(c));
  for (const c of cases) assert.deepEqual(scannerTokens(c, 3), regexTokens(c, 3), JSON.stringify(c));
  const r = rng(12);
  for (let k = 0; k < 50000; k++) {
    let v = '';
    const L = Math.floor(r() * 14);
    for (let i = 0; i < L; i++) v += TRICKY[Math.floor(r() * TRICKY.length)];
    assert.deepEqual(scannerTokens(v), regexTokens(v), JSON.stringify(v));
  }
});

test(
  'tokenizer: the scanner matches the old regex on every field of every shared row',
  { skip: noShared },
  async () => {
    let values = 0;
    let tokens = 0;
    for (const f of sharedFiles) {
      for (const row of (await readDataset(join(shared, f))).rows) {
        for (const fv of row.fields) {
          const want = regexTokens(fv.value);
          const got = scannerTokens(fv.value);
          if (got.length !== want.length || got.some((t, i) => t[1] !== want[i][1] || t[2] !== want[i][2]))
            assert.deepEqual(got, want, `${f} line ${row.line} field ${fv.name}`);
          values++;
          tokens += got.length;
        }
      }
    }
    assert.ok(values >= 14046 && tokens > 3_000_000, `${values} values, ${tokens} tokens`);
  },
);

test('SpanTable: a Map<string, number> looked up by spans of other strings (through several rehashes)', () => {
  const r = rng(3);
  const table = new SpanTable();
  const map = new Map<string, number>();
  const alphabet = ['a', 'b', 'é', '😀', '\u0301', 'Z', '1'];
  const word = () => {
    let w = '';
    const L = Math.floor(r() * 6);
    for (let i = 0; i < L; i++) w += alphabet[Math.floor(r() * alphabet.length)];
    return w;
  };
  for (let k = 0; k < 20000; k++) {
    const w = word();
    const pad = word();
    const host = pad + w + word(); // the key as a span in the middle of another string
    const got = table.get(host, pad.length, pad.length + w.length);
    assert.equal(got, map.get(w), JSON.stringify(w));
    if (got === undefined || r() < 0.1) {
      const v = Math.floor(r() * 1000) - 1;
      table.set(host, pad.length, pad.length + w.length, v);
      map.set(w, v);
    }
  }
  assert.equal(table.size, map.size);
  assert.ok(map.size > 5000, `${map.size} keys`);
  for (const [w, v] of map) assert.equal(table.get(w, 0, w.length), v);
  assert.equal(table.get('not in it', 0, 9), undefined);
});

/** Dense pooling of featurize()'s token vectors: what pool() must equal. */
async function poolOverTokens(
  f: WordsFeaturizer | NumericFeaturizer,
  rows: DatasetRow[],
): Promise<Float64Array> {
  const X = new Float64Array(rows.length * f.dim);
  for (let b = 0; b < rows.length; b += 256) {
    const feats = await f.featurize(rows.slice(b, b + 256), { baseline: false });
    feats.forEach((t, k) => X.set(poolTokens(t, f.pooling), (b + k) * f.dim));
  }
  return X;
}

test('words pool(): the mean of featurize() E on tricky rows (OOV, emoji, marks, compounds, the cap)', async () => {
  const f = new WordsFeaturizer({ maxTokens: 7 });
  const rows = [
    row(0, [field('a', 'The FREE money qzxqvbnk!'), field('b', "Don't linux.ie rpm-list e-mail")]),
    row(1, [field('a', 'great 😀 deal 👍🏽 cafe\u0301 Café ❤️')]),
    row(2, [field('a', 'one two'), field('b', 'three four five'), field('c', 'six seven eight nine')]),
    row(3, [field('a', 'qzxqvbnk zzqqxxyy')]), // every token OOV: zero vector, T = 2
    row(4, [field('a', ''), field('b', '  ')]), // no tokens: zero vector
    row(5, [field('a', 'the the the the a the of')]), // repeated words (pool sums them per distinct word)
  ];
  const pooled = (await f.pool(rows)).X;
  const dense = await poolOverTokens(f, rows);
  assert.ok(maxAbsDiff(pooled, dense) <= 1e-12, `max diff ${maxAbsDiff(pooled, dense)}`);
  // The cap spans fields: row 2 has 7 tokens, the last one "seven".
  const [r2] = await f.featurize([rows[2]]);
  assert.deepEqual(
    r2.tokens.map((t) => t.text),
    ['one', 'two', 'three', 'four', 'five', 'six', 'seven'],
  );
  // OOV-only and empty rows pool to zero; OOV tokens count in the mean (row 0: 7 tokens, one of them OOV).
  for (const i of [3, 4]) assert.ok(pooled.subarray(i * 100, (i + 1) * 100).every((x) => x === 0));
  const wv = loadWordVectors();
  const [r0] = await f.featurize([rows[0]]);
  assert.equal(r0.tokens.length, 7);
  const want = new Float64Array(100);
  for (const t of r0.tokens) {
    const idx = f.lookup(t.text);
    if (idx >= 0) for (let d = 0; d < 100; d++) want[d] += wv.vectors[idx * 100 + d] / 7;
  }
  assert.equal(f.lookup('qzxqvbnk'), -1);
  assert.ok(maxAbsDiff(pooled.subarray(0, 100), want) <= 1e-12);
  assert.ok(Math.hypot(...want) > 0.1);
});

test('words pool(): the mean of featurize() E on every shared row', { skip: noShared }, async () => {
  let worst = 0;
  // The default cap on the JSONL rows, a cap that cuts most rows on the CSV (the same rows, other field values).
  for (const [file, maxTokens] of [
    ['spam.train.jsonl', 512],
    ['spam.train.csv', 40],
  ] as const) {
    const rows = (await readDataset(join(shared, file))).rows;
    const f = new WordsFeaturizer({ maxTokens });
    const pooled = (await f.pool(rows)).X;
    const dense = await poolOverTokens(f, rows);
    worst = Math.max(worst, maxAbsDiff(pooled, dense));
  }
  assert.ok(worst <= 1e-12, `max |pool - mean(E)| = ${worst}`);
});

const numericRow = (i: number, vals: number[]) =>
  row(
    i,
    vals.map((v, j) => field(`c${j}`, Number.isNaN(v) ? '' : String(v), i + 1)),
    vals,
  );

test('numeric featurizer: raw values, NaN -> column mean, sparse one-hot tokens with the mean as baseline', async () => {
  const rows = [
    numericRow(0, [1, 10, 5]),
    numericRow(1, [2, 20, 5]),
    numericRow(2, [3, NaN, 5]),
    numericRow(3, [6, 30, 5]),
  ];
  const f = new NumericFeaturizer();
  assert.equal(f.pooling, 'sum');
  assert.equal(f.tokenLevel, true);
  f.fit(rows);
  assert.equal(f.dim, 3);
  assert.deepEqual([...f.columnMeans!], [3, 20, 5]); // col1: the NaN is left out of the mean
  const { X } = await f.pool(rows);
  assert.deepEqual([...X], [1, 10, 5, 2, 20, 5, 3, 20, 5, 6, 30, 5]);

  const feats = await f.featurize(rows);
  for (const [k, t] of feats.entries()) {
    // Sparse: length T, coordinate t, never dim x dim.
    assert.equal(t.E.length, 3);
    assert.equal(t.Ebase.length, 3);
    assert.deepEqual([...t.coordinates!], [0, 1, 2]);
    assert.deepEqual([...t.Ebase], [3, 20, 5]);
    // Sum pooling of the sparse tokens is pool() exactly; of the baseline, the column means.
    assert.deepEqual([...poolTokens(t, 'sum')], [...X.subarray(k * 3, k * 3 + 3)]);
    assert.deepEqual([...poolTokens(t, 'sum', true)], [3, 20, 5]);
  }
  // The missing value equals its baseline: zero attribution delta, whatever the direction.
  const missing = feats[2];
  assert.equal(missing.E[1] - missing.Ebase[1], 0);
  assert.ok(tokenDeltaDot(missing, 1, [0.7, -1.3, 2.1]) === 0);
  assert.ok(tokenDeltaDot(missing, 0, [0.7, -1.3, 2.1]) === 0); // 3 is col0's mean too
  assert.equal(tokenDeltaDot(feats[3], 1, [0.7, -1.3, 2.1]), -1.3 * (30 - 20));
  // Ranges as before: each cell's text in its line; an empty cell is zero-width.
  assert.deepEqual(
    feats[3].tokens.map((t) => [t.text, t.field, t.line, t.start, t.end]),
    [
      ['6', 0, 4, 0, 1],
      ['30', 1, 4, 0, 2],
      ['5', 2, 4, 0, 1],
    ],
  );
  assert.equal(feats[2].tokens[1].start, feats[2].tokens[1].end);
  // No baseline requested: Ebase is empty.
  const [noBase] = await f.featurize([rows[0]], { baseline: false });
  assert.equal(noBase.Ebase.length, 0);
  assert.deepEqual([...noBase.E], [1, 10, 5]);
  // The pipeline's standardization (fitted on the pooled training rows) maps the pooled baseline to zero.
  const st = Standardizer.fit(X, rows.length, 3);
  const zero = st.apply(poolTokens(feats[0], 'sum', true));
  assert.ok(
    zero.every((z) => Math.abs(z) < 1e-15),
    `${[...zero]}`,
  );
  // Rows not seen in fit use the fitted means; a wrong width is one clear line.
  const { X: Xt } = await f.pool([numericRow(9, [NaN, NaN, 7])]);
  assert.deepEqual([...Xt], [3, 20, 7]);
  await assert.rejects(f.pool([numericRow(9, [1, 2])]), /line 10: 2 numeric values, expected 3/);
});

test('numeric pool() equals the sum over featurize() on a wide table with gaps', async () => {
  const r = rng(5);
  const D = 60;
  const rows = Array.from({ length: 300 }, (_, i) =>
    numericRow(
      i,
      Array.from({ length: D }, () => (r() < 0.05 ? NaN : 10 * r() - 3)),
    ),
  );
  const f = new NumericFeaturizer();
  f.fit(rows.slice(0, 200));
  const pooled = (await f.pool(rows)).X;
  const viaTokens = await poolOverTokens(f, rows);
  assert.equal(maxAbsDiff(pooled, viaTokens), 0);
  assert.ok(pooled.every(Number.isFinite));
});
