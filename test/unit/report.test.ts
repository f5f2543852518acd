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
import { runExperimentSuite } from '../../src/engine/experiments/suite';
import { DataError } from '../../src/engine/types';
import {
  type ErrorBarDataset,
  FIGURE,
  experimentChart,
  noiseChart,
  reductionChart,
  removalChart,
  stabilityChart,
  typicalityChart,
} from '../../src/report/charts';
import { renderChartPng } from '../../src/report/png';
import { REPORT_CHARTS, REPORT_PNGS } from '../../src/report/reportProtocol';
import {
  NOISE_FINDINGS,
  combinedLayout,
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
import type { ReportData } from '../../src/report/types';
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
  const o = suiteOptions(s, { l2: 0.01, steps: 20 }, { label: 'y' }, { groupField: 'group' });
  assert.equal(o.test, undefined);
  assert.equal(o.holdout, 0.3);
  assert.deepEqual(o.removal, { fractions: [0.1, 0.5], seeds: 3 });
  assert.deepEqual(o.reduction, { top: 0.1, ks: [0.1, 0.3, 0.5], steps: 20 });
  assert.deepEqual(o.typicality, { field: 'group' });
  // The likely-mislabeled summary always; the noise experiment only with flipped ids.
  assert.deepEqual(o.mislabeled, {});
  assert.equal(o.noise, undefined);
  assert.equal(suiteOptions(s, {}, {}, {}).typicality, undefined);
  assert.deepEqual(suiteOptions(s, {}, {}, { flipped: { ids: ['a', 'b'], file: '/d/f.json' } }).noise, {
    flipped: ['a', 'b'],
    file: '/d/f.json',
  });
  assert.equal(suiteOptions(s, {}, {}, { flipped: { ids: [] } }).noise, undefined);
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
  assert.equal(tracker.next({ stage: 'featurizing', done: 1, total: 1 }).percent, 35);
  const step = tracker.next({ stage: 'removal', done: 5, total: 10, message: 'retraining' });
  assert.equal(step.percent, 54);
  // The stages' shares add up to the whole job.
  assert.ok(Math.abs(EXPERIMENT_STAGES.reduce((a, [, w]) => a + w, 0) - 1) < 1e-9);
  assert.equal(tracker.next({ stage: 'noise', done: 1, total: 1 }).percent, 100);
  assert.match(step.message, /removal 5\/10 \(retraining\)/);
});

test('holdOut: a seeded split into disjoint training and test rows', async () => {
  const fx = fixture(50, 3);
  const prep = await prepare(fx.file, { text: ['text'], label: 'label' });
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
  assert.deepEqual(NOISE_FINDINGS.auroc, { loss: 0.977, oof: 0.976, selfInfluence: 0.951, score: 0.845 });
  assert.match(noiseFindingsNote(), /AUROC 0\.977 for the loss vs 0\.976 .*0\.951 for self-influence/);
  assert.match(noiseFindingsNote(), /top 10% by loss found 81% of the flipped rows/);
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
  assert.deepEqual([...REPORT_CHARTS], ['removal', 'reduction', 'stability', 'typicality', 'noise']);
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
  const prep = await prepare(fx.file, { text: ['text'], label: 'label' });
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
      rows: ['a', 'b', 'c'].map((id, i) => ({ id, index: i, line: i + 1, label: 'x', fields: [] })),
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
    { text: ['text'], label: 'label', mislabeled: { top: 5 }, noise: { flipped: ids, file: fx.flipped } },
    { onProgress: (p) => void (stages.includes(p.stage) || stages.push(p.stage)) },
  );
  assert.ok(stages.includes('mislabeled') && stages.includes('noise'), stages.join());
  assert.equal(r.mislabeled?.top.length, 5);
  assert.equal(r.noise?.file, fx.flipped);
  assert.equal(r.noise?.matched, ids.length);
  const prep = await prepare(fx.file, { text: ['text'], label: 'label' });
  const direct = noiseExperiment(prep, ids, { seed: 0 });
  assert.deepEqual(r.noise?.auroc, direct.auroc);
  assert.ok(r.noise!.auroc.loss > 0.8, `loss AUROC ${r.noise!.auroc.loss}`);
  assert.ok(r.seconds.mislabeled >= 0 && r.seconds.noise >= 0);
  assert.equal(r.removal, undefined);
  // Without the options, neither runs.
  const none = await runExperimentSuite(fx.file, { text: ['text'], label: 'label' });
  assert.equal(none.mislabeled, undefined);
  assert.equal(none.noise, undefined);
});
