import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runEval } from '../../src/cli/evalCommands';
import { auroc, noiseExperiment } from '../../src/engine/experiments/noise';
import { memorizationExperiment } from '../../src/engine/experiments/memorization';
import {
  type Prepared,
  complement,
  fitHead,
  permutation,
  prepare,
  subset,
} from '../../src/engine/experiments/prepare';
import { reductionExperiment } from '../../src/engine/experiments/reduction';
import { readGroups, typicalityExperiment } from '../../src/engine/experiments/typicality';
import { UsageError } from '../../src/engine/types';
import { maxAbsDiff, rng, syntheticData } from './helpers';

const dir = mkdtempSync(join(tmpdir(), 'memscore-experiments-'));
const POS = ['good', 'great', 'excellent', 'happy', 'wonderful', 'love', 'nice', 'best'];
const NEG = ['bad', 'terrible', 'awful', 'sad', 'horrible', 'hate', 'poor', 'worst'];
const NEUTRAL = ['the', 'movie', 'was', 'and', 'plot', 'actor', 'film', 'story', 'music', 'today'];

interface Fixture {
  train: string;
  test: string;
  flipped: string;
  flippedIds: string[];
}

/** Small sentiment-like JSONL: the label follows the word lists, except for a few flipped rows (group 'odd'). */
function writeFixture(name: string, n: number, seed: number, flipEvery = 0): Fixture {
  const r = rng(seed);
  const pick = (xs: string[]) => xs[Math.floor(r() * xs.length)];
  const lines: string[] = [];
  const flippedIds: string[] = [];
  for (let i = 0; i < n; i++) {
    const pos = i % 2 === 0;
    const words = Array.from({ length: 6 }, () => (r() < 0.5 ? pick(pos ? POS : NEG) : pick(NEUTRAL)));
    const flip = flipEvery > 0 && i % flipEvery === 3;
    const label = pos !== flip ? 'pos' : 'neg';
    if (flip) flippedIds.push(`${name}-${i}`);
    lines.push(
      JSON.stringify({
        id: `${name}-${i}`,
        text: words.join(' '),
        label,
        group: flip ? 'odd' : pos ? 'plain-pos' : 'plain-neg',
      }),
    );
  }
  const train = join(dir, `${name}.jsonl`);
  writeFileSync(train, `${lines.join('\n')}\n`);
  const flipped = join(dir, `${name}.flipped.json`);
  writeFileSync(flipped, JSON.stringify(flippedIds));
  return { train, test: train, flipped, flippedIds };
}

const fx = writeFixture('train', 120, 7, 10);
const testFx = writeFixture('test', 60, 11);
const common = ['--text', 'text', '--label', 'label', '--quiet'];

async function evalJson(args: string[]): Promise<Record<string, unknown>> {
  const out = join(dir, `out-${args[0]}-${Math.floor(Math.random() * 1e9)}.json`);
  let table = '';
  assert.equal(await runEval([...args, ...common, '--out', out], (t) => (table += t)), 0);
  assert.match(table, /rows, 2 classes/);
  return JSON.parse(readFileSync(out, 'utf8')) as Record<string, unknown>;
}

test('removal: JSON contract, deterministic full/memorized runs, seeded random runs', async () => {
  const r = (await evalJson([
    'removal',
    fx.train,
    '--test',
    testFx.train,
    '--fractions',
    '0.1,0.3',
    '--seeds',
    '3',
  ])) as {
    full: { mean: number; std: number; runs: number[] };
    memorized: { fraction: number; mean: number; std: number; runs: number[] }[];
    random: { fraction: number; mean: number; std: number; runs: number[] }[];
    scores: Record<string, number>;
    secondsPerRetraining: number;
  };
  assert.deepEqual(Object.keys(r).sort(), ['full', 'memorized', 'random', 'scores', 'secondsPerRetraining']);
  assert.equal(r.full.runs.length, 3);
  assert.equal(r.full.std, 0);
  assert.deepEqual(
    r.memorized.map((m) => m.fraction),
    [0.1, 0.3],
  );
  for (const m of r.memorized) assert.equal(m.std, 0);
  for (const x of r.random) assert.equal(x.runs.length, 3);
  assert.ok(r.full.mean > 0.8, `the fixture is learnable (test accuracy ${r.full.mean})`);
  // The removed top-10% have higher scores than the removed top-30% boundary.
  assert.ok(r.scores['0.1'] >= r.scores['0.3']);
  assert.ok(r.secondsPerRetraining >= 0);
});

