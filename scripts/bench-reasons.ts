// Benchmark of the reasons stage (neighbours + text duplicates + rules), printing wall and CPU seconds:
//  - the shared 4,000 spam rows (featurized and scored by the pipeline), exact neighbours (the default at this size)
//    and the HNSW index, with the recall of HNSW against exact;
//  - 100k rows the way scripts/bench-large.mjs builds its file (the 4,000 rows repeated with fresh ids): the rows'
//    features, labels and predictions are the 4,000 rows' repeated, which is what the pipeline gives on that file
//    (standardization and the mean-loss optimum do not change under repetition), so the pipeline is not rerun;
//  - 100k distinct rows ("perturbed"): every copy's features plus N(0, 0.3^2) noise per coordinate and 5 of its words
//    replaced, so no two rows are equal (clusters of 25 near-copies: a stress case for both searches);
//  - the exact engine on 20,000 rows, to show why 100k rows use the index (exact work grows with n^2).
// Recall at 100k is measured on 1,000 sampled rows against their exact neighbours. Timings on a shared 2-core
// machine are noisy: CPU seconds are printed next to wall seconds. Run: node --import tsx scripts/bench-reasons.ts
// (BENCH_ROWS=N for the large size; MEMSCORE_NEIGHBOURS=exact to time the fallback without usearch).
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readDataset } from '../src/engine/data/readDataset';
import { gemm } from '../src/engine/linalg/gemm';
import { ownRows } from '../src/engine/model/identicalRows';
import { runScoreJob } from '../src/engine/pipeline/scoreJob';
import { seededRandom } from '../src/engine/random';
import type { ReasonJobInput } from '../src/engine/reasons/index';
import { type Neighbours, findNeighbours, unitRows } from '../src/engine/reasons/neighbours';
import { type ReasonsResult, explainReasons } from '../src/engine/reasons/reasons';
import { type TextDuplicates, findTextDuplicates } from '../src/engine/reasons/textDuplicates';

const data = resolve(process.env.MEMSCORE_DATA ?? '../shared/data');
const train = join(data, 'spam.train.jsonl');
if (!existsSync(train)) {
  console.log(`bench-reasons: skipped, ${train} not found (set MEMSCORE_DATA to the shared data folder)`);
  process.exit(0);
}
const N = Number(process.env.BENCH_ROWS ?? 100_000);

interface Timed {
  /** Wall and CPU seconds of the neighbour search. */
  neighbourSeconds: { wall: number; cpu: number };
  neighbours: Neighbours;
  duplicates: TextDuplicates;
  reasons: ReasonsResult;
}

/** The three stages one after the other (as computeReasons runs them), each timed in wall and CPU seconds. */
async function timed(label: string, input: ReasonJobInput, method?: 'exact' | 'approximate'): Promise<Timed> {
  const stages: string[] = [];
  const took: Record<string, { wall: number; cpu: number }> = {};
  let wall = 0;
  let cpu = 0;
  const stage = async <T>(name: string, run: () => Promise<T> | T): Promise<T> => {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const out = await run();
    const c = process.cpuUsage(c0);
    const w = (performance.now() - t0) / 1000;
    const u = (c.user + c.system) / 1e6;
    wall += w;
    cpu += u;
    stages.push(`${name} ${w.toFixed(2)}/${u.toFixed(2)}`);
    took[name] = { wall: w, cpu: u };
    return out;
  };
  const neighbours = await stage('neighbours', () => findNeighbours(input.X, input.n, input.dim, { method }));
  const duplicates = await stage('duplicates', () => findTextDuplicates(input.texts!));
  const reasons = await stage('rules', () => explainReasons({ ...input, neighbours, duplicates }));
  console.log(
    `${label.padEnd(34)} ${wall.toFixed(2).padStart(6)} s wall ${cpu.toFixed(2).padStart(6)} s cpu (wall/cpu: ${stages.join(', ')}); ${neighbours.engine}`,
  );
  return { neighbourSeconds: took.neighbours, neighbours, duplicates, reasons };
}

/** recall@k of `nb` on the sampled rows, ties counted as hits (a neighbour as similar as the exact k-th is right). */
function recallOnSample(
  nb: Neighbours,
  X: ArrayLike<number>,
  n: number,
  D: number,
  sample: number[],
): number {
  const U = unitRows(X, n, D);
  const k = nb.k;
  const B = 64;
  const S = new Float64Array(B * n);
  const Q = new Float64Array(B * D);
  let hit = 0;
  for (let b = 0; b < sample.length; b += B) {
    const rows = sample.slice(b, b + B);
    rows.forEach((i, r) => Q.set(U.subarray(i * D, i * D + D), r * D));
    gemm(false, true, rows.length, n, D, 1, Q, 0, D, U, 0, D, 0, S, 0, n);
    rows.forEach((i, r) => {
      const sims = Array.from(S.subarray(r * n, r * n + n));
      sims[i] = -Infinity;
      const kth = sims.sort((x, y) => y - x)[k - 1];
      for (let j = 0; j < k; j++) if (nb.similarity[i * k + j] >= kth - 1e-9) hit++;
    });
  }
  return hit / (sample.length * k);
}

