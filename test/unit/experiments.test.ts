import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runEval } from '../../src/cli/evalCommands';
import { auroc, noiseExperiment } from '../../src/engine/experiments/noise';
import { complement, fitHead, permutation, prepare, subset } from '../../src/engine/experiments/prepare';
import { reductionExperiment } from '../../src/engine/experiments/reduction';
import { readGroups, typicalityExperiment } from '../../src/engine/experiments/typicality';
import { UsageError } from '../../src/engine/types';
import { maxAbsDiff, rng } from './helpers';

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
  const prep = await prepare(fx.train, { text: ['text'], label: 'label' });
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
  const prep = await prepare(fx.train, { text: ['text'], label: 'label' });
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
  const prep = await prepare(withBad, { text: ['text'], label: 'label' });
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
  const prep = await prepare(fx.train, { text: ['text'], label: 'label' });
  const r = noiseExperiment(prep, [...fx.flippedIds, 'not-a-row'], { folds: 5 });
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
