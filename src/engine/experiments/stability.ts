/**
 * Score stability across training seeds. The head is convex and trained to its optimum, so different initialization
 * seeds would give identical scores (Spearman 1.0 trivially). Instead each seed trains and scores on a different
 * random subsample of the rows (default 90%), and scores are compared on the rows common to all runs: this is
 * subsample stability, a stricter test than the paper's seed stability.
 */
import { spearman } from '../stats';
import {
  type ExperimentControl,
  type Prepared,
  countOf,
  fitAndScore,
  permutation,
  subset,
  yieldNow,
} from './prepare';

export interface StabilityResult {
  kind: 'subsample stability';
  note: string;
  fraction: number;
  seeds: number;
  rows: number;
  commonRows: number;
  pairs: { a: number; b: number; spearman: number }[];
  mean: number;
  seconds: number;
  /**
   * The ranks (1 = most memorized, among the common rows) of the first two runs, for a scatter plot; at most
   * SCATTER_POINTS rows, evenly spread over the common rows.
   */
  scatter?: { a: number; b: number; rankA: number[]; rankB: number[] };
}

export const SCATTER_POINTS = 5000;

export async function stabilityExperiment(
  prep: Prepared,
  opts: { seeds: number; fraction?: number; seedBase?: number } & ExperimentControl,
): Promise<StabilityResult> {
  const t0 = performance.now();
  const { data } = prep;
  const n = data.n;
  const fraction = opts.fraction ?? 0.9;
  const seeds = Math.max(2, opts.seeds);
  const m = countOf(fraction, n);
  // Per seed: row index -> score (NaN when the row is not in that seed's subsample).
  const perSeed: Float64Array[] = [];
  let init: Float64Array | undefined;
  for (let s = 0; s < seeds; s++) {
    opts.onProgress?.({ stage: 'stability', done: s, total: seeds, message: 'subsample runs' });
    await yieldNow(opts.signal);
    const idx = permutation(n, (opts.seedBase ?? 0) + s).subarray(0, m);
    const run = await fitAndScore(prep, subset(data, prep.featurizer.dim, idx), init, opts.signal);
    init = run.head.theta;
    const full = new Float64Array(n).fill(NaN);
    idx.forEach((i, k) => (full[i] = run.scores.score[k]));
    perSeed.push(full);
  }
  opts.onProgress?.({ stage: 'stability', done: seeds, total: seeds, message: 'subsample runs' });
  const common: number[] = [];
  for (let i = 0; i < n; i++) if (perSeed.every((v) => !Number.isNaN(v[i]))) common.push(i);
  const pairs: StabilityResult['pairs'] = [];
  for (let a = 0; a < seeds; a++)
    for (let b = a + 1; b < seeds; b++)
      pairs.push({
        a,
        b,
        spearman: spearman(
          common.map((i) => perSeed[a][i]),
          common.map((i) => perSeed[b][i]),
        ),
      });
  return {
    kind: 'subsample stability',
    note: `each seed retrains on a different random ${(100 * fraction).toFixed(0)}% of the rows (the convex head has no seed-dependent optimum); Spearman of scores on the rows common to all runs`,
    fraction,
    seeds,
    rows: n,
    commonRows: common.length,
    pairs,
    mean: pairs.reduce((x, p) => x + p.spearman, 0) / pairs.length,
    seconds: (performance.now() - t0) / 1000,
    scatter: scatterOf(
      common.map((i) => perSeed[0][i]),
      common.map((i) => perSeed[1][i]),
    ),
  };
}

/** Ranks (1 = highest score) of two score vectors over the same rows, thinned to at most SCATTER_POINTS. */
function scatterOf(a: number[], b: number[]): NonNullable<StabilityResult['scatter']> {
  const rank = (v: number[]): Int32Array => {
    const order = Array.from({ length: v.length }, (_, i) => i).sort((i, j) => v[j] - v[i] || i - j);
    const r = new Int32Array(v.length);
    order.forEach((i, k) => (r[i] = k + 1));
    return r;
  };
  const ra = rank(a);
  const rb = rank(b);
  const step = Math.max(1, a.length / SCATTER_POINTS);
  const rankA: number[] = [];
  const rankB: number[] = [];
  for (let k = 0; k < a.length; k += step) {
    const i = Math.floor(k);
    rankA.push(ra[i]);
    rankB.push(rb[i]);
  }
  return { a: 0, b: 1, rankA, rankB };
}
