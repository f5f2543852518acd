import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { runEval } from '../../src/cli/evalCommands';
import { parseFlippedIds } from '../../src/engine/experiments/flippedIds';
import { LOSS_THRESHOLD, mislabeledSummary, summarizeLosses } from '../../src/engine/experiments/mislabeled';
import { noiseExperiment } from '../../src/engine/experiments/noise';
import { holdOut, prepare } from '../../src/engine/experiments/prepare';
import { REASON_TIERS, reasonTiers, runExperimentSuite } from '../../src/engine/experiments/suite';
import { scoreDataset } from '../../src/engine/pipeline/scoreJob';
import { groupTable } from '../../src/engine/reasons/groups';
import type { Reason } from '../../src/protocol/reasons';
import { DataError } from '../../src/engine/types';
import {
  type ErrorBarDataset,
  FIGURE,
  experimentChart,
  noiseChart,
  reductionChart,
  REASON_COLORS,
  groupsChart,
  reasonsChart,
  removalChart,
  stabilityChart,
  tierLabel,
  typicalityChart,
} from '../../src/report/charts';
import { renderChartPng } from '../../src/report/png';
import { REPORT_CHARTS, REPORT_PNGS } from '../../src/protocol/report';
import {
  NOISE_FINDINGS,
  combinedLayout,
  groupsNote,
  groupsSentence,
  groupsTable,
  reasonsHeadline,
  reasonsTable,
  transposeTable,
  mislabeledByLabelTable,
  mislabeledHeadline,
  mislabeledTopTable,
  noiseFindingsNote,
  noiseNote,
  noiseTable,
  removalTable,
  reportImageText,
  testSourceNote,
  typicalityTable,
} from '../../src/report/summary';
import type { ReasonsData, ReportData } from '../../src/report/types';
import {
  DEFAULT_EXPERIMENT_SETTINGS,
  flippedFileCandidates,
  groupFieldCandidates,
  normalizeExperimentSettings,
  pngFromDataUrl,
  suiteOptions,
  testFileCandidates,
} from '../../src/extension/reportModel';
import { ProgressTracker } from '../../src/extension/progress';
import { EXPERIMENT_STAGES } from '../../src/extension/reportModel';
import { rng } from './helpers';

const root = resolve(__dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'memscore-report-'));

// Known results, in the shape `memscore eval ... --out` writes.
const REMOVAL = {
  full: { mean: 0.92, std: 0, runs: [0.92, 0.92, 0.92] },
  memorized: [
    { fraction: 0.1, mean: 0.89, std: 0, runs: [0.89, 0.89, 0.89] },
    { fraction: 0.3, mean: 0.86, std: 0, runs: [0.86, 0.86, 0.86] },
  ],
  random: [
    { fraction: 0.1, mean: 0.918, std: 0.002, runs: [0.916, 0.918, 0.92] },
    { fraction: 0.3, mean: 0.915, std: 0.004, runs: [0.911, 0.915, 0.919] },
  ],
  scores: { '0.1': 24, '0.3': 5 },
  secondsPerRetraining: 0.12,
};
const REDUCTION = {
  attribution: [
    { k: 0.1, rate: 0.58 },
    { k: 0.3, rate: 0.88 },
  ],
  random: [
    { k: 0.1, rate: 0.09 },
    { k: 0.3, rate: 0.3 },
  ],
};
const STABILITY = {
  kind: 'subsample stability',
  fraction: 0.9,
  seeds: 3,
  rows: 10,
  commonRows: 5,
  pairs: [
    { a: 0, b: 1, spearman: 0.9 },
    { a: 0, b: 2, spearman: 0.8 },
    { a: 1, b: 2, spearman: 0.7 },
  ],
  mean: 0.8,
  seconds: 1,
  scatter: { a: 0, b: 1, rankA: [1, 2, 3, 4, 5], rankB: [2, 1, 3, 5, 4] },
};
const TYPICALITY = {
  field: 'group',
  rows: 10,
  groups: [
    { value: 'hard_ham', count: 2, meanScore: 20, meanPercentile: 78 },
    { value: 'easy_ham', count: 8, meanScore: 3, meanPercentile: 41.3 },
  ],
};
const NOISE = {
  rows: 100,
  flipped: 10,
  matched: 10,
  folds: 5,
  recall: [{ fraction: 0.05, selfInfluence: 0.3, score: 0.1, loss: 0.5, oof: 0.4 }],
  precision: [],
  auroc: { selfInfluence: 0.95, score: 0.84, loss: 0.977, oof: 0.976 },
  curve: {
    checked: [0, 0.5, 1],
    found: { selfInfluence: [0, 0.9, 1], score: [0, 0.7, 1], loss: [0, 1, 1], oof: [0, 0.95, 1] },
  },
  seconds: 1,
};

const points = (ds: { data: unknown[] }) => ds.data as { x: number; y: number }[];

