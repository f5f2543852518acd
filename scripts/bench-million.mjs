// Issue 12 target: 1,000,000 short rows scored under 60 s with peak RSS under 1.5 GB. Builds a JSONL file of
// two-word rows (default 1,000,000, about 56 MB) in a temp folder, each two consecutive words of one shared spam
// row with its label, and scores it with the CLI (words featurizer, linear head, 2 x 101 = 202 parameters: exact).
// Reading and the decoded rows' memory belong to the readers; the summary's stage seconds say where time goes.
//
//   npm run compile && node scripts/bench-million.mjs [--rows 1000000]
import { createWriteStream, existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { benchDir, cli, runCli } from './bench-run.mjs';
import { mulberry32 } from './mulberry32.mjs';

const args = process.argv.slice(2);
const i0 = args.indexOf('--rows');
const n = i0 >= 0 ? Number(args[i0 + 1]) : 1_000_000;
const source = join(resolve(process.env.MEMSCORE_DATA ?? '../shared/data'), 'spam.train.jsonl');
if (!existsSync(source)) {
  console.log(`bench-million: skipped, ${source} not found (set MEMSCORE_DATA to the shared data folder)`);
  process.exit(0);
}
const rows = readFileSync(source, 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l))
  .map((r) => ({
    label: r.label,
    words: `${r.subject ?? ''} ${r.text ?? ''}`.split(/\s+/).filter((w) => /\w/.test(w)),
  }))
  .filter((r) => r.words.length >= 2);
const rand = mulberry32(1);
const dir = benchDir('million');
const file = join(dir, `short-${n}.jsonl`);
const out = createWriteStream(file);
let chunk = '';
for (let i = 0; i < n; i++) {
  const r = rows[Math.floor(rand() * rows.length)];
  const k = Math.floor(rand() * (r.words.length - 1));
  chunk += JSON.stringify({ id: `s${i}`, text: `${r.words[k]} ${r.words[k + 1]}`, label: r.label }) + '\n';
  if (chunk.length > 1 << 20) {
    if (!out.write(chunk)) await new Promise((res) => out.once('drain', res));
    chunk = '';
  }
}
out.write(chunk);
await new Promise((res) => out.end(res));
console.log(`${n} rows, ${(statSync(file).size / 1024 / 1024).toFixed(1)} MB: ${file}`);
console.log(`cli ${cli}`);
const summary = join(dir, 'summary.json');
runCli(
  'score (1M short rows)',
  ['score', file, '--attribute', '100', '--out', join(dir, 'scores.jsonl'), '--summary', summary],
  {
    summary,
  },
);
