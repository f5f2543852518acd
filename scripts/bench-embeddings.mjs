// Issue 12 target: a 768-wide embeddings file of 20,000 rows and 20 classes scored under 60 s. Builds the dataset
// and its vectors with scripts/make-embeddings.mjs (Parquet, float32) in a temp folder, then runs
// `memscore score TRAIN --featurizer embeddings:FILE` (linear head, 20 x 769 = 15,380 parameters: EK-FAC).
//
//   npm run compile && node scripts/bench-embeddings.mjs [--rows 20000] [--dim 768] [--classes 20]
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { benchDir, cli, runCli } from './bench-run.mjs';

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const dir = benchDir('embeddings');
const make = [
  '--rows',
  flag('rows', '20000'),
  '--dim',
  flag('dim', '768'),
  '--classes',
  flag('classes', '20'),
  '--dir',
  dir,
];
console.log(
  execFileSync(process.execPath, ['scripts/make-embeddings.mjs', ...make])
    .toString()
    .trim(),
);
const data = join(dir, 'train.jsonl');
const vectors = join(dir, 'embeddings.parquet');
console.log(`cli ${cli}`);
const summary = join(dir, 'summary.json');
runCli(
  'score --featurizer embeddings',
  [
    'score',
    data,
    '--featurizer',
    `embeddings:${vectors}`,
    '--out',
    join(dir, 'scores.jsonl'),
    '--summary',
    summary,
  ],
  {
    summary,
  },
);
