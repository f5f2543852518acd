// MLP head benchmark and measurements (issue 10), through the pipeline's own stages (prepare -> fit -> score ->
// attribute), so the figures are those of `memscore score --model mlp`:
//   node --import tsx scripts/bench-mlp.ts [--data DIR] [--heads linear,mlp:64] [--l2 1e-3] [--solver S]
//        [--curvature gauss-newton|hessian] [--damping X] [--activation tanh|gelu] [--measure] [--files a,b]
// Default: the speed run on spam.train (train + curvature + scores + top-100 attributions per head, wall and CPU
// seconds per stage). --measure: on spam.train and spam-noisy10.train (and --files), per head: train and test
// accuracy, |grad R|, flipped-label AUROC of loss / selfInfluence / score (noisy file), hard_ham and easy_ham mean
// percentiles, where the exact duplicates (same subject and text) rank, seconds per stage.
// A head is `linear`, `mlp:64` or `mlp:64,32` (optionally `mlp:64@1e-4` for its own l2).
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { auroc } from '../src/engine/experiments/noise';
import { rankDescending, scoreRows } from '../src/engine/influence/scores';
import type { SolverName } from '../src/engine/influence/solvers';
import { linalgBackend } from '../src/engine/linalg/gemm';
import type { Curvature } from '../src/engine/model/head';
import { attributeRows } from '../src/engine/pipeline/attribute';
import { fit } from '../src/engine/pipeline/fit';
import type { HeadStageOptions } from '../src/engine/pipeline/options';
import { prepare, prepareTest, type Prepared } from '../src/engine/pipeline/prepare';

const args = process.argv.slice(2);
const opt = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const dataDir = resolve(opt('data') ?? process.env.MEMSCORE_DATA ?? '../shared/data');
if (!existsSync(join(dataDir, 'spam.train.jsonl'))) {
  console.log(`bench-mlp: skipped, ${dataDir}/spam.train.jsonl not found (set --data or MEMSCORE_DATA)`);
  process.exit(0);
}
const measure = args.includes('--measure');
const l2 = Number(opt('l2') ?? 1e-3);
const solver = opt('solver') as SolverName | undefined;
const curvature = opt('curvature') as Curvature | undefined;
const damping = opt('damping') !== undefined ? Number(opt('damping')) : undefined;
const activation = (opt('activation') ?? 'tanh') as 'tanh' | 'gelu';
const heads = (opt('heads') ?? 'linear,mlp:64').split(/;|,(?=linear|mlp)/);

function headOptions(spec: string): HeadStageOptions {
  const [kind, rest] = spec.split(':');
  const [widths, ownL2] = (rest ?? '').split('@');
  if (kind === 'linear') return { model: 'linear', l2: Number(ownL2 ?? l2) };
  return {
    model: 'mlp',
    l2: Number(ownL2 ?? l2),
    hidden: (widths || '64').split(',').map(Number),
    activation,
    curvature,
    damping,
  };
}

/** Wall and CPU seconds (CPU: this process, all threads; robust to other processes on a shared machine). */
async function timed<T>(fn: () => T | Promise<T>): Promise<{ value: T; wall: number; cpu: number }> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const value = await fn();
  const c = process.cpuUsage(c0);
  return { value, wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 };
}

/** The raw JSON rows of a file by id (group and duplicate detection; never fed to the model). */
function rawRows(file: string): Map<string, { group?: string; subject?: string; text?: string }> {
  const out = new Map<string, { group?: string; subject?: string; text?: string }>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const r = JSON.parse(line);
    out.set(String(r.id), r);
  }
  return out;
}

interface Run {
  head: string;
  describe: string;
  parameters: number;
  solver: string;
  trainAcc: number;
  testAcc: number;
  gradNorm: number;
  method: string;
  warnings: string[];
  seconds: Record<string, { wall: number; cpu: number }>;
  loss: Float64Array;
  selfInfluence: Float64Array;
  score: Float64Array;
  completeness?: { mean: number; max: number };
}

async function run(
  prep: Prepared,
  test: Prepared['data'] | undefined,
  spec: string,
  attribute: number,
): Promise<Run> {
  const ho = headOptions(spec);
  const fitted = await timed(() => fit(prep, { head: ho, solver: { solver } }));
  const f = fitted.value;
  const scored = await timed(() => scoreRows(f.head, prep.data, f.solver));
  const s = scored.value;
  const seconds: Run['seconds'] = {
    training: { wall: f.seconds.training, cpu: NaN },
    curvature: { wall: f.seconds.hessian, cpu: NaN },
    scoring: { wall: scored.wall, cpu: scored.cpu },
  };
  // fit() times its two stages by wall clock; their CPU share is the fit's CPU split by wall share.
  const fitWall = f.seconds.training + f.seconds.hessian;
  seconds.training.cpu = (fitted.cpu * f.seconds.training) / fitWall;
  seconds.curvature.cpu = (fitted.cpu * f.seconds.hessian) / fitWall;
  let completeness: Run['completeness'];
  if (attribute > 0) {
    const { order } = rankDescending(s.score);
    const top = Array.from(order.subarray(0, attribute));
    const att = await timed(() => attributeRows(prep, f, top, 50));
    seconds.attributing = { wall: att.wall, cpu: att.cpu };
    const gaps = [...att.value.values()].map((r) => r.gap);
    completeness = { mean: gaps.reduce((a, b) => a + b, 0) / gaps.length, max: Math.max(...gaps) };
  }
  const acc = (data: Prepared['data']) => {
    const p = f.head.probabilities(data.X, data.n);
    let ok = 0;
    for (let i = 0; i < data.n; i++) {
      let best = 0;
      for (let c = 1; c < f.head.classes; c++)
        if (p[i * f.head.classes + c] > p[i * f.head.classes + best]) best = c;
      if (best === data.y[i]) ok++;
    }
    return ok / data.n;
  };
  return {
    head: spec,
    describe: f.head.describe(),
    parameters: f.head.size,
    solver: f.solverName,
    trainAcc: acc(prep.data),
    testAcc: test ? acc(test) : NaN,
    gradNorm: f.training.gradNorm,
    method: f.training.method,
    warnings: f.training.warnings,
    seconds,
    loss: s.loss,
    selfInfluence: s.selfInfluence,
    score: s.score,
    completeness,
  };
}

