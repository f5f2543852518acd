import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setLinalgBackend } from '../../src/engine/linalg/gemm';
import { groupTable } from '../../src/engine/reasons/groups';
import { computeReasons } from '../../src/engine/reasons/index';
import {
  SIGNATURE_BINS,
  estimateJaccard,
  exactJaccard,
  normalizeText,
  rowsPerBand,
  shingleHashes,
  shingleSet,
  signature,
} from '../../src/engine/reasons/minhash';
import { type Neighbours, findNeighbours, loadUsearch } from '../../src/engine/reasons/neighbours';
import {
  DEFAULT_RULES,
  type Reason,
  type ReasonInput,
  explainReasons,
} from '../../src/engine/reasons/reasons';
import { duplicateClusters, duplicatesOf, findTextDuplicates } from '../../src/engine/reasons/textDuplicates';
import { gaussian, rng } from './helpers';

const errors: Record<string, number> = {};
function record(name: string, err: number): void {
  errors[name] = Math.max(errors[name] ?? 0, err);
}
test.after(() => console.log('largest errors of the reasons checks:', JSON.stringify(errors)));

/** Clustered rows with a few exact copies and one zero row: ties, duplicates and a degenerate vector. */
function clustered(n: number, D: number, seed: number): Float64Array {
  const r = rng(seed);
  const centers = Array.from({ length: 8 }, () => Array.from({ length: D }, () => 2 * gaussian(r)));
  const X = new Float64Array(n * D);
  for (let i = 0; i < n; i++) {
    const c = centers[i % 8];
    for (let d = 0; d < D; d++) X[i * D + d] = c[d] + gaussian(r);
  }
  for (let i = 0; i < 10; i++) X.copyWithin((i + 20) * D, i * D, i * D + D);
  X.fill(0, 5 * D, 6 * D);
  return X;
}

/** Brute force: every pair's cosine, sorted by similarity then index. */
function referenceNeighbours(
  X: Float64Array,
  n: number,
  D: number,
  k: number,
): { index: number[]; sim: number[] } {
  const norm = (i: number) => Math.sqrt(X.subarray(i * D, i * D + D).reduce((a, v) => a + v * v, 0));
  const index: number[] = [];
  const sim: number[] = [];
  for (let i = 0; i < n; i++) {
    const cand: [number, number][] = [];
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      let s = 0;
      for (let d = 0; d < D; d++) s += X[i * D + d] * X[j * D + d];
      const nn = norm(i) * norm(j);
      cand.push([nn > 0 ? s / nn : 0, j]);
    }
    cand.sort((a, b) => b[0] - a[0] || a[1] - b[1]);
    for (let t = 0; t < k; t++) {
      index.push(t < cand.length ? cand[t][1] : -1);
      sim.push(t < cand.length ? cand[t][0] : NaN);
    }
  }
  return { index, sim };
}

test('exact neighbours equal a brute-force reference, on the JS kernel and on the default engine', async () => {
  const n = 300;
  const D = 12;
  const k = 7;
  const X = clustered(n, D, 3);
  const ref = referenceNeighbours(X, n, D, k);
  for (const backend of ['js', 'auto'] as const) {
    setLinalgBackend(backend);
    try {
      const nb = await findNeighbours(X, n, D, { k, method: 'exact' });
      assert.ok(nb.exact);
      assert.match(nb.engine, /^exact/);
      let simErr = 0;
      let mismatched = 0;
      for (let t = 0; t < n * k; t++) {
        simErr = Math.max(simErr, Math.abs(nb.similarity[t] - ref.sim[t]));
        // Equal similarities may legitimately order differently only below rounding; none here.
        if (nb.index[t] !== ref.index[t] && Math.abs(nb.similarity[t] - ref.sim[t]) > 1e-12) mismatched++;
      }
      record(`neighbour similarity (${backend})`, simErr);
      assert.ok(simErr < 1e-12, `similarities match the reference (${simErr})`);
      assert.equal(mismatched, 0);
      // The exact copies (rows 20..29 of rows 0..9) are each other's nearest, at similarity 1.
      for (let i = 0; i < 10; i++) {
        if (i === 5) continue;
        assert.equal(nb.index[(i + 20) * k], i);
        assert.ok(Math.abs(nb.similarity[(i + 20) * k] - 1) < 1e-12);
      }
      // The zero row is similar to nothing.
      for (let j = 0; j < k; j++) assert.equal(nb.similarity[5 * k + j], 0);
      assert.match(nb.note, /300 rows \(291 distinct vectors\)/);
    } finally {
      setLinalgBackend('auto');
    }
  }
});

