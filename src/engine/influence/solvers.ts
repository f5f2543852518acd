import { seededRandom } from '../random';
import { cholesky, cholSolve, dot, forwardSolve, symmetricEigen } from '../linalg/dense';
import {
  type HeadData,
  type LinearHead,
  denseHessian,
  paramCount,
  probabilities,
  rowHvpInto,
} from '../model/linearHead';

export const SOLVER_NAMES = ['exact', 'ekfac', 'lissa'] as const;
export type SolverName = (typeof SOLVER_NAMES)[number];

/** Inverse-Hessian operations at the trained optimum. */
export interface InfluenceSolver {
  readonly name: SolverName;
  /** H^-1 v. */
  solve(v: Float64Array): Float64Array;
  /** g^T H^-1 g for a per-row gradient g = r (x) x~ (r: C residuals, xt: augmented input). */
  quadForm(g: Float64Array, r: Float64Array, xt: Float64Array): number;
}

/** Above this many parameters the default solver switches from the dense factorization to EK-FAC. */
export const EXACT_PARAM_LIMIT = 3000;

export function defaultSolver(head: Pick<LinearHead, 'classes' | 'dim'>): SolverName {
  return paramCount(head) <= EXACT_PARAM_LIMIT ? 'exact' : 'ekfac';
}

/** Dense Cholesky of the exact Hessian; g^T H^-1 g = |L^-1 g|^2. Setup O(n p^2 + p^3/3), O(p^2) per row. */
export function exactSolver(head: LinearHead, data: HeadData): InfluenceSolver {
  const P = paramCount(head);
  const L = cholesky(denseHessian(head, data), P);
  return {
    name: 'exact',
    solve: (v) => cholSolve(L, P, v),
    quadForm: (g) => {
      const y = forwardSolve(L, P, g);
      return dot(y, y);
    },
  };
}

/**
 * EK-FAC (George et al. 2018; Grosse et al. 2023): the Kronecker eigenbasis Q_A (x) Q_S of E[A_i] (x) E[x~x~^T],
 * with eigenvalues re-fitted to the exact diagonal of the Hessian in that basis,
 * lambda_kl = (1/n) sum_i (q_k^T A_i q_k) (s_l^T x~_i)^2 + l2. Per row O(C^2 + D^2) instead of O(C^2 D^2).
 */
export function ekfacSolver(head: LinearHead, data: HeadData): InfluenceSolver {
  const { classes: C, dim: D, theta, l2 } = head;
  const D1 = D + 1;
  const A = new Float64Array(C * C);
  const S = new Float64Array(D1 * D1);
  const p = new Float64Array(C);
  const xt = new Float64Array(D1);
  xt[D] = 1;
  for (let i = 0; i < data.n; i++) {
    probabilities(theta, C, D, data.X, i * D, p);
    for (let c = 0; c < C; c++)
      for (let c2 = 0; c2 < C; c2++) A[c * C + c2] += (c === c2 ? p[c] : 0) - p[c] * p[c2];
    for (let j = 0; j < D; j++) xt[j] = data.X[i * D + j];
    for (let j = 0; j < D1; j++) for (let k = 0; k < D1; k++) S[j * D1 + k] += xt[j] * xt[k];
  }
  const QA = symmetricEigen(A, C).vectors;
  const QS = symmetricEigen(S, D1).vectors;
  const lambda = new Float64Array(C * D1);
  const qa = new Float64Array(C);
  const sx = new Float64Array(D1);
  for (let i = 0; i < data.n; i++) {
    probabilities(theta, C, D, data.X, i * D, p);
    for (let j = 0; j < D; j++) xt[j] = data.X[i * D + j];
    for (let k = 0; k < C; k++) {
      let m1 = 0;
      let m2 = 0;
      for (let c = 0; c < C; c++) {
        const q = QA[c * C + k];
        m1 += p[c] * q * q;
        m2 += p[c] * q;
      }
      qa[k] = m1 - m2 * m2;
    }
    projectColumns(QS, D1, xt, sx);
    for (let k = 0; k < C; k++) for (let l = 0; l < D1; l++) lambda[k * D1 + l] += qa[k] * sx[l] * sx[l];
  }
  for (let k = 0; k < lambda.length; k++) lambda[k] = lambda[k] / data.n + l2;

  return {
    name: 'ekfac',
    solve(v) {
      // M = QA^T V QS, divide, back: QA M QS^T.
      const T1 = new Float64Array(C * D1);
      for (let k = 0; k < C; k++)
        for (let c = 0; c < C; c++) {
          const q = QA[c * C + k];
          for (let j = 0; j < D1; j++) T1[k * D1 + j] += q * v[c * D1 + j];
        }
      const M = new Float64Array(C * D1);
      for (let k = 0; k < C; k++) {
        projectColumns(QS, D1, T1.subarray(k * D1, (k + 1) * D1), sx);
        for (let l = 0; l < D1; l++) M[k * D1 + l] = sx[l] / lambda[k * D1 + l];
      }
      const out = new Float64Array(C * D1);
      for (let c = 0; c < C; c++)
        for (let k = 0; k < C; k++) {
          const q = QA[c * C + k];
          for (let l = 0; l < D1; l++) {
            const m = q * M[k * D1 + l];
            for (let j = 0; j < D1; j++) out[c * D1 + j] += m * QS[j * D1 + l];
          }
        }
      return out;
    },
    quadForm(_g, r, x) {
      projectColumns(QS, D1, x, sx);
      let total = 0;
      for (let k = 0; k < C; k++) {
        let a = 0;
        for (let c = 0; c < C; c++) a += QA[c * C + k] * r[c];
        for (let l = 0; l < D1; l++) total += (a * sx[l]) ** 2 / lambda[k * D1 + l];
      }
      return total;
    },
  };
}

