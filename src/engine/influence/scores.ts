import type { Head, HeadData } from '../model/head';
import { featureBlock, mergeIdenticalRows } from '../model/identicalRows';
import type { ProgressCallback } from '../types';
import type { InfluenceSolver } from './solver';

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
 * Rows scored at a time grow up to this; a batch aims at TARGET_MS of CPU time so cancellation stays prompt (LiSSA
 * is slow) while the exact and EK-FAC batches stay large enough for their matrix products to run at full speed (a
 * 25 ms target held the exact solver of 7,850 parameters to ~30-row products). CPU time, not wall time: on a loaded
 * machine wall time shrank the batches to a few rows, which made the products slower still.
 */
const MAX_BATCH = 1024;
const TARGET_MS = 200;

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/**
 * Scores every row, a batch of gradients at a time, one quadratic form per row (no per-row iterative solve for exact
 * and EK-FAC). Since L = -log P, grad P = -P grad L, hence M(z) = P(y|x) * selfInfluence(z) for any head; the tests
 * check this identity against an independent dense computation of the definition. Yields to the event loop between
 * batches (a worker's cancellation message, progress writes) and honours the signal there.
 */
export async function scoreRows(
  head: Head,
  data: HeadData,
  solver: InfluenceSolver,
  opts: { onProgress?: ProgressCallback; signal?: AbortSignal; stage?: string } = {},
): Promise<RowScores> {
  // A row's scores are a function of its (x, y) alone: rows with bitwise-identical features and label (a short-text
  // file repeats its texts: 1,000,000 two-word rows hold 172,532 distinct ones) are scored once and copied.
  const merged = data.n > 1 ? mergeIdenticalRows(data, head.dim) : undefined;
  if (!merged) return scoreDistinctRows(head, data, solver, opts);
  const n = data.n;
  const scale = n / merged.n;
  const distinct = await scoreDistinctRows(head, merged, solver, {
    ...opts,
    onProgress:
      opts.onProgress && ((p) => opts.onProgress!({ ...p, done: Math.round(p.done * scale), total: n })),
  });
  const of = merged.distinctOf;
  const out = emptyScores(n);
  for (let i = 0; i < n; i++) {
    const v = of[i];
    out.prob[i] = distinct.prob[v];
    out.pred[i] = distinct.pred[v];
    out.loss[i] = distinct.loss[v];
    out.score[i] = distinct.score[v];
    out.selfInfluence[i] = distinct.selfInfluence[v];
  }
  return out;
}

function emptyScores(n: number): RowScores {
  return {
    prob: new Float64Array(n),
    pred: new Int32Array(n),
    loss: new Float64Array(n),
    score: new Float64Array(n),
    selfInfluence: new Float64Array(n),
  };
}

/** scoreRows on every row of data, one by one (in batches). */
async function scoreDistinctRows(
  head: Head,
  data: HeadData,
  solver: InfluenceSolver,
  opts: { onProgress?: ProgressCallback; signal?: AbortSignal; stage?: string },
): Promise<RowScores> {
  const n = data.n;
  const C = head.classes;
  const out = emptyScores(n);
  let lastYield = Date.now();
  let size = 1;
  for (let b = 0; b < n;) {
    const m = Math.min(size, n - b);
    const t0 = cpuMs();
    const batch = head.gradients(data.X, data.y, m, b);
    const si = solver.selfInfluence(batch);
    const ms = cpuMs() - t0;
    size = Math.max(1, Math.min(MAX_BATCH, ms > 0 ? Math.floor((m * TARGET_MS) / ms) : 8 * m, 8 * m));
    for (let k = 0; k < m; k++) {
      const i = b + k;
      const y = data.y[i];
      let best = 0;
      for (let c = 1; c < C; c++) if (batch.prob[k * C + c] > batch.prob[k * C + best]) best = c;
      const p = batch.prob[k * C + y];
      out.prob[i] = p;
      out.pred[i] = best;
      out.loss[i] = -Math.log(Math.max(p, 1e-300));
      out.selfInfluence[i] = si[k];
      out.score[i] = p * si[k];
    }
    b += m;
    if (Date.now() - lastYield > 50 || b >= n) {
      opts.onProgress?.({ stage: opts.stage ?? 'scoring', done: b, total: n });
      await new Promise<void>((resolve) => setImmediate(resolve));
      opts.signal?.throwIfAborted();
      lastYield = Date.now();
    }
  }
  return out;
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

/** Share of rows the head predicts correctly. */
export function accuracy(head: Head, data: HeadData): number {
  if (!data.n) return NaN;
  const C = head.classes;
  const D = head.dim;
  let ok = 0;
  for (let b = 0; b < data.n; b += 4096) {
    const m = Math.min(4096, data.n - b);
    const p = head.probabilities(featureBlock(data, D, b, m), m);
    for (let i = 0; i < m; i++) {
      let best = 0;
      for (let c = 1; c < C; c++) if (p[i * C + c] > p[i * C + best]) best = c;
      if (best === data.y[b + i]) ok++;
    }
  }
  return ok / data.n;
}
