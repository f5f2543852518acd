// Issue 12, bounded memory while streaming: peak RSS and seconds per stage for the 1,000,000 two-word rows of
// bench-million.mjs, the 100,000 spam rows of bench-large.mjs and the 5,000 x 784 x 10 numeric CSV of bench-wide.mjs.
// For each case, two runs, each in its own process (so each peak RSS is its own):
//   end to end: `node dist/cli.js score` (with and without the reasons) under /usr/bin/time (bench-run.mjs);
//   per stage: the pipeline's stages called one by one in-process (read + pool, fit, score, attribute the top 100,
//   reasons), printing after each the seconds, the RSS and the peak RSS so far (it only grows).
// Figures are printed, never asserted; the machine is shared, so the load average is printed with them.
//
//   npm run compile && node --import tsx scripts/bench-memory.mjs [million] [large] [wide] [--no-stages] [--no-cli]
// MEMSCORE_CLI=path runs another build end to end (e.g. a "before" copy); MEMSCORE_DATA is the shared data folder;
// BENCH_UNTIL=pool stops the per-stage run after reading and pooling.
import { spawnSync } from 'node:child_process';
import { rmSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildLarge, buildMillion, buildWide } from './bench-data.mjs';
import { benchDir, cli, runCli } from './bench-run.mjs';

const CASES = {
  million: { build: buildMillion, args: ['--attribute', '100'] },
  large: { build: buildLarge, args: ['--attribute', '100'] },
  wide: { build: buildWide, args: ['--label', 'label'] },
};
const load = () =>
  loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');
const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

/** In-process, one stage after another: what each stage costs in seconds and memory. */
async function stages(file, args) {
  const src = fileURLToPath(new URL('../src/', import.meta.url));
  const load = (p) => import(pathToFileURL(join(src, p)).href);
  const { prepare } = await load('engine/pipeline/prepare.ts');
  const { fit } = await load('engine/pipeline/fit.ts');
  const { scoreRows, rankDescending } = await load('engine/influence/scores.ts');
  const { attributeRows } = await load('engine/pipeline/attribute.ts');
  const { reasonsOf } = await load('engine/pipeline/scoreJob.ts');
  const label = args.includes('--label') ? args[args.indexOf('--label') + 1] : undefined;
  const opts = label ? { data: { label } } : {};
  let t = performance.now();
  const step = (stage, extra = '') => {
    const now = performance.now();
    const peak = process.resourceUsage().maxRSS * 1024;
    console.log(
      `  ${stage.padEnd(28)} ${((now - t) / 1000).toFixed(2).padStart(7)} s  rss ${mb(process.memoryUsage().rss).padStart(8)}  peak ${mb(peak).padStart(8)}  ${extra}`,
    );
    t = performance.now();
  };
  step('start (modules loaded)');
  const prep = await prepare(file, opts);
  const until = process.env.BENCH_UNTIL;
  step(
    'read + featurize + pool',
    `${prep.rows.length} rows x ${prep.featurizer.dim} (X ${mb(prep.data.X.byteLength)}); reading ${prep.seconds.reading.toFixed(2)} s, pooling ${prep.seconds.featurizing.toFixed(2)} s`,
  );
  if (until === 'pool') return;
  const fitted = fit(prep, {});
  step('fit (train + curvature)', `${fitted.head.size} parameters, solver ${fitted.solverName}`);
  const scores = await scoreRows(fitted.head, prep.data, fitted.solver, {});
  step('score');
  const { order } = rankDescending(scores.score);
  await attributeRows(prep, fitted, Array.from(order.subarray(0, 100)), 50);
  step('attribute the top 100', 'rows read again from their offsets');
  const job = await reasonsOf(prep, fitted, scores, {});
  const rs = Object.entries(job.seconds).map(([k, v]) => `${k} ${v.toFixed(2)}`);
  step(
    'reasons',
    `${rs.join(', ')} s; text groups while reading ${prep.seconds.textGroups?.toFixed(2) ?? '-'} s`,
  );
}

const args = process.argv.slice(2);
if (args[0] === '--stages') {
  await stages(args[1], args.slice(2));
  process.exit(0);
}
const wanted = args.filter((a) => a in CASES);
const dir = benchDir('memory');
console.log(`cli ${cli}; load average ${load()}`);
for (const name of wanted.length ? wanted : Object.keys(CASES)) {
  const c = CASES[name];
  const file = await c.build(dir);
  if (!file) {
    console.log(`${name}: skipped (no shared data: set MEMSCORE_DATA)`);
    continue;
  }
  console.log(`\n== ${name}: ${(statSync(file).size / 1024 / 1024).toFixed(1)} MB, ${file}`);
  if (!args.includes('--no-cli'))
    for (const reasons of [true, false]) {
      const summary = join(dir, `${name}.summary.json`);
      runCli(
        `score${reasons ? '' : ' --no-reasons'}`,
        [
          'score',
          file,
          ...c.args,
          ...(reasons ? [] : ['--no-reasons']),
          '--out',
          join(dir, `${name}.scores.jsonl`),
          '--summary',
          summary,
        ],
        { summary },
      );
    }
  if (!args.includes('--no-stages')) {
    console.log(`per stage, in-process (load average ${load()}):`);
    const self = fileURLToPath(import.meta.url);
    const res = spawnSync(process.execPath, ['--import', 'tsx', self, '--stages', file, ...c.args], {
      stdio: 'inherit',
      cwd: resolve(fileURLToPath(new URL('..', import.meta.url))),
    });
    if (res.status !== 0) console.log(`  stages: exit ${res.status}`);
  }
  rmSync(file, { force: true });
}
rmSync(dir, { recursive: true, force: true });
