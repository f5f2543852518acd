import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { cacheKey, contentHash, contentKeys, stableStringify } from '../../src/extension/cacheKey';
import { DuplicateQuery, MAX_GROUP_ROWS, duplicateGroups } from '../../src/extension/duplicateGroups';
import {
  HOVER_COMMANDS,
  MAX_LINES,
  commandUri,
  markdownText,
  percentWords,
  reasonSentence,
  reasonWords,
  reasonsMarkdown,
  scoredOnText,
  wordsText,
} from '../../src/extension/explainText';
import { RowQuery, passesReason, rawRowText, reasonFilter } from '../../src/extension/paging';
import type { Reason } from '../../src/protocol/reasons';
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

test('paging: sort, filter by label and text, page bounds', async () => {
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
    (await queryRows(rows, text, base)).rows.map((r) => r.rank),
    [1, 2, 3],
  );
  const byScore = await queryRows(rows, text, { ...base, sort: { key: 'score', dir: 'asc' } });
  assert.deepEqual(
    byScore.rows.map((r) => r.score),
    [1, 2, 3],
  );
  const ham = await queryRows(rows, text, { ...base, filter: { label: 'ham' } });
  assert.equal(ham.total, 2);
  const t = await queryRows(rows, text, { ...base, filter: { text: 'LINE 4' } });
  assert.deepEqual(
    t.rows.map((r) => r.id),
    ['r3'],
  );
  const page = await queryRows(rows, text, { ...base, offset: 1, limit: 1 });
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
    '../../src/protocol/panel',
    'rowText',
    'histogram',
    'scorable',
    'explainText',
    'duplicateGroups',
  ]) {
    const src = readFileSync(join(root, 'src/extension', `${f}.ts`), 'utf8');
    assert.doesNotMatch(src, /from ['"]vscode['"]|require\(['"]vscode['"]\)/, f);
  }
});

const DUP: Reason = {
  kind: 'duplicate',
  evidence: {
    count: 2,
    exact: 0,
    near: 2,
    rows: [
      { index: 811, line: 812, exact: false, jaccard: 0.9 },
      { index: 3089, line: 3090, exact: false, jaccard: 0.85 },
    ],
  },
};

