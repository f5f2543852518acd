/**
 * Memorization-reduction experiment (Zheng & Jiang 2022, Sec. 4.2): for the most memorized rows, replace the
 * top-k% tokens by attribution with the baseline token (E row := Ebase row) and measure how much the
 * self-influence drops, against replacing as many random tokens.
 *
 * I(z', z) = -s^T grad L(z') with s = H^-1 grad P(y|x) of the original row z, so I(z, z) is the memorization score.
 * rate = mean over rows of (I(z,z) - I(z',z)) / I(z,z).
 */
import { attributeRow, influenceAt, influenceDirection } from '../attribution/integratedInfluence';
import { readRowsAt } from '../data/readRowsAt';
import { poolTokens } from '../featurize/tokenVectors';
import { rankDescending } from '../influence/scores';
import {
  type ExperimentControl,
  type Prepared,
  countOf,
  fitAndScore,
  seededRandom,
  yieldNow,
} from './prepare';

export interface ReductionResult {
  rows: number;
  attribution: { k: number; rate: number }[];
  random: { k: number; rate: number }[];
  seconds: number;
}

export interface ReductionOptions extends ExperimentControl {
  /** Fraction of the most memorized rows to use. */
  top: number;
  /** Fractions of each row's tokens to replace. */
  ks: number[];
  steps?: number;
  seed?: number;
}

/** Rows featurized (and attributed) at a time; progress and cancellation are checked between batches. */
const BATCH = 64;

/** Tokens to replace for fraction k of T tokens: at least one when the row has any. */
function tokenCount(k: number, T: number): number {
  return T === 0 ? 0 : Math.max(1, countOf(k, T));
}

export async function reductionExperiment(prep: Prepared, opts: ReductionOptions): Promise<ReductionResult> {
  const t0 = performance.now();
  const { data, featurizer } = prep;
  const { signal, onProgress } = opts;
  await yieldNow(signal);
  const { head, solver, scores } = await fitAndScore(prep, data, undefined, signal);
  const { order } = rankDescending(scores.score);
  const targets = Array.from(order.subarray(0, countOf(opts.top, data.n)));
  const rand = seededRandom(opts.seed ?? 0);
  const sums = { attribution: opts.ks.map(() => 0), random: opts.ks.map(() => 0) };
  let used = 0;
  for (let b = 0; b < targets.length; b += BATCH) {
    onProgress?.({ stage: 'reduction', done: b, total: targets.length, message: 'attributing' });
    await yieldNow(signal);
    const batch = targets.slice(b, b + BATCH);
    const rows = await readRowsAt(
      prep.file,
      prep.read.schema,
      batch.map((i) => prep.rows[i]),
      { signal },
    );
    const feats = await featurizer.featurize(rows);
    batch.forEach((i, q) => {
      const f = feats[q];
      const T = f.tokens.length;
      const y = data.y[i];
      const h = prep.transform.apply(poolTokens(f, featurizer.pooling));
      const s = influenceDirection(head, solver, h, y);
      const self = -influenceAt(head, s, h, y);
      if (T === 0 || !(self > 0)) return;
      used++;
      const a = attributeRow(head, solver, f, featurizer.pooling, y, opts.steps ?? 50, prep.transform, s).a;
      const byAttribution = Array.from({ length: T }, (_, t) => t).sort((u, v) => a[v] - a[u] || u - v);
      const reduced = (chosen: readonly number[]): number =>
        -influenceAt(
          head,
          s,
          prep.transform.apply(poolTokens(f, featurizer.pooling, false, new Set(chosen))),
          y,
        );
      opts.ks.forEach((k, j) => {
        const c = tokenCount(k, T);
        sums.attribution[j] += (self - reduced(byAttribution.slice(0, c))) / self;
        const shuffled = Array.from({ length: T }, (_, t) => t);
        for (let u = T - 1; u > 0; u--) {
          const v = Math.floor(rand() * (u + 1));
          [shuffled[u], shuffled[v]] = [shuffled[v], shuffled[u]];
        }
        sums.random[j] += (self - reduced(shuffled.slice(0, c))) / self;
      });
    });
  }
  onProgress?.({ stage: 'reduction', done: targets.length, total: targets.length, message: 'attributing' });
  const rate = (s: number[]) => opts.ks.map((k, j) => ({ k, rate: used ? s[j] / used : NaN }));
  return {
    rows: used,
    attribution: rate(sums.attribution),
    random: rate(sums.random),
    seconds: (performance.now() - t0) / 1000,
  };
}