test('neighbours on a dataset smaller than k pad with -1', async () => {
  const X = Float64Array.from([1, 0, 0, 1, 1, 1]);
  const nb = await findNeighbours(X, 3, 2, { k: 4, method: 'exact' });
  assert.deepEqual(Array.from(nb.index.subarray(0, 4)), [2, 1, -1, -1]);
  assert.ok(Math.abs(nb.similarity[0] - Math.SQRT1_2) < 1e-15);
  assert.ok(Number.isNaN(nb.similarity[2]));
});

test('approximate neighbours (usearch HNSW) recall the exact ones', async (t) => {
  const lib = loadUsearch();
  if (!lib.module) {
    t.skip(`usearch not loadable here (${lib.error})`);
    return;
  }
  const n = 3000;
  const D = 24;
  const k = 10;
  const X = clustered(n, D, 7);
  const exact = await findNeighbours(X, n, D, { k, method: 'exact' });
  const approx = await findNeighbours(X, n, D, { k, method: 'approximate' });
  assert.equal(approx.engine, 'hnsw (usearch)');
  assert.equal(approx.exact, false);
  assert.match(approx.note, /HNSW/);
  // Recall counting ties: a neighbour as similar as the exact k-th one is a correct answer.
  let hit = 0;
  for (let i = 0; i < n; i++) {
    const kth = exact.similarity[i * k + k - 1];
    for (let j = 0; j < k; j++) if (approx.similarity[i * k + j] >= kth - 1e-12) hit++;
  }
  const recall = hit / (n * k);
  record('hnsw recall shortfall', 1 - recall);
  assert.ok(recall >= 0.97, `recall@${k} ${recall}`);
  // Its similarities are recomputed exactly for the pairs it returns.
  for (let t2 = 0; t2 < 50; t2++) {
    const i = (t2 * 37) % n;
    const j = approx.index[i * k];
    let s = 0;
    let a = 0;
    let b = 0;
    for (let d = 0; d < D; d++) {
      s += X[i * D + d] * X[j * D + d];
      a += X[i * D + d] ** 2;
      b += X[j * D + d] ** 2;
    }
    assert.ok(Math.abs(approx.similarity[i * k] - s / Math.sqrt(a * b)) < 1e-12);
  }
});

test('many copies of few vectors: each distinct vector is searched once, rows come out as by brute force', async () => {
  const distinct = clustered(200, 8, 4);
  const n = 3000;
  const X = new Float64Array(n * 8);
  for (let i = 0; i < n; i++) X.set(distinct.subarray((i % 200) * 8, (i % 200) * 8 + 8), i * 8);
  const ref = referenceNeighbours(X, n, 8, 10);
  for (const method of ['exact', 'approximate'] as const) {
    const nb = await findNeighbours(X, n, 8, { method });
    const nonzero = new Set<string>();
    let zeros = 0;
    for (let i = 0; i < n; i++) {
      const row = Array.from(X.subarray(i * 8, i * 8 + 8));
      if (row.every((v) => v === 0)) zeros++;
      else nonzero.add(row.join(','));
    }
    assert.match(
      nb.note,
      new RegExp(`3000 rows \\(${nonzero.size + zeros} distinct vectors\\)`),
      'zero rows are never merged',
    );
    let err = 0;
    for (let t = 0; t < n * 10; t++) err = Math.max(err, Math.abs(nb.similarity[t] - ref.sim[t]));
    record(`neighbours of repeated rows (${method}), similarity`, err);
    assert.ok(err < 1e-12, `${method}: ${err}`);
  }
});

test('without usearch, an approximate search falls back to the exact one and says so', async () => {
  const before = process.env.MEMSCORE_NEIGHBOURS;
  process.env.MEMSCORE_NEIGHBOURS = 'exact';
  try {
    const X = clustered(100, 4, 1);
    const nb = await findNeighbours(X, 100, 4, { k: 3, method: 'approximate' });
    assert.ok(nb.exact);
    assert.match(nb.note, /usearch could not be loaded \(MEMSCORE_NEIGHBOURS=exact\)/);
    const ref = referenceNeighbours(X, 100, 4, 3);
    // The same neighbours up to the order of equal similarities (the zero row is equally far from every row).
    for (let t = 0; t < 300; t++) assert.ok(Math.abs(nb.similarity[t] - ref.sim[t]) < 1e-12);
    assert.deepEqual(Array.from(nb.index.subarray(0, 15)), ref.index.slice(0, 15));
  } finally {
    if (before === undefined) delete process.env.MEMSCORE_NEIGHBOURS;
    else process.env.MEMSCORE_NEIGHBOURS = before;
  }
});

