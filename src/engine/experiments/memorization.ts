/**
 * The retraining check (Feldman & Zhang 2020): what the influence scores approximate. K heads are trained on random
 * subsets of `subset` (70%) of the rows; for each row, mem(z) = mean P(y|x) over the heads that trained on z minus
 * the mean over the heads that did not. Reported with each row's standard error and the agreement (Spearman, top-10%
 * overlap) of the score, the self-influence and the in-sample loss with the estimate.
 *
 * Warm starts: a convex head (linear: strictly convex R, one optimum) is warm-started from the full model, which
 * reaches the same optimum to the training tolerance, so the estimate is unbiased (the tests check warm against cold
 * retraining). A non-convex head (MLP) is trained from its seeded initialization every time, with a new seed per
 * retraining: warm-starting it from the full model, which fitted z, would carry z's fit into the heads without z.
 */
import { rankDescending } from '../influence/scores';
import { HEADS } from '../model/heads';
import { featureBlock } from '../model/identicalRows';
import { spearman } from '../stats';
import {
  type ExperimentControl,
  type Prepared,
  countOf,
  fitAndScore,
  fitHead,
  permutation,
  subset,
  yieldNow,
} from './prepare';
import type { MemorizationResult, MemorizationRow } from '../../protocol/experiments';

export type { MemorizationResult, MemorizationRow } from '../../protocol/experiments';

export const DEFAULT_RETRAININGS = 100;
export const DEFAULT_SUBSET = 0.7;
/** The share of rows whose overlap is measured at the top. */
export const TOP_SHARE = 0.1;

export interface MemorizationOptions extends ExperimentControl {
  retrainings?: number;
  subset?: number;
  seed?: number;
}

export interface MemorizationRun extends MemorizationResult {
  seconds: number;
  secondsPerRetraining: number;
}

/** Share of the top `share` of rows by `a` that are also in the top `share` by `b` (finite rows only). */
export function topOverlap(a: ArrayLike<number>, b: ArrayLike<number>, share = TOP_SHARE): number {
  const k = Math.max(1, Math.round(share * a.length));
  const top = (v: ArrayLike<number>) => new Set(rankDescending(Float64Array.from(v)).order.subarray(0, k));
  const ta = top(a);
  let both = 0;
  for (const i of top(b)) if (ta.has(i)) both++;
  return both / k;
}

export async function memorizationExperiment(
  prep: Prepared,
  opts: MemorizationOptions = {},
): Promise<MemorizationRun> {
  const t0 = performance.now();
  const K = opts.retrainings ?? DEFAULT_RETRAININGS;
  const share = opts.subset ?? DEFAULT_SUBSET;
  const { data } = prep;
  const n = data.n;
  const C = prep.classes.length;
  const D = prep.featurizer.dim;
  const m = Math.min(n - 1, Math.max(1, countOf(share, n)));
  const report = (done: number) =>
    opts.onProgress?.({ stage: 'memorization', done, total: K + 1, message: 'retraining' });
  report(0);
  await yieldNow(opts.signal);
  const full = await fitAndScore(prep, data, undefined, opts.signal);
  const convex = HEADS[prep.fit.head?.model ?? 'linear'].convex === true;
  // Per row: sums and sums of squares of P(y|x) over the heads with and without it.
  const sum = [new Float64Array(n), new Float64Array(n)];
  const sq = [new Float64Array(n), new Float64Array(n)];
  const count = [new Int32Array(n), new Int32Array(n)];
  const inSubset = new Uint8Array(n);
  let retrainSeconds = 0;
  for (let k = 0; k < K; k++) {
    report(k + 1);
    await yieldNow(opts.signal);
    const seed = (opts.seed ?? 0) + k;
    const idx = permutation(n, seed).subarray(0, m);
    inSubset.fill(0);
    for (const i of idx) inSubset[i] = 1;
    const t = performance.now();
    const head = convex
      ? fitHead(prep, subset(data, D, idx), full.head.theta, opts.signal)
      : fitHead(
          { ...prep, fit: { ...prep.fit, head: { ...prep.fit.head, seed } } },
          subset(data, D, idx),
          undefined,
          opts.signal,
        );
    retrainSeconds += (performance.now() - t) / 1000;
    for (let b = 0; b < n; b += 4096) {
      const e = Math.min(n, b + 4096);
      const p = head.probabilities(featureBlock(data, D, b, e - b), e - b);
      for (let i = b; i < e; i++) {
        const q = p[(i - b) * C + data.y[i]];
        const side = inSubset[i] ? 0 : 1;
        sum[side][i] += q;
        sq[side][i] += q * q;
        count[side][i]++;
      }
    }
  }
  report(K + 1);
  const estimate = new Float64Array(n);
  const stderr = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const [ni, no] = [count[0][i], count[1][i]];
    if (!ni || !no) {
      estimate[i] = NaN;
      stderr[i] = NaN;
      continue;
    }
    const mi = sum[0][i] / ni;
    const mo = sum[1][i] / no;
    estimate[i] = mi - mo;
    // Sample variances (n - 1) of each side; a side seen once contributes no spread estimate.
    const vi = ni > 1 ? Math.max(0, (sq[0][i] - ni * mi * mi) / (ni - 1)) : 0;
    const vo = no > 1 ? Math.max(0, (sq[1][i] - no * mo * mo) / (no - 1)) : 0;
    stderr[i] = Math.sqrt(vi / ni + vo / no);
  }
  const s = full.scores;
  const rows: MemorizationRow[] = prep.rows.map((r, i) => ({
    index: r.index,
    line: r.line,
    id: r.id,
    estimate: estimate[i],
    stderr: stderr[i],
    score: s.score[i],
    selfInfluence: s.selfInfluence[i],
    loss: s.loss[i],
  }));
  const ok = rows.map((_, i) => i).filter((i) => Number.isFinite(estimate[i]));
  const est = ok.map((i) => estimate[i]);
  const column = { score: s.score, selfInfluence: s.selfInfluence, loss: s.loss };
  const agreement = (f: (a: number[], b: number[]) => number) =>
    Object.fromEntries(
      Object.entries(column).map(([name, v]) => [
        name,
        f(
          est,
          ok.map((i) => v[i]),
        ),
      ]),
    ) as MemorizationResult['spearman'];
  return {
    retrainings: K,
    subset: share,
    spearman: agreement(spearman),
    topOverlap: agreement(topOverlap),
    rows,
    seconds: (performance.now() - t0) / 1000,
    secondsPerRetraining: K ? retrainSeconds / K : 0,
  };
}
