// Issue 12 target: the 784-column, 10-class, 5,000-row numeric case (an MNIST-shaped CSV, synthesized: each class a
// smooth 28 x 28 stroke pattern, rows its noisy, shifted copies in 0..255 with most pixels 0) scored with the exact
// solver (784 x 10 -> 7,850 parameters) under 40 s end to end and 2 GB peak RSS, and `memscore eval removal
// --fractions 0.1,0.3 --seeds 3` under 5 s per retraining. The CSV and a 1,000-row test file go to a temp folder.
//
//   npm run compile && node scripts/bench-wide.mjs [--rows 5000] [--no-removal]
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { benchDir, cli, runCli } from './bench-run.mjs';
import { buildWide } from './bench-data.mjs';

const args = process.argv.slice(2);
const i0 = args.indexOf('--rows');
const n = i0 >= 0 ? Number(args[i0 + 1]) : 5000;
const dir = benchDir('wide');
const train = await buildWide(dir, n, 1000);
const test = join(dir, 'wide-test.csv');
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