test('reason wording: every kind in words, lines kept apart for links', () => {
  assert.equal(reasonSentence(DUP, 'ham'), 'duplicate: 2 near-duplicates labelled ham, lines 812, 3090');
  assert.deepEqual(reasonWords(DUP, 'ham'), [
    '2 near-duplicates labelled ham',
    ', lines ',
    { line: 812 },
    ', ',
    { line: 3090 },
  ]);
  const mixed: Reason = {
    kind: 'duplicate',
    evidence: {
      count: 1 + 12,
      exact: 1,
      near: 12,
      rows: Array.from({ length: 10 }, (_, i) => ({ index: i, line: i + 2, exact: i === 0, jaccard: 1 })),
    },
  };
  assert.equal(
    wordsText(reasonWords(mixed, 'spam')),
    `1 exact and 12 near-duplicates labelled spam, lines 2, 3, 4, 5, 6 and ${13 - MAX_LINES} more`,
  );
  const one: Reason = {
    kind: 'duplicate',
    evidence: { count: 1, exact: 1, near: 0, rows: [{ index: 4, line: 5, exact: true, jaccard: 1 }] },
  };
  assert.equal(wordsText(reasonWords(one, 'x')), '1 exact duplicate labelled x, line 5');

  const conflict: Reason = {
    kind: 'conflict',
    evidence: {
      count: 2,
      labels: { spam: 2 },
      rows: [
        { index: 9, line: 10, label: 'spam', exact: true, jaccard: 1 },
        { index: 19, line: 20, label: 'spam', exact: false, jaccard: 0.8 },
      ],
    },
  };
  assert.equal(
    reasonSentence(conflict, 'ham'),
    'conflicting labels: 2 near-identical rows labelled spam, lines 10, 20',
  );
  const three: Reason = {
    kind: 'conflict',
    evidence: {
      count: 3,
      labels: { b: 1, c: 2 },
      rows: [
        { index: 1, line: 2, label: 'c', exact: true, jaccard: 1 },
        { index: 2, line: 3, label: 'b', exact: false, jaccard: 0.9 },
        { index: 3, line: 4, label: 'c', exact: false, jaccard: 0.8 },
      ],
    },
  };
  assert.equal(
    wordsText(reasonWords(three, 'a')),
    '2 near-identical rows labelled c and 1 labelled b, lines 2 (c), 3 (b), 4 (c)',
  );

  const mis: Reason = {
    kind: 'mislabeled',
    evidence: {
      predicted: 'spam',
      k: 10,
      ownLabelShare: 0.2,
      predictedShare: 0.8,
      selfInfluence: 100,
      selfInfluenceIfPredicted: 3,
      selfInfluenceDrop: 0.97,
    },
  };
  assert.equal(
    reasonSentence(mis, 'ham'),
    'likely mislabeled: the head and 8 of its 10 nearest rows say spam; self-influence falls 97% if it were spam',
  );
  const rises: Reason = { ...mis, evidence: { ...mis.evidence, selfInfluenceDrop: -0.5 } } as Reason;
  assert.match(reasonSentence(rises, 'ham'), /self-influence rises 50% if it were spam$/);
  const bare: Reason = { ...mis, evidence: { ...mis.evidence, selfInfluenceDrop: undefined } } as Reason;
  assert.equal(
    reasonSentence(bare, 'ham'),
    'likely mislabeled: the head and 8 of its 10 nearest rows say spam',
  );

  const rare: Reason = {
    kind: 'rare',
    evidence: { distance: 1.4, classMedian: 0.9, ratio: 1.5556, percentile: 94.8 },
  };
  assert.equal(
    reasonSentence(rare, 'ham'),
    'rare for its class: farther from the class mean than 94% of ham rows (1.56× the class median distance)',
  );
  const farthest: Reason = { kind: 'rare', evidence: { ...rare.evidence, percentile: 100 } } as Reason;
  assert.match(reasonSentence(farthest, 'ham'), /than any other ham row/);

  const tpl: Reason = {
    kind: 'templated',
    evidence: {
      count: 6,
      k: 10,
      similarity: 0.95,
      rows: [1, 2, 3, 4, 5, 6].map((i) => ({ index: i, line: i + 100, similarity: 0.97 })),
    },
  };
  assert.equal(
    reasonSentence(tpl, 'ham'),
    'templated: 6 of its 10 nearest rows are labelled ham at cosine similarity ≥ 0.95, lines 101, 102, 103, 104, 105 and 1 more',
  );

  assert.equal(percentWords(0.974), '97%');
  assert.equal(percentWords(0.9996), '99.9%', 'a partial share never reads 100%');
  assert.equal(percentWords(1), '100%');
  assert.equal(percentWords(0.001), '<1%');
  assert.equal(percentWords(0), '0%');
});

test('hover markdown: line links run only memorization.revealLine, data is escaped', () => {
  assert.deepEqual([...HOVER_COMMANDS], ['memorization.explainRow', 'memorization.revealLine']);
  const uri = 'file:///w/spam.train.jsonl';
  const md = reasonsMarkdown({ label: '<b>ham</b> [x](command:evil)', reasons: [DUP] }, uri);
  const links = [...md.matchAll(/\[(\d+)\]\((command:[^ )]+) "Go to line (\d+)"\)/g)];
  assert.deepEqual(
    links.map((m) => [m[1], m[3]]),
    [
      ['812', '812'],
      ['3090', '3090'],
    ],
  );
  for (const m of links) {
    assert.equal(m[2], commandUri('memorization.revealLine', [uri, Number(m[1])]));
    const args = JSON.parse(decodeURIComponent(m[2].split('?')[1]));
    assert.deepEqual(args, [uri, Number(m[1])]);
  }
  // Every command link in the markdown is one of ours (the label's fake link is escaped, so it is no link).
  const commands = [...md.matchAll(/\]\(command:([\w.]+)/g)].map((m) => m[1]);
  assert.deepEqual(commands, ['memorization.revealLine', 'memorization.revealLine']);
  assert.ok(md.includes('\\<b\\>ham\\<\\/b\\> \\[x\\]\\(command\\:evil\\)'), md);
  assert.match(md, /^\*\*Why\*\*\n\n- \*duplicate\*: 2 near\\-duplicates labelled /);
  assert.equal(reasonsMarkdown({ label: 'x', reasons: [] }, uri), '');
  // Spaces stay spaces (a long sentence wraps); punctuation is escaped; line breaks become spaces.
  assert.equal(markdownText('a b*c\n_d'), 'a b\\*c \\_d');
});

