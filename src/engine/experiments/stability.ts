/**
 * Score stability across training seeds. The head is convex and trained to its optimum, so different initialization
 * seeds would give identical scores (Spearman 1.0 trivially). Instead each seed trains and scores on a different
 * random subsample of the rows (default 90%), and scores are compared on the rows common to all runs: this is
 * subsample stability, a stricter test than the paper's seed stability.
 */
import { spearman } from '../stats';
import { type Prepared, countOf, fitAndScore, permutation, subset } from './prepare';

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
}

export function stabilityExperiment(
  prep: Prepared,
  opts: { seeds: number; fraction?: number; seedBase?: number },
): StabilityResult {
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
    const idx = permutation(n, (opts.seedBase ?? 0) + s).subarray(0, m);
    const run = fitAndScore(prep, subset(data, prep.featurizer.dim, idx), init);
    init = run.head.theta;
    const full = new Float64Array(n).fill(NaN);
    idx.forEach((i, k) => (full[i] = run.scores.score[k]));
    perSeed.push(full);
  }
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
  };
}
