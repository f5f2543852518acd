/**
 * Label-noise detection: how many of the known flipped labels each ranking puts in its top 5/10/20/30%, and the
 * AUROC of each ranking for "is flipped". Rankings: self-influence, memorization score, loss, and a confident-
 * learning style baseline, 1 - p_oof(y), the out-of-fold probability of the given label from K-fold cross-fitting.
 */
import { averageRanks } from '../stats';
import { type Prepared, complement, countOf, fitAndScore, fitHead, permutation, subset } from './prepare';

export const NOISE_METHODS = ['selfInfluence', 'score', 'loss', 'oof'] as const;
export type NoiseMethod = (typeof NOISE_METHODS)[number];

export interface NoiseResult {
  rows: number;
  /** Flipped ids given, and how many of them are rows of the training file. */
  flipped: number;
  matched: number;
  folds: number;
  /** recall: fraction of the flipped rows found in the top `fraction` of each ranking; precision: flipped share of it. */
  recall: ({ fraction: number } & Record<NoiseMethod, number>)[];
  precision: ({ fraction: number } & Record<NoiseMethod, number>)[];
  auroc: Record<NoiseMethod, number>;
  /** Found-vs-checked curves: the share of the flipped rows among the top `checked` fraction of each ranking. */
  curve: { checked: number[]; found: Record<NoiseMethod, number[]> };
  seconds: number;
}

/** Points of the found-vs-checked curve: 0%, 1%, ..., 100% of the rows checked. */
export const CURVE_POINTS = 101;

export const NOISE_FRACTIONS = [0.05, 0.1, 0.2, 0.3];

/** AUROC of `value` (larger = more suspicious) for the positives, ties counted half (Mann-Whitney). */
export function auroc(value: ArrayLike<number>, positive: ArrayLike<boolean>): number {
  const r = averageRanks(value);
  let pos = 0;
  let sum = 0;
  for (let i = 0; i < r.length; i++)
    if (positive[i]) {
      pos++;
      sum += r[i];
    }
  const neg = r.length - pos;
  if (!pos || !neg) return NaN;
  return (sum - (pos * (pos + 1)) / 2) / (pos * neg);
}

/** Out-of-fold probability of each row's given label, from K-fold cross-fitting (seeded folds). */
export function outOfFoldProbability(
  prep: Prepared,
  folds: number,
  seed = 0,
  init?: Float64Array,
): Float64Array {
  const { data } = prep;
  const D = prep.featurizer.dim;
  const C = prep.classes.length;
  const n = data.n;
  const perm = permutation(n, seed);
  const out = new Float64Array(n);
  for (let f = 0; f < folds; f++) {
    const held = perm.filter((_, k) => k % folds === f);
    const head = fitHead(prep, subset(data, D, complement(n, held)), init);
    const p = head.probabilities(subset(data, D, held).X, held.length);
    held.forEach((i, k) => (out[i] = p[k * C + data.y[i]]));
  }
  return out;
}

export async function noiseExperiment(
  prep: Prepared,
  flippedIds: readonly string[],
  opts: { folds?: number; seed?: number } = {},
): Promise<NoiseResult> {
  const t0 = performance.now();
  const n = prep.data.n;
  const folds = opts.folds ?? 5;
  const ids = new Set(flippedIds);
  const positive = prep.rows.map((r) => ids.has(r.id));
  const matched = positive.filter(Boolean).length;
  const full = await fitAndScore(prep, prep.data);
  const oof = outOfFoldProbability(prep, folds, opts.seed ?? 0, full.head.theta);
  const values: Record<NoiseMethod, Float64Array> = {
    selfInfluence: full.scores.selfInfluence,
    score: full.scores.score,
    loss: full.scores.loss,
    oof: oof.map((q) => 1 - q),
  };
  const orders = Object.fromEntries(
    NOISE_METHODS.map((m) => [
      m,
      Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => values[m][b] - values[m][a] || a - b),
    ]),
  ) as Record<NoiseMethod, Int32Array>;
  const recall: NoiseResult['recall'] = [];
  const precision: NoiseResult['precision'] = [];
  for (const fraction of NOISE_FRACTIONS) {
    const k = countOf(fraction, n);
    const rec = { fraction } as { fraction: number } & Record<NoiseMethod, number>;
    const pre = { fraction } as { fraction: number } & Record<NoiseMethod, number>;
    for (const m of NOISE_METHODS) {
      let hits = 0;
      for (let j = 0; j < k; j++) if (positive[orders[m][j]]) hits++;
      rec[m] = matched ? hits / matched : NaN;
      pre[m] = k ? hits / k : NaN;
    }
    recall.push(rec);
    precision.push(pre);
  }
  const checked = Array.from({ length: CURVE_POINTS }, (_, j) => j / (CURVE_POINTS - 1));
  const found = Object.fromEntries(
    NOISE_METHODS.map((m) => {
      const cum = new Int32Array(n + 1);
      for (let j = 0; j < n; j++) cum[j + 1] = cum[j] + (positive[orders[m][j]] ? 1 : 0);
      return [m, checked.map((c) => (matched ? cum[countOf(c, n)] / matched : NaN))];
    }),
  ) as Record<NoiseMethod, number[]>;
  const au = Object.fromEntries(NOISE_METHODS.map((m) => [m, auroc(values[m], positive)])) as Record<
    NoiseMethod,
    number
  >;
  return {
    rows: n,
    flipped: ids.size,
    matched,
    folds,
    recall,
    precision,
    auroc: au,
    curve: { checked, found },
    seconds: (performance.now() - t0) / 1000,
  };
}
