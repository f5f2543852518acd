import type { HeadData, LinearHead } from '../model/linearHead';
import { rowLossGradient } from '../model/linearHead';
import type { ProgressCallback } from '../types';
import type { InfluenceSolver } from './solvers';

export interface RowScores {
  prob: Float64Array;
  pred: Int32Array;
  loss: Float64Array;
  /** M(z) = -grad P(y|x)^T H^-1 grad L(z), the paper's memorization score. */
  score: Float64Array;
  /** grad L^T H^-1 grad L, Koh & Liang's self-influence of the loss. */
  selfInfluence: Float64Array;
}

/**
 * Scores every row with one quadratic form each (no per-row iterative solve for exact/ekfac).
 * Since L = -log P, grad P = -P grad L, hence M(z) = P(y|x) * selfInfluence(z); the tests check this identity
 * against an independent dense computation of the definition.
 */
export function scoreRows(
  head: LinearHead,
  data: HeadData,
  solver: InfluenceSolver,
  opts: { onProgress?: ProgressCallback; signal?: AbortSignal } = {},
): RowScores {
  const scorer = rowScorer(head, data, solver);
  const n = data.n;
  let last = 0;
  for (let i = 0; i < n; i++) {
    scorer.score(i);
    const now = Date.now();
    if (opts.onProgress && (now - last > 100 || i === n - 1)) {
      last = now;
      if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('aborted');
      opts.onProgress({ stage: 'scoring', done: i + 1, total: n });
    }
  }
  return scorer.out;
}

/**
 * scoreRows for a long-lived process (the worker): the same scores, but it yields to the event loop every ~50 ms so
 * that I/O (a cancellation message, a progress write) is served while a slow solver (LiSSA) runs.
 */
export async function scoreRowsAsync(
  head: LinearHead,
  data: HeadData,
  solver: InfluenceSolver,
  opts: { onProgress?: ProgressCallback; signal?: AbortSignal; yieldMs?: number } = {},
): Promise<RowScores> {
  const scorer = rowScorer(head, data, solver);
  const n = data.n;
  const yieldMs = opts.yieldMs ?? 50;
  let lastReport = 0;
  let lastYield = Date.now();
  for (let i = 0; i < n; i++) {
    scorer.score(i);
    const now = Date.now();
    if (now - lastYield > yieldMs) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      lastYield = Date.now();
      if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('aborted');
    }
    if (opts.onProgress && (now - lastReport > 100 || i === n - 1)) {
      lastReport = now;
      if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('aborted');
      opts.onProgress({ stage: 'scoring', done: i + 1, total: n });
    }
  }
  return scorer.out;
}

/** The per-row work shared by scoreRows and scoreRowsAsync: one quadratic form per row, written into `out`. */
function rowScorer(
  head: LinearHead,
  data: HeadData,
  solver: InfluenceSolver,
): { out: RowScores; score(i: number): void } {
  const { classes: C, dim: D, theta } = head;
  const n = data.n;
  const out: RowScores = {
    prob: new Float64Array(n),
    pred: new Int32Array(n),
    loss: new Float64Array(n),
    score: new Float64Array(n),
    selfInfluence: new Float64Array(n),
  };
  const xt = new Float64Array(D + 1);
  xt[D] = 1;
  const r = new Float64Array(C);
  return {
    out,
    score(i) {
      const y = data.y[i];
      const { grad, p } = rowLossGradient(theta, C, D, data.X, y, i * D);
      for (let j = 0; j < D; j++) xt[j] = data.X[i * D + j];
      let best = 0;
      for (let c = 0; c < C; c++) {
        r[c] = p[c] - (c === y ? 1 : 0);
        if (p[c] > p[best]) best = c;
      }
      const si = solver.quadForm(grad, r, xt);
      out.prob[i] = p[y];
      out.pred[i] = best;
      out.loss[i] = -Math.log(Math.max(p[y], 1e-300));
      out.selfInfluence[i] = si;
      out.score[i] = p[y] * si;
    },
  };
}

/** 1-based ranks (1 = largest value) and percentiles (100 = most memorized). Ties broken by index for stability. */
export function rankDescending(values: Float64Array): {
  rank: Int32Array;
  percentile: Float64Array;
  order: Int32Array;
} {
  const n = values.length;
  const order = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => values[b] - values[a] || a - b);
  const rank = new Int32Array(n);
  const percentile = new Float64Array(n);
  order.forEach((row, k) => {
    rank[row] = k + 1;
    percentile[row] = n === 1 ? 100 : (100 * (n - 1 - k)) / (n - 1);
  });
  return { rank, percentile, order };
}