async function main(): Promise<void> {
  // --- the 4,000 spam rows through the pipeline ---
  const st = await runScoreJob(train, { attribution: { top: 0 } });
  const { prep, scores } = st;
  const n0 = prep.data.n;
  const D = prep.featurizer.dim;
  // The texts from a second read: the prepared rows are lean (no decoded fields).
  const decoded = (await readDataset(train)).rows;
  const base: ReasonJobInput = {
    X: ownRows(prep.data, D).X,
    n: n0,
    dim: D,
    classes: prep.classes,
    y: prep.data.y,
    pred: scores.pred,
    lines: prep.rows.map((r) => r.line),
    texts: decoded.map((r) => r.fields.map((f) => f.value).join('\n')),
    selfInfluence: scores.selfInfluence,
  };
  console.log(`${n0} rows x ${D} features (${prep.transform.name}), ${prep.classes.length} classes`);
  const exact4k = await timed(`${n0} rows, default (exact)`, base);
  const hnsw4k = await timed(`${n0} rows, HNSW`, base, 'approximate');
  console.log(
    `  HNSW recall@10 vs exact on all ${n0} rows: ${recallVs(exact4k.neighbours, hnsw4k.neighbours).toFixed(4)}`,
  );
  console.log(`  reasons: ${JSON.stringify(exact4k.reasons.counts)}; ${exact4k.neighbours.note}`);

  function recallVs(exact: Neighbours, approx: Neighbours): number {
    let hit = 0;
    const k = exact.k;
    for (let i = 0; i < exact.n; i++) {
      const kth = exact.similarity[i * k + k - 1];
      for (let j = 0; j < k; j++) if (approx.similarity[i * k + j] >= kth - 1e-9) hit++;
    }
    return hit / (exact.n * k);
  }

  // --- 100k rows ---
  function repeated(perturb: boolean): ReasonJobInput {
    const rand = seededRandom(42);
    const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
    const X = new Float64Array(N * D);
    const y = new Int32Array(N);
    const pred = new Int32Array(N);
    const lines = new Int32Array(N);
    const texts: string[] = new Array(N);
    for (let i = 0; i < N; i++) {
      const s = i % n0;
      for (let d = 0; d < D; d++)
        X[i * D + d] = base.X[s * D + d] + (perturb && i >= n0 ? 0.3 * gauss() : 0);
      y[i] = base.y[s];
      pred[i] = base.pred[s];
      lines[i] = i + 1;
      let t = base.texts![s];
      if (perturb && i >= n0) {
        const words = t.split(' ');
        for (let m = 0; m < 5; m++)
          words[Math.floor(rand() * words.length)] = `w${Math.floor(rand() * 1e9).toString(36)}`;
        t = words.join(' ');
      }
      texts[i] = t;
    }
    return { X, n: N, dim: D, classes: base.classes, y, pred, lines, texts };
  }
  const rand = seededRandom(7);
  const sample = Array.from({ length: 1000 }, () => Math.floor(rand() * N));
  for (const perturb of [false, true]) {
    const input = repeated(perturb);
    const label = `${N} rows, ${perturb ? 'perturbed' : 'repeated (bench-large)'}`;
    const job = await timed(label, input);
    if (!job.neighbours.exact)
      console.log(
        `  recall@10 vs exact on 1,000 sampled rows: ${recallOnSample(job.neighbours, input.X, N, D, sample).toFixed(4)}`,
      );
    const d = job.duplicates.stats;
    console.log(
      `  ${[job.neighbours.note, ...job.duplicates.notes].join('; ')}; texts: ${d.groups} distinct, ${d.candidates} candidate pairs, ${d.nearPairs} near pairs; reasons ${JSON.stringify(job.reasons.counts)}`,
    );
  }

  // --- why not exact at 100k: the exact engine on 20,000 rows ---
  {
    const m = 20_000;
    const input = repeated(true);
    const sub: ReasonJobInput = {
      ...input,
      X: (input.X as Float64Array).subarray(0, m * D),
      n: m,
      y: (input.y as Int32Array).subarray(0, m),
      pred: (input.pred as Int32Array).subarray(0, m),
      lines: (input.lines as Int32Array).subarray(0, m),
      texts: input.texts!.slice(0, m),
    };
    const job = await timed(`${m} rows, perturbed, exact`, sub, 'exact');
    const f = (N / m) ** 2;
    console.log(
      `  exact neighbours at ${N} rows would take about ${(job.neighbourSeconds.wall * f).toFixed(0)} s wall, ${(job.neighbourSeconds.cpu * f).toFixed(0)} s cpu (x${f.toFixed(0)}: n^2)`,
    );
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
