// Benchmark at scale: builds a large JSONL file (default 100,000 rows, resampled from the shared spam data with
// fresh ids) in a temp folder and scores it with the CLI, printing seconds per stage, rows/s and peak memory.
// Run `npm run bench:large` (compiles first); BENCH_ROWS=N changes the size; MEMSCORE_CLI=path runs another build.
// Wall and CPU seconds, peak RSS and the load average come from scripts/bench-run.mjs.
import { createWriteStream, existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runCli } from './bench-run.mjs';

const data = resolve(process.env.MEMSCORE_DATA ?? '../shared/data');
const source = join(data, 'spam.train.jsonl');
if (!existsSync(source)) {
  console.log(`bench:large: skipped, ${source} not found (set MEMSCORE_DATA to the shared data folder)`);
  process.exit(0);
}
const n = Number(process.env.BENCH_ROWS ?? 100_000);
const dir = mkdtempSync(join(tmpdir(), 'memscore-bench-large-'));
const file = join(dir, `spam-${n}.jsonl`);
const rows = readFileSync(source, 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l));
const out = createWriteStream(file);
for (let i = 0; i < n; i++) {
  const r = rows[i % rows.length];
  out.write(JSON.stringify({ ...r, id: `${r.id}-${Math.floor(i / rows.length)}` }) + '\n');
}
await new Promise((res) => out.end(res));
console.log(`${n} rows, ${(statSync(file).size / 1024 / 1024).toFixed(1)} MB: ${file}`);

const summaryFile = join(dir, 'summary.json');
const run = runCli(
  'score --attribute 100',
  ['score', file, '--attribute', '100', '--out', join(dir, 'scores.jsonl'), '--summary', summaryFile],
  { summary: summaryFile },
);
if (run.failed) process.exit(1);
const s = run.summary;
for (const [stage, sec] of Object.entries(s.seconds)) {
  const k = stage === 'attributing' ? (s.completeness?.rows ?? 0) : s.counts.rows;
  console.log(
    `${stage.padEnd(12)} ${sec.toFixed(3).padStart(8)} s ${(k / sec).toFixed(0).padStart(9)} rows/s`,
  );
}
console.log(
  `${'total'.padEnd(12)} ${run.wall.toFixed(3).padStart(8)} s (process wall clock), ${run.cpu.toFixed(1)} s CPU`,
);
console.log(
  `peak memory ${s.peakMemoryMB.toFixed(0)} MB (in-process sample), ${run.rssMB.toFixed(0)} MB peak RSS; scores file ${(statSync(join(dir, 'scores.jsonl')).size / 1024 / 1024).toFixed(1)} MB`,
);