test('scoredOnText: the head, its input and the solver in one sentence', () => {
  assert.equal(
    scoredOnText({
      featurizer: 'words',
      input: 'standardized',
      model: 'linear',
      head: 'linear (202 parameters)',
      solver: 'exact',
      curvature: 'hessian',
      damping: 0,
    }),
    'Scores of a linear head (202 parameters) on standardized mean word vectors, exact solver on the Hessian.',
  );
  assert.equal(
    scoredOnText({
      featurizer: 'words',
      input: 'raw',
      model: 'mlp',
      head: 'mlp 100-64-2 tanh (6594 parameters, gauss-newton curvature, damping 0.001)',
      solver: 'ekfac',
      curvature: 'gauss-newton',
      damping: 0.001,
    }),
    'Scores of an MLP head 100-64-2 tanh (6594 parameters) on raw mean word vectors, ekfac solver on the Gauss-Newton matrix + 0.001 I.',
  );
  assert.match(
    scoredOnText({
      featurizer: 'onnx:models/bert (output last_hidden_state, max length 128, 768-d)',
      input: 'standardized',
      model: 'linear',
      head: 'linear (1538 parameters)',
      solver: 'ekfac',
      curvature: 'hessian',
      damping: 0,
    }),
    /^Scores of a linear head \(1538 parameters\) on standardized mean-pooled encoder outputs \(onnx:models\/bert .*\), ekfac solver on the Hessian\.$/,
  );
});

/** Rows for the paging and duplicate tests: index = position, line = index + 1. */
function reasonRows() {
  const mk = (i: number, label: string, rank: number, reasons: Reason[] = []) => ({
    index: i,
    line: i + 1,
    rank,
    id: `r${i}`,
    label,
    pred: label,
    prob: 0.5,
    loss: Math.log(2),
    score: 10 - rank,
    percentile: 100 - 10 * rank,
    reasons,
  });
  const rare: Reason = {
    kind: 'rare',
    evidence: { distance: 1, classMedian: 0.5, ratio: 2, percentile: 95 },
  };
  return [
    mk(0, 'ham', 5, [DUP]),
    mk(1, 'spam', 2),
    mk(2, 'ham', 3, [DUP, rare]),
    mk(3, 'ham', 1, [rare]),
    mk(4, 'spam', 4),
    mk(5, 'ham', 6, [DUP]),
    mk(6, 'ham', 7),
  ];
}

test('paging: the reason filter (a kind, any, none) and reason chips in words', async () => {
  const rows = reasonRows();
  const text = (line: number) => `text ${line}`;
  const q = new RowQuery(rows, rawRowText(text));
  const base = { offset: 0, limit: 10, sort: { key: 'rank' as const, dir: 'asc' as const } };
  const ids = async (reason: string, label = '') =>
    (await q.page({ ...base, filter: { reason: reasonFilter(reason), label } })).rows.map((r) => r.id);
  assert.deepEqual(await ids('duplicate'), ['r2', 'r0', 'r5']);
  assert.deepEqual(await ids('rare'), ['r3', 'r2']);
  assert.deepEqual(await ids('any'), ['r3', 'r2', 'r0', 'r5']);
  assert.deepEqual(await ids('none'), ['r1', 'r4', 'r6']);
  assert.deepEqual(await ids('conflict'), []);
  assert.deepEqual(
    await ids('bogus'),
    ['r3', 'r1', 'r2', 'r4', 'r0', 'r5', 'r6'],
    'an unknown value keeps every row',
  );
  assert.deepEqual(await ids('none', 'spam'), ['r1', 'r4']);
  const page = await q.page({ ...base, filter: { reason: 'rare' } });
  assert.deepEqual(page.rows[1].chips, [
    { kind: 'duplicate', text: 'duplicate: 2 near-duplicates labelled ham, lines 812, 3090' },
    {
      kind: 'rare',
      text: 'rare for its class: farther from the class mean than 95% of ham rows (2.00× the class median distance)',
    },
  ]);
  assert.equal(page.rows[0].chips?.length, 1);
  assert.equal((await q.page({ ...base, filter: { reason: 'none' } })).rows[0].chips, undefined);
  assert.equal(passesReason({}, 'any'), false);
  assert.equal(passesReason({}, ''), true);
  assert.equal(reasonFilter('templated'), 'templated');
  assert.equal(reasonFilter(42), '');
});