test('warm-started retraining reaches the same optimum as a cold start', async () => {
  const prep = await prepare(fx.train, { data: { text: ['text'], label: 'label' } });
  const full = fitHead(prep, prep.data);
  const part = subset(
    prep.data,
    prep.featurizer.dim,
    complement(prep.data.n, permutation(prep.data.n, 3).subarray(0, 30)),
  );
  const cold = fitHead(prep, part);
  const warm = fitHead(prep, part, full.theta);
  assert.ok(maxAbsDiff(cold.theta, warm.theta) < 1e-6, `max diff ${maxAbsDiff(cold.theta, warm.theta)}`);
});

test('reduction: replacing all tokens gives the same rate for attribution and random; attribution beats random', async () => {
  const prep = await prepare(fx.train, { data: { text: ['text'], label: 'label' } });
  const r = await reductionExperiment(prep, { top: 0.2, ks: [0.3, 1], steps: 20, seed: 1 });
  assert.ok(r.rows > 0);
  assert.ok(Math.abs(r.attribution[1].rate - r.random[1].rate) < 1e-9);
  assert.ok(r.attribution[0].rate > r.random[0].rate, JSON.stringify(r));
  const json = await evalJson(['reduction', fx.train, '--top', '0.2', '--ks', '0.3', '--steps', '10']);
  assert.deepEqual(Object.keys(json).sort(), ['attribution', 'random']);
});

test('stability: Spearman pairs over the rows common to all subsamples', async () => {
  const r = (await evalJson(['stability', fx.train, '--seeds', '3'])) as {
    kind: string;
    pairs: { spearman: number }[];
    mean: number;
    commonRows: number;
  };
  assert.equal(r.kind, 'subsample stability');
  assert.equal(r.pairs.length, 3);
  assert.ok(r.commonRows > 50 && r.commonRows < 120);
  assert.ok(r.mean > 0.5 && r.mean <= 1, `mean ${r.mean}`);
});

test('typicality: groups read by line (also when a row is skipped), flipped rows score highest', async () => {
  const withBad = join(dir, 'skips.jsonl');
  const text = readFileSync(fx.train, 'utf8');
  writeFileSync(withBad, `{"id": "bad", "text": "no label here", "group": "x"}\n${text}`);
  const prep = await prepare(withBad, { data: { text: ['text'], label: 'label' } });
  const groups = await readGroups(prep, 'group');
  assert.equal(groups.length, prep.rows.length);
  prep.rows.forEach((row, i) => {
    const raw = JSON.parse(text.split('\n')[row.line - 2]) as { group: string; id: string };
    assert.equal(raw.id, row.id);
    assert.equal(groups[i], raw.group);
  });
  const r = await typicalityExperiment(prep, 'group');
  assert.equal(
    r.groups.reduce((a, g) => a + g.count, 0),
    prep.rows.length,
  );
  assert.equal(r.groups[0].value, 'odd');
});

test('noise: AUROC and top-X% recall of the flipped labels', async () => {
  assert.equal(auroc([3, 2, 1, 0], [true, true, false, false]), 1);
  assert.equal(auroc([0, 1, 2, 3], [true, true, false, false]), 0);
  assert.equal(auroc([1, 1, 1, 1], [true, false, true, false]), 0.5);
  const prep = await prepare(fx.train, { data: { text: ['text'], label: 'label' } });
  const r = await noiseExperiment(prep, [...fx.flippedIds, 'not-a-row'], { folds: 5 });
  assert.equal(r.flipped, fx.flippedIds.length + 1);
  assert.equal(r.matched, fx.flippedIds.length);
  for (const m of ['selfInfluence', 'score', 'loss', 'oof'] as const)
    assert.ok(r.auroc[m] > 0.7, `${m}: ${r.auroc[m]}`);
  for (let j = 1; j < r.recall.length; j++) assert.ok(r.recall[j].loss >= r.recall[j - 1].loss);
  const json = await evalJson(['noise', fx.train, '--flipped', fx.flipped]);
  assert.deepEqual(Object.keys(json.auroc as object).sort(), ['loss', 'oof', 'score', 'selfInfluence']);
});

test('usage errors come before any reading', async () => {
  await assert.rejects(runEval(['removal', fx.train]), UsageError);
  await assert.rejects(runEval(['typicality', fx.train]), UsageError);
  await assert.rejects(runEval(['bogus', fx.train]), UsageError);
  await assert.rejects(
    runEval(['removal', fx.train, '--test', fx.test, '--fractions', '2', '--quiet']),
    UsageError,
  );
  await assert.rejects(runEval(['stability', fx.train, '--seeds', '0', '--quiet']), UsageError);
});

/** A Prepared over in-memory data (no file): what the retraining check reads of it. */
function preparedOf(
  data: ReturnType<typeof syntheticData>,
  D: number,
  classes: string[],
  l2: number,
): Prepared {
  return {
    rows: Array.from({ length: data.n }, (_, i) => ({
      index: i,
      line: i + 1,
      id: `r${i}`,
      label: classes[data.y[i]],
      fields: [],
    })),
    classes,
    featurizer: { dim: D } as Prepared['featurizer'],
    data,
    fit: { head: { l2 } },
  } as unknown as Prepared;
}