test('charts: removal = memorized vs random with std error bars and the full-data line', () => {
  const c = removalChart(REMOVAL);
  assert.equal(c.type, 'line');
  const [mem, rnd, full] = c.data.datasets as ErrorBarDataset[];
  assert.match(String(mem.label), /memorized/);
  assert.deepEqual(points(mem), [
    { x: 0, y: 92 },
    { x: 10, y: 89 },
    { x: 30, y: 86 },
  ]);
  assert.match(String(rnd.label), /random/);
  assert.deepEqual(
    points(rnd).map((p) => p.x),
    [0, 10, 30],
  );
  assert.ok(Math.abs(points(rnd)[2].y - 91.5) < 1e-9);
  assert.deepEqual(
    rnd.errorBars?.map((e) => +e.toFixed(6)),
    [0, 0.2, 0.4],
  );
  assert.deepEqual(mem.errorBars, [0, 0, 0]);
  assert.deepEqual(points(full), [
    { x: 0, y: 92 },
    { x: 30, y: 92 },
  ]);
  assert.deepEqual(full.borderDash, [6, 4]);
  const o = c.options as Record<string, unknown> & {
    scales: { x: { title: { text: string } }; y: { title: { text: string } } };
    plugins: { legend: { display: boolean } };
  };
  assert.equal(o.animation, false);
  assert.equal(o.devicePixelRatio, 2);
  assert.match(o.scales.x.title.text, /removed/);
  assert.match(o.scales.y.title.text, /accuracy/);
  assert.equal(o.plugins.legend.display, true);
  assert.deepEqual(
    c.plugins?.map((p) => p.id),
    ['memWhiteBackground', 'memErrorBars'],
  );
});

test('charts: reduction, stability (scatter and bars), typicality, noise series', () => {
  const red = reductionChart(REDUCTION);
  assert.deepEqual(
    red.data.datasets.map((d) => points(d).map((p) => [p.x, Math.round(p.y)])),
    [
      [
        [10, 58],
        [30, 88],
      ],
      [
        [10, 9],
        [30, 30],
      ],
    ],
  );
  const st = stabilityChart(STABILITY);
  assert.equal(st.type, 'scatter');
  assert.deepEqual(points(st.data.datasets[0] as { data: unknown[] })[1], { x: 2, y: 1 });
  const title = (st.options as { plugins: { title: { text: string } } }).plugins.title.text;
  assert.match(title, /Spearman ρ = 0\.9000/);
  const bars = stabilityChart({ ...STABILITY, scatter: undefined });
  assert.equal(bars.type, 'bar');
  assert.deepEqual(bars.data.labels, ['run 0 vs 1', 'run 0 vs 2', 'run 1 vs 2']);
  assert.deepEqual(bars.data.datasets[0].data, [0.9, 0.8, 0.7]);

  const typ = typicalityChart(TYPICALITY);
  assert.deepEqual(typ.data.labels, ['hard_ham (2)', 'easy_ham (8)']);
  assert.deepEqual(typ.data.datasets[0].data, [78, 41.3]);

  const noise = noiseChart(NOISE);
  const labels = noise.data.datasets.map((d) => String(d.label));
  assert.equal(labels.length, 5);
  assert.match(labels[0], /^loss .*AUROC 0\.977/);
  assert.match(labels[1], /^out-of-fold \(5-fold\).*AUROC 0\.976/);
  assert.match(labels[2], /^self-influence/);
  assert.match(labels[3], /^memorization score/);
  assert.match(labels[4], /random/);
  assert.deepEqual(points(noise.data.datasets[0]), [
    { x: 0, y: 0 },
    { x: 50, y: 100 },
    { x: 100, y: 100 },
  ]);
  // Without the curve (older JSON), the top-X% recall points.
  const coarse = noiseChart({ ...NOISE, curve: undefined });
  assert.deepEqual(points(coarse.data.datasets[0]), [
    { x: 0, y: 0 },
    { x: 5, y: 50 },
  ]);
  for (const kind of ['removal', 'reduction', 'stability', 'typicality', 'noise'] as const) {
    const data = {
      removal: REMOVAL,
      reduction: REDUCTION,
      stability: STABILITY,
      typicality: TYPICALITY,
      noise: NOISE,
    }[kind];
    assert.ok(experimentChart(kind, data).data.datasets.length >= 1, kind);
  }
});

/** Decodes a PNG with @napi-rs/canvas and counts pixels near a color. */
async function pixels(png: Buffer): Promise<{ width: number; height: number; near(rgb: number[]): number }> {
  const { loadImage, createCanvas } = await import('@napi-rs/canvas');
  const img = await loadImage(png);
  const c = createCanvas(img.width, img.height);
  const ctx = c.getContext('2d');
  ctx.drawImage(img, 0, 0);
  const { data } = ctx.getImageData(0, 0, img.width, img.height);
  return {
    width: img.width,
    height: img.height,
    near(rgb) {
      let n = 0;
      for (let i = 0; i < data.length; i += 4)
        if (Math.abs(data[i] - rgb[0]) + Math.abs(data[i + 1] - rgb[1]) + Math.abs(data[i + 2] - rgb[2]) < 40)
          n++;
      return n;
    },
  };
}