test('text normalization folds case, whitespace, compatibility forms and zero-width characters', () => {
  assert.equal(normalizeText('  Hello \n\t World  '), 'hello world');
  assert.equal(normalizeText('ＨＥＬＬＯ'), 'hello');
  assert.equal(normalizeText('spa\u200bm'), 'spam');
  assert.notEqual(normalizeText('WIN $$$'), normalizeText('win'));
  assert.deepEqual(
    Array.from(shingleSet('abc')),
    Array.from(shingleHashes('abc')),
    'a short text is one shingle',
  );
  assert.equal(shingleSet('abcdefg').length, 3);
  assert.equal(shingleSet('aaaaaaa').length, 1, 'repeated shingles are one element of the set');
});

/** Two sets of distinct 32-bit values with |A n B| = shared, |A| = |B| = size. */
function setPair(size: number, shared: number, r: () => number): [Uint32Array, Uint32Array] {
  const seen = new Set<number>();
  const fresh = () => {
    for (;;) {
      const v = Math.floor(r() * 4294967296) >>> 0;
      if (!seen.has(v)) {
        seen.add(v);
        return v;
      }
    }
  };
  const common = Array.from({ length: shared }, fresh);
  const a = [...common, ...Array.from({ length: size - shared }, fresh)];
  const b = [...common, ...Array.from({ length: size - shared }, fresh)];
  return [Uint32Array.from(a).sort(), Uint32Array.from(b).sort()];
}

test('MinHash (one permutation, densified) estimates the exact Jaccard similarity', () => {
  const r = rng(11);
  const K = SIGNATURE_BINS;
  for (const size of [1000, 40]) {
    for (const shared of size === 1000 ? [100, 500, 800, 950] : [5, 20, 35]) {
      const pairs = 200;
      let sumEst = 0;
      let J = 0;
      let worst = 0;
      for (let p = 0; p < pairs; p++) {
        const [a, b] = setPair(size, shared, r);
        J = exactJaccard(a, b);
        const est = estimateJaccard(signature(a)!, signature(b)!);
        sumEst += est;
        worst = Math.max(worst, Math.abs(est - J));
      }
      const bias = Math.abs(sumEst / pairs - J);
      const sd = Math.sqrt((J * (1 - J)) / K);
      record('minhash mean bias', bias);
      record('minhash worst single estimate / sd', worst / sd);
      // The mean of 200 estimates has a standard error of sd / sqrt(200); 4 of those, plus rounding.
      assert.ok(bias < (4 * sd) / Math.sqrt(pairs) + 1e-3, `size ${size}, J ${J.toFixed(3)}: bias ${bias}`);
      assert.ok(worst < 5 * sd + 0.02, `size ${size}, J ${J.toFixed(3)}: worst ${worst} vs sd ${sd}`);
    }
  }
  // Identical sets give identical signatures; exactJaccard by hand.
  const [a] = setPair(300, 300, r);
  assert.equal(estimateJaccard(signature(a)!, signature(a.slice())!), 1);
  assert.equal(exactJaccard(Uint32Array.of(1, 2, 3), Uint32Array.of(2, 3, 4, 5)), 2 / 5);
  assert.equal(signature(new Uint32Array(0)), undefined);
});

test('LSH banding is sized for the threshold', () => {
  for (const t of [0.3, 0.5, 0.7, 0.8, 0.9]) {
    const r = rowsPerBand(t);
    const p = 1 - Math.pow(1 - Math.pow(t, r), SIGNATURE_BINS / r);
    assert.ok(p >= 0.995, `threshold ${t}: r ${r}, P(candidate) ${p}`);
    const p2 = 1 - Math.pow(1 - Math.pow(t, 2 * r), SIGNATURE_BINS / (2 * r));
    assert.ok(p2 < 0.995, 'the largest such r');
  }
  assert.equal(rowsPerBand(0.7), 4);
  assert.equal(rowsPerBand(0.8), 8);
});