/** Every subset of size m of 0..n-1. */
function* subsetsOf(n: number, m: number, start = 0, chosen: number[] = []): Generator<number[]> {
  if (chosen.length === m) {
    yield [...chosen];
    return;
  }
  for (let i = start; i <= n - (m - chosen.length); i++) {
    chosen.push(i);
    yield* subsetsOf(n, m, i + 1, chosen);
    chosen.pop();
  }
}

test('retraining check: with many retrainings the estimate converges to exhaustive retraining over all subsets', async () => {
  const n = 10;
  const D = 2;
  const data = syntheticData(n, D, 2, 5);
  const prep = preparedOf(data, D, ['a', 'b'], 0.1);
  const m = Math.round(0.7 * n);
  // Exhaustive: the estimator's expectation over uniformly random m-subsets, from all C(10, 7) = 120 of them.
  const sum = [new Float64Array(n), new Float64Array(n)];
  const count = [new Float64Array(n), new Float64Array(n)];
  for (const s of subsetsOf(n, m)) {
    const head = fitHead(prep, subset(data, D, s));
    const p = head.probabilities(data.X, n);
    const inS = new Set(s);
    for (let i = 0; i < n; i++) {
      const side = inS.has(i) ? 0 : 1;
      sum[side][i] += p[i * 2 + data.y[i]];
      count[side][i]++;
    }
  }
  const exact = Array.from({ length: n }, (_, i) => sum[0][i] / count[0][i] - sum[1][i] / count[1][i]);
  const r = await memorizationExperiment(prep, { retrainings: 4000, subset: 0.7, seed: 1 });
  let worst = 0;
  for (let i = 0; i < n; i++) {
    const z = Math.abs(r.rows[i].estimate - exact[i]) / r.rows[i].stderr;
    worst = Math.max(worst, z);
    assert.ok(
      Math.abs(r.rows[i].estimate - exact[i]) < 4 * r.rows[i].stderr + 1e-9,
      `row ${i}: ${r.rows[i].estimate} vs ${exact[i]} (se ${r.rows[i].stderr})`,
    );
  }
  console.log(`retraining check vs exhaustive: largest |estimate - exact| / stderr = ${worst.toFixed(2)}`);
  // The estimate is the difference of the two conditional means, with their sampling errors.
  assert.ok(r.rows.every((x) => x.stderr > 0 && x.stderr < 0.05));
});

test('retraining check: warm starts from the full model give the same estimate as cold starts (convex head)', async () => {
  const n = 40;
  const D = 3;
  const data = syntheticData(n, D, 2, 9);
  const prep = preparedOf(data, D, ['a', 'b'], 0.05);
  const full = fitHead(prep, data);
  let worst = 0;
  for (let k = 0; k < 10; k++) {
    const idx = permutation(n, k).subarray(0, 28);
    const part = subset(data, D, idx);
    const p1 = fitHead(prep, part).probabilities(data.X, n);
    const p2 = fitHead(prep, part, full.theta).probabilities(data.X, n);
    worst = Math.max(worst, maxAbsDiff(p1, p2));
  }
  console.log(`warm vs cold retraining: largest |P difference| = ${worst.toExponential(2)}`);
  assert.ok(worst < 1e-7, `warm and cold heads differ by ${worst}`);
});

test('eval memorization: --out has exactly the documented fields; agreement figures in range', async () => {
  const r = await evalJson(['memorization', fx.train, '--retrainings', '30', '--seed', '2']);
  assert.deepEqual(Object.keys(r).sort(), ['retrainings', 'rows', 'spearman', 'subset', 'topOverlap']);
  assert.equal(r.retrainings, 30);
  assert.equal(r.subset, 0.7);
  for (const k of ['spearman', 'topOverlap'] as const) {
    const v = r[k] as Record<string, number>;
    assert.deepEqual(Object.keys(v).sort(), ['loss', 'score', 'selfInfluence']);
    for (const x of Object.values(v)) assert.ok(x >= -1 && x <= 1, `${k}: ${x}`);
  }
  const rows = r.rows as Record<string, unknown>[];
  assert.equal(rows.length, 120);
  assert.deepEqual(Object.keys(rows[0]).sort(), [
    'estimate',
    'id',
    'index',
    'line',
    'loss',
    'score',
    'selfInfluence',
    'stderr',
  ]);
  await assert.rejects(
    runEval(['memorization', fx.train, '--subset', '1.5', ...common]),
    /--subset must be in \(0, 1\)/,
  );
});
