/**
 * The exact solver: a dense Cholesky factorization of the curvature (plus damping); g^T H^-1 g = |L^-1 g|^2.
 * The factorization runs in place on the dense curvature (one size x size array); a batch of rows is scored with
 * its flattened gradients as the right-hand sides of one blocked triangular solve, or, when there are many rows
 * per parameter, L is first inverted in place (p^3 / 3 more work, paid back after about 2p rows) and a batch's
 * quadratic forms are plain products with L^-1, about twice as fast per row as the recursive solve.
 */
import {
  choleskyBlocked,
  cholSolveRows,
  invertLowerInPlace,
  lowerInverseSolve,
  lowerQuadFormsRows,
  quadFormsRows,
} from '../linalg/cholesky';
import { cholSolve } from '../linalg/dense';
import { gemm, releaseLinalgScratch } from '../linalg/gemm';
import type { GradientBatch, Head } from '../model/head';
import type { InfluenceSolver, SolverKind } from './solver';

/**
 * The exact solver also solves many right-hand sides at once (rows of V, m x p): one pass of matrix products over
 * the factor instead of m memory-bound passes (8 p^2 bytes each: 490 MB at p = 7,850), for callers that have a
 * block of vectors, e.g. the attribution directions of the top rows.
 */
export interface ExactSolver extends InfluenceSolver {
  solveRows(V: Float64Array, m: number): Float64Array;
}

/** The batch's rows as flat gradients, m x head.size row-major (layer l's block of row i is delta_l[i] (x) act_l[i]). */
export function flatGradients(head: Pick<Head, 'layers' | 'size'>, batch: GradientBatch): Float64Array {
  const P = head.size;
  const G = new Float64Array(batch.m * P);
  head.layers.forEach((layer, l) => {
    const { delta, act } = batch.layers[l];
    const { out: O, in: I, offset } = layer;
    for (let i = 0; i < batch.m; i++) {
      const a = act.subarray(i * I, (i + 1) * I);
      for (let c = 0; c < O; c++) {
        const d = delta[i * O + c];
        if (d === 0) continue;
        const row = i * P + offset + c * I;
        for (let j = 0; j < I; j++) G[row + j] = d * a[j];
      }
    }
  });
  return G;
}

/** From this many rows per parameter the scores are computed with L^-1 (measured break-even: about 0.7). */
const INVERT_ROWS_PER_PARAMETER = 2;

export const exactSolverKind: SolverKind = {
  name: 'exact',
  summary: 'dense Cholesky of the exact curvature: setup O(n p^2 + p^3/3), O(p^2) per row',
  requires: ['denseCurvature'],
  build(head, data) {
    const P = head.size;
    const H = head.denseCurvature!(data);
    if (head.damping) for (let k = 0; k < P; k++) H[k * P + k] += head.damping;
    const L = choleskyBlocked(H, P, true);
    if (data.n >= INVERT_ROWS_PER_PARAMETER * P) {
      invertLowerInPlace(L, P);
      releaseLinalgScratch();
      const inverse: ExactSolver = {
        name: 'exact',
        solve: (v) => lowerInverseSolve(L, P, v),
        solveRows(V, m) {
          // X = (V W^T) W, W = L^-1.
          const Y = new Float64Array(m * P);
          gemm(false, true, m, P, P, 1, V, 0, P, L, 0, P, 0, Y, 0, P);
          const X = new Float64Array(m * P);
          gemm(false, false, m, P, P, 1, Y, 0, P, L, 0, P, 0, X, 0, P);
          return X;
        },
        selfInfluence: (batch) => lowerQuadFormsRows(L, P, flatGradients(head, batch), batch.m),
      };
      return inverse;
    }
    releaseLinalgScratch();
    const factor: ExactSolver = {
      name: 'exact',
      solve: (v) => cholSolve(L, P, v),
      solveRows: (V, m) => cholSolveRows(L, P, V, m),
      selfInfluence: (batch) => quadFormsRows(L, P, flatGradients(head, batch), batch.m, true),
    };
    return factor;
  },
};