function pngSize(png: Buffer): { width: number; height: number } {
  assert.deepEqual(
    [...png.subarray(0, 8)],
    [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
    'PNG signature',
  );
  assert.equal(png.toString('latin1', 12, 16), 'IHDR');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

test('png: a valid PNG of 2x the figure size, white background, red and blue curves drawn', async () => {
  const png = await renderChartPng(removalChart(REMOVAL));
  assert.deepEqual(pngSize(png), { width: 2 * FIGURE.width, height: 2 * FIGURE.height });
  const px = await pixels(png);
  assert.equal(px.width, 1600);
  const total = px.width * px.height;
  const white = px.near([255, 255, 255]);
  assert.ok(white > 0.5 * total && white < 0.99 * total, `white share ${white / total}`);
  assert.ok(px.near([0xd6, 0x27, 0x28]) > 500, 'memorized (red) curve drawn');
  assert.ok(px.near([0x1f, 0x77, 0xb4]) > 500, 'random (blue) curve drawn');
  assert.ok(px.near([0x22, 0x22, 0x22]) > 500, 'text drawn');
});

const POS = ['good', 'great', 'excellent', 'happy', 'wonderful', 'love', 'nice', 'best'];
const NEG = ['bad', 'terrible', 'awful', 'sad', 'horrible', 'hate', 'poor', 'worst'];
const NEUTRAL = ['the', 'movie', 'was', 'and', 'plot', 'actor', 'film', 'story', 'music', 'today'];

function fixture(n: number, seed: number): { file: string; flipped: string } {
  const r = rng(seed);
  const pick = (xs: string[]) => xs[Math.floor(r() * xs.length)];
  const ids: string[] = [];
  const lines = Array.from({ length: n }, (_, i) => {
    const pos = i % 2 === 0;
    const flip = i % 10 === 3;
    if (flip) ids.push(`r${i}`);
    const text = Array.from({ length: 6 }, () => (r() < 0.5 ? pick(pos ? POS : NEG) : pick(NEUTRAL))).join(
      ' ',
    );
    return JSON.stringify({
      id: `r${i}`,
      text,
      label: pos !== flip ? 'pos' : 'neg',
      group: flip ? 'odd' : 'plain',
    });
  });
  const file = join(dir, `fx-${seed}.jsonl`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  const flipped = join(dir, `fx-${seed}.flipped.json`);
  writeFileSync(flipped, JSON.stringify(ids));
  return { file, flipped };
}

test('cli: eval --png writes the figure of every experiment', async () => {
  const fx = fixture(120, 5);
  const common = ['--text', 'text', '--label', 'label', '--quiet'];
  const runs: [string, string[]][] = [
    ['removal', ['--test', fx.file, '--fractions', '0.1,0.3', '--seeds', '2']],
    ['reduction', ['--top', '0.2', '--steps', '5']],
    ['stability', ['--seeds', '2']],
    ['typicality', ['--group', 'group']],
    ['noise', ['--flipped', fx.flipped]],
  ];
  for (const [kind, args] of runs) {
    const png = join(dir, `${kind}.png`);
    let table = '';
    assert.equal(await runEval([kind, fx.file, ...args, ...common, '--png', png], (t) => (table += t)), 0);
    assert.match(table, new RegExp(`figure: .*${kind}\\.png`));
    assert.deepEqual(pngSize(readFileSync(png)), { width: 1600, height: 1000 }, kind);
  }
});

test('cli: --png without @napi-rs/canvas fails early with a clear message', { timeout: 60_000 }, () => {
  const cli = join(root, 'dist/cli.js');
  if (!existsSync(cli)) {
    const r = spawnSync(process.execPath, [join(root, 'scripts/build.mjs')], { cwd: root, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  }
  // A copy of the bundle where no node_modules can be found: the native package cannot load.
  const alone = mkdtempSync(join(tmpdir(), 'memscore-nocanvas-'));
  mkdirSync(join(alone, 'dist'));
  copyFileSync(cli, join(alone, 'dist/cli.js'));
  const fx = fixture(40, 9);
  const r = spawnSync(
    process.execPath,
    [join(alone, 'dist/cli.js'), 'eval', 'stability', fx.file, '--png', join(alone, 'x.png'), '--quiet'],
    { encoding: 'utf8', cwd: alone },
  );
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /--png needs the native package @napi-rs\/canvas/);
  assert.ok(!existsSync(join(alone, 'x.png')));
});

test('report text: test source note, removal and typicality tables', () => {
  const base: ReportData = {
    file: '/d/train.jsonl',
    rows: 100,
    classes: ['neg', 'pos'],
    fields: { label: 'label', text: ['text'] },
    featurizer: 'words',
    test: { kind: 'holdout', fraction: 0.2, rows: 20, trainRows: 80 },
    removal: REMOVAL,
    typicality: TYPICALITY,
    seconds: {},
  };
  assert.match(testSourceNote(base), /No test file was chosen.*80 rows.*20 rows.*20% held out/);
  assert.match(
    testSourceNote({ ...base, test: { kind: 'file', file: '/d/test.jsonl', rows: 50 } }),
    /test file test\.jsonl \(50 rows\)/,
  );
  const t = removalTable(base)!;
  assert.deepEqual(t.rows[0], ['0%', '92.00% ± 0.00%', '92.00% ± 0.00%']);
  assert.deepEqual(t.rows[2], ['30%', '86.00% ± 0.00%', '91.50% ± 0.40%']);
  assert.deepEqual(typicalityTable(base)!.rows[0], ['hard_ham', '2', '20.0000', '78.0']);
});

test('report command logic: settings, options, group fields, test files, PNG data URLs, progress', () => {
  assert.deepEqual(normalizeExperimentSettings({}), DEFAULT_EXPERIMENT_SETTINGS);
  const s = normalizeExperimentSettings({
    fractions: [0.5, 2, 0.1, 'x'],
    seeds: 0,
    holdout: 0.3,
    stabilityRuns: 1,
  });
  assert.deepEqual(s.fractions, [0.1, 0.5]);
  assert.equal(s.seeds, 3);
  assert.equal(s.holdout, 0.3);
  assert.equal(s.stabilityRuns, 3);
  const o = suiteOptions(
    s,
    { head: { l2: 0.01 }, attribution: { steps: 20 }, data: { label: 'y' } },
    { groupField: 'group' },
  );
  assert.deepEqual(o.head, { l2: 0.01 });
  assert.deepEqual(o.data, { label: 'y' });
  assert.equal(o.test, undefined);
  assert.equal(o.holdout, 0.3);
  assert.deepEqual(o.removal, { fractions: [0.1, 0.5], seeds: 3 });
  assert.deepEqual(o.reduction, { top: 0.1, ks: [0.1, 0.3, 0.5], steps: 20 });
  assert.deepEqual(o.typicality, { field: 'group' });
  // The likely-mislabeled summary always; the noise experiment only with flipped ids.
  assert.deepEqual(o.mislabeled, {});
  assert.equal(o.noise, undefined);
  assert.equal(suiteOptions(s, {}, {}).typicality, undefined);
  assert.deepEqual(suiteOptions(s, {}, { flipped: { ids: ['a', 'b'], file: '/d/f.json' } }).noise, {
    flipped: ['a', 'b'],
    file: '/d/f.json',
  });
  assert.equal(suiteOptions(s, {}, { flipped: { ids: [] } }).noise, undefined);
  assert.deepEqual(
    flippedFileCandidates('/d/spam-noisy10.train.jsonl', [
      '/d/package.json',
      '/d/spam-noisy10.train.jsonl',
      '/d/other.flipped.json',
      '/d/spam-noisy10.flipped.json',
      '/d/spam-noisy10.meta.json',
      '/d/notes.txt',
    ]),
    ['/d/spam-noisy10.flipped.json', '/d/spam-noisy10.meta.json', '/d/other.flipped.json', '/d/package.json'],
  );

  assert.deepEqual(
    groupFieldCandidates(['id', 'subject', 'text', 'label', 'group'], ['label', 'text', 'id']),
    [
      { name: 'group', groupLike: true },
      { name: 'subject', groupLike: false },
    ],
  );
  assert.deepEqual(
    groupFieldCandidates(['text', 'label', 'news_source', 'x'], ['label', 'text']).map((c) => c.groupLike),
    [true, false],
  );
  assert.deepEqual(
    testFileCandidates('/d/spam.train.jsonl', [
      '/d/spam.train.csv',
      '/d/spam.train.jsonl',
      '/d/notes.txt',
      '/d/spam.test.csv',
      '/d/spam.test.jsonl',
      '/d/other.jsonl',
    ]),
    ['/d/spam.test.jsonl', '/d/spam.test.csv', '/d/other.jsonl', '/d/spam.train.csv'],
  );

  const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
  assert.deepEqual(pngFromDataUrl(`data:image/png;base64,${png.toString('base64')}`), png);
  assert.equal(pngFromDataUrl('data:image/png;base64,AAAA'), undefined);
  assert.equal(pngFromDataUrl('data:text/html;base64,AAAA'), undefined);
  assert.equal(pngFromDataUrl(42), undefined);

  const tracker = new ProgressTracker(EXPERIMENT_STAGES);
  assert.equal(tracker.next({ stage: 'featurizing', done: 1, total: 1 }).percent, 20);
  const step = tracker.next({ stage: 'removal', done: 5, total: 10, message: 'retraining' });
  assert.equal(step.percent, 33);
  // The stages' shares add up to the whole job.
  assert.ok(Math.abs(EXPERIMENT_STAGES.reduce((a, [, w]) => a + w, 0) - 1) < 1e-9);
  assert.equal(tracker.next({ stage: 'memorization', done: 1, total: 1 }).percent, 100);
  assert.match(step.message, /removal 5\/10 \(retraining\)/);
});

test('holdOut: a seeded split into disjoint training and test rows', async () => {
  const fx = fixture(50, 3);
  const prep = await prepare(fx.file, { data: { text: ['text'], label: 'label' } });
  const { train, test: held } = holdOut(prep, 0.2, 1);
  assert.equal(held.n, 10);
  assert.equal(train.data.n, 40);
  assert.equal(train.rows.length, 40);
  const again = holdOut(prep, 0.2, 1);
  assert.deepEqual(again.test.y, held.y);
  assert.deepEqual(
    train.rows.map((r) => r.index),
    [...train.rows.map((r) => r.index)].sort((a, b) => a - b),
  );
});

const MISLABELED = {
  rows: 10,
  threshold: Math.LN2,
  lossAboveLog2: 3,
  wrong: 3,
  byLabel: [
    { label: 'neg', rows: 5, lossAboveLog2: 1, wrong: 1 },
    { label: 'pos', rows: 5, lossAboveLog2: 2, wrong: 2 },
  ],
  top: [
    { id: 'r3', line: 4, label: 'neg', pred: 'pos', prob: 0.1, loss: 2.302585 },
    { id: 'r7', line: 8, label: 'pos', pred: 'neg', prob: 0.3, loss: 1.203973 },
  ],
};
const REPORT: ReportData = {
  file: '/d/train.jsonl',
  rows: 10,
  classes: ['neg', 'pos'],
  fields: { label: 'label', text: ['text'] },
  featurizer: 'words',
  test: { kind: 'file', file: '/d/test.jsonl', rows: 5 },
  removal: REMOVAL,
  reduction: REDUCTION,
  stability: STABILITY,
  typicality: TYPICALITY,
  mislabeled: MISLABELED,
  seconds: { featurizing: 1 },
};

test('report text: likely mislabeled summary, noise tables and notes', () => {
  assert.equal(
    mislabeledHeadline(MISLABELED),
    '3 of 10 rows (30.0%) have a training loss above log 2, i.e. P(label|x) < 0.5; 3 (30.0%) are predicted as ' +
      'another class (with two classes, the same rows).',
  );
  assert.deepEqual(mislabeledByLabelTable(REPORT)!.rows, [
    ['neg', '5', '1', '1'],
    ['pos', '5', '2', '2'],
  ]);
  const top = mislabeledTopTable(REPORT)!;
  assert.deepEqual(top.head, ['#', 'id', 'line', 'label', 'predicted', 'P(label|x)', 'loss']);
  assert.deepEqual(top.rows[0], ['1', 'r3', '4', 'neg', 'pos', '0.1000', '2.303']);
  // The measured findings the note quotes (README: spam-noisy10, inferred text field).
  assert.deepEqual(NOISE_FINDINGS.auroc, { loss: 0.984, oof: 0.983, selfInfluence: 0.969, score: 0.87 });
  assert.match(noiseFindingsNote(), /AUROC 0\.984 for the loss vs 0\.983 .*0\.969 for self-influence/);
  assert.match(noiseFindingsNote(), /top 10% by loss found 85% of the flipped rows/);
  assert.equal(noiseTable(REPORT), undefined);
  assert.equal(noiseNote(REPORT), undefined);

  const withNoise: ReportData = { ...REPORT, noise: { ...NOISE, file: '/d/train.flipped.json' } };
  const nt = noiseTable(withNoise)!;
  assert.deepEqual(nt.head, [
    'rows checked',
    'loss (in-sample)',
    'out-of-fold (5-fold)',
    'self-influence',
    'memorization score',
  ]);
  assert.deepEqual(nt.rows[0], ['top 5%', '50.0%', '40.0%', '30.0%', '10.0%']);
  assert.deepEqual(nt.rows.at(-1), ['AUROC', '0.977', '0.976', '0.950', '0.840']);
  assert.match(
    noiseNote(withNoise)!,
    /10 of the 10 flipped ids in train\.flipped\.json .*loss \(in-sample\), AUROC 0\.977/,
  );
  assert.match(noiseNote({ ...withNoise, noise: { ...NOISE, matched: 0 } })!, /None of the 10 flipped ids/);

  const img = reportImageText('train.jsonl', withNoise);
  assert.equal(img.title, 'Memorization report: train.jsonl');
  assert.match(img.header[1], /test file test\.jsonl/);
  assert.deepEqual(
    img.footer.map((l) => l.split(':')[0]),
    ['Stability', "Typicality by 'group'", 'Likely mislabeled', 'Label noise'],
  );
  // Without flipped ids, the footer ends with why loss ranks mislabeled rows.
  assert.equal(reportImageText('train.jsonl', REPORT).footer.at(-1), noiseFindingsNote());
});

test('report: every figure has a Save PNG name, plus the whole report', () => {
  assert.deepEqual(
    [...REPORT_CHARTS],
    ['memorization', 'removal', 'reduction', 'stability', 'typicality', 'noise', 'reasons', 'groups'],
  );
  assert.ok((REPORT_PNGS as readonly string[]).includes('report'));
});

test('combined report image layout: header, a two-column grid of charts, footer or spare cell', () => {
  const five = combinedLayout({
    charts: 5,
    chartWidth: 1600,
    chartHeight: 1000,
    margin: 48,
    headerHeight: 100,
    footerHeight: 80,
  });
  assert.equal(five.width, 48 + 2 * (1600 + 48));
  assert.equal(five.headerY, 48);
  assert.deepEqual(five.charts[0], { x: 48, y: 196 });
  assert.deepEqual(five.charts[1], { x: 48 + 1648, y: 196 });
  assert.deepEqual(five.charts[4], { x: 48, y: 196 + 2 * 1048 });
  assert.deepEqual(five.spare, { x: 48 + 1648, y: 196 + 2 * 1048 });
  assert.equal(five.footerY, 196 + 3 * 1048);
  assert.equal(five.height, five.footerY + 80 + 48);
  // Charts never overlap and stay inside the image.
  for (const c of five.charts) assert.ok(c.x + 1600 <= five.width && c.y + 1000 <= five.footerY);
  const four = combinedLayout({
    charts: 4,
    chartWidth: 10,
    chartHeight: 10,
    margin: 1,
    headerHeight: 0,
    footerHeight: 0,
  });
  assert.equal(four.spare, undefined);
  assert.deepEqual([four.width, four.height], [23, 23]);
  const one = combinedLayout({
    charts: 1,
    chartWidth: 10,
    chartHeight: 10,
    margin: 1,
    headerHeight: 5,
    footerHeight: 0,
  });
  assert.equal(one.width, 12);
  assert.equal(one.spare, undefined);
});

test('flipped ids: a JSON array of strings or numbers, else a DataError naming the file', () => {
  assert.deepEqual(parseFlippedIds('\uFEFF["a", 3]'), ['a', '3']);
  assert.throws(
    () => parseFlippedIds('{"a": 1}', '/d/f.json'),
    (e: Error) => {
      assert.ok(e instanceof DataError);
      assert.match(e.message, /^\/d\/f\.json: expected a JSON array of row ids/);
      return true;
    },
  );
  assert.throws(() => parseFlippedIds('[', 'f.json'), /cannot read the flipped ids/);
  assert.throws(() => parseFlippedIds('[{"id": 1}]'), /strings or numbers/);
  assert.throws(() => parseFlippedIds('[]'), /empty/);
});

test('likely mislabeled: training losses of the head on all rows, counts and the top rows', async () => {
  const fx = fixture(120, 11);
  // 120 rows of 100 standardized features: with the default l2 (1e-3) the head fits most flipped labels (5 of the
  // top 12 by loss are flipped); the cross-validated l2 (--l2 auto) keeps them unfitted, and loss finds them.
  const prep = await prepare(fx.file, { data: { text: ['text'], label: 'label' }, head: { l2: 'auto' } });
  assert.ok(
    typeof prep.fit.head?.l2 === 'number' && prep.fit.head.l2 > 1e-3,
    `chosen l2 ${prep.fit.head?.l2}`,
  );
  const m = await mislabeledSummary(prep, { top: 12 });
  assert.equal(m.rows, 120);
  assert.equal(m.threshold, LOSS_THRESHOLD);
  assert.equal(
    m.byLabel.reduce((a, g) => a + g.rows, 0),
    120,
  );
  assert.equal(
    m.byLabel.reduce((a, g) => a + g.wrong, 0),
    m.wrong,
  );
  assert.equal(
    m.byLabel.reduce((a, g) => a + g.lossAboveLog2, 0),
    m.lossAboveLog2,
  );
  // Two classes: loss > log 2 exactly when the other class is predicted.
  assert.equal(m.wrong, m.lossAboveLog2);
  assert.equal(m.top.length, 12);
  for (let i = 0; i < m.top.length; i++) {
    const t = m.top[i];
    assert.ok(Math.abs(t.loss + Math.log(t.prob)) < 1e-9, 'loss = -log P(label|x)');
    if (i) assert.ok(t.loss <= m.top[i - 1].loss, 'largest loss first');
    assert.equal(prep.rows.find((r) => r.id === t.id)?.line, t.line);
  }
  // The same ranking as the loss of the noise experiment: its flipped rows are at the top.
  const flipped: string[] = JSON.parse(readFileSync(fx.flipped, 'utf8'));
  const found = m.top.filter((t) => flipped.includes(t.id)).length;
  assert.ok(found >= 6, `${found} of the top 12 rows are flipped`);
  const above = m.top.filter((t) => t.loss > Math.LN2).length;
  assert.equal(above, Math.min(12, m.lossAboveLog2));

  // summarizeLosses: ties keep file order, counts per label.
  const s = summarizeLosses(
    {
      rows: ['a', 'b', 'c'].map((id, i) => ({ id, index: i, line: i + 1, offset: 0, label: 'x' })),
      classes: ['x', 'y', 'z'],
      data: { y: Int32Array.from([0, 1, 2]), n: 3 },
    },
    { loss: [1, 1, 0.1], prob: [0.37, 0.37, 0.9], pred: [1, 1, 2] },
    2,
  );
  assert.deepEqual(
    s.top.map((t) => t.id),
    ['a', 'b'],
  );
  assert.equal(s.lossAboveLog2, 2);
  assert.equal(s.wrong, 1);
  assert.deepEqual(
    s.byLabel.map((g) => [g.label, g.rows, g.lossAboveLog2, g.wrong]),
    [
      ['x', 1, 1, 1],
      ['y', 1, 1, 0],
      ['z', 1, 0, 0],
    ],
  );
});

test('experiment suite: the likely-mislabeled summary and, with flipped ids, the noise experiment', async () => {
  const fx = fixture(100, 13);
  const ids: string[] = JSON.parse(readFileSync(fx.flipped, 'utf8'));
  const stages: string[] = [];
  const r = await runExperimentSuite(
    fx.file,
    {
      data: { text: ['text'], label: 'label' },
      mislabeled: { top: 5 },
      noise: { flipped: ids, file: fx.flipped },
    },
    { onProgress: (p) => void (stages.includes(p.stage) || stages.push(p.stage)) },
  );
  assert.ok(stages.includes('mislabeled') && stages.includes('noise'), stages.join());
  assert.equal(r.mislabeled?.top.length, 5);
  assert.equal(r.noise?.file, fx.flipped);
  assert.equal(r.noise?.matched, ids.length);
  const prep = await prepare(fx.file, { data: { text: ['text'], label: 'label' } });
  const direct = await noiseExperiment(prep, ids, { seed: 0 });
  assert.deepEqual(r.noise?.auroc, direct.auroc);
  assert.ok(r.noise!.auroc.loss > 0.8, `loss AUROC ${r.noise!.auroc.loss}`);
  assert.ok(r.seconds.mislabeled >= 0 && r.seconds.noise >= 0);
  assert.equal(r.removal, undefined);
  // Without the options, neither runs.
  const none = await runExperimentSuite(fx.file, { data: { text: ['text'], label: 'label' } });
  assert.equal(none.mislabeled, undefined);
  assert.equal(none.noise, undefined);
});

const zeroShares = { duplicate: 0, conflict: 0, mislabeled: 0, rare: 0, templated: 0 };
const REASONS: ReasonsData = {
  rows: 200,
  counts: { duplicate: 30, conflict: 0, mislabeled: 8, rare: 20, templated: 10 },
  withAnyReason: 60,
  tiers: [
    { fraction: 0.01, rows: 2, any: 1, shares: { ...zeroShares, mislabeled: 1, rare: 0.5 } },
    {
      fraction: 0.05,
      rows: 10,
      any: 0.8,
      shares: { ...zeroShares, mislabeled: 0.5, rare: 0.3, duplicate: 0.1 },
    },
    {
      fraction: 0.1,
      rows: 20,
      any: 0.6,
      shares: { ...zeroShares, mislabeled: 0.3, rare: 0.25, duplicate: 0.1 },
    },
    {
      fraction: 1,
      rows: 200,
      any: 0.3,
      shares: { duplicate: 0.15, conflict: 0, mislabeled: 0.04, rare: 0.1, templated: 0.05 },
    },
  ],
  groups: {
    field: 'group',
    groups: [
      {
        group: 'easy',
        rows: 150,
        meanPercentile: 45,
        top10Share: 0.06,
        reasons: { ...zeroShares, duplicate: 0.1, rare: 0.05 },
      },
      {
        group: 'hard',
        rows: 50,
        meanPercentile: 65,
        top10Share: 0.22,
        reasons: { ...zeroShares, rare: 0.25, mislabeled: 0.1 },
      },
    ],
    all: {
      group: 'all',
      rows: 200,
      meanPercentile: 50,
      top10Share: 0.1,
      reasons: { ...zeroShares, duplicate: 0.075, rare: 0.1, mislabeled: 0.025 },
    },
  },
  notes: ['200 rows: exact neighbours'],
};

test('charts: reasons by score tier (side by side, one colour per reason) and memorization by group', () => {
  const c = reasonsChart(REASONS);
  assert.equal(c.type, 'bar');
  assert.deepEqual(c.data.labels, [
    'top 1% (2 rows)',
    'top 5% (10 rows)',
    'top 10% (20 rows)',
    'all rows (200)',
  ]);
  const ds = c.data.datasets;
  // Kinds without any row (conflict here) are left out; "any reason" closes the series.
  assert.deepEqual(
    ds.map((d) => d.label),
    ['duplicate', 'mislabeled', 'rare', 'templated', 'any reason'],
  );
  assert.deepEqual(ds[1].data, [100, 50, 30, 4]);
  assert.deepEqual(ds.at(-1)!.data, [100, 80, 60, 30]);
  assert.equal(ds[2].backgroundColor, REASON_COLORS.rare);
  // Shares of non-exclusive reasons are never stacked.
  const scales = c.options!.scales as Record<string, { stacked?: boolean; max?: number; min?: number }>;
  assert.ok(!scales.x.stacked && !scales.y.stacked);
  assert.deepEqual([scales.y.min, scales.y.max], [0, 100], 'the largest bar (100%) sets the top');
  assert.equal(
    (groupsChart(REASONS.groups!).options!.scales!.y as { max?: number }).max,
    30,
    '22% tops out at 30%',
  );
  assert.match(
    String((c.options!.plugins!.subtitle as { text: string }).text),
    /30% of all 200 rows have one/,
  );
  assert.equal(tierLabel({ fraction: 0.05, rows: 7 }), 'top 5% (7 rows)');

  const g = groupsChart(REASONS.groups!);
  assert.deepEqual(g.data.labels, ['easy (150)', 'hard (50)', 'all rows (200)']);
  assert.deepEqual(
    g.data.datasets.map((d) => d.label),
    ['in the top 10% by score', 'duplicate', 'mislabeled', 'rare'],
  );
  assert.deepEqual(g.data.datasets[0].data, [6, 22, 10]);
  assert.deepEqual(g.data.datasets[3].data, [5, 25, 10]);
  assert.match(String((g.options!.plugins!.title as { text: string }).text), /Memorization by 'group'/);
  assert.match(String((g.options!.plugins!.subtitle as { text: string }).text), /easy 45\.0, hard 65\.0/);
  // Through the CLI's entry point too (memscore eval ... --png).
  assert.equal(experimentChart('reasons', REASONS).type, 'bar');
  assert.deepEqual(experimentChart('groups', REASONS.groups).data.labels, g.data.labels);
  // Many groups: the largest 12 are drawn, the subtitle says so.
  const many = {
    ...REASONS.groups!,
    groups: Array.from({ length: 30 }, (_, i) => ({ ...REASONS.groups!.groups[0], group: `g${i}` })),
  };
  assert.equal(groupsChart(many).data.labels!.length, 13);
  assert.match(
    String((groupsChart(many).options!.plugins!.subtitle as { text: string }).text),
    /^the 12 largest of 30 groups/,
  );
});

test('png: the reasons figure draws the reason colours', async () => {
  const png = await renderChartPng(reasonsChart(REASONS));
  assert.deepEqual(pngSize(png), { width: 2 * FIGURE.width, height: 2 * FIGURE.height });
  const px = await pixels(png);
  for (const k of ['duplicate', 'mislabeled', 'rare', 'templated'] as const) {
    const hex = REASON_COLORS[k];
    const rgb = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
    assert.ok(px.near(rgb) > 300, `${k} bars drawn`);
  }
});

test('report text: reasons by tier, the group table, and their lines in the whole-report image', () => {
  const t = reasonsTable(REASONS);
  assert.deepEqual(t.head, ['rows by score', 'any reason', 'duplicate', 'mislabeled', 'rare', 'templated']);
  assert.deepEqual(t.rows[0], ['top 1% (2 rows)', '100.0%', '0.0%', '100.0%', '50.0%', '0.0%']);
  assert.deepEqual(t.rows.at(-1), ['all rows (200)', '30.0%', '15.0%', '4.0%', '10.0%', '5.0%']);
  assert.equal(
    reasonsHeadline(REASONS),
    'Of the top 1% most memorized rows (2), 100% have a reason (mislabeled 100%, rare 50%); of all 200 rows, ' +
      '30% have a reason (duplicate 15%, rare 10%, templated 5%, mislabeled 4%).',
  );
  const g = groupsTable(REASONS.groups!);
  assert.deepEqual(g.head, [
    'group',
    'rows',
    'mean percentile',
    'in top 10%',
    'duplicate',
    'mislabeled',
    'rare',
  ]);
  assert.deepEqual(g.rows, [
    ['easy', '150', '45.0', '6.0%', '10.0%', '0.0%', '5.0%'],
    ['hard', '50', '65.0', '22.0%', '0.0%', '10.0%', '25.0%'],
    ['all rows', '200', '50.0', '10.0%', '7.5%', '2.5%', '10.0%'],
  ]);
  assert.match(
    groupsNote(REASONS.groups!),
    /^Per value of 'group': .*10% if memorization did not depend on the group/,
  );
  // On its side for a narrow view: one column per group, compact names.
  const side = transposeTable(groupsTable(REASONS.groups!, { compact: true }));
  assert.deepEqual(side.head, ['', 'easy', 'hard', 'all']);
  assert.deepEqual(side.rows[0], ['rows', '150', '50', '200']);
  assert.deepEqual(side.rows[1], ['mean pct', '45.0', '65.0', '50.0']);
  assert.deepEqual(side.rows[2], ['top 10%', '6.0%', '22.0%', '10.0%']);
  assert.deepEqual(side.rows.map((r) => r[0]).slice(3), ['duplicate', 'mislabeled', 'rare']);
  assert.equal(
    groupsSentence(REASONS.groups!),
    "By 'group': easy (150 rows) mean percentile 45.0, 6% in the top 10%, duplicate 10%, rare 5%; " +
      'hard (50 rows) mean percentile 65.0, 22% in the top 10%, rare 25%, mislabeled 10%.',
  );
  const img = reportImageText('train.jsonl', { ...REPORT, reasons: REASONS });
  assert.deepEqual(
    img.footer.slice(0, 5).map((l) => l.split(':')[0]),
    ['Stability', "Typicality by 'group'", 'Reasons', "By 'group'", 'Likely mislabeled'],
  );
  assert.ok(img.footer.includes(`Reasons: ${reasonsHeadline(REASONS)}`));
  assert.ok(img.footer.includes(groupsSentence(REASONS.groups!)));
});

test('reason tiers: the share of each reason among the top rows by percentile, counted once per row', () => {
  const rare: Reason = {
    kind: 'rare',
    evidence: { distance: 1, classMedian: 0.5, ratio: 2, percentile: 99 },
  };
  const mis = { kind: 'mislabeled', evidence: {} } as Reason;
  // 11 rows, percentiles 100, 90, ..., 0.
  const pct = Array.from({ length: 11 }, (_, i) => 100 - 10 * i);
  const why: Reason[][] = pct.map(() => []);
  why[0] = [mis, rare, rare];
  why[1] = [rare];
  why[5] = [mis];
  const [top10, top50, all] = reasonTiers(pct, why, [0.1, 0.5, 1]);
  assert.deepEqual(top10, {
    fraction: 0.1,
    rows: 2,
    any: 1,
    shares: { ...zeroShares, mislabeled: 0.5, rare: 1 },
  });
  assert.equal(top50.rows, 6);
  assert.ok(Math.abs(top50.shares.mislabeled - 2 / 6) < 1e-12 && Math.abs(top50.any - 3 / 6) < 1e-12);
  assert.equal(all.rows, 11);
  assert.deepEqual([...REASON_TIERS], [0.01, 0.05, 0.1, 1]);
  // The same "top 10%" as the group table.
  const g = groupTable(
    pct.map(() => 'x'),
    pct,
    why,
  );
  assert.equal(g.all.top10Share, top10.rows / 11);
});

test('experiment suite: reasons by tier and the group table are those of scoring the file', async () => {
  const fx = fixture(240, 21);
  // Near-copies, so that there are duplicate groups (one relabelled: a conflict).
  const lines = readFileSync(fx.file, 'utf8').trim().split('\n');
  const copy = (i: number, label?: string) => {
    const o = JSON.parse(lines[i]);
    lines.push(JSON.stringify({ ...o, id: `${o.id}-copy`, label: label ?? o.label }));
  };
  copy(0);
  copy(2);
  copy(4, 'neg');
  writeFileSync(fx.file, `${lines.join('\n')}\n`);
  const data = { text: ['text'], label: 'label' };
  const stages: string[] = [];
  const r = await runExperimentSuite(
    fx.file,
    { data, typicality: { field: 'group' } },
    { onProgress: (p) => void (stages.includes(p.stage) || stages.push(p.stage)) },
  );
  assert.ok(stages.includes('reasons'), stages.join());
  const scored = await scoreDataset(fx.file, { data, reasons: { group: 'group' } });
  const why = r.reasons!;
  assert.deepEqual(why.groups, scored.summary.groups);
  assert.deepEqual(why.counts, scored.summary.reasons!.counts);
  assert.ok(why.counts.duplicate >= 4 && why.counts.conflict >= 2, JSON.stringify(why.counts));
  assert.deepEqual(why.groups!.groups.map((g) => g.group).sort(), ['odd', 'plain']);
  // The tiers, counted here from the scored rows.
  for (const t of why.tiers) {
    const rows = scored.rows.filter((x) => x.percentile >= 100 * (1 - t.fraction) - 1e-9);
    assert.equal(t.rows, rows.length, `tier ${t.fraction}`);
    assert.equal(t.any, rows.filter((x) => x.reasons!.length).length / rows.length);
    for (const k of ['duplicate', 'conflict', 'mislabeled', 'rare', 'templated'] as const)
      assert.equal(
        t.shares[k],
        rows.filter((x) => x.reasons!.some((q) => q.kind === k)).length / rows.length,
        k,
      );
  }
  assert.equal(why.tiers.at(-1)!.rows, scored.rows.length);
  assert.ok(r.seconds.reasons >= 0 && why.seconds >= 0);
  // The group column falls back to memorization.group; reasons off: no part.
  const byGroup = await runExperimentSuite(fx.file, { data, reasons: { group: 'group' } });
  assert.deepEqual(byGroup.reasons!.groups, scored.summary.groups);
  const noGroup = await runExperimentSuite(fx.file, { data });
  assert.equal(noGroup.reasons!.groups, undefined);
  const off = await runExperimentSuite(fx.file, { data, reasons: { enabled: false } });
  assert.equal(off.reasons, undefined);
});