test('duplicates view: groups resolved to rows, conflicts first, labels side by side, filtered and paged', async () => {
  const rows = reasonRows();
  // Summary groups (row indices): a same-label pair, a conflicting trio, a pair with an index the results lack.
  const groups = duplicateGroups([[0, 5], [6, 1, 2, 1], [3, 99], [4]], rows);
  assert.equal(groups.length, 2, 'groups left with one known row are dropped');
  // The conflict first; in it the commonest label first (ham x2, rank 3 before rank 7), then spam.
  assert.deepEqual(groups[0], {
    members: [2, 6, 1],
    labels: [
      { label: 'ham', count: 2 },
      { label: 'spam', count: 1 },
    ],
    conflict: true,
  });
  assert.deepEqual(groups[1], { members: [0, 5], labels: [{ label: 'ham', count: 2 }], conflict: false });
  // Without conflicts: the larger group first, then the one holding the most memorized row.
  assert.deepEqual(
    duplicateGroups(
      [
        [5, 6],
        [0, 2, 3],
      ],
      rows,
    ).map((g) => g.members),
    [
      [3, 2, 0],
      [5, 6],
    ],
  );
  assert.deepEqual(
    duplicateGroups(
      [
        [5, 6],
        [2, 3],
      ],
      rows,
    ).map((g) => g.members),
    [
      [3, 2],
      [5, 6],
    ],
  );

  const q = new DuplicateQuery(
    [
      [0, 5],
      [6, 1, 2],
    ],
    rows,
    rawRowText((l) => `text of line ${l}`),
  );
  assert.equal(q.size, 2);
  assert.equal(q.rowCount, 5);
  const all = await q.page({ offset: 0, limit: 10, filter: {} });
  assert.equal(all.total, 2);
  assert.deepEqual(
    all.groups.map((g) => [g.position, g.size, g.conflict, g.rows.map((r) => r.line)]),
    [
      [0, 3, true, [3, 7, 2]],
      [1, 2, false, [1, 6]],
    ],
  );
  assert.equal(all.groups[0].rows[0].text, 'text of line 3');
  assert.equal(all.groups[0].rows[0].chips?.length, 2);
  // A group stays when any of its rows passes the filters.
  const spam = await q.page({ offset: 0, limit: 10, filter: { label: 'spam' } });
  assert.deepEqual(
    spam.groups.map((g) => g.size),
    [3],
  );
  const rare = await q.page({ offset: 0, limit: 10, filter: { reason: 'rare' } });
  assert.deepEqual(
    rare.groups.map((g) => g.rows.map((r) => r.line)),
    [[3, 7, 2]],
  );
  const byText = await q.page({ offset: 0, limit: 10, filter: { text: 'LINE 6' } });
  assert.deepEqual(
    byText.groups.map((g) => g.size),
    [2],
  );
  const second = await q.page({ offset: 1, limit: 1, filter: {} });
  assert.deepEqual([second.total, second.groups[0].position], [2, 1]);

  // A large group lists MAX_GROUP_ROWS rows; the view says how many it has.
  const many = Array.from({ length: 50 }, (_, i) => ({ ...rows[0], index: i, line: i + 1, rank: i + 1 }));
  const big = await new DuplicateQuery(
    [many.map((r) => r.index)],
    many,
    rawRowText(() => 'same'),
  ).page({ offset: 0, limit: 5, filter: {} });
  assert.equal(big.groups[0].size, 50);
  assert.equal(big.groups[0].rows.length, MAX_GROUP_ROWS);
  assert.deepEqual(
    big.groups[0].rows.slice(0, 3).map((r) => r.rank),
    [1, 2, 3],
  );
});
