import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { cacheKey, contentHash, contentKeys, stableStringify } from '../../src/extension/cacheKey';
import { queryRows, snippet } from '../../src/extension/paging';
import { ProgressTracker, overallFraction } from '../../src/extension/progress';
import { RowIndex } from '../../src/extension/rowIndex';
import { DEFAULT_TIER_THRESHOLDS, normalizeThresholds, tierOf } from '../../src/extension/tiers';
import {
  NO_BUCKET,
  attributionRank,
  bucketOf,
  isRedBucket,
  maxAbsAttribution,
  strongestTokens,
} from '../../src/extension/tokenColors';

const root = resolve(__dirname, '../..');

test('tiers: percentile thresholds, configurable and normalized', () => {
  assert.equal(tierOf(100), 'top1');
  assert.equal(tierOf(99), 'top1');
  assert.equal(tierOf(98.9), 'top5');
  assert.equal(tierOf(95), 'top5');
  assert.equal(tierOf(92), 'top10');
  assert.equal(tierOf(89.99), 'none');
  assert.equal(tierOf(NaN), 'none');
  const t = { top1: 90, top5: 50, top10: 10 };
  assert.equal(tierOf(91, t), 'top1');
  assert.equal(tierOf(60, t), 'top5');
  assert.equal(tierOf(10, t), 'top10');
  assert.deepEqual(normalizeThresholds(undefined), DEFAULT_TIER_THRESHOLDS);
  assert.deepEqual(normalizeThresholds({ top1: 80, top5: 90, top10: 'x' as unknown as number }), {
    top1: 80,
    top5: 80,
    top10: 80,
  });
});

test('tokenColors: 5 red / 5 blue buckets by |a| relative to the row max', () => {
  assert.equal(bucketOf(1, 1), 4);
  assert.equal(bucketOf(-1, 1), 9);
  assert.equal(bucketOf(0.1, 1), 0);
  assert.equal(bucketOf(-0.1, 1), 5);
  assert.equal(bucketOf(0.5, 1), 2);
  assert.equal(bucketOf(-0.79, 1), 8);
  assert.equal(bucketOf(0, 1), NO_BUCKET);
  assert.equal(bucketOf(0.3, 0), NO_BUCKET);
  assert.equal(bucketOf(NaN, 1), NO_BUCKET);
  assert.ok(isRedBucket(bucketOf(0.2, 1)) && !isRedBucket(bucketOf(-0.2, 1)));
  const toks = [{ a: 0.2 }, { a: -0.8 }, { a: 0.5 }, { a: 0.1 }];
  assert.equal(maxAbsAttribution(toks), 0.8);
  assert.deepEqual(strongestTokens(toks, 2), [{ a: -0.8 }, { a: 0.5 }]);
  assert.equal(strongestTokens(toks, 0).length, 4);
  assert.equal(attributionRank(toks, 2), 1);
  assert.equal(attributionRank(toks, 1), 4);
});

test('cacheKey: sha256 of content + settings, key order irrelevant, BOM ignored', () => {
  const k = cacheKey('a\nb\n', { l2: 0.001, solver: 'exact' });
  assert.match(k, /^[0-9a-f]{64}$/);
  assert.equal(k, cacheKey('a\nb\n', { solver: 'exact', l2: 0.001 }));
  assert.notEqual(k, cacheKey('a\nb\n', { solver: 'exact', l2: 0.01 }));
  assert.notEqual(k, cacheKey('a\nc\n', { solver: 'exact', l2: 0.001 }));
  assert.equal(contentHash('\uFEFFx'), contentHash('x'));
  assert.equal(stableStringify({ b: [1, { d: 1, c: undefined }], a: null }), '{"a":null,"b":[1,{"d":1}]}');
  // The keys of results cached on disk: sha256 of content, NUL, settings JSON; both keys from one pass agree.
  const sha = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
  assert.equal(k, sha('a\nb\n\0{"l2":0.001,"solver":"exact"}'));
  assert.deepEqual(contentKeys('\uFEFFa\nb\n', { solver: 'exact', l2: 0.001 }), {
    key: k,
    contentHash: sha('a\nb\n'),
  });
});

