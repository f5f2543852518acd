// Issue 12 target: the 784-column, 10-class, 5,000-row numeric case (an MNIST-shaped CSV, synthesized: each class a
// smooth 28 x 28 stroke pattern, rows its noisy, shifted copies in 0..255 with most pixels 0) scored with the exact
// solver (784 x 10 -> 7,850 parameters) under 40 s end to end and 2 GB peak RSS, and `memscore eval removal
// --fractions 0.1,0.3 --seeds 3` under 5 s per retraining. The CSV and a 1,000-row test file go to a temp folder.
//
//   npm run compile && node scripts/bench-wide.mjs [--rows 5000] [--no-removal]
import { createWriteStream, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { benchDir, cli, runCli } from './bench-run.mjs';
import { mulberry32 } from './mulberry32.mjs';

const args = process.argv.slice(2);
const i0 = args.indexOf('--rows');
const n = i0 >= 0 ? Number(args[i0 + 1]) : 5000;
const side = 28;
const classes = 10;
const rand = mulberry32(784);
const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-300)) * Math.cos(2 * Math.PI * rand());
// Class c: a few random strokes (Gaussian blobs along a random segment).
const protos = Array.from({ length: classes }, () => {
  const img = new Float64Array(side * side);
  for (let s = 0; s < 3; s++) {
    const [x0, y0, x1, y1] = [4 + 20 * rand(), 4 + 20 * rand(), 4 + 20 * rand(), 4 + 20 * rand()];
    for (let t = 0; t <= 1; t += 0.05) {
      const cx = x0 + t * (x1 - x0);
      const cy = y0 + t * (y1 - y0);
      for (let y = 0; y < side; y++)
        for (let x = 0; x < side; x++) img[y * side + x] += Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / 3);
    }
  }
  const max = Math.max(...img);
  return img.map((v) => v / max);
});
function write(file, rows, seedShift) {
  const out = createWriteStream(file);
  out.write(['label', ...Array.from({ length: side * side }, (_, j) => `p${j}`)].join(',') + '\n');
  for (let i = 0; i < rows; i++) {
    const c = (i + seedShift) % classes;
    const label = rand() < 0.03 ? (c + 1 + Math.floor(rand() * (classes - 1))) % classes : c; // some mislabeled
    const dx = Math.round(2 * gauss());
    const dy = Math.round(2 * gauss());
    const cells = [String(label)];
    for (let y = 0; y < side; y++)
      for (let x = 0; x < side; x++) {
        const sx = x - dx;
        const sy = y - dy;
        const v = sx >= 0 && sx < side && sy >= 0 && sy < side ? protos[c][sy * side + sx] : 0;
        const p = Math.round(255 * Math.min(1, Math.max(0, v * (0.8 + 0.4 * rand()) + 0.15 * gauss())));
        cells.push(p < 20 ? '0' : String(p));
      }
    out.write(cells.join(',') + '\n');
  }
  return new Promise((res) => out.end(res));
}
const dir = benchDir('wide');
const train = join(dir, `wide-${n}.csv`);
const test = join(dir, 'wide-test.csv');
await write(train, n, 0);
await write(test, 1000, 3);
console.log(
  `${n} rows x 784 columns, 10 classes, ${(statSync(train).size / 1024 / 1024).toFixed(1)} MB: ${train}`,
);
console.log(`cli ${cli}`);
const summary = join(dir, 'summary.json');
runCli(
  'score (exact, numeric)',
  ['score', train, '--label', 'label', '--out', join(dir, 'scores.jsonl'), '--summary', summary],
  {
    summary,
  },
);
if (!args.includes('--no-removal')) {
  const result = join(dir, 'removal.json');
  const r = runCli(
    'eval removal --fractions 0.1,0.3 --seeds 3',
    [
      'eval',
      'removal',
      train,
      '--test',
      test,
      '--label',
      'label',
      '--fractions',
      '0.1,0.3',
      '--seeds',
      '3',
      '--out',
      result,
      '--quiet',
    ],
    { timeoutS: 3600 },
  );
  if (!r.failed) {
    const res = JSON.parse(readFileSync(result, 'utf8'));
    const s = res.secondsPerRetraining ?? res.result?.secondsPerRetraining;
    console.log(
      `  seconds per retraining: ${typeof s === 'number' ? s.toFixed(2) : JSON.stringify(s)} (8 retrainings + the full fit)`,
    );
  }
}