/** A text of `words` random words; variant(t, m) changes m of its words. */
function randomText(r: () => number, words: number): string[] {
  return Array.from({ length: words }, () => Math.floor(r() * 1e6).toString(36));
}

test('text duplicates: exact groups, near pairs by the MinHash estimate, empty texts apart', async () => {
  const r = rng(5);
  const texts: string[] = [];
  const base = Array.from({ length: 60 }, () => randomText(r, 80));
  // Rows 0..59: distinct texts. Rows 60..119: row i-60 with 1 to 16 of its 80 words changed (Jaccard ~0.45..0.97).
  for (const w of base) texts.push(w.join(' '));
  base.forEach((w, i) => {
    const v = w.slice();
    for (let m = 0; m <= i % 16; m++) v[(m * 5 + i) % v.length] = 'x' + Math.floor(r() * 1e6).toString(36);
    texts.push(v.join(' '));
  });
  texts.push(texts[0].toUpperCase().replace(/ /g, '  ')); // 120: exact duplicate of 0 after normalization
  texts.push('', '   '); // 121, 122: empty texts
  const d = await findTextDuplicates(texts, { threshold: 0.8 });
  assert.equal(d.group[120], d.group[0]);
  assert.equal(d.group[121], -1);
  assert.equal(d.group[122], -1);
  assert.deepEqual(duplicatesOf(d, 121), []);
  assert.equal(d.stats.exactDuplicateRows, 2);
  const sets = texts.map((t) => shingleSet(normalizeText(t)));
  const sig = (i: number) => signature(shingleHashes(normalizeText(texts[i])))!;
  // Clearly above the threshold: found; clearly below: not; the reported value is the signature estimate, close to
  // the exact Jaccard.
  let above = 0;
  let below = 0;
  for (let i = 0; i < 60; i++) {
    const J = exactJaccard(sets[i], sets[i + 60]);
    const dup = duplicatesOf(d, i).find((x) => x.index === i + 60);
    const sd = Math.sqrt((J * (1 - J)) / SIGNATURE_BINS);
    if (dup) {
      // The estimate of the stored 16-bit signatures.
      assert.equal(dup.jaccard, estimateJaccard(Uint16Array.from(sig(i)), Uint16Array.from(sig(i + 60))));
      record('near-duplicate estimate / sd', Math.abs(dup.jaccard - J) / sd);
      assert.ok(
        Math.abs(dup.jaccard - J) < 4 * sd + 1e-9,
        `pair ${i}: estimate ${dup.jaccard} vs exact ${J}`,
      );
      assert.ok(dup.jaccard >= 0.8);
    }
    if (J >= 0.8 + 4 * sd) {
      assert.ok(dup, `pair ${i} (Jaccard ${J.toFixed(3)}) found`);
      above++;
    }
    if (J <= 0.8 - 4 * sd) {
      assert.equal(dup, undefined, `pair ${i} (Jaccard ${J.toFixed(3)}) not reported`);
      below++;
    }
  }
  assert.ok(above >= 8 && below >= 10, `both sides exercised (${above} above, ${below} below)`);
  for (let i = 0; i < texts.length; i++)
    for (const x of duplicatesOf(d, i)) assert.ok(x.exact || x.jaccard >= 0.8);
  // No link between the distinct base texts.
  for (let i = 1; i < 60; i++) assert.ok(!duplicatesOf(d, i).some((x) => x.index < 60));
  // Row 0's duplicates: row 120 (exact) first, then its near copy 60 (1 word changed).
  assert.deepEqual(
    duplicatesOf(d, 0).map((x) => [x.index, x.exact]),
    [
      [120, true],
      [60, false],
    ],
  );
  assert.deepEqual(duplicateClusters(d)[0], [0, 60, 120]);
});

test('text duplicates: an oversized bucket is capped and reported', async () => {
  const base = 'the quick brown fox jumps over the lazy dog and keeps running through the field';
  const texts = Array.from({ length: 40 }, (_, i) => `${base} ${i}`);
  const d = await findTextDuplicates(texts, { threshold: 0.8, maxBucket: 5 });
  assert.ok(d.stats.cappedBuckets > 0);
  assert.match(d.notes.join(' '), /lower bounds/);
  // Each text still has its window of near-duplicates.
  for (let i = 0; i < 40; i++) assert.ok(duplicatesOf(d, i).length >= 5);
});