test('rowIndex: binary search over scored rows, multi-line rows, skipped lines', () => {
  const rows = [
    { line: 5, id: 'c' },
    { line: 2, id: 'a', tokens: [{ line: 2 }, { line: 3 }] },
    { line: 9, id: 'd' },
  ];
  const idx = new RowIndex(rows);
  assert.equal(idx.at(1), undefined);
  assert.equal(idx.at(2)?.row.id, 'a');
  assert.equal(idx.at(3)?.row.id, 'a');
  assert.equal(idx.at(3)?.position, 1);
  assert.equal(idx.at(4), undefined);
  assert.equal(idx.at(5)?.row.id, 'c');
  assert.equal(idx.at(9)?.position, 2);
  assert.equal(idx.at(100), undefined);
  assert.deepEqual(
    idx.inRange(3, 8).map((e) => e.row.id),
    ['a', 'c'],
  );
  assert.deepEqual(idx.inRange(10, 20), []);
  assert.equal(new RowIndex([]).at(1), undefined);
});

test('paging: sort, filter by label and text, page bounds', () => {
  const mk = (rank: number, label: string, score: number) => ({
    line: rank + 1,
    rank,
    id: `r${rank}`,
    label,
    pred: label,
    prob: 0.5,
    loss: Math.log(2),
    score,
    percentile: 100 - rank,
  });
  const rows = [mk(3, 'ham', 1), mk(1, 'spam', 3), mk(2, 'ham', 2)];
  const text = (line: number) => `text of line ${line}`;
  const base = { offset: 0, limit: 10, sort: { key: 'rank' as const, dir: 'asc' as const }, filter: {} };
  assert.deepEqual(
    queryRows(rows, text, base).rows.map((r) => r.rank),
    [1, 2, 3],
  );
  const byScore = queryRows(rows, text, { ...base, sort: { key: 'score', dir: 'asc' } });
  assert.deepEqual(
    byScore.rows.map((r) => r.score),
    [1, 2, 3],
  );
  const ham = queryRows(rows, text, { ...base, filter: { label: 'ham' } });
  assert.equal(ham.total, 2);
  const t = queryRows(rows, text, { ...base, filter: { text: 'LINE 4' } });
  assert.deepEqual(
    t.rows.map((r) => r.id),
    ['r3'],
  );
  const page = queryRows(rows, text, { ...base, offset: 1, limit: 1 });
  assert.equal(page.total, 3);
  assert.deepEqual(
    page.rows.map((r) => r.rank),
    [2],
  );
  assert.equal(snippet('a\n  b', 10), 'a b');
  assert.equal(snippet('x'.repeat(20), 5), 'xxxx…');
});

test('progress: stage reports become monotonic increments', () => {
  assert.equal(overallFraction('reading', 0, 10), 0);
  assert.equal(overallFraction('nope', 1, 1), undefined);
  const tr = new ProgressTracker();
  let sum = 0;
  for (const p of [
    { stage: 'reading', done: 5, total: 10 },
    { stage: 'reading', done: 10, total: 10 },
    { stage: 'featurizing', done: 1, total: 1 },
    { stage: 'reading', done: 1, total: 10 },
    { stage: 'attributing', done: 1, total: 1 },
  ]) {
    const s = tr.next(p);
    assert.ok(s.increment >= 0);
    sum += s.increment;
  }
  assert.ok(Math.abs(sum - 95) < 1e-9, String(sum));
});

test('pure extension modules do not import vscode', () => {
  for (const f of [
    'tiers',
    'tokenColors',
    'cacheKey',
    'rowIndex',
    'paging',
    'progress',
    'panelProtocol',
    'rowText',
    'histogram',
    'scorable',
  ]) {
    const src = readFileSync(join(root, 'src/extension', `${f}.ts`), 'utf8');
    assert.doesNotMatch(src, /from ['"]vscode['"]|require\(['"]vscode['"]\)/, f);
  }
});