/** out_l = sum_j Q[j, l] x_j: coordinates of x in the eigenbasis held as columns of Q. */
function projectColumns(Q: Float64Array, n: number, x: ArrayLike<number>, out: Float64Array): void {
  out.fill(0);
  for (let j = 0; j < n; j++) {
    const xj = x[j];
    if (xj === 0) continue;
    const row = j * n;
    for (let l = 0; l < n; l++) out[l] += Q[row + l] * xj;
  }
}

export interface LissaOptions {
  damping?: number;
  scale?: number;
  steps?: number;
  seed?: number;
}

/**
 * LiSSA with the paper's settings (damping 5e-3, scale 1e4, 1000 steps of batch-1 stochastic HVPs): the baseline
 * users compare against. Its fixed point is (H + damping * scale * I)^-1 v = (H + 50 I)^-1 v, not H^-1 v.
 */
export function lissaSolver(head: LinearHead, data: HeadData, opts: LissaOptions = {}): InfluenceSolver {
  const damping = opts.damping ?? 5e-3;
  const scale = opts.scale ?? 1e4;
  const steps = opts.steps ?? 1000;
  const { classes: C, dim: D, theta, l2 } = head;
  const rand = seededRandom(opts.seed ?? 0);
  const p = new Float64Array(C);
  const u = new Float64Array(C);
  const solve = (v: Float64Array) => {
    let h = Float64Array.from(v);
    for (let s = 0; s < steps; s++) {
      const i = Math.floor(rand() * data.n);
      const Hh = new Float64Array(h.length);
      rowHvpInto(theta, C, D, data.X, i * D, h, p, u, Hh, 1);
      const next = new Float64Array(h.length);
      for (let k = 0; k < h.length; k++) next[k] = v[k] + (1 - damping) * h[k] - (Hh[k] + l2 * h[k]) / scale;
      h = next;
    }
    for (let k = 0; k < h.length; k++) h[k] /= scale;
    return h;
  };
  return { name: 'lissa', solve, quadForm: (g) => dot(g, solve(g)) };
}

export function makeSolver(name: SolverName, head: LinearHead, data: HeadData, seed = 0): InfluenceSolver {
  switch (name) {
    case 'exact':
      return exactSolver(head, data);
    case 'ekfac':
      return ekfacSolver(head, data);
    case 'lissa':
      return lissaSolver(head, data, { seed });
  }
}