/** A hand-built neighbour table: rows' neighbours and similarities as given. */
function table(k: number, rows: [number, number][][]): Neighbours {
  const n = rows.length;
  const index = new Int32Array(n * k).fill(-1);
  const similarity = new Float64Array(n * k).fill(NaN);
  rows.forEach((list, i) =>
    list.forEach(([j, s], t) => {
      index[i * k + t] = j;
      similarity[i * k + t] = s;
    }),
  );
  return { n, k, index, similarity, engine: 'exact (js)', exact: true, note: 'hand-built' };
}

const kinds = (rs: Reason[]) => rs.map((r) => r.kind);

test('duplicate and conflict: same text with the same label / another label, with indices, lines and labels', async () => {
  const texts = [
    'buy cheap pills now',
    'Buy cheap pills   now',
    'a normal message about lunch',
    'free money!!',
    'FREE money!!',
  ];
  const y = [1, 1, 0, 1, 0];
  const n = texts.length;
  const duplicates = await findTextDuplicates(texts);
  const input: ReasonInput = {
    classes: ['ham', 'spam'],
    y,
    pred: y,
    lines: [2, 3, 4, 5, 6],
    X: new Float64Array(n),
    dim: 1,
    neighbours: table(
      2,
      Array.from({ length: n }, () => []),
    ),
    duplicates,
  };
  const res = explainReasons(input);
  assert.deepEqual(kinds(res.rows[0]), ['duplicate']);
  assert.deepEqual(res.rows[0][0].evidence, {
    count: 1,
    exact: 1,
    near: 0,
    rows: [{ index: 1, line: 3, exact: true, jaccard: 1 }],
  });
  assert.deepEqual(kinds(res.rows[2]), [], 'negative: a text with no copy');
  assert.deepEqual(kinds(res.rows[3]), ['conflict']);
  assert.deepEqual(res.rows[3][0].evidence, {
    count: 1,
    labels: { ham: 1 },
    rows: [{ index: 4, line: 6, label: 'ham', exact: true, jaccard: 1 }],
  });
  assert.ok(!kinds(res.rows[0]).includes('conflict'), 'negative: same-label copies are no conflict');
  assert.deepEqual(res.counts, { duplicate: 2, conflict: 2, mislabeled: 0, rare: 0, templated: 0 });
  assert.equal(res.withAnyReason, 4);
  // Without texts there are no duplicate reasons.
  assert.deepEqual(explainReasons({ ...input, duplicates: undefined }).counts.duplicate, 0);
});

test('mislabeled: head and neighbours agree on another class; evidence includes the self-influence fall', () => {
  // Row 0: label 0, predicted 1, 4 of 5 neighbours labelled 1. Row 1: predicted 1 but neighbours mostly 0.
  // Row 2: predicted as labelled. Row 3: predicted 1, neighbours tied 2-2 between 1 and 2 (no agreement).
  const y = [0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 2, 2];
  const pred = [1, 1, 0, 1, 1, 1, 1, 1, 0, 0, 2, 2];
  const neighbours = table(5, [
    [
      [4, 0.9],
      [5, 0.9],
      [6, 0.8],
      [7, 0.8],
      [8, 0.7],
    ],
    [
      [8, 0.9],
      [9, 0.9],
      [2, 0.8],
      [4, 0.8],
      [5, 0.7],
    ],
    [
      [4, 0.9],
      [5, 0.9],
      [6, 0.8],
      [7, 0.8],
      [8, 0.7],
    ],
    [
      [4, 0.9],
      [5, 0.9],
      [10, 0.8],
      [11, 0.8],
      [8, 0.7],
    ],
    ...Array.from({ length: 8 }, () => [] as [number, number][]),
  ]);
  const calls: [number, number][] = [];
  const si = [4, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1];
  const res = explainReasons({
    classes: ['a', 'b', 'c'],
    y,
    pred,
    lines: y.map((_, i) => i + 1),
    X: new Float64Array(12),
    dim: 1,
    neighbours,
    selfInfluence: si,
    selfInfluenceWithLabel: (row, c) => {
      calls.push([row, c]);
      return c === 1 ? 1 : si[row];
    },
  });
  assert.deepEqual(kinds(res.rows[0]), ['mislabeled']);
  assert.deepEqual(res.rows[0][0].evidence, {
    predicted: 'b',
    k: 5,
    ownLabelShare: 0.2,
    predictedShare: 0.8,
    selfInfluence: 4,
    selfInfluenceIfPredicted: 1,
    selfInfluenceDrop: 0.75,
  });
  assert.deepEqual(calls, [[0, 1]], 'the callback is asked for the flagged row and its predicted class only');
  assert.deepEqual(kinds(res.rows[1]), [], 'negative: the neighbours side with the label');
  assert.deepEqual(kinds(res.rows[2]), [], 'negative: predicted as labelled');
  assert.deepEqual(kinds(res.rows[3]), [], 'negative: neighbours tied between two classes');
  // Without the callback the rule still applies, without the self-influence evidence.
  const plain = explainReasons({
    classes: ['a', 'b', 'c'],
    y,
    pred,
    lines: y,
    X: new Float64Array(12),
    dim: 1,
    neighbours,
  });
  assert.equal(plain.rows[0][0].kind, 'mislabeled');
  assert.equal((plain.rows[0][0].evidence as { selfInfluence?: number }).selfInfluence, undefined);
});