const fmt = (x: number, d = 3) => (Number.isFinite(x) ? x.toFixed(d) : '-');
const secs = (r: Run) =>
  Object.entries(r.seconds)
    .map(([k, v]) => `${k} ${v.wall.toFixed(1)}s (cpu ${v.cpu.toFixed(1)})`)
    .join(', ');

async function main(): Promise<void> {
  console.log(`bench-mlp: data ${dataDir}; large products on ${linalgBackend().engine}; l2 ${l2}`);
  const testFile = join(dataDir, 'spam.test.jsonl');
  const files = measure
    ? ['spam.train.jsonl', 'spam-noisy10.train.jsonl', ...(opt('files')?.split(',') ?? [])]
    : ['spam.train.jsonl'];
  for (const name of files) {
    const file = join(dataDir, name);
    const prepT = await timed(() => prepare(file, {}));
    const prep = prepT.value;
    const test =
      existsSync(testFile) && name.startsWith('spam')
        ? (await prepareTest(prep, testFile, {})).data
        : undefined;
    console.log(
      `\n== ${name}: ${prep.data.n} rows, ${prep.featurizer.dim} features (${prep.transform.name}), fields ${prep.read.schema.textFields.join(',')}; reading + featurizing ${prepT.wall.toFixed(1)}s`,
    );
    const raw = rawRows(file);
    const ids = prep.rows.map((r) => r.id);
    const flippedFile = join(dataDir, name.replace('.train.jsonl', '.flipped.json'));
    const flipped = existsSync(flippedFile)
      ? new Set<string>(JSON.parse(readFileSync(flippedFile, 'utf8')))
      : undefined;
    const groups = ids.map((id) => raw.get(id)?.group);
    const dupKey = ids.map((id) => JSON.stringify([raw.get(id)?.subject, raw.get(id)?.text]));
    const dupCount = new Map<string, number>();
    for (const k of dupKey) dupCount.set(k, (dupCount.get(k) ?? 0) + 1);
    const isDup = dupKey.map((k) => dupCount.get(k)! > 1);
    for (const spec of heads) {
      const r = await run(prep, test, spec, measure ? 0 : 100);
      console.log(`\n-- ${r.describe}, solver ${r.solver}`);
      console.log(
        `train acc ${fmt(r.trainAcc)}, test acc ${fmt(r.testAcc)}, |grad R| ${r.gradNorm.toExponential(2)} (${r.method})`,
      );
      for (const w of r.warnings) console.log(`warning: ${w}`);
      console.log(`seconds: ${secs(r)}`);
      const total = Object.values(r.seconds).reduce((a, b) => a + b.wall, 0) + prepT.wall;
      const totalCpu = Object.values(r.seconds).reduce((a, b) => a + b.cpu, 0) + prepT.cpu;
      console.log(`total with featurizing: ${total.toFixed(1)}s wall, ${totalCpu.toFixed(1)}s cpu`);
      if (r.completeness)
        console.log(
          `completeness gap (top 100, 50 steps): mean ${(100 * r.completeness.mean).toExponential(2)}%, max ${(100 * r.completeness.max).toExponential(2)}%`,
        );
      if (!measure) continue;
      const pct = rankDescending(r.score).percentile;
      const mean = (sel: boolean[]) => {
        let s = 0;
        let k = 0;
        sel.forEach((b, i) => {
          if (b) {
            s += pct[i];
            k++;
          }
        });
        return s / k;
      };
      const hard = mean(groups.map((g) => g === 'hard_ham'));
      const easy = mean(groups.map((g) => g === 'easy_ham'));
      const dupTop = isDup.filter((d, i) => d && pct[i] >= 90).length / isDup.filter(Boolean).length;
      let line = `percentile hard_ham ${fmt(hard, 1)} / easy_ham ${fmt(easy, 1)}; duplicates (${isDup.filter(Boolean).length} rows): mean ${fmt(mean(isDup), 1)}, ${fmt(100 * dupTop, 0)}% in the top 10%`;
      if (flipped) {
        const pos = ids.map((id) => flipped.has(id));
        line += `; flipped AUROC loss ${fmt(auroc(r.loss, pos))} selfInfluence ${fmt(auroc(r.selfInfluence, pos))} score ${fmt(auroc(r.score, pos))}`;
      }
      console.log(line);
    }
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
