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
/** Scores the spam data (train + test, top 100 attributed) with the CLI; returns the wall time and the summary. */
function scoreSpam(name, args) {
  const summaryFile = join(dir, `summary-${name}.json`);
  const t0 = performance.now();
  execFileSync(
    process.execPath,
    [
      'dist/cli.js',
      'score',
      train,
      '--test',
      join(data, 'spam.test.jsonl'),
      ...args,
      '--attribute',
      '100',
      '--out',
      join(dir, `scores-${name}.jsonl`),
      '--summary',
      summaryFile,
    ],
    { stdio: ['ignore', 'ignore', 'ignore'] },
  );
  return { wall: (performance.now() - t0) / 1000, s: JSON.parse(readFileSync(summaryFile, 'utf8')) };
}

const solvers = (process.env.BENCH_SOLVERS ?? 'exact,ekfac').split(',');
for (const solver of solvers) {
  const { wall, s } = scoreSpam(solver, ['--solver', solver]);
  console.log(
    `\n== solver ${solver}: ${s.counts.rows} rows, backend ${s.backend}, ${s.parameters} parameters`,
  );
  for (const [stage, sec] of Object.entries(s.seconds)) {
    const n =
      stage === 'attributing'
        ? (s.completeness?.rows ?? 0)
        : stage === 'testing'
          ? s.counts.test
          : s.counts.rows;
    console.log(
      `${stage.padEnd(12)} ${sec.toFixed(3).padStart(8)} s ${(n / sec).toFixed(0).padStart(9)} rows/s`,
    );
  }
  console.log(`${'total'.padEnd(12)} ${wall.toFixed(3).padStart(8)} s (process wall clock)`);
  console.log(
    `peak memory ${s.peakMemoryMB.toFixed(0)} MB; train acc ${(100 * s.trainAccuracy).toFixed(2)}%, test acc ${(100 * s.testAccuracy).toFixed(2)}%`,
  );
  if (s.completeness)
    console.log(
      `completeness gap: mean ${(100 * s.completeness.meanGap).toExponential(2)}%, max ${(100 * s.completeness.maxGap).toExponential(2)}%`,
    );
}