test('rare: correctly predicted and far from its class centroid compared with the class median', () => {
  // Class 0: 200 rows on a narrow cone around e1, and row 0 along e2 (far; too few to tilt the centroid much).
  // Class 1: 30 rows on a cone around e3, all at the same angle (no row much farther than the median).
  const D = 3;
  const m0 = 200;
  const n = m0 + 30;
  const X = new Float64Array(n * D);
  for (let i = 0; i < m0; i++) {
    const a = (2 * Math.PI * i) / m0;
    X.set([1, 0.15 * Math.cos(a), 0.15 * Math.sin(a)], i * D);
  }
  X.set([0.1, 1, 0], 0);
  for (let i = m0; i < n; i++) {
    const a = (2 * Math.PI * i) / 30;
    X.set([0.3 * Math.cos(a), 0.3 * Math.sin(a), 1], i * D);
  }
  const y = Array.from({ length: n }, (_, i) => (i < m0 ? 0 : 1));
  const input: ReasonInput = {
    classes: ['a', 'b'],
    y,
    pred: y,
    lines: y.map((_, i) => i + 1),
    X,
    dim: D,
    neighbours: table(
      1,
      Array.from({ length: n }, () => []),
    ),
  };
  const res = explainReasons(input);
  assert.deepEqual(kinds(res.rows[0]), ['rare']);
  const ev = res.rows[0][0].evidence as {
    percentile: number;
    ratio: number;
    distance: number;
    classMedian: number;
  };
  assert.equal(ev.percentile, 100);
  assert.ok(ev.ratio > 3 && Math.abs(ev.ratio - ev.distance / ev.classMedian) < 1e-15);
  // The distance by hand: 1 - cos(row 0, class-0 mean).
  const mean = [0, 0, 0];
  for (let i = 0; i < m0; i++) for (let d = 0; d < D; d++) mean[d] += X[i * D + d] / m0;
  const dot = 0.1 * mean[0] + mean[1];
  const cos = dot / (Math.hypot(0.1, 1) * Math.hypot(...mean));
  record('rare distance', Math.abs(ev.distance - (1 - cos)));
  assert.ok(Math.abs(ev.distance - (1 - cos)) < 1e-12);
  assert.equal(
    res.counts.rare,
    1,
    'negative: class 1 is evenly spread (ratio 1), the rest of class 0 is close',
  );
  // Negative: the same far row, mispredicted, is not "correct-looking".
  const pred = y.slice();
  pred[0] = 1;
  assert.deepEqual(kinds(explainReasons({ ...input, pred }).rows[0]), []);
  // Negative: classes below rareMinClassRows get no rare rows.
  assert.equal(explainReasons(input, { rareMinClassRows: m0 + 1 }).counts.rare, 0);
});

