import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DatasetRow, FieldValue } from '../../src/engine/types';
import { tokenizeWords } from '../../src/engine/featurize/tokenize';
import { WordsFeaturizer, wordCoverage } from '../../src/engine/featurize/words';
import { NumericFeaturizer } from '../../src/engine/featurize/numeric';
import { loadWordVectors } from '../../src/engine/featurize/wordVectors';

/** A field whose raw range is the decoded range on line `line` (identity mapping). */
function field(name: string, value: string, line = 1): FieldValue {
  return { name, value, rangeOf: (start, end) => ({ line, start, end }) };
}

function row(index: number, fields: FieldValue[], numeric?: number[]): DatasetRow {
  return {
    index,
    line: index + 1,
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

test('numeric featurizer: standardization, NaN, one-hot tokens', async () => {
  const mk = (i: number, vals: number[]) =>
    row(
      i,
      vals.map((v, j) => field(`c${j}`, Number.isNaN(v) ? '' : String(v), i + 1)),
      vals,
    );
  const rows = [mk(0, [1, 10, 5]), mk(1, [2, 20, 5]), mk(2, [3, NaN, 5]), mk(3, [6, 30, 5])];
  const f = new NumericFeaturizer();
  assert.equal(f.pooling, 'sum');
  f.fit(rows);
  assert.equal(f.dim, 3);
  // col0: mean 3, population std sqrt((4+1+0+9)/4) = sqrt(3.5); col1: mean 20 (NaN ignored); col2: std 0 -> 1.
  assert.deepEqual([...f.columnMeans!], [3, 20, 5]);
  assert.ok(Math.abs(f.columnStds![0] - Math.sqrt(3.5)) < 1e-12);
  assert.ok(Math.abs(f.columnStds![1] - Math.sqrt(200 / 3)) < 1e-12);
  assert.equal(f.columnStds![2], 1);
  const feats = await f.featurize(rows);
  const pooled = (k: number) => {
    const { E, dim, tokens } = feats[k];
    const p = new Array(dim).fill(0);
    for (let t = 0; t < tokens.length; t++) for (let d = 0; d < dim; d++) p[d] += E[t * dim + d];
    return p;
  };
  const close = (a: number[], b: number[]) => a.every((x, i) => Math.abs(x - b[i]) < 1e-12);
  assert.ok(close(pooled(0), [-2 / Math.sqrt(3.5), -10 / Math.sqrt(200 / 3), 0]));
  assert.ok(close(pooled(2), [0, 0, 0]), 'NaN -> mean -> 0');
  // One-hot structure, zero baseline, ranges from the fields.
  const { E, Ebase, tokens } = feats[3];
  assert.equal(E.length, 9);
  assert.ok(Ebase.every((x) => x === 0));
  assert.equal(E[0 * 3 + 1], 0);
  assert.ok(Math.abs(E[1 * 3 + 1] - 10 / Math.sqrt(200 / 3)) < 1e-12);
  assert.deepEqual(
    tokens.map((t) => [t.text, t.field, t.line, t.start, t.end]),
    [
      ['6', 0, 4, 0, 1],
      ['30', 1, 4, 0, 2],
      ['5', 2, 4, 0, 1],
    ],
  );
  // Empty cell: zero-width range, no throw.
  assert.equal(feats[2].tokens[1].start, feats[2].tokens[1].end);

  const raw = new NumericFeaturizer({ standardize: false });
  raw.fit(rows);
  const [r2] = await raw.featurize([rows[2]]);
  assert.deepEqual([r2.E[0], r2.E[4], r2.E[8]], [3, 20, 5]);
});
