// Benchmark: scores the shared spam data (4,000 rows) with attributions of the top 100 rows, printing seconds and
// rows/s per stage, peak memory and the backend. Run `npm run bench` (it compiles first).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const data = resolve(process.env.MEMSCORE_DATA ?? '../shared/data');
const train = join(data, 'spam.train.jsonl');
if (!existsSync(train)) {
  console.log(`bench: skipped, ${train} not found (set MEMSCORE_DATA to the shared data folder)`);
  process.exit(0);
}
const dir = mkdtempSync(join(tmpdir(), 'memscore-bench-'));
const solvers = (process.env.BENCH_SOLVERS ?? 'exact,ekfac').split(',');
for (const solver of solvers) {
  const summaryFile = join(dir, `summary-${solver}.json`);
  const t0 = performance.now();
  execFileSync(
    process.execPath,
    ['dist/cli.js', 'score', train, '--test', join(data, 'spam.test.jsonl'), '--solver', solver, '--attribute', '100',
      '--out', join(dir, `scores-${solver}.jsonl`), '--summary', summaryFile],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const wall = (performance.now() - t0) / 1000;
  const s = JSON.parse(readFileSync(summaryFile, 'utf8'));
  console.log(`\n== solver ${solver}: ${s.counts.rows} rows, backend ${s.backend}, ${s.parameters} parameters`);
  for (const [stage, sec] of Object.entries(s.seconds)) {
    const n = stage === 'attributing' ? (s.completeness?.rows ?? 0) : stage === 'testing' ? s.counts.test : s.counts.rows;
    console.log(`${stage.padEnd(12)} ${sec.toFixed(3).padStart(8)} s ${(n / sec).toFixed(0).padStart(9)} rows/s`);
  }
  console.log(`${'total'.padEnd(12)} ${wall.toFixed(3).padStart(8)} s (process wall clock)`);
  console.log(`peak memory ${s.peakMemoryMB.toFixed(0)} MB; train acc ${(100 * s.trainAccuracy).toFixed(2)}%, test acc ${(100 * s.testAccuracy).toFixed(2)}%`);
  if (s.completeness) console.log(`completeness gap: mean ${(100 * s.completeness.meanGap).toExponential(2)}%, max ${(100 * s.completeness.maxGap).toExponential(2)}%`);
}