test('templated: many close same-label neighbours that are not text duplicates', async () => {
  const texts = [
    't0 alpha',
    't1 beta',
    't2 gamma',
    't3 delta',
    't4 epsilon',
    't5 zeta',
    't6 eta',
    't0 alpha',
    'x',
  ];
  const duplicates = await findTextDuplicates(texts);
  const y = [0, 0, 0, 0, 0, 0, 0, 0, 1];
  const close = (js: number[], s = 0.97): [number, number][] => js.map((j) => [j, s]);
  const neighbours = table(8, [
    close([1, 2, 3, 4, 5, 6]), // row 0: 6 close same-label neighbours (row 7, its exact copy, is not among them)
    close([0, 7, 2, 3, 4, 5]), // row 1: 6, of which rows 0 and 7 are copies of each other (both count: not row 1's)
    close([0, 1, 3, 4]), // row 2: only 4
    close([0, 1, 2, 4, 5, 6], 0.9), // row 3: 6 neighbours but below the similarity threshold
    [],
    [],
    [],
    close([0, 1, 2, 3, 4, 5]), // row 7: copy of row 0: row 0 is its duplicate, so 5 templates
    close([0, 1, 2, 3, 4, 5]), // row 8: label 1, neighbours labelled 0
  ]);
  const res = explainReasons({
    classes: ['a', 'b'],
    y,
    pred: y,
    lines: y.map((_, i) => i + 1),
    X: new Float64Array(9),
    dim: 1,
    neighbours,
    duplicates,
  });
  assert.deepEqual(kinds(res.rows[0]), ['duplicate', 'templated']);
  const ev = res.rows[0][1].evidence as {
    count: number;
    k: number;
    similarity: number;
    rows: { index: number }[];
  };
  assert.equal(ev.count, 6);
  assert.equal(ev.similarity, DEFAULT_RULES.templatedSimilarity);
  assert.deepEqual(
    ev.rows.map((x) => x.index),
    [1, 2, 3, 4, 5, 6],
  );
  assert.equal((res.rows[1][0].evidence as { count: number }).count, 6);
  assert.deepEqual(kinds(res.rows[2]), [], 'negative: too few');
  assert.deepEqual(kinds(res.rows[3]), [], 'negative: not close enough');
  assert.equal((res.rows[7].find((x) => x.kind === 'templated')!.evidence as { count: number }).count, 5);
  assert.deepEqual(kinds(res.rows[8]), [], 'negative: close neighbours with another label');
});

test('group table: rows, mean percentile, top-10% share and reason shares per group', () => {
  const dup: Reason = { kind: 'duplicate', evidence: { count: 1, exact: 1, near: 0, rows: [] } };
  const rare: Reason = {
    kind: 'rare',
    evidence: { distance: 1, classMedian: 0.5, ratio: 2, percentile: 99 },
  };
  const t = groupTable(
    ['a', 'a', 'b', undefined, 'a'],
    [95, 10, 50, 90, 30],
    [[dup, rare], [], [dup], [], [rare]],
  );
  assert.deepEqual(
    t.groups.map((g) => [
      g.group,
      g.rows,
      g.meanPercentile,
      g.top10Share,
      g.reasons.duplicate,
      g.reasons.rare,
    ]),
    [
      ['a', 3, 45, 1 / 3, 1 / 3, 2 / 3],
      ['(missing)', 1, 90, 1, 0, 0],
      ['b', 1, 50, 0, 1, 0],
    ],
  );
  assert.deepEqual(
    [t.all.rows, t.all.meanPercentile, t.all.top10Share, t.all.reasons.duplicate],
    [5, 55, 0.4, 0.4],
  );
  assert.equal(t.all.reasons.conflict, 0);
  assert.throws(() => groupTable(['a'], [1, 2]), /one group value/);
});

test('computeReasons runs neighbours, duplicates and rules in one call', async () => {
  const n = 200;
  const D = 6;
  const X = clustered(n, D, 2);
  const y = Array.from({ length: n }, (_, i) => i % 2);
  const texts = Array.from({ length: n }, (_, i) => `row ${i % 150} text`);
  const job = await computeReasons({
    X,
    n,
    dim: D,
    classes: ['a', 'b'],
    y,
    pred: y,
    lines: y.map((_, i) => i + 2),
    texts,
  });
  assert.equal(job.neighbours.k, 10);
  assert.ok(job.duplicates);
  // Rows 150..199 repeat the texts of rows 0..49: same label when (i - 150) has i's parity, i.e. always.
  assert.equal(job.reasons.counts.duplicate, 100);
  assert.equal(job.reasons.counts.conflict, 0);
  assert.ok(job.notes[0].includes('exact'));
  assert.ok(job.seconds.neighbours >= 0 && job.seconds.duplicates >= 0 && job.seconds.reasons >= 0);
  assert.deepEqual(JSON.parse(JSON.stringify(job.reasons.rows[0])), job.reasons.rows[0], 'JSON-friendly');
});