// ONNX featurizer: on the tiny fixture, on a synthetic BERT of a realistic shape (the fixture generator's random
// weights at hidden 256, 4 layers, 128 positions, i.e. the shape of BERT-mini; BENCH_ONNX_LARGE=1 adds a
// DistilBERT-shaped one: hidden 768, 6 layers, 512 positions) and on ONNX_MODEL_DIR when set. Featurization rows/s
// against onnxruntime-node's raw session.run on exactly the same batches (our overhead), then the end-to-end CLI time
// on the spam data with an empty feature cache (cold) and again with it filled (warm: no row is re-encoded).
// BENCH_ONNX=0 skips this part; BENCH_ONNX_ROWS limits the rows of the overhead measurement (sized models: 512).
if (process.env.BENCH_ONNX !== '0') {
  const synthetic = (name, config) => {
    // The fixture generator with another shape and output folder (the fixture itself is untouched).
    const out = join(dir, name);
    execFileSync(
      process.execPath,
      ['scripts/make-tiny-bert.mjs', '--out', out, '--config', JSON.stringify(config)],
      {
        stdio: 'ignore',
      },
    );
    return out;
  };
  const shape = (hidden, layers, heads, maxPosition) => ({
    hidden,
    layers,
    heads,
    intermediate: 4 * hidden,
    maxPosition,
    typeVocab: 2,
    eps: 1e-12,
  });
  const models = [
    { dir: 'test/fixtures/tiny-bert', e2e: true },
    { dir: synthetic('bert-mini-shaped', shape(256, 4, 4, 128)), rows: 512, e2e: false },
    ...(process.env.BENCH_ONNX_LARGE === '1'
      ? [{ dir: synthetic('distilbert-shaped', shape(768, 6, 12, 512)), rows: 64, rounds: 2, e2e: false }]
      : []),
    ...(process.env.ONNX_MODEL_DIR ? [{ dir: process.env.ONNX_MODEL_DIR, e2e: true }] : []),
  ];
  const threads = process.env.BENCH_THREADS ?? '2';
  for (const { dir: model, rows, rounds, e2e } of models) {
    if (!model || !existsSync(join(model, 'model.onnx'))) {
      console.log(`\n== onnx ${model ?? '(synthetic model)'}: skipped (no model.onnx)`);
      continue;
    }
    const limit = process.env.BENCH_ONNX_ROWS ?? (rows ? String(rows) : undefined);
    const out = execFileSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'scripts/bench-onnx.ts',
        model,
        train,
        '--threads',
        threads,
        ...(limit ? ['--rows', limit] : []),
        ...(rounds ? ['--rounds', String(rounds)] : []),
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const r = JSON.parse(out.trim().split('\n').pop());
    console.log(
      `\n== onnx featurizer: ${r.model}, ${r.backend}, ${r.rows} rows, ${r.contentTokens} tokens, ${r.sessionRuns} session runs (best of ${r.rounds} rounds)`,
    );
    console.log(
      `pool (lean)   ${r.featurizeSeconds.toFixed(3).padStart(8)} s ${r.featurizeRowsPerSecond.toFixed(1).padStart(9)} rows/s`,
    );
    console.log(
      `raw session   ${r.rawSessionSeconds.toFixed(3).padStart(8)} s ${r.rawRowsPerSecond.toFixed(1).padStart(9)} rows/s (the same ${r.sessionRuns} batches replayed)`,
    );
    console.log(
      `overhead      ${r.overheadPercent.toFixed(1).padStart(8)} % vs the replay, ${r.overheadDirectPercent.toFixed(1)} % vs its own session.run time (goal < 10%); tokenizing alone ${r.tokenizeSeconds.toFixed(3)} s`,
    );
    // Our work with the session stubbed out (CPU time barely moves with other load), and where it goes.
    const t = r.tokenFeatures;
    console.log(
      `without the session: pool ${r.poolWithoutSessionSeconds.toFixed(3)} s (cpu ${r.poolWithoutSessionCpuSeconds.toFixed(3)} s, ${r.poolWithoutSessionPercent.toFixed(1)} % of the raw session), featurize() ${r.featurizeWithoutSessionSeconds.toFixed(3)} s (cpu ${r.featurizeWithoutSessionCpuSeconds.toFixed(3)} s); featurize() with the session ${t.seconds.toFixed(3)} s, ${t.overheadPercent.toFixed(1)} % over the replay`,
    );
    console.log(
      `parts, all rows: tokenizing ${r.tokenizeSeconds.toFixed(3)} s (cpu ${r.tokenizeCpuSeconds.toFixed(3)} s${r.tokenizesByPrefix ? ', by prefix' : ''}), offset mapping ${r.offsetMappingSeconds.toFixed(3)} s (featurize() only), tensors ${r.tensorBuildingSeconds.toFixed(3)} s, copying outputs ${r.copyingOutputSeconds.toFixed(3)} s (featurize() only), cache hashing ${r.cacheHashingSeconds.toFixed(3)} s`,
    );
    if (!e2e) continue;
    const cache = mkdtempSync(join(tmpdir(), 'memscore-bench-cache-'));
    for (const pass of ['cold cache', 'warm cache']) {
      const { wall, s } = scoreSpam(`onnx-${pass.split(' ')[0]}`, [
        '--featurizer',
        `onnx:${model}`,
        '--onnx-threads',
        threads,
        '--cache-dir',
        cache,
      ]);
      const c = s.featurizerCounters ?? {};
      console.log(
        `end-to-end ${pass}: ${wall.toFixed(2)} s wall (${Object.entries(s.seconds)
          .map(([k, v]) => `${k} ${v.toFixed(2)}`)
          .join(', ')}); ` +
          `${c.rowsEncoded} rows + ${c.baselineRowsEncoded} baselines encoded, cache ${c.cacheHits} hits; ` +
          `train acc ${(100 * s.trainAccuracy).toFixed(2)}%, test acc ${(100 * s.testAccuracy).toFixed(2)}%; ` +
          `completeness max gap ${s.completeness ? (100 * s.completeness.maxGap).toExponential(2) : '-'}%`,
      );
    }
  }
}
